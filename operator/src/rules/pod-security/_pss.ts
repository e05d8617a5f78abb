/**
 * Shared plumbing of the Pod Security Standards rules (policy version v1.37, as
 * k8s.io/pod-security-admission evaluates it). Each rule reads the pod template
 * of a workload and mirrors one PSA check; these helpers give them the same
 * view of the (untrusted) spec that PSA gets from the decoded, defaulted object.
 */
import {
  asArray,
  dig,
  isObj,
  podTemplate,
  WORKLOAD_KINDS,
  type ContainerType,
  type Obj,
} from '../../engine/podspec.ts';
import type { KubeObject, ProfileName, RuleContext, Severity } from '../../engine/types.ts';

/** The PSS policy version these rules implement. */
export const PSS_POLICY_VERSION = 'v1.37';

type Profiles = readonly Exclude<ProfileName, 'all'>[];

/** A baseline check that also runs at restricted (PSA adds every non-overridden baseline check). */
export const BASELINE_PROFILES: Profiles = ['pss-baseline', 'pss-restricted', 'recommended'];
/**
 * A baseline check that a restricted check overrides (PSA's OverrideCheckIDs): not in
 * pss-restricted, where the overriding check reports its problems as PSA does. In
 * `recommended` and `all` both run, and the restricted rule leaves the problems the baseline
 * rule reports to it (see leftToBaseline): one finding per problem, at the baseline rule's
 * own, listed severity (a hostPath volume is a critical pss-host-path-volumes finding, not a
 * medium rule raised to critical).
 */
export const BASELINE_ONLY_PROFILES: Profiles = ['pss-baseline', 'recommended'];

/**
 * Does the overridden baseline rule `baselineId` run beside this restricted rule? Then the
 * problems both see are reported by the baseline rule only. Alone (pss-restricted, or a rule
 * run by itself) the restricted rule reports everything, as PSA's restricted level does.
 */
export function leftToBaseline(ctx: RuleContext, baselineId: string): boolean {
  return ctx.activeRules?.has(baselineId) === true;
}
export const RESTRICTED_PROFILES: Profiles = ['pss-restricted', 'recommended'];

export const KINDS = WORKLOAD_KINDS;

/**
 * Kubernetes reads YAML as YAML 1.1 (sigs.k8s.io/yaml), where `yes`/`on`/`y` are booleans.
 * A YAML 1.2 parser hands those through as strings, so accept both spellings.
 */
const YAML11_TRUE = new Set(['true', 'True', 'TRUE', 'y', 'Y', 'yes', 'Yes', 'YES', 'on', 'On', 'ON']);
const YAML11_FALSE = new Set(['false', 'False', 'FALSE', 'n', 'N', 'no', 'No', 'NO', 'off', 'Off', 'OFF']);

export function isTrue(v: unknown): boolean {
  return v === true || (typeof v === 'string' && YAML11_TRUE.has(v));
}

export function isFalse(v: unknown): boolean {
  return v === false || (typeof v === 'string' && YAML11_FALSE.has(v));
}

/** A Go pointer/struct field is "set" when the JSON value is neither missing nor null. */
export function isSet(v: unknown): boolean {
  return v !== undefined && v !== null;
}

/** Quotes a value from the object for a message: numbers and booleans bare, anything else as a JSON-escaped, bounded string. */
export function q(v: unknown): string {
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  let s: string;
  if (typeof v === 'string') s = v;
  else if (v === undefined) s = '';
  else {
    try {
      s = JSON.stringify(v) ?? typeof v;
    } catch {
      s = '[unprintable]';
    }
  }
  if (s.length > 80) s = `${s.slice(0, 77)}...`;
  return JSON.stringify(s);
}

export interface PodView {
  kind: string;
  spec: Obj;
  metadata: Obj;
  /** Path of the pod spec within the object, e.g. `spec.template.spec`. */
  path: string;
  /** Pod-level securityContext (an empty object when missing or malformed). */
  sc: Obj;
}

export function podView(obj: KubeObject): PodView | undefined {
  const t = podTemplate(obj);
  if (!t) return undefined;
  const sc = t.spec['securityContext'];
  return {
    kind: String(obj.kind),
    spec: t.spec,
    metadata: t.metadata,
    path: t.path,
    sc: isObj(sc) ? sc : {},
  };
}

export interface ContainerView {
  container: Obj;
  name: string;
  type: ContainerType;
  /** Full path of the container, e.g. `spec.template.spec.initContainers[0]`. */
  path: string;
  /** The container's securityContext (an empty object when missing or malformed). */
  sc: Obj;
  /** True when securityContext is a (possibly empty) object: Go's `SecurityContext != nil`. */
  hasSc: boolean;
  /** "container", "init container" or "ephemeral container", for messages. */
  label: string;
}

const LABELS: Record<ContainerType, string> = {
  initContainers: 'init container',
  containers: 'container',
  ephemeralContainers: 'ephemeral container',
};

/** Every container PSA visits (init, regular, ephemeral, in that order), with its path. */
export function containersOf(p: PodView): ContainerView[] {
  const out: ContainerView[] = [];
  for (const type of ['initContainers', 'containers', 'ephemeralContainers'] as const) {
    asArray(p.spec[type]).forEach((c, i) => {
      if (!isObj(c)) return;
      const name = typeof c['name'] === 'string' ? c['name'] : `${type}[${i}]`;
      const sc = c['securityContext'];
      out.push({
        container: c,
        name,
        type,
        path: `${p.path}.${type}[${i}]`,
        sc: isObj(sc) ? sc : {},
        hasSc: isObj(sc),
        label: LABELS[type],
      });
    });
  }
  return out;
}

/** `container "app"` / `init container "setup"`. */
export function who(c: ContainerView): string {
  return `${c.label} ${q(c.name)}`;
}

/** PSA 1.35+: `spec.hostUsers: false` (a user-namespaced pod) relaxes procMount, runAsNonRoot and runAsUser. */
export function userNamespaced(p: PodView): boolean {
  return isFalse(p.spec['hostUsers']);
}

/** PSA 1.25+: `spec.os.name: windows` exempts a pod from the Linux-only restricted checks. */
export function windowsPod(p: PodView): boolean {
  return dig(p.spec, 'os', 'name') === 'windows';
}

/**
 * Capabilities that amount to root on the node (escape or full host compromise) when added:
 * kernel modules, raw I/O, mount/namespace admin, ptrace, open_by_handle_at, eBPF, or all of them.
 * Compared after upper-casing and stripping a `CAP_` prefix, as container runtimes accept both.
 */
const ROOT_EQUIVALENT_CAPS = new Set([
  'ALL',
  'SYS_ADMIN',
  'SYS_MODULE',
  'SYS_RAWIO',
  'SYS_PTRACE',
  'DAC_READ_SEARCH',
  'BPF',
]);

/** A capability name compared as runtimes do; '' for anything that is not a string (the API rejects those). */
export function normalizeCapability(c: unknown): string {
  return typeof c === 'string' ? c.trim().toUpperCase().replace(/^CAP_/, '') : '';
}

export function isRootEquivalentCapability(c: unknown): boolean {
  return ROOT_EQUIVALENT_CAPS.has(normalizeCapability(c));
}

/** The worst of a set of severities (critical > high > medium > low > info). */
export function worst(...sev: Severity[]): Severity {
  const order: Severity[] = ['critical', 'high', 'medium', 'low', 'info'];
  for (const s of order) if (sev.includes(s)) return s;
  return 'info';
}
