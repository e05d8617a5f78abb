/**
 * What kubectl shows of audit detections (issue 16 point 4): one ScanReport per identity, in the
 * operator's namespace, whose subject is the identity (kind `Identity`) and whose findings are its
 * most recent detections (at most IDENTITY_REPORT_LIMIT, newest first; the summary counts every
 * detection the report has recorded).
 *
 *   kubectl get scanreports -n vigil-system -l security.vigil.dev/source=audit
 *   kubectl describe scanreport -n vigil-system identity-mallory-…
 *
 * Detections are batched per identity and merged into the stored report with optimistic
 * concurrency (GET, merge, PUT with resourceVersion), so replicas that each receive part of the
 * API server's batches add to one report instead of overwriting each other. The controller leaves
 * these reports alone (their subject is no object it evaluates).
 */
import { createHash } from 'node:crypto';
import { isAlreadyExists, isNotFound, type KubeApi } from '../runtime/api.ts';
import {
  API_GROUP_VERSION,
  type ScanReportSpec,
  type ScanReportStatus,
  type ScanReportStatusFinding,
} from '../api/types.generated.ts';
import { MANAGED_BY_LABEL, SUBJECT_KIND_LABEL } from '../controller/report.ts';
import { sanitizeSubdomain, truncateName } from '../controller/names.ts';
import { SEVERITIES, emptyCounts } from '../engine/types.ts';
import type { Logger } from '../controller/logger.ts';
import type { Detection } from './types.ts';

export const IDENTITY_KIND = 'Identity';
export const SOURCE_LABEL = 'security.vigil.dev/source';
export const IDENTITY_REPORT_LIMIT = 20;

/** An identity's report as read (loose: anyone may have edited it) and as written. */
export interface StoredIdentityReport {
  metadata?: { resourceVersion?: string };
  status?: ScanReportStatus;
}
export interface IdentityReport {
  apiVersion: string;
  kind: 'ScanReport';
  metadata: { name: string; namespace: string; labels: Record<string, string>; resourceVersion?: string };
  spec: ScanReportSpec;
  status: ScanReportStatus;
}

/** The report's name: readable, unique per username (a hash tells apart names that sanitise alike). */
export function identityReportName(user: string): string {
  const hash = createHash('sha256').update(user).digest('hex').slice(0, 8);
  const base = truncateName(sanitizeSubdomain(user.toLowerCase()), 253 - 'identity--'.length - hash.length);
  return base === '' ? `identity-${hash}` : `identity-${base}-${hash}`;
}

function findingOf(d: Detection, policy: string | undefined): ScanReportStatusFinding {
  const f: ScanReportStatusFinding = {
    ruleId: d.ruleId,
    title: d.title,
    severity: d.severity,
    category: d.category,
    message: `${d.message} (${d.verb} ${[d.resource.group, d.resource.resource].filter(Boolean).join('/')}${d.resource.namespace ? ` in ${d.resource.namespace}` : ''}, auditID ${d.auditID})`,
    remediation: d.remediation,
    firstSeen: d.time,
  };
  if (policy !== undefined) f.policy = policy;
  return f;
}

/** `existing` (or none) with `detections` added: newest first, bounded, the summary counting all. */
export function mergeIdentityReport(
  existing: StoredIdentityReport | undefined,
  user: string,
  namespace: string,
  detections: readonly Detection[],
  policy: string | undefined,
  nowIso: string,
): IdentityReport {
  const old = existing?.status?.findings ?? [];
  const seen = new Set(old.map((f) => `${f.ruleId}|${f.message}`));
  const fresh = detections
    .map((d) => findingOf(d, policy))
    .filter((f) => !seen.has(`${f.ruleId}|${f.message}`));
  const all = [...fresh, ...old].sort((a, b) => ((a.firstSeen ?? '') < (b.firstSeen ?? '') ? 1 : -1));
  const summary = emptyCounts();
  for (const s of SEVERITIES) summary[s] = existing?.status?.summary?.[s] ?? 0;
  for (const f of fresh) summary[f.severity]++;
  const total = SEVERITIES.reduce((n, s) => n + summary[s], 0);
  const findings = all.slice(0, IDENTITY_REPORT_LIMIT);
  return {
    apiVersion: API_GROUP_VERSION,
    kind: 'ScanReport',
    metadata: {
      name: identityReportName(user),
      namespace,
      labels: { [MANAGED_BY_LABEL]: 'vigil', [SOURCE_LABEL]: 'audit', [SUBJECT_KIND_LABEL]: IDENTITY_KIND },
      ...(existing?.metadata?.resourceVersion ? { resourceVersion: existing.metadata.resourceVersion } : {}),
    },
    spec: { subject: { apiVersion: API_GROUP_VERSION, kind: IDENTITY_KIND, name: user } },
    status: {
      summary,
      findings,
      omittedFindings: total - findings.length,
      conditions: [
        {
          type: 'Ready',
          status: 'True',
          reason: 'AuditDetections',
          message: `${String(total)} audit detections of ${user} recorded; the ${String(findings.length)} most recent are listed`,
          lastTransitionTime: existing?.status?.conditions?.[0]?.lastTransitionTime ?? nowIso,
        },
      ],
      lastEvaluated: nowIso,
    },
  };
}

export interface IdentityReportsOptions {
  api: KubeApi;
  namespace: string;
  logger: Logger;
  fieldManager: string;
  /** The policy whose audit settings apply, for the findings' `policy`. */
  policy: () => string | undefined;
  now: () => number;
  /** Identities with detections waiting, at most (the oldest waiting ones are dropped beyond). */
  maxPending?: number;
}

export class IdentityReports {
  private readonly o: IdentityReportsOptions;
  private readonly pending = new Map<string, Detection[]>();
  private flushing = false;

  constructor(o: IdentityReportsOptions) {
    this.o = o;
  }

  record(d: Detection): void {
    if (d.user === '') return;
    const list = this.pending.get(d.user) ?? [];
    list.push(d);
    if (list.length > IDENTITY_REPORT_LIMIT) list.splice(0, list.length - IDENTITY_REPORT_LIMIT);
    this.pending.delete(d.user);
    this.pending.set(d.user, list);
    const max = this.o.maxPending ?? 1000;
    while (this.pending.size > max) this.pending.delete(this.pending.keys().next().value ?? '');
  }

  /** Writes what is waiting; a write that loses a race stays waiting for the next flush. */
  async flush(): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    try {
      for (const [user, detections] of [...this.pending]) {
        if (await this.write(user, detections)) {
          if (this.pending.get(user) === detections) this.pending.delete(user);
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  private async write(user: string, detections: readonly Detection[]): Promise<boolean> {
    const ns = this.o.namespace;
    const name = identityReportName(user);
    const collection = `/apis/${API_GROUP_VERSION}/namespaces/${encodeURIComponent(ns)}/scanreports`;
    const nowIso = new Date(this.o.now()).toISOString().replace(/\.\d+Z$/, 'Z');
    try {
      let existing: StoredIdentityReport | undefined;
      try {
        existing = await this.o.api.get<StoredIdentityReport>(`${collection}/${name}`);
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
      const body = mergeIdentityReport(existing, user, ns, detections, this.o.policy(), nowIso);
      if (existing) await this.o.api.request({ method: 'PUT', path: `${collection}/${name}`, body });
      else await this.o.api.create(collection, body, this.o.fieldManager);
      return true;
    } catch (e) {
      // 409 (another replica wrote first) or AlreadyExists: merge again on the next flush.
      if (!isAlreadyExists(e) && !(e instanceof Error && /^409 /.test(e.message)))
        this.o.logger.warn('cannot write the identity report', {
          user,
          error: e instanceof Error ? e.message : String(e),
        });
      return false;
    }
  }
}
