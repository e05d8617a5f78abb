/**
 * Images must come from registries (or repositories) on an allow-list.
 *
 * The list is the `allowedRegistries` param, empty by default: the rule passes
 * until a policy names the registries it trusts. Entries are registry hosts
 * (with port when not the default, `*` globs within a host) or host/path
 * prefixes; see registryAllowed() for exact semantics. References are
 * normalised first, so "nginx" is docker.io/library/nginx and matches
 * "docker.io". With a list set, an image that cannot be parsed is reported
 * (fail closed): its registry cannot be established.
 */
import { WORKLOAD_KINDS, asStringArray } from '../../engine/podspec.ts';
import type { Rule, RuleHit } from '../../engine/types.ts';
import { checkedContainers, clip } from '../workload/_shared.ts';
import { parseImageRef, registryAllowed } from './image-ref.ts';

export const registryNotAllowed: Rule = {
  id: 'image-registry-not-allowed',
  title: 'Image comes from a registry outside the allow-list',
  severity: 'medium',
  category: 'supply-chain',
  controls: ['NSA:Building secure container images', 'MITRE:T1195.002'],
  rationale:
    "Images from arbitrary registries bypass the controls an organisation applies to the ones it runs: vulnerability scanning, signing, retention, mirroring and access control. A typo-squatted or compromised public repository then runs in the cluster with the workload's privileges.",
  remediation:
    'Mirror or rebuild the image into an approved registry and reference it there, or, when the registry is trustworthy, add its host (or host/path prefix) to the allowedRegistries param of this rule in the SecurityPolicy.',
  kinds: WORKLOAD_KINDS,
  profiles: ['recommended'],
  params: [
    {
      name: 'allowedRegistries',
      description:
        'Allowed registry hosts ("ghcr.io", "registry.local:5000", "*.dkr.ecr.eu-west-1.amazonaws.com") or host/path prefixes ("docker.io/library"). Empty: every registry is allowed.',
      type: 'string[]',
      default: [],
    },
  ],
  check(obj, ctx) {
    const allowed = asStringArray(ctx.params['allowedRegistries']).filter((e) => e.trim() !== '');
    if (allowed.length === 0) return [];
    const hits: RuleHit[] = [];
    for (const c of checkedContainers(obj, {})) {
      const image = c.container['image'];
      const r = parseImageRef(image);
      if (!r.ok) {
        const shown = typeof image === 'string' ? `"${clip(image)}"` : 'missing';
        hits.push({
          container: c.name,
          message: `container "${c.name}" image ${shown} cannot be parsed (${r.error}), so its registry cannot be checked against the allow-list (${c.path}.image)`,
        });
        continue;
      }
      if (allowed.some((e) => registryAllowed(r.ref, e))) continue;
      hits.push({
        container: c.name,
        message: `container "${c.name}" image "${clip(String(image))}" comes from registry "${clip(r.ref.registry)}" (${clip(r.ref.name)}), which is not in allowedRegistries (${c.path}.image)`,
      });
    }
    return hits;
  },
};
