/**
 * Builds the permission rules (secrets read, exec, wildcards …) that look at the
 * same thing from two sides:
 * - on a RoleBinding/ClusterRoleBinding: what the resolved role actually grants,
 *   to whom (subjects named), and where (cluster-wide or one namespace);
 * - on a Role/ClusterRole: what it would grant, only while no binding in scope
 *   uses it (a latent grant, lower severity), so each grant is reported once;
 *   except a ClusterRole aggregated into the built-in view/edit/admin roles: those
 *   are bound in every cluster, so its grant is live, rated like a namespaced
 *   binding (like a cluster-wide one when folded into view, which is handed out
 *   widely as harmless), naming the roles it is folded into.
 *
 * Bindings to cluster-admin-equivalent roles are left to rbac-cluster-admin-binding
 * and bindings to the built-in admin/edit roles to rbac-broad-builtin-role-binding,
 * which summarise everything those roles include in one finding; grants to the
 * public groups are left to rbac-public-group-binding.
 */
import type { KubeObject, Rule, RuleHit, RuleMeta, Severity } from '../../engine/types.ts';
import { USER_FACING_BROAD_ROLES } from './_builtin-roles.ts';
import {
  PLATFORM_PREFIXES_PARAM,
  aggregatedIntoBuiltin,
  describeRole,
  describeWhere,
  describeSubjects,
  grantees,
  isBound,
  isFullAdmin,
  isPlatformRole,
  parseBinding,
  platformPrefixes,
  resolveRoleRef,
  rulesOfRoleObject,
  type PolicyRule,
  type Scope,
} from './_rbac.ts';

export const RBAC_KINDS = ['Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding'] as const;
export const BINDING_KINDS = ['RoleBinding', 'ClusterRoleBinding'] as const;

export interface GrantContext {
  /** Where the grant applies: cluster-scoped resources only count at 'cluster'. */
  scope: Scope;
  /** 'binding' (actually granted) or 'role' (latent). */
  on: 'binding' | 'role';
  /**
   * Scope to grade severity by: a RoleBinding in kube-system counts as
   * cluster-wide, since that namespace holds the control plane's credentials.
   */
  severityScope: Scope;
}

export interface Detection {
  /** e.g. `get/list/watch on secrets`. */
  text: string;
  severity: Severity;
  controls?: string[];
}

export interface GrantRuleSpec extends Omit<RuleMeta, 'kinds' | 'params'> {
  detect: (rules: readonly PolicyRule[], g: GrantContext) => Detection | undefined;
  /** Report unbound roles that grant everything (the wildcard rule does; the others leave it to it). */
  reportFullAdminRoles?: boolean;
}

/** Severity by where the grant lands: [cluster-wide binding, namespaced binding, unbound ClusterRole, unbound Role]. */
export function gradedSeverity(
  g: GrantContext,
  table: readonly [Severity, Severity, Severity, Severity],
): Severity {
  if (g.on === 'binding') return g.severityScope === 'cluster' ? table[0] : table[1];
  return g.scope === 'cluster' ? table[2] : table[3];
}

export function grantRule(spec: GrantRuleSpec): Rule {
  const { detect, reportFullAdminRoles, ...meta } = spec;
  return {
    ...meta,
    kinds: RBAC_KINDS,
    params: [PLATFORM_PREFIXES_PARAM],
    check(obj: KubeObject, ctx): RuleHit[] {
      const prefixes = platformPrefixes(ctx.params);
      const b = parseBinding(obj);
      if (b) {
        const role = resolveRoleRef(b, ctx.index);
        if (role.source === 'unresolved') return [];
        if (role.kind === 'ClusterRole' && USER_FACING_BROAD_ROLES.has(role.name)) return [];
        if (isFullAdmin(role.rules)) return [];
        const who = grantees(b, prefixes);
        if (who.length === 0) return [];
        const severityScope: Scope =
          b.scope === 'cluster' || b.namespace === 'kube-system' ? 'cluster' : 'namespace';
        const d = detect(role.rules, { scope: b.scope, on: 'binding', severityScope });
        if (!d) return [];
        const where = describeWhere(b);
        return [
          {
            message: `grants ${d.text} ${where} to ${describeSubjects(who)} through ${describeRole(role)}`,
            severity: d.severity,
            ...(d.controls ? { controls: d.controls } : {}),
          },
        ];
      }
      if (obj.kind !== 'Role' && obj.kind !== 'ClusterRole') return [];
      if (isPlatformRole(obj, prefixes) || isBound(obj, ctx.index)) return [];
      const role = rulesOfRoleObject(obj, ctx.index);
      if (!reportFullAdminRoles && isFullAdmin(role.rules)) return [];
      const into = aggregatedIntoBuiltin(obj);
      if (into.roles.length > 0) {
        // Live: the aggregation controller folds it into view/edit/admin, which are bound in
        // every cluster, edit/admin typically per namespace; view is handed out widely, often
        // cluster-wide, as the harmless role, so a grant folded into it is rated cluster-wide.
        const severityScope: Scope = into.roles.includes('view') ? 'cluster' : 'namespace';
        const d = detect(role.rules, { scope: 'cluster', on: 'binding', severityScope });
        if (!d) return [];
        return [
          {
            message: `ClusterRole grants ${d.text} and is aggregated into the built-in ${into.roles.map((n) => `"${n}"`).join(', ')} (label ${into.labels.join(', ')}=true), so everyone bound to them gets it`,
            severity: d.severity,
            ...(d.controls ? { controls: d.controls } : {}),
          },
        ];
      }
      const scope: Scope = obj.kind === 'ClusterRole' ? 'cluster' : 'namespace';
      const d = detect(role.rules, { scope, on: 'role', severityScope: scope });
      if (!d) return [];
      const agg =
        role.aggregated.length > 0
          ? ` (with aggregated ${role.aggregated.map((n) => `"${n}"`).join(', ')})`
          : '';
      return [
        {
          message: `${obj.kind} grants ${d.text}${agg}; no binding in scope uses it yet, so the grant is latent`,
          severity: d.severity,
          ...(d.controls ? { controls: d.controls } : {}),
        },
      ];
    },
  };
}
