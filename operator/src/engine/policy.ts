/**
 * SecurityPolicy semantics, shared by `vigil scan --policy` and the controller:
 * which rules run, with which severity and params, on which objects, and which
 * findings exceptions hide. Input is untrusted (a file, or an object that passed
 * only the CRD schema), so compilePolicy validates everything the schema cannot.
 */
import { anyGlob, labelsOf, selectorErrors, selectorMatches, type LabelSelector } from './match.ts';
import { compileCustomRules, type CustomRule, type RuleMatcher } from './cel/custom-rules.ts';
import { asObj, asString, asStringArray, isObj } from './podspec.ts';
import {
  PROFILES,
  SEVERITIES,
  type ClusterIndexView,
  type KubeObject,
  type Params,
  type ProfileName,
  type Rule,
  type Severity,
} from './types.ts';

export const ACTIONS = ['audit', 'warn', 'enforce'] as const;
export type Action = (typeof ACTIONS)[number];

/** Kinds whose objects are cluster-scoped. */
export const CLUSTER_SCOPED_KINDS = new Set([
  'Namespace',
  'Node',
  'ClusterRole',
  'ClusterRoleBinding',
  'SecurityPolicy',
  'CustomResourceDefinition',
  'PersistentVolume',
  'StorageClass',
  'ValidatingWebhookConfiguration',
  'MutatingWebhookConfiguration',
  'APIService',
  'PriorityClass',
  'IngressClass',
]);

export interface ResourceMatch {
  namespaces?: string[];
  excludeNamespaces?: string[];
  names?: string[];
  kinds?: string[];
  namespaceSelector?: LabelSelector;
  objectSelector?: LabelSelector;
}

export interface ActiveRule {
  rule: Rule;
  /** The rule's default severity, or the policy's override. */
  severity: Severity;
  /** True when the policy set the severity: it then wins over a rule's per-finding severity. */
  severityOverridden: boolean;
  params: Params;
}

export interface CompiledException {
  index: number;
  rules: string[];
  match?: ResourceMatch;
  reason: string;
  owner: string;
  expiresAt?: Date;
}

export interface CompiledPolicy {
  name: string;
  profile: ProfileName;
  action: Action;
  minEventSeverity: Severity;
  match: ResourceMatch;
  rules: ActiveRule[];
  exceptions: CompiledException[];
  /** spec.customRules, compiled (also in `rules` unless disabled there). */
  customRules: CustomRule<ResourceMatch>[];
  /** spec.images: whether the images of matched workloads are read from their registries. */
  images?: ImagesSettings;
}

/** spec.images of a SecurityPolicy (both off by default). */
export interface ImagesSettings {
  /** Read the images of matched workloads from their registries (packages, vulnerabilities). */
  analyse: boolean;
  /** May Vigil read the pods' imagePullSecrets to reach private registries? */
  pullSecrets: 'allow' | 'deny';
}

/** spec.images, validated (undefined when absent). */
function compileImages(raw: unknown, errors: PolicyError[]): ImagesSettings | undefined {
  if (raw === undefined) return undefined;
  if (!isObj(raw)) {
    errors.push({ field: 'spec.images', message: 'spec.images must be an object', reason: 'InvalidSpec' });
    return undefined;
  }
  checkKnownKeys(raw, ['analyse', 'pullSecrets'], 'spec.images', errors);
  const analyse = raw['analyse'] ?? false;
  if (typeof analyse !== 'boolean')
    errors.push({
      field: 'spec.images.analyse',
      message: 'spec.images.analyse must be a boolean',
      reason: 'InvalidSpec',
    });
  const pullSecrets = raw['pullSecrets'] ?? 'deny';
  if (pullSecrets !== 'allow' && pullSecrets !== 'deny')
    errors.push({
      field: 'spec.images.pullSecrets',
      message: `unknown pullSecrets ${JSON.stringify(pullSecrets)} (expected allow or deny)`,
      reason: 'InvalidSpec',
    });
  return { analyse: analyse === true, pullSecrets: pullSecrets === 'allow' ? 'allow' : 'deny' };
}

export interface PolicyError {
  /** Field path within the policy, e.g. `spec.rules[2].id`. */
  field: string;
  message: string;
  /** Machine-readable reason for a condition, e.g. `UnknownRule`. */
  reason: string;
}

export interface CompileResult {
  policy?: CompiledPolicy;
  errors: PolicyError[];
}

/** The default when no policy or profile is given. */
export const DEFAULT_PROFILE: ProfileName = 'recommended';

export function rulesOfProfile(rules: readonly Rule[], profile: ProfileName): Rule[] {
  if (profile === 'all') return [...rules];
  return rules.filter((r) => r.profiles.includes(profile));
}

/** The API server rejects unknown fields; a policy file given to the CLI gets the same treatment. */
function checkKnownKeys(obj: unknown, known: readonly string[], path: string, errors: PolicyError[]): void {
  if (!isObj(obj)) return;
  for (const k of Object.keys(obj))
    if (!known.includes(k))
      errors.push({
        field: `${path}.${k}`,
        message: `unknown field "${path}.${k}" (known: ${known.join(', ')})`,
        reason: 'UnknownField',
      });
}

function compileMatch(raw: unknown, path: string, errors: PolicyError[]): ResourceMatch {
  if (raw === undefined || raw === null) return {};
  if (!isObj(raw)) {
    errors.push({ field: path, message: `${path} must be an object`, reason: 'InvalidMatch' });
    return {};
  }
  const m: ResourceMatch = {};
  checkKnownKeys(
    raw,
    ['namespaces', 'excludeNamespaces', 'names', 'kinds', 'namespaceSelector', 'objectSelector'],
    path,
    errors,
  );
  for (const key of ['namespaces', 'excludeNamespaces', 'names', 'kinds'] as const) {
    const v = raw[key];
    if (v === undefined || v === null) continue;
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string'))
      errors.push({
        field: `${path}.${key}`,
        message: `${path}.${key} must be a list of strings`,
        reason: 'InvalidMatch',
      });
    else m[key] = v as string[];
  }
  for (const key of ['namespaceSelector', 'objectSelector'] as const) {
    const errs = selectorErrors(raw[key], `${path}.${key}`);
    for (const e of errs) errors.push({ field: `${path}.${key}`, message: e, reason: 'InvalidSelector' });
    const sel = raw[key];
    if (errs.length === 0 && isObj(sel)) m[key] = sel;
  }
  return m;
}

function checkParam(rule: Rule, name: string, value: unknown, path: string, errors: PolicyError[]): void {
  const spec = rule.params?.find((p) => p.name === name);
  if (!spec) {
    const known = (rule.params ?? []).map((p) => p.name).join(', ') || 'none';
    errors.push({
      field: path,
      message: `rule ${rule.id} has no param "${name}" (known: ${known})`,
      reason: 'UnknownParam',
    });
    return;
  }
  const ok =
    spec.type === 'string[]'
      ? Array.isArray(value) && value.every((x) => typeof x === 'string')
      : spec.type === 'string'
        ? typeof value === 'string'
        : spec.type === 'number'
          ? typeof value === 'number' && Number.isFinite(value)
          : typeof value === 'boolean';
  if (!ok)
    errors.push({
      field: path,
      message: `param "${name}" of rule ${rule.id} must be ${spec.type}`,
      reason: 'InvalidParam',
    });
}

/** A list field: absent and null are empty; anything else but an array is an error. */
function listField(raw: unknown, path: string, reason: string, errors: PolicyError[]): unknown[] {
  if (raw === undefined || raw === null) return [];
  if (Array.isArray(raw)) return raw;
  errors.push({ field: path, message: `${path} must be a list`, reason });
  return [];
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/**
 * Parses an RFC 3339 date-time (the CRD's pattern): a zone is required, so the result
 * never depends on the machine's time zone, and impossible dates (Feb 30) are refused
 * instead of rolling over.
 */
export function parseRfc3339(s: unknown): Date | undefined {
  if (typeof s !== 'string') return undefined;
  const m = RFC3339.exec(s);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, sec] = m.map(Number) as [number, number, number, number, number, number, number];
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || sec > 60) return undefined;
  const daysInMonth = new Date(Date.UTC(y, mo, 0)).getUTCDate();
  if (d > daysInMonth) return undefined;
  const date = new Date(s.toUpperCase());
  return Number.isNaN(date.getTime()) ? undefined : date;
}

function defaultParams(rule: Rule): Record<string, unknown> {
  const p: Record<string, unknown> = {};
  for (const s of rule.params ?? []) p[s.name] = s.default;
  return p;
}

/**
 * Validates a SecurityPolicy (the whole object, or just its spec) and compiles it
 * against the rule registry. Errors name the field; a policy with errors is not
 * returned, so nothing half-valid is ever evaluated.
 */
export function compilePolicy(input: unknown, allRules: readonly Rule[], name = 'cli'): CompileResult {
  const errors: PolicyError[] = [];
  const obj = asObj(input);
  const specRaw = obj['kind'] === 'SecurityPolicy' || 'spec' in obj ? obj['spec'] : input;
  const policyName = asString(asObj(obj['metadata'])['name']) ?? name;
  if (specRaw !== undefined && !isObj(specRaw)) {
    return { errors: [{ field: 'spec', message: 'spec must be an object', reason: 'InvalidSpec' }] };
  }
  const spec = asObj(specRaw);
  checkKnownKeys(
    spec,
    ['profile', 'match', 'rules', 'exceptions', 'action', 'events', 'audit', 'customRules', 'images'],
    'spec',
    errors,
  );
  checkKnownKeys(spec['events'], ['minSeverity'], 'spec.events', errors);

  const profileRaw = spec['profile'] ?? DEFAULT_PROFILE;
  let profile: ProfileName = DEFAULT_PROFILE;
  if (typeof profileRaw === 'string' && (PROFILES as readonly string[]).includes(profileRaw))
    profile = profileRaw as ProfileName;
  else
    errors.push({
      field: 'spec.profile',
      message: `unknown profile ${JSON.stringify(profileRaw)} (expected one of ${PROFILES.join(', ')})`,
      reason: 'UnknownProfile',
    });

  const actionRaw = spec['action'] ?? 'audit';
  const action = (ACTIONS as readonly unknown[]).includes(actionRaw) ? (actionRaw as Action) : 'audit';
  if (!(ACTIONS as readonly unknown[]).includes(actionRaw))
    errors.push({
      field: 'spec.action',
      message: `unknown action ${JSON.stringify(actionRaw)}`,
      reason: 'InvalidAction',
    });

  const minSevRaw = asObj(spec['events'])['minSeverity'] ?? 'high';
  const minEventSeverity = (SEVERITIES as readonly unknown[]).includes(minSevRaw)
    ? (minSevRaw as Severity)
    : 'high';
  if (!(SEVERITIES as readonly unknown[]).includes(minSevRaw))
    errors.push({
      field: 'spec.events.minSeverity',
      message: `unknown severity ${JSON.stringify(minSevRaw)}`,
      reason: 'InvalidSeverity',
    });

  const match = compileMatch(spec['match'], 'spec.match', errors);

  // Custom rules are compiled first: spec.rules and exceptions may name them like built-in ones.
  const customRules = compileCustomRules(
    spec['customRules'],
    new Set(allRules.map((r) => r.id)),
    [...new Set(allRules.flatMap((r) => r.kinds))].sort(),
    CUSTOM_RULE_MATCHER,
    errors,
  );
  const byId = new Map([...allRules, ...customRules].map((r) => [r.id, r]));
  const active = new Map<string, ActiveRule>();
  for (const r of [...rulesOfProfile(allRules, profile), ...customRules])
    active.set(r.id, { rule: r, severity: r.severity, severityOverridden: false, params: defaultParams(r) });

  const seen = new Set<string>();
  listField(spec['rules'], 'spec.rules', 'InvalidRule', errors).forEach((raw, i) => {
    const path = `spec.rules[${i}]`;
    const o = asObj(raw);
    checkKnownKeys(o, ['id', 'enabled', 'severity', 'params'], path, errors);
    const id = asString(o['id']);
    if (!id) {
      errors.push({ field: `${path}.id`, message: `${path}.id is required`, reason: 'InvalidRule' });
      return;
    }
    const rule = byId.get(id);
    if (!rule) {
      errors.push({ field: `${path}.id`, message: `unknown rule id "${id}"`, reason: 'UnknownRule' });
      return;
    }
    if (seen.has(id))
      errors.push({ field: `${path}.id`, message: `rule "${id}" is listed twice`, reason: 'DuplicateRule' });
    seen.add(id);
    const enabled = o['enabled'] ?? true;
    if (typeof enabled !== 'boolean')
      errors.push({
        field: `${path}.enabled`,
        message: `${path}.enabled must be a boolean`,
        reason: 'InvalidRule',
      });
    if (enabled === false) {
      active.delete(id);
      return;
    }
    const entry = active.get(id) ?? {
      rule,
      severity: rule.severity,
      severityOverridden: false,
      params: defaultParams(rule),
    };
    const sev = o['severity'];
    if (sev !== undefined) {
      if ((SEVERITIES as readonly unknown[]).includes(sev)) {
        entry.severity = sev as Severity;
        entry.severityOverridden = true;
      } else
        errors.push({
          field: `${path}.severity`,
          message: `unknown severity ${JSON.stringify(sev)}`,
          reason: 'InvalidSeverity',
        });
    }
    const params = o['params'];
    if (params !== undefined) {
      if (!isObj(params))
        errors.push({
          field: `${path}.params`,
          message: `${path}.params must be an object`,
          reason: 'InvalidParam',
        });
      else {
        const merged = { ...entry.params };
        for (const [k, v] of Object.entries(params)) {
          checkParam(rule, k, v, `${path}.params.${k}`, errors);
          merged[k] = v;
        }
        entry.params = merged;
      }
    }
    active.set(id, entry);
  });

  const exceptions: CompiledException[] = [];
  listField(spec['exceptions'], 'spec.exceptions', 'InvalidException', errors).forEach((raw, i) => {
    const path = `spec.exceptions[${i}]`;
    const o = asObj(raw);
    checkKnownKeys(o, ['rules', 'match', 'reason', 'owner', 'expiresAt'], path, errors);
    const reason = asString(o['reason']);
    const owner = asString(o['owner']);
    if (!reason)
      errors.push({
        field: `${path}.reason`,
        message: `${path}.reason is required`,
        reason: 'InvalidException',
      });
    if (!owner)
      errors.push({
        field: `${path}.owner`,
        message: `${path}.owner is required`,
        reason: 'InvalidException',
      });
    const rulesRaw = o['rules'];
    if (
      rulesRaw !== undefined &&
      rulesRaw !== null &&
      (!Array.isArray(rulesRaw) || rulesRaw.some((x) => typeof x !== 'string'))
    )
      errors.push({
        field: `${path}.rules`,
        message: `${path}.rules must be a list of rule ids`,
        reason: 'InvalidException',
      });
    const rules = asStringArray(rulesRaw);
    for (const [j, id] of rules.entries())
      if (!id.includes('*') && !id.includes('?') && !byId.has(id))
        errors.push({
          field: `${path}.rules[${j}]`,
          message: `exception names unknown rule id "${id}"`,
          reason: 'UnknownRule',
        });
    const excMatch =
      o['match'] === undefined || o['match'] === null
        ? undefined
        : compileMatch(o['match'], `${path}.match`, errors);
    if (rules.length === 0 && excMatch === undefined && errors.every((e) => e.field !== `${path}.rules`))
      errors.push({
        field: path,
        message: `${path} must name at least one rule or a match`,
        reason: 'InvalidException',
      });
    let expiresAt: Date | undefined;
    const exp = o['expiresAt'];
    if (exp !== undefined) {
      const d = parseRfc3339(exp);
      if (!d)
        errors.push({
          field: `${path}.expiresAt`,
          message: `${path}.expiresAt must be an RFC 3339 date-time`,
          reason: 'InvalidException',
        });
      else expiresAt = d;
    }
    exceptions.push({
      index: i,
      rules,
      match: excMatch,
      reason: reason ?? '',
      owner: owner ?? '',
      expiresAt,
    });
  });

  if (errors.length > 0) return { errors };
  const rules = [...active.values()].sort((a, b) =>
    a.rule.id < b.rule.id ? -1 : a.rule.id > b.rule.id ? 1 : 0,
  );
  const images = compileImages(spec['images'], errors);
  return {
    policy: {
      name: policyName,
      profile,
      action,
      minEventSeverity,
      match,
      rules,
      exceptions,
      customRules,
      ...(images ? { images } : {}),
    },
    errors,
  };
}

/** Does a ResourceMatch select this object? Cluster-scoped objects match only policies without namespace constraints. */
export function matchesResource(m: ResourceMatch, obj: KubeObject, index: ClusterIndexView): boolean {
  const kind = asString(obj.kind) ?? '';
  const meta = asObj(obj.metadata);
  const name = asString(meta['name']) ?? '';
  if (m.kinds && m.kinds.length > 0 && !m.kinds.includes(kind)) return false;
  if (m.names && m.names.length > 0 && !anyGlob(m.names, name)) return false;
  const ns = kind === 'Namespace' ? name : (asString(meta['namespace']) ?? '');
  const namespaced = ns !== '';
  const nsConstrained = (m.namespaces?.length ?? 0) > 0 || m.namespaceSelector !== undefined;
  if (!namespaced) {
    if (nsConstrained) return false;
  } else {
    if (m.namespaces && m.namespaces.length > 0 && !anyGlob(m.namespaces, ns)) return false;
    if (m.excludeNamespaces && anyGlob(m.excludeNamespaces, ns)) return false;
    if (m.namespaceSelector && !selectorMatches(m.namespaceSelector, index.namespaceLabels(ns) ?? {}))
      return false;
  }
  if (m.objectSelector && !selectorMatches(m.objectSelector, labelsOf(meta))) return false;
  return true;
}

/** A custom rule's match is the same matcher as a policy's and an exception's. */
const CUSTOM_RULE_MATCHER: RuleMatcher<ResourceMatch> = {
  compile: compileMatch,
  matches: (m, obj, ctx) => matchesResource(m, obj, ctx.index),
  kinds: (m) => (m.kinds && m.kinds.length > 0 ? m.kinds : undefined),
};

/** Is the exception in force at `now`? */
export function exceptionActive(e: CompiledException, now: Date): boolean {
  return e.expiresAt === undefined || e.expiresAt.getTime() > now.getTime();
}
