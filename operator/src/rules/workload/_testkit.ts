/** Object builders for the workload, supply-chain and secrets table tests. */
import type { KubeObject } from '../../engine/types.ts';

export type Spec = Record<string, unknown>;

export function podOf(spec: Spec, meta: Record<string, unknown> = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default', ...meta }, spec };
}

export function deploymentOf(
  spec: Spec,
  extra: Record<string, unknown> = {},
  labels: Record<string, string> = { app: 'web' },
): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default' },
    spec: {
      replicas: 3,
      selector: { matchLabels: labels },
      template: { metadata: { labels }, spec },
      ...extra,
    },
  };
}

export function cronJobOf(spec: Spec): KubeObject {
  return {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name: 'nightly', namespace: 'default' },
    spec: {
      schedule: '0 3 * * *',
      jobTemplate: { spec: { template: { spec: { restartPolicy: 'OnFailure', ...spec } } } },
    },
  };
}

export function jobOf(spec: Spec): KubeObject {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: 'once', namespace: 'default' },
    spec: { template: { spec: { restartPolicy: 'Never', ...spec } } },
  };
}

/** One container named `name` with the given fields and a pinned image. */
export function ctr(fields: Spec = {}, name = 'app'): Spec {
  return { name, image: 'registry.example.com/team/app:1.2.3', ...fields };
}

/** The four wrappers every pod-template rule must handle the same way. */
export const WRAPPERS: { kind: string; wrap: (spec: Spec) => KubeObject }[] = [
  { kind: 'Pod', wrap: (s) => podOf(s) },
  { kind: 'Deployment', wrap: (s) => deploymentOf(s) },
  { kind: 'CronJob', wrap: (s) => cronJobOf(s) },
  { kind: 'Job', wrap: (s) => jobOf(s) },
];

/** Malformed objects no rule may throw on. */
export const MALFORMED: KubeObject[] = [
  { kind: 'Pod' },
  { kind: 'Pod', spec: null },
  { kind: 'Pod', spec: 'x' },
  { kind: 'Pod', spec: { containers: 'x', initContainers: [null, 7, 'x'], ephemeralContainers: {} } },
  {
    kind: 'Pod',
    spec: {
      containers: [{ name: 7, image: 9, env: 'x', envFrom: [null], args: {}, command: 'ls', resources: [] }],
    },
  },
  {
    kind: 'Pod',
    spec: { containers: [{ env: [{ name: null, value: 42 }, { valueFrom: 'x' }], securityContext: 'x' }] },
  },
  {
    kind: 'Pod',
    spec: { securityContext: [], containers: [{ securityContext: { runAsGroup: 'x' }, livenessProbe: 3 }] },
  },
  { kind: 'Deployment', spec: { template: 'x' } },
  { kind: 'Deployment', spec: { template: { spec: { containers: [[]] } } } },
  { kind: 'CronJob', spec: { jobTemplate: { spec: null } } },
  { kind: 'ConfigMap', data: 'x' },
  { kind: 'ConfigMap', data: { a: 7, b: null, c: ['x'] } },
  { kind: 'Service', spec: { selector: 'x' } },
  {
    kind: 'Deployment',
    metadata: 'x' as never,
    spec: { replicas: 'two', template: { metadata: { labels: 'x' } } },
  },
];
