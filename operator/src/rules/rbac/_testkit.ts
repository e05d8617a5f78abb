/** Builders and a table runner for RBAC rule tests. */
import { expect } from 'chai';
import type { KubeObject, Rule, Severity } from '../../engine/types.ts';
import { runRule } from '../testing.ts';

export interface RuleSpec {
  apiGroups?: string[];
  resources?: string[];
  verbs: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

export function clusterRole(
  name: string,
  rules: RuleSpec[],
  extra: Record<string, unknown> = {},
): KubeObject {
  const { labels, ...rest } = extra;
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name, ...(labels ? { labels: labels as Record<string, string> } : {}) },
    rules,
    ...rest,
  };
}

export function role(namespace: string, name: string, rules: RuleSpec[]): KubeObject {
  return { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name, namespace }, rules };
}

export interface SubjectSpec {
  kind: string;
  name: string;
  namespace?: string;
  apiGroup?: string;
}

export const user = (name: string): SubjectSpec => ({
  kind: 'User',
  name,
  apiGroup: 'rbac.authorization.k8s.io',
});
export const group = (name: string): SubjectSpec => ({
  kind: 'Group',
  name,
  apiGroup: 'rbac.authorization.k8s.io',
});
export const sa = (namespace: string, name: string): SubjectSpec => ({
  kind: 'ServiceAccount',
  name,
  namespace,
});

export function clusterRoleBinding(name: string, roleName: string, subjects: SubjectSpec[]): KubeObject {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: roleName },
    subjects,
  };
}

export function roleBinding(
  namespace: string,
  name: string,
  roleRef: { kind: 'Role' | 'ClusterRole'; name: string },
  subjects: SubjectSpec[],
): KubeObject {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name, namespace },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', ...roleRef },
    subjects,
  };
}

/** Malformed RBAC objects every rule must survive. */
export const MALFORMED: KubeObject[] = [
  { kind: 'ClusterRole' },
  { kind: 'ClusterRole', metadata: { name: 'x' }, rules: 'nope' },
  { kind: 'ClusterRole', metadata: { name: 'x' }, rules: [null, 7, { verbs: '*', resources: 5 }] },
  { kind: 'Role', metadata: { name: 'x', namespace: 'a' }, rules: [{ verbs: ['*'] }] },
  { kind: 'ClusterRoleBinding', metadata: { name: 'x' } },
  { kind: 'ClusterRoleBinding', metadata: { name: 'x' }, roleRef: 'cluster-admin', subjects: 'alice' },
  {
    kind: 'ClusterRoleBinding',
    metadata: { name: 'x' },
    roleRef: { name: 'cluster-admin' },
    subjects: [null, { kind: 'User' }],
  },
  {
    kind: 'RoleBinding',
    metadata: { name: 'x' },
    roleRef: { kind: 'Role', name: 'r' },
    subjects: [{ kind: 'User', name: 'a' }],
  },
  {
    kind: 'ClusterRole',
    metadata: { name: 'agg' },
    aggregationRule: {
      clusterRoleSelectors: ['bad', { matchLabels: { a: 1 } }, { matchExpressions: [{ key: 'k' }] }],
    },
  },
];

export interface Case {
  name: string;
  obj: KubeObject;
  others?: KubeObject[];
  params?: Record<string, unknown>;
  /** Severities of the expected hits, in order; [] for a pass case. */
  expect: Severity[];
  /** Substrings the joined messages must contain. */
  contains?: string[];
  /** Substrings the joined messages must not contain. */
  excludes?: string[];
}

/** Runs a table of cases against a rule with mocha `it`s, plus the malformed-input sweep. */
export function runCases(rule: Rule, cases: Case[]): void {
  for (const c of cases) {
    it(`${c.name} → ${c.expect.length ? c.expect.join(', ') : 'pass'}`, () => {
      const opts = { ...(c.others ? { others: c.others } : {}), ...(c.params ? { params: c.params } : {}) };
      const hits = runRule(rule, c.obj, opts);
      expect(
        hits.map((h) => h.severity ?? rule.severity),
        hits.map((h) => h.message).join('\n'),
      ).to.deep.equal(c.expect);
      const text = hits.map((h) => h.message).join('\n');
      for (const s of c.contains ?? []) expect(text).to.contain(s);
      for (const s of c.excludes ?? []) expect(text).not.to.contain(s);
    });
  }
  it('does not throw on malformed objects, alone or as context', () => {
    for (const m of MALFORMED) {
      expect(() => runRule(rule, m)).not.to.throw();
      expect(() => runRule(rule, m, { others: MALFORMED })).not.to.throw();
    }
  });
}
