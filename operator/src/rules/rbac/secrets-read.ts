/**
 * get/list/watch on Secrets (CIS 5.1.2). list and watch return every secret's
 * data, not just names. Cluster-wide (or in kube-system) is high: service
 * account tokens, bootstrap tokens and TLS keys of every namespace. Grants
 * restricted by resourceNames are least privilege and not reported.
 */
import { gradedSeverity, grantRule } from './_grant-rule.ts';
import { CAP_SECRETS_READ, describeGrant, findGrant } from './_rbac.ts';

export const secretsRead = grantRule({
  id: 'rbac-secrets-read',
  title: 'RBAC grants read access to Secrets',
  severity: 'high',
  category: 'rbac',
  controls: ['CIS:5.1.2', 'NSA:Role-based access control', 'MITRE:T1552.007'],
  rationale:
    'Reading Secrets yields credentials: API tokens of service accounts, registry and database passwords, TLS keys. list and watch return the data of every Secret in scope, so a grant meant for one secret exposes all of them; cluster-wide it usually leads to cluster-admin through a privileged service account token.',
  remediation:
    'Remove get/list/watch on secrets, or restrict the rule to the named secrets the workload needs with resourceNames and bind it with a RoleBinding in that namespace only; mount secrets into pods instead of reading them through the API.',
  profiles: ['recommended'],
  detect(rules, g) {
    const grant = findGrant(rules, CAP_SECRETS_READ, g.scope);
    if (!grant) return undefined;
    return { text: describeGrant(grant), severity: gradedSeverity(g, ['high', 'medium', 'medium', 'low']) };
  },
});
