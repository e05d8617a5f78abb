/**
 * Pod-level settings outside the Pod Security Standards that widen what one
 * container can do to another or to name resolution: `hostAliases` and
 * `shareProcessNamespace`. Both are rare in ordinary workloads, so flagging
 * them is low noise.
 */
import { WORKLOAD_KINDS, asObjArray, asString, asStringArray, podTemplate } from '../../engine/podspec.ts';
import type { Rule } from '../../engine/types.ts';
import { clip } from './_shared.ts';

export const hostAliases: Rule = {
  id: 'pod-host-aliases',
  title: 'Pod overrides name resolution with hostAliases',
  severity: 'low',
  category: 'workload',
  controls: [],
  rationale:
    "hostAliases writes entries into every container's /etc/hosts, taking precedence over cluster DNS. It hides where traffic really goes from anyone reading the Service or DNS configuration, can silently redirect calls meant for a trusted service to another address, and pins IPs that go stale.",
  remediation:
    'Remove spec.hostAliases and publish the name in DNS instead: a Service (ExternalName, or a selector-less Service with an EndpointSlice) or the cluster DNS configuration.',
  kinds: WORKLOAD_KINDS,
  profiles: ['recommended'],
  check(obj) {
    const tpl = podTemplate(obj);
    if (!tpl) return [];
    const aliases = asObjArray(tpl.spec['hostAliases']);
    if (aliases.length === 0) return [];
    const names = aliases.flatMap((a) => asStringArray(a['hostnames']));
    const ips = aliases.map((a) => asString(a['ip'])).filter((x) => x !== undefined);
    return [
      {
        message: `pod sets ${tpl.path}.hostAliases: ${clip(names.join(', ') || 'no hostnames')} → ${clip(ips.join(', ') || 'no ip')}`,
      },
    ];
  },
};

export const shareProcessNamespace: Rule = {
  id: 'pod-share-process-namespace',
  title: 'Containers of the pod share one process namespace',
  severity: 'medium',
  category: 'workload',
  controls: [],
  rationale:
    "With shareProcessNamespace every container sees every other container's processes: it can signal them, read their environment and command lines through /proc, and reach their root filesystems through /proc/<pid>/root. A compromise of any sidecar then exposes the secrets and files of the main container.",
  remediation:
    'Remove spec.shareProcessNamespace (or set it to false). For debugging, attach an ephemeral container with kubectl debug --target instead of sharing the namespace permanently.',
  kinds: WORKLOAD_KINDS,
  profiles: ['recommended'],
  check(obj) {
    const tpl = podTemplate(obj);
    if (!tpl || tpl.spec['shareProcessNamespace'] !== true) return [];
    return [{ message: `pod sets ${tpl.path}.shareProcessNamespace=true` }];
  },
};
