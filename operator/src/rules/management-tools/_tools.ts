/**
 * Shared by the management-tools rules: which containers run a given tool,
 * what their command line says, and the two facts that make a risky tool
 * worse: reachable from outside the cluster (NodePort/LoadBalancer Service or
 * an Ingress in front of it) and running with a cluster-admin service account.
 * Both are cross-resource lookups through ctx.index.
 */
import { allContainers, asString, asStringArray, podTemplate, type Obj } from '../../engine/podspec.ts';
import type { ClusterIndexView, KubeObject, RuleContext, RuleHit, Severity } from '../../engine/types.ts';
import { externalExposure, isTopLevel, nsOf } from '../network/_net.ts';
import { perObject } from '../rbac/_memo.ts';
import { clusterAdminBindingsOf } from '../rbac/_rbac.ts';

export interface ToolContainer {
  name: string;
  /** Field path, e.g. `spec.template.spec.containers[0]`. */
  path: string;
  image: string;
  /** command + args, each also split on whitespace (shell wrappers such as `sh -c "…"`). */
  argv: string[];
  container: Obj;
}

/**
 * Containers of a top-level workload (owned pods are represented by their controller); computed
 * once per evaluation of the object, as every management-tools rule asks.
 */
export function toolContainers(
  obj: KubeObject,
  ctx: Pick<RuleContext, 'index' | 'objectMemo'>,
): readonly ToolContainer[] {
  return perObject(ctx, 'management-tools/containers', () => containersOf(obj, ctx.index));
}

function containersOf(obj: KubeObject, index: ClusterIndexView): ToolContainer[] {
  const tpl = podTemplate(obj);
  if (!tpl || !isTopLevel(obj, index)) return [];
  const counters: Record<string, number> = {};
  return allContainers(tpl.spec).map((c) => {
    const i = counters[c.type] ?? 0;
    counters[c.type] = i + 1;
    const raw = [...asStringArray(c.container['command']), ...asStringArray(c.container['args'])];
    return {
      name: c.name,
      path: `${tpl.path}.${c.type}[${i}]`,
      image: asString(c.container['image']) ?? '',
      argv: raw.flatMap((a) => a.split(/\s+/)).filter((a) => a !== ''),
      container: c.container,
    };
  });
}

/** Image repository without registry, tag or digest, e.g. `kubernetesui/dashboard`. */
export function imageRepo(image: string): string {
  let s = image.split('@')[0] ?? '';
  const slash = s.lastIndexOf('/');
  const colon = s.lastIndexOf(':');
  if (colon > slash) s = s.slice(0, colon);
  const parts = s.split('/');
  const first = parts[0] ?? '';
  if (parts.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost'))
    parts.shift();
  return parts.join('/');
}

export function imageBase(image: string): string {
  const repo = imageRepo(image);
  return repo.slice(repo.lastIndexOf('/') + 1);
}

/**
 * Value of a command-line flag: `--name=v` / `-name=v` → v; bare `--name` →
 * the next token when `takesValue`, else 'true'. Undefined when absent.
 */
export function flagValue(argv: readonly string[], name: string, takesValue = false): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    for (const prefix of [`--${name}`, `-${name}`]) {
      if (a === prefix) return takesValue ? (argv[i + 1] ?? '') : 'true';
      if (a.startsWith(`${prefix}=`)) return a.slice(prefix.length + 1);
    }
  }
  return undefined;
}

/** A boolean flag that is set and not explicitly false. */
export function boolFlag(argv: readonly string[], name: string): boolean {
  const v = flagValue(argv, name);
  return v !== undefined && !['false', '0', 'f', 'FALSE', 'False'].includes(v);
}

export interface RiskContext {
  exposure: string[];
  adminBindings: string[];
  serviceAccount: string;
}

export function riskContext(obj: KubeObject, index: ClusterIndexView): RiskContext {
  const tpl = podTemplate(obj);
  const sa =
    (tpl && (asString(tpl.spec['serviceAccountName']) || asString(tpl.spec['serviceAccount']))) || 'default';
  return {
    exposure: externalExposure(obj, index).paths,
    adminBindings: clusterAdminBindingsOf(index, nsOf(obj), sa),
    serviceAccount: sa,
  };
}

/** Message suffix describing the aggravating context, '' when there is none. */
export function contextText(rc: RiskContext): string {
  const parts: string[] = [];
  if (rc.exposure.length > 0)
    parts.push(`reachable from outside the cluster through ${rc.exposure.join(', ')}`);
  if (rc.adminBindings.length > 0)
    parts.push(
      `its service account "${rc.serviceAccount}" is cluster-admin through ClusterRoleBinding ${rc.adminBindings.map((b) => `"${b}"`).join(', ')}`,
    );
  return parts.length > 0 ? `; ${parts.join('; ')}` : '';
}

export function aggravated(rc: RiskContext): boolean {
  return rc.exposure.length > 0 || rc.adminBindings.length > 0;
}

/** `container "name" (spec.template.spec.containers[0])`, for messages. */
export function where(c: ToolContainer): string {
  return `container "${c.name}" (${c.path})`;
}

export function hit(c: ToolContainer, message: string, severity: Severity): RuleHit {
  return { message, container: c.name, severity };
}
