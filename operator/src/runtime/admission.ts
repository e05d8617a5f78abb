/**
 * Admission control of one SecurityPolicy (issue 14): converges the ValidatingAdmissionPolicies
 * and bindings `renderAdmission` generates for it. Kubernetes I/O for the controller's policy
 * reconcile; the translation itself is pure (admission/translate.ts, shared with
 * `vigil admission render`).
 *
 * - Ownership: every generated object is labelled managed-by vigil, annotated with its policy's
 *   name and owned by the SecurityPolicy (controller reference), so the garbage collector deletes
 *   it with the policy even while the operator is down.
 * - Level-triggered and idempotent: the objects of a policy on the server are listed and made
 *   equal to the desired set (server-side apply, stale ones deleted). A restarted operator thus
 *   adopts, updates or removes what an earlier one generated, without duplicates. The desired set
 *   is remembered, so a policy status reconcile with nothing new costs no request; `invalidate()`
 *   (periodic resync) forces a full pass, which also repairs objects someone edited or deleted.
 * - A generated object the API server rejects (400/422): everything of that policy is removed (no
 *   half-applied pairs) and the outcome carries the server's message. Other errors are thrown, so
 *   the work queue retries with backoff and enforcement in place stays in place.
 * - The API server type-checks each policy asynchronously (status.typeChecking); its warnings are
 *   returned, and `checking` says the check has not caught up with the last write yet.
 */
import { ApiError } from '../adapters/api-error.ts';
import { MANAGED_BY_LABEL, renderAdmission, type UntranslatedRule } from '../admission/translate.ts';
import type { CompiledPolicy } from '../engine/policy.ts';
import type { KubeObject } from '../engine/types.ts';
import { API_GROUP_VERSION } from '../api/types.generated.ts';
import type { Logger } from '../controller/logger.ts';
import type { KubeApi } from './api.ts';

export const POLICY_ANNOTATION = 'security.vigil.dev/policy';
const GROUP = '/apis/admissionregistration.k8s.io/v1';
const COLLECTIONS = {
  ValidatingAdmissionPolicy: `${GROUP}/validatingadmissionpolicies`,
  ValidatingAdmissionPolicyBinding: `${GROUP}/validatingadmissionpolicybindings`,
} as const;
type AdmissionKind = keyof typeof COLLECTIONS;

export interface AdmissionOutcome {
  /** Names of the policies in place (each binding has the same name). */
  names: string[];
  translatedRules: string[];
  untranslatedRules: UntranslatedRule[];
  /** The server refused a generated object: its message (nothing of the policy is left). */
  rejected?: string;
  /** status.typeChecking warnings of the generated policies, prefixed by the policy name. */
  typeWarnings: string[];
  /** Type checking has not yet observed the last write of at least one policy. */
  checking: boolean;
}

interface Remembered {
  desired: string;
  outcome: AdmissionOutcome;
}

interface ListedObject {
  metadata?: { name?: string; annotations?: Record<string, string>; generation?: number };
  status?: {
    observedGeneration?: number;
    typeChecking?: { expressionWarnings?: { fieldRef?: string; warning?: string }[] };
  };
}

const isRejection = (e: unknown): e is ApiError =>
  e instanceof ApiError && (e.code === 400 || e.code === 422);

export class AdmissionSync {
  private readonly remembered = new Map<string, Remembered>();

  private readonly api: KubeApi;
  private readonly fieldManager: string;
  private readonly logger: Logger;

  constructor(api: KubeApi, fieldManager: string, logger: Logger) {
    this.api = api;
    this.fieldManager = fieldManager;
    this.logger = logger;
  }

  /** Forget what was applied: the next sync of each policy lists and repairs its objects. */
  invalidate(): void {
    this.remembered.clear();
  }

  /**
   * Converges the admission objects of `policy` (the SecurityPolicy object, for its uid) compiled
   * as `compiled`, at `now` (an exception that has expired by then no longer applies).
   */
  async sync(policy: KubeObject, compiled: CompiledPolicy, now: Date): Promise<AdmissionOutcome> {
    const name = compiled.name;
    const render = renderAdmission(compiled, now);
    const uid = policy.metadata?.uid ?? '';
    const desiredObjects =
      compiled.action === 'audit' ? [] : render.objects.map((o) => this.owned(o, name, uid));
    const desired = JSON.stringify(desiredObjects);
    const prev = this.remembered.get(name);
    if (prev && prev.desired === desired) return prev.outcome.checking ? this.recheck(prev) : prev.outcome;

    const base = {
      translatedRules: render.translatedRules,
      untranslatedRules: render.untranslatedRules,
      typeWarnings: [],
      checking: false,
    };
    const existing = await this.listOwned(name);
    let outcome: AdmissionOutcome;
    try {
      const applied: ListedObject[] = [];
      for (const obj of desiredObjects) {
        const kind = obj['kind'] as AdmissionKind;
        const objName = (obj['metadata'] as { name: string }).name;
        const res = await this.api.apply<ListedObject>(
          `${COLLECTIONS[kind]}/${encodeURIComponent(objName)}`,
          obj,
          this.fieldManager,
        );
        if (kind === 'ValidatingAdmissionPolicy') applied.push(res);
      }
      const keep = new Set(desiredObjects.map((o) => `${String(o['kind'])}/${objectName(o)}`));
      await this.deleteAll(existing.filter((e) => !keep.has(`${e.kind}/${e.name}`)));
      outcome = { ...base, names: desiredObjects.length > 0 ? render.names : [], ...typeChecking(applied) };
    } catch (e) {
      if (!isRejection(e)) throw e;
      // Refused by the API server: leave nothing of this policy half-applied.
      const all = await this.listOwned(name);
      await this.deleteAll(all);
      this.logger.warn('the API server rejected a generated admission policy; removed its objects', {
        policy: name,
        error: e.message,
      });
      outcome = { ...base, names: [], rejected: e.message };
    }
    this.remembered.set(name, { desired, outcome });
    return outcome;
  }

  /**
   * Re-reads the type checking of the policies in place (after `checking`): the API server fills
   * status.typeChecking some time after a write.
   */
  private async recheck(prev: Remembered): Promise<AdmissionOutcome> {
    const vaps: ListedObject[] = [];
    for (const n of prev.outcome.names)
      vaps.push(
        await this.api.get<ListedObject>(`${COLLECTIONS.ValidatingAdmissionPolicy}/${encodeURIComponent(n)}`),
      );
    prev.outcome = { ...prev.outcome, ...typeChecking(vaps) };
    return prev.outcome;
  }

  /** Removes every admission object generated for `name` (the policy is gone or invalid). */
  async remove(name: string): Promise<number> {
    this.remembered.delete(name);
    const existing = await this.listOwned(name);
    await this.deleteAll(existing);
    return existing.length;
  }

  private owned(obj: Record<string, unknown>, policy: string, uid: string): Record<string, unknown> {
    const meta = obj['metadata'] as { name: string; labels?: Record<string, string> };
    return {
      ...obj,
      metadata: {
        ...meta,
        labels: { ...meta.labels, ...MANAGED_BY_LABEL },
        annotations: { [POLICY_ANNOTATION]: policy },
        ownerReferences: [
          { apiVersion: API_GROUP_VERSION, kind: 'SecurityPolicy', name: policy, uid, controller: true },
        ],
      },
    };
  }

  /** The admission objects on the server that were generated for `policy`. */
  private async listOwned(policy: string): Promise<{ kind: AdmissionKind; name: string }[]> {
    const selector = Object.entries(MANAGED_BY_LABEL)
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    const out: { kind: AdmissionKind; name: string }[] = [];
    for (const kind of Object.keys(COLLECTIONS) as AdmissionKind[]) {
      const list = await this.api.request<{ items?: ListedObject[] }>({
        method: 'GET',
        path: COLLECTIONS[kind],
        query: { labelSelector: selector },
      });
      for (const item of list.items ?? [])
        if (item.metadata?.annotations?.[POLICY_ANNOTATION] === policy && item.metadata.name)
          out.push({ kind, name: item.metadata.name });
    }
    return out;
  }

  /** Bindings before their policies (a binding without its policy does nothing, but is clutter). */
  private async deleteAll(objs: readonly { kind: AdmissionKind; name: string }[]): Promise<void> {
    const ordered = [...objs].sort((a, b) => (a.kind === b.kind ? 0 : a.kind.endsWith('Binding') ? -1 : 1));
    for (const o of ordered)
      await this.api.deleteIfExists(`${COLLECTIONS[o.kind]}/${encodeURIComponent(o.name)}`);
  }
}

function objectName(o: Record<string, unknown>): string {
  return (o['metadata'] as { name: string }).name;
}

function typeChecking(vaps: readonly ListedObject[]): { typeWarnings: string[]; checking: boolean } {
  const typeWarnings: string[] = [];
  let checking = false;
  for (const v of vaps) {
    const st = v.status;
    if (st?.observedGeneration === undefined || st.observedGeneration !== v.metadata?.generation)
      checking = true;
    for (const w of st?.typeChecking?.expressionWarnings ?? [])
      typeWarnings.push(`${v.metadata?.name ?? ''}: ${w.fieldRef ?? ''}: ${w.warning ?? ''}`);
  }
  return { typeWarnings, checking };
}
