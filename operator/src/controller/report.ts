/**
 * Builds the desired ScanReport for one subject from the findings of every
 * policy. Pure and deterministic: the same subject, findings and previous
 * report always give the same object, so steady-state reconciles write
 * nothing.
 *
 * - Name: `<kind>-<name>` in lowercase DNS-1123 form; names that had to be
 *   changed (uppercase, `:` …) or are too long get a short hash suffix so
 *   they stay unique.
 * - Place: the subject's namespace; cluster-scoped subjects' reports live in
 *   the operator's namespace.
 * - Owner: an ownerReference to the subject (when its uid is known), so the
 *   garbage collector deletes the report with the subject. This is valid for
 *   both cases we produce: a namespaced owner in the same namespace, and a
 *   cluster-scoped owner of a namespaced dependent. (A namespaced owner in
 *   another namespace, or a namespaced owner of a cluster-scoped dependent,
 *   would be invalid; neither can occur here.) `blockOwnerDeletion` is not
 *   set: it would need delete permission on every subject.
 * - Findings: deduplicated, sorted (severity, rule, policy, container,
 *   message), `firstSeen` carried over from the previous report.
 * - Budget: the serialized report must fit `budgetBytes` (512 KiB default,
 *   far below etcd's 1.5 MiB). Lower-severity detail goes first (remediation
 *   and title, info upwards), then the least severe findings; the summary
 *   stays exact, `omittedFindings` says how many were left out and the Ready
 *   condition's reason becomes `Truncated`.
 * - Change detection: `changes` compares the desired report with the previous
 *   one field by field (timestamps excluded), metadata and status apart, so
 *   edits by others are reverted, nothing unchanged is written, and a change
 *   of findings is one write (status), not two.
 */
import type {
  Condition,
  ScanReportSpec,
  ScanReportSpecSubject,
  ScanReportStatus,
  ScanReportStatusFinding,
  SeverityCounts,
} from '../api/types.generated.ts';
import { API_GROUP_VERSION } from '../api/types.generated.ts';
import type { Finding, ResourceRef, Severity } from '../engine/types.ts';
import { SEVERITIES, severityRank } from '../engine/types.ts';
import { formatTime, sanitizeSubdomain, sha256Hex } from './names.ts';

export const SUBJECT_KIND_LABEL = 'security.vigil.dev/subject-kind';
export const SUBJECT_UID_LABEL = 'security.vigil.dev/subject-uid';
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'vigil';

/** Default serialized-size budget of one report. */
export const DEFAULT_REPORT_BUDGET_BYTES = 512 * 1024;
/** Longest finding message kept in a report (longer ones are shortened in the middle). */
export const MAX_MESSAGE_CHARS = 1024;

export const CONDITION_READY = 'Ready';
export const CONDITION_COMPLIANT = 'Compliant';
export const REASON_SCANNED = 'Scanned';
export const REASON_TRUNCATED = 'Truncated';
export const REASON_FINDINGS_PRESENT = 'FindingsPresent';
export const REASON_NO_FINDINGS = 'NoFindings';

const MAX_NAME = 253;
const HASH_SUFFIX_LEN = 10;

/** An ownerReference as written (plain object). */
export interface OwnerRef {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
}

/** Metadata of a desired report; plain data, ready to send. */
export interface ReportMetadata {
  name: string;
  namespace: string;
  labels: Record<string, string>;
  ownerReferences?: OwnerRef[];
}

/** The desired ScanReport (the generated `ScanReport` with plain metadata). */
export interface DesiredScanReport {
  apiVersion: string;
  kind: 'ScanReport';
  metadata: ReportMetadata;
  spec: ScanReportSpec;
  status: ScanReportStatus;
}

/**
 * The live report as read from the cache. Structural and loose on purpose:
 * it may be any version of the object, edited by anyone. A generated
 * `ScanReport` is assignable to it.
 */
export interface ExistingReport {
  metadata?: {
    labels?: Record<string, string> | undefined;
    /** Not Vigil's: others' annotations are left alone. */
    annotations?: Record<string, string> | undefined;
    ownerReferences?:
      readonly { apiVersion?: string; kind?: string; name?: string; uid?: string }[] | undefined;
  };
  spec?: unknown;
  status?: ScanReportStatus | undefined;
}

export interface BuildReportInput {
  /** The evaluated object. `uid` enables the ownerReference. */
  subject: ResourceRef;
  /** Findings about the subject from every policy (`policy` set). */
  findings: readonly Finding[];
  /** Namespace for reports about cluster-scoped subjects (the operator's). */
  operatorNamespace: string;
  /** The live report, if one exists (from the cache). */
  previous?: ExistingReport | undefined;
  /**
   * Vigil's own last version of the report when someone else has since edited or deleted it:
   * findings keep the `firstSeen` it had (an edit by others is reverted, not a new sighting).
   */
  history?: ExistingReport | undefined;
  /** Evaluation time (used for firstSeen, lastEvaluated and condition transitions). */
  now: Date;
  /** Serialized-size budget; default 512 KiB. */
  budgetBytes?: number;
}

export interface ReportChanges {
  /** No previous report: create it (findings included: ScanReports have no status subresource). */
  create: boolean;
  /** metadata (labels, owner) or spec differ. */
  metadata: boolean;
  /** status differs (ignoring lastEvaluated when nothing else changed). */
  status: boolean;
}

export interface BuiltReport {
  report: DesiredScanReport;
  /** Findings left out to respect the budget. */
  omitted: number;
  /** Detail (remediation, title) was removed from some findings to respect the budget. */
  detailStripped: boolean;
  /** Serialized size of `report` in bytes. */
  bytes: number;
  changes: ReportChanges;
}

/** Lowercase DNS-1123 subdomain name for a subject's report, e.g. `deployment-web`. */
export function reportName(subject: Pick<ResourceRef, 'kind' | 'name' | 'namespace'>): string {
  const kind = subject.kind.toLowerCase();
  const raw = `${kind}-${subject.name}`;
  const cleaned = sanitizeSubdomain(raw);
  if (cleaned === raw && cleaned.length <= MAX_NAME && cleaned !== '') return cleaned;
  const hash = sha256Hex(`${subject.kind}/${subject.namespace ?? ''}/${subject.name}`).slice(
    0,
    HASH_SUFFIX_LEN,
  );
  let base = cleaned.slice(0, MAX_NAME - HASH_SUFFIX_LEN - 1);
  base = base.replace(/[^a-z0-9]+$/, '');
  return base === '' ? `${kind.replace(/[^a-z0-9]/g, '') || 'subject'}-${hash}` : `${base}-${hash}`;
}

/** Namespace the subject's report lives in. */
export function reportNamespace(subject: Pick<ResourceRef, 'namespace'>, operatorNamespace: string): string {
  return subject.namespace !== undefined && subject.namespace !== '' ? subject.namespace : operatorNamespace;
}

export function buildReport(input: BuildReportInput): BuiltReport {
  const budget = input.budgetBytes ?? DEFAULT_REPORT_BUDGET_BYTES;
  const nowIso = formatTime(input.now.getTime());
  const subject = subjectOf(input.subject);
  const name = reportName(input.subject);
  const namespace = reportNamespace(input.subject, input.operatorNamespace);
  const previous = input.previous;

  const all = mergeFirstSeen(
    dedupSorted(input.findings.map(toReportFinding)),
    [...previousFindings(input.history), ...previousFindings(previous)],
    nowIso,
  );
  const summary = countBySeverity(all);

  const labels: Record<string, string> = {
    [MANAGED_BY_LABEL]: MANAGED_BY,
    [SUBJECT_KIND_LABEL]: labelValue(input.subject.kind),
  };
  if (subject.uid !== undefined && isLabelValue(subject.uid)) labels[SUBJECT_UID_LABEL] = subject.uid;
  const ownerReferences =
    subject.uid !== undefined
      ? [{ apiVersion: subject.apiVersion, kind: subject.kind, name: subject.name, uid: subject.uid }]
      : undefined;

  const prevConditions = asArrayOf<Condition>(previous?.status?.conditions);
  const make = (
    findings: ScanReportStatusFinding[],
    detailStripped: boolean,
    lastEvaluated: string,
  ): DesiredScanReport => {
    const omitted = all.length - findings.length;
    const status: ScanReportStatus = {
      summary,
      findings,
      omittedFindings: omitted,
      conditions: [
        readyCondition(omitted, detailStripped, all.length, budget, prevConditions, nowIso),
        compliantCondition(summary, all.length, prevConditions, nowIso),
      ],
      lastEvaluated,
    };
    const metadata: ReportMetadata = { name, namespace, labels };
    if (ownerReferences) metadata.ownerReferences = ownerReferences;
    return { apiVersion: API_GROUP_VERSION, kind: 'ScanReport', metadata, spec: { subject }, status };
  };

  // Sized with lastEvaluated = now (same width as any timestamp), so the budget decision does
  // not depend on the value filled in afterwards.
  const sizeOf = (findings: ScanReportStatusFinding[], stripped: boolean): number =>
    byteLength(make(findings, stripped, nowIso));

  let list = all;
  let detailStripped = false;
  if (sizeOf(list, false) > budget) {
    for (const sev of [...SEVERITIES].reverse()) {
      if (!list.some((f) => f.severity === sev)) continue;
      list = list.map((f) => (f.severity === sev ? stripDetail(f) : f));
      detailStripped = true;
      if (sizeOf(list, true) <= budget) break;
    }
    if (sizeOf(list, detailStripped) > budget) {
      // Largest prefix (most severe first) that fits.
      let lo = 0;
      let hi = list.length;
      while (lo < hi) {
        const mid = Math.ceil((lo + hi) / 2);
        if (sizeOf(list.slice(0, mid), true) <= budget) lo = mid;
        else hi = mid - 1;
      }
      list = list.slice(0, lo);
    }
  }

  const draft = make(list, detailStripped, nowIso);
  const statusChanged = previous === undefined || statusKey(previous.status) !== statusKey(draft.status);
  const lastEvaluated =
    !statusChanged && typeof previous?.status?.lastEvaluated === 'string'
      ? previous.status.lastEvaluated
      : nowIso;
  const report = make(list, detailStripped, lastEvaluated);

  const changes: ReportChanges = {
    create: previous === undefined,
    metadata: previous === undefined || metaKey(previous) !== metaKey(report),
    status: statusChanged,
  };
  return {
    report,
    omitted: all.length - list.length,
    detailStripped,
    bytes: byteLength(report),
    changes,
  };
}

// ---------------------------------------------------------------------------
// Findings

function toReportFinding(f: Finding): ScanReportStatusFinding {
  const out: ScanReportStatusFinding = {
    ruleId: f.ruleId,
    severity: f.severity,
    message: shorten(f.message, MAX_MESSAGE_CHARS),
  };
  if (f.title) out.title = f.title;
  if (f.category) out.category = f.category;
  if (f.controls.length > 0) out.controls = [...f.controls];
  if (f.policy !== undefined) out.policy = f.policy;
  if (f.container !== undefined) out.container = f.container;
  if (f.remediation) out.remediation = f.remediation;
  return out;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Report order: most severe first, then rule, policy, container, message. */
export function compareReportFindings(a: ScanReportStatusFinding, b: ScanReportStatusFinding): number {
  return (
    severityRank(b.severity) - severityRank(a.severity) ||
    cmp(a.ruleId, b.ruleId) ||
    cmp(a.policy ?? '', b.policy ?? '') ||
    cmp(a.container ?? '', b.container ?? '') ||
    cmp(a.message, b.message)
  );
}

function identity(f: ScanReportStatusFinding): string {
  return JSON.stringify([f.ruleId, f.policy ?? '', f.container ?? '', f.message]);
}

/** Message with digits folded, so "3 replicas" → "# replicas" still matches its earlier self. */
function looseIdentity(f: ScanReportStatusFinding): string {
  return JSON.stringify([f.ruleId, f.policy ?? '', f.container ?? '', f.message.replace(/\d+/g, '#')]);
}

function dedupSorted(list: ScanReportStatusFinding[]): ScanReportStatusFinding[] {
  list.sort(compareReportFindings);
  const out: ScanReportStatusFinding[] = [];
  let last: string | undefined;
  for (const f of list) {
    const id = identity(f);
    if (id === last) continue;
    out.push(f);
    last = id;
  }
  return out;
}

function previousFindings(prev: ExistingReport | undefined): ScanReportStatusFinding[] {
  return asArrayOf<unknown>(prev?.status?.findings).filter(
    (f): f is ScanReportStatusFinding =>
      typeof f === 'object' &&
      f !== null &&
      typeof (f as ScanReportStatusFinding).ruleId === 'string' &&
      typeof (f as ScanReportStatusFinding).message === 'string',
  );
}

/**
 * Carries `firstSeen` over from the previous report: first by exact identity
 * (rule, policy, container, message), then by the message with digits folded.
 * Each previous finding is used at most once.
 */
function mergeFirstSeen(
  current: ScanReportStatusFinding[],
  previous: ScanReportStatusFinding[],
  nowIso: string,
): ScanReportStatusFinding[] {
  const keys = [identity, looseIdentity];
  const used = new Set<ScanReportStatusFinding>();
  const byKey = [new Map<string, ScanReportStatusFinding[]>(), new Map<string, ScanReportStatusFinding[]>()];
  for (const p of previous) {
    if (typeof p.firstSeen !== 'string' || Number.isNaN(Date.parse(p.firstSeen))) continue;
    for (let i = 0; i < 2; i++) {
      const k = keys[i]?.(p) ?? '';
      const m = byKey[i];
      if (!m) continue;
      const arr = m.get(k) ?? [];
      arr.push(p);
      m.set(k, arr);
    }
  }
  const result = current.map((f) => ({ ...f }));
  for (let pass = 0; pass < 2; pass++) {
    const m = byKey[pass];
    const keyFn = keys[pass];
    if (!m || !keyFn) continue;
    for (const f of result) {
      if (f.firstSeen !== undefined) continue;
      const candidates = m.get(keyFn(f));
      const match = candidates?.find((c) => !used.has(c));
      if (match) {
        used.add(match);
        f.firstSeen = match.firstSeen;
      }
    }
  }
  for (const f of result) f.firstSeen ??= nowIso;
  return result;
}

function stripDetail(f: ScanReportStatusFinding): ScanReportStatusFinding {
  const { remediation: _r, title: _t, ...rest } = f;
  return rest;
}

function countBySeverity(list: readonly ScanReportStatusFinding[]): Required<SeverityCounts> {
  const c = { critical: 0, high: 0, medium: 0, low: 0, info: 0 };
  for (const f of list) c[f.severity]++;
  return c;
}

// ---------------------------------------------------------------------------
// Conditions

function setCondition(
  type: string,
  status: Condition['status'],
  reason: string,
  message: string,
  previous: readonly Condition[],
  nowIso: string,
): Condition {
  const prev = previous.find((c) => c?.type === type);
  const lastTransitionTime =
    prev && prev.status === status && typeof prev.lastTransitionTime === 'string'
      ? prev.lastTransitionTime
      : nowIso;
  return { type, status, lastTransitionTime, reason, message: shorten(message, 32768) };
}

function readyCondition(
  omitted: number,
  detailStripped: boolean,
  total: number,
  budget: number,
  previous: readonly Condition[],
  nowIso: string,
): Condition {
  if (omitted === 0 && !detailStripped) {
    return setCondition(
      CONDITION_READY,
      'True',
      REASON_SCANNED,
      'The subject has been evaluated',
      previous,
      nowIso,
    );
  }
  const parts: string[] = [];
  if (omitted > 0) parts.push(`${omitted} of ${total} findings omitted`);
  if (detailStripped) parts.push('remediation and title removed from less severe findings');
  return setCondition(
    CONDITION_READY,
    'True',
    REASON_TRUNCATED,
    `${parts.join('; ')} to stay within the ${budget}-byte report budget; summary counts are exact`,
    previous,
    nowIso,
  );
}

function compliantCondition(
  summary: Required<SeverityCounts>,
  total: number,
  previous: readonly Condition[],
  nowIso: string,
): Condition {
  if (total === 0) {
    return setCondition(CONDITION_COMPLIANT, 'True', REASON_NO_FINDINGS, 'No findings', previous, nowIso);
  }
  const bySeverity = SEVERITIES.filter((s: Severity) => summary[s] > 0)
    .map((s) => `${summary[s]} ${s}`)
    .join(', ');
  return setCondition(
    CONDITION_COMPLIANT,
    'False',
    REASON_FINDINGS_PRESENT,
    `${total} finding${total === 1 ? '' : 's'}: ${bySeverity}`,
    previous,
    nowIso,
  );
}

// ---------------------------------------------------------------------------
// Hashing and comparison

/** The parts of the status Vigil controls, without timestamps that only move. */
function statusKey(status: ScanReportStatus | undefined): string {
  const s = status ?? {};
  const conditions = asArrayOf<Condition>(s.conditions).map((c) => ({
    type: c?.type,
    status: c?.status,
    reason: c?.reason,
    message: c?.message,
    lastTransitionTime: c?.lastTransitionTime,
  }));
  return stableStringify({
    summary: s.summary,
    findings: s.findings,
    omittedFindings: s.omittedFindings,
    conditions,
  });
}

function metaKey(r: ExistingReport): string {
  const m = r.metadata ?? {};
  const labels: Record<string, string> = {};
  for (const k of [MANAGED_BY_LABEL, SUBJECT_KIND_LABEL, SUBJECT_UID_LABEL]) {
    const v = m.labels?.[k];
    if (v !== undefined) labels[k] = v;
  }
  const owners = asArrayOf<{ apiVersion?: string; kind?: string; name?: string; uid?: string }>(
    m.ownerReferences,
  ).map((o) => ({ apiVersion: o?.apiVersion, kind: o?.kind, name: o?.name, uid: o?.uid }));
  return stableStringify({ labels, owners, spec: r.spec });
}

/** JSON with object keys sorted and undefined members dropped. */
export function stableStringify(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value))
    return `[${value.map((v) => (v === undefined ? 'null' : stableStringify(v))).join(',')}]`;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${stableStringify(obj[k])}`).join(',')}}`;
}

// ---------------------------------------------------------------------------
// Small helpers

function subjectOf(ref: ResourceRef): ScanReportSpecSubject {
  const s: ScanReportSpecSubject = { apiVersion: ref.apiVersion, kind: ref.kind, name: ref.name };
  if (ref.namespace) s.namespace = ref.namespace;
  if (ref.uid) s.uid = ref.uid;
  return s;
}

const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

function isLabelValue(v: string): boolean {
  return v.length <= 63 && LABEL_VALUE.test(v);
}

function labelValue(v: string): string {
  if (isLabelValue(v)) return v;
  const cleaned = v
    .replace(/[^A-Za-z0-9_.-]+/g, '-')
    .slice(0, 63)
    .replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '');
  return isLabelValue(cleaned) ? cleaned : '';
}

function shorten(s: string, max: number): string {
  if (s.length <= max) return s;
  const keep = max - 1;
  const head = Math.ceil(keep / 2);
  return `${s.slice(0, head)}…${s.slice(s.length - (keep - head))}`;
}

function asArrayOf<T>(v: unknown): T[] {
  return Array.isArray(v) ? (v as T[]) : [];
}

function byteLength(v: unknown): number {
  return Buffer.byteLength(JSON.stringify(v), 'utf8');
}
