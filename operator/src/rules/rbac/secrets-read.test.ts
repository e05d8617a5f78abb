import { secretsRead } from './secrets-read.ts';
import { clusterRole, clusterRoleBinding, group, role, roleBinding, runCases, user } from './_testkit.ts';

const reader = clusterRole('secret-reader', [
  { apiGroups: [''], resources: ['secrets'], verbs: ['get', 'list'] },
]);

describe('rule rbac-secrets-read', () => {
  runCases(secretsRead, [
    {
      name: 'cluster-wide secrets read',
      obj: clusterRoleBinding('x', 'secret-reader', [user('alice')]),
      others: [reader],
      expect: ['high'],
      contains: ['get/list on secrets', 'cluster-wide', 'User "alice"', 'ClusterRole "secret-reader"'],
    },
    {
      name: 'the same ClusterRole through a RoleBinding',
      obj: roleBinding('team-a', 'x', { kind: 'ClusterRole', name: 'secret-reader' }, [user('alice')]),
      others: [reader],
      expect: ['medium'],
      contains: ['in namespace "team-a"'],
    },
    {
      name: 'RoleBinding in kube-system counts as cluster-wide',
      obj: roleBinding('kube-system', 'x', { kind: 'ClusterRole', name: 'secret-reader' }, [user('alice')]),
      others: [reader],
      expect: ['high'],
    },
    {
      name: 'a built-in kube-system Role resolves from the table: token-cleaner reads secrets',
      obj: roleBinding('kube-system', 'x', { kind: 'Role', name: 'system:controller:token-cleaner' }, [
        user('alice'),
      ]),
      expect: ['high'],
      contains: ['Role "kube-system/system:controller:token-cleaner" (built-in definition)'],
    },
    {
      name: 'named secrets only (least privilege)',
      obj: clusterRoleBinding('x', 'r', [user('alice')]),
      others: [
        clusterRole('r', [
          { apiGroups: [''], resources: ['secrets'], verbs: ['get'], resourceNames: ['app-tls'] },
        ]),
      ],
      expect: [],
    },
    {
      name: 'create-only on secrets',
      obj: clusterRoleBinding('x', 'r', [user('alice')]),
      others: [clusterRole('r', [{ apiGroups: [''], resources: ['secrets'], verbs: ['create'] }])],
      expect: [],
    },
    {
      name: 'list on every resource includes secrets',
      obj: clusterRoleBinding('x', 'r', [user('alice')]),
      others: [clusterRole('r', [{ apiGroups: ['*'], resources: ['*'], verbs: ['list', 'watch'] }])],
      expect: ['high'],
      contains: ['list/watch on secrets'],
    },
    {
      name: 'secrets in the wrong API group',
      obj: clusterRoleBinding('x', 'r', [user('alice')]),
      others: [clusterRole('r', [{ apiGroups: ['apps'], resources: ['secrets'], verbs: ['get'] }])],
      expect: [],
    },
    { name: 'unbound ClusterRole (latent)', obj: reader, expect: ['medium'], contains: ['latent'] },
    {
      name: 'unbound ClusterRole aggregated into the built-in view is live (issue 19 item 4)',
      obj: clusterRole('crd-viewer', [{ apiGroups: [''], resources: ['secrets'], verbs: ['get', 'list'] }], {
        labels: { 'rbac.authorization.k8s.io/aggregate-to-view': 'true' },
      }),
      expect: ['high'],
      contains: [
        'aggregated into the built-in "admin", "edit", "view"',
        'rbac.authorization.k8s.io/aggregate-to-view=true',
        'everyone bound to them gets it',
      ],
      excludes: ['latent'],
    },
    {
      name: 'aggregated into edit/admin only: live, rated like a namespaced binding',
      obj: clusterRole('crd-editor', [{ apiGroups: [''], resources: ['secrets'], verbs: ['get'] }], {
        labels: { 'rbac.authorization.k8s.io/aggregate-to-edit': 'true' },
      }),
      expect: ['medium'],
      contains: ['aggregated into the built-in "admin", "edit"'],
      excludes: ['latent', '"view"'],
    },
    {
      name: 'aggregate label set to false is not aggregation',
      obj: clusterRole('x', [{ apiGroups: [''], resources: ['secrets'], verbs: ['get'] }], {
        labels: { 'rbac.authorization.k8s.io/aggregate-to-view': 'false' },
      }),
      expect: ['medium'],
      contains: ['latent'],
    },
    {
      name: 'aggregated into view while view is bound in scope: the binding carries it',
      obj: clusterRole('crd-viewer', [{ apiGroups: [''], resources: ['secrets'], verbs: ['get'] }], {
        labels: { 'rbac.authorization.k8s.io/aggregate-to-view': 'true' },
      }),
      others: [clusterRoleBinding('devs', 'view', [group('devs')])],
      expect: [],
    },
    {
      name: '... and that binding reports what view now includes',
      obj: clusterRoleBinding('devs', 'view', [group('devs')]),
      others: [
        clusterRole('crd-viewer', [{ apiGroups: [''], resources: ['secrets'], verbs: ['get'] }], {
          labels: { 'rbac.authorization.k8s.io/aggregate-to-view': 'true' },
        }),
      ],
      expect: ['high'],
      contains: ['aggregating "crd-viewer"'],
    },
    {
      name: 'unbound Role (latent, one namespace)',
      obj: role('team-a', 'r', [{ apiGroups: [''], resources: ['secrets'], verbs: ['watch'] }]),
      expect: ['low'],
    },
    {
      name: 'Role bound by a RoleBinding in another namespace is still unbound',
      obj: role('team-a', 'r', [{ apiGroups: [''], resources: ['secrets'], verbs: ['watch'] }]),
      others: [roleBinding('team-b', 'x', { kind: 'Role', name: 'r' }, [user('alice')])],
      expect: ['low'],
    },
    {
      name: 'a binding with no subjects does not make the role bound',
      obj: reader,
      others: [{ ...clusterRoleBinding('x', 'secret-reader', []) }],
      expect: ['medium'],
    },
    {
      name: 'edit is left to rbac-broad-builtin-role-binding',
      obj: roleBinding('team-a', 'x', { kind: 'ClusterRole', name: 'edit' }, [user('alice')]),
      expect: [],
    },
    {
      name: 'public groups are left to rbac-public-group-binding',
      obj: clusterRoleBinding('x', 'secret-reader', [group('system:authenticated')]),
      others: [reader],
      expect: [],
    },
    {
      name: 'built-in system role bound to a person by a user binding',
      obj: clusterRoleBinding('alice-kcm', 'system:kube-controller-manager', [user('alice')]),
      expect: ['high'],
      contains: ['ClusterRole "system:kube-controller-manager" (built-in definition)'],
    },
    {
      name: 'the default binding of that system role',
      obj: clusterRoleBinding('system:kube-controller-manager', 'system:kube-controller-manager', [
        user('system:kube-controller-manager'),
      ]),
      expect: [],
    },
  ]);
});
