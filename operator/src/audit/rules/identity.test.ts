import assert from 'node:assert/strict';
import { defaultSettings } from '../types.ts';
import {
  auditAnonymousAllowed,
  auditDeniedBurst,
  auditImpersonation,
  auditSaTokenForeignIp,
  auditUnapprovedChange,
  MAX_TRACKED_IDENTITIES,
} from './identity.ts';
import { event, runCases } from './_testkit.ts';

describe('rule audit-anonymous-allowed', () => {
  const anon = { user: 'system:anonymous', groups: ['system:unauthenticated'] };
  runCases(auditAnonymousAllowed, [
    {
      name: 'anonymous list of pods',
      event: { ...anon, verb: 'list', uri: '/api/v1/pods' },
      expect: ['high'],
    },
    {
      name: 'anonymous create is critical',
      event: { ...anon, verb: 'create', uri: '/api/v1/namespaces/x/pods', namespace: 'x', code: 201 },
      expect: ['critical'],
    },
    {
      name: 'allowed by the authorizer, failed later',
      event: {
        ...anon,
        verb: 'get',
        uri: '/api/v1/nodes/x',
        code: 404,
        annotations: { 'authorization.k8s.io/decision': 'allow' },
      },
      expect: ['high'],
    },
    { name: 'healthz', event: { ...anon, resource: '', uri: '/healthz' }, expect: [] },
    { name: 'readyz?verbose', event: { ...anon, resource: '', uri: '/readyz?verbose' }, expect: [] },
    { name: 'livez/etcd', event: { ...anon, resource: '', uri: '/livez/etcd' }, expect: [] },
    { name: 'version', event: { ...anon, resource: '', uri: '/version' }, expect: [] },
    { name: 'denied', event: { ...anon, verb: 'list', uri: '/api/v1/secrets', code: 403 }, expect: [] },
    { name: 'an authenticated user', event: { verb: 'list', uri: '/api/v1/pods' }, expect: [] },
  ]);
});

describe('rule audit-impersonation', () => {
  runCases(auditImpersonation, [
    {
      name: 'impersonating a user',
      event: { impersonate: { username: 'bob' }, verb: 'list', resource: 'secrets' },
      expect: ['high'],
      contains: 'alice acted as bob',
    },
    { name: 'no impersonation', event: { verb: 'list', resource: 'secrets' }, expect: [] },
    {
      name: 'denied impersonation',
      event: { impersonate: { username: 'bob' }, verb: 'list', code: 403 },
      expect: [],
    },
  ]);
});

describe('rule audit-sa-token-foreign-ip', () => {
  const sa = { user: 'system:serviceaccount:shop:web', verb: 'list', resource: 'secrets', namespace: 'shop' };
  const cidrs = { clusterCIDRs: ['10.244.0.0/16', '192.168.10.0/24', 'fd00::/8'] };
  runCases(auditSaTokenForeignIp, [
    {
      name: 'from the internet',
      event: { ...sa, sourceIPs: ['203.0.113.7'] },
      settings: cidrs,
      expect: ['high'],
      contains: '203.0.113.7',
    },
    { name: 'from a pod', event: { ...sa, sourceIPs: ['10.244.3.9'] }, settings: cidrs, expect: [] },
    { name: 'from a node (IPv6)', event: { ...sa, sourceIPs: ['fd00::12'] }, settings: cidrs, expect: [] },
    {
      name: 'a forwarded chain ending outside',
      event: { ...sa, sourceIPs: ['10.244.3.9', '198.51.100.1'] },
      settings: cidrs,
      expect: ['high'],
    },
    { name: 'off when no CIDRs are configured', event: { ...sa, sourceIPs: ['203.0.113.7'] }, expect: [] },
    {
      name: 'a person from outside is not a token',
      event: { sourceIPs: ['203.0.113.7'] },
      settings: cidrs,
      expect: [],
    },
  ]);
});

describe('rule audit-denied-burst', () => {
  const settings = { ...defaultSettings(), deniedBurst: { threshold: 3, windowSeconds: 10 } };
  const at = (sec: number, user = 'mallory', code = 403, id = `e${sec}`) =>
    event({
      id,
      user,
      code,
      verb: 'list',
      resource: 'secrets',
      time: new Date(Date.UTC(2026, 11, 1, 10, 0, sec)).toISOString(),
    });

  function run(events: ReturnType<typeof at>[], state = new Map<string, unknown>()): string[] {
    const out: string[] = [];
    for (const ev of events)
      if (auditDeniedBurst.check(ev, { settings, state }).length > 0) out.push(ev.auditID);
    return out;
  }

  it('fires once, on the event that crosses the threshold', () => {
    assert.deepEqual(run([at(0), at(1), at(2), at(3), at(4), at(5)]), ['e2']);
  });
  it('does not fire when the denials are spread wider than the window', () => {
    assert.deepEqual(run([at(0), at(8), at(16), at(24), at(32)]), []);
  });
  it('counts identities separately', () => {
    assert.deepEqual(run([at(0, 'a'), at(1, 'b'), at(2, 'a'), at(3, 'b')]), []);
  });
  it('ignores allowed requests and other errors', () => {
    assert.deepEqual(run([at(0, 'm', 200), at(1, 'm', 404), at(2, 'm', 403), at(3, 'm', 401)]), []);
  });
  it('fires again for a new burst after a quiet window', () => {
    assert.deepEqual(run([at(0), at(1), at(2), at(3), at(30), at(31), at(32)]), ['e2', 'e32']);
  });
  it('bounds the identities it tracks', () => {
    const state = new Map<string, unknown>();
    for (let i = 0; i < MAX_TRACKED_IDENTITIES + 50; i++) run([at(0, `u${i}`)], state);
    assert.equal(state.size, MAX_TRACKED_IDENTITIES);
  });
});

describe('rule audit-unapproved-change', () => {
  const approved = { approvedChangers: ['system:serviceaccount:argocd:*', 'ci-bot'] };
  runCases(auditUnapprovedChange, [
    {
      name: 'a person patches a Deployment',
      event: { verb: 'patch', group: 'apps', resource: 'deployments', namespace: 'shop', name: 'web' },
      settings: approved,
      expect: ['medium'],
    },
    {
      name: 'the pipeline',
      event: {
        user: 'ci-bot',
        verb: 'patch',
        group: 'apps',
        resource: 'deployments',
        namespace: 'shop',
        name: 'web',
      },
      settings: approved,
      expect: [],
    },
    {
      name: 'Argo CD',
      event: {
        user: 'system:serviceaccount:argocd:argocd-application-controller',
        verb: 'update',
        resource: 'configmaps',
        namespace: 'shop',
        name: 'c',
      },
      settings: approved,
      expect: [],
    },
    {
      name: 'off without an approved list',
      event: { verb: 'patch', group: 'apps', resource: 'deployments', namespace: 'shop', name: 'web' },
      expect: [],
    },
    {
      name: 'a controller',
      event: {
        user: 'system:kube-controller-manager',
        verb: 'update',
        resource: 'endpoints',
        namespace: 'shop',
        name: 'web',
      },
      settings: approved,
      expect: [],
    },
    {
      name: 'a status update',
      event: { verb: 'update', resource: 'pods', subresource: 'status', namespace: 'shop', name: 'web' },
      settings: approved,
      expect: [],
    },
    {
      name: 'an exec session',
      event: {
        verb: 'create',
        resource: 'pods',
        subresource: 'exec',
        namespace: 'shop',
        name: 'web',
        code: 101,
      },
      settings: approved,
      expect: [],
    },
    {
      name: 'an access review',
      event: {
        verb: 'create',
        group: 'authorization.k8s.io',
        resource: 'selfsubjectaccessreviews',
        code: 201,
      },
      settings: approved,
      expect: [],
    },
    {
      name: 'a read',
      event: { verb: 'get', resource: 'configmaps', namespace: 'shop', name: 'c' },
      settings: approved,
      expect: [],
    },
  ]);
});
