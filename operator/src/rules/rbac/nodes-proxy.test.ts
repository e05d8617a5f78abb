import { nodesProxy } from './nodes-proxy.ts';
import { clusterRole, clusterRoleBinding, role, roleBinding, runCases, sa, user } from './_testkit.ts';

const proxy = clusterRole('proxy', [{ apiGroups: [''], resources: ['nodes/proxy'], verbs: ['get'] }]);

describe('rule rbac-nodes-proxy', () => {
  runCases(nodesProxy, [
    {
      name: 'ClusterRoleBinding with get nodes/proxy',
      obj: clusterRoleBinding('x', 'proxy', [sa('monitoring', 'agent')]),
      others: [proxy],
      expect: ['high'],
      contains: ['get on nodes/proxy', 'ServiceAccount "monitoring/agent"'],
    },
    {
      name: 'a RoleBinding cannot grant a cluster-scoped resource',
      obj: roleBinding('team-a', 'x', { kind: 'ClusterRole', name: 'proxy' }, [user('alice')]),
      others: [proxy],
      expect: [],
    },
    {
      name: 'built-in system:kubelet-api-admin bound to a person',
      obj: clusterRoleBinding('alice-kubelet', 'system:kubelet-api-admin', [user('alice')]),
      expect: ['high'],
    },
    {
      name: 'the proxy verb on nodes',
      obj: clusterRoleBinding('x', 'r', [user('alice')]),
      others: [clusterRole('r', [{ apiGroups: [''], resources: ['nodes'], verbs: ['proxy'] }])],
      expect: ['high'],
      contains: ['proxy on nodes'],
    },
    {
      name: 'nodes/metrics only',
      obj: clusterRoleBinding('x', 'r', [user('alice')]),
      others: [
        clusterRole('r', [{ apiGroups: [''], resources: ['nodes/metrics', 'nodes/stats'], verbs: ['get'] }]),
      ],
      expect: [],
    },
    { name: 'unbound ClusterRole', obj: proxy, expect: ['medium'] },
    {
      name: 'unbound Role naming nodes/proxy grants nothing',
      obj: role('team-a', 'r', [{ apiGroups: [''], resources: ['nodes/proxy'], verbs: ['get'] }]),
      expect: [],
    },
  ]);
});
