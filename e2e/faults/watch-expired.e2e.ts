/**
 * Fault 2: etcd compaction makes a resumed watch fail with 410 Gone. The API
 * server runs without its watch cache (so watches read etcd's history) and
 * without its own periodic compaction. The operator's connections are cut,
 * changes are made, etcd is compacted past every resourceVersion the
 * reflectors hold, and the connections are let through again: every
 * reflector must relist exactly once (restart reason `expired`, no relist
 * storm) and miss no change.
 */
import { expect } from 'chai';
import { join } from 'node:path';
import { ControlPlane } from '../controlplane/controlplane.ts';
import { startOperator, type OperatorProcess } from '../operator/process.ts';
import { TcpProxy } from './proxy.ts';
import {
  Kube,
  compactEtcd,
  expectConverged,
  listYaml,
  logLines,
  measured,
  metricValue,
  podYaml,
  policyYaml,
  sleep,
} from './lib.ts';
import { SUBJECT_KINDS } from '../../operator/src/runtime/kinds.ts';

const NS = ['f2-a'];

describe('fault: watch resumes with 410 Gone after etcd compaction', function () {
  this.timeout(300_000);
  let cp: ControlPlane | undefined;
  let k: Kube;
  let proxy: TcpProxy | undefined;
  let op: OperatorProcess | undefined;

  before(async () => {
    cp = await ControlPlane.start({
      apiServerFlags: ['--watch-cache=false', '--etcd-compaction-interval=0'],
    });
    k = new Kube(cp);
    k.installCrds();
    for (const ns of ['vigil-system', ...NS]) k.ensureNamespace(ns);
    k.apply(policyYaml('f2', NS));
    k.apply(listYaml([0, 1, 2].map((i) => podYaml(`seed-${i}`, 'f2-a', { privileged: true }))));
    proxy = await TcpProxy.start(cp.state.apiPort);
    const kubeconfig = proxy.kubeconfig(cp.kubeconfig, join(cp.state.dir, 'proxy.kubeconfig'));
    op = await startOperator({ kubeconfig });
    await expectConverged(k, NS);
  });

  after(async () => {
    const code = await op?.stop();
    await proxy?.close();
    await cp?.stop();
    expect(code, 'operator exit code after SIGTERM').to.equal(0);
  });

  it('relists once per kind on 410, misses no change, and does not storm', async () => {
    const operator = op as OperatorProcess;
    const p = proxy as TcpProxy;
    const before = await operator.metrics();
    expect(metricValue(before, 'vigil_watch_restarts_total', { reason: 'expired' })).to.equal(0);

    p.block();
    // Changes the operator cannot see: a new offender, a removed one, a fixed Deployment-free pod set.
    k.apply(listYaml([0, 1, 2, 3, 4].map((i) => podYaml(`while-cut-${i}`, 'f2-a', { privileged: true }))));
    k.run(['delete', 'pod', 'seed-0', '-n', 'f2-a', '--wait=false']);
    k.apply(podYaml('hostnet', 'f2-a', { hostNetwork: true }));
    const rev = await compactEtcd(cp as ControlPlane);
    await sleep(1000);
    p.unblock();
    const t0 = Date.now();
    const conv = await expectConverged(k, NS, 60_000);
    measured(`410 → relist → reports equal the truth (compacted at revision ${rev})`, Date.now() - t0);
    expect(conv).to.be.lessThan(60_000);

    // Let every reflector get back; then count.
    await sleep(5000);
    const text = await operator.metrics();
    const perKind = SUBJECT_KINDS.map((w) => ({
      kind: w.kind,
      expired: metricValue(text, 'vigil_watch_restarts_total', { kind: w.kind, reason: 'expired' }),
    }));
    const total = perKind.reduce((n, x) => n + x.expired, 0);
    measured('expired watch restarts (all kinds)', total, 'restarts');
    expect(perKind.find((x) => x.kind === 'Pod')?.expired, 'the Pod watch relisted').to.be.at.least(1);
    const storm = perKind.filter((x) => x.expired > 2);
    expect(storm, 'kinds that relisted more than twice').to.deep.equal([]);
    const relists = logLines(operator.logFile, /Watch resourceVersion expired; relisting/);
    expect(relists.length).to.equal(
      total +
        metricValue(text, 'vigil_watch_restarts_total', { kind: 'SecurityPolicy', reason: 'expired' }) +
        metricValue(text, 'vigil_watch_restarts_total', { kind: 'ScanReport', reason: 'expired' }),
    );
    // And still live afterwards.
    k.apply(podYaml('after', 'f2-a', { privileged: true }));
    await expectConverged(k, NS, 20_000);
  });
});
