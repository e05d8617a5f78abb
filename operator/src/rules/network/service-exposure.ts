/**
 * Services reachable from outside the cluster: NodePort (a port on every node)
 * and LoadBalancer (a cloud load balancer, public unless made internal or
 * restricted with loadBalancerSourceRanges). Exposure is usually intended (the
 * ingress controller, a public API), so this is an inventory rule in `all`;
 * management-tools rules raise severity when a risky tool sits behind one.
 *
 * LoadBalancer open to any address: medium. NodePort, internal load balancers
 * (cloud annotations) and LoadBalancers restricted by source ranges: low. One step
 * higher, with the reason in the message, when the Service selects privileged pods
 * (privileged containers, host namespaces, hostPath) of a workload in scope.
 */
import { asObj, asObjArray, asString, asStringArray } from '../../engine/podspec.ts';
import {
  severityRank,
  type KubeObject,
  type RaisedSeverity,
  type Rule,
  type RuleContext,
  type RuleHit,
} from '../../engine/types.ts';
import { describeWorkload, listShort, privilegeReasons, serviceType, workloadsBehind } from './_net.ts';

/** The one raise above the rule's own severity: an open LoadBalancer (medium) in front of privileged pods. */
const FRONTS_PRIVILEGED: RaisedSeverity = {
  severity: 'high',
  when: 'a LoadBalancer open to any address in front of privileged pods (privileged containers, host namespaces, hostPath): one step up',
};

/**
 * Context that raises an exposure: the Service fronts privileged pods, so a compromise from
 * outside lands next to the node. One step up (low → medium, medium → high), with the reason.
 */
function withContext(svc: KubeObject, ctx: RuleContext, hit: RuleHit): RuleHit {
  const risky = workloadsBehind(svc, ctx.index)
    .map((w) => ({ w, why: privilegeReasons(w) }))
    .filter((x) => x.why.length > 0);
  if (risky.length === 0) return hit;
  const sev = hit.severity ?? 'medium';
  const top = FRONTS_PRIVILEGED.severity;
  const raised = sev === 'low' ? 'medium' : severityRank(sev) < severityRank(top) ? top : sev;
  const shown = listShort(
    risky.map((x) => `${describeWorkload(x.w)} (${x.why.join(', ')})`),
    3,
  );
  return {
    ...hit,
    message: `${hit.message}; raised to ${raised}: it fronts privileged pods of ${shown}, so a compromise from outside lands on a workload that can take over its node`,
    severity: raised,
  };
}

/** Cloud annotations that make a LoadBalancer Service internal (annotation → values meaning internal, [] = any non-"false"). */
const INTERNAL_ANNOTATIONS: Record<string, string[]> = {
  'service.beta.kubernetes.io/aws-load-balancer-internal': [],
  'service.beta.kubernetes.io/aws-load-balancer-scheme': ['internal'],
  'networking.gke.io/load-balancer-type': ['internal'],
  'cloud.google.com/load-balancer-type': ['internal'],
  'service.beta.kubernetes.io/azure-load-balancer-internal': ['true'],
  'service.beta.kubernetes.io/oci-load-balancer-internal': ['true'],
  'service.kubernetes.io/ibm-load-balancer-cloud-provider-ip-type': ['private'],
};

const OPEN_RANGES = new Set(['0.0.0.0/0', '::/0']);

function internalAnnotation(annotations: Record<string, unknown>): string | undefined {
  for (const [key, values] of Object.entries(INTERNAL_ANNOTATIONS)) {
    const v = asString(annotations[key])?.toLowerCase();
    if (v === undefined) continue;
    if (values.length === 0 ? v !== 'false' && v !== '' : values.includes(v)) return key;
  }
  return undefined;
}

function portList(spec: Record<string, unknown>, field: 'port' | 'nodePort'): string {
  const ports = asObjArray(spec['ports'])
    .map((p) => p[field])
    .filter((p): p is number => typeof p === 'number');
  return ports.join(', ');
}

export const serviceExposed: Rule = {
  id: 'network-service-exposed',
  title: 'Service is exposed outside the cluster (NodePort or LoadBalancer)',
  severity: 'medium',
  raisedTo: [FRONTS_PRIVILEGED],
  category: 'network',
  controls: ['NSA:Network separation and hardening'],
  rationale:
    "NodePort opens the service's port on every node's address, bypassing ingress controllers and their TLS and authentication; a LoadBalancer without source ranges is reachable from the whole internet. Each exposed service is attack surface that should be deliberate and restricted; one in front of privileged pods (privileged containers, host namespaces, hostPath) is raised one step, since a compromise through it can take over a node.",
  remediation:
    'Expose HTTP services through an Ingress or Gateway with TLS instead of NodePort; for LoadBalancers set spec.loadBalancerSourceRanges to the client networks, or make them internal with the cloud provider annotation.',
  kinds: ['Service'],
  profiles: [],
  check(obj, ctx) {
    return exposureHits(obj).map((h) => withContext(obj, ctx, h));
  },
};

function exposureHits(obj: KubeObject): RuleHit[] {
  const spec = asObj(obj['spec']);
  const type = serviceType(obj);
  if (type === 'NodePort') {
    const nodePorts = portList(spec, 'nodePort');
    return [
      {
        message: `spec.type=NodePort opens port(s) ${nodePorts || '(allocated at apply time)'} on every node`,
        severity: 'low',
      },
    ];
  }
  if (type !== 'LoadBalancer') return [];
  const annotations = asObj(asObj(obj.metadata)['annotations']);
  const internal = internalAnnotation(annotations);
  if (internal) return [{ message: `spec.type=LoadBalancer, internal (${internal})`, severity: 'low' }];
  const ranges = [
    ...asStringArray(spec['loadBalancerSourceRanges']),
    ...(asString(annotations['service.beta.kubernetes.io/load-balancer-source-ranges']) ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== ''),
  ];
  const ports = portList(spec, 'port');
  if (ranges.length > 0 && !ranges.some((r) => OPEN_RANGES.has(r))) {
    return [{ message: `spec.type=LoadBalancer restricted to ${ranges.join(', ')}`, severity: 'low' }];
  }
  const why =
    ranges.length === 0 ? 'without spec.loadBalancerSourceRanges' : 'with a source range open to any address';
  return [
    {
      message: `spec.type=LoadBalancer ${why}: port(s) ${ports || '?'} reachable from any address`,
      severity: 'medium',
    },
  ];
}
