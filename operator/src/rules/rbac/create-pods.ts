/**
 * create on pods or pod-creating workloads (CIS 5.1.4). Whoever creates a pod
 * chooses its service account and volumes, so they hold every token and secret
 * of the namespace. Cluster-wide that includes kube-system: high. In one
 * namespace it is how deployment pipelines work, so it is graded low.
 */
import { gradedSeverity, grantRule } from './_grant-rule.ts';
import { CAP_CREATE_PODS, describeGrant, findGrant } from './_rbac.ts';

export const createPods = grantRule({
  id: 'rbac-create-pods',
  title: 'RBAC grants creation of pods or workloads',
  severity: 'high',
  category: 'rbac',
  controls: ['CIS:5.1.4', 'NSA:Role-based access control', 'MITRE:T1610'],
  rationale:
    "Creating a pod (directly or through a Deployment, Job, DaemonSet …) lets the creator pick any service account and mount any Secret of the namespace, so it escalates to the namespace's most privileged credentials; unless Pod Security admission blocks it, also to privileged or hostPath pods that own the node.",
  remediation:
    'Grant create on pods and workload resources only to the deployment pipeline of each namespace through RoleBindings, never cluster-wide; enforce Pod Security Standards (restricted) in those namespaces so created pods cannot escape to the node.',
  profiles: ['recommended'],
  detect(rules, g) {
    const grant = findGrant(rules, CAP_CREATE_PODS, g.scope);
    if (!grant) return undefined;
    return { text: describeGrant(grant), severity: gradedSeverity(g, ['high', 'low', 'low', 'low']) };
  },
});
