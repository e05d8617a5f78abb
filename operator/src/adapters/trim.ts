/**
 * Normalization and trimming of objects on their way into the reflector
 * cache. Objects arrive as raw JSON (timestamps are strings, never Date), and
 * are shrunk before caching:
 *
 * - `metadata.managedFields`: the field sets (`fieldsV1`) are dropped; a
 *   summary `{ manager, operation, time, subresource, apiVersion }` per entry
 *   stays, for the change-management rules (who edits what, kubectl edits of
 *   controller-managed objects);
 * - the `kubectl.kubernetes.io/last-applied-configuration` annotation (a full
 *   copy of the object) is dropped;
 * - workload status is reduced to what rules read (Pod phase and container
 *   image ids; replica counts of controllers);
 * - Secret values are blanked (keys kept), so secret data never sits in
 *   Vigil's memory.
 *
 * Trim functions never mutate their input; untouched branches are shared.
 */
import type { KubeObject } from '../engine/types.ts';
import { asArray, asObj, isObj } from '../engine/podspec.ts';

export type TrimFn = (obj: KubeObject) => KubeObject;

export const LAST_APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration';

/** Annotations dropped from every cached object. */
export const DROPPED_ANNOTATIONS: readonly string[] = [LAST_APPLIED_ANNOTATION];

const MANAGED_FIELD_KEEP = ['manager', 'operation', 'time', 'subresource', 'apiVersion'] as const;

/** Metadata trimming applied to every kind. */
export function trimMetadata(obj: KubeObject): KubeObject {
  if (!isObj(obj.metadata)) return obj;
  const meta = { ...obj.metadata };
  const mf = meta.managedFields;
  if (mf !== undefined) {
    meta.managedFields = asArray(mf)
      .filter(isObj)
      .map((e) => {
        const out: Record<string, unknown> = {};
        for (const k of MANAGED_FIELD_KEEP) if (typeof e[k] === 'string') out[k] = e[k];
        return out;
      });
  }
  if (isObj(meta.annotations) && DROPPED_ANNOTATIONS.some((a) => a in (meta.annotations ?? {}))) {
    const ann: Record<string, string> = {};
    for (const [k, v] of Object.entries(meta.annotations)) if (!DROPPED_ANNOTATIONS.includes(k)) ann[k] = v;
    meta.annotations = ann;
  }
  return { ...obj, metadata: meta };
}

const CONTAINER_STATUS_KEEP = ['name', 'image', 'imageID', 'ready', 'restartCount', 'started'] as const;

function trimContainerStatuses(v: unknown): Record<string, unknown>[] | undefined {
  if (v === undefined) return undefined;
  return asArray(v)
    .filter(isObj)
    .map((cs) => {
      const out: Record<string, unknown> = {};
      for (const k of CONTAINER_STATUS_KEEP) if (cs[k] !== undefined) out[k] = cs[k];
      return out;
    });
}

function pick(src: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of keys) if (src[k] !== undefined) out[k] = src[k];
  return out;
}

/** Pod status: phase, QoS, and per-container image ids (digests) and readiness. */
export function trimPodStatus(obj: KubeObject): KubeObject {
  if (!isObj(obj.status)) return obj;
  const s = obj.status;
  const out = pick(s, ['phase', 'qosClass']);
  for (const k of ['containerStatuses', 'initContainerStatuses', 'ephemeralContainerStatuses']) {
    const t = trimContainerStatuses(s[k]);
    if (t !== undefined) out[k] = t;
  }
  return { ...obj, status: out };
}

const REPLICA_STATUS_KEEP = ['replicas', 'readyReplicas', 'availableReplicas', 'observedGeneration'] as const;

/** Controller status (Deployment, StatefulSet …): replica counts only. */
export function trimReplicaStatus(obj: KubeObject): KubeObject {
  if (!isObj(obj.status)) return obj;
  return { ...obj, status: pick(obj.status, REPLICA_STATUS_KEEP) };
}

/** Job / CronJob status: nothing rules need. */
export function dropStatus(obj: KubeObject): KubeObject {
  if (obj.status === undefined) return obj;
  const { status: _s, ...rest } = obj;
  return rest;
}

/** Secret: keeps type and key names, blanks every value. */
export function blankSecretData(obj: KubeObject): KubeObject {
  const out: KubeObject = { ...obj };
  for (const field of ['data', 'stringData']) {
    if (obj[field] === undefined) continue;
    const blank: Record<string, string> = {};
    for (const k of Object.keys(asObj(obj[field]))) blank[k] = '';
    out[field] = blank;
  }
  return out;
}

const KIND_TRIMS: Readonly<Record<string, readonly TrimFn[]>> = {
  Pod: [trimPodStatus],
  Deployment: [trimReplicaStatus],
  ReplicaSet: [trimReplicaStatus],
  StatefulSet: [trimReplicaStatus],
  DaemonSet: [trimReplicaStatus],
  ReplicationController: [trimReplicaStatus],
  Job: [dropStatus],
  CronJob: [dropStatus],
  Secret: [blankSecretData],
};

/** The trim function for a kind: metadata trimming plus the kind's own. */
export function trimFor(kind: string): TrimFn {
  const extra = KIND_TRIMS[kind] ?? [];
  return (obj) => extra.reduce((o, fn) => fn(o), trimMetadata(obj));
}

/**
 * Ensures apiVersion and kind are set: items of a typed list response carry
 * neither, but rules and the engine dispatch on `kind`.
 */
export function withTypeMeta(obj: KubeObject, apiVersion: string, kind: string): KubeObject {
  if (obj.apiVersion === apiVersion && obj.kind === kind) return obj;
  return {
    ...obj,
    apiVersion: typeof obj.apiVersion === 'string' ? obj.apiVersion : apiVersion,
    kind: typeof obj.kind === 'string' ? obj.kind : kind,
  };
}

/**
 * A bounded pool of canonical strings, so cached objects share one copy of
 * each repeated value: the API server sends the same image names, label
 * values, tolerations and — in ScanReports — the same remediation texts and
 * messages thousands of times, and JSON.parse gives every occurrence its own
 * string. Two generations of at most `maxEntries` each: a hit in the older
 * one moves the string to the newer one; when the newer one is full it
 * becomes the older one (so unique values such as uids age out and the pool
 * stays bounded). Strings longer than `maxLength` are not pooled.
 */
export class StringPool {
  private current = new Map<string, string>();
  private previous = new Map<string, string>();
  private readonly maxEntries: number;
  private readonly maxLength: number;

  constructor(maxEntries = 50_000, maxLength = 4096) {
    this.maxEntries = Math.max(1, maxEntries);
    this.maxLength = maxLength;
  }

  intern(s: string): string {
    if (s.length > this.maxLength) return s;
    const hit = this.current.get(s);
    if (hit !== undefined) return hit;
    const old = this.previous.get(s);
    const canonical = old ?? s;
    if (this.current.size >= this.maxEntries) {
      this.previous = this.current;
      this.current = new Map();
    }
    this.current.set(canonical, canonical);
    return canonical;
  }

  /** Whether the pool currently holds a string equal to `s`. */
  has(s: string): boolean {
    return this.current.has(s) || this.previous.has(s);
  }

  /** Entries held (both generations). */
  get size(): number {
    return this.current.size + this.previous.size;
  }
}

/** One pool for every reflector: values repeat across kinds (namespaces, labels, images). */
export const sharedStringPool = new StringPool();

/**
 * A deep copy of a JSON value (objects, arrays, primitives) whose strings
 * come from `pool`. Keys are left alone (V8 already shares property names).
 * Does not mutate its input.
 */
export function internStrings<T>(value: T, pool: StringPool = sharedStringPool): T {
  return intern(value, pool) as T;
}

function intern(v: unknown, pool: StringPool): unknown {
  if (typeof v === 'string') return pool.intern(v);
  if (typeof v !== 'object' || v === null) return v;
  if (Array.isArray(v)) return v.map((x) => intern(x, pool));
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) out[k] = intern(x, pool);
  return out;
}

/**
 * The form an object takes in the cache: `trimFor(kind)`, then its strings interned. The
 * reflectors store what they receive in this form; so must anyone else who puts an object in the
 * cache (the controller stores the API server's answer to its own report write, which would
 * otherwise keep every field set of managedFields and a private copy of every string until the
 * next change to that report).
 */
export function cacheForm(kind: string, obj: KubeObject, pool: StringPool = sharedStringPool): KubeObject {
  return internStrings(trimFor(kind)(obj), pool);
}

/** Recursively freezes an object (for tests and development: cache entries must not be mutated). */
export function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const child of Object.values(v as Record<string, unknown>)) deepFreeze(child);
  }
  return v;
}
