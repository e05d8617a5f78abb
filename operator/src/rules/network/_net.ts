/**
 * Network helpers shared by the network and management-tools rules: which
 * workloads live in a namespace, which NetworkPolicies select their pods, and
 * which Services/Ingresses expose them. Pure and defensive; every lookup goes
 * through the ClusterIndex, so the answer is the same whether the objects came
 * from one file, many files or the cluster.
 *
 * Namespaces: an object without metadata.namespace belongs to the namespace the
 * manifests will be applied to; all such objects are grouped together (key ''),
 * which is what `kubectl apply -n X -f dir/` does with them.
 */
import {
  anyGlob,
  labelsOf,
  selectorErrors,
  selectorMatches,
  type LabelSelector,
} from '../../engine/match.ts';
import {
  WORKLOAD_KINDS,
  allContainers,
  asArray,
  asObj,
  asObjArray,
  asString,
  asStringArray,
  isObj,
  podTemplate,
} from '../../engine/podspec.ts';
import type { ClusterIndexView, KubeObject, ParamSpec, Params } from '../../engine/types.ts';
import { memoByKinds } from '../rbac/_memo.ts';
import { isTrue } from '../pod-security/_pss.ts';

export function nsOf(obj: KubeObject): string {
  return asString(asObj(obj.metadata)['namespace']) ?? '';
}

export function nameOf(obj: KubeObject): string {
  return asString(asObj(obj.metadata)['name']) ?? '';
}

export { describeNamespace } from '../rbac/_rbac.ts';

export const EXCLUDE_NAMESPACES_PARAM: ParamSpec = {
  name: 'excludeNamespaces',
  description:
    'Namespaces (shell globs) this rule does not evaluate; by default the control-plane namespaces.',
  type: 'string[]',
  default: ['kube-system', 'kube-public', 'kube-node-lease'],
};

export function namespaceExcluded(ns: string, params: Params): boolean {
  return ns !== '' && anyGlob(asStringArray(params['excludeNamespaces']), ns);
}

/**
 * False when a controller owner of the object is in scope: the owner carries
 * the findings (a ReplicaSet's pods, a Deployment's ReplicaSets, a CronJob's Jobs).
 */
export function isTopLevel(obj: KubeObject, index: ClusterIndexView): boolean {
  const ns = nsOf(obj);
  for (const ref of asObjArray(asObj(obj.metadata)['ownerReferences'])) {
    if (ref['controller'] !== true) continue;
    const kind = asString(ref['kind']);
    const name = asString(ref['name']);
    if (kind && name && index.get(kind, ns, name)) return false;
  }
  return true;
}

/** Objects of the given kinds grouped by namespace, in kind order then input order (memoised per index). */
export function byNamespace(index: ClusterIndexView, kinds: readonly string[]): Map<string, KubeObject[]> {
  return memoByKinds(index, `net/by-ns/${kinds.join(',')}`, kinds, () => {
    const m = new Map<string, KubeObject[]>();
    for (const kind of kinds) {
      for (const o of index.ofKind(kind)) {
        const ns = nsOf(o);
        const list = m.get(ns);
        if (list) list.push(o);
        else m.set(ns, [o]);
      }
    }
    return m;
  });
}

/** Top-level workloads of a namespace, in kind order then input order. */
export function topLevelWorkloads(index: ClusterIndexView, ns: string): KubeObject[] {
  return (byNamespace(index, WORKLOAD_KINDS).get(ns) ?? []).filter((o) => isTopLevel(o, index));
}

export function podLabels(obj: KubeObject): Record<string, string> {
  const tpl = podTemplate(obj);
  return tpl ? labelsOf(tpl.metadata) : {};
}

export interface PolicyView {
  name: string;
  selector: LabelSelector;
  ingress: boolean;
  egress: boolean;
  /** Empty podSelector: selects every pod of the namespace. */
  selectsAll: boolean;
  /**
   * Index of an ingress rule that admits every source on every port (`ingress: [{}]`, or
   * a rule without ports whose peers include all pods of all namespaces or 0.0.0.0/0):
   * the pods it selects are not isolated, whatever else selects them. Undefined when none.
   */
  allowAllIngressRule?: number;
}

function emptySelector(v: unknown): boolean {
  if (!isObj(v)) return false;
  return Object.keys(asObj(v['matchLabels'])).length === 0 && asObjArray(v['matchExpressions']).length === 0;
}

/** A peer of a `from` list that stands for every source. */
function peerIsEverything(peer: Record<string, unknown>): boolean {
  const block = peer['ipBlock'];
  if (isObj(block)) {
    const cidr = asString(block['cidr']);
    return (cidr === '0.0.0.0/0' || cidr === '::/0') && asObjArray(block['except']).length === 0;
  }
  // namespaceSelector: {} with no (or an empty) podSelector: every pod of every namespace.
  const pods = peer['podSelector'];
  return emptySelector(peer['namespaceSelector']) && (pods === undefined || emptySelector(pods));
}

/** Does one ingress rule admit every source on every port? */
export function ingressRuleAllowsAll(rule: unknown): boolean {
  if (!isObj(rule)) return false;
  const ports = rule['ports'];
  if (Array.isArray(ports) && ports.length > 0) return false;
  const from = rule['from'];
  if (!Array.isArray(from) || from.length === 0) return true;
  return asObjArray(from).some(peerIsEverything);
}

/**
 * NetworkPolicies of a namespace, as the API server reads them: policyTypes
 * defaults to Ingress (plus Egress when egress rules are present); an omitted
 * podSelector is the empty selector. Policies with invalid selectors are skipped.
 */
export function networkPolicies(index: ClusterIndexView, ns: string): readonly PolicyView[] {
  // Read once per namespace and version of the NetworkPolicy list, not once per workload.
  const byNs = memoByKinds(
    index,
    'network/policy-views',
    ['NetworkPolicy'],
    () => new Map<string, PolicyView[]>(),
  );
  let views = byNs.get(ns);
  if (!views) {
    views = policyViews(index, ns);
    byNs.set(ns, views);
  }
  return views;
}

function policyViews(index: ClusterIndexView, ns: string): PolicyView[] {
  const out: PolicyView[] = [];
  for (const np of byNamespace(index, ['NetworkPolicy']).get(ns) ?? []) {
    const spec = asObj(np['spec']);
    const sel = spec['podSelector'] ?? {};
    if (selectorErrors(sel, 'podSelector').length > 0) continue;
    const types = asStringArray(spec['policyTypes']);
    const hasTypes = Array.isArray(spec['policyTypes']) && types.length > 0;
    const selector = sel as LabelSelector;
    const ingress = hasTypes ? types.includes('Ingress') : true;
    const view: PolicyView = {
      name: nameOf(np),
      selector,
      ingress,
      egress: hasTypes ? types.includes('Egress') : spec['egress'] !== undefined,
      selectsAll:
        Object.keys(asObj(selector.matchLabels)).length === 0 &&
        asObjArray(selector.matchExpressions).length === 0,
    };
    const open = ingress ? asArray(spec['ingress']).findIndex(ingressRuleAllowsAll) : -1;
    if (open >= 0) view.allowAllIngressRule = open;
    out.push(view);
  }
  return out;
}

/**
 * The ingress policy that isolates pods with these labels: the first one selecting them,
 * unless a selecting policy admits all ingress (allowed traffic is the union of all
 * selecting policies, so one allow-all rule opens the pods). Undefined when not isolated.
 */
export function ingressPolicyFor(
  labels: Record<string, string>,
  policies: readonly PolicyView[],
): PolicyView | undefined {
  const selecting = policies.filter((p) => p.ingress && selectorMatches(p.selector, labels));
  if (selecting.some((p) => p.allowAllIngressRule !== undefined)) return undefined;
  return selecting[0];
}

/** A policy selecting pods with these labels for Ingress that admits all ingress, if any. */
export function allowAllIngressPolicyFor(
  labels: Record<string, string>,
  policies: readonly PolicyView[],
): PolicyView | undefined {
  return policies.find(
    (p) => p.ingress && p.allowAllIngressRule !== undefined && selectorMatches(p.selector, labels),
  );
}

export function describeWorkload(o: KubeObject): string {
  return `${asString(o.kind) ?? '?'}/${nameOf(o)}`;
}

export function listShort(items: readonly string[], max = 5): string {
  // Sorted: the same objects give the same message whatever order the cache holds them in (a
  // restarted operator lists them in the API server's order and must not rewrite every report).
  const shown = [...items].sort().slice(0, max).join(', ');
  return items.length > max ? `${shown} and ${items.length - max} more` : shown;
}

// ---------------------------------------------------------------- exposure

/** Does a Service's selector pick pods with these labels? Services without a selector pick none. */
export function serviceSelects(svc: KubeObject, labels: Record<string, string>): boolean {
  const sel = asObj(asObj(svc['spec'])['selector']);
  const entries = Object.entries(sel);
  if (entries.length === 0) return false;
  return entries.every(([k, v]) => typeof v === 'string' && labels[k] === v);
}

export function serviceType(svc: KubeObject): string {
  return asString(asObj(svc['spec'])['type']) ?? 'ClusterIP';
}

/** Services named as backends of an Ingress (networking.k8s.io/v1 and the old v1beta1 shape). */
export function ingressBackendServices(ing: KubeObject): string[] {
  const spec = asObj(ing['spec']);
  const names = new Set<string>();
  const add = (backend: unknown): void => {
    if (!isObj(backend)) return;
    const n = asString(asObj(backend['service'])['name']) ?? asString(backend['serviceName']);
    if (n) names.add(n);
  };
  add(spec['defaultBackend']);
  add(spec['backend']);
  for (const rule of asObjArray(spec['rules'])) {
    for (const path of asObjArray(asObj(rule['http'])['paths'])) add(path['backend']);
  }
  return [...names];
}

/**
 * What makes a workload's pods dangerous to reach: privileged containers, host
 * namespaces, hostPath volumes. Empty when none (YAML 1.1 booleans as Kubernetes reads them).
 */
export function privilegeReasons(obj: KubeObject): string[] {
  const tpl = podTemplate(obj);
  if (!tpl) return [];
  const out: string[] = [];
  for (const c of allContainers(tpl.spec))
    if (isTrue(asObj(c.container['securityContext'])['privileged']))
      out.push(`privileged container "${c.name}"`);
  for (const f of ['hostNetwork', 'hostPID', 'hostIPC']) if (isTrue(tpl.spec[f])) out.push(f);
  if (asObjArray(tpl.spec['volumes']).some((v) => isObj(v['hostPath']))) out.push('hostPath volume');
  return out;
}

/** Top-level workloads of the Service's namespace whose pods it selects. */
export function workloadsBehind(svc: KubeObject, index: ClusterIndexView): KubeObject[] {
  return topLevelWorkloads(index, nsOf(svc)).filter((w) => serviceSelects(svc, podLabels(w)));
}

/** Workloads behind an Ingress (through its backend Services) that run privileged pods, described. */
export function privilegedBehindIngress(ing: KubeObject, index: ClusterIndexView): string[] {
  const names = new Set(ingressBackendServices(ing));
  const out: string[] = [];
  for (const svc of byNamespace(index, ['Service']).get(nsOf(ing)) ?? []) {
    if (!names.has(nameOf(svc))) continue;
    for (const w of workloadsBehind(svc, index)) {
      const why = privilegeReasons(w);
      const d = `${describeWorkload(w)} (${why.join(', ')})`;
      if (why.length > 0 && !out.includes(d)) out.push(d);
    }
  }
  return out;
}

export interface Exposure {
  /** e.g. `Service "dash" (NodePort)`, `Ingress "dash" via Service "dash"`. */
  paths: string[];
}

/** How a workload's pods can be reached from outside the cluster: NodePort/LoadBalancer Services and Ingresses. */
export function externalExposure(obj: KubeObject, index: ClusterIndexView): Exposure {
  const ns = nsOf(obj);
  const labels = podLabels(obj);
  const paths: string[] = [];
  const selecting = (byNamespace(index, ['Service']).get(ns) ?? []).filter((s) => serviceSelects(s, labels));
  for (const s of selecting) {
    const t = serviceType(s);
    if (t === 'NodePort' || t === 'LoadBalancer') paths.push(`Service "${nameOf(s)}" (${t})`);
  }
  const names = new Set(selecting.map(nameOf));
  for (const ing of byNamespace(index, ['Ingress']).get(ns) ?? []) {
    const via = ingressBackendServices(ing).filter((n) => names.has(n));
    if (via.length > 0) paths.push(`Ingress "${nameOf(ing)}" via Service "${via[0] ?? ''}"`);
  }
  return { paths };
}
