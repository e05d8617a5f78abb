import {
  auditClusterAdminBinding,
  auditPowerfulRoleBinding,
  auditRoleEscalationVerbs,
  auditRoleWildcard,
  auditSystemRoleModified,
} from './rbac.ts';
import { runCases } from './_testkit.ts';

const G = 'rbac.authorization.k8s.io';
const binding = (role: string, kind = 'ClusterRole') => ({
  kind: 'ClusterRoleBinding',
  metadata: { name: 'b' },
  roleRef: { apiGroup: G, kind, name: role },
  subjects: [{ kind: 'User', name: 'eve' }],
});
const crb = (role: string, extra: Record<string, unknown> = {}) => ({
  verb: 'create',
  group: G,
  resource: 'clusterrolebindings',
  name: 'b',
  code: 201,
  requestObject: binding(role),
  ...extra,
});

describe('rule audit-cluster-admin-binding', () => {
  runCases(auditClusterAdminBinding, [
    {
      name: 'ClusterRoleBinding to cluster-admin',
      event: crb('cluster-admin'),
      expect: ['critical'],
      contains: 'User eve',
    },
    {
      name: 'RoleBinding to cluster-admin',
      event: crb('cluster-admin', { resource: 'rolebindings', namespace: 'shop' }),
      expect: ['critical'],
    },
    { name: 'binding to view', event: crb('view'), expect: [] },
    {
      name: 'the API server reconciling bootstrap bindings',
      event: crb('cluster-admin', { user: 'system:apiserver' }),
      expect: [],
    },
    { name: 'forbidden', event: crb('cluster-admin', { code: 403 }), expect: [] },
    { name: 'no request body', event: crb('cluster-admin', { requestObject: undefined }), expect: [] },
  ]);
});

describe('rule audit-powerful-role-binding', () => {
  runCases(auditPowerfulRoleBinding, [
    { name: 'binding to admin', event: crb('admin'), expect: ['high'] },
    {
      name: 'binding to a controller role',
      event: crb('system:controller:clusterrole-aggregation-controller'),
      expect: ['high'],
    },
    { name: 'cluster-admin is the other rule', event: crb('cluster-admin'), expect: [] },
    { name: 'binding to view', event: crb('view'), expect: [] },
    {
      name: 'a configured role',
      event: crb('platform-ops'),
      settings: { powerfulRoles: ['platform-*'] },
      expect: ['high'],
    },
  ]);
});

const role = (rules: unknown[], extra: Record<string, unknown> = {}) => ({
  verb: 'create',
  group: G,
  resource: 'clusterroles',
  name: 'r',
  code: 201,
  requestObject: { kind: 'ClusterRole', metadata: { name: 'r' }, rules },
  ...extra,
});

describe('rule audit-role-wildcard', () => {
  runCases(auditRoleWildcard, [
    {
      name: 'verbs *',
      event: role([{ apiGroups: [''], resources: ['pods'], verbs: ['*'] }]),
      expect: ['high'],
    },
    {
      name: 'resources * in a Role',
      event: role([{ apiGroups: [''], resources: ['*'], verbs: ['get'] }], {
        resource: 'roles',
        namespace: 'shop',
      }),
      expect: ['high'],
    },
    {
      name: 'explicit rules',
      event: role([{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] }]),
      expect: [],
    },
    {
      name: 'aggregation controller',
      event: role([{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }], {
        user: 'system:serviceaccount:kube-system:clusterrole-aggregation-controller',
        verb: 'update',
        code: 200,
      }),
      expect: [],
    },
  ]);
});

describe('rule audit-role-escalation-verbs', () => {
  runCases(auditRoleEscalationVerbs, [
    {
      name: 'bind and escalate',
      event: role([{ apiGroups: [G], resources: ['clusterroles'], verbs: ['bind', 'escalate'] }]),
      expect: ['high'],
      contains: 'bind, escalate',
    },
    {
      name: 'impersonate',
      event: role([{ apiGroups: [''], resources: ['users'], verbs: ['impersonate'] }]),
      expect: ['high'],
    },
    {
      name: 'ordinary verbs',
      event: role([{ apiGroups: [G], resources: ['clusterroles'], verbs: ['get'] }]),
      expect: [],
    },
  ]);
});

describe('rule audit-system-role-modified', () => {
  const sys = (verb: string, extra: Record<string, unknown> = {}) => ({
    verb,
    group: G,
    resource: 'clusterroles',
    name: 'system:node',
    ...extra,
  });
  runCases(auditSystemRoleModified, [
    { name: 'patched', event: sys('patch'), expect: ['high'] },
    { name: 'deleted', event: sys('delete'), expect: ['critical'] },
    {
      name: 'system binding updated',
      event: sys('update', { resource: 'clusterrolebindings', name: 'system:basic-user' }),
      expect: ['high'],
    },
    { name: 'reconciled by the API server', event: sys('update', { user: 'system:apiserver' }), expect: [] },
    { name: 'a non-system role', event: sys('patch', { name: 'team-a' }), expect: [] },
    { name: 'read', event: sys('get'), expect: [] },
  ]);
});
