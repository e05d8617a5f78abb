import { wildcardPermissions } from './wildcard-permissions.ts';
import { clusterRole, clusterRoleBinding, role, roleBinding, runCases, user } from './_testkit.ts';

const coreAll = clusterRole('core-all', [{ apiGroups: [''], resources: ['*'], verbs: ['*'] }]);

describe('rule rbac-wildcard-permissions', () => {
  runCases(wildcardPermissions, [
    {
      name: 'unbound ClusterRole with full wildcard (latent)',
      obj: clusterRole('god', [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }]),
      expect: ['medium'],
      contains: ['rules[0] apiGroups=*, resources=*, verbs=*', 'latent'],
    },
    {
      name: 'unbound Role with wildcard verbs on configmaps',
      obj: role('team-a', 'cm', [{ apiGroups: [''], resources: ['configmaps'], verbs: ['*'] }]),
      expect: ['low'],
    },
    {
      name: 'unbound ClusterRole with wildcard apiGroups only',
      obj: clusterRole('deploy-reader', [{ apiGroups: ['*'], resources: ['deployments'], verbs: ['get'] }]),
      expect: ['low'],
      contains: ['apiGroups=*'],
    },
    {
      name: 'a bound role is reported on its binding, not on itself',
      obj: coreAll,
      others: [clusterRoleBinding('x', 'core-all', [user('alice')])],
      expect: [],
    },
    {
      name: 'ClusterRoleBinding to "*" verbs on "*" core resources',
      obj: clusterRoleBinding('x', 'core-all', [user('alice')]),
      others: [coreAll],
      expect: ['high'],
      contains: ['User "alice"', 'cluster-wide'],
    },
    {
      name: 'RoleBinding to the same',
      obj: roleBinding('team-a', 'x', { kind: 'ClusterRole', name: 'core-all' }, [user('alice')]),
      others: [coreAll],
      expect: ['medium'],
    },
    {
      name: 'RoleBinding to a role with one wildcard field',
      obj: roleBinding('team-a', 'x', { kind: 'Role', name: 'r' }, [user('alice')]),
      others: [role('team-a', 'r', [{ apiGroups: [''], resources: ['*'], verbs: ['get'] }])],
      expect: ['low'],
    },
    {
      name: 'wildcards restricted by resourceNames are graded lower',
      obj: clusterRoleBinding('x', 'named', [user('alice')]),
      others: [
        clusterRole('named', [{ apiGroups: [''], resources: ['*'], verbs: ['*'], resourceNames: ['a'] }]),
      ],
      expect: ['medium'],
    },
    {
      name: 'nonResourceURLs wildcard',
      obj: clusterRole('urls', [{ nonResourceURLs: ['*'], verbs: ['get'] }]),
      expect: ['low'],
      contains: ['nonResourceURLs=*'],
    },
    {
      name: "Kubernetes' own controller role is not reported",
      obj: clusterRole('system:controller:generic-garbage-collector', [
        { apiGroups: ['*'], resources: ['*'], verbs: ['delete', 'get', 'list', 'patch', 'update', 'watch'] },
      ]),
      expect: [],
    },
    {
      name: 'a role labelled as an RBAC default is not reported',
      obj: clusterRole('extension-reader', [{ apiGroups: ['*'], resources: ['*'], verbs: ['get'] }], {
        labels: { 'kubernetes.io/bootstrapping': 'rbac-defaults' },
      }),
      expect: [],
    },
    {
      name: 'binding to cluster-admin is left to rbac-cluster-admin-binding',
      obj: clusterRoleBinding('x', 'cluster-admin', [user('alice')]),
      expect: [],
    },
    {
      name: 'platform binding to a platform user',
      obj: clusterRoleBinding('system:thing', 'core-all', [user('system:kube-thing')]),
      others: [coreAll],
      expect: [],
    },
    {
      name: 'no wildcard',
      obj: clusterRole('plain', [
        { apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'list'] },
      ]),
      expect: [],
    },
  ]);
});
