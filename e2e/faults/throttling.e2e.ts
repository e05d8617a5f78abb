/**
 * Fault 6: 429 throttling. A control plane of its own with APF off and tiny
 * in-flight limits (3 requests, 1 mutating) answers much of the traffic with
 * 429 Too Many Requests. About 200 offending pods are created at once, from
 * several clients: Vigil must back off (Retry-After, rate-limited retries),
 * catch up, and lose nothing — every offender has its report in the end and
 * the reports equal the truth.
 */
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { ControlPlane } from '../controlplane/controlplane.ts';
import { startOperator, type OperatorProcess } from '../operator/process.ts';
import {
  FULL,
  Kube,
  apiRequest,
  eventually,
  sleep,
  expectConverged,
  listYaml,
  logLines,
  makeUser,
  type ClientIdentity,
  measured,
  metricValue,
  podYaml,
  policyYaml,
} from './lib.ts';

const NS = ['f6-a'];
const PODS = FULL ? 400 : 200;
const CLIENTS = 4;
const NOISE = 8;

describe('fault: 429 throttling from a loaded API server', function () {
  this.timeout(600_000);
  let cp: ControlPlane | undefined;
  let k: Kube;
  let op: OperatorProcess | undefined;
  let load: ClientIdentity;

  before(async () => {
    cp = await ControlPlane.start({
      apiServerFlags: [
        '--enable-priority-and-fairness=false',
        '--max-requests-inflight=3',
        '--max-mutating-requests-inflight=1',
      ],
    });
    k = new Kube(cp);
    k.installCrds();
    for (const ns of ['vigil-system', ...NS]) k.ensureNamespace(ns);
    k.apply(policyYaml('f6', NS));
    // Neither Vigil nor the load may be system:masters: the API server exempts that group from its limits.
    const vigil = makeUser(cp, 'vigil-operator');
    load = makeUser(cp, 'load');
    op = await startOperator({ kubeconfig: vigil.kubeconfig });
  });

  after(async () => {
    const code = await op?.stop();
    await cp?.stop();
    expect(code, 'operator exit code after SIGTERM').to.equal(0);
  });

  it(`reports all ${PODS} offenders in the end, backing off on 429s`, async () => {
    const plane = cp as ControlPlane;
    const operator = op as OperatorProcess;
    // Background load that keeps the in-flight slots busy (mutating and read-only), so Vigil's
    // own writes meet 429s too.
    for (let i = 0; i < NOISE; i++)
      k.apply(`apiVersion: v1\nkind: ConfigMap\nmetadata: {name: noise-${i}, namespace: f6-a}\n`);
    let noisy = true;
    const seen = { ok: 0, throttled: 0 };
    const noise = Array.from({ length: NOISE }, async (_, i) => {
      for (let n = 0; noisy; n++) {
        const r =
          n % 2 === 0
            ? await apiRequest(plane, 'PATCH', `/api/v1/namespaces/f6-a/configmaps/noise-${i}`, {
                data: { n: String(n) },
              })
            : await apiRequest(plane, 'GET', '/api/v1/pods?limit=500', undefined, undefined, load);
        if (r.status === 429) seen.throttled++;
        else seen.ok++;
        if (r.status === 429) await sleep(50);
      }
    });
    const t0 = Date.now();
    // Several clients at once, like a rollout (as system:masters, so the creates themselves get through).
    const per = Math.ceil(PODS / CLIENTS);
    await Promise.all(
      Array.from({ length: CLIENTS }, (_, c) => {
        const docs = Array.from({ length: per }, (_, i) => c * per + i)
          .filter((i) => i < PODS)
          .map((i) => podYaml(`p-${i}`, 'f6-a', { privileged: true }));
        return new Promise<void>((res, rej) => {
          const child = spawn(plane.kubectlPath, ['--kubeconfig', plane.kubeconfig, 'apply', '-f', '-'], {
            stdio: ['pipe', 'ignore', 'pipe'],
          });
          let err = '';
          child.stderr.on('data', (d: Buffer) => (err += d.toString()));
          child.on('exit', (code) => (code === 0 ? res() : rej(new Error(`kubectl apply: ${err}`))));
          child.stdin.end(listYaml(docs));
        });
      }),
    );
    measured(`${PODS} pods created by ${CLIENTS} clients`, Date.now() - t0);
    const all = await eventually(
      `${PODS} reports`,
      () => {
        const r = k.try(['get', 'scanreports', '-n', 'f6-a', '-o', 'name']);
        return r.ok && r.stdout.trim().split('\n').length >= PODS ? true : undefined;
      },
      300_000,
      2000,
    );
    measured(`every offender reported (from the first create, under load)`, Date.now() - t0);
    expect(all.value).to.equal(true);
    noisy = false;
    await Promise.all(noise);
    console.log(`      background load: ${seen.ok} requests served, ${seen.throttled} answered 429`);
    expect(seen.throttled, 'the API server did throttle').to.be.greaterThan(0);
    await expectConverged(k, NS, 120_000);
    measured('reports equal the truth', Date.now() - t0);

    const text = await operator.metrics();
    // Report writes run in the scanreport controller, evaluation in the subject controller.
    const errors =
      metricValue(text, 'controller_runtime_reconcile_errors_total', { controller: 'subject' }) +
      metricValue(text, 'controller_runtime_reconcile_errors_total', { controller: 'scanreport' });
    const throttled429 = logLines(operator.logFile, /429|TooManyRequests/).length;
    const watchThrottled = metricValue(text, 'vigil_watch_restarts_total', { reason: 'throttled' });
    console.log(
      `      reconcile errors (retried): ${errors}; log lines naming 429: ${throttled429}; throttled watch restarts: ${watchThrottled}`,
    );
    expect(errors + watchThrottled, 'Vigil itself met 429s (and retried)').to.be.greaterThan(0);
    expect(operator.child.exitCode).to.equal(null);
  });
});
