import type { Rule, RuleHit } from '../../engine/types.ts';
import { BASELINE_PROFILES, KINDS, containersOf, isTrue, podView, who } from './_pss.ts';

/** PSS baseline `privileged`: no container may set securityContext.privileged=true. */
export const pssPrivileged: Rule = {
  id: 'pss-privileged',
  title: 'Privileged container',
  severity: 'critical',
  category: 'pod-security',
  controls: ['PSS:privileged', 'CIS:5.2.2', 'NSA:Pod security', 'MITRE:T1611'],
  rationale:
    'A privileged container runs with every capability, no seccomp or AppArmor confinement and access to all host devices. It is root on the node: it can mount the host disk, load kernel modules and take over every other pod there, so it is rated critical.',
  remediation:
    'Remove securityContext.privileged (or set it to false) in every container, init container and ephemeral container. Grant only the specific capabilities the workload needs, or move node-level agents to a dedicated, separately governed namespace.',
  kinds: KINDS,
  profiles: BASELINE_PROFILES,
  check(obj) {
    const p = podView(obj);
    if (!p) return [];
    const hits: RuleHit[] = [];
    for (const c of containersOf(p)) {
      if (isTrue(c.sc['privileged']))
        hits.push({ container: c.name, message: `${who(c)} sets ${c.path}.securityContext.privileged=true` });
    }
    return hits;
  },
};
