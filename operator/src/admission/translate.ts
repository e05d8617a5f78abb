/**
 * Translates a compiled SecurityPolicy into admissionregistration.k8s.io/v1
 * ValidatingAdmissionPolicy + ValidatingAdmissionPolicyBinding objects (issue 14). Pure: the
 * clock is a parameter, so an exception that has expired by `now` is dropped.
 *
 * One policy and binding per shape of pod spec, because the API server type-checks every
 * expression against each matched kind and `object.spec.template` does not exist on a Pod:
 *   vigil-<policy>-pods       Pods (CREATE) and pods/ephemeralcontainers (UPDATE, as PSA does)
 *   vigil-<policy>-workloads  Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, ReplicationController
 *   vigil-<policy>-cronjobs   CronJob
 *
 * Updates of a workload or CronJob are judged only when they change its pod template (a
 * matchCondition): scaling an existing non-compliant Deployment, the Deployment controller
 * scaling its old ReplicaSets during a rollout, or a status-only change are admitted, as Pod
 * Security Admission admits them; the next rollout (a new template) is judged.
 *
 * failurePolicy is Fail: a ValidatingAdmissionPolicy runs inside the API server, so it cannot be
 * "down" like a webhook; the only failures are evaluation errors (a CEL runtime error or the cost
 * budget). Ignore would silently admit exactly the objects the expressions could not judge.
 * Fail hands such an error to the binding's validationActions: a warn policy warns, an enforce
 * policy denies.
 */
import { globMatch, type LabelSelector } from '../engine/match.ts';
import {
  exceptionActive,
  type CompiledException,
  type CompiledPolicy,
  type ResourceMatch,
} from '../engine/policy.ts';
import { WORKLOAD_KINDS } from '../engine/podspec.ts';
import { SUBJECT_KINDS } from '../runtime/kinds.ts';
import type { Rule } from '../engine/types.ts';
import { PSS_CEL, lit, type CelValidation } from './pss-cel.ts';
import { RULES_CEL } from './rules-cel.ts';

export const MANAGED_BY_LABEL = { 'app.kubernetes.io/managed-by': 'vigil' } as const;

type Json = Record<string, unknown>;

interface Shape {
  suffix: string;
  kinds: string[];
  resourceRules: Json[];
  /** The engine's path of the pod spec, as its messages print it. */
  path: string;
  spec: string;
  annotations: string;
  /** The pod template of the object, for shapes whose updates are judged only when it changes. */
  template?: string;
}

const SHAPES: readonly Shape[] = [
  {
    suffix: 'pods',
    kinds: ['Pod'],
    resourceRules: [
      { apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['pods'] },
      {
        apiGroups: [''],
        apiVersions: ['v1'],
        operations: ['UPDATE'],
        resources: ['pods/ephemeralcontainers'],
      },
    ],
    path: 'spec',
    spec: 'object.spec',
    annotations: 'object.metadata.?annotations.orValue({})',
  },
  {
    suffix: 'workloads',
    kinds: ['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job', 'ReplicationController'],
    resourceRules: [
      {
        apiGroups: ['apps'],
        apiVersions: ['v1'],
        operations: ['CREATE', 'UPDATE'],
        resources: ['deployments', 'statefulsets', 'daemonsets', 'replicasets'],
      },
      { apiGroups: ['batch'], apiVersions: ['v1'], operations: ['CREATE', 'UPDATE'], resources: ['jobs'] },
      {
        apiGroups: [''],
        apiVersions: ['v1'],
        operations: ['CREATE', 'UPDATE'],
        resources: ['replicationcontrollers'],
      },
    ],
    path: 'spec.template.spec',
    spec: 'object.spec.template.spec',
    template: 'spec.template',
    annotations: 'object.spec.template.?metadata.?annotations.orValue({})',
  },
  {
    suffix: 'cronjobs',
    kinds: ['CronJob'],
    resourceRules: [
      {
        apiGroups: ['batch'],
        apiVersions: ['v1'],
        operations: ['CREATE', 'UPDATE'],
        resources: ['cronjobs'],
      },
    ],
    path: 'spec.jobTemplate.spec.template.spec',
    spec: 'object.spec.jobTemplate.spec.template.spec',
    template: 'spec.jobTemplate.spec.template',
    annotations: 'object.spec.jobTemplate.spec.template.?metadata.?annotations.orValue({})',
  },
];

export interface UntranslatedRule {
  id: string;
  reason: string;
}

export interface AdmissionRender {
  /** ValidatingAdmissionPolicy and binding pairs, in order (policy, binding, policy, binding …). */
  objects: Json[];
  translatedRules: string[];
  untranslatedRules: UntranslatedRule[];
  /** Names of the generated policies (each binding has the same name). */
  names: string[];
}

const NEEDS_OTHER_OBJECTS: Readonly<Record<string, string>> = {
  rbac: 'needs RBAC resolution across Roles, bindings and subjects',
  network: 'needs other objects (NetworkPolicies, Services, Ingresses, the pods they front)',
  platform: 'needs the cluster version and node facts, not one admitted object',
  'change-management': 'needs the object history (managed fields over time), not one admission request',
  'management-tools': 'needs other objects (Services, Deployments and their exposure)',
};

const LIMIT_RANGE = "needs the namespace's LimitRanges (a LimitRange default counts as set)";
const SERVICE_ACCOUNT =
  "needs the pod's ServiceAccount (its automountServiceAccountToken decides when the pod leaves the field unset)";
const TOOL =
  'needs the owning controller (owned pods are represented by it) and the Services, Ingresses and RBAC bindings that make the tool exposed or cluster-admin';
const SECRET_SCAN =
  'needs Shannon entropy, base64/JSON decoding (JWT headers) and look-behind/look-ahead regexes, which CEL and RE2 do not have: a translation would not give the same answers';

const IMAGE_CONTENTS =
  'needs what is inside the image (packages, advisories, files read from its registry), which an admission request does not carry';

/** Why each pod-template rule that has no CEL translation stays audit-only. */
export const UNTRANSLATED_REASONS: Readonly<Record<string, string>> = {
  'container-requests-missing': LIMIT_RANGE,
  'container-memory-limit-missing': LIMIT_RANGE,
  'container-cpu-limit-missing': LIMIT_RANGE,
  'container-readiness-probe-missing':
    'needs the Services that select the pod (it only fires for pods behind one)',
  'default-service-account-used': SERVICE_ACCOUNT,
  'service-account-token-automounted': SERVICE_ACCOUNT,
  'deployment-single-replica':
    'needs the HorizontalPodAutoscalers of the namespace (one targeting the Deployment excuses it)',
  'pod-disruption-budget-missing':
    'needs the PodDisruptionBudgets and HorizontalPodAutoscalers of the namespace',
  'container-known-credential': SECRET_SCAN,
  'container-hardcoded-secret': SECRET_SCAN,
  'rbac-workload-cluster-admin':
    "needs RBAC resolution of the pod's ServiceAccount (cluster-admin bindings), the ServiceAccount and the owning controller",
  'network-workload-not-isolated':
    'needs the NetworkPolicies and the Namespace object of the namespace, and the owning controller',
  'kubernetes-dashboard-insecure-flags': TOOL,
  'kubernetes-dashboard-cluster-admin': TOOL,
  'helm-tiller-deployed': TOOL,
  'weave-scope-deployed': TOOL,
  'kubectl-proxy-exposed': TOOL,
  'jupyter-without-authentication': TOOL,
  'change-unapproved-field-manager':
    'needs the history of field managers (managedFields over time), not one admission request',
  'image-vulnerabilities': IMAGE_CONTENTS,
  'image-suspicious-content': IMAGE_CONTENTS,
  'image-not-analysed': IMAGE_CONTENTS,
  'workload-missing-ownership-labels':
    'needs the owning controller (a pod or ReplicaSet owned by a workload in scope is represented by it)',
};

function untranslatedReason(rule: Rule): string {
  const specific = UNTRANSLATED_REASONS[rule.id];
  if (specific) return specific;
  if (!rule.kinds.some((k) => (WORKLOAD_KINDS as readonly string[]).includes(k)))
    return `judges ${rule.kinds.join(', ')} objects, not pods or their controllers`;
  return (
    NEEDS_OTHER_OBJECTS[rule.category] ??
    'no CEL translation: audit only (the operator and vigil scan report it)'
  );
}

/** A glob (`*`, `?`) as an anchored RE2 pattern. */
export function globToRegex(glob: string): string {
  let out = '^';
  for (const ch of glob) {
    if (ch === '*') out += '.*';
    else if (ch === '?') out += '.';
    else out += /[A-Za-z0-9_-]/.test(ch) ? ch : `\\${ch}`;
  }
  return `${out}$`;
}

function globsCel(value: string, globs: readonly string[]): string {
  return `(${globs.map((g) => (g.includes('*') || g.includes('?') ? `${value}.matches(${lit(globToRegex(g))})` : `${value} == ${lit(g)}`)).join(' || ')})`;
}

/** A LabelSelector as CEL over a labels map expression. */
export function selectorCel(sel: LabelSelector, labels: string): string {
  const terms: string[] = [];
  for (const [k, v] of Object.entries(sel.matchLabels ?? {}))
    terms.push(`(${lit(k)} in ${labels} && ${labels}[${lit(k)}] == ${lit(v)})`);
  for (const e of sel.matchExpressions ?? []) {
    const k = lit(e.key);
    const vals = `[${(e.values ?? []).map(lit).join(', ')}]`;
    if (e.operator === 'In') terms.push(`(${k} in ${labels} && ${labels}[${k}] in ${vals})`);
    else if (e.operator === 'NotIn') terms.push(`(!(${k} in ${labels}) || !(${labels}[${k}] in ${vals}))`);
    else if (e.operator === 'Exists') terms.push(`(${k} in ${labels})`);
    else terms.push(`!(${k} in ${labels})`);
  }
  return terms.length === 0 ? 'true' : terms.join(' && ');
}

const NAME = `object.metadata.?name.orValue('')`;
const NS_LABELS = `namespaceObject.metadata.?labels.orValue({})`;
const OBJ_LABELS = `object.metadata.?labels.orValue({})`;

/** Does the object of an admission request match `m` (the engine's matchesResource, in CEL)? */
export function matchCel(m: ResourceMatch): string {
  const terms: string[] = [];
  if (m.kinds && m.kinds.length > 0) terms.push(`object.kind in [${m.kinds.map(lit).join(', ')}]`);
  if (m.names && m.names.length > 0) terms.push(globsCel(NAME, m.names));
  if (m.namespaces && m.namespaces.length > 0) terms.push(globsCel('request.namespace', m.namespaces));
  if (m.excludeNamespaces && m.excludeNamespaces.length > 0)
    terms.push(`!${globsCel('request.namespace', m.excludeNamespaces)}`);
  if (m.namespaceSelector) terms.push(`(${selectorCel(m.namespaceSelector, NS_LABELS)})`);
  if (m.objectSelector) terms.push(`(${selectorCel(m.objectSelector, OBJ_LABELS)})`);
  return terms.length === 0 ? 'true' : terms.join(' && ');
}

function exceptionCovers(e: CompiledException, ruleId: string): boolean {
  return e.rules.length === 0 || e.rules.some((g) => globMatch(g, ruleId));
}

function validationActions(action: CompiledPolicy['action']): string[] {
  if (action === 'enforce') return ['Deny'];
  if (action === 'warn') return ['Warn', 'Audit'];
  return ['Audit'];
}

/** The generated objects for `policy` at `now`. */
export function renderAdmission(policy: CompiledPolicy, now: Date): AdmissionRender {
  const translatedRules: string[] = [];
  const untranslatedRules: UntranslatedRule[] = [];
  const params = new Map(policy.rules.map((a) => [a.rule.id, a.params]));
  const customs = new Map(policy.customRules.map((c) => [c.id, c]));
  for (const a of policy.rules) {
    const custom = customs.get(a.rule.id);
    if (custom) {
      const unmapped = custom.kinds.filter((k) => !SUBJECT_KINDS.some((w) => w.kind === k));
      if (unmapped.length === 0) translatedRules.push(a.rule.id);
      else
        untranslatedRules.push({
          id: a.rule.id,
          reason: `custom rule on ${unmapped.join(', ')}, which Vigil does not map to an API resource`,
        });
    } else if (PSS_CEL[a.rule.id] || RULES_CEL[a.rule.id]) translatedRules.push(a.rule.id);
    else untranslatedRules.push({ id: a.rule.id, reason: untranslatedReason(a.rule) });
  }
  const exceptions = policy.exceptions.filter((e) => exceptionActive(e, now));
  // Exceptions for every rule become matchConditions (the object is not judged at all).
  const wholeExceptions = exceptions.filter((e) => e.rules.length === 0);
  const ruleExceptions = exceptions.filter((e) => e.rules.length > 0);

  const objects: Json[] = [];
  const names: string[] = [];
  const kinds = policy.match.kinds;
  for (const shape of SHAPES) {
    const shapeKinds = kinds && kinds.length > 0 ? shape.kinds.filter((k) => kinds.includes(k)) : shape.kinds;
    if (shapeKinds.length === 0) continue;
    if (wholeExceptions.some((e) => e.match === undefined)) continue;

    const variables: Json[] = [
      { name: 'spec', expression: shape.spec },
      { name: 'annotations', expression: shape.annotations },
    ];
    ruleExceptions.forEach((e) =>
      variables.push({
        name: `exception${String(e.index)}`,
        expression: e.match ? matchCel(e.match) : 'true',
      }),
    );

    const validations: CelValidation[] = [];
    for (const id of translatedRules) {
      const covering = ruleExceptions.filter((e) => exceptionCovers(e, id));
      if (covering.some((e) => e.match === undefined)) continue;
      const guard = covering.map((e) => `variables.exception${String(e.index)}`);
      const make = PSS_CEL[id] ?? RULES_CEL[id];
      if (!make) continue;
      for (const v of make(shape.path, params.get(id) ?? {}))
        validations.push(
          guard.length === 0 ? v : { ...v, expression: `${guard.join(' || ')} || (${v.expression})` },
        );
    }
    if (validations.length === 0) continue;

    const matchConditions: Json[] = [];
    const m = { ...policy.match, kinds: undefined, namespaceSelector: undefined, objectSelector: undefined };
    const scope = matchCel(m);
    if (scope !== 'true') matchConditions.push({ name: 'policy-match', expression: scope });
    if (shape.template)
      matchConditions.push({
        name: 'template-changed',
        expression: `request.operation != 'UPDATE' || object.${shape.template} != oldObject.${shape.template}`,
      });
    if (shapeKinds.length < shape.kinds.length)
      matchConditions.push({
        name: 'policy-kinds',
        expression: `object.kind in [${shapeKinds.map(lit).join(', ')}]`,
      });
    for (const e of wholeExceptions)
      if (e.match)
        matchConditions.push({ name: `exception-${String(e.index)}`, expression: `!(${matchCel(e.match)})` });

    const name = `vigil-${policy.name}-${shape.suffix}`;
    names.push(name);
    const matchConstraints: Json = { resourceRules: shape.resourceRules };
    if (policy.match.namespaceSelector)
      matchConstraints['namespaceSelector'] = policy.match.namespaceSelector;
    if (policy.match.objectSelector) matchConstraints['objectSelector'] = policy.match.objectSelector;
    const spec: Json = {
      failurePolicy: 'Fail',
      matchConstraints,
      variables,
      validations: validations.map((v) => ({ ...v, reason: 'Forbidden' })),
    };
    if (matchConditions.length > 0) spec['matchConditions'] = matchConditions;
    objects.push(...pair(name, spec, policy.action));
  }
  if (!wholeExceptions.some((e) => e.match === undefined))
    for (const id of translatedRules) {
      const c = customs.get(id);
      if (!c) continue;
      const covering = ruleExceptions.filter((e) => exceptionCovers(e, id));
      if (covering.some((e) => e.match === undefined)) continue;
      const name = `vigil-${policy.name}-custom-${id}`;
      names.push(name);
      objects.push(...pair(name, customRuleSpec(c, policy, wholeExceptions, covering), policy.action));
    }
  return { objects, translatedRules, untranslatedRules, names };
}

/** A generated ValidatingAdmissionPolicy and its binding (same name). */
function pair(name: string, spec: Json, action: CompiledPolicy['action']): Json[] {
  const labels = { ...MANAGED_BY_LABEL };
  return [
    {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingAdmissionPolicy',
      metadata: { name, labels },
      spec,
    },
    {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingAdmissionPolicyBinding',
      metadata: { name, labels },
      spec: { policyName: name, validationActions: validationActions(action) },
    },
  ];
}

/**
 * A custom rule as its own policy: its CEL as written (its variables and validations: the same
 * expressions the engine evaluates with the API server's own CEL), on CREATE and UPDATE of the
 * kinds it judges; the policy's and the rule's match as matchConstraints and matchConditions;
 * messages prefixed with the rule id, like the finding's. Exceptions are guards, as for the
 * built-in rules (their variables are prefixed so they cannot meet the rule's own names).
 */
function customRuleSpec(
  c: CompiledPolicy['customRules'][number],
  policy: CompiledPolicy,
  wholeExceptions: readonly CompiledException[],
  covering: readonly CompiledException[],
): Json {
  const byGroup = new Map<string, { group: string; version: string; plurals: string[] }>();
  for (const k of c.kinds) {
    const w = SUBJECT_KINDS.find((x) => x.kind === k);
    if (!w) continue;
    const key = `${w.group}/${w.version}`;
    const g = byGroup.get(key) ?? { group: w.group, version: w.version, plurals: [] };
    g.plurals.push(w.plural);
    byGroup.set(key, g);
  }
  const matchConstraints: Json = {
    resourceRules: [...byGroup.values()].map((g) => ({
      apiGroups: [g.group],
      apiVersions: [g.version],
      operations: ['CREATE', 'UPDATE'],
      resources: g.plurals,
    })),
  };
  if (policy.match.namespaceSelector) matchConstraints['namespaceSelector'] = policy.match.namespaceSelector;
  if (policy.match.objectSelector) matchConstraints['objectSelector'] = policy.match.objectSelector;
  const matchConditions: Json[] = [];
  const scope = matchCel({ ...policy.match, namespaceSelector: undefined, objectSelector: undefined });
  if (scope !== 'true') matchConditions.push({ name: 'policy-match', expression: scope });
  const own = c.match;
  const ownScope = matchCel({ ...own, namespaceSelector: undefined });
  const ownTerms = [ownScope === 'true' ? '' : ownScope];
  // A cluster-scoped object has no namespaceObject; the engine does not match it either.
  if (own.namespaceSelector)
    ownTerms.push(`(namespaceObject != null && (${selectorCel(own.namespaceSelector, NS_LABELS)}))`);
  const ownExpr = ownTerms.filter((t) => t !== '').join(' && ');
  if (ownExpr !== '') matchConditions.push({ name: 'rule-match', expression: ownExpr });
  for (const e of wholeExceptions)
    if (e.match)
      matchConditions.push({ name: `exception-${String(e.index)}`, expression: `!(${matchCel(e.match)})` });
  const variables: Json[] = c.cel.variables.map((v) => ({ name: v.name, expression: v.expression }));
  const guards = covering.map((e) => {
    variables.push({
      name: `vigilException${String(e.index)}`,
      expression: e.match ? matchCel(e.match) : 'true',
    });
    return `variables.vigilException${String(e.index)}`;
  });
  const validations = c.cel.validations.map((v) => {
    const out: Json = {
      expression: guards.length === 0 ? v.expression : `${guards.join(' || ')} || (${v.expression})`,
      reason: 'Forbidden',
    };
    if (v.messageExpression !== undefined)
      out['messageExpression'] = `${lit(`${c.id}: `)} + (${v.messageExpression})`;
    else out['message'] = `${c.id}: ${v.message ?? c.title}`;
    return out;
  });
  const spec: Json = { failurePolicy: 'Fail', matchConstraints, variables, validations };
  if (matchConditions.length > 0) spec['matchConditions'] = matchConditions;
  return spec;
}
