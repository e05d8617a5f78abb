import { podExec } from './pod-exec.ts';
import { clusterRole, clusterRoleBinding, role, roleBinding, runCases, user } from './_testkit.ts';

describe('rule rbac-pod-exec-attach', () => {
  runCases(podExec, [
    {
      name: 'cluster-wide create pods/exec',
      obj: clusterRoleBinding('x', 'r', [user('alice')]),
      others: [clusterRole('r', [{ apiGroups: [''], resources: ['pods/exec'], verbs: ['create'] }])],
      expect: ['high'],
      contains: ['create on pods/exec'],
    },
    {
      name: 'get on pods/attach in a namespace (WebSocket exec)',
      obj: roleBinding('team-a', 'x', { kind: 'Role', name: 'r' }, [user('alice')]),
      others: [role('team-a', 'r', [{ apiGroups: [''], resources: ['pods/attach'], verbs: ['get'] }])],
      expect: ['medium'],
    },
    {
      name: '"*/exec" matches every exec subresource',
      obj: clusterRoleBinding('x', 'r', [user('alice')]),
      others: [clusterRole('r', [{ apiGroups: [''], resources: ['*/exec'], verbs: ['create'] }])],
      expect: ['high'],
    },
    {
      name: 'pods without the subresource',
      obj: clusterRoleBinding('x', 'r', [user('alice')]),
      others: [clusterRole('r', [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'create'] }])],
      expect: [],
    },
    {
      name: 'exec into named pods only',
      obj: clusterRoleBinding('x', 'r', [user('alice')]),
      others: [
        clusterRole('r', [
          { apiGroups: [''], resources: ['pods/exec'], verbs: ['create'], resourceNames: ['debug'] },
        ]),
      ],
      expect: [],
    },
    {
      name: 'unbound Role',
      obj: role('team-a', 'r', [{ apiGroups: [''], resources: ['pods/exec'], verbs: ['create'] }]),
      expect: ['low'],
    },
    {
      name: 'unbound ClusterRole',
      obj: clusterRole('r', [{ apiGroups: [''], resources: ['pods/exec'], verbs: ['create'] }]),
      expect: ['medium'],
    },
  ]);
});
