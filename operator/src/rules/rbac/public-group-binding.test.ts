import { publicGroupBinding } from './public-group-binding.ts';
import { clusterRole, clusterRoleBinding, group, role, roleBinding, runCases, user } from './_testkit.ts';

const clusterInfoReader = role('kube-public', 'kubeadm:bootstrap-signer-clusterinfo', [
  { apiGroups: [''], resources: ['configmaps'], verbs: ['get'], resourceNames: ['cluster-info'] },
]);

describe('rule rbac-public-group-binding', () => {
  runCases(publicGroupBinding, [
    {
      name: 'default system:public-info-viewer binding (built-in role)',
      obj: clusterRoleBinding('system:public-info-viewer', 'system:public-info-viewer', [
        group('system:authenticated'),
        group('system:unauthenticated'),
      ]),
      expect: [],
    },
    {
      name: 'default system:discovery and system:basic-user bindings',
      obj: clusterRoleBinding('system:basic-user', 'system:basic-user', [group('system:authenticated')]),
      expect: [],
    },
    {
      name: 'anonymous user bound to view',
      obj: clusterRoleBinding('anon-view', 'view', [user('system:anonymous')]),
      expect: ['critical'],
      contains: [
        'User "system:anonymous"',
        'anyone who can reach the API server',
        'read access to resources',
      ],
    },
    {
      name: 'a user-made copy of the discovery grant is medium',
      obj: clusterRoleBinding('lb-health', 'system:public-info-viewer', [group('system:unauthenticated')]),
      expect: ['medium'],
      contains: ['discovery only'],
    },
    {
      name: 'all authenticated users bound to edit',
      obj: clusterRoleBinding('everyone-edits', 'edit', [group('system:authenticated')]),
      expect: ['critical'],
      contains: ['every authenticated user and service account', 'read secrets'],
    },
    {
      name: 'all authenticated users may read configmaps',
      obj: clusterRoleBinding('cm', 'cm-reader', [group('system:authenticated')]),
      others: [
        clusterRole('cm-reader', [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list'] }]),
      ],
      expect: ['high'],
    },
    {
      name: "kubeadm's anonymous cluster-info read in kube-public",
      obj: roleBinding(
        'kube-public',
        'kubeadm:bootstrap-signer-clusterinfo',
        { kind: 'Role', name: 'kubeadm:bootstrap-signer-clusterinfo' },
        [user('system:anonymous')],
      ),
      others: [clusterInfoReader],
      expect: [],
    },
    {
      name: 'the same named read from a user-made binding',
      obj: roleBinding(
        'kube-public',
        'public-info',
        { kind: 'Role', name: 'kubeadm:bootstrap-signer-clusterinfo' },
        [user('system:anonymous')],
      ),
      others: [clusterInfoReader],
      expect: ['critical'],
      contains: ['in namespace "kube-public"'],
    },
    {
      name: 'platform binding name granting cluster-admin to the unauthenticated',
      obj: clusterRoleBinding('system:totally-normal', 'cluster-admin', [group('system:unauthenticated')]),
      expect: ['critical'],
      contains: ['everything'],
    },
    {
      name: 'unresolved role bound to anonymous',
      obj: clusterRoleBinding('x', 'not-here', [user('system:anonymous')]),
      expect: ['critical'],
      contains: ['could not be resolved'],
    },
    {
      name: 'unresolved role bound to system:authenticated',
      obj: clusterRoleBinding('x', 'not-here', [group('system:authenticated')]),
      expect: ['high'],
    },
    {
      name: 'unresolved role in a platform binding is not guessed at',
      obj: clusterRoleBinding('system:x', 'system:not-in-table', [group('system:authenticated')]),
      expect: [],
    },
    {
      name: 'role that grants nothing',
      obj: clusterRoleBinding('x', 'empty', [user('system:anonymous')]),
      others: [clusterRole('empty', [])],
      expect: [],
    },
    {
      name: 'bindings without public subjects are not this rule',
      obj: clusterRoleBinding('x', 'cluster-admin', [user('alice'), group('system:serviceaccounts:team-a')]),
      expect: [],
    },
    {
      name: 'every service account bound to view is high (issue 19 item 3)',
      obj: clusterRoleBinding('all-sa-view', 'view', [group('system:serviceaccounts')]),
      expect: ['high'],
      contains: ['Group "system:serviceaccounts"', 'every service account of the cluster', 'read access'],
    },
    {
      name: 'every service account bound to edit in one namespace is critical',
      obj: roleBinding('team-a', 'all-sa-edit', { kind: 'ClusterRole', name: 'edit' }, [
        group('system:serviceaccounts'),
      ]),
      expect: ['critical'],
      contains: ['in namespace "team-a"', 'read secrets'],
    },
    {
      name: 'every service account bound to cluster-admin, even by a platform-named binding',
      obj: clusterRoleBinding('system:sa-admin', 'cluster-admin', [group('system:serviceaccounts')]),
      expect: ['critical'],
      contains: ['everything'],
    },
    {
      name: 'the built-in service-account-issuer-discovery binding to every service account',
      obj: clusterRoleBinding(
        'system:service-account-issuer-discovery',
        'system:service-account-issuer-discovery',
        [group('system:serviceaccounts')],
      ),
      expect: [],
    },
  ]);
});
