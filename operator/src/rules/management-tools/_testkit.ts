/** Builders and a table runner for management-tools rule tests. */
import { expect } from 'chai';
import type { KubeObject, Rule, Severity } from '../../engine/types.ts';
import { runRule } from '../testing.ts';

export function tool(
  containers: Record<string, unknown>[],
  opts: {
    kind?: string;
    ns?: string;
    name?: string;
    sa?: string;
    labels?: Record<string, string>;
    meta?: Record<string, unknown>;
  } = {},
): KubeObject {
  const labels = opts.labels ?? { app: 'tool' };
  const podSpec = { ...(opts.sa ? { serviceAccountName: opts.sa } : {}), containers };
  const metadata = { name: opts.name ?? 'tool', namespace: opts.ns ?? 'tools', ...(opts.meta ?? {}) };
  if (opts.kind === 'Pod')
    return { apiVersion: 'v1', kind: 'Pod', metadata: { ...metadata, labels }, spec: podSpec };
  if (opts.kind === 'DaemonSet')
    return {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata,
      spec: { template: { metadata: { labels }, spec: podSpec } },
    };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata,
    spec: { template: { metadata: { labels }, spec: podSpec } },
  };
}

export function exposingService(
  ns: string,
  type: string,
  selector: Record<string, string> = { app: 'tool' },
): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: `svc-${type.toLowerCase()}`, namespace: ns },
    spec: { type, selector, ports: [{ port: 80 }] },
  };
}

export function adminBinding(ns: string, sa: string, role = 'cluster-admin'): KubeObject {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: `${sa}-admin` },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
    subjects: [{ kind: 'ServiceAccount', name: sa, namespace: ns }],
  };
}

export interface Case {
  name: string;
  obj: KubeObject;
  others?: KubeObject[];
  expect: Severity[];
  contains?: string[];
  container?: string;
}

const MALFORMED: KubeObject[] = [
  { kind: 'Deployment' },
  { kind: 'Deployment', spec: { template: { spec: { containers: 'x' } } } },
  { kind: 'Pod', spec: { containers: [null, { name: 5, image: 7, args: 'x', command: [1, null] }] } },
  { kind: 'Service', spec: { selector: 'x', type: 7 } },
  { kind: 'ClusterRoleBinding', subjects: 'x', roleRef: 7 },
  { kind: 'Ingress', spec: { rules: [{ http: { paths: [null, { backend: 'x' }] } }] } },
];

export function runCases(rule: Rule, cases: Case[]): void {
  for (const c of cases) {
    it(`${c.name} → ${c.expect.join(', ') || 'pass'}`, () => {
      const hits = runRule(rule, c.obj, c.others ? { others: c.others } : {});
      const text = hits.map((h) => h.message).join('\n');
      expect(
        hits.map((h) => h.severity ?? rule.severity),
        text,
      ).to.deep.equal(c.expect);
      for (const s of c.contains ?? []) expect(text).to.contain(s);
      if (c.container) expect(hits[0]?.container).to.equal(c.container);
    });
  }
  it('does not throw on malformed input', () => {
    for (const m of MALFORMED) expect(() => runRule(rule, m, { others: MALFORMED })).not.to.throw();
  });
}
