import assert from 'node:assert/strict';
import { evaluateObject } from '../../engine/evaluate.ts';
import { ClusterIndex } from '../../engine/cluster-index.ts';
import { compilePolicy } from '../../engine/policy.ts';
import { ALL_RULES } from '../../rules/index.ts';
import {
  auditHostNamespacePod,
  auditHostPathPod,
  auditPodBaselineViolation,
  auditPrivilegedPod,
} from './pod-security.ts';
import { check, runCases } from './_testkit.ts';

function pod(spec: Record<string, unknown>): Record<string, unknown> {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec };
}
const privileged = pod({ containers: [{ name: 'c', image: 'x', securityContext: { privileged: true } }] });
const hostPath = pod({
  containers: [{ name: 'c', image: 'x' }],
  volumes: [{ name: 'v', hostPath: { path: '/' } }],
});
const hostPid = pod({ hostPID: true, containers: [{ name: 'c', image: 'x' }] });
const hostPort = pod({
  containers: [{ name: 'c', image: 'x', ports: [{ containerPort: 80, hostPort: 80 }] }],
});
const clean = pod({ containers: [{ name: 'c', image: 'x' }] });
const deployment = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'd' },
  spec: {
    template: { spec: { containers: [{ name: 'c', image: 'x', securityContext: { privileged: true } }] } },
  },
};

const create = (requestObject: unknown, extra: Record<string, unknown> = {}) => ({
  verb: 'create',
  namespace: 'shop',
  name: 'p',
  code: 201,
  requestObject,
  ...extra,
});

describe('rule audit-privileged-pod', () => {
  runCases(auditPrivilegedPod, [
    {
      name: 'privileged pod created',
      event: create(privileged),
      expect: ['critical'],
      contains: 'pss-privileged',
    },
    {
      name: 'privileged Deployment created',
      event: create(deployment, { group: 'apps', resource: 'deployments', name: 'd' }),
      expect: ['critical'],
    },
    { name: 'a clean pod', event: create(clean), expect: [] },
    { name: 'no request body (Metadata level)', event: create(undefined), expect: [] },
    {
      name: 'created by the ReplicaSet controller (its Deployment was judged)',
      event: create(privileged, { user: 'system:serviceaccount:kube-system:replicaset-controller' }),
      expect: [],
    },
    { name: 'rejected by admission', event: create(privileged, { code: 403 }), expect: [] },
  ]);

  it('agrees with the engine on the same object', () => {
    const policy = compilePolicy({ profile: 'pss-baseline' }, ALL_RULES).policy;
    assert.ok(policy);
    for (const obj of [privileged, hostPath, hostPid, hostPort, clean]) {
      const engine: boolean =
        evaluateObject(obj, policy, new ClusterIndex([]), new Date(0)).findings.length > 0;
      const audit = [
        auditPrivilegedPod,
        auditHostPathPod,
        auditHostNamespacePod,
        auditPodBaselineViolation,
      ].some((r) => check(r, create(obj)).length > 0);
      assert.equal(audit, engine, JSON.stringify(obj));
    }
  });
});

describe('rule audit-host-path-pod', () => {
  runCases(auditHostPathPod, [
    { name: 'hostPath volume', event: create(hostPath), expect: ['high'], contains: 'pss-host-path-volumes' },
    { name: 'privileged only', event: create(privileged), expect: [] },
  ]);
});

describe('rule audit-host-namespace-pod', () => {
  runCases(auditHostNamespacePod, [
    { name: 'hostPID', event: create(hostPid), expect: ['high'] },
    {
      name: 'pod replaced with hostPID',
      event: create(hostPid, { verb: 'update', code: 200 }),
      expect: ['high'],
    },
    { name: 'clean', event: create(clean), expect: [] },
  ]);
});

describe('rule audit-pod-baseline-violation', () => {
  runCases(auditPodBaselineViolation, [
    { name: 'hostPort', event: create(hostPort), expect: ['medium'], contains: 'pss-host-ports' },
    { name: 'privileged is reported by its own rule', event: create(privileged), expect: [] },
    { name: 'clean', event: create(clean), expect: [] },
  ]);
});
