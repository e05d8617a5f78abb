/**
 * In-memory index over a set of objects, for cross-resource rules. The CLI
 * builds one from the scanned files; the controller implements the same view
 * over its watch caches.
 */
import type { ClusterFacts, ClusterIndexView, KubeObject } from './types.ts';
import { asString, isObj } from './podspec.ts';
import { labelsOf } from './match.ts';
import { CLUSTER_SCOPED_KINDS } from './policy.ts';

export class ClusterIndex implements ClusterIndexView {
  private readonly byKind = new Map<string, KubeObject[]>();
  private readonly byKey = new Map<string, KubeObject>();
  private readonly nsNames = new Set<string>();
  readonly cluster: ClusterFacts;

  constructor(objects: Iterable<KubeObject>, cluster: ClusterFacts = {}) {
    this.cluster = cluster;
    for (const o of objects) this.add(o);
  }

  add(o: KubeObject): void {
    const kind = asString(o.kind);
    if (!kind) return;
    const list = this.byKind.get(kind);
    if (list) list.push(o);
    else this.byKind.set(kind, [o]);
    const meta = isObj(o.metadata) ? o.metadata : {};
    // The API server drops metadata.namespace of a cluster-scoped object (a ClusterRole
    // manifest that names one is still the cluster's ClusterRole), so the index does too.
    const ns = CLUSTER_SCOPED_KINDS.has(kind) ? '' : (asString(meta.namespace) ?? '');
    const name = asString(meta.name) ?? '';
    this.byKey.set(`${kind}/${ns}/${name}`, o);
    if (ns) this.nsNames.add(ns);
    if (kind === 'Namespace' && name) this.nsNames.add(name);
  }

  ofKind(kind: string): readonly KubeObject[] {
    return this.byKind.get(kind) ?? [];
  }

  get(kind: string, namespace: string, name: string): KubeObject | undefined {
    return this.byKey.get(`${kind}/${namespace}/${name}`);
  }

  namespaces(): readonly string[] {
    return [...this.nsNames].sort();
  }

  namespaceLabels(namespace: string): Readonly<Record<string, string>> | undefined {
    const ns = this.get('Namespace', '', namespace);
    if (!ns) return undefined;
    // Untrusted input: keep string values only, as object selectors do (labelsOf).
    return labelsOf(ns.metadata);
  }
}
