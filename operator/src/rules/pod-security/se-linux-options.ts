import type { Rule, RuleHit } from '../../engine/types.ts';
import { isObj } from '../../engine/podspec.ts';
import { BASELINE_PROFILES, KINDS, containersOf, isSet, podView, q, who } from './_pss.ts';

/** Allowed seLinuxOptions.type values at v1.31+ ('' = unset). */
const ALLOWED_TYPES = new Set([
  '',
  'container_t',
  'container_init_t',
  'container_kvm_t',
  'container_engine_t',
]);

/** What is wrong with one seLinuxOptions object (empty when it is allowed). */
function problems(opts: unknown): string[] {
  const o = isObj(opts) ? opts : {};
  const out: string[] = [];
  const type = o['type'] ?? '';
  if (!(typeof type === 'string' && ALLOWED_TYPES.has(type))) out.push(`type=${q(type)}`);
  for (const field of ['user', 'role'] as const) {
    const v = o[field];
    if (isSet(v) && v !== '') out.push(`${field}=${q(v)}`);
  }
  return out;
}

/**
 * PSS baseline `seLinuxOptions`: pod and container seLinuxOptions.type must be empty,
 * container_t, container_init_t, container_kvm_t or container_engine_t; user and role must be empty.
 */
export const pssSeLinuxOptions: Rule = {
  id: 'pss-se-linux-options',
  title: 'Custom SELinux user, role or type',
  severity: 'high',
  category: 'pod-security',
  controls: ['PSS:seLinuxOptions', 'NSA:Pod security'],
  rationale:
    'On SELinux hosts the container_t type confines container processes away from host files and other containers. Choosing another type (for example spc_t or unconfined_t), user or role can lift that confinement entirely. Rated high: it removes a mandatory access control layer rather than granting host access by itself.',
  remediation:
    'Remove securityContext.seLinuxOptions.user and .role, and either remove .type or set it to container_t (container_init_t, container_kvm_t or container_engine_t where that is the purpose). Keep .level if you need MCS separation.',
  kinds: KINDS,
  profiles: BASELINE_PROFILES,
  check(obj) {
    const p = podView(obj);
    if (!p) return [];
    const hits: RuleHit[] = [];
    const podOpts = p.sc['seLinuxOptions'];
    if (isSet(podOpts)) {
      const bad = problems(podOpts);
      if (bad.length > 0)
        hits.push({
          message: `pod sets forbidden ${p.path}.securityContext.seLinuxOptions: ${bad.join(', ')}`,
        });
    }
    for (const c of containersOf(p)) {
      const opts = c.sc['seLinuxOptions'];
      if (!isSet(opts)) continue;
      const bad = problems(opts);
      if (bad.length > 0)
        hits.push({
          container: c.name,
          message: `${who(c)} sets forbidden ${c.path}.securityContext.seLinuxOptions: ${bad.join(', ')}`,
        });
    }
    return hits;
  },
};
