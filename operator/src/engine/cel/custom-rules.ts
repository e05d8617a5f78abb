/**
 * spec.customRules: rules written in CEL, shaped like a ValidatingAdmissionPolicy, compiled once
 * per policy generation into Rules the engine evaluates like built-in ones (findings, exceptions,
 * severity overrides). Expressions mean what they mean to the API server: compilation and
 * evaluation are the API server's own code (./wasm.ts), with its cost limits.
 */
import { asObj, asString, isObj } from '../podspec.ts';
import {
  CATEGORIES,
  SEVERITIES,
  type Category,
  type KubeObject,
  type Rule,
  type RuleHit,
  type Severity,
} from '../types.ts';
import {
  evaluator,
  type CelCompileError,
  type CelDecision,
  type CelRuleSource,
  type Evaluator,
} from './wasm.ts';

/** The category of a custom rule that names none (it may name any of CATEGORIES). */
export const CUSTOM_CATEGORY: Category = 'custom';

/** Same shape as a DNS label, like built-in rule ids. */
const RULE_ID = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** A CEL identifier (variables.<name>), not a reserved word: as the API server validates one. */
const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const RESERVED = new Set(
  'true false null in as break const continue else for function if import let loop package namespace return var void while'.split(
    ' ',
  ),
);

/** What compileCustomRules reports, shaped like policy.ts's PolicyError. */
export interface CustomRuleError {
  field: string;
  message: string;
  reason: string;
}

/** The parts of a policy's match a custom rule reuses (policy.ts owns the matcher). */
export interface RuleMatcher<M> {
  compile(raw: unknown, path: string, errors: CustomRuleError[]): M;
  matches(m: M, obj: KubeObject, ctx: Parameters<Rule['check']>[1]): boolean;
  kinds(m: M): readonly string[] | undefined;
}

export interface CustomRule<M = unknown> extends Rule {
  readonly custom: true;
  /** The rule's own match (within the policy's), compiled by the policy's matcher. */
  readonly match: M;
  /** Its CEL, as written: what a translation into a ValidatingAdmissionPolicy carries over. */
  readonly cel: CelRuleSource;
}

/** A custom rule's evaluation failed (cost limit, runtime error): reported as the rule's error. */
export class CustomRuleEvaluationError extends Error {}

const released = new FinalizationRegistry<{ ev: Evaluator; handle: number }>(({ ev, handle }) => {
  ev.release(handle);
});

/**
 * Compiled rules by their source (and the kinds they judge), most recently used last. A rule
 * dropped from here stays valid while a policy holds it; its compiled form is released when
 * nothing does (`released`).
 */
const compiledRules = new Map<string, CustomRule>();
const MAX_CACHED_RULES = 500;

/**
 * Evaluation stops at the API server's cost limits, which under WebAssembly take about 2 s of CPU
 * to reach. A rule that reaches them on this many objects is suspended (each further object is
 * its rule error at once), so a hostile expression costs seconds, not seconds per object.
 */
const MAX_OVER_BUDGET = 3;
const OVER_BUDGET = /cost limit exceeded|out of cost budget/;

/** One line per problem, with where it is: `1:24: Syntax error: …`; the API server's text otherwise. */
function describe(e: CelCompileError): string {
  if (e.positions && e.positions.length > 0)
    return e.positions.map((p) => `${p.line}:${p.column}: ${p.message}`).join('; ');
  return e.message.split('\n')[0] ?? e.message;
}

/** The object's Namespace, when in scope: the API server's `namespaceObject`. */
function namespaceOf(obj: KubeObject, ctx: Parameters<Rule['check']>[1]): KubeObject | undefined {
  const ns = asString(asObj(obj.metadata)['namespace']);
  return ns ? ctx.index.get('Namespace', '', ns) : undefined;
}

function hitsOf(id: string, decisions: readonly CelDecision[]): RuleHit[] {
  const hits: RuleHit[] = [];
  for (const d of decisions) {
    if (d.evaluation === 'error')
      throw new CustomRuleEvaluationError(d.message ?? `rule ${id}: evaluation failed`);
    if (d.evaluation === 'deny') hits.push({ message: d.message ?? '' });
  }
  return hits;
}

/**
 * Validates and compiles spec.customRules. `builtinIds` are the registry's ids (a custom rule
 * may not reuse one); `allKinds` is what a rule without match.kinds judges.
 */
export function compileCustomRules<M>(
  raw: unknown,
  builtinIds: ReadonlySet<string>,
  allKinds: readonly string[],
  matcher: RuleMatcher<M>,
  errors: CustomRuleError[],
): CustomRule<M>[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) {
    errors.push({
      field: 'spec.customRules',
      message: 'spec.customRules must be a list',
      reason: 'InvalidRule',
    });
    return [];
  }
  if (raw.length === 0) return [];
  let ev: Evaluator;
  try {
    ev = evaluator();
  } catch (e) {
    errors.push({
      field: 'spec.customRules',
      message: e instanceof Error ? e.message : String(e),
      reason: 'CelUnavailable',
    });
    return [];
  }
  const out: CustomRule<M>[] = [];
  const seen = new Set<string>();
  raw.forEach((item, i) => {
    const path = `spec.customRules[${i}]`;
    const before = errors.length;
    const o = asObj(item);
    const known = [
      'id',
      'title',
      'severity',
      'category',
      'match',
      'variables',
      'validations',
      'remediation',
      'description',
    ];
    for (const k of Object.keys(o))
      if (!known.includes(k))
        errors.push({
          field: `${path}.${k}`,
          message: `unknown field "${path}.${k}" (known: ${known.join(', ')})`,
          reason: 'UnknownField',
        });
    const id = asString(o['id']);
    const named = id ? `custom rule "${id}"` : path;
    if (!id || !RULE_ID.test(id) || id.length > 63)
      errors.push({
        field: `${path}.id`,
        message: `${path}.id must be lowercase letters, digits and '-' (at most 63), got ${JSON.stringify(o['id'])}`,
        reason: 'InvalidRule',
      });
    else if (builtinIds.has(id))
      errors.push({
        field: `${path}.id`,
        message: `${named} reuses the id of a built-in rule`,
        reason: 'DuplicateRule',
      });
    else if (seen.has(id))
      errors.push({ field: `${path}.id`, message: `${named} is defined twice`, reason: 'DuplicateRule' });
    if (id) seen.add(id);
    const title = asString(o['title']);
    if (!title)
      errors.push({ field: `${path}.title`, message: `${named}: title is required`, reason: 'InvalidRule' });
    const severity = o['severity'];
    if (!(SEVERITIES as readonly unknown[]).includes(severity))
      errors.push({
        field: `${path}.severity`,
        message: `${named}: severity must be one of ${SEVERITIES.join(', ')}, got ${JSON.stringify(severity)}`,
        reason: 'InvalidSeverity',
      });
    const category = o['category'] ?? CUSTOM_CATEGORY;
    if (!(CATEGORIES as readonly unknown[]).includes(category))
      errors.push({
        field: `${path}.category`,
        message: `${named}: category must be one of ${CATEGORIES.join(', ')}, got ${JSON.stringify(category)}`,
        reason: 'InvalidRule',
      });
    const remediation = o['remediation'] ?? '';
    const description = o['description'] ?? '';
    for (const [k, v] of [
      ['remediation', remediation],
      ['description', description],
    ] as const)
      if (typeof v !== 'string')
        errors.push({
          field: `${path}.${k}`,
          message: `${named}: ${k} must be a string`,
          reason: 'InvalidRule',
        });
    const match = matcher.compile(o['match'], `${path}.match`, errors);
    const kinds = matcher.kinds(match) ?? allKinds;

    const src: CelRuleSource = { variables: [], validations: [] };
    const vars = o['variables'] ?? [];
    if (!Array.isArray(vars))
      errors.push({
        field: `${path}.variables`,
        message: `${named}: variables must be a list`,
        reason: 'InvalidRule',
      });
    else
      vars.forEach((v, j) => {
        const vo = asObj(v);
        const name = asString(vo['name']);
        const expression = asString(vo['expression']);
        if (
          !name ||
          !VARIABLE_NAME.test(name) ||
          RESERVED.has(name) ||
          src.variables.some((x) => x.name === name)
        )
          errors.push({
            field: `${path}.variables[${j}].name`,
            message: `${named}: variable name ${JSON.stringify(vo['name'])} must be a unique CEL identifier`,
            reason: 'InvalidRule',
          });
        if (!expression?.trim())
          errors.push({
            field: `${path}.variables[${j}].expression`,
            message: `${named}: variables[${j}].expression is required`,
            reason: 'InvalidRule',
          });
        src.variables.push({ name: name ?? '', expression: expression ?? '' });
      });
    const validations = o['validations'];
    if (!Array.isArray(validations) || validations.length === 0)
      errors.push({
        field: `${path}.validations`,
        message: `${named}: validations must be a non-empty list`,
        reason: 'InvalidRule',
      });
    else
      validations.forEach((v, j) => {
        const vo = asObj(v);
        const expression = asString(vo['expression']);
        if (!expression?.trim())
          errors.push({
            field: `${path}.validations[${j}].expression`,
            message: `${named}: validations[${j}].expression is required`,
            reason: 'InvalidRule',
          });
        for (const k of ['message', 'messageExpression'] as const)
          if (vo[k] !== undefined && typeof vo[k] !== 'string')
            errors.push({
              field: `${path}.validations[${j}].${k}`,
              message: `${named}: validations[${j}].${k} must be a string`,
              reason: 'InvalidRule',
            });
        const entry: CelRuleSource['validations'][number] = { expression: expression ?? '' };
        const message = asString(vo['message']);
        const messageExpression = asString(vo['messageExpression']);
        // As the API server validates a ValidatingAdmissionPolicy's messages.
        if (message !== undefined && (message.trim() === '' || /[\n\r]/.test(message.trim())))
          errors.push({
            field: `${path}.validations[${j}].message`,
            message: `${named}: validations[${j}].message must be non-empty and on one line`,
            reason: 'InvalidRule',
          });
        if (messageExpression !== undefined && messageExpression.trim() === '')
          errors.push({
            field: `${path}.validations[${j}].messageExpression`,
            message: `${named}: validations[${j}].messageExpression must be non-empty if specified`,
            reason: 'InvalidRule',
          });
        if (message) entry.message = message;
        if (messageExpression) entry.messageExpression = messageExpression;
        src.validations.push(entry);
      });
    if (errors.length > before || !id) return;

    // The operator compiles a policy again on every event about it, its own status writes
    // included: a rule unchanged since the last compilation is that compilation's rule.
    const key = JSON.stringify([item, kinds]);
    const cached = compiledRules.get(key);
    if (cached) {
      compiledRules.delete(key);
      compiledRules.set(key, cached);
      out.push(cached as CustomRule<M>);
      return;
    }
    const compiled = ev.compile(src);
    if (compiled.errors.length > 0) {
      for (const e of compiled.errors)
        errors.push({
          field: `${path}.${e.field}`,
          message: `${named}: invalid expression ${JSON.stringify(e.expression)}: ${describe(e)}`,
          reason: 'InvalidRule',
        });
      return;
    }
    const handle = compiled.handle;
    let overBudget = 0;
    const rule: CustomRule<M> = {
      custom: true,
      match,
      cel: src,
      id,
      title: title ?? id,
      severity: severity as Severity,
      category: category as Category,
      controls: [],
      rationale: description as string,
      remediation: remediation as string,
      kinds,
      profiles: [],
      check(obj, ctx) {
        if (!matcher.matches(match, obj, ctx)) return [];
        if (overBudget >= MAX_OVER_BUDGET)
          throw new CustomRuleEvaluationError(
            `rule ${id} is suspended: it exceeded the CEL cost limit on ${String(MAX_OVER_BUDGET)} objects (a changed rule runs again)`,
          );
        const ns = namespaceOf(obj, ctx);
        const r = ev.evaluateObject(handle, obj, ns);
        if (r.error !== undefined) throw new CustomRuleEvaluationError(r.error);
        if (r.decisions.some((d) => d.evaluation === 'error' && OVER_BUDGET.test(d.message ?? '')))
          overBudget++;
        return hitsOf(id, r.decisions);
      },
    };
    released.register(rule, { ev, handle });
    compiledRules.set(key, rule);
    if (compiledRules.size > MAX_CACHED_RULES) {
      const oldest = compiledRules.keys().next().value;
      if (oldest !== undefined) compiledRules.delete(oldest);
    }
    out.push(rule);
  });
  return out;
}

/** For `vigil rules` and docs: is this rule a policy's own? */
export function isCustomRule(r: Rule): r is CustomRule {
  return isObj(r) && (r as Partial<CustomRule>).custom === true;
}
