/**
 * Fault 3: a watch that stalls silently. A TCP proxy between the operator and
 * the API server keeps every connection open but stops forwarding bytes. The
 * reflector's inactivity watchdog (shortened with --watch-inactivity-timeout)
 * must notice, restart the watch (vigil_watch_restarts_total{reason="stalled"}
 * and a "Watch stalled" log line), and once bytes flow again a change is
 * reflected.
 *
 * A heartbeat (a Pod annotation patched every second, straight to the API
 * server) keeps the Pod watch busy, so before the stall its stalled count
 * must stay 0: the test tells a real stall from a quiet watch.
 */
import { expect } from 'chai';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cluster } from '../harness.ts';
import { startOperator, type OperatorProcess } from '../operator/process.ts';
import { TcpProxy } from './proxy.ts';
import {
  Kube,
  apiRequest,
  cleanup,
  eventually,
  expectConverged,
  logLines,
  measured,
  metricValue,
  podYaml,
  policyYaml,
  sleep,
} from './lib.ts';

const NS = ['f3-a'];
const BEAT_NS = 'f3-beat';
const TIMEOUT_S = 6;

describe('fault: a watch that stalls silently', function () {
  this.timeout(240_000);
  let k: Kube;
  let proxy: TcpProxy | undefined;
  let op: OperatorProcess | undefined;
  let beating = true;
  let beat: Promise<void> | undefined;

  before(async () => {
    k = new Kube(cluster());
    k.installCrds();
    for (const ns of ['vigil-system', BEAT_NS, ...NS]) k.ensureNamespace(ns);
    k.apply(policyYaml('f3', NS));
    k.apply(podYaml('seed', 'f3-a', { privileged: true }));
    k.apply(podYaml('beat', BEAT_NS));
    beat = (async () => {
      for (let i = 0; beating; i++) {
        await apiRequest(cluster(), 'PATCH', `/api/v1/namespaces/${BEAT_NS}/pods/beat`, {
          metadata: { annotations: { beat: String(i) } },
        }).catch(() => undefined);
        await sleep(1000);
      }
    })();
    proxy = await TcpProxy.start(cluster().state.apiPort);
    const kubeconfig = proxy.kubeconfig(
      cluster().kubeconfig,
      join(mkdtempSync(join(tmpdir(), 'vigil-f3-')), 'kubeconfig'),
    );
    op = await startOperator({ kubeconfig, args: ['--watch-inactivity-timeout', String(TIMEOUT_S)] });
    await expectConverged(k, NS);
  });

  after(async () => {
    beating = false;
    await beat;
    proxy?.resume();
    const code = await op?.stop();
    await proxy?.close();
    cleanup(k, ['f3'], [...NS, BEAT_NS]);
    expect(code, 'operator exit code after SIGTERM').to.equal(0);
  });

  it('detects the stall by inactivity, restarts the watch, and reflects a change once bytes flow', async () => {
    const operator = op as OperatorProcess;
    const p = proxy as TcpProxy;
    const stalledPods = async (): Promise<number> =>
      metricValue(await operator.metrics(), 'vigil_watch_restarts_total', { kind: 'Pod', reason: 'stalled' });

    // A busy watch is never taken for a stalled one.
    await sleep(2 * TIMEOUT_S * 1000);
    expect(await stalledPods(), 'stalled restarts of the busy Pod watch before the stall').to.equal(0);

    p.stall();
    const t0 = Date.now();
    k.apply(podYaml('during-stall', 'f3-a', { privileged: true }));
    const detected = await eventually(
      'stalled restart of the Pod watch',
      async () => (await stalledPods()) >= 1,
      60_000,
    );
    measured(`stall detected (inactivity timeout ${TIMEOUT_S} s)`, detected.ms);
    expect(detected.ms).to.be.lessThan((TIMEOUT_S + 5) * 1000);
    const lines = logLines(operator.logFile, /Watch stalled/);
    expect(
      lines.some((l) => l['kind'] === 'Pod' && l['level'] === 'warn'),
      'a "Watch stalled" warning for Pods',
    ).to.equal(true);
    // Nothing gets through while stalled.
    expect(k.report('f3-a', 'pod-during-stall')).to.equal(undefined);

    await sleep(3000);
    p.resume();
    const t1 = Date.now();
    const during = await eventually(
      'report for the pod created during the stall',
      () => k.report('f3-a', 'pod-during-stall'),
      60_000,
    );
    measured('change made during the stall reflected after un-stalling', during.ms);
    k.apply(podYaml('after-stall', 'f3-a', { privileged: true }));
    const after = await eventually(
      'report for a pod created after the stall',
      () => k.report('f3-a', 'pod-after-stall'),
      30_000,
    );
    measured('change after un-stalling reflected', after.ms);
    const conv = await expectConverged(k, NS, 60_000);
    measured('stall → reports equal the truth (from un-stall)', Date.now() - t1);
    expect(conv).to.be.lessThan(60_000);
    expect(Date.now() - t0).to.be.lessThan(120_000);
  });
});
