import type { Rule, RuleHit } from '../../engine/types.ts';
import { isObj } from '../../engine/podspec.ts';
import { BASELINE_PROFILES, KINDS, containersOf, isSet, podView, q, who } from './_pss.ts';

const ANNOTATION_PREFIX = 'container.apparmor.security.beta.kubernetes.io/';
const ALLOWED_TYPES = new Set(['RuntimeDefault', 'Localhost']);

function profileType(profile: unknown): unknown {
  return isObj(profile) ? (profile['type'] ?? '') : '';
}

/** Go: `AppArmorProfile != nil && !allowedProfileType(Type)`; an empty or missing type is forbidden. */
function forbiddenProfile(profile: unknown): boolean {
  if (!isSet(profile)) return false;
  const type = profileType(profile);
  return !(typeof type === 'string' && ALLOWED_TYPES.has(type));
}

function allowedAnnotation(v: unknown): boolean {
  if (v === null || v === undefined || v === '') return true;
  return typeof v === 'string' && (v === 'runtime/default' || v.startsWith('localhost/'));
}

/**
 * PSS baseline `appArmorProfile`: pod and container securityContext.appArmorProfile.type, when
 * set, must be RuntimeDefault or Localhost; the beta annotations
 * `container.apparmor.security.beta.kubernetes.io/*` must be empty, `runtime/default` or `localhost/*`.
 */
export const pssAppArmorProfile: Rule = {
  id: 'pss-app-armor-profile',
  title: 'AppArmor profile disabled or overridden',
  severity: 'high',
  category: 'pod-security',
  controls: ['PSS:appArmorProfile', 'NSA:Pod security'],
  rationale:
    'On AppArmor hosts the runtime applies a default profile that blocks mount, raw kernel interfaces and writes to sensitive /proc and /sys paths. An Unconfined (or arbitrary) profile removes that mandatory access control layer, so a container breakout needs one fewer step. Rated high: it weakens a defence rather than granting host access directly.',
  remediation:
    'Remove securityContext.appArmorProfile or set its type to RuntimeDefault (or Localhost with a reviewed localhostProfile) at pod and container level, and remove container.apparmor.security.beta.kubernetes.io/* annotations whose value is not runtime/default or localhost/<profile>.',
  kinds: KINDS,
  profiles: BASELINE_PROFILES,
  check(obj) {
    const p = podView(obj);
    if (!p) return [];
    const hits: RuleHit[] = [];
    const podProfile = p.sc['appArmorProfile'];
    if (forbiddenProfile(podProfile))
      hits.push({
        message: `pod sets ${p.path}.securityContext.appArmorProfile.type=${q(profileType(podProfile))}`,
      });
    for (const c of containersOf(p)) {
      const prof = c.sc['appArmorProfile'];
      if (forbiddenProfile(prof))
        hits.push({
          container: c.name,
          message: `${who(c)} sets ${c.path}.securityContext.appArmorProfile.type=${q(profileType(prof))}`,
        });
    }
    const annotations = p.metadata['annotations'];
    if (isObj(annotations)) {
      for (const key of Object.keys(annotations).sort()) {
        if (!key.startsWith(ANNOTATION_PREFIX) || allowedAnnotation(annotations[key])) continue;
        const target = key.slice(ANNOTATION_PREFIX.length);
        hits.push({
          container: target,
          message: `annotation ${q(key)} sets AppArmor profile ${q(annotations[key])} for container ${q(target)}`,
        });
      }
    }
    return hits;
  },
};
