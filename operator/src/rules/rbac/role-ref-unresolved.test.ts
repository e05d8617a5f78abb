import { roleRefUnresolved } from './role-ref-unresolved.ts';
import { clusterRole, clusterRoleBinding, roleBinding, runCases, user } from './_testkit.ts';

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
      name: 'RoleBinding to a missing Role',
      obj: roleBinding('team-a', 'x', { kind: 'Role', name: 'gone' }, [user('alice')]),
      expect: ['info'],
      contains: ['Role "gone" in namespace "team-a"'],
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
});
