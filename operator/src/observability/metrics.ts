/**
 * Every Prometheus metric Vigil exports, defined in one place on one prom-client
 * registry. The controller calls the typed methods of `VigilMetrics`; it never
 * touches prom-client directly, so metric names, label sets and their bounds
 * live here and in docs/metrics.md only.
 *
 * Label sets are initialised as soon as their dimension is known (a policy is
 * registered, a watch kind is registered, a controller or queue is registered),
 * so `rate()`, `increase()` and the alerts work from the first scrape.
 *
 * ## Series bound
 *
 * `vigil_findings{policy,severity,namespace,category}`:
 * - a zero baseline of P × 5 severities × 9 categories series with
 *   `namespace="_cluster"` (it also carries the counts for cluster-scoped
 *   subjects: Nodes, ClusterRoles, the cluster version), always exported;
 * - plus one series per (policy, severity, namespace, category) whose count is
 *   above zero. A label set whose count drops to zero is removed (Prometheus
 *   marks it stale at the next scrape, so `> 0` alerts resolve).
 *
 * So at most P × 5 × 9 × (N + 1) series for P policies and N namespaces, and in
 * practice P × 45 + (the number of non-zero (policy, namespace, severity,
 * category) combinations). Three things cap it: the number of SecurityPolicies,
 * the number of namespaces with findings, and `maxFindingSeries` (default
 * 20 000): beyond that many non-baseline series, further counts are folded into
 * `namespace="_overflow"` (totals stay exact; per-namespace detail is lost).
 *
 * With `ruleLabel: true` (opt-in) the findings gauge also carries `rule`: the
 * bound becomes P × (N + 1) × R × (severities a rule is reported at, usually 1)
 * for R enabled rules, capped the same way. The baseline series then have `rule=""`.
 *
 * Only names that are configuration (policy names, namespaces, rule ids, kinds,
 * CVE ids, controller and queue names) are used as label values: never the name
 * of a scanned object, a container, an image or a message.
 *
 * Findings are exported only while this replica leads (or when leader election is
 * off), so a warm standby never doubles the counts; standbys export the zero
 * baseline.
 */
import type { IncomingMessage, ServerResponse, Server } from 'node:http';
import { createServer } from 'node:http';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { CATEGORIES, SEVERITIES } from '../engine/types.ts';
import type { Category, Finding, Severity } from '../engine/types.ts';
import type { ReconcileOutcome, RunWorkersOptions, WorkQueueMetrics } from '../controller/workqueue.ts';

/** `namespace` label value for cluster-scoped subjects (a real namespace cannot contain `_`). */
export const CLUSTER_NAMESPACE = '_cluster';
/** `namespace` label value that absorbs counts beyond `maxFindingSeries`. */
export const OVERFLOW_NAMESPACE = '_overflow';

/** Why a watch was restarted (`vigil_watch_restarts_total{reason}`). */
export const WATCH_RESTART_REASONS = [
  /** The server ended the stream normally (watch timeout); routine. */
  'closed',
  /** 410 Gone / resourceVersion too old: relisted. */
  'expired',
  /** Network or HTTP error. */
  'error',
  /** The client watchdog saw neither an event nor a bookmark for too long. */
  'stalled',
  /** 429 Too Many Requests: waited for Retry-After. */
  'throttled',
] as const;
export type WatchRestartReason = (typeof WATCH_RESTART_REASONS)[number];

/** controller-runtime's `controller_runtime_reconcile_total{result}` values. */
export const RECONCILE_RESULTS = ['success', 'error', 'requeue', 'requeue_after'] as const;
export type ReconcileResultLabel = (typeof RECONCILE_RESULTS)[number];

/** Which part of the cluster runs a vulnerable version (`vigil_cluster_vulnerable{component}`). */
export const CLUSTER_COMPONENTS = ['control-plane', 'node'] as const;
export type ClusterComponent = (typeof CLUSTER_COMPONENTS)[number];

/**
 * Why audit events the webhook receiver was sent were not judged (`vigil_audit_dropped_total{reason}`).
 * queue_full and malformed count events (a malformed body whose events cannot be counted counts 1);
 * unauthenticated and too_large count requests, whose events are never read.
 */
export const AUDIT_DROP_REASONS = ['queue_full', 'unauthenticated', 'malformed', 'too_large'] as const;
export type AuditDropReason = (typeof AUDIT_DROP_REASONS)[number];

/** One cell of a policy's findings: how many findings share these labels. */
export interface FindingTally {
  severity: Severity;
  /** Namespace of the subject; '' or omitted for cluster-scoped subjects. */
  namespace?: string;
  category: Category;
  /** Rule id; used only when the `rule` label is enabled, summed over otherwise. */
  rule?: string;
  count: number;
}

/**
 * A policy's complete findings: tallies, or a map keyed
 * `severity|namespace|category` (optionally `|rule`) to counts.
 */
export type FindingCounts = Iterable<FindingTally> | ReadonlyMap<string, number>;

export interface MetricsOptions {
  /** Add the `rule` label to `vigil_findings` (opt-in: multiplies the series by the rules). */
  ruleLabel: boolean;
  /** `vigil_build_info{version}`. */
  version?: string;
  /** Milliseconds since the epoch; injectable for tests. Default `Date.now`. */
  now?: () => number;
  /** Leader election in use: start as a standby (leader 0) until `setLeader(true)`. Default false. */
  leaderElection?: boolean;
  /** `leader_election_master_status{name}`: the Lease name. Default `vigil-leader`. */
  leaseName?: string;
  /** Cap on non-baseline `vigil_findings` series; the rest fold into `_overflow`. Default 20 000. */
  maxFindingSeries?: number;
  /** Node.js process metrics (prom-client's collectDefaultMetrics). Default true. */
  defaultMetrics?: boolean;
}

/** Read on scrape: the two work-queue gauges that depend on "now" (WorkQueue implements it). */
export interface QueueGaugeSource {
  unfinishedWorkSeconds(): number;
  longestRunningProcessorSeconds(): number;
}

export interface VigilMetrics {
  readonly registry: Registry;
  readonly ruleLabel: boolean;

  /** Initialises a policy's series: findings baseline, ready=0, errors=0, expiring=0. Idempotent. */
  registerPolicy(policy: string): void;
  /** Removes every series of a deleted policy. */
  unregisterPolicy(policy: string): void;
  /**
   * Replaces all of a policy's finding counts at once. Label sets absent from
   * `counts` (or with count 0) are removed, except the `_cluster` baseline,
   * which goes to 0. Registers the policy if needed. Throws RangeError (and
   * changes nothing) on an unknown severity/category or a malformed namespace or rule id.
   */
  setFindings(policy: string, counts: FindingCounts): void;
  /** vigil_time_to_finding_seconds: from an object's change to its report being up to date. */
  observeTimeToFinding(seconds: number): void;
  reportWritten(): void;
  /** A report write was skipped because its content was unchanged. */
  reportWriteSkipped(): void;
  /** A report was truncated to fit its size budget. */
  reportTruncated(): void;
  /** Kubernetes Events not emitted because of the events budget. */
  eventsDropped(n?: number): void;
  /** One request to the API server (list pages, watches, reads and writes), by verb. */
  apiRequest(verb: string): void;
  setPolicyReady(policy: string, ready: boolean): void;
  /** Number of errors the policy currently has (invalid params, unknown rule ids…). */
  setPolicyErrors(policy: string, errors: number): void;
  /** Number of the policy's exceptions that expire within 7 days. */
  setExceptionsExpiring(policy: string, count: number): void;
  /** Initialises a watched kind's series (age counts from now). Idempotent. */
  registerWatch(kind: string): void;
  /** Any sign of life from a watch: an event, a BOOKMARK, or a successful (re)list. */
  watchEvent(kind: string): void;
  watchRestart(kind: string, reason: WatchRestartReason): void;
  /** Initialises a CVE's series at 0 for every component. */
  registerCve(cve: string): void;
  setClusterVulnerable(cve: string, vulnerable: boolean, component?: ClusterComponent): void;
  /**
   * Replaces the whole vulnerability picture at once: the listed (cve, component)
   * pairs become 1, every other registered pair 0 (so an upgrade clears the
   * alert). Throws RangeError (and changes nothing) on a malformed CVE id or component.
   */
  setClusterVulnerabilities(vulnerable: Iterable<{ cve: string; component: ClusterComponent }>): void;
  /** A full evaluation of every subject against every policy finished (default: now). */
  fullEvaluationCompleted(atMs?: number): void;
  setLeader(leader: boolean): void;
  /** Sharding: live members seen by this replica (vigil_shard_members). */
  shardMembers(n: number): void;
  /** Initialises controller-runtime's per-controller series. Idempotent. */
  registerController(controller: string, maxConcurrentReconciles?: number): void;
  reconcileResult(
    controller: string,
    outcome: ReconcileOutcome | ReconcileResultLabel,
    seconds: number,
  ): void;
  setActiveWorkers(controller: string, active: number): void;
  /** `onResult`/`onActiveWorkers` for `WorkQueue.runWorkers`, bound to a controller. */
  reconcileHooks(controller: string): Pick<RunWorkersOptions, 'onResult' | 'onActiveWorkers'>;
  /** Hooks for a `WorkQueue`'s `metrics` option; initialises the queue's series. */
  workQueueMetrics(name: string, controller?: string): WorkQueueMetrics;
  /** Reads `workqueue_unfinished_work_seconds` / `…longest_running_processor_seconds` from `source` on scrape. */
  observeQueue(name: string, source: QueueGaugeSource, controller?: string): void;

  /** Initialises `vigil_audit_detections_total` at 0 for each (rule, severity) pair. Idempotent. */
  registerAuditRules(rules: Iterable<{ id: string; severity: Severity }>): void;
  /** Audit events received and queued for judging (every stage). */
  auditEvents(n: number): void;
  /** One audit detection; `lagSeconds` is from the event's stageTimestamp to the detection. */
  auditDetection(rule: string, severity: Severity, lagSeconds: number | undefined): void;
  auditDropped(reason: AuditDropReason, n?: number): void;
  /** An opt-in audit response carried out (spec.audit.responses). */
  auditResponse(rule: string, action: 'quarantine'): void;
  /** Reads `vigil_audit_queue_length` from `source` on scrape. */
  observeAuditQueue(source: () => number): void;
  /** One image analysis ended (registry read and inventory), `failed` when it is not analysed. */
  imageAnalysed(result: ImageAnalysisResult, seconds: number): void;
  /** A refresh of the advisory data failed (the data in force is kept). */
  advisoriesRefreshFailed(): void;
  /** Reads `vigil_advisories_age_seconds` from `source` on scrape (undefined: none loaded). */
  observeAdvisoriesAge(source: () => number | undefined): void;
}

/** `result` of vigil_images_analysed_total. */
export const IMAGE_ANALYSIS_RESULTS = ['analysed', 'failed'] as const;
export type ImageAnalysisResult = (typeof IMAGE_ANALYSIS_RESULTS)[number];
/** Seconds: an image analysis reads every layer of the image from its registry. */
const IMAGE_ANALYSIS_BUCKETS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const RULE_ID = /^[a-z0-9]+(-[a-z0-9]+)*$/;
const KIND = /^[A-Z][A-Za-z0-9]{0,62}$/;
const CVE = /^CVE-\d{4}-\d{4,}$/;
const IDENT = /^[a-zA-Z0-9][-a-zA-Z0-9_.]{0,62}$/;

function check(ok: boolean, what: string, value: unknown): void {
  if (!ok) throw new RangeError(`vigil metrics: invalid ${what} ${JSON.stringify(value)}`);
}

function nonNegative(n: number): number {
  return Number.isFinite(n) && n > 0 ? n : 0;
}

/** Verbs of vigil_api_requests_total (anything else counts as OTHER). */
export const API_VERBS = ['LIST', 'WATCH', 'GET', 'POST', 'PATCH', 'PUT', 'DELETE', 'OTHER'] as const;

/** Audit lag: from the event's stageTimestamp to its detection (the API server batches up to seconds). */
const AUDIT_LAG_BUCKETS = [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300];
const TIME_TO_FINDING_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600];
/** controller-runtime's reconcile_time_seconds buckets (5 ms – 60 s). */
const RECONCILE_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.25,
  1.5, 1.75, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5, 6, 7, 8, 9, 10, 15, 20, 25, 30, 40, 50, 60,
];
/** client-go / controller-runtime work-queue buckets: 10 ns … 1 000 s, ×10. */
const WORKQUEUE_BUCKETS = Array.from({ length: 12 }, (_, i) => Number((1e-8 * 10 ** i).toPrecision(1)));

interface Cell {
  severity: Severity;
  namespace: string;
  category: Category;
  rule: string;
  count: number;
}

function cellKey(c: Omit<Cell, 'count'>): string {
  return `${c.severity}|${c.namespace}|${c.category}|${c.rule}`;
}

/** Aggregates engine findings into tallies for `setFindings`. */
export function tallyFindings(
  findings: Iterable<Pick<Finding, 'severity' | 'category' | 'ruleId' | 'resource'>>,
): FindingTally[] {
  const out = new Map<string, FindingTally>();
  for (const f of findings) {
    const namespace = f.resource.namespace ?? '';
    const key = `${f.severity}|${namespace}|${f.category}|${f.ruleId}`;
    const t = out.get(key);
    if (t) t.count++;
    else out.set(key, { severity: f.severity, namespace, category: f.category, rule: f.ruleId, count: 1 });
  }
  return [...out.values()];
}

function isMap(c: FindingCounts): c is ReadonlyMap<string, number> {
  return c instanceof Map;
}

function toTallies(counts: FindingCounts): FindingTally[] {
  if (!isMap(counts)) return [...counts];
  const out: FindingTally[] = [];
  for (const [key, count] of counts) {
    const parts = key.split('|');
    check(parts.length === 3 || parts.length === 4, 'findings key', key);
    const [severity, namespace, category, rule] = parts;
    out.push({
      severity: severity as Severity,
      namespace: namespace ?? '',
      category: category as Category,
      rule: rule ?? '',
      count,
    });
  }
  return out;
}

export function createMetrics(opts: MetricsOptions): VigilMetrics {
  const ruleLabel = opts.ruleLabel;
  const now = opts.now ?? Date.now;
  const leaseName = opts.leaseName ?? 'vigil-leader';
  const maxFindingSeries = Math.max(0, Math.floor(opts.maxFindingSeries ?? 20_000));
  const registry = new Registry();

  // ---- state read on scrape ----
  const policies = new Set<string>();
  const findingState = new Map<string, Map<string, Cell>>();
  const watchLastEvent = new Map<string, number>();
  const queueSources = new Map<string, { controller: string; source: QueueGaugeSource }>();
  let leader = !(opts.leaderElection ?? false);

  // ---- findings ----
  const findingLabels = ruleLabel
    ? (['policy', 'severity', 'namespace', 'category', 'rule'] as const)
    : (['policy', 'severity', 'namespace', 'category'] as const);
  /**
   * The findings series, computed from `findingState` on each scrape. Built
   * directly rather than through the gauge's label hash map: at the 20 000
   * series cap that is about ten times faster, and a scrape must not stall
   * the event loop.
   */
  const findingValues = (): { labels: Record<string, string>; value: number }[] => {
    const values: { labels: Record<string, string>; value: number }[] = [];
    let budget = maxFindingSeries;
    const overflow = new Map<string, { labels: Record<string, string>; value: number }>();
    for (const policy of [...policies].sort()) {
      const cells = leader ? (findingState.get(policy) ?? new Map<string, Cell>()) : new Map<string, Cell>();
      for (const severity of SEVERITIES) {
        for (const category of CATEGORIES) {
          const labels: Record<string, string> = { policy, severity, namespace: CLUSTER_NAMESPACE, category };
          if (ruleLabel) labels.rule = '';
          const base = cellKey({ severity, namespace: CLUSTER_NAMESPACE, category, rule: '' });
          values.push({ labels, value: ruleLabel ? 0 : (cells.get(base)?.count ?? 0) });
        }
      }
      for (const key of [...cells.keys()].sort()) {
        const c = cells.get(key);
        if (!c || c.count <= 0) continue;
        if (!ruleLabel && c.namespace === CLUSTER_NAMESPACE) continue; // in the baseline
        const labels: Record<string, string> = {
          policy,
          severity: c.severity,
          namespace: c.namespace,
          category: c.category,
        };
        if (ruleLabel) labels.rule = c.rule;
        if (budget > 0) {
          budget--;
          values.push({ labels, value: c.count });
          continue;
        }
        labels.namespace = OVERFLOW_NAMESPACE;
        const ok = JSON.stringify(labels);
        const o = overflow.get(ok);
        if (o) o.value += c.count;
        else overflow.set(ok, { labels, value: c.count });
      }
    }
    values.push(...overflow.values());
    return values;
  };
  const findingsHelp =
    'Current findings by policy, severity, namespace (_cluster for cluster-scoped subjects) and category.';
  const findingsGauge = new Gauge({
    name: 'vigil_findings',
    help: findingsHelp,
    labelNames: findingLabels,
    registers: [registry],
  });
  // The registry reads a metric through get(); serve the computed series from there.
  Object.assign(findingsGauge, {
    get: () =>
      Promise.resolve({
        name: 'vigil_findings',
        help: findingsHelp,
        type: 'gauge',
        aggregator: 'sum',
        values: findingValues(),
      }),
  });

  const timeToFinding = new Histogram({
    name: 'vigil_time_to_finding_seconds',
    help: "Seconds from a watched object's change (its resourceVersion) to its findings being written or confirmed.",
    buckets: TIME_TO_FINDING_BUCKETS,
    registers: [registry],
  });
  const reportsWritten = new Counter({
    name: 'vigil_reports_written_total',
    help: 'ScanReport writes (create, update, status) that changed content.',
    registers: [registry],
  });
  const reportWritesSkipped = new Counter({
    name: 'vigil_report_writes_skipped_total',
    help: 'ScanReport writes skipped because the content hash was unchanged.',
    registers: [registry],
  });
  const reportsTruncated = new Counter({
    name: 'vigil_reports_truncated_total',
    help: 'ScanReports truncated to fit their size budget (detail dropped, counts kept).',
    registers: [registry],
  });
  const apiRequests = new Counter({
    name: 'vigil_api_requests_total',
    help: 'Requests Vigil made to the API server, by verb (LIST pages, WATCH streams, GET, POST, PATCH, PUT, DELETE).',
    labelNames: ['verb'] as const,
    registers: [registry],
  });
  for (const verb of API_VERBS) apiRequests.inc({ verb }, 0);
  const eventsDroppedC = new Counter({
    name: 'vigil_events_dropped_total',
    help: 'Kubernetes Events not emitted because the events budget was exhausted.',
    registers: [registry],
  });
  const auditEventsC = new Counter({
    name: 'vigil_audit_events_total',
    help: 'Audit events the webhook receiver accepted and queued for judging (every stage).',
    registers: [registry],
  });
  const auditDetectionsC = new Counter({
    name: 'vigil_audit_detections_total',
    help: 'Audit detections by rule and severity (rule ids are the audit rules Vigil ships).',
    labelNames: ['rule', 'severity'] as const,
    registers: [registry],
  });
  const auditResponsesC = new Counter({
    name: 'vigil_audit_responses_total',
    help: 'Opt-in audit responses carried out (a quarantine imposed), by the rule that triggered it and the action.',
    labelNames: ['rule', 'action'] as const,
    registers: [registry],
  });
  const auditDroppedC = new Counter({
    name: 'vigil_audit_dropped_total',
    help: 'Audit events not judged, by reason (queue_full and malformed: events; unauthenticated and too_large: requests).',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  for (const reason of AUDIT_DROP_REASONS) auditDroppedC.inc({ reason }, 0);
  const auditLag = new Histogram({
    name: 'vigil_audit_detection_lag_seconds',
    help: "Seconds from an audit event's stageTimestamp to its detection (API server batching, queueing, judging).",
    buckets: AUDIT_LAG_BUCKETS,
    registers: [registry],
  });
  let auditQueueSource: (() => number) | undefined;
  new Gauge({
    name: 'vigil_audit_queue_length',
    help: 'Audit events received and waiting to be judged.',
    registers: [registry],
    collect() {
      this.set(auditQueueSource ? nonNegative(auditQueueSource()) : 0);
    },
  });
  const imagesAnalysedC = new Counter({
    name: 'vigil_images_analysed_total',
    help: 'Image analyses by result: analysed (read from its registry, packages listed) or failed (reported as not analysed, with why).',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  for (const result of IMAGE_ANALYSIS_RESULTS) imagesAnalysedC.inc({ result }, 0);
  const imageAnalysisTime = new Histogram({
    name: 'vigil_image_analysis_seconds',
    help: 'Seconds one image analysis took (manifests, config and every layer streamed from the registry).',
    labelNames: ['result'] as const,
    buckets: IMAGE_ANALYSIS_BUCKETS,
    registers: [registry],
  });
  const advisoryRefreshErrorsC = new Counter({
    name: 'vigil_advisories_refresh_errors_total',
    help: 'Refreshes of the advisory data (--advisories) that failed; the data in force was kept.',
    registers: [registry],
  });
  let advisoriesAgeSource: (() => number | undefined) | undefined;
  new Gauge({
    name: 'vigil_advisories_age_seconds',
    help: 'Seconds since the advisory data in force was loaded (-1: none loaded yet; 0 without --advisories).',
    registers: [registry],
    collect() {
      if (!advisoriesAgeSource) return;
      const age = advisoriesAgeSource();
      this.set(age === undefined ? -1 : nonNegative(age));
    },
  });
  const auditRules = new Set<string>();
  const policyReady = new Gauge({
    name: 'vigil_policy_ready',
    help: 'SecurityPolicy Ready condition (1 ready, 0 not ready).',
    labelNames: ['policy'] as const,
    registers: [registry],
  });
  const policyErrors = new Gauge({
    name: 'vigil_policy_errors',
    help: 'Errors a SecurityPolicy currently has (unknown rule ids, invalid params, failed evaluations).',
    labelNames: ['policy'] as const,
    registers: [registry],
  });
  const exceptionsExpiring = new Gauge({
    name: 'vigil_exceptions_expiring',
    help: 'Exceptions of a SecurityPolicy that expire within 7 days.',
    labelNames: ['policy'] as const,
    registers: [registry],
  });
  new Gauge({
    name: 'vigil_watch_last_event_age_seconds',
    help: 'Seconds since a watch last showed life: an event, a BOOKMARK or a successful (re)list.',
    labelNames: ['kind'] as const,
    registers: [registry],
    collect() {
      this.reset();
      const t = now();
      for (const [kind, last] of watchLastEvent) this.set({ kind }, Math.max(0, (t - last) / 1000));
    },
  });
  const watchRestarts = new Counter({
    name: 'vigil_watch_restarts_total',
    help: 'Watch restarts by kind and reason (closed: routine server timeout; expired: 410, relisted; error; stalled: watchdog; throttled: 429).',
    labelNames: ['kind', 'reason'] as const,
    registers: [registry],
  });
  const clusterVulnerable = new Gauge({
    name: 'vigil_cluster_vulnerable',
    help: 'The cluster runs a Kubernetes version affected by the CVE (1) or not (0), for the control plane or any node.',
    labelNames: ['cve', 'component'] as const,
    registers: [registry],
  });
  const lastFullEvaluation = new Gauge({
    name: 'vigil_last_full_evaluation_timestamp_seconds',
    help: 'Unix time of the last completed full evaluation (process start until the first one completes).',
    registers: [registry],
  });
  lastFullEvaluation.set(now() / 1000);
  const vigilLeader = new Gauge({
    name: 'vigil_leader',
    help: 'This replica is the leader (1) or a standby (0). Same value as leader_election_master_status.',
    registers: [registry],
  });
  const shardMembers = new Gauge({
    name: 'vigil_shard_members',
    help: 'With --sharding: live shard members (replicas) this replica sees; 0 without sharding.',
    registers: [registry],
  });
  const leaderStatus = new Gauge({
    name: 'leader_election_master_status',
    help: "Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, 1 indicates master. 'name' is the string used to identify the lease.",
    labelNames: ['name'] as const,
    registers: [registry],
  });
  const buildInfo = new Gauge({
    name: 'vigil_build_info',
    help: 'Vigil build information (always 1).',
    labelNames: ['version', 'node_version'] as const,
    registers: [registry],
  });
  buildInfo.set({ version: opts.version ?? '0.0.0-unknown', node_version: process.version }, 1);

  // ---- controller-runtime compatible ----
  const reconcileTotal = new Counter({
    name: 'controller_runtime_reconcile_total',
    help: 'Total number of reconciliations per controller',
    labelNames: ['controller', 'result'] as const,
    registers: [registry],
  });
  const reconcileErrors = new Counter({
    name: 'controller_runtime_reconcile_errors_total',
    help: 'Total number of reconciliation errors per controller',
    labelNames: ['controller'] as const,
    registers: [registry],
  });
  const terminalErrors = new Counter({
    name: 'controller_runtime_terminal_reconcile_errors_total',
    help: 'Total number of terminal reconciliation errors per controller',
    labelNames: ['controller'] as const,
    registers: [registry],
  });
  const reconcileTime = new Histogram({
    name: 'controller_runtime_reconcile_time_seconds',
    help: 'Length of time per reconciliation per controller',
    labelNames: ['controller'] as const,
    buckets: RECONCILE_BUCKETS,
    registers: [registry],
  });
  const maxConcurrent = new Gauge({
    name: 'controller_runtime_max_concurrent_reconciles',
    help: 'Maximum number of concurrent reconciles per controller',
    labelNames: ['controller'] as const,
    registers: [registry],
  });
  const activeWorkers = new Gauge({
    name: 'controller_runtime_active_workers',
    help: 'Number of currently used workers per controller',
    labelNames: ['controller'] as const,
    registers: [registry],
  });
  const wqLabels = ['name', 'controller'] as const;
  const wqDepth = new Gauge({
    name: 'workqueue_depth',
    help: 'Current depth of workqueue',
    labelNames: wqLabels,
    registers: [registry],
  });
  const wqAdds = new Counter({
    name: 'workqueue_adds_total',
    help: 'Total number of adds handled by workqueue',
    labelNames: wqLabels,
    registers: [registry],
  });
  const wqRetries = new Counter({
    name: 'workqueue_retries_total',
    help: 'Total number of retries handled by workqueue',
    labelNames: wqLabels,
    registers: [registry],
  });
  const wqLatency = new Histogram({
    name: 'workqueue_queue_duration_seconds',
    help: 'How long in seconds an item stays in workqueue before being requested',
    labelNames: wqLabels,
    buckets: WORKQUEUE_BUCKETS,
    registers: [registry],
  });
  const wqWork = new Histogram({
    name: 'workqueue_work_duration_seconds',
    help: 'How long in seconds processing an item from workqueue takes.',
    labelNames: wqLabels,
    buckets: WORKQUEUE_BUCKETS,
    registers: [registry],
  });
  new Gauge({
    name: 'workqueue_unfinished_work_seconds',
    help: "How many seconds of work has been done that is in progress and hasn't been observed by work_duration. Large values indicate stuck threads.",
    labelNames: wqLabels,
    registers: [registry],
    collect() {
      for (const [name, q] of queueSources) {
        this.set({ name, controller: q.controller }, nonNegative(q.source.unfinishedWorkSeconds()));
      }
    },
  });
  new Gauge({
    name: 'workqueue_longest_running_processor_seconds',
    help: 'How many seconds has the longest running processor for workqueue been running.',
    labelNames: wqLabels,
    registers: [registry],
    collect() {
      for (const [name, q] of queueSources) {
        this.set({ name, controller: q.controller }, nonNegative(q.source.longestRunningProcessorSeconds()));
      }
    },
  });

  if (opts.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });

  // ---- methods ----
  const checkPolicy = (policy: string): void => check(DNS_SUBDOMAIN.test(policy), 'policy name', policy);
  const checkKind = (kind: string): void => check(KIND.test(kind), 'kind', kind);
  const checkIdent = (name: string, what: string): void => check(IDENT.test(name), what, name);

  const registerPolicy = (policy: string): void => {
    checkPolicy(policy);
    if (policies.has(policy)) return;
    policies.add(policy);
    policyReady.set({ policy }, 0);
    policyErrors.set({ policy }, 0);
    exceptionsExpiring.set({ policy }, 0);
  };

  const registerWatch = (kind: string): void => {
    checkKind(kind);
    if (!watchLastEvent.has(kind)) watchLastEvent.set(kind, now());
    for (const reason of WATCH_RESTART_REASONS) watchRestarts.inc({ kind, reason }, 0);
  };

  const registeredControllers = new Set<string>();
  const registerController = (controller: string, maxConcurrentReconciles?: number): void => {
    checkIdent(controller, 'controller name');
    if (maxConcurrentReconciles !== undefined) {
      maxConcurrent.set({ controller }, nonNegative(maxConcurrentReconciles));
    }
    if (registeredControllers.has(controller)) return;
    registeredControllers.add(controller);
    for (const result of RECONCILE_RESULTS) reconcileTotal.inc({ controller, result }, 0);
    reconcileErrors.inc({ controller }, 0);
    terminalErrors.inc({ controller }, 0);
    reconcileTime.zero({ controller });
    activeWorkers.set({ controller }, 0);
    if (maxConcurrentReconciles === undefined) maxConcurrent.set({ controller }, 1);
  };

  const registeredQueues = new Set<string>();
  const registerQueue = (name: string, controller: string): void => {
    checkIdent(name, 'queue name');
    checkIdent(controller, 'controller name');
    const key = `${name}\u0000${controller}`;
    if (registeredQueues.has(key)) return;
    registeredQueues.add(key);
    const labels = { name, controller };
    wqDepth.set(labels, 0);
    wqAdds.inc(labels, 0);
    wqRetries.inc(labels, 0);
    wqLatency.zero(labels);
    wqWork.zero(labels);
  };

  const reconcileResult = (
    controller: string,
    outcome: ReconcileOutcome | ReconcileResultLabel,
    seconds: number,
  ): void => {
    registerController(controller);
    const result: ReconcileResultLabel = outcome === 'terminal_error' ? 'error' : outcome;
    reconcileTotal.inc({ controller, result });
    if (result === 'error') reconcileErrors.inc({ controller });
    if (outcome === 'terminal_error') terminalErrors.inc({ controller });
    reconcileTime.observe({ controller }, nonNegative(seconds));
  };

  const setActiveWorkers = (controller: string, active: number): void => {
    registerController(controller);
    activeWorkers.set({ controller }, nonNegative(active));
  };

  const cves = new Set<string>();
  const registerCve = (cve: string): void => {
    check(CVE.test(cve), 'CVE id', cve);
    if (cves.has(cve)) return;
    cves.add(cve);
    for (const component of CLUSTER_COMPONENTS) clusterVulnerable.set({ cve, component }, 0);
  };

  const metrics: VigilMetrics = {
    registry,
    ruleLabel,
    registerPolicy,
    unregisterPolicy(policy) {
      checkPolicy(policy);
      policies.delete(policy);
      findingState.delete(policy);
      policyReady.remove({ policy });
      policyErrors.remove({ policy });
      exceptionsExpiring.remove({ policy });
    },
    setFindings(policy, counts) {
      checkPolicy(policy);
      const next = new Map<string, Cell>();
      for (const t of toTallies(counts)) {
        check((SEVERITIES as readonly string[]).includes(t.severity), 'severity', t.severity);
        check((CATEGORIES as readonly string[]).includes(t.category), 'category', t.category);
        const ns = t.namespace ?? '';
        check(ns === '' || ns === CLUSTER_NAMESPACE || DNS_LABEL.test(ns), 'namespace', ns);
        const rule = ruleLabel ? (t.rule ?? '') : '';
        check(rule === '' || RULE_ID.test(rule), 'rule id', rule);
        const count = nonNegative(t.count);
        if (count === 0) continue;
        const cell = {
          severity: t.severity,
          namespace: ns === '' ? CLUSTER_NAMESPACE : ns,
          category: t.category,
          rule,
        };
        const key = cellKey(cell);
        const prev = next.get(key);
        if (prev) prev.count += count;
        else next.set(key, { ...cell, count });
      }
      registerPolicy(policy);
      findingState.set(policy, next);
    },
    observeTimeToFinding(seconds) {
      timeToFinding.observe(nonNegative(seconds));
    },
    reportWritten() {
      reportsWritten.inc();
    },
    reportWriteSkipped() {
      reportWritesSkipped.inc();
    },
    reportTruncated() {
      reportsTruncated.inc();
    },
    eventsDropped(n = 1) {
      eventsDroppedC.inc(nonNegative(n));
    },
    apiRequest(verb) {
      const v = verb.toUpperCase();
      apiRequests.inc({ verb: (API_VERBS as readonly string[]).includes(v) ? v : 'OTHER' });
    },
    setPolicyReady(policy, ready) {
      registerPolicy(policy);
      policyReady.set({ policy }, ready ? 1 : 0);
    },
    setPolicyErrors(policy, errors) {
      registerPolicy(policy);
      policyErrors.set({ policy }, nonNegative(errors));
    },
    setExceptionsExpiring(policy, count) {
      registerPolicy(policy);
      exceptionsExpiring.set({ policy }, nonNegative(count));
    },
    registerWatch,
    watchEvent(kind) {
      checkKind(kind);
      if (!watchLastEvent.has(kind)) registerWatch(kind);
      watchLastEvent.set(kind, now());
    },
    watchRestart(kind, reason) {
      check((WATCH_RESTART_REASONS as readonly string[]).includes(reason), 'watch restart reason', reason);
      registerWatch(kind);
      watchRestarts.inc({ kind, reason });
    },
    registerCve,
    setClusterVulnerable(cve, vulnerable, component = 'control-plane') {
      check((CLUSTER_COMPONENTS as readonly string[]).includes(component), 'component', component);
      registerCve(cve);
      clusterVulnerable.set({ cve, component }, vulnerable ? 1 : 0);
    },
    setClusterVulnerabilities(vulnerable) {
      const on = new Set<string>();
      const list = [...vulnerable];
      for (const v of list) {
        check(CVE.test(v.cve), 'CVE id', v.cve);
        check((CLUSTER_COMPONENTS as readonly string[]).includes(v.component), 'component', v.component);
      }
      for (const v of list) {
        registerCve(v.cve);
        on.add(`${v.cve}|${v.component}`);
      }
      for (const cve of cves) {
        for (const component of CLUSTER_COMPONENTS) {
          clusterVulnerable.set({ cve, component }, on.has(`${cve}|${component}`) ? 1 : 0);
        }
      }
    },
    fullEvaluationCompleted(atMs) {
      lastFullEvaluation.set((atMs ?? now()) / 1000);
    },
    shardMembers(n) {
      shardMembers.set(n);
    },
    setLeader(isLeader) {
      leader = isLeader;
      vigilLeader.set(isLeader ? 1 : 0);
      leaderStatus.set({ name: leaseName }, isLeader ? 1 : 0);
    },
    registerController,
    reconcileResult,
    setActiveWorkers,
    reconcileHooks(controller) {
      registerController(controller);
      return {
        onResult: (outcome, seconds) => reconcileResult(controller, outcome, seconds),
        onActiveWorkers: (active) => setActiveWorkers(controller, active),
      };
    },
    workQueueMetrics(name, controller = name) {
      registerQueue(name, controller);
      const labels = { name, controller };
      return {
        depth: (d) => wqDepth.set(labels, nonNegative(d)),
        add: () => wqAdds.inc(labels),
        retry: () => wqRetries.inc(labels),
        queueLatency: (s) => wqLatency.observe(labels, nonNegative(s)),
        workDuration: (s) => wqWork.observe(labels, nonNegative(s)),
      };
    },
    observeQueue(name, source, controller = name) {
      registerQueue(name, controller);
      queueSources.set(name, { controller, source });
    },
    registerAuditRules(rules) {
      for (const r of rules) {
        check(RULE_ID.test(r.id), 'rule id', r.id);
        check((SEVERITIES as readonly string[]).includes(r.severity), 'severity', r.severity);
        const key = `${r.id}|${r.severity}`;
        if (auditRules.has(key)) continue;
        auditRules.add(key);
        auditDetectionsC.inc({ rule: r.id, severity: r.severity }, 0);
      }
    },
    auditEvents(n) {
      auditEventsC.inc(nonNegative(n));
    },
    auditResponse(rule, action) {
      check(RULE_ID.test(rule), 'rule id', rule);
      auditResponsesC.inc({ rule, action });
    },
    auditDetection(rule, severity, lagSeconds) {
      check(RULE_ID.test(rule), 'rule id', rule);
      check((SEVERITIES as readonly string[]).includes(severity), 'severity', severity);
      auditRules.add(`${rule}|${severity}`);
      auditDetectionsC.inc({ rule, severity });
      if (lagSeconds !== undefined && Number.isFinite(lagSeconds)) auditLag.observe(nonNegative(lagSeconds));
    },
    auditDropped(reason, n = 1) {
      check((AUDIT_DROP_REASONS as readonly string[]).includes(reason), 'audit drop reason', reason);
      auditDroppedC.inc({ reason }, nonNegative(n));
    },
    observeAuditQueue(source) {
      auditQueueSource = source;
    },
    imageAnalysed(result, seconds) {
      check((IMAGE_ANALYSIS_RESULTS as readonly string[]).includes(result), 'image analysis result', result);
      imagesAnalysedC.inc({ result });
      imageAnalysisTime.observe({ result }, nonNegative(seconds));
    },
    advisoriesRefreshFailed() {
      advisoryRefreshErrorsC.inc();
    },
    observeAdvisoriesAge(source) {
      advisoriesAgeSource = source;
    },
  };
  metrics.setLeader(leader);
  return metrics;
}

// ---------------------------------------------------------------------------
// HTTP

/** Request handler serving the registry on GET/HEAD `path` (default /metrics), node:http only. */
export function metricsHandler(
  registry: Registry,
  opts: { path?: string; onError?: (err: unknown) => void } = {},
): (req: IncomingMessage, res: ServerResponse) => void {
  const path = opts.path ?? '/metrics';
  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== path) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' });
      res.end('method not allowed\n');
      return;
    }
    registry.metrics().then(
      (body) => {
        res.writeHead(200, {
          'content-type': registry.contentType,
          'content-length': Buffer.byteLength(body),
          'cache-control': 'no-store',
        });
        res.end(req.method === 'HEAD' ? undefined : body);
      },
      (err: unknown) => {
        opts.onError?.(err);
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
        res.end('metrics collection failed\n');
      },
    );
  };
}

/**
 * Parses a controller-runtime style bind address: "0" disables, ":8080" is every
 * interface, "127.0.0.1:8080" and "[::1]:8080" a given one.
 */
export function parseBindAddress(addr: string): { host: string | undefined; port: number } | undefined {
  if (addr === '0' || addr === '') return undefined;
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(addr);
  if (!m) throw new RangeError(`invalid bind address ${JSON.stringify(addr)} (want host:port, :port or 0)`);
  const port = Number(m[3]);
  if (port > 65535) throw new RangeError(`invalid port in bind address ${JSON.stringify(addr)}`);
  const host = m[1] ?? m[2];
  return { host: host === '' ? undefined : host, port };
}

/**
 * Starts `server` listening on a bind address (see parseBindAddress); undefined, and not started,
 * when the address disables it ("0"). Rejects with the listen error (e.g. EADDRINUSE) instead of
 * leaving it to an unhandled 'error' event.
 */
export async function listenOn(server: Server, bindAddress: string): Promise<Server | undefined> {
  const bind = parseBindAddress(bindAddress);
  if (!bind) return undefined;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(bind.port, bind.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}

/** Starts an HTTP server for `/metrics` on `bindAddress`; undefined when disabled ("0"). */
export async function startMetricsServer(
  bindAddress: string,
  registry: Registry,
  opts: { onError?: (err: unknown) => void } = {},
): Promise<Server | undefined> {
  return listenOn(createServer(metricsHandler(registry, opts)), bindAddress);
}

/** Series Prometheus adds to every target itself; rules and dashboards may use them. */
export const SCRAPE_SERIES = ['up', 'scrape_duration_seconds', 'scrape_samples_scraped'] as const;

/**
 * Every sample name a Vigil /metrics scrape can contain (histograms with their
 * `_bucket`, `_sum` and `_count`), plus the series Prometheus adds per target.
 * Alert rules and dashboards may reference only these.
 */
export function exportedSampleNames(
  registry: Registry = createMetrics({ ruleLabel: false }).registry,
): Set<string> {
  const out = new Set<string>(SCRAPE_SERIES);
  for (const m of registry.getMetricsAsArray()) {
    const type = String(m.type);
    if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) out.add(`${m.name}${s}`);
    else if (type === 'summary') for (const s of ['', '_sum', '_count']) out.add(`${m.name}${s}`);
    else out.add(m.name);
  }
  return out;
}
