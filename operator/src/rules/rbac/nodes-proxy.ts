/**
 * nodes/proxy (CIS 5.1.10): requests relayed to the kubelet API, which can exec
 * into any pod on the node and is not subject to the API server's audit of the
 * pod. Nodes are cluster-scoped, so only ClusterRoleBindings grant it.
 */
import { gradedSeverity, grantRule } from './_grant-rule.ts';
import { CAP_NODES_PROXY, describeGrant, findGrant } from './_rbac.ts';

export const nodesProxy = grantRule({
  id: 'rbac-nodes-proxy',
  title: 'RBAC grants access to the nodes/proxy subresource',
  severity: 'high',
  category: 'rbac',
  controls: ['CIS:5.1.10', 'NSA:Role-based access control'],
  rationale:
    "nodes/proxy forwards requests to the kubelet API of every node. The kubelet's /exec, /run and /pods endpoints give command execution in any pod on any node, and the API server records only a proxy request, not which pod was entered.",
  remediation:
    'Remove nodes/proxy (and the proxy verb on nodes) from the role; monitoring agents need only nodes/metrics and nodes/stats, which can be granted explicitly.',
  profiles: ['recommended'],
  detect(rules, g) {
    const grant = findGrant(rules, CAP_NODES_PROXY, g.scope);
    if (!grant) return undefined;
    return { text: describeGrant(grant), severity: gradedSeverity(g, ['high', 'high', 'medium', 'medium']) };
  },
});
