import { expect } from 'chai';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CATEGORIES, SEVERITIES } from '../engine/types.ts';
import type { Finding } from '../engine/types.ts';
import { TerminalError } from '../controller/errors.ts';
import { ItemExponentialRateLimiter } from '../controller/rate-limiter.ts';
import { FakeClock, flush } from '../controller/testing/fake-clock.ts';
import { WorkQueue } from '../controller/workqueue.ts';
import { parseExposition } from './exposition.ts';
import type { Sample } from './exposition.ts';
import {
  CLUSTER_NAMESPACE,
  OVERFLOW_NAMESPACE,
  createMetrics,
  parseBindAddress,
  startMetricsServer,
  tallyFindings,
} from './metrics.ts';
import type { MetricsOptions, VigilMetrics } from './metrics.ts';

/** The zero baseline of vigil_findings per policy: one series per severity and category (50). */
const BASELINE = SEVERITIES.length * CATEGORIES.length;

async function scrape(m: VigilMetrics): Promise<Sample[]> {
  return parseExposition(await m.registry.metrics()).samples;
}

function series(samples: Sample[], name: string, match: Record<string, string> = {}): Sample[] {
  return samples.filter((s) => s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v));
}

function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const found = series(samples, name, labels);
  if (found.length > 1) throw new Error(`${name} ${JSON.stringify(labels)} matches ${found.length} series`);
  return found[0]?.value;
}

function make(opts: Partial<MetricsOptions> = {}): VigilMetrics {
  return createMetrics({ ruleLabel: false, defaultMetrics: false, ...opts });
}

function finding(
  ruleId: string,
  severity: Finding['severity'],
  category: Finding['category'],
  namespace: string | undefined,
  name: string,
): Finding {
  return {
    ruleId,
    title: 't',
    severity,
    category,
    controls: [],
    resource: { apiVersion: 'v1', kind: 'Pod', name, ...(namespace ? { namespace } : {}) },
    container: 'secret-sidecar',
    message: `container "secret-sidecar" of ${name} sets securityContext.privileged=true`,
    remediation: 'r',
  };
}

describe('observability/metrics', () => {
  describe('initialisation', () => {
    it('exports the fixed series, build info and process metrics from the first scrape', async () => {
      const m = createMetrics({ ruleLabel: false, version: '1.2.3' });
      const s = await scrape(m);
      expect(value(s, 'vigil_build_info', { version: '1.2.3', node_version: process.version })).to.equal(1);
      for (const name of [
        'vigil_reports_written_total',
        'vigil_report_writes_skipped_total',
        'vigil_reports_truncated_total',
        'vigil_events_dropped_total',
        'vigil_time_to_finding_seconds_count',
        'vigil_leader',
      ]) {
        expect(series(s, name), name).to.have.length(1);
      }
      expect(value(s, 'leader_election_master_status', { name: 'vigil-leader' })).to.equal(1);
      expect(value(s, 'vigil_last_full_evaluation_timestamp_seconds')).to.be.greaterThan(1.7e9);
      expect(series(s, 'process_cpu_user_seconds_total')).to.have.length(1);
      expect(series(s, 'nodejs_heap_size_used_bytes')).to.have.length(1);
    });

    it('initialises severities × categories at _cluster, ready, errors and expiring when a policy is registered', async () => {
      const m = make();
      m.registerPolicy('baseline');
      m.registerPolicy('baseline'); // idempotent
      const s = await scrape(m);
      const f = series(s, 'vigil_findings', { policy: 'baseline' });
      expect(f).to.have.length(SEVERITIES.length * CATEGORIES.length);
      for (const sev of SEVERITIES) {
        for (const cat of CATEGORIES) {
          expect(
            value(s, 'vigil_findings', { severity: sev, category: cat, namespace: CLUSTER_NAMESPACE }),
          ).to.equal(0);
        }
      }
      expect(value(s, 'vigil_policy_ready', { policy: 'baseline' })).to.equal(0);
      expect(value(s, 'vigil_policy_errors', { policy: 'baseline' })).to.equal(0);
      expect(value(s, 'vigil_exceptions_expiring', { policy: 'baseline' })).to.equal(0);
    });

    it('initialises every watch restart reason and the event age when a kind is registered', async () => {
      const clock = new FakeClock();
      const m = make({ now: () => clock.now() });
      m.registerWatch('Pod');
      await clock.advance(30_000);
      const s = await scrape(m);
      expect(
        series(s, 'vigil_watch_restarts_total', { kind: 'Pod' }).map((x) => x.labels.reason),
      ).to.have.members(['closed', 'expired', 'error', 'stalled', 'throttled']);
      expect(value(s, 'vigil_watch_last_event_age_seconds', { kind: 'Pod' })).to.equal(30);
    });

    it("initialises controller-runtime's reconcile and work-queue series", async () => {
      const m = make();
      m.registerController('scanreports', 4);
      m.workQueueMetrics('scanreports');
      const s = await scrape(m);
      expect(
        series(s, 'controller_runtime_reconcile_total', { controller: 'scanreports' }).map(
          (x) => x.labels.result,
        ),
      ).to.have.members(['success', 'error', 'requeue', 'requeue_after']);
      expect(value(s, 'controller_runtime_reconcile_errors_total', { controller: 'scanreports' })).to.equal(
        0,
      );
      expect(
        value(s, 'controller_runtime_max_concurrent_reconciles', { controller: 'scanreports' }),
      ).to.equal(4);
      expect(value(s, 'controller_runtime_active_workers', { controller: 'scanreports' })).to.equal(0);
      expect(
        value(s, 'controller_runtime_reconcile_time_seconds_count', { controller: 'scanreports' }),
      ).to.equal(0);
      const q = { name: 'scanreports', controller: 'scanreports' };
      expect(value(s, 'workqueue_depth', q)).to.equal(0);
      expect(value(s, 'workqueue_adds_total', q)).to.equal(0);
      expect(value(s, 'workqueue_retries_total', q)).to.equal(0);
      expect(value(s, 'workqueue_queue_duration_seconds_count', q)).to.equal(0);
      expect(value(s, 'workqueue_work_duration_seconds_count', q)).to.equal(0);
    });

    it('initialises a CVE at 0 for the control plane and nodes', async () => {
      const m = make();
      m.registerCve('CVE-2025-1974');
      m.setClusterVulnerable('CVE-2024-10220', true, 'node');
      const s = await scrape(m);
      expect(
        series(s, 'vigil_cluster_vulnerable', { cve: 'CVE-2025-1974' }).map((x) => x.value),
      ).to.deep.equal([0, 0]);
      expect(value(s, 'vigil_cluster_vulnerable', { cve: 'CVE-2024-10220', component: 'node' })).to.equal(1);
      expect(
        value(s, 'vigil_cluster_vulnerable', { cve: 'CVE-2024-10220', component: 'control-plane' }),
      ).to.equal(0);
    });
    it('setClusterVulnerabilities replaces the whole picture: an upgrade clears what is no longer listed', async () => {
      const m = make();
      m.setClusterVulnerabilities([
        { cve: 'CVE-2025-1974', component: 'control-plane' },
        { cve: 'CVE-2024-10220', component: 'node' },
      ]);
      let s = await scrape(m);
      expect(
        value(s, 'vigil_cluster_vulnerable', { cve: 'CVE-2025-1974', component: 'control-plane' }),
      ).to.equal(1);
      expect(value(s, 'vigil_cluster_vulnerable', { cve: 'CVE-2024-10220', component: 'node' })).to.equal(1);
      m.setClusterVulnerabilities([{ cve: 'CVE-2024-10220', component: 'node' }]);
      s = await scrape(m);
      expect(
        value(s, 'vigil_cluster_vulnerable', { cve: 'CVE-2025-1974', component: 'control-plane' }),
      ).to.equal(0);
      expect(value(s, 'vigil_cluster_vulnerable', { cve: 'CVE-2024-10220', component: 'node' })).to.equal(1);
      expect(() =>
        m.setClusterVulnerabilities([
          { cve: 'CVE-2024-10220', component: 'node' },
          { cve: 'nope', component: 'node' },
        ]),
      ).to.throw(RangeError);
      m.setClusterVulnerabilities([]);
      s = await scrape(m);
      expect(series(s, 'vigil_cluster_vulnerable').every((x) => x.value === 0)).to.equal(true);
    });
  });

  describe('setFindings', () => {
    it('replaces the whole set for a policy: vanished namespaced label sets are removed, the baseline goes to 0', async () => {
      const m = make();
      m.setFindings('baseline', [
        { severity: 'critical', namespace: 'team-a', category: 'pod-security', count: 2 },
        { severity: 'high', namespace: 'team-b', category: 'workload', count: 3 },
        { severity: 'high', category: 'rbac', count: 1 }, // cluster-scoped
      ]);
      m.setFindings('other', [{ severity: 'low', namespace: 'team-a', category: 'workload', count: 7 }]);
      let s = await scrape(m);
      expect(
        value(s, 'vigil_findings', { policy: 'baseline', namespace: 'team-a', severity: 'critical' }),
      ).to.equal(2);
      expect(
        value(s, 'vigil_findings', { policy: 'baseline', namespace: 'team-b', severity: 'high' }),
      ).to.equal(3);
      expect(
        value(s, 'vigil_findings', {
          policy: 'baseline',
          namespace: CLUSTER_NAMESPACE,
          severity: 'high',
          category: 'rbac',
        }),
      ).to.equal(1);

      m.setFindings('baseline', [{ severity: 'high', namespace: 'team-b', category: 'workload', count: 1 }]);
      s = await scrape(m);
      expect(series(s, 'vigil_findings', { policy: 'baseline', namespace: 'team-a' })).to.have.length(0);
      expect(
        value(s, 'vigil_findings', { policy: 'baseline', namespace: 'team-b', severity: 'high' }),
      ).to.equal(1);
      expect(
        value(s, 'vigil_findings', {
          policy: 'baseline',
          namespace: CLUSTER_NAMESPACE,
          severity: 'high',
          category: 'rbac',
        }),
      ).to.equal(0);
      // Other policies are untouched.
      expect(value(s, 'vigil_findings', { policy: 'other', namespace: 'team-a', severity: 'low' })).to.equal(
        7,
      );

      m.setFindings('baseline', []);
      s = await scrape(m);
      const nonBaseline = series(s, 'vigil_findings', { policy: 'baseline' }).filter(
        (x) => x.labels.namespace !== CLUSTER_NAMESPACE,
      );
      expect(nonBaseline).to.have.length(0);
      expect(series(s, 'vigil_findings', { policy: 'baseline' }).every((x) => x.value === 0)).to.equal(true);
    });

    it('accepts a map keyed severity|namespace|category and sums duplicate cells', async () => {
      const m = make();
      m.setFindings(
        'p',
        new Map([
          ['critical|team-a|pod-security', 1],
          ['critical|team-a|pod-security|pss-privileged', 2],
          ['medium||workload', 4],
        ]),
      );
      const s = await scrape(m);
      expect(value(s, 'vigil_findings', { namespace: 'team-a', severity: 'critical' })).to.equal(3);
      expect(
        value(s, 'vigil_findings', {
          namespace: CLUSTER_NAMESPACE,
          severity: 'medium',
          category: 'workload',
        }),
      ).to.equal(4);
    });

    it('rejects unknown severities, categories, bad namespaces and rule ids without changing anything', async () => {
      const m = make({ ruleLabel: true });
      m.setFindings('p', [{ severity: 'high', namespace: 'ns', category: 'rbac', rule: 'x', count: 1 }]);
      const bad: unknown[] = [
        { severity: 'severe', namespace: 'ns', category: 'rbac', count: 1 },
        { severity: 'high', namespace: 'ns', category: 'cats', count: 1 },
        { severity: 'high', namespace: 'Not_A_Namespace', category: 'rbac', count: 1 },
        { severity: 'high', namespace: 'ns', category: 'rbac', rule: 'Pod my-pod', count: 1 },
      ];
      for (const b of bad) {
        expect(() =>
          m.setFindings('p', [{ severity: 'low', namespace: 'ok', category: 'rbac', count: 1 }, b as never]),
        ).to.throw(RangeError);
      }
      expect(() => m.setFindings('Bad Policy', [])).to.throw(RangeError);
      expect(() => m.setFindings('p', new Map([['high|ns', 1]]))).to.throw(RangeError);
      const s = await scrape(m);
      expect(value(s, 'vigil_findings', { namespace: 'ns', rule: 'x' })).to.equal(1);
      expect(series(s, 'vigil_findings', { namespace: 'ok' })).to.have.length(0);
    });

    it('ignores zero, negative and non-finite counts', async () => {
      const m = make();
      m.setFindings('p', [
        { severity: 'high', namespace: 'a', category: 'rbac', count: 0 },
        { severity: 'high', namespace: 'b', category: 'rbac', count: -3 },
        { severity: 'high', namespace: 'c', category: 'rbac', count: Number.NaN },
      ]);
      const s = await scrape(m);
      expect(
        series(s, 'vigil_findings').filter((x) => x.labels.namespace !== CLUSTER_NAMESPACE),
      ).to.have.length(0);
    });

    it('unregisterPolicy removes every series of the policy', async () => {
      const m = make();
      m.setFindings('gone', [{ severity: 'high', namespace: 'a', category: 'rbac', count: 1 }]);
      m.setPolicyReady('gone', true);
      m.unregisterPolicy('gone');
      const s = await scrape(m);
      for (const name of [
        'vigil_findings',
        'vigil_policy_ready',
        'vigil_policy_errors',
        'vigil_exceptions_expiring',
      ]) {
        expect(series(s, name, { policy: 'gone' }), name).to.have.length(0);
      }
    });

    it('exports only the zero baseline while this replica is a standby', async () => {
      const m = make({ leaderElection: true });
      m.setFindings('p', [
        { severity: 'critical', namespace: 'a', category: 'pod-security', count: 1 },
        { severity: 'high', category: 'rbac', count: 1 },
      ]);
      let s = await scrape(m);
      expect(value(s, 'vigil_leader')).to.equal(0);
      expect(series(s, 'vigil_findings')).to.have.length(BASELINE);
      expect(series(s, 'vigil_findings').every((x) => x.value === 0)).to.equal(true);
      m.setLeader(true);
      s = await scrape(m);
      expect(value(s, 'vigil_leader')).to.equal(1);
      expect(value(s, 'leader_election_master_status', { name: 'vigil-leader' })).to.equal(1);
      expect(value(s, 'vigil_findings', { namespace: 'a', severity: 'critical' })).to.equal(1);
    });

    it('folds series beyond maxFindingSeries into namespace _overflow, keeping totals exact', async () => {
      const m = make({ maxFindingSeries: 3 });
      m.setFindings(
        'p',
        ['a', 'b', 'c', 'd', 'e'].map((ns, i) => ({
          severity: 'high' as const,
          namespace: ns,
          category: 'workload' as const,
          count: i + 1,
        })),
      );
      const s = await scrape(m);
      const f = series(s, 'vigil_findings').filter((x) => x.labels.namespace !== CLUSTER_NAMESPACE);
      expect(f.map((x) => x.labels.namespace)).to.have.members(['a', 'b', 'c', OVERFLOW_NAMESPACE]);
      expect(value(s, 'vigil_findings', { namespace: OVERFLOW_NAMESPACE })).to.equal(4 + 5);
      expect(f.reduce((n, x) => n + x.value, 0)).to.equal(15);
    });
  });

  describe('rule label', () => {
    const findings = [
      finding('pss-privileged', 'critical', 'pod-security', 'team-a', 'payments-7d9f-abcde'),
      finding('pss-privileged', 'critical', 'pod-security', 'team-a', 'payments-7d9f-fghij'),
      finding('pss-host-namespaces', 'critical', 'pod-security', 'team-a', 'node-agent'),
      finding('rbac-wildcard', 'high', 'rbac', undefined, 'cluster-admin-copy'),
    ];

    it('is off by default: counts are summed over rules and no rule label is exported', async () => {
      const m = make();
      m.setFindings('p', tallyFindings(findings));
      const text = await m.registry.metrics();
      const s = parseExposition(text).samples;
      expect(text).not.to.contain('rule=');
      expect(value(s, 'vigil_findings', { namespace: 'team-a', severity: 'critical' })).to.equal(3);
      expect(
        value(s, 'vigil_findings', { namespace: CLUSTER_NAMESPACE, severity: 'high', category: 'rbac' }),
      ).to.equal(1);
    });

    it('adds the rule label when opted in', async () => {
      const m = make({ ruleLabel: true });
      m.setFindings('p', tallyFindings(findings));
      const s = await scrape(m);
      expect(value(s, 'vigil_findings', { namespace: 'team-a', rule: 'pss-privileged' })).to.equal(2);
      expect(value(s, 'vigil_findings', { namespace: 'team-a', rule: 'pss-host-namespaces' })).to.equal(1);
      expect(value(s, 'vigil_findings', { namespace: CLUSTER_NAMESPACE, rule: 'rbac-wildcard' })).to.equal(1);
      // The baseline stays, with an empty rule label.
      expect(series(s, 'vigil_findings', { rule: '' })).to.have.length(BASELINE);
    });

    for (const ruleLabel of [false, true]) {
      it(`never puts object, container or message text in labels (ruleLabel=${ruleLabel})`, async () => {
        const m = make({ ruleLabel });
        m.setFindings('p', tallyFindings(findings));
        m.registerWatch('Pod');
        m.registerController('scanreports');
        const s = await scrape(m);
        const allowed = new Set([
          'policy',
          'severity',
          'namespace',
          'category',
          'rule',
          'kind',
          'reason',
          'cve',
          'component',
          'controller',
          'name',
          'result',
          'le',
          'version',
          'node_version',
          'verb',
        ]);
        for (const x of s) {
          for (const [k, v] of Object.entries(x.labels)) {
            expect(allowed.has(k), `label ${k} on ${x.name}`).to.equal(true);
            for (const secret of [
              'payments',
              'node-agent',
              'cluster-admin-copy',
              'secret-sidecar',
              'privileged=',
            ]) {
              expect(v, `${x.name}{${k}}`).not.to.contain(secret);
            }
          }
        }
      });
    }
  });

  describe('reconcile and work-queue hooks', () => {
    it("maps outcomes to controller-runtime's results (terminal errors are errors too)", async () => {
      const m = make();
      m.reconcileResult('c', 'success', 0.01);
      m.reconcileResult('c', 'requeue_after', 0.02);
      m.reconcileResult('c', 'error', 0.03);
      m.reconcileResult('c', 'terminal_error', 0.04);
      const s = await scrape(m);
      expect(value(s, 'controller_runtime_reconcile_total', { controller: 'c', result: 'success' })).to.equal(
        1,
      );
      expect(
        value(s, 'controller_runtime_reconcile_total', { controller: 'c', result: 'requeue_after' }),
      ).to.equal(1);
      expect(value(s, 'controller_runtime_reconcile_total', { controller: 'c', result: 'error' })).to.equal(
        2,
      );
      expect(value(s, 'controller_runtime_reconcile_total', { controller: 'c', result: 'requeue' })).to.equal(
        0,
      );
      expect(value(s, 'controller_runtime_reconcile_errors_total', { controller: 'c' })).to.equal(2);
      expect(value(s, 'controller_runtime_terminal_reconcile_errors_total', { controller: 'c' })).to.equal(1);
      expect(value(s, 'controller_runtime_reconcile_time_seconds_count', { controller: 'c' })).to.equal(4);
    });

    it('records a real WorkQueue run: adds, retries, depth, durations, active workers, in-flight gauges', async () => {
      const clock = new FakeClock();
      const m = make({ now: () => clock.now() });
      const q = new WorkQueue({
        name: 'scanreports',
        clock,
        rateLimiter: new ItemExponentialRateLimiter({ baseMs: 5, maxMs: 1000 }),
        metrics: m.workQueueMetrics('scanreports'),
      });
      m.observeQueue('scanreports', q);
      let calls = 0;
      let release: () => void = () => undefined;
      const blocked = new Promise<void>((r) => (release = r));
      const run = q.runWorkers(
        1,
        async (key) => {
          calls++;
          if (key === 'bad') throw new Error('boom');
          if (key === 'fatal') throw new TerminalError('no');
          if (key === 'slow') await blocked;
        },
        m.reconcileHooks('scanreports'),
      );
      q.add('ok');
      q.add('bad');
      q.add('fatal');
      await flush();
      await clock.advance(5); // the retry of "bad"
      await flush();
      q.add('slow');
      await flush();
      await clock.advance(2000);
      let s = await scrape(m);
      const labels = { name: 'scanreports', controller: 'scanreports' };
      expect(value(s, 'workqueue_longest_running_processor_seconds', labels)).to.equal(2);
      expect(value(s, 'workqueue_unfinished_work_seconds', labels)).to.equal(2);
      expect(value(s, 'controller_runtime_active_workers', { controller: 'scanreports' })).to.equal(1);
      release();
      await flush();
      q.shutDown();
      await run;
      s = await scrape(m);
      expect(calls).to.be.greaterThanOrEqual(5);
      expect(value(s, 'workqueue_adds_total', labels)).to.be.greaterThanOrEqual(4);
      expect(value(s, 'workqueue_retries_total', labels)).to.be.greaterThanOrEqual(1);
      expect(value(s, 'workqueue_depth', labels)).to.equal(0);
      expect(value(s, 'workqueue_work_duration_seconds_count', labels)).to.equal(calls);
      expect(value(s, 'workqueue_queue_duration_seconds_count', labels)).to.equal(calls);
      expect(value(s, 'controller_runtime_reconcile_errors_total', { controller: 'scanreports' })).to.equal(
        calls - 2,
      );
      expect(
        value(s, 'controller_runtime_terminal_reconcile_errors_total', { controller: 'scanreports' }),
      ).to.equal(1);
      expect(value(s, 'controller_runtime_active_workers', { controller: 'scanreports' })).to.equal(0);
      expect(value(s, 'workqueue_longest_running_processor_seconds', labels)).to.equal(0);
    });
  });

  describe('watch health', () => {
    it('resets the age on any sign of life and counts restarts by reason', async () => {
      const clock = new FakeClock();
      const m = make({ now: () => clock.now() });
      m.registerWatch('Deployment');
      await clock.advance(90_000);
      m.watchEvent('Deployment');
      await clock.advance(10_000);
      m.watchRestart('Deployment', 'expired');
      m.watchRestart('Deployment', 'expired');
      m.watchEvent('Namespace'); // registers on first use
      const s = await scrape(m);
      expect(value(s, 'vigil_watch_last_event_age_seconds', { kind: 'Deployment' })).to.equal(10);
      expect(value(s, 'vigil_watch_last_event_age_seconds', { kind: 'Namespace' })).to.equal(0);
      expect(value(s, 'vigil_watch_restarts_total', { kind: 'Deployment', reason: 'expired' })).to.equal(2);
      expect(value(s, 'vigil_watch_restarts_total', { kind: 'Namespace', reason: 'stalled' })).to.equal(0);
      expect(() => m.watchEvent('pods/my-pod')).to.throw(RangeError);
      expect(() => m.watchRestart('Pod', 'bored' as never)).to.throw(RangeError);
    });
  });

  describe('other gauges and counters', () => {
    it('sets policy, exception, evaluation and report metrics', async () => {
      const clock = new FakeClock(Date.UTC(2030, 0, 1));
      const m = make({ now: () => clock.now() });
      m.setPolicyReady('p', true);
      m.setPolicyErrors('p', 2);
      m.setExceptionsExpiring('p', 3);
      m.observeTimeToFinding(0.7);
      m.reportWritten();
      m.reportWriteSkipped();
      m.reportWriteSkipped();
      m.reportTruncated();
      m.eventsDropped(5);
      m.fullEvaluationCompleted();
      const s = await scrape(m);
      expect(value(s, 'vigil_policy_ready', { policy: 'p' })).to.equal(1);
      expect(value(s, 'vigil_policy_errors', { policy: 'p' })).to.equal(2);
      expect(value(s, 'vigil_exceptions_expiring', { policy: 'p' })).to.equal(3);
      expect(value(s, 'vigil_time_to_finding_seconds_bucket', { le: '0.5' })).to.equal(0);
      expect(value(s, 'vigil_time_to_finding_seconds_bucket', { le: '1' })).to.equal(1);
      expect(value(s, 'vigil_reports_written_total')).to.equal(1);
      expect(value(s, 'vigil_report_writes_skipped_total')).to.equal(2);
      expect(value(s, 'vigil_reports_truncated_total')).to.equal(1);
      expect(value(s, 'vigil_events_dropped_total')).to.equal(5);
      expect(value(s, 'vigil_last_full_evaluation_timestamp_seconds')).to.equal(Date.UTC(2030, 0, 1) / 1000);
    });

    it('counts API requests by verb, every verb exported from the first scrape, unknown verbs as OTHER', async () => {
      const m = make();
      const s0 = await scrape(m);
      for (const verb of ['LIST', 'WATCH', 'GET', 'POST', 'PATCH', 'PUT', 'DELETE', 'OTHER'])
        expect(value(s0, 'vigil_api_requests_total', { verb }), verb).to.equal(0);
      m.apiRequest('PATCH');
      m.apiRequest('PATCH');
      m.apiRequest('list');
      m.apiRequest('CONNECT');
      const s = await scrape(m);
      expect(value(s, 'vigil_api_requests_total', { verb: 'PATCH' })).to.equal(2);
      expect(value(s, 'vigil_api_requests_total', { verb: 'LIST' })).to.equal(1);
      expect(value(s, 'vigil_api_requests_total', { verb: 'OTHER' })).to.equal(1);
      expect(value(s, 'vigil_api_requests_total', { verb: 'GET' })).to.equal(0);
      expect(series(s, 'vigil_api_requests_total')).to.have.length(8);
    });
  });

  describe('series bound', () => {
    /** Worst case: every policy has findings of every severity and category in every namespace. */
    function worstCase(p: number, n: number, ruleLabel: boolean): VigilMetrics {
      const m = make({ ruleLabel });
      for (let i = 0; i < p; i++) {
        const tallies = [];
        for (let j = 0; j <= n; j++) {
          for (const severity of SEVERITIES) {
            for (const category of CATEGORIES) {
              tallies.push({ severity, category, namespace: j === n ? '' : `ns-${j}`, rule: 'r', count: 1 });
            }
          }
        }
        m.setFindings(`policy-${i}`, tallies);
      }
      return m;
    }

    it('is P × severities × categories × (N + 1) findings series at worst, and P × severities × categories when clean', async () => {
      for (const [p, n] of [
        [1, 1],
        [3, 20],
      ] as const) {
        const s = await scrape(worstCase(p, n, false));
        expect(series(s, 'vigil_findings')).to.have.length(p * BASELINE * (n + 1));
        const clean = make();
        for (let i = 0; i < p; i++) clean.setFindings(`policy-${i}`, []);
        expect(series(await scrape(clean), 'vigil_findings')).to.have.length(p * BASELINE);
      }
    });

    it('with the rule label, adds the rule dimension on top of the baseline', async () => {
      const s = await scrape(worstCase(2, 3, true));
      expect(series(s, 'vigil_findings')).to.have.length(2 * BASELINE + 2 * BASELINE * 4);
    });
  });

  describe('HTTP', () => {
    it('a port in use rejects with the listen error (no unhandled error event); "0" starts nothing', async () => {
      const m = make();
      const first = await startMetricsServer('127.0.0.1:0', m.registry);
      if (!first) throw new Error('no server');
      const port = (first.address() as AddressInfo).port;
      try {
        let err: unknown;
        await startMetricsServer(`127.0.0.1:${port}`, m.registry).catch((e: unknown) => (err = e));
        expect((err as NodeJS.ErrnoException | undefined)?.code).to.equal('EADDRINUSE');
        expect(await startMetricsServer('0', m.registry)).to.equal(undefined);
      } finally {
        await new Promise((r) => first.close(r));
      }
    });

    it('serves /metrics with the Prometheus content type, 404 elsewhere, 405 for other methods', async () => {
      const m = make();
      m.registerPolicy('p');
      const server = await startMetricsServer('127.0.0.1:0', m.registry);
      if (!server) throw new Error('no server');
      const port = (server.address() as AddressInfo).port;
      const get = (path: string, method = 'GET'): Promise<{ status: number; type: string; body: string }> =>
        new Promise((resolve, reject) => {
          const req = request({ host: '127.0.0.1', port, path, method }, (res) => {
            let body = '';
            res.setEncoding('utf8');
            res.on('data', (c: string) => (body += c));
            res.on('end', () =>
              resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }),
            );
          });
          req.on('error', reject);
          req.end();
        });
      try {
        const ok = await get('/metrics');
        expect(ok.status).to.equal(200);
        expect(ok.type).to.match(/^text\/plain; version=0\.0\.4/);
        expect(ok.body).to.contain('vigil_policy_ready{policy="p"} 0');
        expect((await get('/metrics', 'HEAD')).body).to.equal('');
        expect((await get('/other')).status).to.equal(404);
        expect((await get('/metrics', 'POST')).status).to.equal(405);
      } finally {
        await new Promise((r) => server.close(r));
      }
    });

    it('parses controller-runtime style bind addresses', () => {
      expect(parseBindAddress('0')).to.equal(undefined);
      expect(parseBindAddress(':8080')).to.deep.equal({ host: undefined, port: 8080 });
      expect(parseBindAddress('127.0.0.1:9090')).to.deep.equal({ host: '127.0.0.1', port: 9090 });
      expect(parseBindAddress('[::1]:9090')).to.deep.equal({ host: '::1', port: 9090 });
      expect(() => parseBindAddress('8080')).to.throw(RangeError);
      expect(() => parseBindAddress(':99999')).to.throw(RangeError);
    });
  });
});
