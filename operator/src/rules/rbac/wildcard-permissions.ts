/**
 * Wildcards in verbs, resources or apiGroups (CIS 5.1.3). `*` verbs on `*`
 * resources is full control of the scope (high when bound cluster-wide); a
 * single wildcard field is graded lower. Unbound roles that grant everything are
 * reported here (the other permission rules leave full-admin roles to this one
 * and bound full-admin roles to rbac-cluster-admin-binding).
 */
import { gradedSeverity, grantRule } from './_grant-rule.ts';
import { wildcardUse } from './_rbac.ts';

export const wildcardPermissions = grantRule({
  id: 'rbac-wildcard-permissions',
  title: 'RBAC grants wildcard verbs, resources or API groups',
  severity: 'high',
  category: 'rbac',
  controls: ['CIS:5.1.3', 'NSA:Role-based access control'],
  rationale:
    'A "*" covers every verb, resource or API group that exists today and every one added later (new CRDs, subresources such as pods/exec or serviceaccounts/token), so the grant silently grows with the cluster. "*" verbs on "*" resources is full control of the namespace or cluster, including secrets and role bindings.',
  remediation:
    'Replace each "*" with the explicit apiGroups, resources and verbs the subject uses (kubectl auth can-i --list --as=<subject>, or the audit log, shows what is needed), and split broad roles per task.',
  profiles: ['recommended'],
  reportFullAdminRoles: true,
  detect(rules, g) {
    const w = wildcardUse(rules);
    if (!w) return undefined;
    const severity = w.verbsAndResources
      ? gradedSeverity(g, ['high', 'medium', 'medium', 'low'])
      : gradedSeverity(g, ['medium', 'low', 'low', 'low']);
    return { text: `wildcards (${w.places.join('; ')})`, severity };
  },
});
