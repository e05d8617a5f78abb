/**
 * pods/exec and pods/attach: a shell in any pod in scope, with that pod's
 * service account token, secrets and network position. `get` counts as well as
 * `create`: exec over WebSocket was authorized as get until the
 * AuthorizePodWebsocketUpgradeCreatePermission gate.
 */
import { gradedSeverity, grantRule } from './_grant-rule.ts';
import { CAP_EXEC, describeGrant, findGrant } from './_rbac.ts';

export const podExec = grantRule({
  id: 'rbac-pod-exec-attach',
  title: 'RBAC grants exec or attach into pods',
  severity: 'high',
  category: 'rbac',
  controls: ['NSA:Role-based access control', 'MITRE:T1609'],
  rationale:
    'Exec and attach run commands inside running containers: the subject gets every secret, mounted token and network path of every pod in scope, bypassing whatever the workload itself enforces. Cluster-wide this includes the control plane add-ons in kube-system.',
  remediation:
    'Remove create/get on pods/exec and pods/attach from the role; give break-glass access through a separate, audited role bound only when needed, and use kubectl debug with ephemeral containers in a dedicated namespace for troubleshooting.',
  profiles: ['recommended'],
  detect(rules, g) {
    const grant = findGrant(rules, CAP_EXEC, g.scope);
    if (!grant) return undefined;
    return { text: describeGrant(grant), severity: gradedSeverity(g, ['high', 'medium', 'medium', 'low']) };
  },
});
