/**
 * Bindings to the built-in user-facing roles `admin` and `edit`. Both include
 * reading Secrets, exec into pods, creating pods, impersonating service
 * accounts and minting their tokens (and admin manages RoleBindings). One
 * finding per binding lists all of it, instead of one per capability from the
 * permission rules, which skip these roles.
 *
 * Cluster-wide (ClusterRoleBinding, or a RoleBinding in kube-system) this is
 * every namespace's secrets and pods: high. Inside one namespace it is the
 * documented way to delegate that namespace, so it is reported as low: a
 * reminder of what the grant contains, not a misconfiguration.
 */
import type { Rule } from '../../engine/types.ts';
import { USER_FACING_BROAD_ROLES } from './_builtin-roles.ts';
import { BINDING_KINDS } from './_grant-rule.ts';
import {
  PLATFORM_PREFIXES_PARAM,
  dangerousCapabilities,
  describeRole,
  describeWhere,
  describeSubjects,
  grantees,
  isFullAdmin,
  parseBinding,
  platformPrefixes,
  resolveRoleRef,
} from './_rbac.ts';

export const broadBuiltinRoleBinding: Rule = {
  id: 'rbac-broad-builtin-role-binding',
  title: 'Built-in admin or edit role is bound to a subject',
  severity: 'high',
  category: 'rbac',
  controls: ['NSA:Role-based access control'],
  rationale:
    'The built-in edit and admin roles look like "developer access" but include reading every Secret, exec into every pod, creating pods with any service account, impersonating service accounts and creating their tokens. Bound cluster-wide they reach kube-system and every tenant; in one namespace they hand out all of that namespace\'s credentials.',
  remediation:
    'Bind admin/edit with RoleBindings in the namespaces a team owns, never with a ClusterRoleBinding; for read-mostly access use view, and for deploy pipelines a custom role without secrets read, exec and token creation.',
  kinds: BINDING_KINDS,
  profiles: ['recommended'],
  params: [PLATFORM_PREFIXES_PARAM],
  check(obj, ctx) {
    const b = parseBinding(obj);
    if (!b || b.roleRef.kind !== 'ClusterRole' || !USER_FACING_BROAD_ROLES.has(b.roleRef.name)) return [];
    const role = resolveRoleRef(b, ctx.index);
    if (role.source === 'unresolved' || isFullAdmin(role.rules)) return [];
    const who = grantees(b, platformPrefixes(ctx.params));
    if (who.length === 0) return [];
    const caps = dangerousCapabilities(role.rules, b.scope);
    if (caps.length === 0) return [];
    const clusterWide = b.scope === 'cluster' || b.namespace === 'kube-system';
    const where = describeWhere(b);
    return [
      {
        message: `grants ${describeRole(role)} ${where} to ${describeSubjects(who)}; it includes: ${caps.map((c) => c.label).join(', ')}`,
        severity: clusterWide ? 'high' : 'low',
        controls: [...new Set(caps.flatMap((c) => c.controls))],
      },
    ];
  },
};
