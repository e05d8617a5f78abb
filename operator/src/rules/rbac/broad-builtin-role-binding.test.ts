import { expect } from 'chai';
import { broadBuiltinRoleBinding } from './broad-builtin-role-binding.ts';
import { clusterRole, clusterRoleBinding, group, role, roleBinding, runCases, user } from './_testkit.ts';
import { runRule } from '../testing.ts';

const editInCluster = clusterRole('edit', [{ apiGroups: [''], resources: ['secrets'], verbs: ['get'] }]);

describe('rule rbac-broad-builtin-role-binding', () => {
  runCases(broadBuiltinRoleBinding, [
    {
      name: 'edit in one namespace (built-in definition)',
      obj: roleBinding('team-a', 'devs-edit', { kind: 'ClusterRole', name: 'edit' }, [group('team-a-devs')]),
      expect: ['low'],
      contains: [
        'ClusterRole "edit" (built-in definition)',
        'in namespace "team-a"',
        'read secrets',
        'exec/attach into pods',
        'create pods or workloads',
        'impersonate service accounts',
        'create service account tokens',
      ],
    },
    {
      name: 'admin cluster-wide',
      obj: clusterRoleBinding('bob-admin', 'admin', [user('bob')]),
      expect: ['high'],
      contains: ['cluster-wide', 'User "bob"'],
    },
    {
      name: 'edit in kube-system counts as cluster-wide',
      obj: roleBinding('kube-system', 'x', { kind: 'ClusterRole', name: 'edit' }, [user('bob')]),
      expect: ['high'],
    },
    { name: 'view is harmless', obj: clusterRoleBinding('v', 'view', [user('bob')]), expect: [] },
    {
      name: 'a namespaced Role that happens to be called edit',
      obj: roleBinding('team-a', 'x', { kind: 'Role', name: 'edit' }, [user('bob')]),
      others: [role('team-a', 'edit', [{ apiGroups: [''], resources: ['secrets'], verbs: ['get'] }])],
      expect: [],
    },
    {
      name: 'edit as found in the cluster (rules filled in)',
      obj: roleBinding('team-a', 'x', { kind: 'ClusterRole', name: 'edit' }, [user('bob')]),
      others: [editInCluster],
      expect: ['low'],
      contains: ['read secrets'],
      excludes: ['built-in definition', 'exec'],
    },
    {
      name: 'edit trimmed down to nothing dangerous',
      obj: roleBinding('team-a', 'x', { kind: 'ClusterRole', name: 'edit' }, [user('bob')]),
      others: [clusterRole('edit', [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get'] }])],
      expect: [],
    },
    {
      name: 'custom role aggregated into the built-in edit',
      obj: roleBinding('team-a', 'x', { kind: 'ClusterRole', name: 'edit' }, [user('bob')]),
      others: [
        clusterRole('crd-editor', [{ apiGroups: ['example.com'], resources: ['widgets'], verbs: ['*'] }], {
          labels: { 'rbac.authorization.k8s.io/aggregate-to-edit': 'true' },
        }),
      ],
      expect: ['low'],
      contains: ['aggregating "crd-editor"'],
    },
    {
      name: 'public subjects are left to rbac-public-group-binding',
      obj: clusterRoleBinding('x', 'edit', [group('system:authenticated')]),
      expect: [],
    },
  ]);

  it('carries the CIS controls of what the role includes', () => {
    const [hit] = runRule(broadBuiltinRoleBinding, clusterRoleBinding('x', 'admin', [user('bob')]));
    expect(hit?.controls).to.include.members(['CIS:5.1.2', 'CIS:5.1.4', 'CIS:5.1.8', 'CIS:5.1.13']);
  });
});
