/**
 * Which Kubernetes Events to emit when a subject's findings change, and their
 * events.k8s.io/v1 bodies. No I/O: the adapter (adapters/event-sink.ts) posts
 * what `FindingEventPlanner.plan()` returns.
 *
 * - One event per (object uid, rule, transition): Warning `FindingDetected`
 *   when a rule starts reporting findings at or above `minSeverity`, Normal
 *   `FindingResolved` when it stops. Several findings of one rule (several
 *   containers, several policies) make one event.
 * - A dedup cache (TTL, bounded) suppresses the same transition while it is
 *   remembered: a reconcile retried after a failed report write, or a
 *   flapping object, does not repeat the event.
 * - A global token bucket (10/s, burst 50 by default) caps the rate; events
 *   over it are dropped and counted. Events are a notification, never the
 *   record: the ScanReport is durable, Events expire (1 h by default).
 */
import type { Severity } from '../engine/types.ts';
import { SEVERITIES, severityRank } from '../engine/types.ts';
import type { Clock } from './clock.ts';
import { formatMicroTime, sanitizeSubdomain, sha256Hex, truncateName } from './names.ts';
import { TokenBucket } from './rate-limiter.ts';

export const REASON_FINDING_DETECTED = 'FindingDetected';
export const REASON_FINDING_RESOLVED = 'FindingResolved';
export type FindingEventReason = typeof REASON_FINDING_DETECTED | typeof REASON_FINDING_RESOLVED;
/** Reason of the Warning events the audit pipeline posts on the object a detection is about (audit/events.ts). */
export const REASON_AUDIT_DETECTION = 'AuditDetection';
/** Reason of the Warning event on a SecurityPolicy when one of its audit responses was carried out. */
export const REASON_AUDIT_RESPONSE = 'AuditResponse';

export const REPORTING_CONTROLLER = 'vigil';
/** Kubernetes rejects a longer note (validation counts bytes). */
export const NOTE_MAX_BYTES = 1024;
/** The action the events report on. */
export const EVENT_ACTION = 'Scan';
/** Namespace for events about cluster-scoped objects (API validation allows only default or kube-system). */
export const CLUSTER_EVENT_NAMESPACE = 'default';

/** The part of a finding events need; engine Findings and report findings both fit. */
export interface EventFinding {
  ruleId: string;
  severity: Severity;
  message: string;
  title?: string | undefined;
  container?: string | undefined;
  policy?: string | undefined;
}

export interface FindingTransition {
  ruleId: string;
  reason: FindingEventReason;
  /** Highest severity among the findings involved. */
  severity: Severity;
  /** The rule's current findings (detected) or its last known findings (resolved). */
  findings: EventFinding[];
}

/** The object an event is about. */
export interface RegardingRef {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string | undefined;
  uid: string;
}

export interface ObjectReferenceV1 {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
  uid?: string;
}

/** events.k8s.io/v1 Event, as posted. */
export interface EventV1 {
  apiVersion: 'events.k8s.io/v1';
  kind: 'Event';
  metadata: { name: string; namespace: string };
  eventTime: string;
  reportingController: string;
  reportingInstance: string;
  action: string;
  reason: FindingEventReason | typeof REASON_AUDIT_DETECTION | typeof REASON_AUDIT_RESPONSE;
  type: 'Normal' | 'Warning';
  regarding: ObjectReferenceV1;
  related?: ObjectReferenceV1;
  note: string;
}

/**
 * Rules whose findings at or above `minSeverity` appeared (FindingDetected) or
 * disappeared (FindingResolved) between `previous` and `current`. Sorted by
 * rule id, detections first.
 */
export function findingTransitions(
  previous: readonly EventFinding[],
  current: readonly EventFinding[],
  minSeverity: Severity,
): FindingTransition[] {
  const min = severityRank(minSeverity);
  const group = (list: readonly EventFinding[]): Map<string, EventFinding[]> => {
    const m = new Map<string, EventFinding[]>();
    for (const f of list) {
      if (!SEVERITIES.includes(f.severity) || severityRank(f.severity) < min) continue;
      const arr = m.get(f.ruleId) ?? [];
      arr.push(f);
      m.set(f.ruleId, arr);
    }
    return m;
  };
  const before = group(previous);
  const after = group(current);
  const out: FindingTransition[] = [];
  for (const [ruleId, findings] of after) {
    if (!before.has(ruleId))
      out.push({ ruleId, reason: REASON_FINDING_DETECTED, severity: maxSeverity(findings), findings });
  }
  for (const [ruleId, findings] of before) {
    if (!after.has(ruleId))
      out.push({ ruleId, reason: REASON_FINDING_RESOLVED, severity: maxSeverity(findings), findings });
  }
  return out.sort(
    (a, b) =>
      (a.reason === b.reason ? 0 : a.reason === REASON_FINDING_DETECTED ? -1 : 1) ||
      (a.ruleId < b.ruleId ? -1 : a.ruleId > b.ruleId ? 1 : 0),
  );
}

export interface EventBodyOptions {
  reportingInstance: string;
  reportingController?: string;
  /** The ScanReport holding the details, shown as `related`. */
  related?: ObjectReferenceV1;
  nowMs: number;
}

/** The events.k8s.io/v1 body for one transition. */
export function buildFindingEvent(
  t: FindingTransition,
  regarding: RegardingRef,
  opts: EventBodyOptions,
): EventV1 {
  const namespace = regarding.namespace ? regarding.namespace : CLUSTER_EVENT_NAMESPACE;
  const suffix = `${Math.floor(opts.nowMs).toString(16)}${sha256Hex(`${regarding.uid}|${t.ruleId}|${t.reason}|${opts.nowMs}`).slice(0, 8)}`;
  const base = truncateName(sanitizeSubdomain(regarding.name), 253 - suffix.length - 1);
  const ref: ObjectReferenceV1 = {
    apiVersion: regarding.apiVersion,
    kind: regarding.kind,
    name: regarding.name,
    uid: regarding.uid,
  };
  if (regarding.namespace) ref.namespace = regarding.namespace;
  const ev: EventV1 = {
    apiVersion: 'events.k8s.io/v1',
    kind: 'Event',
    metadata: { name: base === '' ? suffix : `${base}.${suffix}`, namespace },
    eventTime: formatMicroTime(opts.nowMs),
    reportingController: opts.reportingController ?? REPORTING_CONTROLLER,
    reportingInstance: opts.reportingInstance.slice(0, 128),
    action: EVENT_ACTION,
    reason: t.reason,
    type: t.reason === REASON_FINDING_DETECTED ? 'Warning' : 'Normal',
    regarding: ref,
    note: eventNote(t),
  };
  if (opts.related) ev.related = opts.related;
  return ev;
}

/** Human-readable note of at most NOTE_MAX_BYTES UTF-8 bytes. */
export function eventNote(t: FindingTransition): string {
  const title = t.findings.find((f) => f.title)?.title;
  const head = `${t.ruleId}${title ? ` (${title})` : ''}`;
  const policies = [...new Set(t.findings.map((f) => f.policy).filter((p): p is string => !!p))].sort();
  const policyText = policies.length > 0 ? `; policy ${policies.join(', ')}` : '';
  let note: string;
  if (t.reason === REASON_FINDING_DETECTED) {
    const first = [...t.findings].sort((a, b) => severityRank(b.severity) - severityRank(a.severity))[0];
    const more = t.findings.length > 1 ? ` (and ${t.findings.length - 1} more)` : '';
    note = `[${t.severity}] ${head}: ${first?.message ?? ''}${more}${policyText}`;
  } else {
    note = `${head} no longer reports findings${policyText}`;
  }
  return truncateUtf8(note, NOTE_MAX_BYTES);
}

export interface EventPlannerOptions {
  clock: Clock;
  /** Pod name or another stable id of this replica (≤ 128 chars). */
  reportingInstance: string;
  reportingController?: string;
  /** How long a (uid, rule, reason) transition suppresses its repeats; default 10 min. */
  dedupTtlMs?: number;
  /** Dedup cache bound; default 4096 (client-go's event cache size). */
  maxCacheEntries?: number;
  /** Global event rate; default 10/s. */
  qps?: number;
  /** Global burst; default 50. */
  burst?: number;
  /** Metric hooks: vigil_events_emitted_total / vigil_events_suppressed_total. */
  onEmitted?(reason: FindingEventReason): void;
  onSuppressed?(reason: FindingEventReason, cause: 'duplicate' | 'rate_limited'): void;
}

export interface EventPlannerStats {
  emitted: number;
  duplicates: number;
  /** Dropped by the global rate limit. */
  dropped: number;
}

export interface PlanInput {
  regarding: RegardingRef;
  previous: readonly EventFinding[];
  current: readonly EventFinding[];
  minSeverity: Severity;
  /** The ScanReport with the details, for `related`. */
  related?: ObjectReferenceV1;
}

/**
 * Keys remembered for a time window, at most `maxEntries` of them (oldest dropped first): the
 * dedup cache of the event planners. Map order is insertion order, oldest first.
 */
export class RecentKeys {
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly seen = new Map<string, number>();

  constructor(ttlMs: number, maxEntries: number) {
    this.ttlMs = ttlMs;
    this.maxEntries = maxEntries;
  }

  /** True when `key` was remembered less than the window before `now`. */
  has(key: string, now: number): boolean {
    const at = this.seen.get(key);
    return at !== undefined && now - at < this.ttlMs;
  }

  remember(key: string, now: number): void {
    this.seen.delete(key);
    this.seen.set(key, now);
    // Drop expired entries from the old end, then enforce the bound.
    for (const [k, t] of this.seen) {
      if (now - t < this.ttlMs && this.seen.size <= this.maxEntries) break;
      this.seen.delete(k);
    }
  }

  get size(): number {
    return this.seen.size;
  }
}

/** Stateful (dedup cache and rate limit) but I/O-free event decision-maker. */
export class FindingEventPlanner {
  private readonly clock: Clock;
  private readonly opts: EventPlannerOptions;
  private readonly bucket: TokenBucket;
  private readonly seen: RecentKeys;
  private readonly counters: EventPlannerStats = { emitted: 0, duplicates: 0, dropped: 0 };

  constructor(opts: EventPlannerOptions) {
    this.clock = opts.clock;
    this.opts = opts;
    this.seen = new RecentKeys(opts.dedupTtlMs ?? 10 * 60_000, opts.maxCacheEntries ?? 4096);
    this.bucket = new TokenBucket({ qps: opts.qps ?? 10, burst: opts.burst ?? 50, clock: opts.clock });
  }

  /** Events to post for this change of findings (possibly none). */
  plan(input: PlanInput): EventV1[] {
    const now = this.clock.now();
    const out: EventV1[] = [];
    for (const t of findingTransitions(input.previous, input.current, input.minSeverity)) {
      const key = `${input.regarding.uid}|${t.ruleId}|${t.reason}`;
      if (this.seen.has(key, now)) {
        this.counters.duplicates++;
        this.opts.onSuppressed?.(t.reason, 'duplicate');
        continue;
      }
      if (!this.bucket.tryTake()) {
        this.counters.dropped++;
        this.opts.onSuppressed?.(t.reason, 'rate_limited');
        continue;
      }
      this.seen.remember(key, now);
      this.counters.emitted++;
      this.opts.onEmitted?.(t.reason);
      const body: EventBodyOptions = { reportingInstance: this.opts.reportingInstance, nowMs: now };
      if (this.opts.reportingController !== undefined)
        body.reportingController = this.opts.reportingController;
      if (input.related) body.related = input.related;
      out.push(buildFindingEvent(t, input.regarding, body));
    }
    return out;
  }

  stats(): Readonly<EventPlannerStats> {
    return { ...this.counters };
  }

  /** Entries in the dedup cache (for tests and debugging). */
  cacheSize(): number {
    return this.seen.size;
  }
}

function maxSeverity(list: readonly EventFinding[]): Severity {
  let best: Severity = 'info';
  for (const f of list) if (severityRank(f.severity) > severityRank(best)) best = f.severity;
  return best;
}

/** Cuts `s` to at most `maxBytes` UTF-8 bytes on a character boundary, marking the cut with "…". */
export function truncateUtf8(s: string, maxBytes: number): string {
  if (Buffer.byteLength(s, 'utf8') <= maxBytes) return s;
  const ellipsis = '…';
  const budget = maxBytes - Buffer.byteLength(ellipsis, 'utf8');
  let bytes = 0;
  let out = '';
  for (const ch of s) {
    const n = Buffer.byteLength(ch, 'utf8');
    if (bytes + n > budget) break;
    bytes += n;
    out += ch;
  }
  return out + ellipsis;
}
