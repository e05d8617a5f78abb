/**
 * In-cluster benchmark: the operator against a real local control plane
 * (etcd + kube-apiserver + kube-controller-manager, e2e/controlplane) holding
 * N pods, half bare and half made by kube-controller-manager for Deployments,
 * ReplicaSets, StatefulSets and Jobs (they stay Pending: there is no
 * scheduler or kubelet).
 *
 * Phases, each measured from outside the operator (its JSON log, /metrics and
 * /proc) and by the operator itself:
 *
 * 1. setup: namespaces, a `recommended` SecurityPolicy over every namespace,
 *    bare pods and controllers created through the API with many concurrent
 *    requests (429s retried); wait until the pod count reaches N;
 * 2. cold start: the operator starts with no ScanReports present; time from
 *    its "caches synced" log line to "full evaluation complete" (which
 *    includes writing every report: API-bound);
 * 3. churn: creates, updates and deletes of offending pods at a fixed rate;
 *    time to finding from the operator's `vigil_time_to_finding_seconds`
 *    histogram (watch event → report write; percentiles interpolated from the
 *    buckets of the churn window) and measured externally (the change's API
 *    response → the ScanReport watch event showing it, from a watch the
 *    harness holds); API requests per second by verb
 *    (`vigil_api_requests_total`);
 * 4. quiet: nothing changes; writes per minute;
 * 5. warm restart: the operator restarts with every report in place; time
 *    from cache sync to full evaluation (evaluation only, nothing to write);
 * 6. one more restart with a bounded young generation (NODE_OPTIONS
 *    --max-semi-space-size=16): RSS without the machine-size-dependent part.
 *
 * RSS of the operator process (/proc/<pid>/status VmRSS) is sampled every
 * 500 ms throughout.
 *
 * Writes bench/results/cluster.json (the headline numbers), cluster-details.json
 * (machine, load, every phase, RSS samples, per-verb request counts, latency
 * by operation) and the generated part of BENCHMARKS.md's "In cluster" section.
 *
 * Usage: node bench/cluster.ts [--pods N] [--namespaces K] [--churn-rate R]
 *          [--churn-seconds S] [--quiet-seconds Q] [--workers W] [--smoke]
 *          [--out DIR] [--no-markdown] [--no-restart] [--operator-dir DIR]
 *          [--node-options STR] [--memory-limit QUANTITY|none] [--custom-rules]
 * --custom-rules: the policy also carries bench/cel-rules.ts's 10 custom CEL rules (their cost in
 * the cluster, issue 15); write elsewhere with --out and --no-markdown to keep the headline run.
 * --memory-limit: the operator runs in a memory cgroup with this limit, as in its pod
 * (default: the limit config/manager/manager.yaml ships; `none` runs it unconstrained).
 * --node-options: the operator's NODE_OPTIONS (default: what the Deployment sets; '' for none).
 * --smoke: 200 pods in 4 namespaces, 10 s churn at 20/s, 10 s quiet, results
 * under bench/.work/cluster-smoke, BENCHMARKS.md untouched. --operator-dir: measure the
 * operator of another checkout (e.g. a `git worktree` of an older commit) on the same setup.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ControlPlane, freePort, waitFor, type ControlPlaneState } from '../e2e/controlplane/controlplane.ts';
import { startOperator as launchOperator } from '../e2e/operator/process.ts';
import { BENCH_RULES } from './cel-rules.ts';
import { reportName } from '../operator/src/controller/report.ts';
import { NAMESPACE_DELAY_MS } from '../operator/src/runtime/controller.ts';
import {
  metricSum as sumSamples,
  parseExposition,
  type Sample,
} from '../operator/src/observability/exposition.ts';
import {
  createMemoryCgroup,
  quantityBytes,
  shippedMemoryLimit,
  shippedNodeOptions,
  type MemoryCgroup,
} from './cgroup.ts';

const BENCH_DIR = import.meta.dirname;
const REPO = resolve(BENCH_DIR, '..');
const MANAGER_YAML_PATH = join(REPO, 'config', 'manager', 'manager.yaml');

// ---------------------------------------------------------------------------
// Result shapes

/** bench/results/cluster.json: the numbers the issue asks for. */
export interface ClusterResult {
  pods: number;
  /**
   * Cold start: "caches synced" → the SecurityPolicy's status says Ready=True (every resource
   * evaluated: its findings are in the policy's status summary and in the metrics), polled
   * through the API every 100 ms.
   */
  findingsKnownSeconds: number;
  /** Cold start: "caches synced" → "full evaluation complete": every ScanReport written too. */
  reportsPersistedSeconds: number;
  /** The same as reportsPersistedSeconds (the name earlier results used). */
  fullEvaluationSeconds: number;
  /** Externally measured (API response → ScanReport watch event), all churn operations. */
  timeToFindingP50Ms: number;
  timeToFindingP95Ms: number;
  timeToFindingP99Ms: number;
  /**
   * Peak operator memory: bench/cluster.ts writes the operator process's RSS on the host (peak over
   * the run); bench/pod-memory.ts, run afterwards, replaces it with the peak charged to the
   * operator container's memory cgroup on a real node (the issue's measure).
   */
  rssMiB: number;
  /** Where rssMiB comes from: HOST_RSS_SOURCE or 'pod cgroup'. */
  memorySource: string;
  /** Requests Vigil made per second during churn (every verb). */
  apiRequestsPerSecond: number;
  /** Write requests (PATCH, POST, PUT, DELETE) Vigil made per minute while nothing changed. */
  steadyStateWritesPerMinute: number;
}

export const HOST_RSS_SOURCE = 'operator process RSS on the host';

export const RESULT_KEYS: readonly (keyof ClusterResult)[] = [
  'pods',
  'findingsKnownSeconds',
  'reportsPersistedSeconds',
  'fullEvaluationSeconds',
  'timeToFindingP50Ms',
  'timeToFindingP95Ms',
  'timeToFindingP99Ms',
  'rssMiB',
  'memorySource',
  'apiRequestsPerSecond',
  'steadyStateWritesPerMinute',
];

export interface Percentiles {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export interface StartMeasurement {
  /** Process spawn → "caches synced". */
  cacheSyncSeconds: number;
  /** "caches synced" → "full evaluation complete". */
  fullEvaluationSeconds: number;
  /** "caches synced" → the probe (policy Ready=True) first held; undefined without a probe. */
  findingsKnownSeconds?: number;
  reportsWritten: number;
  requests: Record<string, number>;
  /** Max RSS from spawn to full evaluation complete. */
  peakRssMiB: number;
  /** RSS right after full evaluation. */
  rssAfterMiB: number;
}

export interface ClusterDetails {
  generatedAt: string;
  machine: Record<string, string | number>;
  loadAverage: { start: number[]; afterSetup: number[]; end: number[] };
  options: Omit<ClusterOptions, 'log'>;
  setup: {
    seconds: number;
    objects: Record<string, number>;
    podsSeconds: number;
    retries: number;
  };
  coldStart: StartMeasurement;
  warmRestart?: StartMeasurement;
  /**
   * One more restart with a bounded young generation: Node sizes its young generation from
   * the machine's memory (64 MiB semi-spaces on a large host, far less under a container
   * memory limit), which alone moves RSS by up to ~100 MiB.
   */
  boundedRestart?: StartMeasurement & { nodeOptions: string; idleRssMiB: number };
  /** The memory limit the operator ran under (a cgroup, as in its pod), or why none. */
  memoryLimit: {
    limit: string | null;
    cgroup: string | null;
    error?: string;
    /** Most memory the kernel charged to the cgroup over the run. */
    peakChargedMiB?: number;
    oomKills?: number;
  };
  subjects: { reports: number };
  churn: {
    seconds: number;
    operations: Record<string, number>;
    achievedRate: number;
    apiErrors: number;
    /** External: API response of the change → ScanReport watch event showing it. */
    external: Percentiles & { unmatched: number; byOperation: Record<string, Percentiles> };
    /** The operator's histogram (watch event → report write), interpolated within its buckets. */
    internal: Percentiles & { buckets: { le: number; count: number }[] };
    requests: Record<string, number>;
    requestsPerSecond: number;
    writesPerSecond: number;
    reportsWritten: number;
    peakRssMiB: number;
  };
  quiet: {
    seconds: number;
    requests: Record<string, number>;
    requestsPerSecond: number;
    writes: number;
    reportsWritten: number;
    writesPerMinute: number;
    rssMiB: number;
  };
  rss: { peakMiB: number; samples: { t: number; mib: number; phase: string }[] };
  totalSeconds: number;
}

export interface ClusterOptions {
  pods: number;
  namespaces: number;
  churnRate: number;
  churnSeconds: number;
  quietSeconds: number;
  /** Operator --workers (undefined: the operator's default). */
  workers: number | undefined;
  restart: boolean;
  outDir: string;
  markdown: boolean;
  /** Concurrent API requests while creating objects. */
  concurrency: number;
  /** Checkout whose bin/vigil.js is measured (default this one), for before/after comparisons. */
  operatorDir: string;
  /** NODE_OPTIONS of the operator (default: none, Node's defaults for this machine). */
  nodeOptions: string | undefined;
  /** Memory limit (Kubernetes quantity) enforced with a cgroup; undefined runs unconstrained. */
  memoryLimit: string | undefined;
  /** Add bench/cel-rules.ts's 10 custom CEL rules to the policy (issue 15 point 5). */
  customRules?: boolean;
  /** spec.schedulerName of the pods created (bench/pod-memory.ts: keeps them off the real node). */
  schedulerName?: string;
  log: (msg: string) => void;
}

export function defaultOptions(smoke = false): ClusterOptions {
  const manager = readFileSync(MANAGER_YAML_PATH, 'utf8');
  return {
    pods: smoke ? 200 : 10_000,
    namespaces: smoke ? 4 : 50,
    churnRate: smoke ? 20 : 50,
    churnSeconds: smoke ? 10 : 60,
    quietSeconds: smoke ? 10 : 60,
    workers: undefined,
    restart: true,
    outDir: smoke ? join(BENCH_DIR, '.work', 'cluster-smoke') : join(BENCH_DIR, 'results'),
    markdown: !smoke,
    concurrency: 48,
    operatorDir: REPO,
    // As shipped: the Deployment's NODE_OPTIONS and memory limit (config/manager/manager.yaml).
    nodeOptions: shippedNodeOptions(manager),
    memoryLimit: shippedMemoryLimit(manager),
    log: (m) => console.error(`[cluster-bench ${new Date().toISOString().slice(11, 19)}] ${m}`),
  };
}

// ---------------------------------------------------------------------------
// Pure helpers (unit-tested in operator/src/bench-cluster-smoke.test.ts)

/** Percentile of unsorted values by linear interpolation between closest ranks (NaN when empty). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const rank = (Math.min(100, Math.max(0, p)) / 100) * (s.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  const a = s[lo] ?? NaN;
  const b = s[hi] ?? NaN;
  return a + (b - a) * (rank - lo);
}

export function summarize(values: readonly number[]): Percentiles {
  return {
    count: values.length,
    p50: round(percentile(values, 50)),
    p95: round(percentile(values, 95)),
    p99: round(percentile(values, 99)),
    max: values.length === 0 ? NaN : round(Math.max(...values)),
  };
}

function round(n: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

/**
 * Quantile of a cumulative histogram the way Prometheus' histogram_quantile
 * computes it: linear interpolation inside the bucket holding the rank; a rank
 * in the +Inf bucket returns the highest finite bound. NaN without observations.
 */
export function histogramQuantile(q: number, buckets: readonly { le: number; count: number }[]): number {
  const b = [...buckets].sort((x, y) => x.le - y.le);
  const total = b[b.length - 1]?.count ?? 0;
  if (total <= 0) return NaN;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const bucket of b) {
    if (bucket.count >= rank) {
      if (bucket.le === Infinity) return prevLe;
      if (bucket.count === prevCount) return bucket.le;
      return prevLe + (bucket.le - prevLe) * ((rank - prevCount) / (bucket.count - prevCount));
    }
    prevLe = bucket.le;
    prevCount = bucket.count;
  }
  return prevLe;
}

/** Sum of a metric's samples whose labels include `match` (0 when none). */
export function metricSum(
  samples: readonly Sample[],
  name: string,
  match: Record<string, string> = {},
): number {
  return sumSamples(samples, name, match) ?? 0;
}

/** A histogram's cumulative buckets (le → count). */
export function histogramBuckets(samples: readonly Sample[], name: string): { le: number; count: number }[] {
  const out: { le: number; count: number }[] = [];
  for (const s of samples) {
    if (s.name !== `${name}_bucket`) continue;
    const le = s.labels['le'] === '+Inf' ? Infinity : Number(s.labels['le']);
    out.push({ le, count: s.value });
  }
  return out.sort((a, b) => a.le - b.le);
}

/** Bucket-wise difference of two scrapes of one histogram (after − before). */
export function histogramDelta(
  before: readonly { le: number; count: number }[],
  after: readonly { le: number; count: number }[],
): { le: number; count: number }[] {
  const b = new Map(before.map((x) => [x.le, x.count]));
  return after.map((x) => ({ le: x.le, count: x.count - (b.get(x.le) ?? 0) }));
}

/** vigil_api_requests_total by verb. */
export function requestsByVerb(samples: readonly Sample[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of samples) if (s.name === 'vigil_api_requests_total') out[s.labels['verb'] ?? ''] = s.value;
  return out;
}

export function subtractCounts(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) out[k] = (a[k] ?? 0) - (b[k] ?? 0);
  return out;
}

export const WRITE_VERBS = ['PATCH', 'POST', 'PUT', 'DELETE'] as const;

export function writeCount(byVerb: Record<string, number>): number {
  return WRITE_VERBS.reduce((n, v) => n + (byVerb[v] ?? 0), 0);
}

export function total(byVerb: Record<string, number>): number {
  return Object.values(byVerb).reduce((a, b) => a + b, 0);
}

// ---- the object layout ------------------------------------------------------------------------

export type ControllerKind = 'Deployment' | 'ReplicaSet' | 'StatefulSet' | 'Job';

export interface NamespacePlan {
  name: string;
  bare: number;
  controllers: { kind: ControllerKind; name: string; replicas: number; style: PodStyle }[];
  /** A default-deny NetworkPolicy (so clean pods have no finding at all). */
  defaultDeny: boolean;
}

export type PodStyle = 'privileged' | 'host' | 'latest' | 'hostpath' | 'clean' | 'typical';

/** Share of a namespace's controller-made pods per controller. */
const CONTROLLERS: readonly { kind: ControllerKind; name: string; share: number; style: PodStyle }[] = [
  { kind: 'Deployment', name: 'web', share: 0.3, style: 'typical' },
  { kind: 'Deployment', name: 'agent', share: 0.2, style: 'privileged' },
  { kind: 'ReplicaSet', name: 'cache', share: 0.15, style: 'host' },
  { kind: 'StatefulSet', name: 'db', share: 0.2, style: 'typical' },
  { kind: 'Job', name: 'batch', share: 0.15, style: 'latest' },
];

/** Splits `n` into integer parts proportional to `weights` (largest remainder); parts sum to n. */
export function apportion(n: number, weights: readonly number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  const exact = weights.map((w) => (sum > 0 ? (n * w) / sum : 0));
  const parts = exact.map(Math.floor);
  let left = n - parts.reduce((a, b) => a + b, 0);
  const order = exact.map((e, i) => ({ i, r: e - Math.floor(e) })).sort((a, b) => b.r - a.r || a.i - b.i);
  for (const { i } of order) {
    if (left <= 0) break;
    parts[i] = (parts[i] ?? 0) + 1;
    left--;
  }
  return parts;
}

/** N pods over K namespaces: half bare, half made by controllers; exactly N in total. */
export function layout(pods: number, namespaces: number): NamespacePlan[] {
  const k = Math.max(1, namespaces);
  const bare = apportion(Math.floor(pods / 2), Array<number>(k).fill(1));
  const made = apportion(pods - Math.floor(pods / 2), Array<number>(k).fill(1));
  return Array.from({ length: k }, (_, i) => {
    const replicas = apportion(
      made[i] ?? 0,
      CONTROLLERS.map((c) => c.share),
    );
    return {
      name: `bench-${String(i).padStart(3, '0')}`,
      bare: bare[i] ?? 0,
      controllers: CONTROLLERS.map((c, j) => ({
        kind: c.kind,
        name: c.name,
        replicas: replicas[j] ?? 0,
        style: c.style,
      })).filter((c) => c.replicas > 0),
      defaultDeny: i % 2 === 0,
    };
  });
}

/** Style of the j-th bare pod of a namespace: 1 in 20 privileged, host, latest, hostPath; 4 clean; 12 typical. */
export function bareStyle(j: number): PodStyle {
  const v = j % 20;
  if (v === 0) return 'privileged';
  if (v === 1) return 'host';
  if (v === 2) return 'latest';
  if (v === 3) return 'hostpath';
  if (v < 8) return 'clean';
  return 'typical';
}

export const TYPICAL_IMAGE = 'registry.example/app:1.0';
export const LATEST_IMAGE = 'registry.example/app:latest';
const DIGEST = 'sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef';

type Json = Record<string, unknown>;

/** Pod spec of a style (used for bare pods and controller templates). */
export function podSpec(style: PodStyle, restartPolicy = 'Always', schedulerName?: string): Json {
  const container: Json = { name: 'app', image: TYPICAL_IMAGE };
  const spec: Json = { restartPolicy, containers: [container], terminationGracePeriodSeconds: 0 };
  // With a real node (bench/pod-memory.ts) a scheduler runs: a name no scheduler answers to keeps
  // the pods Pending, as on the bench's node-less control plane.
  if (schedulerName !== undefined) spec['schedulerName'] = schedulerName;
  switch (style) {
    case 'privileged':
      container['securityContext'] = { privileged: true };
      break;
    case 'host':
      spec['hostNetwork'] = true;
      spec['hostPID'] = true;
      break;
    case 'latest':
      container['image'] = LATEST_IMAGE;
      break;
    case 'hostpath':
      spec['volumes'] = [{ name: 'host', hostPath: { path: '/var/run' } }];
      container['volumeMounts'] = [{ name: 'host', mountPath: '/host' }];
      break;
    case 'clean':
      spec['automountServiceAccountToken'] = false;
      spec['securityContext'] = {
        runAsNonRoot: true,
        runAsUser: 1000,
        seccompProfile: { type: 'RuntimeDefault' },
      };
      container['image'] = `${TYPICAL_IMAGE}@${DIGEST}`;
      container['resources'] = {
        requests: { cpu: '10m', memory: '16Mi' },
        limits: { cpu: '100m', memory: '64Mi' },
      };
      container['securityContext'] = {
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ['ALL'] },
      };
      break;
    case 'typical':
      break;
  }
  return spec;
}

export function barePod(ns: string, name: string, style: PodStyle, schedulerName?: string): Json {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ns, labels: { app: name.replace(/-\d+$/, ''), style } },
    spec: podSpec(style, 'Always', schedulerName),
  };
}

export function controllerObject(
  ns: string,
  c: NamespacePlan['controllers'][number],
  schedulerName?: string,
): Json {
  const labels = { app: c.name };
  const template = {
    metadata: { labels },
    spec: podSpec(c.style, c.kind === 'Job' ? 'Never' : 'Always', schedulerName),
  };
  const meta = { name: c.name, namespace: ns, labels };
  switch (c.kind) {
    case 'Deployment':
      return {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: meta,
        spec: { replicas: c.replicas, selector: { matchLabels: labels }, template },
      };
    case 'ReplicaSet':
      return {
        apiVersion: 'apps/v1',
        kind: 'ReplicaSet',
        metadata: meta,
        spec: { replicas: c.replicas, selector: { matchLabels: labels }, template },
      };
    case 'StatefulSet':
      return {
        apiVersion: 'apps/v1',
        kind: 'StatefulSet',
        metadata: meta,
        spec: {
          replicas: c.replicas,
          serviceName: c.name,
          // Pods never become Ready here; OrderedReady would stop at the first.
          podManagementPolicy: 'Parallel',
          selector: { matchLabels: labels },
          template,
        },
      };
    case 'Job':
      return {
        apiVersion: 'batch/v1',
        kind: 'Job',
        metadata: meta,
        spec: { parallelism: c.replicas, completions: c.replicas, backoffLimit: 0, template },
      };
  }
}

export function expectedPods(plan: readonly NamespacePlan[]): number {
  return plan.reduce((n, p) => n + p.bare + p.controllers.reduce((m, c) => m + c.replicas, 0), 0);
}

// ---------------------------------------------------------------------------
// API access with the control plane's admin certificate

interface Response {
  status: number;
  body: string;
}

export class Api {
  private readonly agent: Agent;
  private readonly port: number;
  retries = 0;

  constructor(state: ControlPlaneState, maxSockets: number) {
    this.port = state.apiPort;
    this.agent = new Agent({
      keepAlive: true,
      maxSockets,
      ca: readFileSync(join(state.dir, 'ca.crt')),
      cert: readFileSync(join(state.dir, 'admin.crt')),
      key: readFileSync(join(state.dir, 'admin.key')),
    });
  }

  call(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<Response> {
    return new Promise((res, rej) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const req = request(
        {
          host: '127.0.0.1',
          port: this.port,
          path,
          method,
          agent: this.agent,
          timeout: 60_000,
          headers: {
            accept: 'application/json',
            ...(payload === undefined
              ? {}
              : { 'content-type': contentType, 'content-length': Buffer.byteLength(payload) }),
          },
        },
        (r) => {
          let text = '';
          r.setEncoding('utf8');
          r.on('data', (c: string) => (text += c));
          r.on('end', () => res({ status: r.statusCode ?? 0, body: text }));
          r.on('error', rej);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`${method} ${path}: timeout`)));
      req.on('error', rej);
      req.end(payload);
    });
  }

  /** A request retried on 429, 5xx, transient 4xx from admission races and network errors. */
  async ensure(
    method: string,
    path: string,
    body?: unknown,
    ok: readonly number[] = [200, 201, 202, 409],
    contentType?: string,
  ): Promise<Response> {
    let last = '';
    for (let attempt = 0; attempt < 30; attempt++) {
      try {
        const r = await this.call(method, path, body, contentType);
        if (ok.includes(r.status)) return r;
        last = `${r.status} ${r.body.slice(0, 300)}`;
        // 403 "serviceaccount not found" / namespace not yet ready: retry too.
        const retriable =
          r.status === 429 ||
          r.status >= 500 ||
          (r.status === 403 && /serviceaccount|forbidden/.test(r.body));
        if (!retriable) break;
      } catch (e) {
        last = e instanceof Error ? e.message : String(e);
      }
      this.retries++;
      await sleep(Math.min(2000, 50 * 2 ** Math.min(attempt, 6)) * (0.5 + Math.random()));
    }
    throw new Error(`${method} ${path}: ${last}`);
  }

  async json<T>(path: string): Promise<T> {
    const r = await this.ensure('GET', path, undefined, [200]);
    return JSON.parse(r.body) as T;
  }

  /** Number of objects of a collection (one-item list + remainingItemCount). */
  async count(path: string): Promise<number> {
    const l = await this.json<{ metadata: { remainingItemCount?: number }; items: unknown[] }>(
      `${path}?limit=1`,
    );
    return l.items.length + (l.metadata.remainingItemCount ?? 0);
  }

  /** Streams watch events of a collection until `stop()`; events carry the harness's receive time. */
  watch(
    path: string,
    resourceVersion: string,
    onEvent: (type: string, obj: Json, at: number) => void,
  ): { stop(): void } {
    let stopped = false;
    let current: ReturnType<typeof request> | undefined;
    let rv = resourceVersion;
    const open = (): void => {
      if (stopped) return;
      const q = `watch=1&allowWatchBookmarks=true&timeoutSeconds=3600&resourceVersion=${encodeURIComponent(rv)}`;
      current = request(
        { host: '127.0.0.1', port: this.port, path: `${path}?${q}`, method: 'GET', agent: this.agent },
        (r) => {
          let buf = '';
          r.setEncoding('utf8');
          r.on('data', (chunk: string) => {
            const at = performance.now();
            buf += chunk;
            let i;
            while ((i = buf.indexOf('\n')) >= 0) {
              const line = buf.slice(0, i);
              buf = buf.slice(i + 1);
              if (line.trim() === '') continue;
              const ev = JSON.parse(line) as { type: string; object: Json };
              const meta = ev.object['metadata'] as { resourceVersion?: string } | undefined;
              if (meta?.resourceVersion) rv = meta.resourceVersion;
              if (ev.type !== 'BOOKMARK') onEvent(ev.type, ev.object, at);
            }
          });
          r.on('end', () => setTimeout(open, 100));
          r.on('error', () => setTimeout(open, 100));
        },
      );
      current.on('error', () => setTimeout(open, 500));
      current.end();
    };
    open();
    return {
      stop() {
        stopped = true;
        current?.destroy();
      },
    };
  }

  close(): void {
    this.agent.destroy();
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function pool<T>(items: readonly T[], concurrency: number, fn: (t: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}

// ---------------------------------------------------------------------------
// The control plane, with a faster kube-controller-manager

/**
 * kube-controller-manager's client defaults (20 QPS, burst 30) would take
 * minutes to create thousands of pods; the benchmark runs its own with a
 * higher client rate. Same flags as e2e/controlplane otherwise.
 */
export async function startControllerManager(cp: ControlPlane): Promise<ChildProcess> {
  const s = cp.state;
  const log = openSync(join(s.dir, 'kube-controller-manager.log'), 'a');
  const child = spawn(
    join(s.binDir, 'kube-controller-manager'),
    [
      `--kubeconfig=${s.kubeconfig}`,
      `--authentication-kubeconfig=${s.kubeconfig}`,
      `--authorization-kubeconfig=${s.kubeconfig}`,
      '--leader-elect=false',
      '--bind-address=127.0.0.1',
      `--secure-port=${await freePort()}`,
      `--service-account-private-key-file=${join(s.dir, 'sa.key')}`,
      `--root-ca-file=${join(s.dir, 'ca.crt')}`,
      '--controllers=*,-node-ipam-controller,-node-lifecycle-controller,-persistentvolume-attach-detach-controller,-persistentvolume-binder-controller',
      '--concurrent-deployment-syncs=10',
      '--concurrent-replicaset-syncs=10',
      '--concurrent-statefulset-syncs=10',
      '--concurrent-job-syncs=10',
      '--kube-api-qps=300',
      '--kube-api-burst=600',
      '--v=1',
    ],
    { stdio: ['ignore', log, log] },
  );
  return child;
}

// ---------------------------------------------------------------------------
// The operator as a child process

interface OperatorRun {
  child: ChildProcess;
  pid: number;
  spawnedAt: number;
  metricsUrl: string;
  /** performance.now() of the first log line with this message. */
  logTimes: Map<string, number>;
  waitLog(message: string, timeoutMs: number): Promise<number>;
  scrape(): Promise<Sample[]>;
  stop(): Promise<number | null>;
}

async function startOperator(
  kubeconfig: string,
  logFile: string,
  workers: number | undefined,
  operatorDir: string,
  nodeOptions: string | undefined,
  cg: MemoryCgroup | undefined,
): Promise<OperatorRun> {
  const logTimes = new Map<string, number>();
  const waiters: { message: string; resolve: (t: number) => void }[] = [];
  // The operator logs JSON lines; the first time each message appears is kept.
  const onLine = (line: string, at: number): void => {
    let message: unknown;
    try {
      message = (JSON.parse(line) as { message?: unknown }).message;
    } catch {
      return;
    }
    if (typeof message !== 'string' || logTimes.has(message)) return;
    logTimes.set(message, at);
    for (const w of waiters.filter((x) => x.message === message)) w.resolve(at);
  };
  const op = await launchOperator({
    kubeconfig,
    repoDir: operatorDir,
    logLevel: 'info',
    args: ['--log-format', 'json', ...(workers === undefined ? [] : ['--workers', String(workers)])],
    env: nodeOptions === undefined ? {} : { NODE_OPTIONS: nodeOptions },
    logFile,
    onLine,
    waitReady: false,
    ...(cg ? { wrap: (argv: string[]) => cg.wrap(argv) } : {}),
  });
  const { child } = op;
  const exited = new Promise<number | null>((r) => {
    if (child.exitCode !== null || child.signalCode !== null) r(child.exitCode);
    else child.once('exit', (code) => r(code));
  });
  const run: OperatorRun = {
    child,
    pid: child.pid ?? 0,
    spawnedAt: op.spawnedAt,
    metricsUrl: op.metricsUrl,
    logTimes,
    waitLog(message, timeoutMs) {
      const seen = logTimes.get(message);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((res, rej) => {
        const t = setTimeout(
          () => rej(new Error(`operator: no "${message}" within ${timeoutMs} ms`)),
          timeoutMs,
        );
        waiters.push({
          message,
          resolve: (at) => {
            clearTimeout(t);
            res(at);
          },
        });
        void exited.then((code) => {
          clearTimeout(t);
          const oom =
            cg && cg.oomKills() > 0 ? `, OOM-killed under its ${cg.limitBytes / 2 ** 20} MiB limit` : '';
          const how = code === null ? `signal ${child.signalCode ?? '?'}` : `code ${code}`;
          rej(new Error(`operator exited (${how}${oom}) before "${message}"; log: ${logFile}`));
        });
      });
    },
    async scrape() {
      return parseExposition(await op.metrics()).samples;
    },
    stop: () => op.stop(30_000),
  };
  return run;
}

/** VmRSS of a process in KiB (0 when gone). */
function rssKiB(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

class RssSampler {
  readonly samples: { t: number; mib: number; phase: string }[] = [];
  phase = 'start';
  private timer: NodeJS.Timeout | undefined;
  private pid = 0;
  private readonly t0: number;

  constructor(t0: number) {
    this.t0 = t0;
  }

  follow(pid: number): void {
    this.pid = pid;
    clearInterval(this.timer);
    this.sample();
    this.timer = setInterval(() => this.sample(), 500);
  }

  sample(): number {
    const kib = rssKiB(this.pid);
    if (kib > 0)
      this.samples.push({
        t: round((performance.now() - this.t0) / 1000),
        mib: round(kib / 1024),
        phase: this.phase,
      });
    return kib / 1024;
  }

  /** Largest sample of one phase, or of every phase but `except`. */
  peak(phase?: string, except?: string): number {
    let m = 0;
    for (const s of this.samples)
      if ((phase === undefined || s.phase === phase) && s.phase !== except) m = Math.max(m, s.mib);
    return m;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

// ---------------------------------------------------------------------------
// Phases

const GROUP_PATH = '/apis/security.vigil.dev/v1alpha1';
/** The young-generation bound of the last restart (see ClusterDetails.boundedRestart). */
export const BOUNDED_NODE_OPTIONS = '--max-semi-space-size=16';

export async function createObjects(
  api: Api,
  plan: readonly NamespacePlan[],
  o: ClusterOptions,
): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  const bump = (k: string): void => void (counts[k] = (counts[k] ?? 0) + 1);
  await api.ensure('POST', '/api/v1/namespaces', {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: 'vigil-system' },
  });
  await api.ensure('POST', `${GROUP_PATH}/securitypolicies`, {
    apiVersion: 'security.vigil.dev/v1alpha1',
    kind: 'SecurityPolicy',
    metadata: { name: 'recommended' },
    spec: {
      profile: 'recommended',
      events: { minSeverity: 'critical' },
      ...(o.customRules ? { customRules: BENCH_RULES } : {}),
    },
  });
  bump('SecurityPolicy');
  await pool(plan, o.concurrency, async (p) => {
    await api.ensure('POST', '/api/v1/namespaces', {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: p.name, labels: { team: p.name } },
    });
    bump('Namespace');
  });
  // Pods need the namespace's default ServiceAccount (made by kube-controller-manager).
  await waitFor(
    'default ServiceAccounts',
    async () => {
      const l = await api.json<{ items: { metadata: { namespace: string; name: string } }[] }>(
        '/api/v1/serviceaccounts?fieldSelector=metadata.name%3Ddefault',
      );
      const have = new Set(l.items.map((i) => i.metadata.namespace));
      return plan.every((p) => have.has(p.name));
    },
    120_000,
  );
  const jobs: (() => Promise<void>)[] = [];
  for (const p of plan) {
    const ns = p.name;
    jobs.push(async () => {
      await api.ensure('POST', `/api/v1/namespaces/${ns}/services`, {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'web', namespace: ns },
        spec: { selector: { app: 'web' }, ports: [{ port: 80 }] },
      });
      bump('Service');
    });
    if (p.defaultDeny)
      jobs.push(async () => {
        await api.ensure('POST', `/apis/networking.k8s.io/v1/namespaces/${ns}/networkpolicies`, {
          apiVersion: 'networking.k8s.io/v1',
          kind: 'NetworkPolicy',
          metadata: { name: 'default-deny', namespace: ns },
          spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] },
        });
        bump('NetworkPolicy');
      });
    for (const c of p.controllers) {
      const base = c.kind === 'Job' ? '/apis/batch/v1' : '/apis/apps/v1';
      const plural = `${c.kind.toLowerCase()}s`;
      jobs.push(async () => {
        await api.ensure(
          'POST',
          `${base}/namespaces/${ns}/${plural}`,
          controllerObject(ns, c, o.schedulerName),
        );
        bump(c.kind);
      });
    }
    for (let j = 0; j < p.bare; j++) {
      const name = `pod-${String(j).padStart(5, '0')}`;
      jobs.push(async () => {
        await api.ensure(
          'POST',
          `/api/v1/namespaces/${ns}/pods`,
          barePod(ns, name, bareStyle(j), o.schedulerName),
        );
        bump('Pod (bare)');
      });
    }
  }
  // Controllers first (kube-controller-manager starts on their pods while bare pods are created).
  await pool(jobs, o.concurrency, (f) => f());
  return counts;
}

export async function waitForPods(api: Api, want: number, o: ClusterOptions): Promise<void> {
  let last = -1;
  let lastChange = performance.now();
  await waitFor(
    `${want} pods`,
    async () => {
      const n = await api.count('/api/v1/pods');
      if (n !== last) {
        if (Math.floor(n / 1000) !== Math.floor(last / 1000)) o.log(`  ${n} / ${want} pods`);
        last = n;
        lastChange = performance.now();
      } else if (performance.now() - lastChange > 120_000) {
        throw new Error(`pod count stuck at ${n} of ${want} for 2 minutes`);
      }
      if (n > want) throw new Error(`${n} pods, more than the ${want} planned`);
      await sleep(800);
      return n === want;
    },
    30 * 60_000,
  );
}

async function measureStart(
  kubeconfig: string,
  logFile: string,
  o: ClusterOptions,
  rss: RssSampler,
  phase: string,
  started: (run: OperatorRun) => void,
  cg: MemoryCgroup | undefined,
  nodeOptions: string | undefined = o.nodeOptions,
  findingsKnown?: () => Promise<boolean>,
): Promise<{ run: OperatorRun; m: StartMeasurement }> {
  rss.phase = phase;
  const run = await startOperator(kubeconfig, logFile, o.workers, o.operatorDir, nodeOptions, cg);
  started(run);
  rss.follow(run.pid);
  const synced = await run.waitLog('caches synced', 10 * 60_000);
  o.log(`  ${phase}: caches synced after ${((synced - run.spawnedAt) / 1000).toFixed(1)} s`);
  let knownAt: number | undefined;
  const probing = findingsKnown
    ? (async () => {
        while (knownAt === undefined) {
          if (await findingsKnown().catch(() => false)) knownAt = performance.now();
          else await sleep(100);
        }
      })()
    : Promise.resolve();
  const done = await run.waitLog('full evaluation complete', 60 * 60_000);
  await probing;
  const samples = await run.scrape();
  const after = rss.sample();
  const m: StartMeasurement = {
    cacheSyncSeconds: round((synced - run.spawnedAt) / 1000, 2),
    fullEvaluationSeconds: round((done - synced) / 1000, 2),
    ...(knownAt === undefined ? {} : { findingsKnownSeconds: round((knownAt - synced) / 1000, 2) }),
    reportsWritten: metricSum(samples, 'vigil_reports_written_total'),
    requests: requestsByVerb(samples),
    peakRssMiB: rss.peak(phase),
    rssAfterMiB: round(after),
  };
  o.log(
    `  ${phase}: ${m.findingsKnownSeconds === undefined ? '' : `findings known ${m.findingsKnownSeconds} s, `}full evaluation ${m.fullEvaluationSeconds} s after sync, ${m.reportsWritten} report writes, ` +
      `RSS peak ${m.peakRssMiB} MiB`,
  );
  return { run, m };
}

/** Waits until the operator's subject queue is empty and stays so for a moment. */
/**
 * Waits until the operator has caught up: nothing queued, no reconcile running and nothing
 * added to the queue for longer than the longest delay the controller schedules work with
 * (a namespace's re-evaluation after workloads come and go), so delayed work is not
 * mistaken for steady-state writes.
 */
async function waitIdle(run: OperatorRun, timeoutMs: number): Promise<void> {
  const idleMs = NAMESPACE_DELAY_MS + 2000;
  let quietSince = 0;
  let lastAdds = -1;
  await waitFor(
    'operator idle',
    async () => {
      const s = await run.scrape();
      // Evaluation (subjects) and report writes (scanreports) are two queues: both must be idle.
      const depth =
        metricSum(s, 'workqueue_depth', { name: 'subjects' }) +
        metricSum(s, 'workqueue_depth', { name: 'scanreports' });
      const active =
        metricSum(s, 'controller_runtime_active_workers', { controller: 'subject' }) +
        metricSum(s, 'controller_runtime_active_workers', { controller: 'scanreport' });
      const adds =
        metricSum(s, 'workqueue_adds_total', { name: 'subjects' }) +
        metricSum(s, 'workqueue_adds_total', { name: 'scanreports' });
      if (depth > 0 || active > 0 || adds !== lastAdds) {
        lastAdds = adds;
        quietSince = 0;
        return false;
      }
      quietSince ||= performance.now();
      return performance.now() - quietSince > idleMs;
    },
    timeoutMs,
  );
}

interface ChurnOp {
  kind: 'create' | 'update' | 'delete';
  key: string;
  sentAt: number;
  doneAt?: number;
  seenAt?: number;
  failed?: boolean;
  matches(type: string, obj: Json): boolean;
}

interface Finding {
  ruleId?: string;
}

function findingsOf(obj: Json): Finding[] {
  const status = obj['status'] as { findings?: Finding[] } | undefined;
  return status?.findings ?? [];
}

async function churn(
  api: Api,
  plan: readonly NamespacePlan[],
  o: ClusterOptions,
): Promise<{ ops: ChurnOp[]; seconds: number; errors: number }> {
  // Targets: typical bare pods, disjoint for updates and deletes.
  const typical: { ns: string; name: string }[] = [];
  for (let j = 0; ; j++) {
    let any = false;
    for (const p of plan) {
      if (j >= p.bare) continue;
      any = true;
      if (bareStyle(j) === 'typical') typical.push({ ns: p.name, name: `pod-${String(j).padStart(5, '0')}` });
    }
    if (!any) break;
  }
  const updates = typical.filter((_, i) => i % 3 !== 2);
  const deletes = typical.filter((_, i) => i % 3 === 2);
  const updated = new Map<string, number>();
  const ops: ChurnOp[] = [];
  const pending = new Map<string, ChurnOp[]>();
  const watchRv = (
    await api.json<{ metadata: { resourceVersion: string } }>(`${GROUP_PATH}/scanreports?limit=1`)
  ).metadata.resourceVersion;
  const watch = api.watch(`${GROUP_PATH}/scanreports`, watchRv, (type, obj, at) => {
    const meta = obj['metadata'] as { namespace?: string; name?: string };
    const key = `${meta.namespace ?? ''}/${meta.name ?? ''}`;
    const list = pending.get(key);
    if (!list) return;
    for (const op of list) {
      if (op.seenAt === undefined && op.matches(type, obj)) op.seenAt = at;
    }
    const left = list.filter((x) => x.seenAt === undefined);
    if (left.length === 0) pending.delete(key);
    else pending.set(key, left);
  });
  let errors = 0;
  const inflight = new Set<Promise<void>>();
  const fire = (op: ChurnOp, send: () => Promise<Response>, okStatus: readonly number[]): void => {
    ops.push(op);
    pending.set(op.key, [...(pending.get(op.key) ?? []), op]);
    const p = send()
      .then((r) => {
        op.doneAt = performance.now();
        if (!okStatus.includes(r.status)) {
          op.failed = true;
          errors++;
        }
      })
      .catch(() => {
        op.failed = true;
        errors++;
      })
      .finally(() => inflight.delete(p));
    inflight.add(p);
  };
  const total = Math.round(o.churnRate * o.churnSeconds);
  const interval = 1000 / o.churnRate;
  const start = performance.now();
  let created = 0;
  let u = 0;
  let d = 0;
  for (let i = 0; i < total; i++) {
    const wait = start + i * interval - performance.now();
    if (wait > 0) await sleep(wait);
    const slot = i % 5; // 2 creates, 2 updates, 1 delete per 5 operations
    const sentAt = performance.now();
    if (slot === 2 && d < deletes.length) {
      const t = deletes[d++] as { ns: string; name: string };
      fire(
        {
          kind: 'delete',
          key: `${t.ns}/${reportName({ kind: 'Pod', name: t.name, namespace: t.ns })}`,
          sentAt,
          matches: (type) => type === 'DELETED',
        },
        () => api.call('DELETE', `/api/v1/namespaces/${t.ns}/pods/${t.name}?gracePeriodSeconds=0`),
        [200, 202],
      );
    } else if ((slot === 1 || slot === 4) && updates.length > 0) {
      const t = updates[u++ % updates.length] as { ns: string; name: string };
      const id = `${t.ns}/${t.name}`;
      const n = (updated.get(id) ?? 0) + 1;
      updated.set(id, n);
      const toLatest = n % 2 === 1;
      fire(
        {
          kind: 'update',
          key: `${t.ns}/${reportName({ kind: 'Pod', name: t.name, namespace: t.ns })}`,
          sentAt,
          matches: (type, obj) =>
            type !== 'DELETED' && findingsOf(obj).some((f) => f.ruleId === 'image-latest-tag') === toLatest,
        },
        () =>
          api.call(
            'PATCH',
            `/api/v1/namespaces/${t.ns}/pods/${t.name}`,
            { spec: { containers: [{ name: 'app', image: toLatest ? LATEST_IMAGE : TYPICAL_IMAGE }] } },
            'application/strategic-merge-patch+json',
          ),
        [200],
      );
    } else {
      const p = plan[created % plan.length] as NamespacePlan;
      const name = `churn-${String(created++).padStart(5, '0')}`;
      fire(
        {
          kind: 'create',
          key: `${p.name}/${reportName({ kind: 'Pod', name, namespace: p.name })}`,
          sentAt,
          matches: (type, obj) =>
            type !== 'DELETED' && findingsOf(obj).some((f) => f.ruleId === 'pss-privileged'),
        },
        () => api.call('POST', `/api/v1/namespaces/${p.name}/pods`, barePod(p.name, name, 'privileged')),
        [201],
      );
    }
  }
  await Promise.all([...inflight]);
  const sent = performance.now();
  // Let the last findings arrive (at most 60 s).
  await waitFor(
    'churn findings',
    () => Promise.resolve(ops.every((op) => op.failed || op.seenAt !== undefined)),
    60_000,
  ).catch(() => o.log('  some churn operations never showed in a report (counted as unmatched)'));
  watch.stop();
  return { ops, seconds: round((sent - start) / 1000, 2), errors };
}

// ---------------------------------------------------------------------------

export async function runCluster(
  o: ClusterOptions,
): Promise<{ result: ClusterResult; details: ClusterDetails }> {
  const t0 = performance.now();
  const load0 = os.loadavg().map((x) => round(x, 2));
  mkdirSync(o.outDir, { recursive: true });
  const work = join(BENCH_DIR, '.work');
  mkdirSync(work, { recursive: true });
  const plan = layout(o.pods, o.namespaces);
  const want = expectedPods(plan);
  let cg: MemoryCgroup | undefined;
  let memoryLimit: ClusterDetails['memoryLimit'] = { limit: null, cgroup: null };
  if (o.memoryLimit !== undefined) {
    const made = createMemoryCgroup(`vigil-bench-${process.pid}`, quantityBytes(o.memoryLimit));
    if ('error' in made) {
      memoryLimit = { limit: null, cgroup: null, error: made.error };
      o.log(`operator runs without a memory limit (${made.error})`);
    } else {
      cg = made;
      memoryLimit = { limit: o.memoryLimit, cgroup: made.dir };
      o.log(`operator runs in a memory cgroup limited to ${o.memoryLimit} (${made.dir})`);
    }
  }
  o.log(`starting a control plane (${want} pods in ${plan.length} namespaces planned)`);
  const cp = await ControlPlane.start({ controllerManager: false });
  let kcm: ChildProcess | undefined;
  let op: OperatorRun | undefined;
  const rss = new RssSampler(t0);
  const api = new Api(cp.state, o.concurrency + 8);
  try {
    kcm = await startControllerManager(cp);
    cp.installCrds();
    const setupStart = performance.now();
    o.log('creating objects');
    const objects = await createObjects(api, plan, o);
    const podsStart = performance.now();
    o.log(`objects created in ${((podsStart - setupStart) / 1000).toFixed(1)} s; waiting for ${want} pods`);
    await waitForPods(api, want, o);
    const setupEnd = performance.now();
    const loadAfterSetup = os.loadavg().map((x) => round(x, 2));
    o.log(
      `${want} pods in ${((setupEnd - setupStart) / 1000).toFixed(1)} s; load ${loadAfterSetup.join(' ')}`,
    );
    // Let the controller manager's own follow-up writes (status updates, events) settle.
    await sleep(5000);

    o.log('cold start: operator with no reports');
    const cold = await measureStart(
      cp.kubeconfig,
      join(work, 'cluster-operator-cold.log'),
      o,
      rss,
      'cold-start',
      (r) => (op = r),
      cg,
      o.nodeOptions,
      async () => {
        const p = await api.json<{ status?: { conditions?: { type: string; status: string }[] } }>(
          `${GROUP_PATH}/securitypolicies/recommended`,
        );
        return p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
      },
    );
    op = cold.run;
    await waitIdle(op, 10 * 60_000);
    const reports = await api.count(`${GROUP_PATH}/scanreports`);
    o.log(`  ${reports} ScanReports`);

    o.log(`churn: ${o.churnRate} changes/s for ${o.churnSeconds} s`);
    rss.phase = 'churn';
    const before = await op.scrape();
    const c = await churn(api, plan, o);
    await waitIdle(op, 5 * 60_000).catch(() => o.log('  operator still busy after churn'));
    const after = await op.scrape();
    const churnEnd = performance.now();
    const churnWindow = round((churnEnd - (c.ops[0]?.sentAt ?? churnEnd)) / 1000, 2);

    o.log(`quiet: ${o.quietSeconds} s without changes`);
    rss.phase = 'quiet';
    const q0 = await op.scrape();
    const q0t = performance.now();
    await sleep(o.quietSeconds * 1000);
    const q1 = await op.scrape();
    const quietSeconds = round((performance.now() - q0t) / 1000, 2);
    const quietRss = rss.sample();

    let warm: StartMeasurement | undefined;
    let bounded: ClusterDetails['boundedRestart'];
    if (o.restart) {
      o.log('warm restart: operator with every report in place');
      const code = await op.stop();
      op = undefined;
      if (code !== 0) o.log(`  operator exit code ${code} after SIGTERM`);
      const w = await measureStart(
        cp.kubeconfig,
        join(work, 'cluster-operator-warm.log'),
        o,
        rss,
        'warm-restart',
        (r) => (op = r),
        cg,
      );
      op = w.run;
      warm = w.m;
    }
    // Unconstrained, Node sizes its young generation from the host's memory; one more restart
    // with it bounded separates that from Vigil's own memory. (Under a memory limit Node
    // already sizes both generations from the limit.)
    if (o.restart && !cg) {
      o.log(`restart with NODE_OPTIONS=${BOUNDED_NODE_OPTIONS}`);
      await op.stop();
      op = undefined;
      const b = await measureStart(
        cp.kubeconfig,
        join(work, 'cluster-operator-bounded.log'),
        o,
        rss,
        'bounded-restart',
        (r) => (op = r),
        undefined,
        [o.nodeOptions, BOUNDED_NODE_OPTIONS].filter(Boolean).join(' '),
      );
      op = b.run;
      await sleep(20_000);
      bounded = { ...b.m, nodeOptions: BOUNDED_NODE_OPTIONS, idleRssMiB: round(rss.sample()) };
      o.log(`  bounded-restart: RSS ${bounded.idleRssMiB} MiB after 20 s idle`);
    }
    rss.stop();

    // ---- results
    const done = c.ops.filter((x) => !x.failed && x.doneAt !== undefined && x.seenAt !== undefined);
    const latency = (x: ChurnOp): number => Math.max(0, (x.seenAt ?? 0) - (x.doneAt ?? 0));
    const external = summarize(done.map(latency));
    const byOperation: Record<string, Percentiles> = {};
    for (const k of ['create', 'update', 'delete'] as const)
      byOperation[k] = summarize(done.filter((x) => x.kind === k).map(latency));
    const hist = histogramDelta(
      histogramBuckets(before, 'vigil_time_to_finding_seconds'),
      histogramBuckets(after, 'vigil_time_to_finding_seconds'),
    );
    const hq = (q: number): number => round(histogramQuantile(q, hist) * 1000);
    const churnReq = subtractCounts(requestsByVerb(after), requestsByVerb(before));
    const quietReq = subtractCounts(requestsByVerb(q1), requestsByVerb(q0));
    const opsCount: Record<string, number> = {};
    for (const x of c.ops) opsCount[x.kind] = (opsCount[x.kind] ?? 0) + 1;
    const quietWrites = writeCount(quietReq);
    const details: ClusterDetails = {
      generatedAt: new Date().toISOString(),
      machine: machine(),
      loadAverage: { start: load0, afterSetup: loadAfterSetup, end: os.loadavg().map((x) => round(x, 2)) },
      options: {
        pods: o.pods,
        namespaces: o.namespaces,
        churnRate: o.churnRate,
        churnSeconds: o.churnSeconds,
        quietSeconds: o.quietSeconds,
        workers: o.workers,
        restart: o.restart,
        outDir: o.outDir,
        markdown: o.markdown,
        concurrency: o.concurrency,
        operatorDir: o.operatorDir,
        nodeOptions: o.nodeOptions,
        memoryLimit: o.memoryLimit,
      },
      memoryLimit: cg
        ? {
            ...memoryLimit,
            peakChargedMiB: round((cg.peakBytes() ?? 0) / 2 ** 20),
            oomKills: cg.oomKills(),
          }
        : memoryLimit,
      setup: {
        seconds: round((setupEnd - setupStart) / 1000),
        objects,
        podsSeconds: round((setupEnd - podsStart) / 1000),
        retries: api.retries,
      },
      coldStart: cold.m,
      ...(warm ? { warmRestart: warm } : {}),
      ...(bounded ? { boundedRestart: bounded } : {}),
      subjects: { reports },
      churn: {
        seconds: churnWindow,
        operations: opsCount,
        achievedRate: round(c.ops.length / c.seconds, 2),
        apiErrors: c.errors,
        external: {
          ...external,
          unmatched: c.ops.filter((x) => !x.failed && x.seenAt === undefined).length,
          byOperation,
        },
        internal: {
          count: hist[hist.length - 1]?.count ?? 0,
          p50: hq(0.5),
          p95: hq(0.95),
          p99: hq(0.99),
          max: NaN,
          buckets: hist,
        },
        requests: churnReq,
        requestsPerSecond: round(total(churnReq) / churnWindow, 2),
        writesPerSecond: round(writeCount(churnReq) / churnWindow, 2),
        reportsWritten:
          metricSum(after, 'vigil_reports_written_total') - metricSum(before, 'vigil_reports_written_total'),
        peakRssMiB: rss.peak('churn'),
      },
      quiet: {
        seconds: quietSeconds,
        requests: quietReq,
        requestsPerSecond: round(total(quietReq) / quietSeconds, 3),
        writes: quietWrites,
        reportsWritten:
          metricSum(q1, 'vigil_reports_written_total') - metricSum(q0, 'vigil_reports_written_total'),
        writesPerMinute: round((quietWrites * 60) / quietSeconds, 2),
        rssMiB: round(quietRss),
      },
      rss: { peakMiB: rss.peak(undefined, 'bounded-restart'), samples: rss.samples },
      totalSeconds: round((performance.now() - t0) / 1000),
    };
    const result: ClusterResult = {
      pods: want,
      findingsKnownSeconds: cold.m.findingsKnownSeconds ?? NaN,
      reportsPersistedSeconds: cold.m.fullEvaluationSeconds,
      fullEvaluationSeconds: cold.m.fullEvaluationSeconds,
      timeToFindingP50Ms: external.p50,
      timeToFindingP95Ms: external.p95,
      timeToFindingP99Ms: external.p99,
      rssMiB: Math.round(rss.peak(undefined, 'bounded-restart')),
      memorySource: HOST_RSS_SOURCE,
      apiRequestsPerSecond: details.churn.requestsPerSecond,
      steadyStateWritesPerMinute: details.quiet.writesPerMinute,
    };
    writeFileSync(join(o.outDir, 'cluster.json'), `${JSON.stringify(result, null, 2)}\n`);
    writeFileSync(join(o.outDir, 'cluster-details.json'), `${JSON.stringify(details, null, 2)}\n`);
    if (o.markdown) updateMarkdown(join(REPO, 'BENCHMARKS.md'), renderMarkdown(result, details));
    return { result, details };
  } finally {
    rss.stop();
    await op?.stop();
    cg?.remove();
    api.close();
    kcm?.kill('SIGTERM');
    await cp.stop();
  }
}

function machine(): Record<string, string | number> {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model ?? 'unknown',
    cpus: cpus.length,
    memoryGiB: round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    kubernetes: 'v1.37.2 (etcd, kube-apiserver, kube-controller-manager on loopback)',
  };
}

// ---------------------------------------------------------------------------
// BENCHMARKS.md: only the text between the markers is generated.

export const MD_BEGIN = '<!-- BEGIN cluster results: generated by bench/cluster.ts, do not edit -->';
export const MD_END = '<!-- END cluster results -->';

export const TARGETS = {
  findingsKnownSeconds: 10,
  fullEvaluationSeconds: 10,
  timeToFindingP99Ms: 1000,
  rssMiB: 200,
  steadyStateWritesPerMinute: 0,
};

function verdict(ok: boolean): string {
  return ok ? 'met' : '**not met**';
}

function verbs(r: Record<string, number>): string {
  const parts = Object.entries(r)
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1])
    .map(([v, n]) => `${v} ${n}`);
  return parts.length > 0 ? parts.join(', ') : 'none';
}

export function renderMarkdown(r: ClusterResult, d: ClusterDetails): string {
  const m = d.machine;
  const ch = d.churn;
  const w = d.warmRestart;
  const lines = [
    `Run of ${d.generatedAt.slice(0, 10)}: ${r.pods.toLocaleString('en-US')} pods in ${d.options.namespaces} namespaces. ` +
      `Machine: ${m['cpuModel']}, ${m['cpus']} CPUs, ${m['memoryGiB']} GiB RAM, ${m['os']}; Node ${m['node']}; ` +
      `Kubernetes ${m['kubernetes']}. Load average at start / after setup / end: ` +
      `${d.loadAverage.start.join(' ')} / ${d.loadAverage.afterSetup.join(' ')} / ${d.loadAverage.end.join(' ')}. ` +
      `Whole run ${Math.round(d.totalSeconds)} s (setup ${Math.round(d.setup.seconds)} s).`,
    '',
    '| Measure | Result | Target | |',
    '|---|---:|---:|---|',
    `| Every finding known (policy status Ready=True, metrics) after cache sync, cold start | ${r.findingsKnownSeconds} s | < ${TARGETS.findingsKnownSeconds} s | ${verdict(r.findingsKnownSeconds < TARGETS.findingsKnownSeconds)} |`,
    `| Every ScanReport persisted after cache sync, cold start (${d.coldStart.reportsWritten.toLocaleString('en-US')} report writes) | ${r.reportsPersistedSeconds} s | | |`,
    ...(w
      ? [
          `| Full evaluation after cache sync, restart with reports in place (${w.reportsWritten} writes) | ${w.fullEvaluationSeconds} s | < ${TARGETS.fullEvaluationSeconds} s | ${verdict(w.fullEvaluationSeconds < TARGETS.fullEvaluationSeconds)} |`,
        ]
      : []),
    `| Time to finding p50 / p95 / p99, external (API response → ScanReport watch event) | ${r.timeToFindingP50Ms} / ${r.timeToFindingP95Ms} / ${r.timeToFindingP99Ms} ms | p99 ≤ ${TARGETS.timeToFindingP99Ms} ms | ${verdict(r.timeToFindingP99Ms <= TARGETS.timeToFindingP99Ms)} |`,
    `| Time to finding p50 / p95 / p99, operator histogram (watch event → report write, interpolated) | ${ch.internal.p50} / ${ch.internal.p95} / ${ch.internal.p99} ms | | |`,
    // The target is measured in the operator pod's cgroup (bench/pod-memory.ts, its own section).
    `| Operator RSS on the host, peak over the run | ${Math.round(d.rss.peakMiB)} MiB | | |`,
    d.memoryLimit.limit !== null
      ? `| Memory limit ${d.memoryLimit.limit} (enforced with a cgroup)${d.options.nodeOptions ? ` and \`NODE_OPTIONS=${d.options.nodeOptions}\`` : ''}, as config/manager/manager.yaml ships them: most memory charged / OOM kills | ${d.memoryLimit.peakChargedMiB ?? '?'} MiB / ${d.memoryLimit.oomKills ?? '?'} | no OOM kill | ${verdict(d.memoryLimit.oomKills === 0)} |`
      : `| Memory limit | none${d.memoryLimit.error ? ` (${d.memoryLimit.error})` : ''}: Node sized its heap from the host's memory | | |`,
    `| Operator RSS after full evaluation / at the end of the quiet period | ${d.coldStart.rssAfterMiB} / ${d.quiet.rssMiB} MiB | | |`,
    ...(d.boundedRestart
      ? [
          `| Operator RSS with \`NODE_OPTIONS=${d.boundedRestart.nodeOptions}\`: peak through a restart's full evaluation / idle 20 s later | ${d.boundedRestart.peakRssMiB} / ${d.boundedRestart.idleRssMiB} MiB | ≤ ${TARGETS.rssMiB} MiB | ${verdict(d.boundedRestart.peakRssMiB <= TARGETS.rssMiB)} |`,
        ]
      : []),
    `| API requests by Vigil during churn | ${r.apiRequestsPerSecond}/s (${verbs(ch.requests)}) | | |`,
    `| Writes per minute when nothing changes | ${r.steadyStateWritesPerMinute} (${d.quiet.requestsPerSecond} requests/s: ${verbs(d.quiet.requests)}) | ${TARGETS.steadyStateWritesPerMinute} | ${verdict(r.steadyStateWritesPerMinute <= TARGETS.steadyStateWritesPerMinute)} |`,
    '',
    `Setup: ${Object.entries(d.setup.objects)
      .map(([k, n]) => `${n} ${k}`)
      .join(
        ', ',
      )}; the pods made by kube-controller-manager appeared ${Math.round(d.setup.podsSeconds)} s after the last create. ` +
      `Cold start: caches synced ${d.coldStart.cacheSyncSeconds} s after the process started; ${d.subjects.reports.toLocaleString('en-US')} ScanReports afterwards.` +
      (w ? ` Restart: caches synced after ${w.cacheSyncSeconds} s, RSS peak ${w.peakRssMiB} MiB.` : ''),
    '',
    `Churn: ${Object.entries(ch.operations)
      .map(([k, n]) => `${n} ${k}s`)
      .join(', ')} at ${ch.achievedRate}/s achieved (${ch.apiErrors} API errors); ` +
      `${ch.external.count} changes seen in a report, ${ch.external.unmatched} never seen within 60 s; ` +
      `${ch.reportsWritten} report writes; ${ch.writesPerSecond} write requests/s; RSS peak ${ch.peakRssMiB} MiB. External latency by operation (p50 / p99 ms): ` +
      Object.entries(ch.external.byOperation)
        .map(([k, p]) => `${k} ${p.p50} / ${p.p99}`)
        .join(', ') +
      '.',
  ];
  return lines.join('\n');
}

export function updateMarkdown(
  file: string,
  generated: string,
  markers = { begin: MD_BEGIN, end: MD_END },
): void {
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const begin = text.indexOf(markers.begin);
  const end = text.indexOf(markers.end);
  if (begin < 0 || end < begin) {
    console.error(`${file}: markers ${markers.begin} … ${markers.end} not found; not updated`);
    return;
  }
  writeFileSync(file, `${text.slice(0, begin + markers.begin.length)}\n${generated}\n${text.slice(end)}`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      pods: { type: 'string' },
      namespaces: { type: 'string' },
      'churn-rate': { type: 'string' },
      'churn-seconds': { type: 'string' },
      'quiet-seconds': { type: 'string' },
      workers: { type: 'string' },
      smoke: { type: 'boolean', default: false },
      'no-markdown': { type: 'boolean', default: false },
      'no-restart': { type: 'boolean', default: false },
      out: { type: 'string' },
      'operator-dir': { type: 'string' },
      'node-options': { type: 'string' },
      'memory-limit': { type: 'string' },
      'custom-rules': { type: 'boolean', default: false },
    },
  });
  const o = defaultOptions(values.smoke);
  const int = (s: string | undefined, name: string, fallback: number): number => {
    if (s === undefined) return fallback;
    const n = Number(s);
    if (!Number.isSafeInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer`);
    return n;
  };
  o.pods = int(values.pods, 'pods', o.pods);
  o.namespaces = int(values.namespaces, 'namespaces', o.namespaces);
  o.churnRate = int(values['churn-rate'], 'churn-rate', o.churnRate);
  o.churnSeconds = int(values['churn-seconds'], 'churn-seconds', o.churnSeconds);
  o.quietSeconds = int(values['quiet-seconds'], 'quiet-seconds', o.quietSeconds);
  if (values.workers !== undefined) o.workers = int(values.workers, 'workers', 4);
  if (values['no-markdown']) o.markdown = false;
  if (values['no-restart']) o.restart = false;
  if (values['custom-rules']) o.customRules = true;
  if (values.out !== undefined) o.outDir = resolve(values.out);
  if (values['operator-dir'] !== undefined) o.operatorDir = resolve(values['operator-dir']);
  if (values['node-options'] !== undefined) o.nodeOptions = values['node-options'] || undefined;
  const limit = values['memory-limit'];
  if (limit === 'none') o.memoryLimit = undefined;
  else if (limit !== undefined) {
    quantityBytes(limit); // a clear error before any setup
    o.memoryLimit = limit;
  }
  const { result, details } = await runCluster(o);
  console.log(JSON.stringify(result, null, 2));
  o.log(`in-cluster benchmark done in ${Math.round(details.totalSeconds)} s; results in ${o.outDir}`);
}

if (import.meta.main) await main();
