/**
 * Bindings whose role is neither in scope nor a well-known built-in role, and
 * aggregated ClusterRoles whose selectors match nothing in scope: their
 * permissions were not evaluated. In a partial CLI scan that is expected (info,
 * `all` only); in a cluster it means a dangling binding that springs to life
 * when someone creates a role of that name.
 */
import type { Rule } from '../../engine/types.ts';
import { asObj, asString } from '../../engine/podspec.ts';
import { describeNamespace, describeRole, parseBinding, resolveRoleRef, rulesOfRoleObject } from './_rbac.ts';

export const roleRefUnresolved: Rule = {
  id: 'rbac-role-ref-unresolved',
  title: 'RBAC role could not be resolved; its permissions were not evaluated',
  severity: 'info',
  category: 'rbac',
  controls: ['NSA:Role-based access control'],
  rationale:
    'Vigil judges a binding by the permissions of its role. When the role is not in the scanned set and not a well-known built-in role, those checks cannot run; in a live cluster a binding to a missing role is dormant and activates as soon as a role with that name is created.',
  remediation:
    'Scan the role together with its bindings (pass all manifests to vigil scan), or delete bindings whose role no longer exists.',
  kinds: ['RoleBinding', 'ClusterRoleBinding', 'ClusterRole'],
  profiles: [],
  check(obj, ctx) {
    const b = parseBinding(obj);
    if (b) {
      const role = resolveRoleRef(b, ctx.index);
      if (role.source !== 'unresolved') return [];
      const where = role.kind === 'Role' ? ` in ${describeNamespace(b.namespace)}` : '';
      return [
        {
          message: `roleRef ${role.kind} "${role.name}"${where} is not in scope and not a known built-in role`,
        },
      ];
    }
    if (obj.kind !== 'ClusterRole') return [];
    const role = rulesOfRoleObject(obj, ctx.index);
    if (!role.note) return [];
    const name = asString(asObj(obj.metadata)['name']) ?? '';
    return [{ message: `${describeRole({ ...role, name })}: ${role.note}` }];
  },
};
