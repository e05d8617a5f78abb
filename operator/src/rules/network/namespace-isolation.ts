/**
 * Pods that no NetworkPolicy selects for Ingress accept traffic from every pod
 * in the cluster (and from outside, through any Service in front of them).
 * Evaluated across the whole scanned set or cluster, so the verdict does not
 * depend on how manifests are split into files.
 *
 * Which object carries the finding (a finding must sit on an object):
 * - `network-namespace-not-isolated` on the Namespace object, when it is in
 *   scope (always, in the cluster): one finding per namespace that has
 *   workloads and lacks a default-deny ingress policy, listing the workloads
 *   left unselected. A namespace without workloads has nothing to expose and
 *   is not reported (CIS 5.3.2 asks for policies everywhere; the finding
 *   appears as soon as the first workload lands).
 * - `network-workload-not-isolated` on each unselected top-level workload,
 *   only when its Namespace object is NOT in scope (a CLI scan of app
 *   manifests). The two never both report the same namespace.
 *
 * "Selected" means some NetworkPolicy of the namespace with Ingress in its
 * policyTypes (the default) has a podSelector matching the pod template's
 * labels; an empty podSelector (default deny) selects all. A selecting policy
 * with an ingress rule admitting every source on every port (`ingress: [{}]`)
 * isolates nothing: allowed traffic is the union over all selecting policies,
 * so such pods count as not isolated. Pods owned by a
 * controller in scope are represented by that controller. Only Kubernetes
 * NetworkPolicy is understood: CNI-specific policies (CiliumNetworkPolicy,
 * Calico GlobalNetworkPolicy) are not, so clusters relying on them should
 * disable these rules.
 */
import { WORKLOAD_KINDS } from '../../engine/podspec.ts';
import type { KubeObject, Rule } from '../../engine/types.ts';
import {
  EXCLUDE_NAMESPACES_PARAM,
  allowAllIngressPolicyFor,
  type PolicyView,
  describeNamespace,
  describeWorkload,
  ingressPolicyFor,
  isTopLevel,
  listShort,
  nameOf,
  namespaceExcluded,
  networkPolicies,
  nsOf,
  podLabels,
  topLevelWorkloads,
} from './_net.ts';

const RATIONALE =
  'Without a NetworkPolicy selecting them, pods accept connections from every other pod in the cluster: one compromised workload can reach databases, admin endpoints and internal APIs of every namespace. A default-deny ingress policy per namespace makes every allowed flow explicit.';
const REMEDIATION =
  'Add a default-deny ingress NetworkPolicy to the namespace (podSelector: {}, policyTypes: [Ingress]) and one policy per workload allowing only its expected clients and ports; make sure the CNI plugin enforces NetworkPolicy.';

function allowAllRulePath(p: PolicyView): string {
  return `spec.ingress[${String(p.allowAllIngressRule ?? 0)}] admits every source on every port`;
}

export const namespaceNotIsolated: Rule = {
  id: 'network-namespace-not-isolated',
  title: 'Namespace has workloads that no NetworkPolicy selects',
  severity: 'medium',
  category: 'network',
  controls: ['CIS:5.3.2', 'NSA:Network policies'],
  rationale: RATIONALE,
  remediation: REMEDIATION,
  kinds: ['Namespace'],
  profiles: ['recommended'],
  params: [EXCLUDE_NAMESPACES_PARAM],
  check(obj, ctx) {
    const ns = nameOf(obj);
    if (!ns || namespaceExcluded(ns, ctx.params)) return [];
    const workloads = topLevelWorkloads(ctx.index, ns);
    if (workloads.length === 0) return [];
    const policies = networkPolicies(ctx.index, ns);
    const open = workloads.filter((w) => !ingressPolicyFor(podLabels(w), policies));
    if (open.length === 0) return [];
    const opener = open
      .map((w) => allowAllIngressPolicyFor(podLabels(w), policies))
      .find((p) => p !== undefined);
    const why =
      policies.length === 0
        ? 'has no NetworkPolicy at all'
        : opener
          ? `has NetworkPolicy "${opener.name}" allowing all ingress (${allowAllRulePath(opener)})`
          : 'has no default-deny ingress NetworkPolicy (podSelector: {} with Ingress)';
    return [
      {
        message: `namespace ${why}; ${open.length} of ${workloads.length} workload(s) accept traffic from any pod: ${listShort(open.map(describeWorkload))}`,
      },
    ];
  },
};

export const workloadNotIsolated: Rule = {
  id: 'network-workload-not-isolated',
  title: 'Workload is selected by no NetworkPolicy',
  severity: 'medium',
  category: 'network',
  controls: ['CIS:5.3.2', 'NSA:Network policies'],
  rationale: `${RATIONALE} This finding sits on the workload because its Namespace object is not in the scanned set; with the Namespace in scope the finding moves to it (network-namespace-not-isolated).`,
  remediation: REMEDIATION,
  kinds: WORKLOAD_KINDS,
  profiles: ['recommended'],
  params: [EXCLUDE_NAMESPACES_PARAM],
  check(obj: KubeObject, ctx) {
    const ns = nsOf(obj);
    if (namespaceExcluded(ns, ctx.params)) return [];
    if (ns !== '' && ctx.index.get('Namespace', '', ns)) return [];
    if (!isTopLevel(obj, ctx.index)) return [];
    const labels = podLabels(obj);
    const policies = networkPolicies(ctx.index, ns);
    if (ingressPolicyFor(labels, policies)) return [];
    const shown = Object.entries(labels)
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    const opener = allowAllIngressPolicyFor(labels, policies);
    if (opener)
      return [
        {
          message: `NetworkPolicy "${opener.name}" in ${describeNamespace(ns)} selects this workload's pods (labels ${shown || 'none'}) but allows all ingress (${allowAllRulePath(opener)}), so they accept traffic from any pod`,
        },
      ];
    return [
      {
        message: `no NetworkPolicy in ${describeNamespace(ns)} selects this workload's pods (labels ${shown || 'none'}) for Ingress, and the namespace has no default-deny policy`,
      },
    ];
  },
};
