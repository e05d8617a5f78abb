import type { Rule, RuleHit } from '../../engine/types.ts';
import { dig } from '../../engine/podspec.ts';
import { BASELINE_PROFILES, KINDS, containersOf, isSet, podView, q, who } from './_pss.ts';

const PROBES = ['livenessProbe', 'readinessProbe', 'startupProbe'] as const;
const HANDLERS = ['postStart', 'preStop'] as const;
const ACTIONS = ['httpGet', 'tcpSocket'] as const;

/** A `host` is forbidden when it is a non-empty string (or anything else but empty/null). */
function forbiddenHost(v: unknown): boolean {
  return isSet(v) && v !== '';
}

/**
 * PSS baseline `hostProbesAndHostLifecycle` (v1.34+): httpGet.host and tcpSocket.host must be
 * empty in the liveness, readiness and startup probes and the postStart/preStop handlers of
 * every container.
 */
export const pssHostProbesAndHostLifecycle: Rule = {
  id: 'pss-host-probes-and-host-lifecycle',
  title: 'Probe or lifecycle handler targets another host',
  severity: 'high',
  category: 'pod-security',
  controls: ['PSS:hostProbesAndHostLifecycle', 'NSA:Pod security'],
  rationale:
    'The kubelet runs httpGet and tcpSocket probes and lifecycle handlers from the node network namespace. Setting `host` turns it into a request proxy (server-side request forgery): a pod author can make the node reach node-local services, the cloud metadata endpoint or other internal addresses it could not reach itself. Rated high: it crosses the pod/node boundary without giving code execution.',
  remediation:
    'Remove `host` from every httpGet and tcpSocket probe and postStart/preStop handler so that the kubelet targets the pod IP. Check a dependency from inside the container (an exec probe) or with external monitoring instead.',
  kinds: KINDS,
  profiles: BASELINE_PROFILES,
  check(obj) {
    const p = podView(obj);
    if (!p) return [];
    const hits: RuleHit[] = [];
    for (const c of containersOf(p)) {
      const places: [string, unknown][] = [
        ...PROBES.map((pr): [string, unknown] => [pr, c.container[pr]]),
        ...HANDLERS.map((h): [string, unknown] => [`lifecycle.${h}`, dig(c.container, 'lifecycle', h)]),
      ];
      for (const [field, handler] of places) {
        for (const action of ACTIONS) {
          const host = dig(handler, action, 'host');
          if (forbiddenHost(host))
            hits.push({
              container: c.name,
              message: `${who(c)} sets ${c.path}.${field}.${action}.host=${q(host)}`,
            });
        }
      }
    }
    return hits;
  },
};
