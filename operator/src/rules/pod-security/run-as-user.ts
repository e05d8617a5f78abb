import type { Rule, RuleHit } from '../../engine/types.ts';
import { KINDS, RESTRICTED_PROFILES, containersOf, podView, userNamespaced, who } from './_pss.ts';

function isRoot(v: unknown): boolean {
  return v === 0 || v === '0' || v === 0n;
}

/**
 * PSS restricted `runAsUser` (v1.35): runAsUser must not be 0 at pod or container level.
 * Pods with spec.hostUsers=false are exempt.
 */
export const pssRunAsUser: Rule = {
  id: 'pss-run-as-user',
  title: 'Container explicitly runs as UID 0',
  severity: 'high',
  category: 'pod-security',
  controls: ['PSS:runAsUser', 'CIS:5.2.7', 'NSA:Non-root containers', 'NSA:Pod security'],
  rationale:
    'runAsUser: 0 explicitly runs the process as root, overriding the image USER. Root in the container is root on the node for any breakout, writable host path or kernel bug. Rated high, above the restricted-level default, because it is a deliberate request for root, not a missing guard. User-namespaced pods (hostUsers: false) are exempt: their UID 0 maps to an unprivileged host UID.',
  remediation:
    'Set runAsUser to a non-zero UID (e.g. 65532) at pod or container level, or remove it and build the image with a numeric non-root USER; if the workload truly needs root inside, run it with spec.hostUsers: false.',
  kinds: KINDS,
  profiles: RESTRICTED_PROFILES,
  check(obj) {
    const p = podView(obj);
    if (!p || userNamespaced(p)) return [];
    const hits: RuleHit[] = [];
    if (isRoot(p.sc['runAsUser'])) hits.push({ message: `pod sets ${p.path}.securityContext.runAsUser=0` });
    for (const c of containersOf(p)) {
      if (isRoot(c.sc['runAsUser']))
        hits.push({ container: c.name, message: `${who(c)} sets ${c.path}.securityContext.runAsUser=0` });
    }
    return hits;
  },
};
