import { createPods } from './create-pods.ts';
import { clusterRole, clusterRoleBinding, role, roleBinding, runCases, sa, user } from './_testkit.ts';

describe('rule rbac-create-pods', () => {
  runCases(createPods, [
    {
      name: 'cluster-wide create deployments',
      obj: clusterRoleBinding('x', 'r', [sa('ci', 'deployer')]),
      others: [
        clusterRole('r', [{ apiGroups: ['apps'], resources: ['deployments'], verbs: ['create', 'update'] }]),
      ],
      expect: ['high'],
      contains: ['create on deployments'],
    },
    {
      name: 'create pods in one namespace',
      obj: roleBinding('team-a', 'x', { kind: 'Role', name: 'r' }, [user('alice')]),
      others: [role('team-a', 'r', [{ apiGroups: [''], resources: ['pods'], verbs: ['create'] }])],
      expect: ['low'],
    },
    {
      name: 'create CronJobs cluster-wide',
      obj: clusterRoleBinding('x', 'r', [user('alice')]),
      others: [clusterRole('r', [{ apiGroups: ['batch'], resources: ['cronjobs'], verbs: ['*'] }])],
      expect: ['high'],
    },
    {
      name: 'update but not create',
      obj: clusterRoleBinding('x', 'r', [user('alice')]),
      others: [
        clusterRole('r', [
          { apiGroups: ['', 'apps'], resources: ['pods', 'deployments'], verbs: ['update', 'patch'] },
        ]),
      ],
      expect: [],
    },
    {
      name: 'deployments in the core group do not exist',
      obj: clusterRoleBinding('x', 'r', [user('alice')]),
      others: [clusterRole('r', [{ apiGroups: [''], resources: ['deployments'], verbs: ['create'] }])],
      expect: [],
    },
    {
      name: 'unbound ClusterRole',
      obj: clusterRole('r', [{ apiGroups: [''], resources: ['pods'], verbs: ['create'] }]),
      expect: ['low'],
    },
  ]);
});
