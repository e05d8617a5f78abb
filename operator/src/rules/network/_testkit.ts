/** Builders for network rule tests. */
import type { KubeObject } from '../../engine/types.ts';

export function namespace(name: string): KubeObject {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name } };
}

export function workload(
  kind: 'Deployment' | 'StatefulSet' | 'DaemonSet' | 'CronJob' | 'Pod',
  ns: string | undefined,
  name: string,
  labels: Record<string, string>,
  meta: Record<string, unknown> = {},
): KubeObject {
  const metadata = { name, ...(ns === undefined ? {} : { namespace: ns }), ...meta };
  const podSpec = { containers: [{ name: 'app', image: 'registry.example/app:1.0' }] };
  if (kind === 'Pod') return { apiVersion: 'v1', kind, metadata: { ...metadata, labels }, spec: podSpec };
  const template = { metadata: { labels }, spec: podSpec };
  if (kind === 'CronJob')
    return {
      apiVersion: 'batch/v1',
      kind,
      metadata,
      spec: { schedule: '* * * * *', jobTemplate: { spec: { template } } },
    };
  return { apiVersion: 'apps/v1', kind, metadata, spec: { selector: { matchLabels: labels }, template } };
}

export function networkPolicy(
  ns: string | undefined,
  name: string,
  spec: Record<string, unknown>,
): KubeObject {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name, ...(ns === undefined ? {} : { namespace: ns }) },
    spec,
  };
}

export function service(
  ns: string,
  name: string,
  spec: Record<string, unknown>,
  meta: Record<string, unknown> = {},
): KubeObject {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: ns, ...meta }, spec };
}

export function ingress(
  ns: string,
  name: string,
  spec: Record<string, unknown>,
  meta: Record<string, unknown> = {},
): KubeObject {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name, namespace: ns, ...meta },
    spec,
  };
}

export const DENY_ALL_INGRESS = { podSelector: {}, policyTypes: ['Ingress'] };
