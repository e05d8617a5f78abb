/**
 * Bindings to system:anonymous, system:unauthenticated, system:authenticated or
 * system:serviceaccounts. system:authenticated is every user and every service
 * account of the cluster (and, on some managed platforms, any account of the cloud
 * provider); system:serviceaccounts is every service account, i.e. the token of any
 * pod: both are as public as it gets short of anonymous, and rated the same.
 *
 * Severity follows what the role hands out (resolved from scope or the built-in
 * table): anything beyond discovery to the anonymous/unauthenticated subjects
 * is critical; to system:authenticated or system:serviceaccounts reads are high,
 * writes or dangerous capabilities critical; a role that only allows discovery (non-resource GETs
 * such as /healthz, self access reviews) is medium, since Kubernetes already
 * grants exactly that by default.
 *
 * Kubernetes' own bindings (platform prefixes, e.g. system:public-info-viewer,
 * system:discovery, kubeadm:bootstrap-signer-clusterinfo) are not reported
 * while they grant only discovery or named reads; if they are changed to grant
 * more they are.
 */
import type { Rule, Severity } from '../../engine/types.ts';
import { BINDING_KINDS } from './_grant-rule.ts';
import {
  PLATFORM_PREFIXES_PARAM,
  dangerousCapabilities,
  describeRole,
  describeWhere,
  describeSubjects,
  grantLevel,
  isAnonymousSubject,
  isPlatformBinding,
  isPublicSubject,
  parseBinding,
  platformPrefixes,
  resolveRoleRef,
  type GrantLevel,
} from './_rbac.ts';

const LEVEL_TEXT: Record<GrantLevel, string> = {
  none: 'nothing',
  discovery: 'discovery only (non-resource GETs, self access reviews, public CA bundles)',
  'named-read': 'read access to named objects',
  read: 'read access to resources',
  write: 'write access to resources',
  dangerous: 'dangerous permissions',
};

export const publicGroupBinding: Rule = {
  id: 'rbac-public-group-binding',
  title: 'RBAC binding grants to anonymous users, all authenticated users or all service accounts',
  severity: 'critical',
  category: 'rbac',
  controls: ['NSA:Authentication', 'NSA:Role-based access control', 'MITRE:T1078'],
  rationale:
    'system:anonymous and system:unauthenticated are anyone who can reach the API server; system:authenticated is every user and every service account token, and system:serviceaccounts every service account token, including those of any compromised pod. A grant to them is a grant to an attacker with network access or the weakest workload in the cluster.',
  remediation:
    'Remove these subjects from the binding and bind the role to the specific users, groups or service accounts that need it; keep anonymous authentication disabled (--anonymous-auth=false) or limited to health endpoints.',
  kinds: BINDING_KINDS,
  profiles: ['recommended'],
  params: [PLATFORM_PREFIXES_PARAM],
  check(obj, ctx) {
    const b = parseBinding(obj);
    if (!b) return [];
    const pubs = b.subjects.filter(isPublicSubject);
    if (pubs.length === 0) return [];
    const role = resolveRoleRef(b, ctx.index);
    const level = role.source === 'unresolved' ? undefined : grantLevel(role.rules, b.scope);
    if (level === 'none') return [];
    const platform = isPlatformBinding(b, platformPrefixes(ctx.params));
    if (platform && (level === undefined || level === 'discovery' || level === 'named-read')) return [];
    const anonymous = pubs.some(isAnonymousSubject);
    let severity: Severity;
    if (level === undefined) severity = anonymous ? 'critical' : 'high';
    else if (level === 'discovery') severity = 'medium';
    else if (anonymous || level === 'write' || level === 'dangerous') severity = 'critical';
    else severity = 'high';
    const caps = role.source === 'unresolved' ? [] : dangerousCapabilities(role.rules, b.scope);
    const what =
      level === undefined
        ? 'permissions that could not be resolved (role not in scope)'
        : caps.length > 0
          ? caps.map((c) => c.label).join(', ')
          : LEVEL_TEXT[level];
    const who = anonymous
      ? 'anyone who can reach the API server'
      : pubs.some((s) => s.name === 'system:authenticated')
        ? 'every authenticated user and service account'
        : 'every service account of the cluster (the token of any pod)';
    const where = describeWhere(b);
    return [
      {
        message: `binds ${describeRole(role)} ${where} to ${describeSubjects(pubs)}, so ${who} gets ${what}`,
        severity,
      },
    ];
  },
};
