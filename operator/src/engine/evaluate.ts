/**
 * The evaluation loop: every active rule of a compiled policy over every
 * matching object, exceptions applied, findings in a stable order.
 */
import { exceptionActive, matchesResource, type CompiledPolicy } from './policy.ts';
import { asObj, asString, isObj } from './podspec.ts';
import { anyGlob } from './match.ts';
import { ClusterIndex } from './cluster-index.ts';
import type { ClusterIndexView, Finding, KubeObject, ResourceRef, SourceLocation, Subject } from './types.ts';

export interface RuleError {
  ruleId: string;
  resource: ResourceRef;
  message: string;
}

export interface ObjectEvaluation {
  /** Did the policy's match select the object at all? */
  matched: boolean;
  findings: Finding[];
  /** Findings hidden by an active exception. */
  suppressed: number;
  errors: RuleError[];
}

export interface EvaluationResult {
  findings: Finding[];
  resourcesEvaluated: number;
  suppressed: number;
  errors: RuleError[];
}

export function resourceRef(obj: KubeObject): ResourceRef {
  const meta = asObj(obj.metadata);
  const ref: ResourceRef = {
    apiVersion: asString(obj.apiVersion) ?? '',
    kind: asString(obj.kind) ?? '',
    name: asString(meta['name']) ?? '',
  };
  const ns = asString(meta['namespace']);
  if (ns) ref.namespace = ns;
  const uid = asString(meta['uid']);
  if (uid) ref.uid = uid;
  return ref;
}

const activeIds = new WeakMap<CompiledPolicy, ReadonlySet<string>>();

/** Ids of the rules a compiled policy runs (computed once per policy). */
function activeRulesOf(policy: CompiledPolicy): ReadonlySet<string> {
  let ids = activeIds.get(policy);
  if (!ids) {
    ids = new Set(policy.rules.map((r) => r.rule.id));
    activeIds.set(policy, ids);
  }
  return ids;
}

/** The rules of a policy that apply to each kind, in policy order (computed once per policy and kind). */
const rulesByKind = new WeakMap<CompiledPolicy, Map<string, CompiledPolicy['rules']>>();

function rulesFor(policy: CompiledPolicy, kind: string): CompiledPolicy['rules'] {
  let byKind = rulesByKind.get(policy);
  if (!byKind) {
    byKind = new Map();
    rulesByKind.set(policy, byKind);
  }
  let rules = byKind.get(kind);
  if (!rules) {
    rules = policy.rules.filter((r) => r.rule.kinds.includes(kind));
    byKind.set(kind, rules);
  }
  return rules;
}

/** Evaluates one object against one policy, using `index` for cross-resource rules. */
export function evaluateObject(
  obj: KubeObject,
  policy: CompiledPolicy,
  index: ClusterIndexView,
  now: Date,
  location?: SourceLocation,
): ObjectEvaluation {
  const out: ObjectEvaluation = { matched: false, findings: [], suppressed: 0, errors: [] };
  const kind = asString(obj.kind);
  if (!kind) return out;
  // A SecurityPolicy is evaluated only by itself (expired exceptions), not by other policies.
  if (kind === 'SecurityPolicy') {
    if (asString(asObj(obj.metadata)['name']) !== policy.name) return out;
  } else if (!matchesResource(policy.match, obj, index)) return out;
  out.matched = true;
  const ref = resourceRef(obj);
  const exceptions = policy.exceptions.filter(
    (e) => exceptionActive(e, now) && (e.match === undefined || matchesResource(e.match, obj, index)),
  );
  const activeRules = activeRulesOf(policy);
  const objectMemo = new Map<string, unknown>();
  for (const active of rulesFor(policy, kind)) {
    const rule = active.rule;
    let hits;
    try {
      hits = rule.check(obj, { params: active.params, index, now, activeRules, objectMemo });
    } catch (err) {
      out.errors.push({
        ruleId: rule.id,
        resource: ref,
        message: err instanceof Error ? err.message : String(err),
      });
      continue;
    }
    // A rule's contract is a list of hits; anything else is the rule's bug, reported like a throw.
    if (!Array.isArray(hits) || hits.some((h) => !isObj(h) || typeof h.message !== 'string')) {
      out.errors.push({ ruleId: rule.id, resource: ref, message: 'check() did not return a list of hits' });
      continue;
    }
    if (hits.length === 0) continue;
    const excepted = exceptions.some((e) => e.rules.length === 0 || anyGlob(e.rules, rule.id));
    if (excepted) {
      out.suppressed += hits.length;
      continue;
    }
    for (const h of hits) {
      const f: Finding = {
        ruleId: rule.id,
        title: rule.title,
        severity: active.severityOverridden ? active.severity : (h.severity ?? active.severity),
        category: rule.category,
        controls: h.controls ? [...new Set([...rule.controls, ...h.controls])] : [...rule.controls],
        resource: ref,
        message: h.message,
        remediation: rule.remediation,
        policy: policy.name,
      };
      if (h.container !== undefined) f.container = h.container;
      if (location) f.location = location;
      out.findings.push(f);
    }
  }
  return out;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Total order on findings: resource, rule, container, message. Reports and outputs rely on it. */
export function compareFindings(a: Finding, b: Finding): number {
  return (
    cmp(a.resource.namespace ?? '', b.resource.namespace ?? '') ||
    cmp(a.resource.kind, b.resource.kind) ||
    cmp(a.resource.name, b.resource.name) ||
    cmp(a.location?.file ?? '', b.location?.file ?? '') ||
    (a.location?.line ?? 0) - (b.location?.line ?? 0) ||
    cmp(a.ruleId, b.ruleId) ||
    cmp(a.container ?? '', b.container ?? '') ||
    cmp(a.message, b.message)
  );
}

/** Evaluates a whole set of subjects (the CLI's files, or a snapshot of the cluster). */
export function evaluateSubjects(
  subjects: readonly Subject[],
  policy: CompiledPolicy,
  opts: { now: Date; index?: ClusterIndexView },
): EvaluationResult {
  const index = opts.index ?? new ClusterIndex(subjects.map((s) => s.object));
  const res: EvaluationResult = { findings: [], resourcesEvaluated: 0, suppressed: 0, errors: [] };
  for (const s of subjects) {
    const r = evaluateObject(s.object, policy, index, opts.now, s.location);
    if (!r.matched) continue;
    res.resourcesEvaluated++;
    res.suppressed += r.suppressed;
    res.errors.push(...r.errors);
    for (const f of r.findings) res.findings.push(f);
  }
  res.findings.sort(compareFindings);
  return res;
}
