import type { RaisedSeverity, Rule, RuleHit } from '../../engine/types.ts';
import { isObj } from '../../engine/podspec.ts';
import {
  BASELINE_ONLY_PROFILES,
  KINDS,
  RESTRICTED_PROFILES,
  containersOf,
  isSet,
  leftToBaseline,
  podView,
  q,
  who,
  windowsPod,
  type PodView,
} from './_pss.ts';

const ALLOWED = new Set(['RuntimeDefault', 'Localhost']);

function profileType(profile: unknown): unknown {
  return isObj(profile) ? (profile['type'] ?? '') : '';
}

/** Go: `SeccompProfile != nil && !validSeccomp(Type)`; an empty or missing type is not valid. */
function explicitlyBad(profile: unknown): boolean {
  if (!isSet(profile)) return false;
  const t = profileType(profile);
  return !(typeof t === 'string' && ALLOWED.has(t));
}

/** Hits for every pod/container seccompProfile whose type is set but not RuntimeDefault/Localhost. */
function explicitHits(p: PodView): RuleHit[] {
  const hits: RuleHit[] = [];
  const podProfile = p.sc['seccompProfile'];
  if (explicitlyBad(podProfile))
    hits.push({
      message: `pod sets ${p.path}.securityContext.seccompProfile.type=${q(profileType(podProfile))}`,
    });
  for (const c of containersOf(p)) {
    const prof = c.sc['seccompProfile'];
    if (explicitlyBad(prof))
      hits.push({
        container: c.name,
        message: `${who(c)} sets ${c.path}.securityContext.seccompProfile.type=${q(profileType(prof))}`,
      });
  }
  return hits;
}

const RATIONALE =
  'Seccomp filters the system calls a container may make; the runtime default profile blocks dozens of rarely needed, frequently exploited calls (keyctl, unshare, mount, bpf, userfaultfd …). Unconfined removes that filter and exposes the whole kernel syscall surface to the workload.';

/**
 * PSS baseline `seccompProfile_baseline` (v1.19+): pod and container seccompProfile.type, when set,
 * must be RuntimeDefault or Localhost. Overridden at restricted by seccompProfile_restricted.
 */
export const pssSeccompProfileBaseline: Rule = {
  id: 'pss-seccomp-profile-baseline',
  title: 'Seccomp explicitly disabled',
  severity: 'high',
  category: 'pod-security',
  controls: ['PSS:seccompProfile_baseline', 'CIS:5.7.2', 'NSA:Pod security'],
  rationale: `${RATIONALE} Rated high: it is an explicit opt-out of kernel attack surface reduction.`,
  remediation:
    'Set securityContext.seccompProfile.type to RuntimeDefault (or Localhost with a reviewed localhostProfile) at pod level and remove Unconfined from every container securityContext.',
  kinds: KINDS,
  profiles: BASELINE_ONLY_PROFILES,
  check(obj) {
    const p = podView(obj);
    return p ? explicitHits(p) : [];
  },
};

/**
 * PSS restricted `seccompProfile_restricted` (v1.25): every container must run with RuntimeDefault
 * or Localhost, set on the container or inherited from a valid pod-level profile; explicit other
 * types fail. Windows pods (spec.os.name: windows) are exempt. Overrides seccompProfile_baseline.
 */
/** An explicit Unconfined (or other) type keeps the baseline rule's severity where this rule reports it. */
const EXPLICIT_RAISED: RaisedSeverity = {
  severity: pssSeccompProfileBaseline.severity,
  when: 'an explicit Unconfined (or other) type, which this rule reports only where pss-seccomp-profile-baseline does not run (pss-restricted)',
};

export const pssSeccompProfileRestricted: Rule = {
  id: 'pss-seccomp-profile-restricted',
  title: 'Seccomp profile not set to RuntimeDefault or Localhost',
  severity: 'medium',
  raisedTo: [EXPLICIT_RAISED],
  category: 'pod-security',
  controls: ['PSS:seccompProfile_restricted', 'CIS:5.7.2', 'NSA:Pod security'],
  rationale: `${RATIONALE} Containers without a profile run Unconfined on most runtimes unless the kubelet enables seccomp-default. Rated medium for a missing profile; an explicit Unconfined (or other) type is raised to high, the baseline rating, unless pss-seccomp-profile-baseline runs too (recommended, all), which then reports it itself.`,
  remediation:
    'Set spec.securityContext.seccompProfile.type: RuntimeDefault in the pod template (containers inherit it), or set it on each container; use Localhost with a reviewed profile when the default is too strict.',
  kinds: KINDS,
  profiles: RESTRICTED_PROFILES,
  check(obj, ctx) {
    const p = podView(obj);
    if (!p || windowsPod(p)) return [];
    // Beside pss-seccomp-profile-baseline, explicit bad types are its findings.
    const hits: RuleHit[] = leftToBaseline(ctx, 'pss-seccomp-profile-baseline')
      ? []
      : explicitHits(p).map((h) => ({ ...h, severity: EXPLICIT_RAISED.severity }));
    const podProfile = p.sc['seccompProfile'];
    const podValid = isSet(podProfile) && !explicitlyBad(podProfile);
    if (!podValid) {
      for (const c of containersOf(p)) {
        if (isSet(c.sc['seccompProfile'])) continue;
        hits.push({
          container: c.name,
          message: `${who(c)} has no ${c.path}.securityContext.seccompProfile and the pod sets no valid ${p.path}.securityContext.seccompProfile (RuntimeDefault or Localhost)`,
        });
      }
    }
    return hits;
  },
};
