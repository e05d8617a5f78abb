/**
 * Vigil's alerting end to end, with real servers on loopback: Debian's
 * Prometheus (scrape and rule evaluation every second) and Alertmanager
 * (group_wait 1 s, send_resolved) deliver to a webhook this test runs.
 *
 * 1. Plumbing: Prometheus scrapes a metrics server built from Vigil's metrics
 *    module; every rule loads, every dashboard query evaluates, and a critical
 *    finding set through the module is delivered, then resolved.
 * 2. The real operator (`vigil operator`) on the harness's control plane: a
 *    privileged Pod in a namespace a SecurityPolicy matches makes
 *    VigilCriticalFinding fire in Prometheus and reach the webhook; deleting
 *    the Pod resolves it. The delay from the violation to the delivery is printed.
 *
 * The rules are rendered with the test-only `for:` override "0s"
 * (renderPlainRules(…, { forOverride: '0s' }), the same as
 * `node scripts/render-alert-rules.ts --out F --for-override 0s`), so no alert
 * waits out a production hold time. VigilCriticalFinding has no `for:` anyway.
 *
 * Needs `prometheus` and `prometheus-alertmanager` (bash scripts/setup.sh prometheus).
 */
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cluster } from '../harness.ts';
import { REPO_ROOT, freePort, waitFor } from '../controlplane/controlplane.ts';
import {
  alertsOf,
  parsePrometheusRule,
  renderPlainRules,
} from '../../operator/src/observability/alert-rules.ts';
import { createMetrics, startMetricsServer } from '../../operator/src/observability/metrics.ts';
import { AlertingStack } from './stack.ts';

const RULE_SOURCE = readFileSync(join(REPO_ROOT, 'config', 'prometheus', 'prometheus-rule.yaml'), 'utf8');
const TEST_RULES = renderPlainRules(RULE_SOURCE, { forOverride: '0s', source: 'prometheus-rule.yaml (e2e)' });

/** Dashboard PromQL with Grafana's variables replaced by match-all values. */
function dashboardQueries(): { title: string; expr: string }[] {
  interface P {
    title?: string;
    targets?: { expr?: string }[];
    panels?: P[];
  }
  const d = JSON.parse(readFileSync(join(REPO_ROOT, 'manifests', 'grafana-dashboard.json'), 'utf8')) as {
    panels: P[];
  };
  const flat = (ps: P[]): P[] => ps.flatMap((p) => [p, ...flat(p.panels ?? [])]);
  return flat(d.panels).flatMap((p) =>
    (p.targets ?? []).map((t) => ({
      title: p.title ?? '',
      expr: (t.expr ?? '')
        .replaceAll('$__rate_interval', '1m')
        .replace(/\$\{?(job|policy|namespace)\}?/g, '.*'),
    })),
  );
}

describe('alerting: Prometheus and Alertmanager on loopback', function () {
  describe('plumbing, with a metrics server built from the metrics module', () => {
    let stack: AlertingStack;
    let server: Server;
    const metrics = createMetrics({ ruleLabel: false, version: 'e2e' });

    before(async () => {
      metrics.registerPolicy('plumbing');
      metrics.registerWatch('Pod');
      metrics.registerController('subject', 2);
      metrics.workQueueMetrics('subjects', 'subject');
      const s = await startMetricsServer('127.0.0.1:0', metrics.registry);
      if (!s) throw new Error('metrics server disabled');
      server = s;
      stack = await AlertingStack.start({
        targets: [`127.0.0.1:${(server.address() as AddressInfo).port}`],
        rules: TEST_RULES,
      });
      await waitFor(
        'the metrics target to be scraped',
        async () => (await stack.query('up{job="vigil"} == 1')).length === 1,
        30_000,
      );
    });

    after(async () => {
      await stack?.stop();
      await new Promise((r) => server?.close(r));
    });

    it('loads every alert rule', async () => {
      const data = await stack.promApi<{ groups: { rules: { name: string; health: string }[] }[] }>(
        '/api/v1/rules',
      );
      const loaded = data.groups.flatMap((g) => g.rules);
      const want = alertsOf(parsePrometheusRule(RULE_SOURCE)).map((a) => a.alert);
      expect(loaded.map((r) => r.name)).to.have.members(want);
      await waitFor(
        'every rule evaluated without error',
        async () => {
          const d = await stack.promApi<{ groups: { rules: { name: string; health: string }[] }[] }>(
            '/api/v1/rules',
          );
          return d.groups.flatMap((g) => g.rules).every((r) => r.health === 'ok');
        },
        15_000,
      );
    });

    it('evaluates every dashboard query without error', async () => {
      for (const q of dashboardQueries()) {
        await stack.query(q.expr).catch((e: unknown) => {
          throw new Error(`dashboard panel "${q.title}": ${String(e)}`);
        });
      }
    });

    it('delivers a critical finding to the webhook and then its resolution', async () => {
      const labels = { alertname: 'VigilCriticalFinding', policy: 'plumbing', namespace: 'team-a' };
      const t0 = Date.now();
      metrics.setFindings('plumbing', [
        { severity: 'critical', namespace: 'team-a', category: 'pod-security', count: 1 },
      ]);
      await waitFor(
        'the firing notification',
        () => Promise.resolve(stack.delivered('firing', labels).length > 0),
        30_000,
      );
      const fired = stack.delivered('firing', labels)[0];
      const alert = fired?.alerts.find((a) => a.labels.alertname === 'VigilCriticalFinding');
      expect(alert?.labels.severity).to.equal('critical');
      expect(alert?.annotations.runbook_url).to.match(/docs\/runbooks\/VigilCriticalFinding\.md$/);
      const t1 = Date.now();
      metrics.setFindings('plumbing', []);
      await waitFor(
        'the resolved notification',
        () => Promise.resolve(stack.delivered('resolved', labels).length > 0),
        30_000,
      );
      console.log(
        `      plumbing: metric set → webhook firing ${((fired?.receivedAt ?? 0) - t0) / 1000} s; cleared → resolved ${((stack.delivered('resolved', labels)[0]?.receivedAt ?? 0) - t1) / 1000} s`,
      );
    });
  });

  describe('against the real operator on a real control plane', () => {
    const NS = 'alerting-e2e';
    /** The operator's own namespace (reports about cluster-scoped subjects): not vigil-system, which other suites own. */
    const OP_NS = 'alerting-e2e-vigil';
    const POLICY = 'alerting-e2e';
    let stack: AlertingStack;
    let operator: ChildProcess | undefined;
    let logDir = '';
    const opLog = (): string =>
      `\n--- last lines of operator.log ---\n${readFileSync(join(logDir, 'operator.log'), 'utf8').split('\n').slice(-30).join('\n')}`;

    before(async () => {
      const k = cluster();
      k.installCrds();
      k.kubectl(
        ['apply', '-f', '-'],
        `apiVersion: v1
kind: Namespace
metadata:
  name: ${OP_NS}
---
apiVersion: v1
kind: Namespace
metadata:
  name: ${NS}
---
apiVersion: security.vigil.dev/v1alpha1
kind: SecurityPolicy
metadata:
  name: ${POLICY}
spec:
  profile: pss-baseline
  match:
    namespaces: [${NS}]
`,
      );
      const metricsPort = await freePort();
      const probePort = await freePort();
      logDir = mkdtempSync(join(tmpdir(), 'vigil-alerting-op-'));
      const log = openSync(join(logDir, 'operator.log'), 'a');
      operator = spawn(
        process.execPath,
        [
          join(REPO_ROOT, 'bin', 'vigil.js'),
          'operator',
          '--kubeconfig',
          k.kubeconfig,
          '--namespace',
          OP_NS,
          '--metrics-bind-address',
          `127.0.0.1:${metricsPort}`,
          '--health-probe-bind-address',
          `127.0.0.1:${probePort}`,
          '--log-format',
          'text',
        ],
        { stdio: ['ignore', log, log], cwd: REPO_ROOT },
      );
      const op = operator;
      await waitFor(
        'the operator to be ready',
        async () => {
          if (op.exitCode !== null) throw new Error(`operator exited (code ${op.exitCode})`);
          return (await fetch(`http://127.0.0.1:${probePort}/readyz`)).ok;
        },
        60_000,
        opLog,
      );
      stack = await AlertingStack.start({ targets: [`127.0.0.1:${metricsPort}`], rules: TEST_RULES });
      await waitFor(
        'Prometheus to see the policy (Ready) on the operator',
        async () => (await stack.query(`vigil_policy_ready{policy="${POLICY}"} == 1`)).length === 1,
        60_000,
        opLog,
      );
    });

    after(async () => {
      // Remove what this suite created while the operator still runs, then stop everything.
      try {
        cluster().kubectl([
          'delete',
          'securitypolicy',
          POLICY,
          '--ignore-not-found',
          '--wait=true',
          '--timeout=60s',
        ]);
        cluster().kubectl([
          'delete',
          'namespace',
          NS,
          OP_NS,
          '--ignore-not-found',
          '--wait=true',
          '--timeout=120s',
        ]);
      } catch (e) {
        console.log(`      cleanup: ${String(e)}`);
      }
      await stack?.stop();
      const op = operator;
      if (op && op.exitCode === null) {
        await new Promise<void>((resolve) => {
          const t = setTimeout(() => op.kill('SIGKILL'), 10_000);
          op.once('exit', () => {
            clearTimeout(t);
            resolve();
          });
          op.kill('SIGTERM');
        });
      }
      if (logDir) rmSync(logDir, { recursive: true, force: true });
    });

    it('a privileged Pod fires VigilCriticalFinding through Alertmanager; deleting it resolves the alert', async () => {
      const k = cluster();
      const labels = { alertname: 'VigilCriticalFinding', policy: POLICY, namespace: NS };
      const pod = `apiVersion: v1
kind: Pod
metadata:
  name: privileged
  namespace: ${NS}
spec:
  automountServiceAccountToken: false
  containers:
    - name: app
      image: registry.k8s.io/pause:3.10
      securityContext:
        privileged: true
`;
      // The namespace's default ServiceAccount appears shortly after the namespace.
      let t0 = 0;
      await waitFor(
        'the privileged Pod to be created',
        () => {
          t0 = Date.now();
          k.kubectl(['apply', '-f', '-'], pod);
          return Promise.resolve(true);
        },
        30_000,
      );

      await waitFor(
        'VigilCriticalFinding to be delivered to the webhook',
        () => Promise.resolve(stack.delivered('firing', labels).length > 0),
        60_000,
        () => `${opLog()}${stack.logTail('prometheus')}${stack.logTail('alertmanager')}`,
      );
      const delivered = stack.delivered('firing', labels)[0];
      const delay = ((delivered?.receivedAt ?? 0) - t0) / 1000;
      const firing = (await stack.alerts()).filter(
        (a) =>
          a.state === 'firing' && a.labels.alertname === 'VigilCriticalFinding' && a.labels.namespace === NS,
      );
      expect(firing.map((a) => a.labels.category)).to.include('pod-security');
      const alert = delivered?.alerts.find((a) => a.labels.alertname === 'VigilCriticalFinding');
      expect(alert?.labels.severity).to.equal('critical');
      expect(alert?.annotations.summary).to.contain(NS);

      const t1 = Date.now();
      k.kubectl(['delete', 'pod', 'privileged', '-n', NS, '--wait=true']);
      await waitFor(
        'the resolved notification',
        () => Promise.resolve(stack.delivered('resolved', labels).length > 0),
        60_000,
        () => `${opLog()}${stack.logTail('prometheus')}`,
      );
      const resolvedDelay = ((stack.delivered('resolved', labels)[0]?.receivedAt ?? 0) - t1) / 1000;
      console.log(
        `      operator: violation → Alertmanager webhook ${delay.toFixed(2)} s; fix → resolved notification ${resolvedDelay.toFixed(2)} s`,
      );
      expect(delay).to.be.lessThan(60);
    });
  });
});
