import { expect } from 'chai';
import { roleRefUnresolved } from './role-ref-unresolved.ts';
import { BUILTIN_ROLES } from './_builtin-roles.ts';
import { parseRules } from './_rbac.ts';
import { clusterRole, clusterRoleBinding, roleBinding, runCases, sa, user } from './_testkit.ts';
import fresh from './testdata/fresh-control-plane-v1.37.json' with { type: 'json' };

const authReader = { kind: 'Role', name: 'extension-apiserver-authentication-reader' } as const;

const selector = { clusterRoleSelectors: [{ matchLabels: { 'example.com/agg': 'true' } }] };

describe('rule rbac-role-ref-unresolved', () => {
  runCases(roleRefUnresolved, [
    {
      name: 'ClusterRoleBinding to a role that is nowhere',
      obj: clusterRoleBinding('x', 'ghost', [user('alice')]),
      expect: ['info'],
      contains: ['ClusterRole "ghost"'],
    },
    { name: 'built-in role', obj: clusterRoleBinding('x', 'cluster-admin', [user('alice')]), expect: [] },
    {
      name: 'role in scope',
      obj: clusterRoleBinding('x', 'r', [user('alice')]),
      others: [clusterRole('r', [])],
      expect: [],
    },
    {
      // Kubernetes' own cluster/addons/kube-network-policies manifest (real-world corpus).
      name: 'role in scope whose manifest names a namespace, which a ClusterRole does not have',
      obj: clusterRoleBinding('x', 'r', [user('alice')]),
      others: [{ ...clusterRole('r', []), metadata: { name: 'r', namespace: 'kube-system' } }],
      expect: [],
    },
    {
      name: 'RoleBinding to a missing Role',
      obj: roleBinding('team-a', 'x', { kind: 'Role', name: 'gone' }, [user('alice')]),
      expect: ['info'],
      contains: ['Role "gone" in namespace "team-a"'],
    },
    {
      name: 'built-in kube-system Role extension-apiserver-authentication-reader (issue 19 item 9)',
      obj: roleBinding('kube-system', 'metrics-server-auth-reader', authReader, [
        sa('kube-system', 'metrics-server'),
      ]),
      expect: [],
    },
    {
      name: 'the same Role name outside kube-system is not built in',
      obj: roleBinding('team-a', 'x', authReader, [sa('team-a', 'api')]),
      expect: ['info'],
      contains: ['Role "extension-apiserver-authentication-reader" in namespace "team-a"'],
    },
    {
      name: 'aggregated ClusterRole whose selector matches nothing',
      obj: clusterRole('agg', [], { aggregationRule: selector }),
      expect: ['info'],
      contains: ['could not be resolved'],
    },
    {
      name: 'aggregated ClusterRole whose selector matches a role in scope',
      obj: clusterRole('agg', [], { aggregationRule: selector }),
      others: [clusterRole('part', [], { labels: { 'example.com/agg': 'true' } })],
      expect: [],
    },
    {
      name: 'built-in aggregated role with rules not filled in falls back to the table',
      obj: clusterRole('admin', [], {
        aggregationRule: {
          clusterRoleSelectors: [{ matchLabels: { 'rbac.authorization.k8s.io/aggregate-to-admin': 'true' } }],
        },
      }),
      expect: [],
    },
  ]);

  it('the built-in Roles are exactly the Roles of a fresh v1.37 control plane', () => {
    const dumped = new Map(
      fresh.items
        .filter((o) => o.kind === 'Role')
        .map((o) => [`${o.metadata.namespace ?? ''}/${o.metadata.name}`, parseRules(o.rules)] as const),
    );
    expect(dumped.size).to.be.greaterThan(0);
    expect([...BUILTIN_ROLES.keys()].sort()).to.deep.equal([...dumped.keys()].sort());
    for (const [key, rules] of dumped) expect(BUILTIN_ROLES.get(key)?.rules, key).to.deep.equal(rules);
  });
});
