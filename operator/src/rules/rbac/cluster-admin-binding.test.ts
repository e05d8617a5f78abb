import { clusterAdminBinding } from './cluster-admin-binding.ts';
import { clusterRole, clusterRoleBinding, group, role, roleBinding, runCases, sa, user } from './_testkit.ts';

const god = clusterRole('god', [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }]);

describe('rule rbac-cluster-admin-binding', () => {
  runCases(clusterAdminBinding, [
    {
      name: 'ClusterRoleBinding to built-in cluster-admin (role not in scope)',
      obj: clusterRoleBinding('alice-admin', 'cluster-admin', [user('alice')]),
      expect: ['critical'],
      contains: ['User "alice"', 'ClusterRole "cluster-admin" (built-in definition)', 'cluster-wide'],
    },
    {
      name: 'default cluster-admin binding to system:masters',
      obj: clusterRoleBinding('cluster-admin', 'cluster-admin', [group('system:masters')]),
      expect: [],
    },
    {
      name: "kubeadm's kubeadm:cluster-admins binding",
      obj: clusterRoleBinding('kubeadm:cluster-admins', 'cluster-admin', [group('kubeadm:cluster-admins')]),
      expect: [],
    },
    {
      name: 'platform-looking binding name does not hide a non-platform subject',
      obj: clusterRoleBinding('system:backdoor', 'cluster-admin', [user('mallory')]),
      expect: ['critical'],
      contains: ['User "mallory"'],
    },
    {
      name: 'custom full-wildcard role in scope, bound to a CI service account',
      obj: clusterRoleBinding('ci', 'god', [sa('ci', 'deployer')]),
      others: [god],
      expect: ['critical'],
      contains: ['ServiceAccount "ci/deployer"', 'ClusterRole "god"'],
      excludes: ['built-in'],
    },
    {
      name: 'Tiller-style service account in kube-system bound by a non-platform binding',
      obj: clusterRoleBinding('tiller', 'cluster-admin', [sa('kube-system', 'tiller')]),
      expect: ['critical'],
    },
    {
      name: 'wildcard role restricted by resourceNames is not full admin',
      obj: clusterRoleBinding('named', 'named', [user('alice')]),
      others: [
        clusterRole('named', [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'], resourceNames: ['x'] }]),
      ],
      expect: [],
    },
    {
      name: 'RoleBinding to cluster-admin: full control of one namespace',
      obj: roleBinding('team-a', 'owners', { kind: 'ClusterRole', name: 'cluster-admin' }, [
        group('team-a-owners'),
      ]),
      expect: ['high'],
      contains: ['in namespace "team-a"', 'Group "team-a-owners"'],
    },
    {
      name: 'RoleBinding to cluster-admin in kube-system',
      obj: roleBinding('kube-system', 'ops', { kind: 'ClusterRole', name: 'cluster-admin' }, [user('ops')]),
      expect: ['critical'],
    },
    {
      name: 'namespaced Role with full wildcard',
      obj: roleBinding('team-a', 'rb', { kind: 'Role', name: 'all' }, [user('bob')]),
      others: [role('team-a', 'all', [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }])],
      expect: ['high'],
      contains: ['Role "team-a/all"'],
    },
    {
      name: 'public groups are left to rbac-public-group-binding',
      obj: clusterRoleBinding('oops', 'cluster-admin', [group('system:unauthenticated')]),
      expect: [],
    },
    { name: 'edit is not cluster-admin', obj: clusterRoleBinding('e', 'edit', [user('alice')]), expect: [] },
    { name: 'unresolved role', obj: clusterRoleBinding('x', 'unknown-role', [user('alice')]), expect: [] },
    {
      name: 'aggregated ClusterRole from manifests resolves through its selector',
      obj: clusterRoleBinding('agg', 'aggregate', [user('alice')]),
      others: [
        clusterRole('aggregate', [], {
          aggregationRule: { clusterRoleSelectors: [{ matchLabels: { 'example.com/agg': 'true' } }] },
        }),
        clusterRole('part', [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }], {
          labels: { 'example.com/agg': 'true' },
        }),
      ],
      expect: ['critical'],
      contains: ['aggregating "part"'],
    },
    {
      name: 'platform prefixes are configurable (eks:)',
      obj: clusterRoleBinding('eks:admin', 'cluster-admin', [group('eks:admins')]),
      params: { platformPrefixes: ['system:', 'kubeadm:', 'eks:'] },
      expect: [],
    },
    {
      name: 'same binding with default prefixes',
      obj: clusterRoleBinding('eks:admin', 'cluster-admin', [group('eks:admins')]),
      expect: ['critical'],
    },
    {
      name: 'several subjects are named in one finding',
      obj: clusterRoleBinding('many', 'cluster-admin', [
        user('a'),
        user('b'),
        group('system:masters'),
        sa('x', 'y'),
      ]),
      expect: ['critical'],
      contains: ['User "a", User "b", ServiceAccount "x/y"'],
      excludes: ['system:masters'],
    },
  ]);
});
