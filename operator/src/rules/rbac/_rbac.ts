/**
 * RBAC analysis shared by the rbac rules (and the management-tools rules that
 * ask "is this service account cluster-admin?"). Pure and defensive: roles and
 * bindings come from untrusted YAML or the cluster cache.
 *
 * Model
 * - A PolicyRule matches a request like the RBAC authorizer does
 *   (k8s.io/kubernetes plugin/pkg/auth/authorizer/rbac): `*` in verbs, apiGroups
 *   or resources matches everything, a resource written as `*` + `/sub` matches
 *   that subresource of any resource, and a rule with resourceNames only matches
 *   requests for those names. Rules restricted by resourceNames are treated as
 *   least privilege and never count as a dangerous grant.
 * - A binding's roleRef is resolved from the scanned set / cluster (through
 *   ctx.index), then from the tables of well-known built-in ClusterRoles and
 *   kube-system/kube-public Roles; otherwise it
 *   is "unresolved" and only the subject-based rules apply to it.
 * - A ClusterRole with an aggregationRule gets the rules of every ClusterRole in
 *   scope its selectors match (transitively), on top of its own `rules` (which
 *   the cluster has already filled in; manifests usually leave them empty).
 * - Who carries a finding: bindings carry what is actually granted, naming the
 *   subjects; a Role/ClusterRole carries a (lower-severity) finding only while
 *   no binding in scope uses it, so one grant is reported once.
 * - Namespaces: an object without metadata.namespace (install.yaml style) belongs to
 *   the namespace the manifests are applied to, as in the network rules: all such
 *   objects share that one namespace (key ''), so a namespace-less RoleBinding
 *   resolves a namespace-less Role, and its namespace-less ServiceAccount subjects
 *   are accounts of that namespace. Messages call it the apply-time namespace.
 * - Platform objects: Kubernetes' own bindings (names with a platform prefix,
 *   `system:` / `kubeadm:` by default) granting to platform subjects (users and
 *   groups with those prefixes, service accounts in kube-system) are not
 *   reported; anything else they grant to is. The public groups
 *   (system:anonymous, system:unauthenticated, system:authenticated) are never
 *   platform subjects: the public-group rule judges them by what they receive;
 *   system:serviceaccounts (every service account) is public in the same way.
 */
import { labelsOf, selectorErrors, selectorMatches, type LabelSelector } from '../../engine/match.ts';
import { asObj, asObjArray, asString, asStringArray, isObj } from '../../engine/podspec.ts';
import type { ClusterIndexView, KubeObject, ParamSpec, Params } from '../../engine/types.ts';
import { BUILTIN_CLUSTER_ROLES, BUILTIN_ROLES, DEFAULT_ROLE_NAMES } from './_builtin-roles.ts';
import { memoByKinds } from './_memo.ts';

export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames: string[];
  nonResourceURLs: string[];
}

export function parseRules(v: unknown): PolicyRule[] {
  return asObjArray(v).map((r) => ({
    apiGroups: asStringArray(r['apiGroups']),
    resources: asStringArray(r['resources']),
    verbs: asStringArray(r['verbs']),
    resourceNames: asStringArray(r['resourceNames']),
    nonResourceURLs: asStringArray(r['nonResourceURLs']),
  }));
}

// ---------------------------------------------------------------- matching

export const READ_VERBS = ['get', 'list', 'watch'];

function listAllows(list: readonly string[], v: string): boolean {
  return list.includes('*') || list.includes(v);
}

/** Resource matching of the RBAC authorizer: `*`, exact `res/sub`, or `*\/sub`. */
export function resourceMatches(ruleResources: readonly string[], resource: string): boolean {
  const slash = resource.indexOf('/');
  const sub = slash >= 0 ? resource.slice(slash + 1) : '';
  for (const rr of ruleResources) {
    if (rr === '*' || rr === resource) return true;
    if (sub && rr === `*/${sub}`) return true;
  }
  return false;
}

export interface Target {
  group: string;
  resource: string;
}

export interface CapabilityQuery {
  verbs: string[];
  targets: Target[];
  /** Cluster-scoped resources: a RoleBinding cannot grant them. */
  clusterScoped?: boolean;
}

/** What a set of rules grants for one capability: the requested verbs and resources it allows. */
export interface Grant {
  verbs: string[];
  resources: string[];
}

/** Unrestricted (no resourceNames) grants of any of the queries' verbs on their targets. */
export function findGrant(
  rules: readonly PolicyRule[],
  queries: readonly CapabilityQuery[],
  scope: Scope,
): Grant | undefined {
  const verbs = new Set<string>();
  const resources = new Set<string>();
  for (const q of queries) {
    if (q.clusterScoped && scope === 'namespace') continue;
    for (const rule of rules) {
      if (rule.resourceNames.length > 0 || rule.resources.length === 0) continue;
      const vs = q.verbs.filter((v) => listAllows(rule.verbs, v));
      if (vs.length === 0) continue;
      const ts = q.targets.filter(
        (t) => listAllows(rule.apiGroups, t.group) && resourceMatches(rule.resources, t.resource),
      );
      if (ts.length === 0) continue;
      for (const v of vs) verbs.add(v);
      for (const t of ts) resources.add(t.resource);
    }
  }
  if (verbs.size === 0) return undefined;
  return { verbs: [...verbs], resources: [...resources] };
}

export function describeGrant(g: Grant): string {
  return `${g.verbs.join('/')} on ${g.resources.join(', ')}`;
}

/** `*` verbs on `*` resources in `*` apiGroups, not restricted by name: cluster-admin's rule. */
export function isFullAdmin(rules: readonly PolicyRule[]): boolean {
  return rules.some(
    (r) =>
      r.resourceNames.length === 0 &&
      r.verbs.includes('*') &&
      r.apiGroups.includes('*') &&
      r.resources.includes('*'),
  );
}

export interface WildcardUse {
  /** Some rule has `*` in both verbs and resources. */
  verbsAndResources: boolean;
  /** Human-readable list, e.g. `rules[0] verbs=*, resources=*`. */
  places: string[];
}

export function wildcardUse(rules: readonly PolicyRule[]): WildcardUse | undefined {
  let both = false;
  const places: string[] = [];
  rules.forEach((r, i) => {
    const fields: string[] = [];
    const v = r.verbs.includes('*');
    const res = r.resources.some((x) => x === '*' || x.startsWith('*/'));
    if (r.apiGroups.includes('*')) fields.push('apiGroups');
    if (res) fields.push('resources');
    if (v) fields.push('verbs');
    if (r.nonResourceURLs.includes('*')) fields.push('nonResourceURLs');
    if (fields.length === 0) return;
    if (v && res && r.resourceNames.length === 0) both = true;
    places.push(`rules[${i}] ${fields.map((f) => `${f}=*`).join(', ')}`);
  });
  return places.length > 0 ? { verbsAndResources: both, places } : undefined;
}

// ---------------------------------------------------------------- capabilities

const CORE = '';
const RBAC_GROUP = 'rbac.authorization.k8s.io';

export const CAP_SECRETS_READ: CapabilityQuery[] = [
  { verbs: READ_VERBS, targets: [{ group: CORE, resource: 'secrets' }] },
];

export const CAP_EXEC: CapabilityQuery[] = [
  {
    // `get` counts: exec/attach over WebSocket was authorized as get before AuthorizePodWebsocketUpgradeCreatePermission.
    verbs: ['create', 'get'],
    targets: [
      { group: CORE, resource: 'pods/exec' },
      { group: CORE, resource: 'pods/attach' },
    ],
  },
];

export const CAP_NODES_PROXY: CapabilityQuery[] = [
  {
    verbs: ['get', 'create', 'update', 'patch', 'delete'],
    targets: [{ group: CORE, resource: 'nodes/proxy' }],
    clusterScoped: true,
  },
  { verbs: ['proxy'], targets: [{ group: CORE, resource: 'nodes' }], clusterScoped: true },
];

export const CAP_CREATE_PODS: CapabilityQuery[] = [
  {
    verbs: ['create'],
    targets: [
      { group: CORE, resource: 'pods' },
      { group: CORE, resource: 'replicationcontrollers' },
      ...['deployments', 'replicasets', 'statefulsets', 'daemonsets'].map((resource) => ({
        group: 'apps',
        resource,
      })),
      ...['jobs', 'cronjobs'].map((resource) => ({ group: 'batch', resource })),
    ],
  },
];

export const CAP_ESCALATE_BIND: CapabilityQuery[] = [
  {
    verbs: ['escalate', 'bind'],
    targets: [
      { group: RBAC_GROUP, resource: 'roles' },
      { group: RBAC_GROUP, resource: 'clusterroles' },
    ],
  },
];

export const CAP_IMPERSONATE_SA: CapabilityQuery[] = [
  { verbs: ['impersonate'], targets: [{ group: CORE, resource: 'serviceaccounts' }] },
];

/** Impersonating any user or group (system:masters included) is cluster-admin by another name. */
export const CAP_IMPERSONATE_IDENTITY: CapabilityQuery[] = [
  {
    verbs: ['impersonate'],
    targets: [
      { group: CORE, resource: 'users' },
      { group: CORE, resource: 'groups' },
      { group: 'authentication.k8s.io', resource: 'uids' },
    ],
    clusterScoped: true,
  },
];

export const CAP_TOKEN_CREATE: CapabilityQuery[] = [
  { verbs: ['create'], targets: [{ group: CORE, resource: 'serviceaccounts/token' }] },
];

export const CAP_PV_CREATE: CapabilityQuery[] = [
  { verbs: ['create'], targets: [{ group: CORE, resource: 'persistentvolumes' }], clusterScoped: true },
];
export const CAP_CSR_APPROVE: CapabilityQuery[] = [
  {
    verbs: ['update', 'patch'],
    targets: [{ group: 'certificates.k8s.io', resource: 'certificatesigningrequests/approval' }],
    clusterScoped: true,
  },
];
export const CAP_WEBHOOK_WRITE: CapabilityQuery[] = [
  {
    verbs: ['create', 'update', 'patch', 'delete'],
    targets: ['validatingwebhookconfigurations', 'mutatingwebhookconfigurations'].map((resource) => ({
      group: 'admissionregistration.k8s.io',
      resource,
    })),
    clusterScoped: true,
  },
];

export interface DangerousCapability {
  label: string;
  queries: CapabilityQuery[];
  controls: string[];
}

/** Every capability a reviewer should know a grant includes, with a short label and its CIS control. */
export const DANGEROUS_CAPABILITIES: readonly DangerousCapability[] = [
  { label: 'read secrets', queries: CAP_SECRETS_READ, controls: ['CIS:5.1.2'] },
  { label: 'exec/attach into pods', queries: CAP_EXEC, controls: [] },
  { label: 'proxy to kubelets (nodes/proxy)', queries: CAP_NODES_PROXY, controls: ['CIS:5.1.10'] },
  { label: 'create pods or workloads', queries: CAP_CREATE_PODS, controls: ['CIS:5.1.4'] },
  { label: 'escalate/bind roles', queries: CAP_ESCALATE_BIND, controls: ['CIS:5.1.8'] },
  { label: 'impersonate service accounts', queries: CAP_IMPERSONATE_SA, controls: ['CIS:5.1.8'] },
  { label: 'impersonate users/groups', queries: CAP_IMPERSONATE_IDENTITY, controls: ['CIS:5.1.8'] },
  { label: 'create service account tokens', queries: CAP_TOKEN_CREATE, controls: ['CIS:5.1.13'] },
];

export const FULL_ADMIN_LABEL = 'everything (all verbs on all resources)';

/** The dangerous capabilities a set of rules includes (full admin summarised as one). */
export function dangerousCapabilities(rules: readonly PolicyRule[], scope: Scope): DangerousCapability[] {
  if (isFullAdmin(rules)) return [{ label: FULL_ADMIN_LABEL, queries: [], controls: ['CIS:5.1.1'] }];
  return DANGEROUS_CAPABILITIES.filter((c) => findGrant(rules, c.queries, scope));
}

/**
 * How much a set of rules hands out, for judging grants to the public groups:
 * discovery (non-resource GETs, self reviews, public CA bundles) < named reads < reads < writes < dangerous.
 */
export type GrantLevel = 'none' | 'discovery' | 'named-read' | 'read' | 'write' | 'dangerous';
const LEVELS: readonly GrantLevel[] = ['none', 'discovery', 'named-read', 'read', 'write', 'dangerous'];

const SELF_REVIEWS = new Set(['selfsubjectaccessreviews', 'selfsubjectrulesreviews', 'selfsubjectreviews']);
const SENSITIVE_URL = /^\/(debug|logs|metrics)(\/|$)/;
/**
 * Resources that are public by design: ClusterTrustBundles hold CA certificates meant to
 * be read by every workload (Kubernetes binds their read to system:serviceaccounts).
 */
const PUBLIC_READ_RESOURCES = new Set(['clustertrustbundles']);

export function grantLevel(rules: readonly PolicyRule[], scope: Scope): GrantLevel {
  if (dangerousCapabilities(rules, scope).length > 0) return 'dangerous';
  let level = 0;
  const raise = (l: GrantLevel): void => {
    level = Math.max(level, LEVELS.indexOf(l));
  };
  for (const r of rules) {
    if (r.verbs.length === 0) continue;
    if (r.nonResourceURLs.length > 0) {
      const readOnly = r.verbs.every((v) => v === 'get' || v === 'head');
      const sensitive = r.nonResourceURLs.some((u) => u === '*' || SENSITIVE_URL.test(u));
      raise(!readOnly ? 'write' : sensitive ? 'read' : 'discovery');
    }
    if (r.resources.length === 0) continue;
    const readOnly = r.verbs.every((v) => READ_VERBS.includes(v));
    if (readOnly && r.resources.every((x) => PUBLIC_READ_RESOURCES.has(x))) raise('discovery');
    else if (readOnly) raise(r.resourceNames.length > 0 ? 'named-read' : 'read');
    else if (r.verbs.every((v) => v === 'create') && r.resources.every((x) => SELF_REVIEWS.has(x)))
      raise('discovery');
    else raise('write');
  }
  return LEVELS[level] ?? 'none';
}

// ---------------------------------------------------------------- bindings and subjects

export type Scope = 'cluster' | 'namespace';

export interface SubjectRef {
  kind: string;
  name: string;
  /** Service accounts only: the account's namespace. */
  namespace: string;
}

export interface BindingInfo {
  kind: 'RoleBinding' | 'ClusterRoleBinding';
  name: string;
  /** '' for ClusterRoleBindings. */
  namespace: string;
  roleRef: { kind: string; name: string };
  subjects: SubjectRef[];
  scope: Scope;
}

export function parseBinding(obj: KubeObject): BindingInfo | undefined {
  const kind = obj.kind;
  if (kind !== 'RoleBinding' && kind !== 'ClusterRoleBinding') return undefined;
  const meta = asObj(obj.metadata);
  const namespace = kind === 'RoleBinding' ? (asString(meta['namespace']) ?? '') : '';
  const ref = asObj(obj['roleRef']);
  const refName = asString(ref['name']);
  if (!refName) return undefined;
  const refKind = asString(ref['kind']) ?? 'ClusterRole';
  const subjects = asObjArray(obj['subjects']).flatMap((s): SubjectRef[] => {
    const sk = asString(s['kind']);
    const sn = asString(s['name']);
    if (!sk || !sn) return [];
    return [
      {
        kind: sk,
        name: sn,
        namespace: sk === 'ServiceAccount' ? (asString(s['namespace']) ?? namespace) : '',
      },
    ];
  });
  return {
    kind,
    name: asString(meta['name']) ?? '',
    namespace,
    roleRef: { kind: refKind, name: refName },
    subjects,
    scope: kind === 'ClusterRoleBinding' ? 'cluster' : 'namespace',
  };
}

export const PUBLIC_USERS = new Set(['system:anonymous']);
/**
 * Groups everyone is in: the unauthenticated; every authenticated user and service account;
 * every service account of the cluster (the token of any pod, compromised ones included).
 */
export const PUBLIC_GROUPS = new Set([
  'system:unauthenticated',
  'system:authenticated',
  'system:serviceaccounts',
]);

/** Public subjects that need no credential at all. */
export function isAnonymousSubject(s: SubjectRef): boolean {
  return (
    (s.kind === 'User' && PUBLIC_USERS.has(s.name)) ||
    (s.kind === 'Group' && s.name === 'system:unauthenticated')
  );
}

export function isPublicSubject(s: SubjectRef): boolean {
  return (s.kind === 'User' && PUBLIC_USERS.has(s.name)) || (s.kind === 'Group' && PUBLIC_GROUPS.has(s.name));
}

/** The param every binding rule declares, so platforms with other prefixes (eks:, gce:) can extend it. */
export const PLATFORM_PREFIXES_PARAM: ParamSpec = {
  name: 'platformPrefixes',
  description:
    'Name prefixes of platform-managed bindings, roles and subjects (Kubernetes components). Grants by such bindings to subjects with such prefixes, or to service accounts in kube-system, are not reported.',
  type: 'string[]',
  default: ['system:', 'kubeadm:'],
};

export function platformPrefixes(params: Params): string[] {
  const v = params['platformPrefixes'];
  return Array.isArray(v) ? asStringArray(v) : asStringArray(PLATFORM_PREFIXES_PARAM.default);
}

function hasPrefix(name: string, prefixes: readonly string[]): boolean {
  return prefixes.some((p) => p !== '' && name.startsWith(p));
}

export function isPlatformBinding(b: BindingInfo, prefixes: readonly string[]): boolean {
  return hasPrefix(b.name, prefixes);
}

/**
 * Subjects a binding really grants to, for the permission rules: not the public
 * groups (their own rule), not system:masters (it bypasses RBAC, a binding adds
 * nothing), and not platform subjects of platform bindings.
 */
export function grantees(b: BindingInfo, prefixes: readonly string[]): SubjectRef[] {
  const platform = isPlatformBinding(b, prefixes);
  return b.subjects.filter((s) => {
    if (isPublicSubject(s)) return false;
    if (s.kind === 'Group' && s.name === 'system:masters') return false;
    if (!platform) return true;
    if (s.kind === 'ServiceAccount') return s.namespace !== 'kube-system';
    return !hasPrefix(s.name, prefixes);
  });
}

/** `namespace "ns"`, or the apply-time namespace for objects without one. */
export function describeNamespace(ns: string): string {
  return ns === '' ? 'the unspecified (apply-time) namespace' : `namespace "${ns}"`;
}

/** `"ns/name"`, or `"name" (apply-time namespace)` for objects without a namespace. */
function qualifiedName(ns: string, name: string): string {
  return ns === '' ? `"${name}" (apply-time namespace)` : `"${ns}/${name}"`;
}

/** Where a binding grants: `cluster-wide` or `in namespace "ns"`. */
export function describeWhere(b: BindingInfo): string {
  return b.scope === 'cluster' ? 'cluster-wide' : `in ${describeNamespace(b.namespace)}`;
}

export function describeSubject(s: SubjectRef): string {
  return s.kind === 'ServiceAccount'
    ? `ServiceAccount ${qualifiedName(s.namespace, s.name)}`
    : `${s.kind} "${s.name}"`;
}

export function describeSubjects(list: readonly SubjectRef[], max = 5): string {
  const shown = list.slice(0, max).map(describeSubject).join(', ');
  return list.length > max ? `${shown} and ${list.length - max} more` : shown;
}

// ---------------------------------------------------------------- role resolution

export interface ResolvedRole {
  kind: string;
  name: string;
  namespace: string;
  /** scope: in the scanned set / cluster; builtin: from the table of well-known roles. */
  source: 'scope' | 'builtin' | 'unresolved';
  rules: PolicyRule[];
  /** ClusterRoles whose rules were aggregated in. */
  aggregated: string[];
  /** Why the rules may be incomplete (aggregation that matched nothing). */
  note?: string;
}

function clusterRoleSelectors(role: KubeObject): LabelSelector[] {
  const agg = role['aggregationRule'];
  if (!isObj(agg)) return [];
  return asObjArray(agg['clusterRoleSelectors'])
    .filter((s) => selectorErrors(s, 'selector').length === 0)
    .map((s) => s as LabelSelector);
}

function hasAggregationRule(role: KubeObject): boolean {
  return isObj(role['aggregationRule']);
}

function nameOf(o: KubeObject): string {
  return asString(asObj(o.metadata)['name']) ?? '';
}

function labelSelectsTrue(labels: Readonly<Record<string, string>>, keys: readonly string[]): boolean {
  return keys.some((k) => labels[k] === 'true');
}

/** ClusterRoles in scope folded into an aggregated role (transitively), excluding the role itself. */
function aggregatedRoles(
  selectors: readonly LabelSelector[],
  builtinLabels: readonly string[],
  index: ClusterIndexView,
  seen: Set<string>,
): KubeObject[] {
  if (selectors.length === 0 && builtinLabels.length === 0) return [];
  const out: KubeObject[] = [];
  for (const cr of index.ofKind('ClusterRole')) {
    const n = nameOf(cr);
    if (seen.has(n)) continue;
    const labels = labelsOf(cr.metadata);
    if (!selectors.some((s) => selectorMatches(s, labels)) && !labelSelectsTrue(labels, builtinLabels))
      continue;
    seen.add(n);
    out.push(cr);
    if (hasAggregationRule(cr)) out.push(...aggregatedRoles(clusterRoleSelectors(cr), [], index, seen));
  }
  return out;
}

function resolveRoleObject(role: KubeObject, index: ClusterIndexView): ResolvedRole {
  const kind = asString(role.kind) ?? '';
  const name = nameOf(role);
  const namespace = asString(asObj(role.metadata)['namespace']) ?? '';
  const own = parseRules(role['rules']);
  const out: ResolvedRole = { kind, name, namespace, source: 'scope', rules: own, aggregated: [] };
  if (kind !== 'ClusterRole' || !hasAggregationRule(role)) return out;
  const builtin = BUILTIN_CLUSTER_ROLES.get(name);
  const extra = aggregatedRoles(clusterRoleSelectors(role), [], index, new Set([name]));
  for (const cr of extra) {
    out.rules = [...out.rules, ...parseRules(cr['rules'])];
    out.aggregated.push(nameOf(cr));
  }
  if (own.length === 0 && extra.length === 0) {
    if (builtin) {
      out.rules = builtin.rules;
      out.source = 'builtin';
    } else {
      out.note =
        'aggregated ClusterRole whose selectors match no ClusterRole in scope; its permissions could not be resolved';
    }
  }
  return out;
}

function resolveBuiltin(name: string, index: ClusterIndexView): ResolvedRole | undefined {
  const builtin = BUILTIN_CLUSTER_ROLES.get(name);
  if (!builtin) return undefined;
  const out: ResolvedRole = {
    kind: 'ClusterRole',
    name,
    namespace: '',
    source: 'builtin',
    rules: builtin.rules,
    aggregated: [],
  };
  for (const cr of aggregatedRoles([], builtin.aggregateLabels ?? [], index, new Set([name]))) {
    out.rules = [...out.rules, ...parseRules(cr['rules'])];
    out.aggregated.push(nameOf(cr));
  }
  return out;
}

/** Resolved ClusterRoles by name (scope, else built-in), computed once per set of ClusterRoles. */
function clusterRoleCache(index: ClusterIndexView): Map<string, ResolvedRole | null> {
  return memoByKinds(
    index,
    'rbac/cluster-roles',
    ['ClusterRole'],
    () => new Map<string, ResolvedRole | null>(),
  );
}

function cachedClusterRole(name: string, index: ClusterIndexView): ResolvedRole | undefined {
  const cache = clusterRoleCache(index);
  let r = cache.get(name);
  if (r === undefined) {
    const obj = index.get('ClusterRole', '', name);
    r = (obj ? resolveRoleObject(obj, index) : resolveBuiltin(name, index)) ?? null;
    cache.set(name, r);
  }
  return r ?? undefined;
}

/** Effective rules of a Role/ClusterRole object in scope, aggregation resolved. */
export function rulesOfRoleObject(role: KubeObject, index: ClusterIndexView): ResolvedRole {
  if (role.kind === 'ClusterRole' && index.get('ClusterRole', '', nameOf(role)) === role) {
    const cached = cachedClusterRole(nameOf(role), index);
    if (cached) return cached;
  }
  return resolveRoleObject(role, index);
}

/** Resolves a binding's roleRef: scope first, then the built-in table. */
export function resolveRoleRef(b: BindingInfo, index: ClusterIndexView): ResolvedRole {
  const { kind, name } = b.roleRef;
  if (kind === 'Role') {
    const role = index.get('Role', b.namespace, name);
    if (role) return resolveRoleObject(role, index);
    const builtin = BUILTIN_ROLES.get(`${b.namespace}/${name}`);
    if (builtin)
      return { kind, name, namespace: b.namespace, source: 'builtin', rules: builtin.rules, aggregated: [] };
    return { kind, name, namespace: b.namespace, source: 'unresolved', rules: [], aggregated: [] };
  }
  const resolved = kind === 'ClusterRole' ? cachedClusterRole(name, index) : undefined;
  return resolved ?? { kind, name, namespace: '', source: 'unresolved', rules: [], aggregated: [] };
}

export function describeRole(r: ResolvedRole): string {
  const base = r.kind === 'Role' ? `Role ${qualifiedName(r.namespace, r.name)}` : `${r.kind} "${r.name}"`;
  const parts: string[] = [];
  if (r.source === 'builtin') parts.push('built-in definition');
  if (r.aggregated.length > 0) parts.push(`aggregating ${r.aggregated.map((n) => `"${n}"`).join(', ')}`);
  return parts.length > 0 ? `${base} (${parts.join('; ')})` : base;
}

/** Default roles of Kubernetes and kubeadm: not reported at role level (bindings to them still are). */
export function isPlatformRole(role: KubeObject, prefixes: readonly string[]): boolean {
  const name = nameOf(role);
  if (hasPrefix(name, prefixes)) return true;
  if (role.kind === 'ClusterRole' && DEFAULT_ROLE_NAMES.has(name)) return true;
  return labelsOf(role.metadata)['kubernetes.io/bootstrapping'] === 'rbac-defaults';
}

interface BindingTable {
  /** `ClusterRole//name` and `Role/ns/name` referenced by a binding with subjects. */
  referenced: Set<string>;
  /** ClusterRoleBindings by service account subject `ns/name`. */
  clusterBindingsBySA: Map<string, BindingInfo[]>;
}

function bindingTable(index: ClusterIndexView): BindingTable {
  return memoByKinds(index, 'rbac/bindings', ['RoleBinding', 'ClusterRoleBinding'], () => {
    const t: BindingTable = { referenced: new Set(), clusterBindingsBySA: new Map() };
    for (const k of ['RoleBinding', 'ClusterRoleBinding']) {
      for (const o of index.ofKind(k)) {
        const b = parseBinding(o);
        if (!b || b.subjects.length === 0) continue;
        t.referenced.add(
          b.roleRef.kind === 'Role'
            ? `Role/${b.namespace}/${b.roleRef.name}`
            : `${b.roleRef.kind}//${b.roleRef.name}`,
        );
        if (b.kind !== 'ClusterRoleBinding') continue;
        for (const s of b.subjects) {
          if (s.kind !== 'ServiceAccount') continue;
          const key = `${s.namespace}/${s.name}`;
          const list = t.clusterBindingsBySA.get(key);
          if (list) list.push(b);
          else t.clusterBindingsBySA.set(key, [b]);
        }
      }
    }
    return t;
  });
}

function referencedBy(index: ClusterIndexView, refKind: string, name: string, namespace: string): boolean {
  const key = refKind === 'Role' ? `Role/${namespace}/${name}` : `${refKind}//${name}`;
  return bindingTable(index).referenced.has(key);
}

/** ClusterRoles in scope that have an aggregationRule, with their valid selectors. */
function aggregators(
  index: ClusterIndexView,
): { obj: KubeObject; name: string; selectors: LabelSelector[] }[] {
  return memoByKinds(index, 'rbac/aggregators', ['ClusterRole'], () =>
    index
      .ofKind('ClusterRole')
      .filter(hasAggregationRule)
      .map((obj) => ({ obj, name: nameOf(obj), selectors: clusterRoleSelectors(obj) })),
  );
}

/**
 * Is the role granted to anyone in scope: referenced by a binding with subjects,
 * or aggregated into a ClusterRole that is (including the built-in user-facing
 * roles when they are bound but not in scope)?
 */
export function isBound(role: KubeObject, index: ClusterIndexView, seen: Set<string> = new Set()): boolean {
  const kind = asString(role.kind) ?? '';
  const name = nameOf(role);
  const namespace = asString(asObj(role.metadata)['namespace']) ?? '';
  if (referencedBy(index, kind, name, namespace)) return true;
  if (kind !== 'ClusterRole') return false;
  seen.add(name);
  const labels = labelsOf(role.metadata);
  for (const a of aggregators(index)) {
    if (seen.has(a.name) || !a.selectors.some((s) => selectorMatches(s, labels))) continue;
    if (isBound(a.obj, index, seen)) return true;
  }
  for (const [n, b] of BUILTIN_CLUSTER_ROLES) {
    if (seen.has(n) || index.get('ClusterRole', '', n) || !labelSelectsTrue(labels, b.aggregateLabels ?? []))
      continue;
    if (referencedBy(index, 'ClusterRole', n, '')) return true;
  }
  return false;
}

/**
 * The built-in user-facing ClusterRoles (view, edit, admin) a ClusterRole is folded into by
 * its aggregate-to-* labels, with the labels that do it. Kubernetes' clusterrole-aggregation
 * controller copies its rules into them, and those roles exist and are bound in every
 * cluster, so what it grants is live even with no binding to it. Built-in roles themselves
 * (view is aggregated into edit) are not counted.
 */
export function aggregatedIntoBuiltin(role: KubeObject): { roles: string[]; labels: string[] } {
  if (role.kind !== 'ClusterRole' || BUILTIN_CLUSTER_ROLES.has(nameOf(role)))
    return { roles: [], labels: [] };
  const labels = labelsOf(role.metadata);
  const roles: string[] = [];
  const used = new Set<string>();
  for (const [n, b] of BUILTIN_CLUSTER_ROLES) {
    const keys = (b.aggregateLabels ?? []).filter((k) => labels[k] === 'true');
    if (keys.length === 0) continue;
    roles.push(n);
    for (const k of keys) used.add(k);
  }
  return { roles, labels: [...used].sort() };
}

/** Bindings in scope that grant a service account cluster-admin-equivalent rights cluster-wide. */
export function clusterAdminBindingsOf(
  index: ClusterIndexView,
  namespace: string,
  serviceAccount: string,
): string[] {
  const out: string[] = [];
  for (const b of bindingTable(index).clusterBindingsBySA.get(`${namespace}/${serviceAccount}`) ?? []) {
    if (isFullAdmin(resolveRoleRef(b, index).rules)) out.push(b.name);
  }
  return [...new Set(out)].sort();
}
