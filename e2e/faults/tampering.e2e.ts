/**
 * Fault 7: report tampering. Someone edits Vigil's labels, its
 * ownerReference, the findings list or the summary of a ScanReport, or
 * deletes it: each is restored, and the time to restore is measured. After
 * the dust settles the operator writes nothing (no fight with itself).
 */
import { expect } from 'chai';
import { cluster } from '../harness.ts';
import { startOperator, type OperatorProcess } from '../operator/process.ts';
import {
  Kube,
  cleanup,
  eventually,
  expectConverged,
  measured,
  metricValue,
  podYaml,
  policyYaml,
  sleep,
  type Report,
} from './lib.ts';

const NS = ['f7-a'];
const NAME = 'pod-victim';

/** What Vigil controls in a report, firstSeen and timestamps aside. */
function essence(r: Report | undefined, keepFirstSeen = true): string {
  if (!r) return 'absent';
  return JSON.stringify({
    labels: Object.fromEntries(
      Object.entries(r.metadata.labels ?? {}).filter(
        ([key]) => key.includes('vigil') || key.startsWith('app.kubernetes.io/managed-by'),
      ),
    ),
    owners: r.metadata.ownerReferences ?? [],
    subject: r.spec.subject,
    summary: r.status?.summary,
    findings: (r.status?.findings ?? []).map((f) => {
      const copy: Record<string, unknown> = { ...f };
      if (!keepFirstSeen) delete copy['firstSeen'];
      return copy;
    }),
  });
}

describe('fault: ScanReport tampering is restored', function () {
  this.timeout(240_000);
  let k: Kube;
  let op: OperatorProcess | undefined;
  let truth = '';
  let truthNoFirstSeen = '';

  before(async () => {
    k = new Kube(cluster());
    k.installCrds();
    for (const ns of ['vigil-system', ...NS]) k.ensureNamespace(ns);
    k.apply(policyYaml('f7', NS));
    k.apply(podYaml('victim', 'f7-a', { privileged: true, hostNetwork: true }));
    op = await startOperator({ kubeconfig: cluster().kubeconfig });
    await expectConverged(k, NS);
    const r = k.report('f7-a', NAME);
    expect((r?.status?.findings ?? []).length).to.be.greaterThan(2);
    truth = essence(r);
    truthNoFirstSeen = essence(r, false);
  });

  after(async () => {
    const code = await op?.stop();
    cleanup(k, ['f7'], NS);
    expect(code, 'operator exit code after SIGTERM').to.equal(0);
  });

  const restored = async (what: string, keepFirstSeen = true): Promise<void> => {
    const want = keepFirstSeen ? truth : truthNoFirstSeen;
    const r = await eventually(
      `${what} restored`,
      () => essence(k.report('f7-a', NAME), keepFirstSeen) === want,
      30_000,
    );
    measured(`${what} restored`, r.ms);
  };
  const patch = (type: 'merge' | 'json', body: unknown): void => {
    k.run(['patch', 'scanreport', NAME, '-n', 'f7-a', `--type=${type}`, '-p', JSON.stringify(body)]);
  };

  it('restores Vigil’s labels', async () => {
    patch('merge', {
      metadata: {
        labels: { 'app.kubernetes.io/managed-by': 'helm', 'security.vigil.dev/subject-kind': null },
      },
    });
    await restored('edited labels');
  });

  it('restores a removed or rewritten ownerReference', async () => {
    patch('json', [{ op: 'remove', path: '/metadata/ownerReferences' }]);
    await restored('removed ownerReferences');
    patch('json', [{ op: 'replace', path: '/metadata/ownerReferences/0/name', value: 'someone-else' }]);
    await restored('rewritten ownerReference');
  });

  it('restores an edited findings list (one removed, one invented) and summary', async () => {
    const r = k.report('f7-a', NAME) as Report;
    const findings = [...(r.status?.findings ?? [])].slice(1);
    findings.push({ ruleId: 'made-up', severity: 'info', message: 'nothing to see here' });
    patch('merge', { status: { findings, summary: { critical: 0, high: 0, medium: 0, low: 0, info: 1 } } });
    // The removed finding comes back with a new firstSeen: the report was the only record of it.
    await restored('edited findings list', false);
    patch('json', [{ op: 'replace', path: '/status/findings/0/severity', value: 'info' }]);
    await restored('downgraded severity', false);
  });

  it('recreates a deleted report', async () => {
    k.run(['delete', 'scanreport', NAME, '-n', 'f7-a']);
    await restored('deleted report', false);
  });

  it('writes nothing once restored (no fight with itself)', async () => {
    await sleep(2000);
    const operator = op as OperatorProcess;
    const w1 = metricValue(await operator.metrics(), 'vigil_reports_written_total');
    const rv1 = k.report('f7-a', NAME)?.metadata.resourceVersion;
    await sleep(5000);
    const w2 = metricValue(await operator.metrics(), 'vigil_reports_written_total');
    expect(w2).to.equal(w1);
    expect(k.report('f7-a', NAME)?.metadata.resourceVersion).to.equal(rv1);
  });
});
