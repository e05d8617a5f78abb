/** Helpers shared by the audit rules. */
import { BlockList, isIP } from 'node:net';
import { anyGlob } from '../../engine/match.ts';
import type { AuditEvent } from '../types.ts';

export const MITRE = 'https://attack.mitre.org/techniques/';
export const K8S_AUDIT = 'https://kubernetes.io/docs/tasks/debug/debug-cluster/audit/';
export const K8S_RBAC_GOOD = 'https://kubernetes.io/docs/concepts/security/rbac-good-practices/';

/** Technique URL: T1552.007 → …/T1552/007/. */
export function mitreUrl(id: string): string {
  return `${MITRE}${id.replace('.', '/')}/`;
}

export function inNamespace(ev: AuditEvent, ns: string): boolean {
  return ev.resource.namespace === ns;
}

export function isResource(
  ev: AuditEvent,
  group: string,
  resources: readonly string[],
  subresource = '',
): boolean {
  return (
    ev.resource.group === group &&
    resources.includes(ev.resource.resource) &&
    ev.resource.subresource === subresource
  );
}

export function matchesAny(patterns: readonly string[], value: string): boolean {
  return patterns.length > 0 && anyGlob(patterns, value);
}

const blockLists = new WeakMap<readonly string[], BlockList>();

/** A BlockList of the CIDRs (built once per list; invalid entries were rejected by the settings). */
function blockListOf(cidrs: readonly string[]): BlockList {
  let bl = blockLists.get(cidrs);
  if (!bl) {
    bl = new BlockList();
    for (const c of cidrs) {
      const [addr = '', prefix = ''] = c.split('/');
      const family = isIP(addr) === 6 ? 'ipv6' : 'ipv4';
      bl.addSubnet(addr, Number(prefix), family);
    }
    blockLists.set(cidrs, bl);
  }
  return bl;
}

/** True when `ip` is a valid address inside one of the CIDRs. */
export function ipInCidrs(ip: string, cidrs: readonly string[]): boolean {
  const family = isIP(ip);
  if (family === 0) return false;
  return blockListOf(cidrs).check(ip, family === 6 ? 'ipv6' : 'ipv4');
}

/** A valid `addr/prefix` CIDR. */
export function validCidr(c: string): boolean {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(c);
  if (!m) return false;
  const family = isIP(m[1] ?? '');
  const prefix = Number(m[2]);
  return family === 4 ? prefix <= 32 : family === 6 ? prefix <= 128 : false;
}
