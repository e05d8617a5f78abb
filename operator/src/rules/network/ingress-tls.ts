/**
 * Ingress hosts served without TLS: spec.tls missing, or not covering every
 * host in spec.rules (a tls entry without hosts covers all; `*.example.com`
 * covers one label). Rules without a host, and spec.defaultBackend, serve any
 * host name and need a hostless tls entry. Ingresses whose TLS terminates at a
 * cloud load balancer (AWS certificate-arn, GKE managed or pre-shared
 * certificates) are not reported. Raised to high when a backend Service selects
 * privileged pods (privileged containers, host namespaces, hostPath) in scope.
 */
import { asObj, asObjArray, asString, asStringArray, isObj } from '../../engine/podspec.ts';
import type { RaisedSeverity, Rule, RuleHit } from '../../engine/types.ts';
import { listShort, privilegedBehindIngress } from './_net.ts';

const CLOUD_TLS_ANNOTATIONS = [
  'alb.ingress.kubernetes.io/certificate-arn',
  'networking.gke.io/managed-certificates',
  'ingress.gcp.kubernetes.io/pre-shared-cert',
];

function covered(host: string, tlsHosts: readonly string[]): boolean {
  for (const t of tlsHosts) {
    if (t === host) return true;
    if (t.startsWith('*.') && host !== '*') {
      const suffix = t.slice(1);
      if (
        host.endsWith(suffix) &&
        !host.slice(0, -suffix.length).includes('.') &&
        host.length > suffix.length
      )
        return true;
    }
  }
  return false;
}

/** In front of privileged pods. */
const FRONTS_PRIVILEGED: RaisedSeverity = {
  severity: 'high',
  when: 'an Ingress in front of privileged pods (privileged containers, host namespaces, hostPath)',
};

export const ingressWithoutTls: Rule = {
  id: 'network-ingress-without-tls',
  title: 'Ingress serves hosts without TLS',
  severity: 'medium',
  raisedTo: [FRONTS_PRIVILEGED],
  category: 'network',
  controls: ['NSA:Encryption'],
  rationale:
    'Hosts without a TLS section are served over plain HTTP: session cookies, tokens and form data cross the network in clear text and can be read or altered by anyone on the path. In front of privileged pods (privileged containers, host namespaces, hostPath) it is raised to high.',
  remediation:
    'Add a spec.tls entry listing every host with a certificate Secret (cert-manager can issue and renew it), and configure the controller to redirect HTTP to HTTPS.',
  kinds: ['Ingress'],
  profiles: ['recommended'],
  check(obj, ctx) {
    const annotations = asObj(asObj(obj.metadata)['annotations']);
    if (CLOUD_TLS_ANNOTATIONS.some((a) => asString(annotations[a]))) return [];
    const spec = asObj(obj['spec']);
    const hosts = new Set<string>();
    for (const rule of asObjArray(spec['rules'])) hosts.add(asString(rule['host']) || '*');
    if (isObj(spec['defaultBackend']) || isObj(spec['backend'])) hosts.add('*');
    if (hosts.size === 0) return [];
    const tls = asObjArray(spec['tls']);
    if (tls.some((t) => asStringArray(t['hosts']).length === 0)) return [];
    const tlsHosts = tls.flatMap((t) => asStringArray(t['hosts']));
    const open = [...hosts].filter((h) => !covered(h, tlsHosts));
    if (open.length === 0) return [];
    const shown = open.map((h) => (h === '*' ? '(any host)' : h)).join(', ');
    const msg =
      tls.length === 0
        ? `has no spec.tls: ${shown} served over plain HTTP`
        : `spec.tls does not cover ${shown}: served over plain HTTP`;
    const risky = privilegedBehindIngress(obj, ctx.index);
    if (risky.length === 0) return [{ message: msg }];
    const hit: RuleHit = {
      message: `${msg}; raised to ${FRONTS_PRIVILEGED.severity}: it fronts privileged pods of ${listShort(risky, 3)}, so whoever reads or alters the traffic reaches a workload that can take over its node`,
      severity: FRONTS_PRIVILEGED.severity,
    };
    return [hit];
  },
};
