/** Detections on RBAC writes: powerful bindings, dangerous roles, system roles changed. */
import { anyGlob } from '../../engine/match.ts';
import { asArray, asObj, asObjArray, asString, asStringArray } from '../../engine/podspec.ts';
import { isControlPlane, resourceLabel, succeeded } from '../event.ts';
import { AUDIT_CATEGORY, type AuditEvent, type AuditRule } from '../types.ts';
import { K8S_RBAC_GOOD, mitreUrl } from './_common.ts';

const RBAC = 'rbac.authorization.k8s.io';
const K8S_RBAC = 'https://kubernetes.io/docs/reference/access-authn-authz/rbac/';

function rbacWrite(ev: AuditEvent, resources: readonly string[], verbs: readonly string[]): boolean {
  return (
    ev.resource.group === RBAC &&
    resources.includes(ev.resource.resource) &&
    ev.resource.subresource === '' &&
    verbs.includes(ev.verb) &&
    succeeded(ev) &&
    !isControlPlane(ev.user)
  );
}

function subjectsOf(body: unknown): string {
  const subs = asObjArray(asObj(body)['subjects']).map((s) => {
    const ns = asString(s['namespace']);
    return `${asString(s['kind']) ?? '?'} ${ns ? `${ns}/` : ''}${asString(s['name']) ?? '?'}`;
  });
  return subs.length > 0 ? subs.join(', ') : 'no subjects';
}

function roleRefOf(ev: AuditEvent): { kind: string; name: string } | undefined {
  const ref = asObj(asObj(ev.requestObject)['roleRef']);
  const name = asString(ref['name']);
  return name === undefined ? undefined : { kind: asString(ref['kind']) ?? '', name };
}

const BINDINGS = ['clusterrolebindings', 'rolebindings'];

export const auditClusterAdminBinding: AuditRule = {
  id: 'audit-cluster-admin-binding',
  title: 'Binding to cluster-admin created',
  severity: 'critical',
  category: AUDIT_CATEGORY,
  mitre: ['T1098'],
  references: [mitreUrl('T1098'), `${K8S_RBAC}#user-facing-roles`],
  rationale:
    'cluster-admin is every permission on every resource. A new binding to it is the classic way to keep or widen access.',
  remediation:
    'Confirm the binding was approved; otherwise delete it and find how the creator was allowed to bind cluster-admin.',
  check(ev) {
    if (!rbacWrite(ev, BINDINGS, ['create', 'update'])) return [];
    const ref = roleRefOf(ev);
    if (ref?.kind !== 'ClusterRole' || ref.name !== 'cluster-admin') return [];
    return [
      { message: `${ev.user} bound cluster-admin to ${subjectsOf(ev.requestObject)} (${resourceLabel(ev)})` },
    ];
  },
};

export const auditPowerfulRoleBinding: AuditRule = {
  id: 'audit-powerful-role-binding',
  title: 'Binding to a powerful role created',
  severity: 'high',
  category: AUDIT_CATEGORY,
  mitre: ['T1098'],
  references: [mitreUrl('T1098'), K8S_RBAC_GOOD],
  rationale:
    "admin, edit and the controllers' roles can read Secrets, create pods or bind roles; a binding to one of them grants most of cluster-admin's power in its scope.",
  remediation:
    'Confirm the binding; prefer narrow, purpose-made roles. spec.audit.powerfulRoles lists the ClusterRoles this rule watches.',
  check(ev, ctx) {
    if (!rbacWrite(ev, BINDINGS, ['create', 'update'])) return [];
    const ref = roleRefOf(ev);
    if (ref?.kind !== 'ClusterRole' || ref.name === 'cluster-admin') return [];
    if (!anyGlob(ctx.settings.powerfulRoles, ref.name)) return [];
    return [
      {
        message: `${ev.user} bound ClusterRole ${ref.name} to ${subjectsOf(ev.requestObject)} (${resourceLabel(ev)})`,
      },
    ];
  },
};

const ROLES = ['clusterroles', 'roles'];

function rulesOf(ev: AuditEvent): { verbs: string[]; resources: string[] }[] {
  return asArray(asObj(ev.requestObject)['rules']).map((r) => ({
    verbs: asStringArray(asObj(r)['verbs']),
    resources: asStringArray(asObj(r)['resources']),
  }));
}

export const auditRoleWildcard: AuditRule = {
  id: 'audit-role-wildcard',
  title: 'Role with wildcard permissions written',
  severity: 'high',
  category: AUDIT_CATEGORY,
  mitre: ['T1098'],
  references: [mitreUrl('T1098'), `${K8S_RBAC_GOOD}#least-privilege`],
  rationale:
    'A "*" verb or resource grants everything, including resources and verbs added later; a role written with one is cluster-admin in waiting.',
  remediation: 'List the verbs and resources the role needs instead of "*".',
  check(ev) {
    if (!rbacWrite(ev, ROLES, ['create', 'update'])) return [];
    const wild = rulesOf(ev).some((r) => r.verbs.includes('*') || r.resources.includes('*'));
    return wild ? [{ message: `${ev.user} wrote ${resourceLabel(ev)} with a "*" verb or resource` }] : [];
  },
};

const ESCALATION = ['escalate', 'bind', 'impersonate'];

export const auditRoleEscalationVerbs: AuditRule = {
  id: 'audit-role-escalation-verbs',
  title: 'Role granting escalate, bind or impersonate written',
  severity: 'high',
  category: AUDIT_CATEGORY,
  mitre: ['T1098'],
  references: [mitreUrl('T1098'), `${K8S_RBAC_GOOD}#escalate-verb`],
  rationale:
    "escalate and bind let a holder grant itself permissions it lacks; impersonate lets it act as anyone. Each bypasses RBAC's escalation check.",
  remediation: 'Remove the verbs, or restrict them with resourceNames to the exact roles or users needed.',
  check(ev) {
    if (!rbacWrite(ev, ROLES, ['create', 'update'])) return [];
    const found = new Set<string>();
    for (const r of rulesOf(ev)) for (const v of r.verbs) if (ESCALATION.includes(v)) found.add(v);
    return found.size > 0
      ? [{ message: `${ev.user} wrote ${resourceLabel(ev)} granting ${[...found].sort().join(', ')}` }]
      : [];
  },
};

export const auditSystemRoleModified: AuditRule = {
  id: 'audit-system-role-modified',
  title: 'Built-in system: role or binding changed',
  severity: 'high',
  category: AUDIT_CATEGORY,
  mitre: ['T1098'],
  references: [mitreUrl('T1098'), `${K8S_RBAC}#default-roles-and-role-bindings`],
  rationale:
    "Roles and bindings named system: belong to the control plane (the API server reconciles them at start). A person changing one is widening a built-in identity's access or hiding a grant among built-ins.",
  remediation:
    'Restore the object (restarting the API server reconciles the defaults) and find out who changed it.',
  check(ev) {
    if (!rbacWrite(ev, [...ROLES, ...BINDINGS], ['update', 'patch', 'delete'])) return [];
    if (!ev.resource.name.startsWith('system:')) return [];
    return [
      {
        message: `${ev.user} ${ev.verb} ${resourceLabel(ev)}`,
        ...(ev.verb === 'delete' ? { severity: 'critical' as const } : {}),
      },
    ];
  },
};
