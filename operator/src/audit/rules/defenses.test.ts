import { auditAdmissionPolicyChanged, auditAdmissionWebhookChanged, auditCsrApproved } from './defenses.ts';
import { runCases } from './_testkit.ts';

const A = 'admissionregistration.k8s.io';

describe('rule audit-admission-webhook-changed', () => {
  const wh = (verb: string, extra: Record<string, unknown> = {}) => ({
    verb,
    group: A,
    resource: 'validatingwebhookconfigurations',
    name: 'vigil',
    ...extra,
  });
  runCases(auditAdmissionWebhookChanged, [
    { name: 'deleted', event: wh('delete'), expect: ['critical'] },
    { name: 'patched', event: wh('patch'), expect: ['high'] },
    {
      name: 'mutating webhook updated',
      event: wh('update', { resource: 'mutatingwebhookconfigurations' }),
      expect: ['high'],
    },
    { name: 'created (not switching a guard off)', event: wh('create', { code: 201 }), expect: [] },
    {
      name: 'the CA injector (approved)',
      event: wh('patch', { user: 'system:serviceaccount:cert-manager:cert-manager-cainjector' }),
      settings: { approvedChangers: ['system:serviceaccount:cert-manager:*'] },
      expect: [],
    },
    { name: 'forbidden', event: wh('delete', { code: 403 }), expect: [] },
  ]);
});

describe('rule audit-admission-policy-changed', () => {
  const p = (verb: string, extra: Record<string, unknown> = {}) => ({
    verb,
    group: A,
    resource: 'validatingadmissionpolicies',
    name: 'deny-privileged',
    ...extra,
  });
  runCases(auditAdmissionPolicyChanged, [
    { name: 'policy deleted', event: p('delete'), expect: ['critical'] },
    {
      name: 'binding patched',
      event: p('patch', { resource: 'validatingadmissionpolicybindings' }),
      expect: ['high'],
    },
    {
      name: 'status written by the API server',
      event: p('update', { subresource: 'status', user: 'system:apiserver' }),
      expect: [],
    },
    { name: 'read', event: p('get'), expect: [] },
  ]);
});

describe('rule audit-csr-approved', () => {
  const csr = (signerName: string, extra: Record<string, unknown> = {}) => ({
    verb: 'update',
    group: 'certificates.k8s.io',
    resource: 'certificatesigningrequests',
    subresource: 'approval',
    name: 'csr-1',
    requestObject: { kind: 'CertificateSigningRequest', spec: { signerName } },
    ...extra,
  });
  runCases(auditCsrApproved, [
    {
      name: 'client certificate approved by a person',
      event: csr('kubernetes.io/kube-apiserver-client'),
      expect: ['high'],
    },
    {
      name: 'kubelet serving certificate approved by a person',
      event: csr('kubernetes.io/kubelet-serving'),
      expect: ['medium'],
    },
    {
      name: 'approved by the certificate controller',
      event: csr('kubernetes.io/kube-apiserver-client-kubelet', {
        user: 'system:serviceaccount:kube-system:certificate-controller',
      }),
      expect: [],
    },
    {
      name: 'CSR created',
      event: csr('kubernetes.io/kube-apiserver-client', { subresource: '', verb: 'create' }),
      expect: [],
    },
  ]);
});
