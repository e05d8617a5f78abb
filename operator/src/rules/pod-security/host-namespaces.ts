import type { Rule, RuleHit } from '../../engine/types.ts';
import { BASELINE_PROFILES, KINDS, isTrue, podView } from './_pss.ts';

/** PSS baseline `hostNamespaces`: spec.hostNetwork, hostPID and hostIPC must be unset or false. */
export const pssHostNamespaces: Rule = {
  id: 'pss-host-namespaces',
  title: 'Pod shares host namespaces',
  severity: 'critical',
  category: 'pod-security',
  controls: ['PSS:hostNamespaces', 'CIS:5.2.3', 'CIS:5.2.4', 'CIS:5.2.5', 'NSA:Pod security', 'MITRE:T1611'],
  rationale:
    'hostPID lets the pod see and signal (and with ptrace, inject into) every process on the node; hostIPC exposes host shared memory; hostNetwork bypasses NetworkPolicies and reaches node-local services such as the kubelet and cloud metadata endpoints. Each removes an isolation boundary between the pod and the node, so it is rated critical.',
  remediation:
    'Remove spec.hostNetwork, spec.hostPID and spec.hostIPC from the pod template (or set them to false). Expose ports through a Service instead of the host network, and run node agents that truly need host namespaces in a dedicated namespace with its own policy exception.',
  kinds: KINDS,
  profiles: BASELINE_PROFILES,
  check(obj) {
    const p = podView(obj);
    if (!p) return [];
    const hits: RuleHit[] = [];
    for (const field of ['hostNetwork', 'hostPID', 'hostIPC'] as const) {
      if (isTrue(p.spec[field])) hits.push({ message: `pod sets ${p.path}.${field}=true` });
    }
    return hits;
  },
};
