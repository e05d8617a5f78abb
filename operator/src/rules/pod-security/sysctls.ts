import type { Rule, RuleHit } from '../../engine/types.ts';
import { asArray, dig } from '../../engine/podspec.ts';
import { BASELINE_PROFILES, KINDS, podView, q } from './_pss.ts';

/** The sysctls PSS allows at v1.37 (namespaced and isolated from other pods). */
export const SAFE_SYSCTLS_V1_37: ReadonlySet<string> = new Set([
  // 1.0
  'kernel.shm_rmid_forced',
  'net.ipv4.ip_local_port_range',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.ping_group_range',
  'net.ipv4.ip_unprivileged_port_start',
  // 1.27
  'net.ipv4.ip_local_reserved_ports',
  // 1.29
  'net.ipv4.tcp_keepalive_time',
  'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes',
  // 1.32
  'net.ipv4.tcp_rmem',
  'net.ipv4.tcp_wmem',
  // 1.37
  'net.ipv4.tcp_slow_start_after_idle',
  'net.ipv4.tcp_notsent_lowat',
]);

/** PSS baseline `sysctls` (v1.37): every spec.securityContext.sysctls[*].name must be in the safe set. */
export const pssSysctls: Rule = {
  id: 'pss-sysctls',
  title: 'Unsafe sysctl',
  severity: 'high',
  category: 'pod-security',
  controls: ['PSS:sysctls', 'NSA:Pod security'],
  rationale:
    'Sysctls outside the safe set are either not namespaced (they change the whole node kernel) or not isolated between pods: they can disable security mechanisms, degrade other workloads or open the node to denial of service. Rated high: the effect reaches beyond the pod.',
  remediation:
    'Remove unsafe entries from spec.securityContext.sysctls. Only kernel.shm_rmid_forced, net.ipv4.ip_local_port_range, ip_local_reserved_ports, ip_unprivileged_port_start, ping_group_range, tcp_syncookies, tcp_keepalive_time/_intvl/_probes, tcp_fin_timeout, tcp_rmem, tcp_wmem, tcp_slow_start_after_idle and tcp_notsent_lowat are allowed; tune anything else on the node, for dedicated node pools only.',
  kinds: KINDS,
  profiles: BASELINE_PROFILES,
  check(obj) {
    const p = podView(obj);
    if (!p) return [];
    const hits: RuleHit[] = [];
    asArray(p.sc['sysctls']).forEach((s, i) => {
      const name = dig(s, 'name') ?? '';
      if (typeof name === 'string' && SAFE_SYSCTLS_V1_37.has(name)) return;
      hits.push({
        message: `pod sets forbidden sysctl ${q(name)} in ${p.path}.securityContext.sysctls[${i}]`,
      });
    });
    return hits;
  },
};
