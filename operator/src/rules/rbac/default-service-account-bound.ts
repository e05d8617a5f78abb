/**
 * A binding that names a namespace's `default` service account (CIS 5.1.5).
 * Every pod of that namespace that does not set serviceAccountName runs as
 * `default`, so the grant reaches all of them. Medium; high when the role
 * includes a dangerous capability (secrets, exec, pod creation, escalation,
 * token creation, or everything).
 */
import type { Rule } from '../../engine/types.ts';
import { BINDING_KINDS } from './_grant-rule.ts';
import {
  PLATFORM_PREFIXES_PARAM,
  dangerousCapabilities,
  describeRole,
  describeWhere,
  describeSubjects,
  grantees,
  parseBinding,
  platformPrefixes,
  resolveRoleRef,
} from './_rbac.ts';

export const defaultServiceAccountBound: Rule = {
  id: 'rbac-default-service-account-bound',
  title: 'RBAC binding grants permissions to a default service account',
  severity: 'high',
  category: 'rbac',
  controls: ['CIS:5.1.5', 'NSA:Role-based access control'],
  rationale:
    'The default service account is used by every pod in its namespace that does not name another one. Permissions bound to it are therefore held by all those pods, including ones added later by people who never asked for API access, and by anyone who compromises any of them.',
  remediation:
    'Create a dedicated ServiceAccount for the workload that needs these permissions, bind the role to it, set serviceAccountName in that workload, and remove the default account from the binding.',
  kinds: BINDING_KINDS,
  profiles: ['recommended'],
  params: [PLATFORM_PREFIXES_PARAM],
  check(obj, ctx) {
    const b = parseBinding(obj);
    if (!b) return [];
    const defaults = grantees(b, platformPrefixes(ctx.params)).filter(
      (s) => s.kind === 'ServiceAccount' && s.name === 'default',
    );
    if (defaults.length === 0) return [];
    const role = resolveRoleRef(b, ctx.index);
    const caps = role.source === 'unresolved' ? [] : dangerousCapabilities(role.rules, b.scope);
    const where = describeWhere(b);
    const extra = caps.length > 0 ? `, including ${caps.map((c) => c.label).join(', ')}` : '';
    return [
      {
        message: `grants ${describeRole(role)} ${where} to ${describeSubjects(defaults)}${extra}; every pod without its own service account gets it`,
        severity: caps.length > 0 ? 'high' : 'medium',
      },
    ];
  },
};
