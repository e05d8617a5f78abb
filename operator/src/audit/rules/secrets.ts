/** Detections on credentials: Secrets read, service-account tokens requested. */
import { anyGlob } from '../../engine/match.ts';
import { isControlPlane, succeeded } from '../event.ts';
import { AUDIT_CATEGORY, type AuditRule } from '../types.ts';
import { K8S_RBAC_GOOD, matchesAny, mitreUrl } from './_common.ts';

const READ = new Set(['get', 'list', 'watch']);

/** Control-plane readers whose Secret reads are their job. Nodes read only their pods' Secrets by name. */
function expectedReader(user: string, verb: string, name: string): boolean {
  if (user.startsWith('system:node:')) return verb === 'get' || name !== '';
  return isControlPlane(user);
}

export const auditSecretRead: AuditRule = {
  id: 'audit-secret-read-unexpected',
  title: 'Secrets read by an unexpected identity',
  severity: 'high',
  category: AUDIT_CATEGORY,
  mitre: ['T1552.007'],
  references: [mitreUrl('T1552.007'), `${K8S_RBAC_GOOD}#listing-secrets`],
  rationale:
    "Secrets hold credentials. Reads by anything but the controllers, the nodes (their own pods' Secrets) and the identities the policy expects are how stolen credentials and over-broad roles show up; list and watch return every Secret's value.",
  remediation:
    'Confirm the reader and narrow its role to the Secrets it needs (resourceNames). If the read was expected, add the identity to spec.audit.expectedSecretReaders.',
  check(ev, ctx) {
    if (!(ev.resource.group === '' && ev.resource.resource === 'secrets' && ev.resource.subresource === ''))
      return [];
    if (!READ.has(ev.verb) || !succeeded(ev)) return [];
    if (
      expectedReader(ev.user, ev.verb, ev.resource.name) ||
      matchesAny(ctx.settings.expectedSecretReaders, ev.user)
    )
      return [];
    const scope = ev.resource.name
      ? `Secret ${ev.resource.namespace}/${ev.resource.name}`
      : ev.resource.namespace
        ? `all Secrets in ${ev.resource.namespace}`
        : 'Secrets in every namespace';
    const everywhere = ev.resource.namespace === '' && ev.resource.name === '';
    return [
      { message: `${ev.user} ${ev.verb} ${scope}`, ...(everywhere ? { severity: 'critical' as const } : {}) },
    ];
  },
};

export const auditTokenRequest: AuditRule = {
  id: 'audit-token-request-powerful',
  title: 'Token requested for a powerful ServiceAccount',
  severity: 'high',
  category: AUDIT_CATEGORY,
  mitre: ['T1528'],
  references: [
    mitreUrl('T1528'),
    'https://kubernetes.io/docs/reference/kubernetes-api/authentication-resources/token-request-v1/',
  ],
  rationale:
    'A TokenRequest mints a fresh token for a ServiceAccount: whoever can create one acts as that account. For kube-system accounts and the ones the policy names powerful, that is a privilege escalation.',
  remediation:
    "Confirm who minted the token and revoke it by deleting the ServiceAccount's bound object or rotating the account. Remove serviceaccounts/token create from roles that do not need it.",
  check(ev, ctx) {
    if (!(
      ev.resource.group === '' &&
      ev.resource.resource === 'serviceaccounts' &&
      ev.resource.subresource === 'token'
    ))
      return [];
    if (ev.verb !== 'create' || !succeeded(ev) || isControlPlane(ev.user)) return [];
    const sa = `${ev.resource.namespace}/${ev.resource.name}`;
    const powerful =
      ev.resource.namespace === 'kube-system' ||
      (ctx.settings.powerfulServiceAccounts.length > 0 && anyGlob(ctx.settings.powerfulServiceAccounts, sa));
    if (!powerful) return [];
    return [{ message: `${ev.user} requested a token for ServiceAccount ${sa}` }];
  },
};
