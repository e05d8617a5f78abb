/** Detections on the guards themselves: admission control changed, certificates approved. */
import { asObj, asString } from '../../engine/podspec.ts';
import { isControlPlane, resourceLabel, succeeded } from '../event.ts';
import { AUDIT_CATEGORY, type AuditEvent, type AuditRule } from '../types.ts';
import { matchesAny, mitreUrl } from './_common.ts';

const ADMISSION = 'admissionregistration.k8s.io';
const CHANGES = new Set(['update', 'patch', 'delete', 'deletecollection']);

function admissionChange(ev: AuditEvent, resources: readonly string[], approved: readonly string[]): boolean {
  return (
    ev.resource.group === ADMISSION &&
    resources.includes(ev.resource.resource) &&
    ev.resource.subresource === '' &&
    CHANGES.has(ev.verb) &&
    succeeded(ev) &&
    !isControlPlane(ev.user) &&
    !matchesAny(approved, ev.user)
  );
}

function severityOf(ev: AuditEvent): { severity?: 'critical' } {
  return ev.verb === 'delete' || ev.verb === 'deletecollection' ? { severity: 'critical' } : {};
}

export const auditAdmissionWebhookChanged: AuditRule = {
  id: 'audit-admission-webhook-changed',
  title: 'Admission webhook configuration changed or deleted',
  severity: 'high',
  category: AUDIT_CATEGORY,
  mitre: ['T1562.001'],
  references: [
    mitreUrl('T1562.001'),
    'https://kubernetes.io/docs/reference/access-authn-authz/extensible-admission-controllers/',
  ],
  rationale:
    'Admission webhooks enforce policy on every write. Deleting one, or changing its rules, namespaces or failure policy, switches the guard off before the real change.',
  remediation:
    'Restore the configuration from the pipeline and find out who changed it. Identities that legitimately patch webhooks (a CA-bundle injector, the pipeline) belong in spec.audit.approvedChangers.',
  check(ev, ctx) {
    if (
      !admissionChange(
        ev,
        ['validatingwebhookconfigurations', 'mutatingwebhookconfigurations'],
        ctx.settings.approvedChangers,
      )
    )
      return [];
    return [{ message: `${ev.user} ${ev.verb} ${resourceLabel(ev)}`, ...severityOf(ev) }];
  },
};

export const auditAdmissionPolicyChanged: AuditRule = {
  id: 'audit-admission-policy-changed',
  title: 'ValidatingAdmissionPolicy changed or deleted',
  severity: 'high',
  category: AUDIT_CATEGORY,
  mitre: ['T1562.001'],
  references: [
    mitreUrl('T1562.001'),
    'https://kubernetes.io/docs/reference/access-authn-authz/validating-admission-policy/',
  ],
  rationale:
    'Admission policies and their bindings are in-process guards; deleting or loosening one (validationActions, match) disables it.',
  remediation: 'Restore the policy and its binding from the pipeline and find out who changed them.',
  check(ev, ctx) {
    const res = [
      'validatingadmissionpolicies',
      'validatingadmissionpolicybindings',
      'mutatingadmissionpolicies',
      'mutatingadmissionpolicybindings',
    ];
    if (!admissionChange(ev, res, ctx.settings.approvedChangers)) return [];
    return [{ message: `${ev.user} ${ev.verb} ${resourceLabel(ev)}`, ...severityOf(ev) }];
  },
};

export const auditCsrApproved: AuditRule = {
  id: 'audit-csr-approved',
  title: 'Certificate signing request approved by a person',
  severity: 'medium',
  category: AUDIT_CATEGORY,
  mitre: [],
  references: ['https://kubernetes.io/docs/reference/access-authn-authz/certificate-signing-requests/'],
  rationale:
    'An approved CSR becomes a certificate. For the kube-apiserver-client signer it is a credential for any user and groups named in it (system:masters included) that cannot be revoked before it expires.',
  remediation:
    "Check the CSR's subject and groups; if unexpected, remove the RBAC granting the user and rotate the cluster CA if needed.",
  check(ev) {
    if (!(
      ev.resource.group === 'certificates.k8s.io' &&
      ev.resource.resource === 'certificatesigningrequests' &&
      ev.resource.subresource === 'approval'
    ))
      return [];
    if (!(ev.verb === 'update' || ev.verb === 'patch') || !succeeded(ev) || isControlPlane(ev.user))
      return [];
    const signer = asString(asObj(asObj(ev.requestObject)['spec'])['signerName']);
    const client = signer === 'kubernetes.io/kube-apiserver-client';
    return [
      {
        message: `${ev.user} approved ${resourceLabel(ev)}${signer ? ` (signer ${signer})` : ''}`,
        ...(client ? { severity: 'high' as const } : {}),
      },
    ];
  },
};
