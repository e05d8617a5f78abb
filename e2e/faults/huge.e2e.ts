/**
 * Fault 9: huge objects. A ClusterRole with thousands of rules, a Pod with
 * hundreds of offending containers, and a namespace full of failing pods,
 * with a small report byte budget (--report-budget-bytes 20000):
 *
 * - every report fits the budget; the Pod's is truncated, says so (Ready
 *   reason Truncated, omittedFindings) and its summary still counts exactly
 *   what `vigil scan` finds;
 * - every other report equals the truth;
 * - the operator's resident memory stays under 400 MiB.
 */
import { expect } from 'chai';
import { cluster } from '../harness.ts';
import { startOperator, type OperatorProcess } from '../operator/process.ts';
import {
  FULL,
  Kube,
  cleanup,
  eventually,
  expectConverged,
  listYaml,
  measured,
  metricValue,
  podYaml,
  sleep,
  type Report,
} from './lib.ts';

const NS = 'f9-a';
const BUDGET = 20_000;
const PODS = FULL ? 2000 : 600;
const ROLE_RULES = FULL ? 5000 : 2000;
const CONTAINERS = 200;

function bigClusterRole(): string {
  const rules = Array.from({ length: ROLE_RULES }, (_, i) => {
    const verbs = i % 7 === 0 ? '["*"]' : '["get", "list", "watch", "create"]';
    const res = i % 5 === 0 ? '["secrets", "pods/exec"]' : `["things${i}", "pods"]`;
    return `- apiGroups: ["", "group${i}.example.com"]\n  resources: ${res}\n  verbs: ${verbs}`;
  }).join('\n');
  return `apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: f9-big}\nrules:\n${rules}\n`;
}

function manyContainersPod(): string {
  const cs = Array.from(
    { length: CONTAINERS },
    (_, i) => `  - name: c${i}
    image: registry.example/app${i}:latest
    ports: [{containerPort: ${8000 + i}, hostPort: ${8000 + i}}]
    securityContext: {privileged: true, runAsUser: 0, allowPrivilegeEscalation: true, capabilities: {add: [SYS_ADMIN, NET_ADMIN]}}`,
  ).join('\n');
  return `apiVersion: v1\nkind: Pod\nmetadata: {name: f9-many, namespace: ${NS}}\nspec:\n  hostPID: true\n  hostNetwork: true\n  containers:\n${cs}\n`;
}

/** The report as Vigil writes it (server-added metadata aside). */
function writtenSize(r: Report): number {
  const m = r.metadata as Report['metadata'] & { annotations?: Record<string, string> };
  return Buffer.byteLength(
    JSON.stringify({
      apiVersion: 'security.vigil.dev/v1alpha1',
      kind: 'ScanReport',
      metadata: {
        name: m.name,
        namespace: m.namespace,
        labels: m.labels,
        annotations: m.annotations,
        ownerReferences: m.ownerReferences,
      },
      spec: r.spec,
      status: r.status,
    }),
  );
}

describe('fault: huge objects, small report budget, bounded memory', function () {
  this.timeout(600_000);
  let k: Kube;
  let op: OperatorProcess | undefined;

  before(() => {
    k = new Kube(cluster());
    k.installCrds();
    for (const ns of ['vigil-system', NS]) k.ensureNamespace(ns);
    k.apply(`apiVersion: security.vigil.dev/v1alpha1
kind: SecurityPolicy
metadata: {name: f9}
spec:
  profile: all
  match: {names: ["f9-*"]}
`);
    const t0 = Date.now();
    k.apply(bigClusterRole());
    k.apply(manyContainersPod());
    for (let start = 0; start < PODS; start += 500) {
      const n = Math.min(500, PODS - start);
      k.apply(
        listYaml(Array.from({ length: n }, (_, i) => podYaml(`f9-p-${start + i}`, NS, { privileged: true }))),
      );
    }
    measured(
      `created ${PODS} pods, a ${ROLE_RULES}-rule ClusterRole, a ${CONTAINERS}-container Pod`,
      Date.now() - t0,
    );
  });

  after(async () => {
    const code = await op?.stop();
    cleanup(k, ['f9'], [NS]);
    k.try(['delete', 'clusterrole', 'f9-big', '--ignore-not-found']);
    expect(code, 'operator exit code after SIGTERM').to.equal(0);
  });

  it('honours the byte budget, says Truncated, keeps exact counts, and stays under 400 MiB', async () => {
    const t0 = Date.now();
    op = await startOperator({
      kubeconfig: cluster().kubeconfig,
      args: ['--report-budget-bytes', String(BUDGET)],
    });
    let peak = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const rss = metricValue(await op.metrics(), 'process_resident_memory_bytes');
        if (Number.isFinite(rss)) peak = Math.max(peak, rss);
        await sleep(500);
      }
    })();
    try {
      await eventually(
        `${PODS} pod reports`,
        () =>
          k.json<{ items: unknown[] }>(['get', 'scanreports', '-n', NS, '--chunk-size=0']).items.length >=
          PODS + 1,
        300_000,
        2000,
      );
      measured(`operator start → ${PODS + 1} pod reports`, Date.now() - t0);
      const conv = await expectConverged(k, [NS, '/f9-big'], 120_000);
      measured('reports equal the truth (counts exact)', Date.now() - t0);
      expect(conv).to.be.lessThan(120_000);
    } finally {
      sampling = false;
      await sampler;
    }

    const many = k.report(NS, 'pod-f9-many') as Report;
    const ready = many.status?.conditions?.find((c) => c.type === 'Ready');
    expect(ready?.reason).to.equal('Truncated');
    expect(many.status?.omittedFindings).to.be.greaterThan(0);
    const total = Object.values(many.status?.summary ?? {}).reduce((a, b) => a + b, 0);
    console.log(
      `      pod-f9-many: ${total} findings, ${many.status?.findings?.length} kept, ${many.status?.omittedFindings} omitted, ${writtenSize(many)} bytes`,
    );
    const role = k
      .json<{ items: Report[] }>(['get', 'scanreports', '-n', 'vigil-system'])
      .items.find((r) => r.spec.subject.name === 'f9-big');
    expect(role, 'report on the big ClusterRole').to.not.equal(undefined);
    const sizes = [...k.reports(NS), role as Report].map(writtenSize);
    const largest = Math.max(...sizes);
    console.log(`      largest report: ${largest} bytes (budget ${BUDGET})`);
    expect(largest).to.be.at.most(BUDGET);
    const text = await op.metrics();
    expect(metricValue(text, 'vigil_reports_truncated_total')).to.be.greaterThan(0);
    peak = Math.max(peak, metricValue(text, 'process_resident_memory_bytes'));
    measured('peak operator RSS', Math.round(peak / 1024 / 1024), 'MiB');
    expect(peak).to.be.lessThan(400 * 1024 * 1024);
  });
});
