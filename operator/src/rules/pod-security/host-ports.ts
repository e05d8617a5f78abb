import type { Rule, RuleHit } from '../../engine/types.ts';
import { asArray, isObj } from '../../engine/podspec.ts';
import { BASELINE_PROFILES, KINDS, containersOf, isSet, isTrue, podView, q, who } from './_pss.ts';

/**
 * PSS baseline `hostPorts`: every container's ports[*].hostPort must be unset or 0.
 *
 * PSA sees the defaulted object. For a Pod (not a pod template, since v1.28) with
 * hostNetwork=true, the API server sets an unset hostPort of regular and init containers
 * to the containerPort, so PSA reports those ports too; this rule does the same.
 */
export const pssHostPorts: Rule = {
  id: 'pss-host-ports',
  title: 'Container uses a hostPort',
  severity: 'high',
  category: 'pod-security',
  controls: ['PSS:hostPorts', 'CIS:5.2.13', 'NSA:Pod security'],
  rationale:
    'A hostPort binds the container port on the node IP address. It bypasses NetworkPolicies and Service-level controls, exposes the workload on every network that reaches the node, and lets a pod squat ports other node services expect. It does not by itself give control of the node, so it is rated high.',
  remediation:
    'Remove ports[*].hostPort (or set it to 0) in every container and expose the workload through a Service (ClusterIP, NodePort or LoadBalancer) or an Ingress/Gateway instead.',
  kinds: KINDS,
  profiles: BASELINE_PROFILES,
  check(obj) {
    const p = podView(obj);
    if (!p) return [];
    const defaulted = p.kind === 'Pod' && isTrue(p.spec['hostNetwork']);
    const hits: RuleHit[] = [];
    for (const c of containersOf(p)) {
      asArray(c.container['ports']).forEach((port, i) => {
        if (!isObj(port)) return;
        const hostPort = port['hostPort'];
        if (isSet(hostPort) && hostPort !== 0) {
          hits.push({
            container: c.name,
            message: `${who(c)} sets ${c.path}.ports[${i}].hostPort=${q(hostPort)}`,
          });
        } else if (defaulted && c.type !== 'ephemeralContainers') {
          const cp = port['containerPort'];
          if (isSet(cp) && cp !== 0)
            hits.push({
              container: c.name,
              message: `${who(c)} gets ${c.path}.ports[${i}].hostPort=${q(cp)} (defaulted from containerPort because hostNetwork=true)`,
            });
        }
      });
    }
    return hits;
  },
};
