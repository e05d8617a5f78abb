/**
 * The kinds Vigil watches: their REST paths, whether their objects are
 * evaluated as subjects, and how they are trimmed before caching.
 */
import type { KubeObject } from '../engine/types.ts';
import { API_GROUP, API_VERSION } from '../api/types.generated.ts';

export interface WatchedKind {
  kind: string;
  group: string;
  version: string;
  plural: string;
  namespaced: boolean;
}

const k = (
  kind: string,
  group: string,
  version: string,
  plural: string,
  namespaced: boolean,
): WatchedKind => ({
  kind,
  group,
  version,
  plural,
  namespaced,
});

/** Kinds whose objects rules evaluate (or cross-reference). */
export const SUBJECT_KINDS: readonly WatchedKind[] = [
  k('Pod', '', 'v1', 'pods', true),
  k('Deployment', 'apps', 'v1', 'deployments', true),
  k('ReplicaSet', 'apps', 'v1', 'replicasets', true),
  k('StatefulSet', 'apps', 'v1', 'statefulsets', true),
  k('DaemonSet', 'apps', 'v1', 'daemonsets', true),
  k('Job', 'batch', 'v1', 'jobs', true),
  k('CronJob', 'batch', 'v1', 'cronjobs', true),
  k('ReplicationController', '', 'v1', 'replicationcontrollers', true),
  k('Role', 'rbac.authorization.k8s.io', 'v1', 'roles', true),
  k('ClusterRole', 'rbac.authorization.k8s.io', 'v1', 'clusterroles', false),
  k('RoleBinding', 'rbac.authorization.k8s.io', 'v1', 'rolebindings', true),
  k('ClusterRoleBinding', 'rbac.authorization.k8s.io', 'v1', 'clusterrolebindings', false),
  k('ServiceAccount', '', 'v1', 'serviceaccounts', true),
  k('NetworkPolicy', 'networking.k8s.io', 'v1', 'networkpolicies', true),
  k('Service', '', 'v1', 'services', true),
  k('Ingress', 'networking.k8s.io', 'v1', 'ingresses', true),
  k('Namespace', '', 'v1', 'namespaces', false),
  k('Node', '', 'v1', 'nodes', false),
  // Read by rules about other objects (PDB coverage, autoscaled replicas, LimitRange defaults).
  k('PodDisruptionBudget', 'policy', 'v1', 'poddisruptionbudgets', true),
  k('HorizontalPodAutoscaler', 'autoscaling', 'v2', 'horizontalpodautoscalers', true),
  k('LimitRange', '', 'v1', 'limitranges', true),
];

export const POLICY_KIND = k('SecurityPolicy', API_GROUP, API_VERSION, 'securitypolicies', false);
export const REPORT_KIND = k('ScanReport', API_GROUP, API_VERSION, 'scanreports', true);

/** The API server's version, polled from /version, is evaluated as this synthetic object. */
export const CLUSTER_VERSION_KIND = 'ClusterVersion';

export function apiVersionOf(w: WatchedKind): string {
  return w.group ? `${w.group}/${w.version}` : w.version;
}

/** Collection path, cluster-wide or in one namespace. */
export function collectionPath(w: WatchedKind, namespace?: string): string {
  const base = w.group ? `/apis/${w.group}/${w.version}` : `/api/${w.version}`;
  return namespace && w.namespaced ? `${base}/namespaces/${namespace}/${w.plural}` : `${base}/${w.plural}`;
}

export function objectPath(w: WatchedKind, namespace: string, name: string): string {
  return `${collectionPath(w, namespace)}/${encodeURIComponent(name)}`;
}

/**
 * Is this object evaluated on its own? Controller-owned Pods, ReplicaSets and
 * Jobs are covered through their top-level owner (a Deployment's findings are
 * on the Deployment), so they are not.
 */
export function isSubject(obj: KubeObject): boolean {
  const kind = obj.kind;
  if (kind === 'Pod' || kind === 'ReplicaSet' || kind === 'Job') {
    const owners = obj.metadata?.ownerReferences ?? [];
    return !owners.some((o) => o.controller === true);
  }
  return true;
}
