import type { Rule, RuleHit } from '../../engine/types.ts';
import {
  KINDS,
  RESTRICTED_PROFILES,
  containersOf,
  isFalse,
  isSet,
  podView,
  q,
  who,
  windowsPod,
} from './_pss.ts';

/**
 * PSS restricted `allowPrivilegeEscalation` (v1.25): every container must set
 * securityContext.allowPrivilegeEscalation=false explicitly. Windows pods are exempt.
 */
export const pssAllowPrivilegeEscalation: Rule = {
  id: 'pss-allow-privilege-escalation',
  title: 'Container allows privilege escalation',
  severity: 'medium',
  category: 'pod-security',
  controls: ['PSS:allowPrivilegeEscalation', 'CIS:5.2.6', 'NSA:Pod security'],
  rationale:
    'Unless allowPrivilegeEscalation is false, the container process runs without the no_new_privs flag, so set-user-ID binaries and file capabilities in the image can raise its privileges (typically to root in the container). The default is to allow it. Rated medium: it needs another weakness (a setuid binary, a root-owned writable path) to matter.',
  remediation:
    'Set securityContext.allowPrivilegeEscalation: false on every container, init container and ephemeral container (it is not inherited from the pod). It is implied true for privileged containers and those with CAP_SYS_ADMIN, so remove those too.',
  kinds: KINDS,
  profiles: RESTRICTED_PROFILES,
  check(obj) {
    const p = podView(obj);
    if (!p || windowsPod(p)) return [];
    const hits: RuleHit[] = [];
    for (const c of containersOf(p)) {
      const v = c.sc['allowPrivilegeEscalation'];
      if (isFalse(v)) continue;
      hits.push({
        container: c.name,
        message: isSet(v)
          ? `${who(c)} sets ${c.path}.securityContext.allowPrivilegeEscalation=${q(v)}; it must be false`
          : `${who(c)} must set ${c.path}.securityContext.allowPrivilegeEscalation=false`,
      });
    }
    return hits;
  },
};
