import { auditSecretRead, auditTokenRequest } from './secrets.ts';
import { runCases } from './_testkit.ts';

describe('rule audit-secret-read-unexpected', () => {
  runCases(auditSecretRead, [
    {
      name: 'a person gets a Secret',
      event: { resource: 'secrets', namespace: 'shop', name: 'db' },
      expect: ['high'],
      contains: 'Secret shop/db',
    },
    {
      name: 'lists every Secret cluster-wide',
      event: { verb: 'list', resource: 'secrets' },
      expect: ['critical'],
    },
    {
      name: 'a node lists cluster-wide (not what the node authorizer allows)',
      event: { user: 'system:node:n1', verb: 'list', resource: 'secrets' },
      expect: ['critical'],
    },
    {
      name: "a node reads its pod's Secret",
      event: { user: 'system:node:n1', resource: 'secrets', namespace: 'shop', name: 'db' },
      expect: [],
    },
    {
      name: "a node watches its pod's Secret by name",
      event: { user: 'system:node:n1', verb: 'watch', resource: 'secrets', namespace: 'shop', name: 'db' },
      expect: [],
    },
    {
      name: 'a controller lists Secrets',
      event: { user: 'system:kube-controller-manager', verb: 'list', resource: 'secrets' },
      expect: [],
    },
    {
      name: 'a kube-system controller account',
      event: {
        user: 'system:serviceaccount:kube-system:namespace-controller',
        verb: 'list',
        resource: 'secrets',
        namespace: 'shop',
      },
      expect: [],
    },
    {
      name: 'an expected reader from the policy',
      event: { user: 'system:serviceaccount:cert-manager:cert-manager', verb: 'watch', resource: 'secrets' },
      settings: { expectedSecretReaders: ['system:serviceaccount:cert-manager:*'] },
      expect: [],
    },
    { name: 'denied', event: { resource: 'secrets', namespace: 'shop', name: 'db', code: 403 }, expect: [] },
    {
      name: 'writing a Secret is not a read',
      event: { verb: 'create', resource: 'secrets', namespace: 'shop', name: 'db', code: 201 },
      expect: [],
    },
    { name: 'ConfigMaps', event: { resource: 'configmaps', namespace: 'shop', name: 'db' }, expect: [] },
  ]);
});

describe('rule audit-token-request-powerful', () => {
  const token = { verb: 'create', resource: 'serviceaccounts', subresource: 'token', code: 201 };
  runCases(auditTokenRequest, [
    {
      name: 'token for a kube-system account',
      event: { ...token, namespace: 'kube-system', name: 'clusterrole-aggregation-controller' },
      expect: ['high'],
    },
    {
      name: 'token for an account the policy names powerful',
      event: { ...token, namespace: 'argocd', name: 'argocd-application-controller' },
      settings: { powerfulServiceAccounts: ['argocd/*'] },
      expect: ['high'],
    },
    {
      name: 'token for an ordinary account',
      event: { ...token, namespace: 'shop', name: 'web' },
      expect: [],
    },
    {
      name: "the kubelet mints its pods' tokens",
      event: { ...token, user: 'system:node:n1', namespace: 'kube-system', name: 'coredns' },
      expect: [],
    },
    { name: 'denied', event: { ...token, code: 403, namespace: 'kube-system', name: 'x' }, expect: [] },
  ]);
});
