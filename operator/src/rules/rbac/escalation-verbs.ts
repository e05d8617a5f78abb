/**
 * escalate, bind and impersonate (CIS 5.1.8): the verbs that step around RBAC's
 * own escalation check. Impersonating arbitrary users or groups cluster-wide
 * (system:masters included) is critical; escalate/bind on roles and
 * impersonating service accounts are high cluster-wide, medium in a namespace.
 */
import { severityRank, type Severity } from '../../engine/types.ts';
import { gradedSeverity, grantRule } from './_grant-rule.ts';
import {
  CAP_ESCALATE_BIND,
  CAP_IMPERSONATE_IDENTITY,
  CAP_IMPERSONATE_SA,
  describeGrant,
  findGrant,
} from './_rbac.ts';

export const escalationVerbs = grantRule({
  id: 'rbac-escalate-bind-impersonate',
  title: 'RBAC grants escalate, bind or impersonate',
  severity: 'critical',
  category: 'rbac',
  controls: ['CIS:5.1.8', 'NSA:Role-based access control'],
  rationale:
    'RBAC stops subjects from granting permissions they do not hold, except for these verbs: escalate lets a subject edit roles beyond its own rights, bind lets it bind any role, impersonate lets it act as another user, group or service account. Impersonating the system:masters group is full cluster-admin.',
  remediation:
    'Remove escalate, bind and impersonate (and "*" verbs on roles, clusterroles, users, groups and serviceaccounts); if a controller must create bindings, restrict bind to the named roles with resourceNames.',
  profiles: ['recommended'],
  detect(rules, g) {
    const parts: string[] = [];
    let severity: Severity | undefined;
    const raise = (s: Severity): void => {
      if (!severity || severityRank(s) > severityRank(severity)) severity = s;
    };
    const identity = findGrant(rules, CAP_IMPERSONATE_IDENTITY, g.scope);
    if (identity) {
      parts.push(describeGrant(identity));
      raise(gradedSeverity(g, ['critical', 'critical', 'medium', 'medium']));
    }
    for (const q of [CAP_ESCALATE_BIND, CAP_IMPERSONATE_SA]) {
      const grant = findGrant(rules, q, g.scope);
      if (!grant) continue;
      parts.push(describeGrant(grant));
      raise(gradedSeverity(g, ['high', 'medium', 'medium', 'low']));
    }
    if (!severity) return undefined;
    return { text: parts.join('; '), severity };
  },
});
