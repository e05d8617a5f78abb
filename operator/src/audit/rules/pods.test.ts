import {
  auditEphemeralContainer,
  auditKubeSystemWorkload,
  auditNodeProxy,
  auditPodAttach,
  auditPodExec,
  auditPodPortForward,
} from './pods.ts';
import { runCases } from './_testkit.ts';

describe('rule audit-pod-exec', () => {
  runCases(auditPodExec, [
    {
      name: 'exec into a pod (101 upgrade)',
      event: { verb: 'create', subresource: 'exec', namespace: 'shop', name: 'web-1', code: 101 },
      expect: ['high'],
      contains: 'alice ran a command in pod shop/web-1',
    },
    {
      name: 'exec in kube-system is critical',
      event: { verb: 'get', subresource: 'exec', namespace: 'kube-system', name: 'etcd-cp', code: 101 },
      expect: ['critical'],
    },
    {
      name: 'denied exec',
      event: { verb: 'create', subresource: 'exec', namespace: 'shop', name: 'w', code: 403 },
      expect: [],
    },
    {
      name: 'reading pod logs',
      event: { verb: 'get', subresource: 'log', namespace: 'shop', name: 'w' },
      expect: [],
    },
    { name: 'a plain pod get', event: { verb: 'get', namespace: 'shop', name: 'w' }, expect: [] },
  ]);
});

describe('rule audit-pod-attach', () => {
  runCases(auditPodAttach, [
    {
      name: 'attach',
      event: { verb: 'create', subresource: 'attach', namespace: 'shop', name: 'w', code: 101 },
      expect: ['high'],
    },
    {
      name: 'attach in kube-system',
      event: { verb: 'create', subresource: 'attach', namespace: 'kube-system', name: 'w', code: 101 },
      expect: ['critical'],
    },
    {
      name: 'exec is not attach',
      event: { verb: 'create', subresource: 'exec', namespace: 'shop', name: 'w', code: 101 },
      expect: [],
    },
  ]);
});

describe('rule audit-pod-port-forward', () => {
  runCases(auditPodPortForward, [
    {
      name: 'port-forward',
      event: { verb: 'create', subresource: 'portforward', namespace: 'db', name: 'pg-0', code: 101 },
      expect: ['medium'],
      contains: 'forwarded a port to pod db/pg-0',
    },
    {
      name: 'port-forward in kube-system is high',
      event: { verb: 'get', subresource: 'portforward', namespace: 'kube-system', name: 'x', code: 101 },
      expect: ['high'],
    },
    {
      name: 'denied',
      event: { verb: 'create', subresource: 'portforward', namespace: 'db', name: 'x', code: 403 },
      expect: [],
    },
  ]);
});

describe('rule audit-ephemeral-container', () => {
  runCases(auditEphemeralContainer, [
    {
      name: 'kubectl debug',
      event: { verb: 'patch', subresource: 'ephemeralcontainers', namespace: 'shop', name: 'w' },
      expect: ['high'],
    },
    {
      name: 'in kube-system',
      event: { verb: 'update', subresource: 'ephemeralcontainers', namespace: 'kube-system', name: 'w' },
      expect: ['critical'],
    },
    {
      name: 'reading ephemeral containers',
      event: { verb: 'get', subresource: 'ephemeralcontainers', namespace: 'shop', name: 'w' },
      expect: [],
    },
    {
      name: 'rejected',
      event: { verb: 'patch', subresource: 'ephemeralcontainers', namespace: 'shop', name: 'w', code: 422 },
      expect: [],
    },
  ]);
});

describe('rule audit-node-proxy', () => {
  runCases(auditNodeProxy, [
    {
      name: 'nodes/proxy by a person',
      event: { verb: 'create', resource: 'nodes', subresource: 'proxy', name: 'node-1' },
      expect: ['high'],
    },
    {
      name: 'nodes/proxy by the API server',
      event: {
        user: 'system:apiserver',
        verb: 'get',
        resource: 'nodes',
        subresource: 'proxy',
        name: 'node-1',
      },
      expect: [],
    },
    { name: 'node status read', event: { verb: 'get', resource: 'nodes', name: 'node-1' }, expect: [] },
  ]);
});

describe('rule audit-kube-system-workload-created', () => {
  runCases(auditKubeSystemWorkload, [
    {
      name: 'a person creates a DaemonSet in kube-system',
      event: { verb: 'create', group: 'apps', resource: 'daemonsets', namespace: 'kube-system', name: 'x' },
      expect: ['medium'],
    },
    {
      name: 'the DaemonSet controller creates its pods',
      event: {
        user: 'system:serviceaccount:kube-system:daemon-set-controller',
        verb: 'create',
        namespace: 'kube-system',
        name: 'kube-proxy-abc',
      },
      expect: [],
    },
    {
      name: 'the approved pipeline',
      event: {
        user: 'ci-bot',
        verb: 'create',
        group: 'apps',
        resource: 'deployments',
        namespace: 'kube-system',
        name: 'x',
      },
      settings: { approvedChangers: ['ci-*'] },
      expect: [],
    },
    { name: 'another namespace', event: { verb: 'create', namespace: 'shop', name: 'x' }, expect: [] },
    {
      name: 'a ConfigMap',
      event: { verb: 'create', resource: 'configmaps', namespace: 'kube-system', name: 'x' },
      expect: [],
    },
  ]);
});
