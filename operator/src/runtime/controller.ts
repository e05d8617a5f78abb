/**
 * Vigil's controller: level-triggered, idempotent reconciles over two work
 * queues. Watch handlers only enqueue keys; a subject reconcile re-evaluates
 * one object against every valid SecurityPolicy and converges its ScanReport
 * (written only when its content changed); a policy reconcile converges the
 * policy's status. Kubernetes I/O goes through KubeApi; evaluation is the pure
 * engine shared with `vigil scan`.
 */
import { evaluateObject, resourceRef } from '../engine/evaluate.ts';
import { WORKLOAD_KINDS } from '../engine/podspec.ts';
import { compilePolicy, exceptionActive, type CompiledPolicy, type PolicyError } from '../engine/policy.ts';
import {
  SEVERITIES,
  emptyCounts,
  type Finding,
  type KubeObject,
  type Rule,
  type Severity,
  type SeverityCounts,
} from '../engine/types.ts';
import { buildReport, reportName, reportNamespace } from '../controller/report.ts';
import { openReportCollection, toOpenReport } from '../controller/openreports.ts';
import { IDENTITY_KIND } from '../audit/identity-report.ts';
import { formatTime } from '../controller/names.ts';
import type { Clock, Timer } from '../controller/clock.ts';
import type { Logger } from '../controller/logger.ts';
import type { WorkQueue } from '../controller/workqueue.ts';
import {
  API_GROUP_VERSION,
  type Condition,
  type ScanReport,
  type ScanReportStatusFinding,
  type SecurityPolicyStatus,
  type SecurityPolicyStatusAdmission,
  type SecurityPolicyStatusAdmissionWouldReject,
} from '../api/types.generated.ts';
import { cacheForm } from '../adapters/trim.ts';
import { isAlreadyExists, isNotFound, type KubeApi } from './api.ts';
import type { AdmissionOutcome, AdmissionSync } from './admission.ts';
import { ClusterCache, parseSubjectKey, subjectKey } from './cache.ts';
import {
  pullSecretNames,
  serviceAccountOf,
  workloadImages,
  type ImageWant,
  type WorkloadImage,
} from './images.ts';
import {
  CLUSTER_VERSION_KIND,
  POLICY_KIND,
  REPORT_KIND,
  SUBJECT_KINDS,
  isSubject,
  objectPath,
} from './kinds.ts';

export const FIELD_MANAGER = 'vigil';

/** Where the controller reports what it did (metrics and events plug in here). */
export interface ControllerHooks {
  reportWritten?(): void;
  reportWriteSkipped?(): void;
  reportTruncated?(): void;
  timeToFinding?(seconds: number): void;
  /** Finding counts of one policy changed: severity|namespace|category → count (complete set). */
  policyFindings?(policy: string, counts: ReadonlyMap<string, number>): void;
  policyReady?(policy: string, ready: boolean): void;
  policyRemoved?(policy: string): void;
  exceptionsExpiring?(policy: string, count: number): void;
  /** Findings on a subject changed; previous from its last report, next from this evaluation. */
  findingsChanged?(
    subject: KubeObject,
    previous: readonly PreviousFinding[],
    next: readonly Finding[],
    minSeverity: ReadonlyMap<string, Severity>,
  ): void;
  exceptionExpired?(policy: KubeObject, index: number, owner: string): void;
  /** Current findings of a platform subject (a Node or the API server), by subject key. */
  platformVulnerable?(subject: string, findings: readonly Finding[]): void;
  /** Number of errors that keep a policy from being accepted. */
  policyErrors?(policy: string, errors: number): void;
}

export interface PreviousFinding {
  ruleId: string;
  severity: string;
  policy?: string;
  container?: string;
  message: string;
}

export interface ControllerOptions {
  api: KubeApi;
  cache: ClusterCache;
  rules: readonly Rule[];
  operatorNamespace: string;
  subjects: WorkQueue;
  policies: WorkQueue;
  clock: Clock;
  logger: Logger;
  hooks?: ControllerHooks;
  /** Report byte budget (default: the builder's). */
  reportBudgetBytes?: number;
  /** Debounce of policy status writes after finding changes (ms). */
  policyStatusDelayMs?: number;
  /** Longest delay before a namespace is re-evaluated after workloads in it come or go (ms). */
  namespaceDelayMs?: number;
  /** Generates and converges the admission policies of warn/enforce policies (none: not managed). */
  admission?: AdmissionSync;
  /** Queue of subjects whose ScanReport is to be converged (none: written within the subject reconcile). */
  reports?: WorkQueue;
  /** Also write each ScanReport as an OpenReports (openreports.io/v1alpha1) Report or ClusterReport. */
  openReports?: boolean;
  /**
   * Sharding (runtime/sharding.ts): is this subject key this replica's to evaluate and report?
   * Others are neither queued, evaluated, counted nor written (default: all are).
   */
  owns?: (subjectKey: string) => boolean;
  /** Sharding: does this replica write SecurityPolicy status (default true; the coordinator only). */
  writesPolicyStatus?: () => boolean;
  /**
   * Sharding: the other live members' figures per policy (what they publish from `shareStatus`),
   * summed into the status the coordinator writes; undefined for a member not heard from yet.
   */
  peerStatus?: () => readonly (ShareStatus | undefined)[];
  /** The image scanner: told which images the subjects of opted-in policies (spec.images) run. */
  images?: ImageDemand;
}

/** What the controller tells the image scanner (runtime/images.ts ImageScanner). */
export interface ImageDemand {
  want(subject: string, images: readonly WorkloadImage[], w: ImageWant): void;
  forget(subject: string): void;
}

/** One replica's figures for the policies, over its share (sharding). */
export type ShareStatus = Record<string, { evaluated: number; summary: SeverityCounts; pending: number }>;

/** Objects listed in status.admission.wouldReject, at most. */
export const WOULD_REJECT_LIMIT = 20;

interface PolicyState {
  name: string;
  generation: number;
  compiled: CompiledPolicy | undefined;
  errors: PolicyError[];
  /** Subjects not yet evaluated since this generation was compiled. */
  pending: Set<string>;
  expiryTimers: Timer[];
  /** Exceptions whose expiry already produced an event (index list). */
  expiredNotified: Set<number>;
}

interface Contribution {
  namespace: string;
  /** Per finding: severity|namespace|category|rule label key. */
  labels: string[];
  counts: SeverityCounts;
}

/**
 * Every subject's contributions to one policy, summed. Kept up to date as
 * contributions change, so a policy's status and metrics cost O(1) per
 * change instead of a pass over every subject.
 */
interface PolicyTotals {
  /** Subjects the policy matched. */
  evaluated: number;
  summary: SeverityCounts;
  /** Label key → findings. */
  labels: Map<string, number>;
}

const DAY_MS = 24 * 3600 * 1000;
/** Default of ControllerOptions.namespaceDelayMs. */
export const NAMESPACE_DELAY_MS = 5000;

export class VigilController {
  private readonly o: ControllerOptions;
  private readonly policyStates = new Map<string, PolicyState>();
  /** subject key → policy → what it contributes to that policy's status and metrics. */
  private readonly contributions = new Map<string, Map<string, Contribution>>();
  /** policy → its contributions summed. */
  private readonly totals = new Map<string, PolicyTotals>();
  /** report `namespace/name` → resourceVersions of our own writes whose watch events are still to come. */
  private readonly ownReportVersions = new Map<string, Set<string>>();
  /** report key → the version before someone else edited or deleted it, until restored. */
  private readonly displaced = new Map<string, ScanReport>();
  /** subject key → time the first unprocessed watch event for it arrived. */
  private readonly eventTimes = new Map<string, number>();
  /** Subjects whose OpenReports copy this process has written (see ControllerOptions.openReports). */
  private readonly openReportsWritten = new Set<string>();
  /** subject key → its last evaluation, until its report has been converged. */
  private readonly evaluated = new Map<string, { findings: Finding[]; minSeverity: Map<string, Severity> }>();
  private clusterVersion: KubeObject | undefined;
  private synced = false;

  constructor(o: ControllerOptions) {
    this.o = o;
  }

  // ---- watch side: only enqueue keys --------------------------------------------------------

  /** Called by the watch layer after the cache has been updated. */
  onEvent(kind: string, type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: KubeObject, old?: KubeObject): void {
    const now = this.o.clock.now();
    const ns = obj.metadata?.namespace ?? '';
    const name = obj.metadata?.name ?? '';
    if (kind === POLICY_KIND.kind) {
      this.onPolicyEvent(type, obj);
      return;
    }
    if (kind === REPORT_KIND.kind) {
      // The echo of our own write carries nothing new: skip the reconcile it would cost.
      if (this.isOwnReportWrite(type, `${ns}/${name}`, obj.metadata?.resourceVersion)) return;
      // A report changed or vanished: make sure it tells the truth (restores tampering). The
      // version before the change is kept until then, so restored findings keep firstSeen.
      // (Only when a reconcile follows, which clears it again: the map cannot grow.)
      const subj = (obj as unknown as ScanReport).spec?.subject;
      // Reports of audit detections per identity are the audit pipeline's, not about an object.
      if (!subj?.kind || !subj.name || subj.kind === IDENTITY_KIND) return;
      const reportKey = `${ns}/${name}`;
      const before = type === 'DELETED' ? obj : type === 'MODIFIED' ? old : undefined;
      if (before && !this.displaced.has(reportKey))
        this.displaced.set(reportKey, before as unknown as ScanReport);
      this.enqueueSubject(subjectKey(subj.kind, subj.namespace, subj.name));
      return;
    }
    const key = subjectKey(kind, ns, name);
    if (isSubject(obj) || (old && isSubject(old))) {
      if (!this.eventTimes.has(key)) this.eventTimes.set(key, now);
      this.enqueueSubject(key);
    }
    this.enqueueDependents(kind, obj, type, old);
  }

  /** True (once) for the watch event of a report version this controller wrote. */
  private isOwnReportWrite(type: string, key: string, rv: string | undefined): boolean {
    const own = this.ownReportVersions.get(key);
    if (!own) return false;
    if (type === 'DELETED') {
      this.ownReportVersions.delete(key);
      return false;
    }
    if (rv === undefined || !own.delete(rv)) return false;
    if (own.size === 0) this.ownReportVersions.delete(key);
    return true;
  }

  private rememberOwnWrite(key: string, rvs: readonly (string | undefined)[]): void {
    const set = new Set(rvs.filter((v): v is string => typeof v === 'string' && v !== ''));
    if (set.size > 0) this.ownReportVersions.set(key, set);
    else this.ownReportVersions.delete(key);
  }

  /** Cross-resource rules: a change here can change findings there. */
  private enqueueDependents(kind: string, obj: KubeObject, type: string, old?: KubeObject): void {
    const ns = obj.metadata?.namespace ?? '';
    const c = this.o.cache;
    switch (kind) {
      case 'NetworkPolicy':
      case 'Service':
      case 'Ingress':
      case 'ServiceAccount':
      case 'Role':
      case 'PodDisruptionBudget':
      case 'HorizontalPodAutoscaler':
      case 'LimitRange':
        this.enqueueNamespace(ns);
        return;
      case 'Namespace': {
        // Labels feed namespaceSelectors; the namespace's content feeds network rules.
        const labelsChanged =
          JSON.stringify(obj.metadata?.labels ?? {}) !== JSON.stringify(old?.metadata?.labels ?? {});
        if (labelsChanged || type !== 'MODIFIED') this.enqueueNamespace(obj.metadata?.name ?? '');
        return;
      }
      case 'ClusterRole':
        // What it grants is judged on the bindings that use it, and on the workloads whose
        // ServiceAccounts those bindings name.
        for (const b of [...c.ofKind('RoleBinding'), ...c.ofKind('ClusterRoleBinding')]) {
          const ref = (b['roleRef'] ?? {}) as { kind?: string; name?: string };
          if (ref.kind === 'ClusterRole' && ref.name === obj.metadata?.name) {
            this.enqueueSubject(subjectKey(b.kind as string, b.metadata?.namespace, b.metadata?.name ?? ''));
            this.enqueueBoundWorkloads(b);
          }
        }
        return;
      case 'RoleBinding':
      case 'ClusterRoleBinding':
        this.enqueueBoundWorkloads(obj);
        // A role is reported as a latent grant only while no binding uses it: binding or
        // unbinding it changes its findings.
        for (const b of old ? [obj, old] : [obj]) {
          const ref = (b['roleRef'] ?? {}) as { kind?: string; name?: string };
          if (!ref.name) continue;
          if (ref.kind === 'Role' && ns) this.enqueueSubject(subjectKey('Role', ns, ref.name));
          else if (ref.kind === 'ClusterRole') this.enqueueSubject(subjectKey('ClusterRole', '', ref.name));
        }
        return;
      default:
        // Services are judged by the workloads behind them (an exposure that fronts privileged
        // pods is raised): a workload that comes, goes or changes its spec or labels re-evaluates
        // its namespace's Services.
        if (ns && WORKLOAD_KIND_SET.has(kind) && (type !== 'MODIFIED' || specOrLabelsChanged(obj, old)))
          for (const svc of this.o.cache.store('Service').values())
            if (svc.metadata?.namespace === ns)
              this.enqueueSubject(subjectKey('Service', ns, svc.metadata.name ?? ''));
        // A workload appearing or leaving changes its namespace's network findings. The
        // namespace's report is an aggregate (its messages count the workloads), so a burst of
        // pods is folded into one re-evaluation: at most namespaceDelayMs later.
        if (type !== 'MODIFIED' && ns && this.owned(subjectKey('Namespace', '', ns)))
          this.o.subjects.addAfter(
            subjectKey('Namespace', '', ns),
            this.o.namespaceDelayMs ?? NAMESPACE_DELAY_MS,
          );
    }
  }

  /** The workloads whose ServiceAccounts a binding names (their RBAC findings follow it). */
  private enqueueBoundWorkloads(binding: KubeObject): void {
    const ns = binding.metadata?.namespace ?? '';
    for (const s of (binding['subjects'] ?? []) as { kind?: string; namespace?: string }[]) {
      if (s.kind === 'ServiceAccount')
        this.enqueueNamespace(s.namespace ?? ns, ['Deployment', 'DaemonSet', 'StatefulSet', 'Pod']);
    }
  }

  private enqueueNamespace(ns: string, kinds?: string[]): void {
    if (!ns) return;
    this.enqueueSubject(subjectKey('Namespace', '', ns));
    for (const w of SUBJECT_KINDS) {
      if (!w.namespaced || (kinds && !kinds.includes(w.kind))) continue;
      for (const o of this.o.cache.store(w.kind).values())
        if (o.metadata?.namespace === ns && isSubject(o))
          this.enqueueSubject(subjectKey(w.kind, ns, o.metadata.name ?? ''));
    }
  }

  private enqueueSubject(key: string): void {
    if (this.owned(key)) this.o.subjects.add(key);
  }

  /** Evaluates these subjects again (the image scanner, when what it knows of their images changed). */
  requeueSubjects(keys: Iterable<string>): void {
    for (const k of keys) this.enqueueSubject(k);
  }

  private owned(key: string): boolean {
    return this.o.owns === undefined || this.o.owns(key);
  }

  /**
   * Sharding: the member set changed. Forgets what this replica no longer owns (its contributions
   * and pending work: the new owner reports it, nothing is deleted), and evaluates every subject
   * it owns now (a subject it already owned is not written again: reports are only written when
   * their content differs, so the new owner adopts the existing ones).
   */
  reassigned(): void {
    for (const key of [...this.contributions.keys()])
      if (!this.owned(key)) this.updateContributions(key, parseSubjectKey(key).namespace, new Map());
    for (const key of [...this.evaluated.keys()]) if (!this.owned(key)) this.evaluated.delete(key);
    for (const key of [...this.eventTimes.keys()]) if (!this.owned(key)) this.eventTimes.delete(key);
    for (const st of this.policyStates.values())
      for (const key of [...st.pending]) if (!this.owned(key)) st.pending.delete(key);
    if (this.synced) this.resyncAll();
  }

  /** Sharding: this replica's figures per valid policy, which it publishes for the coordinator. */
  shareStatus(): ShareStatus {
    const out: ShareStatus = {};
    for (const st of this.validPolicies()) {
      const t = this.totals.get(st.name);
      const summary = emptyCounts();
      if (t) for (const s of SEVERITIES) summary[s] = t.summary[s];
      out[st.name] = { evaluated: t?.evaluated ?? 0, summary, pending: this.synced ? st.pending.size : 1 };
    }
    return out;
  }

  /** Sharding: the other members' figures changed: the coordinator recomputes every status. */
  requeuePolicies(): void {
    for (const name of this.policyStates.keys()) this.o.policies.add(name);
  }

  /** Every subject in the cache (and every report's subject, so orphans are cleaned) that this replica owns. */
  allSubjectKeys(): string[] {
    const keys = new Set<string>();
    for (const w of SUBJECT_KINDS)
      for (const o of this.o.cache.store(w.kind).values())
        if (isSubject(o)) keys.add(subjectKey(w.kind, o.metadata?.namespace, o.metadata?.name ?? ''));
    for (const p of this.o.cache.store(POLICY_KIND.kind).values())
      keys.add(subjectKey(POLICY_KIND.kind, '', p.metadata?.name ?? ''));
    if (this.clusterVersion)
      keys.add(subjectKey(CLUSTER_VERSION_KIND, '', this.clusterVersion.metadata?.name ?? ''));
    for (const r of this.o.cache.store(REPORT_KIND.kind).values()) {
      const s = (r as unknown as ScanReport).spec?.subject;
      if (s?.kind && s.name && s.kind !== IDENTITY_KIND) keys.add(subjectKey(s.kind, s.namespace, s.name));
    }
    return this.o.owns ? [...keys].filter((k) => this.owned(k)) : [...keys];
  }

  /** After the caches synced (and on every periodic resync): evaluate everything. */
  resyncAll(): void {
    this.synced = true;
    this.o.admission?.invalidate();
    const keys = this.allSubjectKeys();
    for (const st of this.policyStates.values()) for (const k of keys) st.pending.add(k);
    for (const k of keys) this.enqueueSubject(k);
    for (const name of this.policyStates.keys()) this.o.policies.add(name);
  }

  /** The API server's version, polled from /version, as a synthetic subject. */
  setClusterVersion(version: {
    gitVersion: string;
    major?: string;
    minor?: string;
    platform?: string;
  }): void {
    const prev = this.clusterVersion?.['status'] as { gitVersion?: string } | undefined;
    // Other facts (the image scanner's) stay.
    this.o.cache.cluster = { ...this.o.cache.cluster, serverVersion: version.gitVersion };
    if (prev?.gitVersion === version.gitVersion) return;
    this.clusterVersion = {
      apiVersion: API_GROUP_VERSION,
      kind: CLUSTER_VERSION_KIND,
      metadata: { name: 'kube-apiserver' },
      status: { ...version },
    };
    this.o.cache.put(CLUSTER_VERSION_KIND, this.clusterVersion);
    this.enqueueSubject(subjectKey(CLUSTER_VERSION_KIND, '', 'kube-apiserver'));
  }

  // ---- policies -----------------------------------------------------------------------------

  private onPolicyEvent(type: string, obj: KubeObject): void {
    const name = obj.metadata?.name ?? '';
    const prev = this.policyStates.get(name);
    for (const t of prev?.expiryTimers ?? []) t.cancel();
    if (type === 'DELETED') {
      this.policyStates.delete(name);
      this.dropPolicyContributions(name);
      this.o.hooks?.policyRemoved?.(name);
    } else {
      const generation = obj.metadata?.generation ?? 0;
      const { policy, errors } = compilePolicy(obj, this.o.rules, name);
      const st: PolicyState = {
        name,
        generation,
        compiled: policy,
        errors,
        pending: new Set(),
        expiryTimers: [],
        expiredNotified: prev?.generation === generation ? prev.expiredNotified : new Set(),
      };
      this.policyStates.set(name, st);
      if (prev && prev.generation === generation && prev.compiled && policy) {
        // Status-only change (often our own write): keep progress, re-check the status.
        st.pending = prev.pending;
        st.expiryTimers = this.armExpiryTimers(st);
        this.o.policies.add(name);
        return;
      }
      st.expiryTimers = this.armExpiryTimers(st);
      if (this.synced) for (const k of this.allSubjectKeys()) st.pending.add(k);
      if (!policy) {
        this.dropPolicyContributions(name);
        this.o.hooks?.policyRemoved?.(name);
      }
    }
    this.o.policies.add(name);
    if (this.synced) for (const k of this.allSubjectKeys()) this.enqueueSubject(k);
  }

  /** When an exception expires, its findings come back without a restart. */
  private armExpiryTimers(st: PolicyState): Timer[] {
    const timers: Timer[] = [];
    const now = this.o.clock.now();
    let expiring = 0;
    for (const e of st.compiled?.exceptions ?? []) {
      if (!e.expiresAt) continue;
      const due = e.expiresAt.getTime() - now;
      if (due > 0 && due <= 7 * DAY_MS) expiring++;
      if (due <= 0) {
        this.notifyExpired(st, e.index, e.owner);
        continue;
      }
      // Timers beyond ~24 days overflow setTimeout; the periodic resync re-arms them.
      if (due > 20 * DAY_MS) continue;
      timers.push(
        this.o.clock.setTimer(due + 1000, () => {
          this.notifyExpired(st, e.index, e.owner);
          for (const k of this.allSubjectKeys()) {
            st.pending.add(k);
            this.enqueueSubject(k);
          }
          this.o.policies.add(st.name);
        }),
      );
    }
    this.o.hooks?.exceptionsExpiring?.(st.name, expiring);
    return timers;
  }

  private notifyExpired(st: PolicyState, index: number, owner: string): void {
    if (st.expiredNotified.has(index)) return;
    st.expiredNotified.add(index);
    const obj = this.o.cache.get(POLICY_KIND.kind, '', st.name);
    if (obj) this.o.hooks?.exceptionExpired?.(obj, index, owner);
  }

  private validPolicies(): PolicyState[] {
    return [...this.policyStates.values()]
      .filter((p) => p.compiled !== undefined)
      .sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  /** Converges one SecurityPolicy's status. */
  async reconcilePolicy(name: string): Promise<void> {
    const obj = this.o.cache.get(POLICY_KIND.kind, '', name);
    const st = this.policyStates.get(name);
    if (!obj && !st) {
      // Deleted: the garbage collector removes what the policy owned; this makes it prompt.
      const removed = (await this.o.admission?.remove(name)) ?? 0;
      if (removed > 0)
        this.o.logger.info('removed the admission policies of a deleted policy', { policy: name });
      return;
    }
    if (!obj || !st) return;
    const now = this.o.clock.now();
    const totals = this.totals.get(name);
    const summary = emptyCounts();
    if (totals) for (const s of SEVERITIES) summary[s] = totals.summary[s];
    let evaluated = totals?.evaluated ?? 0;
    let pending = st.pending.size;
    // Finding metrics are published here, debounced with the status, not on every subject.
    if (st.compiled) this.o.hooks?.policyFindings?.(name, totals?.labels ?? new Map<string, number>());
    const writer = !this.o.writesPolicyStatus || this.o.writesPolicyStatus();
    if (writer && this.o.peerStatus) {
      // Sharding: the status counts every member's share; a member not heard from is pending.
      for (const peer of this.o.peerStatus()) {
        const p = peer?.[name];
        if (!p) {
          pending += 1;
          continue;
        }
        evaluated += p.evaluated;
        pending += p.pending;
        for (const s of SEVERITIES) summary[s] += p.summary[s];
      }
    }
    const accepted = st.compiled !== undefined;
    const ready = accepted && this.synced && pending === 0;
    const existing = (obj['status'] ?? {}) as SecurityPolicyStatus;
    const conds: Condition[] = [
      this.condition(
        existing.conditions,
        'Accepted',
        accepted,
        accepted ? 'Valid' : (st.errors[0]?.reason ?? 'Invalid'),
        accepted ? 'the policy is valid' : st.errors.map((e) => `${e.field}: ${e.message}`).join('; '),
        st.generation,
        now,
      ),
      this.condition(
        existing.conditions,
        'Ready',
        ready,
        !accepted
          ? st.errors.some((e) => e.reason === 'InvalidRule')
            ? 'InvalidRule'
            : 'InvalidPolicy'
          : ready
            ? 'Evaluated'
            : 'Evaluating',
        !accepted
          ? 'the policy is not accepted; see the Accepted condition'
          : ready
            ? `${evaluated} resources evaluated`
            : `${pending} resources left to evaluate`,
        st.generation,
        now,
      ),
    ];
    const desired: SecurityPolicyStatus = {
      observedGeneration: st.generation,
      conditions: conds,
      summary,
      resourcesEvaluated: accepted ? evaluated : 0,
    };
    // Admission objects are cluster-wide: with sharding, the coordinator alone converges them.
    if (this.o.admission && writer) {
      const { condition, admission } = await this.admissionStatus(obj, st, now);
      conds.push(
        this.condition(
          existing.conditions,
          'Enforced',
          condition.ok,
          condition.reason,
          condition.message,
          st.generation,
          now,
        ),
      );
      // An invalid spec keeps the last admission status (and the objects it describes).
      const admissionStatus = admission ?? existing.admission;
      if (admissionStatus) desired.admission = admissionStatus;
    }
    const same =
      existing.observedGeneration === desired.observedGeneration &&
      existing.resourcesEvaluated === desired.resourcesEvaluated &&
      JSON.stringify(existing.summary ?? {}) === JSON.stringify(summary) &&
      JSON.stringify(existing.conditions ?? []) === JSON.stringify(conds) &&
      JSON.stringify(existing.admission ?? null) === JSON.stringify(desired.admission ?? null);
    this.o.hooks?.policyReady?.(name, ready);
    this.o.hooks?.policyErrors?.(name, st.errors.length);
    if (same) return;
    // Sharding: one member (the coordinator) writes the status, so replicas never fight over it.
    if (!writer) return;
    desired.lastEvaluated = formatTime(now);
    const path = objectPath(POLICY_KIND, '', name) + '/status';
    try {
      const res = await this.o.api.apply<KubeObject>(
        path,
        { apiVersion: API_GROUP_VERSION, kind: 'SecurityPolicy', metadata: { name }, status: desired },
        FIELD_MANAGER,
      );
      this.o.cache.put(POLICY_KIND.kind, { ...obj, status: res['status'] ?? desired });
    } catch (e) {
      if (isNotFound(e)) return;
      throw e;
    }
  }

  /**
   * Converges the policy's admission objects and says what they cover. Not accepted: nothing is
   * touched (a typo does not switch off enforcement already in place).
   */
  private async admissionStatus(
    obj: KubeObject,
    st: PolicyState,
    now: number,
  ): Promise<{
    condition: { ok: boolean; reason: string; message: string };
    admission?: SecurityPolicyStatusAdmission;
  }> {
    const admission = this.o.admission;
    if (!st.compiled || !admission)
      return {
        condition: {
          ok: false,
          reason: 'InvalidPolicy',
          message:
            'the policy is not accepted (see the Accepted condition); admission policies generated from an earlier generation, if any, stay as they were',
        },
      };
    const out = await admission.sync(obj, st.compiled, new Date(now));
    if (out.checking) this.o.policies.addAfter(st.name, 1000);
    const preview = this.preview(st.name, new Set(out.translatedRules));
    const status: SecurityPolicyStatusAdmission = {
      translatedRules: out.translatedRules,
      untranslatedRules: out.untranslatedRules,
      existingViolations: preview.count,
      wouldReject: preview.objects,
      validatingAdmissionPolicies: out.names,
      typeCheckingWarnings: out.typeWarnings.slice(0, 64),
    };
    // Rules about SecurityPolicies themselves (a lapsed exception) judge no admitted object.
    const relevant = out.untranslatedRules.filter(
      (u) => !this.o.rules.find((r) => r.id === u.id)?.kinds.every((k) => k === POLICY_KIND.kind),
    );
    return {
      condition: enforcedCondition(
        st.compiled.action,
        { ...out, untranslatedRules: relevant },
        preview.count,
      ),
      admission: status,
    };
  }

  /**
   * Subjects (controllers no other controller owns, and bare Pods) with a finding of a translated
   * rule: what the generated policies would reject on their next rollout.
   */
  private preview(
    policy: string,
    translated: ReadonlySet<string>,
  ): { count: number; objects: SecurityPolicyStatusAdmissionWouldReject[] } {
    const hits: SecurityPolicyStatusAdmissionWouldReject[] = [];
    if (translated.size === 0) return { count: 0, objects: [] };
    for (const [key, contrib] of this.contributions) {
      const c = contrib.get(policy);
      if (!c) continue;
      const rules = new Set<string>();
      for (const l of c.labels) {
        const rule = l.slice(l.lastIndexOf('|') + 1);
        if (translated.has(rule)) rules.add(rule);
      }
      if (rules.size === 0) continue;
      const { kind, namespace, name } = parseSubjectKey(key);
      const hit: SecurityPolicyStatusAdmissionWouldReject = { kind, name, rules: [...rules].sort() };
      if (namespace) hit.namespace = namespace;
      hits.push(hit);
    }
    const order = (h: SecurityPolicyStatusAdmissionWouldReject): string =>
      `${h.namespace ?? ''}/${h.kind}/${h.name}`;
    hits.sort((a, b) => (order(a) < order(b) ? -1 : order(a) > order(b) ? 1 : 0));
    return { count: hits.length, objects: hits.slice(0, WOULD_REJECT_LIMIT) };
  }

  private condition(
    existing: Condition[] | undefined,
    type: string,
    ok: boolean,
    reason: string,
    message: string,
    generation: number,
    now: number,
  ): Condition {
    const status = ok ? 'True' : 'False';
    const prev = existing?.find((c) => c.type === type);
    const cond: Condition = {
      type,
      status,
      observedGeneration: generation,
      lastTransitionTime: prev && prev.status === status ? prev.lastTransitionTime : formatTime(now),
      reason,
      message: message.slice(0, 32000),
    };
    return cond;
  }

  // ---- subjects -----------------------------------------------------------------------------

  /**
   * Re-evaluates one subject: its findings count at once in the policies' totals, status and
   * metrics; its ScanReport is then converged by persistReport, through the reports queue when
   * there is one (so evaluating the cluster is not paced by report writes), else right away.
   */
  async reconcileSubject(key: string): Promise<void> {
    const { kind, namespace, name } = parseSubjectKey(key);
    if (!this.owned(key)) {
      // Handed over while queued: the new owner evaluates and reports it.
      this.evaluated.delete(key);
      this.eventTimes.delete(key);
      if (this.contributions.has(key)) this.updateContributions(key, namespace, new Map());
      for (const st of this.policyStates.values()) st.pending.delete(key);
      return;
    }
    const now = this.o.clock.now();
    const obj = this.o.cache.get(kind, namespace, name);
    const live = obj !== undefined && isSubject(obj) ? obj : undefined;

    const findings: Finding[] = [];
    const perPolicy = new Map<string, Finding[]>();
    const minSeverity = new Map<string, Severity>();
    let images: 'allow' | 'deny' | undefined;
    for (const st of this.validPolicies()) {
      st.pending.delete(key);
      if (!live || !st.compiled) continue;
      const r = evaluateObject(live, st.compiled, this.o.cache, new Date(now));
      for (const err of r.errors)
        this.o.logger.warn('rule failed', { rule: err.ruleId, subject: key, error: err.message });
      if (!r.matched) continue;
      const img = st.compiled.images;
      if (img?.analyse) images = images === 'allow' || img.pullSecrets === 'allow' ? 'allow' : 'deny';
      perPolicy.set(st.name, r.findings);
      minSeverity.set(st.name, st.compiled.minEventSeverity);
      findings.push(...r.findings);
      if (st.pending.size === 0) this.o.policies.addAfter(st.name, this.o.policyStatusDelayMs ?? 250);
    }
    this.updateContributions(key, namespace, perPolicy);
    // Images are read only for subjects an opted-in policy matches (pull secrets: if one allows).
    if (this.o.images) {
      const wanted = live && images ? workloadImages(live) : [];
      if (live && images && wanted.length > 0) {
        // A ServiceAccount change re-evaluates its namespace (enqueueDependents), so its pull
        // secrets are followed.
        const sa = serviceAccountOf(live);
        const account = sa === undefined ? undefined : this.o.cache.get('ServiceAccount', namespace, sa);
        this.o.images.want(key, wanted, {
          namespace,
          pullSecrets: images,
          secretNames: pullSecretNames(live, account),
        });
      } else this.o.images.forget(key);
    }
    if (
      findings.length === 0 &&
      !this.evaluated.has(key) &&
      !this.hasReportState(key, kind, namespace, name)
    ) {
      // Clean, with no report to delete and nothing queued: nothing to write (most subjects).
      this.eventTimes.delete(key);
      this.o.hooks?.reportWriteSkipped?.();
      return;
    }
    this.evaluated.set(key, { findings, minSeverity });
    if (this.o.reports) this.o.reports.add(key);
    else await this.persistReport(key);
  }

  /** Does anything about this subject's report exist or wait (a report, a displaced copy, an OpenReport)? */
  private hasReportState(key: string, kind: string, namespace: string, name: string): boolean {
    if (kind === CLUSTER_VERSION_KIND || kind === 'Node') return true; // platformVulnerable must hear "none"
    const rName = reportName({ kind, name, namespace });
    const rNs = reportNamespace({ namespace }, this.o.operatorNamespace);
    return (
      this.o.cache.get(REPORT_KIND.kind, rNs, rName) !== undefined ||
      this.displaced.has(`${rNs}/${rName}`) ||
      this.openReportsWritten.has(key)
    );
  }

  /** Subjects evaluated whose report is still to be converged (the reports queue's backlog). */
  unpersisted(): number {
    return this.evaluated.size;
  }

  /** Converges one subject's ScanReport with its last evaluation (idempotent; nothing to do when none is pending). */
  async persistReport(key: string): Promise<void> {
    const evaluation = this.evaluated.get(key);
    if (!evaluation) return;
    if (!this.owned(key)) {
      // Handed over since it was evaluated: stop writing at once, the new owner writes.
      this.evaluated.delete(key);
      return;
    }
    const { findings, minSeverity } = evaluation;
    const { kind, namespace, name } = parseSubjectKey(key);
    const now = this.o.clock.now();
    const obj = this.o.cache.get(kind, namespace, name);
    const live = obj !== undefined && isSubject(obj) ? obj : undefined;
    const rName = reportName({ kind, name, namespace });
    const rNs = reportNamespace({ namespace }, this.o.operatorNamespace);
    const existing = this.o.cache.get(REPORT_KIND.kind, rNs, rName) as unknown as ScanReport | undefined;
    const displaced = this.displaced.get(`${rNs}/${rName}`);
    const ownsDisplaced =
      displaced?.spec?.subject?.kind === kind &&
      displaced.spec.subject.name === name &&
      (displaced.spec.subject.namespace ?? '') === namespace;
    const ownsExisting =
      existing?.spec?.subject?.kind === kind &&
      existing.spec.subject.name === name &&
      (existing.spec.subject.namespace ?? '') === namespace;

    const previous: PreviousFinding[] = ownsExisting ? (existing.status?.findings ?? []).map(toPrevious) : [];
    const path = objectPath(REPORT_KIND, rNs, rName);
    let wrote = false;
    if (findings.length === 0) {
      if (existing && (ownsExisting || !live)) wrote = await this.o.api.deleteIfExists(path);
      if (wrote) this.o.cache.remove(REPORT_KIND.kind, `${rNs}/${rName}`);
      if (this.o.openReports && (wrote || this.openReportsWritten.has(key))) {
        await this.o.api.deleteIfExists(`${openReportCollection(namespace)}/${encodeURIComponent(rName)}`);
        this.openReportsWritten.delete(key);
      }
    } else if (live) {
      const built = buildReport({
        subject: resourceRef(live),
        findings,
        operatorNamespace: this.o.operatorNamespace,
        previous: ownsExisting ? existing : undefined,
        history: ownsDisplaced ? displaced : undefined,
        now: new Date(now),
        budgetBytes: this.o.reportBudgetBytes,
      });
      const { report } = built;
      if (built.omitted > 0) this.o.hooks?.reportTruncated?.();
      if (built.changes.create || built.changes.metadata || built.changes.status || !ownsExisting) {
        // One request: ScanReports have no status subresource (Vigil owns the whole object), so
        // a new report is created with its findings by a plain POST (cheaper for the API server
        // than an apply that creates), and a changed one, or one that exists after all (the cache
        // lagged) or must be taken over, is applied whole.
        const body = {
          apiVersion: report.apiVersion,
          kind: report.kind,
          metadata: report.metadata,
          spec: report.spec,
          status: report.status,
        };
        const res = existing
          ? await this.o.api.apply<KubeObject | undefined>(path, body, FIELD_MANAGER)
          : await this.createOrApply(path, body);
        this.rememberOwnWrite(`${rNs}/${rName}`, [res?.metadata?.resourceVersion]);
        // In the reflector's form: the watch echo may come first, and then this answer stays.
        if (res) this.o.cache.put(REPORT_KIND.kind, cacheForm(REPORT_KIND.kind, res));
        wrote = true;
      }
      // The OpenReports copy follows the ScanReport; once per subject after a start, it is
      // written even when the ScanReport was already in place (its copy may not be).
      if (this.o.openReports && (wrote || !this.openReportsWritten.has(key))) {
        const open = toOpenReport(report);
        await this.o.api.apply(
          `${openReportCollection(namespace)}/${encodeURIComponent(open.metadata.name)}`,
          open,
          FIELD_MANAGER,
        );
        this.openReportsWritten.add(key);
      }
    }
    // Written (or nothing to restore): the displaced version has served. A failed write threw
    // above and keeps it (and the evaluation) for the retry. A newer evaluation that arrived
    // meanwhile stays, for the next pass.
    this.displaced.delete(`${rNs}/${rName}`);
    if (this.evaluated.get(key) === evaluation) this.evaluated.delete(key);
    if (wrote) this.o.hooks?.reportWritten?.();
    else this.o.hooks?.reportWriteSkipped?.();

    const subjectObj = live ??
      obj ?? {
        apiVersion: existing?.spec?.subject?.apiVersion,
        kind,
        metadata: { name, namespace: namespace || undefined, uid: existing?.spec?.subject?.uid },
      };
    if (changedFindings(previous, findings))
      this.o.hooks?.findingsChanged?.(subjectObj, previous, findings, minSeverity);
    if (kind === CLUSTER_VERSION_KIND || kind === 'Node') this.o.hooks?.platformVulnerable?.(key, findings);

    const t = this.eventTimes.get(key);
    if (t !== undefined) {
      this.eventTimes.delete(key);
      if (wrote) this.o.hooks?.timeToFinding?.((this.o.clock.now() - t) / 1000);
    }
  }

  private async createOrApply(path: string, body: object): Promise<KubeObject | undefined> {
    try {
      return await this.o.api.create<KubeObject>(path.slice(0, path.lastIndexOf('/')), body, FIELD_MANAGER);
    } catch (e) {
      if (!isAlreadyExists(e)) throw e;
      return this.o.api.apply<KubeObject | undefined>(path, body, FIELD_MANAGER);
    }
  }

  private updateContributions(key: string, namespace: string, perPolicy: Map<string, Finding[]>): void {
    const prev = this.contributions.get(key);
    const next = new Map<string, Contribution>();
    for (const [policy, fs] of perPolicy) {
      const counts = emptyCounts();
      const labels: string[] = [];
      for (const f of fs) {
        counts[f.severity]++;
        labels.push(`${f.severity}|${namespace}|${f.category}|${f.ruleId}`);
      }
      next.set(policy, { namespace, labels, counts });
    }
    if (next.size === 0) this.contributions.delete(key);
    else this.contributions.set(key, next);
    const touched = new Set([...(prev?.keys() ?? []), ...next.keys()]);
    for (const policy of touched) {
      const a = prev?.get(policy);
      const b = next.get(policy);
      if (a && b && sameLabels(a.labels, b.labels)) continue;
      if (a) this.addToTotals(policy, a, -1);
      if (b) this.addToTotals(policy, b, 1);
      this.o.policies.addAfter(policy, this.o.policyStatusDelayMs ?? 250);
    }
  }

  private addToTotals(policy: string, c: Contribution, sign: 1 | -1): void {
    let t = this.totals.get(policy);
    if (!t) {
      t = { evaluated: 0, summary: emptyCounts(), labels: new Map() };
      this.totals.set(policy, t);
    }
    t.evaluated += sign;
    for (const s of SEVERITIES) t.summary[s] += sign * c.counts[s];
    for (const l of c.labels) {
      const n = (t.labels.get(l) ?? 0) + sign;
      if (n > 0) t.labels.set(l, n);
      else t.labels.delete(l);
    }
  }

  private dropPolicyContributions(policy: string): void {
    for (const contrib of this.contributions.values()) contrib.delete(policy);
    this.totals.delete(policy);
  }

  /** A policy's totals recomputed from every contribution (tests check the incremental ones against it). */
  recomputedTotals(policy: string): {
    evaluated: number;
    summary: SeverityCounts;
    labels: Map<string, number>;
  } {
    const out = { evaluated: 0, summary: emptyCounts(), labels: new Map<string, number>() };
    for (const contrib of this.contributions.values()) {
      const c = contrib.get(policy);
      if (!c) continue;
      out.evaluated++;
      for (const s of SEVERITIES) out.summary[s] += c.counts[s];
      for (const l of c.labels) out.labels.set(l, (out.labels.get(l) ?? 0) + 1);
    }
    return out;
  }

  /** The incremental totals of a policy (empty when it has none). */
  policyTotals(policy: string): { evaluated: number; summary: SeverityCounts; labels: Map<string, number> } {
    const t = this.totals.get(policy);
    return t
      ? { evaluated: t.evaluated, summary: { ...t.summary }, labels: new Map(t.labels) }
      : { evaluated: 0, summary: emptyCounts(), labels: new Map() };
  }

  /** For tests and the benchmark: how many subjects have contributions. */
  stats(): { policies: number; subjectsWithFindings: number; pending: number } {
    let pending = 0;
    for (const st of this.policyStates.values()) pending += st.pending.size;
    return { policies: this.policyStates.size, subjectsWithFindings: this.contributions.size, pending };
  }

  /** Policies whose exceptions may need re-arming (periodic resync). */
  rearmExceptionTimers(): void {
    for (const st of this.policyStates.values()) {
      for (const t of st.expiryTimers) t.cancel();
      st.expiryTimers = this.armExpiryTimers(st);
    }
  }

  isActiveException(policy: string, index: number): boolean {
    const e = this.policyStates.get(policy)?.compiled?.exceptions.find((x) => x.index === index);
    return e !== undefined && exceptionActive(e, new Date(this.o.clock.now()));
  }
}

/** The Enforced condition of an accepted policy from what its admission sync did. */
export function enforcedCondition(
  action: CompiledPolicy['action'],
  out: AdmissionOutcome,
  existingViolations: number,
): { ok: boolean; reason: string; message: string } {
  const untranslated = out.untranslatedRules.length;
  const translated = out.translatedRules.length;
  const warnings =
    out.typeWarnings.length > 0 ? `; API server type-checking warnings: ${out.typeWarnings.join('; ')}` : '';
  if (out.rejected !== undefined)
    return {
      ok: false,
      reason: 'Invalid',
      message: `the API server rejected a generated admission policy, so none is in place: ${out.rejected}`,
    };
  if (action === 'audit')
    return {
      ok: false,
      reason: 'AuditOnly',
      message: `action is audit: nothing is checked at admission. With warn or enforce, ${String(translated)} rules would be checked and ${String(existingViolations)} existing objects would be rejected on their next rollout (status.admission)`,
    };
  if (out.names.length === 0)
    return {
      ok: false,
      reason: 'NotTranslatable',
      message:
        translated === 0
          ? `none of the policy's ${String(untranslated)} rules can be checked on one admitted object; they stay audit-only (status.admission.untranslatedRules)`
          : `the ${String(translated)} rules that translate accept every object with this policy's parameters (for example an empty allow-list), so no admission policy is generated; ${String(untranslated)} rules stay audit-only`,
    };
  const mode = action === 'enforce' ? 'denied' : 'admitted with a warning';
  const inPlace = `${out.names.join(', ')} in place: objects breaking ${String(translated)} rules are ${mode}`;
  if (untranslated > 0)
    return {
      ok: false,
      reason: 'PartiallyEnforced',
      message: `${inPlace}; ${String(untranslated)} rules stay audit-only (status.admission.untranslatedRules)${warnings}`,
    };
  return {
    ok: true,
    reason: action === 'enforce' ? 'Enforced' : 'Warning',
    message: `${inPlace}${warnings}`,
  };
}

function toPrevious(f: ScanReportStatusFinding): PreviousFinding {
  const p: PreviousFinding = { ruleId: f.ruleId, severity: f.severity, message: f.message };
  if (f.policy !== undefined) p.policy = f.policy;
  if (f.container !== undefined) p.container = f.container;
  return p;
}

function sameLabels(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function identity(f: { ruleId: string; policy?: string; container?: string; severity: string }): string {
  return `${f.policy ?? ''}|${f.ruleId}|${f.container ?? ''}|${f.severity}`;
}

function changedFindings(prev: readonly PreviousFinding[], next: readonly Finding[]): boolean {
  if (prev.length !== next.length) return true;
  const a = prev.map(identity).sort();
  const b = next.map(identity).sort();
  return a.some((x, i) => x !== b[i]);
}

const WORKLOAD_KIND_SET: ReadonlySet<string> = new Set(WORKLOAD_KINDS);

/** A workload update that can change what depends on it (not a status-only write). */
function specOrLabelsChanged(obj: KubeObject, old: KubeObject | undefined): boolean {
  if (!old) return true;
  if (JSON.stringify(obj.metadata?.labels ?? {}) !== JSON.stringify(old.metadata?.labels ?? {})) return true;
  const g = obj.metadata?.generation;
  const og = old.metadata?.generation;
  if (g !== undefined && og !== undefined) return g !== og;
  return JSON.stringify(obj['spec'] ?? null) !== JSON.stringify(old['spec'] ?? null);
}
