import type { Rule, RuleHit } from '../../engine/types.ts';
import {
  KINDS,
  RESTRICTED_PROFILES,
  containersOf,
  isSet,
  isTrue,
  podView,
  q,
  userNamespaced,
  who,
} from './_pss.ts';

/**
 * PSS restricted `runAsNonRoot` (v1.35): nothing may set runAsNonRoot=false, and each container
 * must set it true or inherit true from the pod. Pods with spec.hostUsers=false are exempt.
 */
export const pssRunAsNonRoot: Rule = {
  id: 'pss-run-as-non-root',
  title: 'Container may run as root',
  severity: 'medium',
  category: 'pod-security',
  controls: ['PSS:runAsNonRoot', 'CIS:5.2.7', 'NSA:Non-root containers', 'NSA:Pod security'],
  rationale:
    'Without runAsNonRoot=true the kubelet starts the container as whatever user the image names, very often root (UID 0). Root in a container shares the UID of root on the node, so any breakout or writable host mount is immediately root-level. Rated medium: a missing guard, not an explicit request for root (see pss-run-as-user). User-namespaced pods (hostUsers: false) map root to an unprivileged host UID and are exempt.',
  remediation:
    'Set spec.securityContext.runAsNonRoot: true in the pod template (and do not set it false on any container), build the image with a numeric non-root USER, or run the pod with spec.hostUsers: false.',
  kinds: KINDS,
  profiles: RESTRICTED_PROFILES,
  check(obj) {
    const p = podView(obj);
    if (!p || userNamespaced(p)) return [];
    const hits: RuleHit[] = [];
    const podValue = p.sc['runAsNonRoot'];
    const podTrue = isSet(podValue) && isTrue(podValue);
    if (isSet(podValue) && !podTrue)
      hits.push({
        message: `pod sets ${p.path}.securityContext.runAsNonRoot=${q(podValue)}; it must be true`,
      });
    for (const c of containersOf(p)) {
      const v = c.sc['runAsNonRoot'];
      if (isSet(v)) {
        if (!isTrue(v))
          hits.push({
            container: c.name,
            message: `${who(c)} sets ${c.path}.securityContext.runAsNonRoot=${q(v)}; it must be true`,
          });
      } else if (!podTrue) {
        hits.push({
          container: c.name,
          message: `${who(c)} must set ${c.path}.securityContext.runAsNonRoot=true, or the pod ${p.path}.securityContext.runAsNonRoot=true`,
        });
      }
    }
    return hits;
  },
};
