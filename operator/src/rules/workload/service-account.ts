/**
 * Service account identity and API token of pods.
 *
 * The token is mounted unless the pod sets automountServiceAccountToken: false,
 * or leaves it unset and its ServiceAccount (when in scope) sets it to false.
 * The pod field wins over the ServiceAccount field, as in the API server.
 *
 * - `default-service-account-used` (recommended): the pod uses the namespace's
 *   `default` service account AND mounts its token. A pod that uses `default`
 *   without a token carries no credential, so it is not reported: that keeps
 *   the rule to what CIS 5.1.5 is about (default tokens handed to every pod).
 * - `service-account-token-automounted` (all): any pod that mounts a token.
 *   Most workloads never call the API, but nearly every manifest leaves the
 *   default on, so in `recommended` this would be noise.
 */
import { WORKLOAD_KINDS, asString, dig, podTemplate, type PodTemplate } from '../../engine/podspec.ts';
import type { KubeObject, Rule, RuleContext } from '../../engine/types.ts';
import { clip, sameNamespaceObjects } from './_shared.ts';

export function serviceAccountName(tpl: PodTemplate): { name: string; explicit: boolean } {
  const name = asString(tpl.spec['serviceAccountName']) || asString(tpl.spec['serviceAccount']);
  return name ? { name, explicit: true } : { name: 'default', explicit: false };
}

type Mount = { mounted: false } | { mounted: true; why: string };

export function tokenMount(obj: KubeObject, tpl: PodTemplate, ctx: RuleContext): Mount {
  const field = `${tpl.path}.automountServiceAccountToken`;
  const own = tpl.spec['automountServiceAccountToken'];
  if (own === false) return { mounted: false };
  if (own === true) return { mounted: true, why: `${field}=true` };
  const sa = serviceAccountName(tpl).name;
  const accounts = sameNamespaceObjects(ctx.index, 'ServiceAccount', obj).filter(
    (o) => dig(o, 'metadata', 'name') === sa,
  );
  if (accounts.some((o) => o['automountServiceAccountToken'] === false)) return { mounted: false };
  return { mounted: true, why: `${field} is not false` };
}

export const defaultServiceAccount: Rule = {
  id: 'default-service-account-used',
  title: 'Pod mounts the token of the default service account',
  severity: 'low',
  category: 'workload',
  controls: ['CIS:5.1.5', 'NSA:Protecting Pod service account tokens'],
  rationale:
    'Every pod that does not name a service account runs as the namespace\'s "default" account. Permissions granted to it for one workload silently apply to all of them, and with the token mounted any compromised container in the namespace can use them against the API server.',
  remediation:
    'Create a dedicated ServiceAccount per workload and set spec.serviceAccountName, and set automountServiceAccountToken: false on the default ServiceAccount (or on the pod when it never calls the API).',
  kinds: WORKLOAD_KINDS,
  profiles: ['recommended'],
  check(obj, ctx) {
    const tpl = podTemplate(obj);
    if (!tpl) return [];
    const sa = serviceAccountName(tpl);
    if (sa.name !== 'default') return [];
    const m = tokenMount(obj, tpl, ctx);
    if (!m.mounted) return [];
    const how = sa.explicit
      ? `${tpl.path}.serviceAccountName=default`
      : `${tpl.path}.serviceAccountName is unset`;
    return [
      { message: `pod runs as the "default" service account (${how}) and mounts its API token (${m.why})` },
    ];
  },
};

export const tokenAutomounted: Rule = {
  id: 'service-account-token-automounted',
  title: 'Pod mounts a service account API token',
  severity: 'low',
  category: 'workload',
  controls: ['CIS:5.1.6', 'NSA:Protecting Pod service account tokens', 'MITRE:T1528'],
  rationale:
    'A mounted service account token is a credential for the Kubernetes API in every container of the pod. Most applications never call the API; for them the token only helps an attacker who gets code execution to explore the cluster or use whatever RBAC the account has.',
  remediation:
    'Set automountServiceAccountToken: false in the pod spec (or on its ServiceAccount); workloads that need the API can mount a short-lived, audience-bound token through a projected serviceAccountToken volume instead.',
  kinds: WORKLOAD_KINDS,
  profiles: [],
  check(obj, ctx) {
    const tpl = podTemplate(obj);
    if (!tpl) return [];
    const m = tokenMount(obj, tpl, ctx);
    if (!m.mounted) return [];
    return [
      {
        message: `pod mounts the API token of service account "${clip(serviceAccountName(tpl).name)}" (${m.why})`,
      },
    ];
  },
};
