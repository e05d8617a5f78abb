/**
 * create on serviceaccounts/token (CIS 5.1.13): mints a token for any service
 * account in scope, so the subject holds the union of their permissions.
 */
import { gradedSeverity, grantRule } from './_grant-rule.ts';
import { CAP_TOKEN_CREATE, describeGrant, findGrant } from './_rbac.ts';

export const tokenCreate = grantRule({
  id: 'rbac-service-account-token-create',
  title: 'RBAC grants creation of service account tokens',
  severity: 'high',
  category: 'rbac',
  controls: ['CIS:5.1.13', 'NSA:Role-based access control', 'MITRE:T1528'],
  rationale:
    "The TokenRequest API issues a bearer token for any service account the subject may create tokens for; it then acts with that account's rights. Cluster-wide this includes the controllers in kube-system and any operator bound to cluster-admin.",
  remediation:
    'Remove create on serviceaccounts/token, or restrict it with resourceNames to the one service account that must be impersonated, in its own namespace; let pods receive tokens through projected volumes instead.',
  profiles: ['recommended'],
  detect(rules, g) {
    const grant = findGrant(rules, CAP_TOKEN_CREATE, g.scope);
    if (!grant) return undefined;
    return { text: describeGrant(grant), severity: gradedSeverity(g, ['high', 'medium', 'medium', 'low']) };
  },
});
