/** Builders for platform rule tests: a ClusterVersion pseudo-object and Nodes. */
import type { KubeObject } from '../../engine/types.ts';
import { CLUSTER_VERSION_API_VERSION, CLUSTER_VERSION_KIND } from './_subjects.ts';

/** 2026-11-23, the dataset's compile date. */
export const DATASET_NOW = new Date('2026-11-23T12:00:00Z');

export function clusterVersion(gitVersion?: unknown): KubeObject {
  const obj: KubeObject = {
    apiVersion: CLUSTER_VERSION_API_VERSION,
    kind: CLUSTER_VERSION_KIND,
    metadata: { name: 'kube-apiserver' },
  };
  if (gitVersion !== undefined) obj['status'] = { gitVersion };
  return obj;
}

export function node(nodeInfo: unknown, name = 'worker-1', labels?: Record<string, string>): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: labels ? { name, labels } : { name },
    status: { nodeInfo },
  };
}
