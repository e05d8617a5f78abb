/**
 * Fault 4: a second writer edits the same ScanReports while the operator
 * updates them. The other writer patches the findings (ScanReports have no
 * status subresource: the report is one object) and labels and also tries
 * optimistic-concurrency updates (PUT with a resourceVersion, which meet 409
 * Conflict whenever the operator wrote in between). Vigil writes with
 * server-side apply (force), so it never meets a conflict itself; what
 * matters is that the final state is right: the reports equal `vigil scan`'s
 * findings once the other writer stops.
 */
import { expect } from 'chai';
import { cluster } from '../harness.ts';
import { startOperator, type OperatorProcess } from '../operator/process.ts';
import {
  FULL,
  Kube,
  apiRequest,
  cleanup,
  expectConverged,
  measured,
  metricValue,
  policyYaml,
  sleep,
  type Report,
} from './lib.ts';

const NS = ['f4-a'];

const deployment = (name: string, i: number): string => `apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}, namespace: f4-a}
spec:
  replicas: 0
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec:
      hostNetwork: ${i % 2 === 0}
      containers:
      - name: app
        image: registry.example/app:1.${i}
        securityContext: {privileged: ${i % 3 === 0}, runAsUser: ${i % 4 === 0 ? 0 : 1000}}
`;

describe('fault: concurrent writers on ScanReports (409s for the other writer)', function () {
  this.timeout(240_000);
  let k: Kube;
  let op: OperatorProcess | undefined;

  before(async () => {
    k = new Kube(cluster());
    k.installCrds();
    for (const ns of ['vigil-system', ...NS]) k.ensureNamespace(ns);
    k.apply(policyYaml('f4', NS));
    for (const d of ['web', 'api']) k.apply(deployment(d, 0));
    op = await startOperator({ kubeconfig: cluster().kubeconfig });
    await expectConverged(k, NS);
  });

  after(async () => {
    const code = await op?.stop();
    cleanup(k, ['f4'], NS);
    expect(code, 'operator exit code after SIGTERM').to.equal(0);
  });

  it('ends with reports equal to the truth while another writer fights over them', async () => {
    const cp = cluster();
    const durationMs = FULL ? 60_000 : 15_000;
    let stop = false;
    const stats = { patches: 0, puts: 0, conflicts: 0 };
    const base = '/apis/security.vigil.dev/v1alpha1/namespaces/f4-a/scanreports';
    const writer = async (name: string): Promise<void> => {
      while (!stop) {
        const r = await apiRequest(cp, 'PATCH', `${base}/${name}`, {
          status: { summary: { critical: 0, high: 0, medium: 0, low: 0, info: 0 }, findings: [] },
        });
        if (r.status === 200) stats.patches++;
        await apiRequest(cp, 'PATCH', `${base}/${name}`, {
          metadata: { labels: { 'app.kubernetes.io/managed-by': 'someone-else' } },
        });
        // Optimistic concurrency: read, wait a little, write back with the old resourceVersion.
        const got = await apiRequest(cp, 'GET', `${base}/${name}`);
        if (got.status === 200) {
          const obj = JSON.parse(got.body) as Report;
          await sleep(50);
          (obj.status ??= {}).findings = [];
          const put = await apiRequest(cp, 'PUT', `${base}/${name}`, obj, 'application/json');
          if (put.status === 409) stats.conflicts++;
          else if (put.status === 200) stats.puts++;
        }
        await sleep(20);
      }
    };
    const writers = [writer('deployment-web'), writer('deployment-api')];
    const t0 = Date.now();
    for (let i = 1; Date.now() - t0 < durationMs; i++) {
      k.apply(deployment(i % 2 === 0 ? 'web' : 'api', i));
      await sleep(500);
    }
    stop = true;
    await Promise.all(writers);
    const t1 = Date.now();
    const conv = await expectConverged(k, NS, 30_000);
    measured('other writer stopped → reports equal the truth', Date.now() - t1);
    console.log(
      `      other writer: ${stats.patches} status patches, ${stats.puts} updates, ${stats.conflicts} 409 Conflicts`,
    );
    expect(conv).to.be.lessThan(30_000);
    expect(stats.patches).to.be.greaterThan(5);
    for (const r of k.reports('f4-a'))
      expect(r.metadata.labels?.['app.kubernetes.io/managed-by']).to.equal('vigil');
    const text = await (op as OperatorProcess).metrics();
    for (const controller of ['subject', 'scanreport'])
      expect(
        metricValue(text, 'controller_runtime_reconcile_errors_total', { controller }),
        `${controller} reconcile errors`,
      ).to.equal(0);
  });
});
