/**
 * The controller's view of the cluster: one store per kind, filled by the
 * reflectors, and the ClusterIndexView the engine's cross-resource rules read.
 */
import type { ClusterFacts, ClusterIndexView, KubeObject } from '../engine/types.ts';

export function objectKey(namespace: string | undefined, name: string): string {
  return namespace ? `${namespace}/${name}` : name;
}

export function keyOf(obj: KubeObject): string {
  return objectKey(obj.metadata?.namespace, obj.metadata?.name ?? '');
}

/** Work-queue key of a subject: `Kind/namespace/name` (namespace empty for cluster-scoped). */
export function subjectKey(kind: string, namespace: string | undefined, name: string): string {
  return `${kind}/${namespace ?? ''}/${name}`;
}

export function parseSubjectKey(key: string): { kind: string; namespace: string; name: string } {
  const i = key.indexOf('/');
  const j = key.indexOf('/', i + 1);
  return { kind: key.slice(0, i), namespace: key.slice(i + 1, j), name: key.slice(j + 1) };
}

export class ClusterCache implements ClusterIndexView {
  private readonly stores = new Map<string, Map<string, KubeObject>>();
  private readonly lists = new Map<string, readonly KubeObject[]>();
  private nsList: readonly string[] | undefined;
  cluster: ClusterFacts = {};
  /** ofKind lists are rebuilt, never edited, when a kind changes. */
  readonly immutableLists = true;

  store(kind: string): Map<string, KubeObject> {
    let s = this.stores.get(kind);
    if (!s) {
      s = new Map();
      this.stores.set(kind, s);
    }
    return s;
  }

  /** Stores or replaces an object; returns the previous one. */
  put(kind: string, obj: KubeObject): KubeObject | undefined {
    const key = keyOf(obj);
    const s = this.store(kind);
    const prev = s.get(key);
    s.set(key, obj);
    this.lists.delete(kind);
    if (!prev) this.nsList = undefined;
    return prev;
  }

  remove(kind: string, key: string): KubeObject | undefined {
    const s = this.store(kind);
    const prev = s.get(key);
    if (prev) {
      s.delete(key);
      this.lists.delete(kind);
      this.nsList = undefined;
    }
    return prev;
  }

  /** Replaces a whole kind (after a relist). */
  replace(kind: string, objs: Iterable<KubeObject>): void {
    const s = new Map<string, KubeObject>();
    for (const o of objs) s.set(keyOf(o), o);
    this.stores.set(kind, s);
    this.lists.delete(kind);
    this.nsList = undefined;
  }

  ofKind(kind: string): readonly KubeObject[] {
    let l = this.lists.get(kind);
    if (!l) {
      l = [...(this.stores.get(kind)?.values() ?? [])];
      this.lists.set(kind, l);
    }
    return l;
  }

  get(kind: string, namespace: string, name: string): KubeObject | undefined {
    return this.stores.get(kind)?.get(objectKey(namespace, name));
  }

  namespaces(): readonly string[] {
    if (!this.nsList) {
      const set = new Set<string>();
      for (const [kind, s] of this.stores) {
        if (kind === 'Namespace') for (const o of s.values()) set.add(o.metadata?.name ?? '');
        else for (const o of s.values()) if (o.metadata?.namespace) set.add(o.metadata.namespace);
      }
      set.delete('');
      this.nsList = [...set].sort();
    }
    return this.nsList;
  }

  namespaceLabels(namespace: string): Readonly<Record<string, string>> | undefined {
    const ns = this.get('Namespace', '', namespace);
    return ns ? (ns.metadata?.labels ?? {}) : undefined;
  }

  /** Every object of a kind in a namespace. */
  inNamespace(kind: string, namespace: string): KubeObject[] {
    return this.ofKind(kind).filter((o) => o.metadata?.namespace === namespace);
  }
}
