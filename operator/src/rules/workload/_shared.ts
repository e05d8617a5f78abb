/**
 * Helpers shared by the workload, supply-chain and secrets rules: containers
 * with their field paths, container-name exemptions, namespace matching for
 * cross-resource lookups. Pure and defensive like the engine accessors.
 */
import { anyGlob } from '../../engine/match.ts';
import { memoByKinds } from '../rbac/_memo.ts';
import {
  asObj,
  asObjArray,
  asString,
  asStringArray,
  dig,
  podTemplate,
  type ContainerType,
  type Obj,
  type PodTemplate,
} from '../../engine/podspec.ts';
import type { ClusterIndexView, KubeObject, ParamSpec, Params } from '../../engine/types.ts';

export const ALL_CONTAINER_TYPES: readonly ContainerType[] = [
  'initContainers',
  'containers',
  'ephemeralContainers',
];
/** Containers that take resources and run for the pod's lifetime or before it (ephemeral ones cannot set resources). */
export const INIT_AND_REGULAR: readonly ContainerType[] = ['initContainers', 'containers'];
export const REGULAR_ONLY: readonly ContainerType[] = ['containers'];

export interface ContainerAt {
  container: Obj;
  name: string;
  type: ContainerType;
  /** Field path of the container within the object, e.g. `spec.template.spec.containers[0]`. */
  path: string;
}

/** Containers of the given types with their field paths, in init, regular, ephemeral order. */
export function containersAt(
  tpl: PodTemplate,
  types: readonly ContainerType[] = ALL_CONTAINER_TYPES,
): ContainerAt[] {
  const out: ContainerAt[] = [];
  for (const type of ALL_CONTAINER_TYPES) {
    if (!types.includes(type)) continue;
    asObjArray(tpl.spec[type]).forEach((c, i) => {
      out.push({
        container: c,
        name: asString(c['name']) ?? `${type}[${i}]`,
        type,
        path: `${tpl.path}.${type}[${i}]`,
      });
    });
  }
  return out;
}

/** The `exemptContainers` param every container-level hygiene rule declares. */
export const EXEMPT_CONTAINERS_PARAM: ParamSpec = {
  name: 'exemptContainers',
  description: 'Container names (shell globs, e.g. "istio-*") this rule does not check.',
  type: 'string[]',
  default: [],
};

export function isExempt(name: string, params: Params): boolean {
  return anyGlob(asStringArray(params['exemptContainers']), name);
}

/** Non-exempt containers of the object's pod template, or [] for other kinds. */
export function checkedContainers(
  obj: KubeObject,
  params: Params,
  types: readonly ContainerType[] = ALL_CONTAINER_TYPES,
): ContainerAt[] {
  const tpl = podTemplate(obj);
  if (!tpl) return [];
  return containersAt(tpl, types).filter((c) => !isExempt(c.name, params));
}

/** `metadata.namespace`, or '' when unset (files scanned offline often omit it). */
export function namespaceOf(obj: unknown): string {
  return asString(dig(obj, 'metadata', 'namespace')) ?? '';
}

interface NamespaceLists {
  /** Objects of the kind by namespace, in ofKind order ('' holds those with none). */
  byNs: Map<string, KubeObject[]>;
}

/**
 * Objects of a kind in the namespace of `obj`, in `ofKind` order. An unset namespace is the
 * namespace the manifests are applied to, shared by every object without one (as in the
 * network and RBAC rules): namespace-less objects go with namespace-less objects only. In
 * the cluster every namespaced object has one. The lists per namespace are built once per
 * version of the kind's list (memoByKinds), so asking for every workload costs one pass
 * over the kind, not one pass per workload.
 */
export function sameNamespaceObjects(
  index: ClusterIndexView,
  kind: string,
  obj: KubeObject,
): readonly KubeObject[] {
  const ns = namespaceOf(obj);
  const lists = memoByKinds(index, `workload/by-ns/${kind}`, [kind], (): NamespaceLists => {
    const byNs = new Map<string, KubeObject[]>();
    for (const o of index.ofKind(kind)) {
      const k = namespaceOf(o);
      const l = byNs.get(k);
      if (l) l.push(o);
      else byNs.set(k, [o]);
    }
    return { byNs };
  });
  return lists.byNs.get(ns) ?? [];
}

/** Run-to-completion workloads: Jobs, CronJobs and Pods a Job owns. Probes do not apply to them. */
export function isRunToCompletion(obj: KubeObject): boolean {
  if (obj.kind === 'Job' || obj.kind === 'CronJob') return true;
  if (obj.kind !== 'Pod') return false;
  return asObjArray(dig(obj, 'metadata', 'ownerReferences')).some((r) => r['kind'] === 'Job');
}

/** Labels of the pod template (a Pod's own labels for a Pod), string values only. */
export function templateLabels(tpl: PodTemplate): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(asObj(tpl.metadata['labels']))) if (typeof v === 'string') out[k] = v;
  return out;
}

/** Shortens untrusted strings (names, image references) before they go into messages. */
export function clip(s: string, max = 120): string {
  return s.length <= max ? s : `${s.slice(0, max)}…`;
}
