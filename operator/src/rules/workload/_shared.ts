/**
 * Helpers shared by the workload, supply-chain and secrets rules: containers
 * with their field paths, container-name exemptions, namespace matching for
 * cross-resource lookups. Pure and defensive like the engine accessors.
 */
import { anyGlob } from '../../engine/match.ts';
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

/**
 * Could two objects live in the same namespace? An unset namespace means "wherever
 * the manifest is applied", so it matches any namespace (offline scans); in the
 * cluster every namespaced object has one and this is plain equality.
 */
export function sameNamespace(a: string, b: string): boolean {
  return a === b || a === '' || b === '';
}

/** Objects of a kind that could share the namespace of `obj`. */
export function sameNamespaceObjects(index: ClusterIndexView, kind: string, obj: KubeObject): KubeObject[] {
  const ns = namespaceOf(obj);
  return index.ofKind(kind).filter((o) => sameNamespace(namespaceOf(o), ns));
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
