/**
 * Fault 8: SIGTERM during heavy work. Right after hundreds of offending pods
 * are created (and again a moment after startup, in the middle of the first
 * full evaluation), the operator gets SIGTERM: it must exit 0 within 10 s,
 * leave no half-written report (every report's summary agrees with its
 * findings), and converge after a restart.
 */
import { expect } from 'chai';
import { cluster } from '../harness.ts';
import { startOperator, type OperatorProcess } from '../operator/process.ts';
import {
  FULL,
  Kube,
  cleanup,
  expectConverged,
  listYaml,
  measured,
  metricValue,
  podYaml,
  policyYaml,
  sleep,
  summaryConsistent,
} from './lib.ts';

const NS = ['f8-a'];
const PODS = FULL ? 500 : 300;

describe('fault: SIGTERM during heavy work', function () {
  this.timeout(300_000);
  let k: Kube;
  let op: OperatorProcess | undefined;

  before(() => {
    k = new Kube(cluster());
    k.installCrds();
    for (const ns of ['vigil-system', ...NS]) k.ensureNamespace(ns);
    k.apply(policyYaml('f8', NS));
  });

  after(async () => {
    await op?.stop();
    cleanup(k, ['f8'], NS);
  });

  const stopTimed = async (what: string): Promise<void> => {
    const t0 = Date.now();
    const code = await (op as OperatorProcess).stop(30_000);
    const ms = Date.now() - t0;
    measured(`SIGTERM → exit (${what})`, ms);
    expect(code, 'exit code').to.equal(0);
    expect(ms, 'exit within 10 s').to.be.lessThan(10_000);
    const broken = k
      .reports('f8-a')
      .filter((r) => !summaryConsistent(r))
      .map((r) => r.metadata.name);
    expect(broken, 'reports whose summary disagrees with their findings').to.deep.equal([]);
  };

  it(`exits 0 within 10 s right after ${PODS} pods are created, with no half-written report`, async () => {
    op = await startOperator({ kubeconfig: cluster().kubeconfig });
    k.apply(
      listYaml(
        Array.from({ length: PODS }, (_, i) =>
          podYaml(`p-${i}`, 'f8-a', { privileged: i % 2 === 0, hostNetwork: i % 3 === 0 }),
        ),
      ),
    );
    await stopTimed('just after the pods were created');
    console.log(`      reports written before the stop: ${k.reports('f8-a').length} of ${PODS}`);
  });

  it(`exits 0 within 10 s while rewriting all ${PODS} reports after a policy edit`, async () => {
    op = await startOperator({ kubeconfig: cluster().kubeconfig });
    await expectConverged(k, NS, 120_000);
    // Profile all: every report gains findings, so every report is rewritten.
    k.apply(policyYaml('f8', NS, 'profile: all'));
    await sleep(500);
    const before = metricValue(await op.metrics(), 'vigil_reports_written_total');
    await stopTimed('in the middle of rewriting every report');
    console.log(`      reports rewritten before the stop: ${before} of ${PODS}`);
  });

  it('exits 0 within 10 s in the middle of the first full evaluation', async () => {
    op = await startOperator({ kubeconfig: cluster().kubeconfig });
    await sleep(300);
    await stopTimed('during the startup evaluation');
  });

  it('converges after a restart', async () => {
    op = await startOperator({ kubeconfig: cluster().kubeconfig });
    const ms = await expectConverged(k, NS, 120_000);
    measured(`restart → reports equal the truth (${PODS} pods)`, ms);
  });
});
