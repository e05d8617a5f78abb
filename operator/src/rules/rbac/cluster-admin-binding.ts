/**
 * cluster-admin, or any role with `*` verbs on `*` resources in `*` apiGroups,
 * bound to a subject that is not a Kubernetes component (CIS 5.1.1). Through a
 * ClusterRoleBinding (or a RoleBinding in kube-system) that is the whole
 * cluster: critical. Through a RoleBinding elsewhere it is full control of one
 * namespace, its secrets and role bindings included: high.
 *
 * Not reported: the default `cluster-admin` binding to system:masters (that
 * group bypasses RBAC anyway), and platform bindings (`system:`/`kubeadm:`
 * names) to platform subjects, such as kubeadm's kubeadm:cluster-admins group.
 * Grants to the public groups are reported by rbac-public-group-binding.
 */
import type { Rule } from '../../engine/types.ts';
import { BINDING_KINDS } from './_grant-rule.ts';
import {
  PLATFORM_PREFIXES_PARAM,
  describeRole,
  describeWhere,
  describeSubjects,
  grantees,
  isFullAdmin,
  parseBinding,
  platformPrefixes,
  resolveRoleRef,
} from './_rbac.ts';

export const clusterAdminBinding: Rule = {
  id: 'rbac-cluster-admin-binding',
  title: 'cluster-admin or an equivalent role is bound to a subject',
  severity: 'critical',
  category: 'rbac',
  controls: ['CIS:5.1.1', 'NSA:Role-based access control', 'MITRE:T1078'],
  rationale:
    'cluster-admin (or any role with "*" verbs on "*" resources) can do anything: read every secret, run privileged pods on every node, rewrite RBAC and admission. A stolen credential of such a subject, whether a person, a CI token or an operator\'s service account, is a full cluster compromise.',
  remediation:
    'Bind a role with only the permissions the subject uses (start from view/edit/admin in the namespaces it works in); keep cluster-admin for a break-glass group whose membership is audited. For operators, use the ClusterRole their project publishes instead of cluster-admin.',
  kinds: BINDING_KINDS,
  profiles: ['recommended'],
  params: [PLATFORM_PREFIXES_PARAM],
  check(obj, ctx) {
    const b = parseBinding(obj);
    if (!b) return [];
    const role = resolveRoleRef(b, ctx.index);
    if (!isFullAdmin(role.rules)) return [];
    const who = grantees(b, platformPrefixes(ctx.params));
    if (who.length === 0) return [];
    const clusterWide = b.scope === 'cluster';
    const where = describeWhere(b);
    const what = clusterWide
      ? 'cluster-admin-equivalent rights (all verbs on all resources)'
      : 'all verbs on all resources';
    return [
      {
        message: `grants ${what} ${where} to ${describeSubjects(who)} through ${describeRole(role)}`,
        severity: clusterWide || b.namespace === 'kube-system' ? 'critical' : 'high',
      },
    ];
  },
};
