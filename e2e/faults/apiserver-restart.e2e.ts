/**
 * Fault 1: kube-apiserver killed (SIGKILL) in the middle of an evaluation and
 * started again on the same port. The operator must reconnect on its own (same
 * process), reflect changes made right after the API's return within 30 s,
 * end with reports equal to `vigil scan`'s findings, and post no duplicate
 * events.
 */
import { expect } from 'chai';
import { ControlPlane } from '../controlplane/controlplane.ts';
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
  policyYaml,
  sleep,
} from './lib.ts';

const NS = ['f1-a', 'f1-b'];

describe('fault: kube-apiserver killed and restarted mid-evaluation', function () {
  this.timeout(300_000);
  let cp: ControlPlane | undefined;
  let k: Kube;
  let op: OperatorProcess | undefined;

  before(async () => {
    cp = await ControlPlane.start();
    k = new Kube(cp);
    k.installCrds();
    for (const ns of ['vigil-system', ...NS]) k.ensureNamespace(ns);
    k.apply(policyYaml('f1', ['f1-*']));
    k.apply(listYaml([0, 1, 2, 3, 4].map((i) => podYaml(`seed-${i}`, 'f1-a', { privileged: true }))));
    op = await startOperator({ kubeconfig: cp.kubeconfig });
    await expectConverged(k, NS);
  });

  after(async () => {
    const code = await op?.stop();
    if (cp) cleanup(k, ['f1'], NS);
    await cp?.stop();
    expect(code, 'operator exit code after SIGTERM').to.equal(0);
  });

  it('reconnects without a restart, reflects changes within 30 s of the API’s return, posts no duplicate events', async () => {
    const plane = cp as ControlPlane;
    const operator = op as OperatorProcess;
    const pid = operator.child.pid;
    // Heavy work in flight when the API server dies.
    const n = FULL ? 200 : 60;
    k.apply(
      listYaml(
        Array.from({ length: n }, (_, i) => podYaml(`burst-${i}`, 'f1-b', { privileged: i % 2 === 0 })),
      ),
    );
    plane.kill('kube-apiserver');
    await sleep(FULL ? 15_000 : 6_000);
    const t0 = Date.now();
    await plane.startApiServer();
    const apiBackMs = Date.now() - t0;
    // Changes right after the return: a new offender, a fixed one (deleted), a hostNetwork pod.
    k.apply(podYaml('after-restart', 'f1-a', { privileged: true }));
    k.run(['delete', 'pod', 'seed-0', '-n', 'f1-a', '--wait=false']);
    k.apply(podYaml('hostnet', 'f1-b', { hostNetwork: true }));
    const converged = await expectConverged(k, NS, 30_000);
    const recovery = Date.now() - t0;
    measured('API server back (readyz)', apiBackMs);
    measured('reports equal the truth after the API returned', recovery);
    expect(recovery - apiBackMs, 'changes reflected within 30 s of the API’s return').to.be.lessThan(30_000);
    expect(converged).to.be.lessThan(30_000);

    expect(operator.child.exitCode, 'operator still running').to.equal(null);
    expect(operator.child.pid).to.equal(pid);
    const text = await operator.metrics();
    expect(metricValue(text, 'vigil_watch_restarts_total', { kind: 'Pod' })).to.be.greaterThan(0);

    // No duplicate events: one per (object, reason).
    await sleep(2000);
    for (const ns of NS) {
      const counts = new Map<string, number>();
      for (const e of k.vigilEvents(ns)) {
        const key = `${e.regarding?.kind}/${e.regarding?.name}/${e.reason}`;
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
      const dups = [...counts].filter(([, c]) => c > 1);
      expect(dups, `duplicate events in ${ns}`).to.deep.equal([]);
      if (ns === 'f1-a') expect(counts.get('Pod/after-restart/FindingDetected')).to.equal(1);
    }
    // And still live: a later change shows up at once.
    k.apply(podYaml('later', 'f1-a', { privileged: true }));
    const later = await eventually(
      'report for a later offender',
      () => k.report('f1-a', 'pod-later'),
      20_000,
    );
    measured('later change reflected', later.ms);
  });
});
