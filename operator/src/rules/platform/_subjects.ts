/**
 * What the platform rules read from their subjects, defensively.
 *
 * The API server version is not an object: the controller synthesises a
 * `ClusterVersion` pseudo-object (apiVersion security.vigil.dev/v1alpha1,
 * metadata.name kube-apiserver, status.gitVersion from /version) and the CLI
 * scans one written in a manifest. When the object carries no gitVersion the
 * rules fall back to the cluster facts of the index.
 */
import { asObj, asString, dig } from '../../engine/podspec.ts';
import type { KubeObject, RuleContext } from '../../engine/types.ts';
import { parseVersion, type Version } from './version.ts';

export const CLUSTER_VERSION_KIND = 'ClusterVersion';
export const CLUSTER_VERSION_API_VERSION = 'security.vigil.dev/v1alpha1';

/** A version read from a subject, with the field it came from (for messages). */
export interface VersionReading {
  version: Version;
  field: string;
}

/** The API server version of a ClusterVersion object (or the index's cluster facts). */
export function apiServerVersion(obj: KubeObject, ctx: RuleContext): VersionReading | undefined {
  const own = asString(dig(obj, 'status', 'gitVersion'));
  if (own !== undefined) {
    const v = parseVersion(own);
    return v ? { version: v, field: 'status.gitVersion' } : undefined;
  }
  const fact = ctx.index.cluster.serverVersion;
  const v = parseVersion(fact);
  return v ? { version: v, field: 'the API server /version' } : undefined;
}

/** `status.nodeInfo` of a Node, fields as strings when present. */
export interface NodeInfo {
  kubeletVersion?: string;
  kubeProxyVersion?: string;
  containerRuntimeVersion?: string;
  kernelVersion?: string;
  osImage?: string;
  /** `linux` / `windows` from nodeInfo.operatingSystem or the kubernetes.io/os label. */
  operatingSystem?: string;
}

export function nodeInfo(obj: KubeObject): NodeInfo {
  const info = asObj(dig(obj, 'status', 'nodeInfo'));
  const out: NodeInfo = {};
  for (const key of [
    'kubeletVersion',
    'kubeProxyVersion',
    'containerRuntimeVersion',
    'kernelVersion',
    'osImage',
  ] as const) {
    const v = asString(info[key])?.trim();
    if (v) out[key] = v;
  }
  const os =
    asString(info['operatingSystem']) ?? asString(asObj(asObj(obj.metadata)['labels'])['kubernetes.io/os']);
  if (os) out.operatingSystem = os.toLowerCase();
  return out;
}

/** Name of the subject for messages: `node "worker-1"`. */
export function nodeLabel(obj: KubeObject): string {
  const name = asString(asObj(obj.metadata)['name']);
  return name ? `node "${name}"` : 'node';
}

/** Sentence appended to findings about vendor builds (EKS, GKE, AKS, k3s, RKE2 …). */
export function vendorNote(v: Version): string {
  return v.vendor === undefined
    ? ''
    : ` This is a vendor build (${v.raw}); the vendor may have backported the fix, so verify with your provider's security bulletin.`;
}
