import type { KubeObject, RaisedSeverity, Rule, RuleHit } from '../../engine/types.ts';
import {
  BASELINE_ONLY_PROFILES,
  KINDS,
  RESTRICTED_PROFILES,
  containersOf,
  isSet,
  leftToBaseline,
  podView,
  q,
  userNamespaced,
  who,
  type PodView,
} from './_pss.ts';

/** Containers whose securityContext.procMount is set to anything but Default. */
function nonDefaultProcMount(p: PodView, severityOf?: (p: PodView) => RuleHit['severity']): RuleHit[] {
  const hits: RuleHit[] = [];
  for (const c of containersOf(p)) {
    const pm = c.sc['procMount'];
    if (!isSet(pm) || pm === 'Default') continue;
    const hit: RuleHit = {
      container: c.name,
      message: `${who(c)} sets ${c.path}.securityContext.procMount=${q(pm)}`,
    };
    const sev = severityOf?.(p);
    if (sev) hit.severity = sev;
    hits.push(hit);
  }
  return hits;
}

const RATIONALE =
  'The default procMount masks and makes read-only sensitive /proc paths (kcore, keys, sysrq-trigger, timer_list …). Unmasked exposes them to the container, leaking kernel and host information and widening breakout paths. Inside a user namespace (hostUsers: false) the container root is unprivileged on the node, which is why PSA relaxes the baseline check there.';

/**
 * PSS baseline `procMount` (v1.35): container procMount must be unset or Default, unless the pod
 * runs in a user namespace (`spec.hostUsers: false`). Overridden at restricted by procMount_restricted.
 */
export const pssProcMount: Rule = {
  id: 'pss-proc-mount',
  title: 'Container unmasks /proc',
  severity: 'high',
  category: 'pod-security',
  controls: ['PSS:procMount', 'NSA:Pod security'],
  rationale: `${RATIONALE} Rated high: it weakens kernel isolation of a container that shares the host user namespace.`,
  remediation:
    'Remove securityContext.procMount or set it to Default in every container. If a nested container runtime really needs an unmasked /proc, run the pod with spec.hostUsers: false.',
  kinds: KINDS,
  profiles: BASELINE_ONLY_PROFILES,
  check(obj: KubeObject) {
    const p = podView(obj);
    if (!p || userNamespaced(p)) return [];
    return nonDefaultProcMount(p);
  },
};

/**
 * PSS restricted `procMount_restricted` (v1.35+): container procMount must be unset or Default
 * whatever spec.hostUsers is. Overrides the baseline procMount check.
 */
/** A pod sharing the host user namespace keeps pss-proc-mount's severity where this rule reports it. */
const HOST_USERS_RAISED: RaisedSeverity = {
  severity: pssProcMount.severity,
  when: 'a pod that shares the host user namespace, which this rule reports only where pss-proc-mount does not run (pss-restricted)',
};

export const pssProcMountRestricted: Rule = {
  id: 'pss-proc-mount-restricted',
  title: 'Container unmasks /proc (restricted)',
  severity: 'medium',
  raisedTo: [HOST_USERS_RAISED],
  category: 'pod-security',
  controls: ['PSS:procMount_restricted', 'NSA:Pod security'],
  rationale: `${RATIONALE} The restricted level allows no relaxation. Rated medium for user-namespaced pods; a finding on a pod that shares the host user namespace is raised to high, the baseline rating, unless pss-proc-mount runs too (recommended, all), which then reports it itself.`,
  remediation:
    'Remove securityContext.procMount or set it to Default in every container, init container and ephemeral container; restricted namespaces allow no other value, even with spec.hostUsers: false.',
  kinds: KINDS,
  profiles: RESTRICTED_PROFILES,
  check(obj: KubeObject, ctx) {
    const p = podView(obj);
    if (!p) return [];
    // Beside pss-proc-mount, pods sharing the host user namespace are its findings.
    if (!userNamespaced(p) && leftToBaseline(ctx, 'pss-proc-mount')) return [];
    return nonDefaultProcMount(p, (pv) => (userNamespaced(pv) ? undefined : HOST_USERS_RAISED.severity));
  },
};
