/**
 * spec.externalIPs on a Service (CVE-2020-8554): the cluster routes traffic for
 * those addresses to the Service's pods, so whoever can create a Service can
 * intercept traffic meant for any IP, inside the cluster. The Kubernetes fix is
 * the DenyServiceExternalIPs admission plugin or a policy allowing only known
 * addresses: param allowedExternalIPs lists those.
 */
import { asObj, asStringArray } from '../../engine/podspec.ts';
import type { Rule } from '../../engine/types.ts';

export const serviceExternalIPs: Rule = {
  id: 'network-service-external-ips',
  title: 'Service sets spec.externalIPs',
  severity: 'high',
  category: 'network',
  controls: ['CVE-2020-8554', 'NSA:Network separation and hardening'],
  rationale:
    "kube-proxy sends traffic addressed to a Service's externalIPs to that Service's pods, for any IP the Service claims, with no check of who owns the address (CVE-2020-8554, unfixable in kube-proxy). A tenant who can create Services can man-in-the-middle traffic to external IPs or other services.",
  remediation:
    "Remove spec.externalIPs and use a LoadBalancer or Ingress; enable the DenyServiceExternalIPs admission plugin, or list the addresses that are legitimately used in this rule's allowedExternalIPs param.",
  kinds: ['Service'],
  profiles: ['recommended'],
  params: [
    {
      name: 'allowedExternalIPs',
      description: 'External IPs that Services may claim (exact addresses); all others are reported.',
      type: 'string[]',
      default: [],
    },
  ],
  check(obj, ctx) {
    const ips = asStringArray(asObj(obj['spec'])['externalIPs']);
    const allowed = new Set(asStringArray(ctx.params['allowedExternalIPs']));
    const bad = ips.filter((ip) => !allowed.has(ip));
    if (bad.length === 0) return [];
    return [
      {
        message: `spec.externalIPs claims ${bad.join(', ')}: traffic to these addresses from inside the cluster goes to this Service`,
      },
    ];
  },
};
