/**
 * Pod templates of every workload kind, read defensively: input is untrusted
 * YAML, so every accessor tolerates missing fields and wrong types.
 */
import type { KubeObject } from './types.ts';

export const WORKLOAD_KINDS = [
  'Pod',
  'Deployment',
  'ReplicaSet',
  'StatefulSet',
  'DaemonSet',
  'Job',
  'CronJob',
  'ReplicationController',
] as const;

export type Obj = Record<string, unknown>;

export function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function asObj(v: unknown): Obj {
  return isObj(v) ? v : {};
}

export function asArray(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

export function asObjArray(v: unknown): Obj[] {
  return asArray(v).filter(isObj);
}

export function asString(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

export function asStringArray(v: unknown): string[] {
  return asArray(v).filter((x): x is string => typeof x === 'string');
}

/** Follows a path of keys through nested objects; undefined when any step is missing. */
export function dig(v: unknown, ...path: string[]): unknown {
  let cur: unknown = v;
  for (const key of path) {
    if (!isObj(cur)) return undefined;
    cur = cur[key];
  }
  return cur;
}

export interface PodTemplate {
  /** The pod spec (`spec` of a Pod, `spec.template.spec` of a Deployment …). */
  spec: Obj;
  /** The pod template's metadata (a Pod's own metadata for a Pod). */
  metadata: Obj;
  /** Path prefix of the spec within the object, for messages (e.g. "spec.template.spec"). */
  path: string;
}

/** Returns the pod template of a workload object, or undefined for other kinds. */
export function podTemplate(obj: KubeObject): PodTemplate | undefined {
  const spec = obj['spec'];
  switch (obj.kind) {
    case 'Pod':
      return { spec: asObj(spec), metadata: asObj(obj.metadata), path: 'spec' };
    case 'Deployment':
    case 'ReplicaSet':
    case 'StatefulSet':
    case 'DaemonSet':
    case 'Job':
    case 'ReplicationController':
      return {
        spec: asObj(dig(spec, 'template', 'spec')),
        metadata: asObj(dig(spec, 'template', 'metadata')),
        path: 'spec.template.spec',
      };
    case 'CronJob':
      return {
        spec: asObj(dig(spec, 'jobTemplate', 'spec', 'template', 'spec')),
        metadata: asObj(dig(spec, 'jobTemplate', 'spec', 'template', 'metadata')),
        path: 'spec.jobTemplate.spec.template.spec',
      };
    default:
      return undefined;
  }
}

export type ContainerType = 'initContainers' | 'containers' | 'ephemeralContainers';

export interface ContainerRef {
  container: Obj;
  name: string;
  type: ContainerType;
}

/** Every container of a pod spec: init, regular and ephemeral, in that order. */
export function allContainers(spec: Obj): ContainerRef[] {
  const out: ContainerRef[] = [];
  for (const type of ['initContainers', 'containers', 'ephemeralContainers'] as const) {
    asObjArray(spec[type]).forEach((c, i) => {
      out.push({ container: c, name: asString(c['name']) ?? `${type}[${i}]`, type });
    });
  }
  return out;
}

/** True when the pod runs Windows (spec.os.name: windows). */
export function isWindowsPod(spec: Obj): boolean {
  return dig(spec, 'os', 'name') === 'windows';
}
