/** Detections on who is calling: anonymous access, impersonation, stolen tokens, probing, unapproved changes. */
import { isControlPlane, isWrite, resourceLabel, succeeded } from '../event.ts';
import { AUDIT_CATEGORY, type AuditEvent, type AuditRule } from '../types.ts';
import { K8S_AUDIT, ipInCidrs, matchesAny, mitreUrl } from './_common.ts';

const HEALTH = /^\/(healthz|livez|readyz|version)(\/[^?]*)?\/?(\?.*)?$/;

function anonymous(ev: AuditEvent): boolean {
  return ev.user === 'system:anonymous' || ev.groups.includes('system:unauthenticated');
}

export const auditAnonymousAllowed: AuditRule = {
  id: 'audit-anonymous-allowed',
  title: 'Anonymous request allowed',
  severity: 'high',
  category: AUDIT_CATEGORY,
  mitre: ['T1078'],
  references: [
    mitreUrl('T1078'),
    'https://kubernetes.io/docs/reference/access-authn-authz/authentication/#anonymous-requests',
  ],
  rationale:
    'An unauthenticated caller got an answer from something other than the health and version endpoints: a binding grants system:anonymous or system:unauthenticated more than it should, and anyone who reaches the API server has it.',
  remediation:
    'Remove every RoleBinding and ClusterRoleBinding to system:anonymous or system:unauthenticated (vigil scan reports them), or run the API server with --anonymous-auth=false or an AuthenticationConfiguration limiting anonymous access to health endpoints.',
  check(ev) {
    if (!anonymous(ev)) return [];
    const allowed = ev.annotations['authorization.k8s.io/decision'] === 'allow' || succeeded(ev);
    if (!allowed || HEALTH.test(ev.requestURI)) return [];
    return [
      {
        message: `anonymous ${ev.verb} ${ev.requestURI || resourceLabel(ev)} was allowed`,
        ...(isWrite(ev) ? { severity: 'critical' as const } : {}),
      },
    ];
  },
};

export const auditImpersonation: AuditRule = {
  id: 'audit-impersonation',
  title: 'Request made by impersonation',
  severity: 'high',
  category: AUDIT_CATEGORY,
  mitre: ['T1078'],
  references: [
    mitreUrl('T1078'),
    'https://kubernetes.io/docs/reference/access-authn-authz/authentication/#user-impersonation',
  ],
  rationale:
    'Impersonation lets a caller act as another user, group or ServiceAccount. It is rare in normal operation; when it is used, the real actor is only visible in the audit log.',
  remediation:
    'Confirm the impersonation was intended. Restrict the impersonate verb to named users and groups (resourceNames) and to the few tools that need it.',
  check(ev) {
    if (ev.impersonatedUser === undefined || !succeeded(ev)) return [];
    return [
      {
        message: `${ev.user} acted as ${ev.impersonatedUser}: ${ev.verb} ${resourceLabel(ev) || ev.requestURI}`,
      },
    ];
  },
};

export const auditSaTokenForeignIp: AuditRule = {
  id: 'audit-sa-token-foreign-ip',
  title: 'ServiceAccount token used from outside the cluster',
  severity: 'high',
  category: AUDIT_CATEGORY,
  mitre: ['T1078', 'T1528'],
  references: [
    mitreUrl('T1078'),
    mitreUrl('T1528'),
    'https://kubernetes.io/docs/concepts/security/service-accounts/',
  ],
  rationale:
    'ServiceAccount tokens are meant for pods. A request with one from an address outside the pod and node networks usually means the token was copied out of the cluster.',
  remediation:
    'Rotate the token (delete the Secret or the pod holding it), find how it leaked, and bind tokens to pods (projected, short-lived tokens). Set spec.audit.clusterCIDRs to the pod, node and load-balancer networks.',
  check(ev, ctx) {
    const cidrs = ctx.settings.clusterCIDRs;
    if (cidrs.length === 0 || !ev.user.startsWith('system:serviceaccount:')) return [];
    const foreign = ev.sourceIPs.filter((ip) => !ipInCidrs(ip, cidrs));
    if (foreign.length === 0) return [];
    return [{ message: `${ev.user} used from ${foreign.join(', ')}, outside ${cidrs.join(', ')}` }];
  },
};

interface BurstState {
  times: number[];
  inBurst: boolean;
}

/** At most this many identities are tracked; the least recently denied is forgotten first. */
export const MAX_TRACKED_IDENTITIES = 10_000;

export const auditDeniedBurst: AuditRule = {
  id: 'audit-denied-burst',
  title: 'Burst of denied requests from one identity',
  severity: 'medium',
  category: AUDIT_CATEGORY,
  mitre: ['T1613'],
  references: [mitreUrl('T1613'), K8S_AUDIT],
  rationale:
    'Many 403 answers in a short time from one identity is how probing with stolen credentials looks: the caller is discovering what it may do (or running kubectl auth can-i in a loop).',
  remediation:
    "Find the identity's source (sourceIPs), confirm whether it is a misconfigured tool or an attacker, and revoke its credentials if unexplained. Tune spec.audit.deniedBurst for your noise level.",
  check(ev, ctx) {
    if (ev.code !== 403 || Number.isNaN(ev.timeMs)) return [];
    const { threshold, windowSeconds } = ctx.settings.deniedBurst;
    const key = ev.user;
    let state = ctx.state.get(key) as BurstState | undefined;
    ctx.state.delete(key);
    state ??= { times: [], inBurst: false };
    ctx.state.set(key, state); // re-inserted: Map order is least recently denied first
    if (ctx.state.size > MAX_TRACKED_IDENTITIES) {
      const oldest = ctx.state.keys().next().value;
      if (oldest !== undefined) ctx.state.delete(oldest);
    }
    const from = ev.timeMs - windowSeconds * 1000;
    state.times = state.times.filter((t) => t > from);
    if (state.times.length === 0) state.inBurst = false;
    state.times.push(ev.timeMs);
    if (state.times.length > threshold) state.times.shift();
    if (state.inBurst || state.times.length < threshold) return [];
    state.inBurst = true;
    return [
      {
        message: `${ev.user} was denied ${threshold} requests within ${windowSeconds}s (last: ${ev.verb} ${resourceLabel(ev) || ev.requestURI})`,
      },
    ];
  },
};

const NOT_CHANGES = new Set([
  'events',
  'leases',
  'tokenreviews',
  'subjectaccessreviews',
  'selfsubjectaccessreviews',
  'selfsubjectrulesreviews',
  'localsubjectaccessreviews',
  'selfsubjectreviews',
]);

/** Subresources whose writes are not changes to desired state (sessions, reports, tokens). */
const NOT_CHANGE_SUBRESOURCES = new Set([
  'status',
  'token',
  'exec',
  'attach',
  'portforward',
  'proxy',
  'approval',
]);

export const auditUnapprovedChange: AuditRule = {
  id: 'audit-unapproved-change',
  title: 'Change made outside the approved pipeline',
  severity: 'medium',
  category: AUDIT_CATEGORY,
  mitre: ['T1078'],
  references: [mitreUrl('T1078'), K8S_AUDIT],
  rationale:
    'When changes are meant to go through a deployment pipeline (GitOps, CI), a write by any other identity is drift at best and an intrusion at worst. Unlike field managers, the audit log names the real user.',
  remediation:
    'Revert the change through the pipeline and find out who made it. List the pipeline and operator identities in spec.audit.approvedChangers (globs); the rule is off while that list is empty.',
  check(ev, ctx) {
    const approved = ctx.settings.approvedChangers;
    if (approved.length === 0 || !isWrite(ev) || !succeeded(ev)) return [];
    if (NOT_CHANGES.has(ev.resource.resource) || NOT_CHANGE_SUBRESOURCES.has(ev.resource.subresource))
      return [];
    if (ev.resource.resource === '' || isControlPlane(ev.user) || matchesAny(approved, ev.user)) return [];
    return [{ message: `${ev.user} ${ev.verb} ${resourceLabel(ev)} outside the approved pipeline` }];
  },
};
