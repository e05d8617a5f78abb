/**
 * Per-index memoisation of derived lookups (binding tables, aggregating roles,
 * objects per namespace) so the cross-resource rules stay near-linear on large
 * clusters instead of rescanning every binding for every role.
 *
 * Rules stay pure in effect: an entry is reused only while every `ofKind` list
 * it was computed from still holds exactly the same objects (identity, in
 * order), so a live index (the controller's caches) that changes is simply
 * recomputed. `compute` must read only the listed kinds.
 *
 * The engine's own ClusterIndex (CLI scans, tests) only ever appends to its
 * lists, so for it the same list with the same length is the same content and
 * the O(n) element comparison is skipped; that keeps a bulk scan linear.
 */
import { ClusterIndex } from '../../engine/cluster-index.ts';
import type { ClusterIndexView, KubeObject, RuleContext } from '../../engine/types.ts';

interface Entry {
  /** The lists as returned by ofKind when the value was computed. */
  lists: (readonly KubeObject[])[];
  /** Copies of them, for indexes that may change a list in place. */
  snaps: (readonly KubeObject[])[];
  value: unknown;
}

const caches = new WeakMap<ClusterIndexView, Map<string, Entry>>();

function unchanged(
  e: Entry,
  k: number,
  cur: readonly KubeObject[],
  appendOnly: boolean,
  immutable: boolean,
): boolean {
  if (immutable) return e.lists[k] === cur;
  const snap = e.snaps[k] ?? [];
  if (snap.length !== cur.length) return false;
  if (appendOnly && e.lists[k] === cur) return true;
  for (let i = 0; i < snap.length; i++) if (snap[i] !== cur[i]) return false;
  return true;
}

export function memoByKinds<T>(
  index: ClusterIndexView,
  name: string,
  kinds: readonly string[],
  compute: () => T,
): T {
  let m = caches.get(index);
  if (!m) {
    m = new Map();
    caches.set(index, m);
  }
  const cur = kinds.map((k) => index.ofKind(k));
  const appendOnly = index instanceof ClusterIndex;
  const immutable = index.immutableLists === true;
  const e = m.get(name);
  if (e && e.lists.length === cur.length && cur.every((c, k) => unchanged(e, k, c, appendOnly, immutable)))
    return e.value as T;
  const value = compute();
  m.set(name, { lists: cur, snaps: immutable ? [] : cur.map((a) => [...a]), value });
  return value;
}

/**
 * What rules derive from the object being evaluated (its containers as a tool sees them, the
 * secrets found in a container …), computed once per evaluation of that object: the engine
 * gives every rule of one object's evaluation the same ctx.objectMemo. `key` must name
 * everything the value depends on besides the object (e.g. the rule parameters used).
 */
export function perObject<T>(ctx: Pick<RuleContext, 'objectMemo'>, key: string, compute: () => T): T {
  const memo = ctx.objectMemo;
  if (!memo) return compute();
  if (memo.has(key)) return memo.get(key) as T;
  const value = compute();
  memo.set(key, value);
  return value;
}
