/**
 * Which image a container actually runs: tags, digests and pull policies.
 *
 * - `image-latest-tag` (recommended): the reference has no digest and its tag is
 *   `latest` or absent (which the runtime reads as `latest`).
 * - `image-not-pinned-by-digest` (all): no `@sha256:…` digest. Tags can be
 *   re-pointed by anyone who can push; only a digest names immutable content.
 *   Most manifests use tags, so only in `all`.
 * - `image-pull-policy-stale` (recommended): the effective pull policy is
 *   IfNotPresent or Never while the tag is mutable. Nodes then keep whatever
 *   the tag pointed to when they first pulled it: replicas on different nodes
 *   run different builds and a patched image pushed under the same tag never
 *   reaches nodes that already have the old one. Effective policy follows the
 *   API server's defaulting: unset means Always for `latest`/no tag (and no
 *   digest), IfNotPresent otherwise. A tag is mutable when it is `latest`/absent,
 *   matches `mutableTags` (channel tags such as `stable`, `main`, `lts-*`) or,
 *   with `floatingVersionTags`, is a major or major.minor version (`1`, `1.27`,
 *   `v3.12-slim`) that upstreams move on every patch release. Digests are never
 *   stale; `Always` with a mutable tag is correct.
 *
 * Unparseable references are skipped here (the kubelet refuses them anyway).
 */
import { WORKLOAD_KINDS, asStringArray } from '../../engine/podspec.ts';
import { anyGlob, globMatch } from '../../engine/match.ts';
import type { KubeObject, ParamSpec, Params, Rule, RuleHit } from '../../engine/types.ts';
import { checkedContainers, clip, type ContainerAt } from '../workload/_shared.ts';
import { parseImageRef, type ImageRef } from './image-ref.ts';

const EXEMPT_IMAGES_PARAM: ParamSpec = {
  name: 'exemptImages',
  description:
    'Image references as written in the manifest (shell globs, e.g. "registry.local/dev/*") this rule does not check.',
  type: 'string[]',
  default: [],
};

interface ImageAt extends ContainerAt {
  image: string;
  ref: ImageRef;
}

/** Every container with a parseable image that is not exempt. */
function images(obj: KubeObject, params: Params): ImageAt[] {
  const out: ImageAt[] = [];
  const exempt = asStringArray(params['exemptImages']);
  for (const c of checkedContainers(obj, {})) {
    const image = c.container['image'];
    if (typeof image !== 'string' || anyGlob(exempt, image)) continue;
    const r = parseImageRef(image);
    if (r.ok) out.push({ ...c, image, ref: r.ref });
  }
  return out;
}

export const latestTag: Rule = {
  id: 'image-latest-tag',
  title: 'Image uses the latest tag or no tag',
  severity: 'high',
  category: 'supply-chain',
  controls: ['NSA:Building secure container images', 'MITRE:T1525'],
  rationale:
    'An image without a tag, or tagged latest, runs whatever was pushed last: every restart or new node may run different code, rollbacks cannot go back to a known version, and anyone who can push to the repository gets their code deployed without a change to the manifest. It also hides which version a vulnerability report is about.',
  remediation:
    'Reference an explicit version tag produced by your release process, and better a digest (image: registry/app:1.4.2@sha256:…), so the manifest names exactly the reviewed build.',
  kinds: WORKLOAD_KINDS,
  profiles: ['recommended'],
  params: [EXEMPT_IMAGES_PARAM],
  check(obj, ctx) {
    const hits: RuleHit[] = [];
    for (const i of images(obj, ctx.params)) {
      if (i.ref.digest !== undefined) continue;
      if (i.ref.tag === undefined)
        hits.push({
          container: i.name,
          message: `container "${i.name}" image "${clip(i.image)}" has no tag and pulls :latest (${i.path}.image)`,
        });
      else if (i.ref.tag === 'latest')
        hits.push({
          container: i.name,
          message: `container "${i.name}" image "${clip(i.image)}" uses the latest tag (${i.path}.image)`,
        });
    }
    return hits;
  },
};

export const notPinnedByDigest: Rule = {
  id: 'image-not-pinned-by-digest',
  title: 'Image is not pinned by digest',
  severity: 'low',
  category: 'supply-chain',
  controls: ['NSA:Building secure container images', 'MITRE:T1525'],
  rationale:
    'Tags are mutable pointers: whoever can push to the repository (or compromises it) can move a tag to different content, and the next pull runs it. Only a digest guarantees that the content that was scanned, signed and reviewed is the content that runs.',
  remediation:
    'Append the digest of the reviewed build to the reference (image: registry/app:1.4.2@sha256:…), e.g. with crane digest or your CD tool, and let automation (Renovate, Dependabot) update it.',
  kinds: WORKLOAD_KINDS,
  profiles: [],
  params: [EXEMPT_IMAGES_PARAM],
  check(obj, ctx) {
    return images(obj, ctx.params)
      .filter((i) => i.ref.digest === undefined)
      .map((i) => ({
        container: i.name,
        message: `container "${i.name}" image "${clip(i.image)}" is not pinned by digest (${i.path}.image)`,
      }));
  },
};

export const DEFAULT_MUTABLE_TAGS = [
  'stable',
  'stable-*',
  'main',
  'master',
  'develop',
  'dev',
  'edge',
  'nightly',
  'canary',
  'beta',
  'alpha',
  'next',
  'current',
  'rolling',
  'lts',
  'lts-*',
  'mainline',
  'mainline-*',
  'release',
  'snapshot',
  'alpine',
  'slim',
  'latest-*',
  '*-latest',
];

/** Major or major.minor version with an optional variant suffix: 1, 1.27, v3.12-slim, 18-alpine3.20. */
const FLOATING_VERSION = /^v?\d{1,2}(?:\.\d{1,3})?(?:-[a-z][a-z0-9.]*)*$/i;

/** How the tag is mutable (a verb phrase for messages), or undefined for a fixed release or a digest. */
export function mutableTag(ref: ImageRef, params: Params): string | undefined {
  if (ref.digest !== undefined) return undefined;
  if (ref.tag === undefined) return 'has no tag (pulls latest)';
  if (ref.tag === 'latest') return 'uses the latest tag';
  const tag = ref.tag;
  if (asStringArray(params['mutableTags']).some((p) => globMatch(p.toLowerCase(), tag.toLowerCase())))
    return `uses the channel tag "${clip(tag, 60)}"`;
  if (params['floatingVersionTags'] !== false && FLOATING_VERSION.test(tag))
    return `uses the floating version tag "${clip(tag, 60)}"`;
  return undefined;
}

/** The pull policy the API server stores for a container (explicit, or defaulted from the tag). */
export function effectivePullPolicy(c: ContainerAt, ref: ImageRef): { policy: string; defaulted: boolean } {
  const explicit = c.container['imagePullPolicy'];
  if (typeof explicit === 'string' && explicit !== '') return { policy: explicit, defaulted: false };
  const tag = ref.tag ?? (ref.digest === undefined ? 'latest' : undefined);
  return { policy: tag === 'latest' ? 'Always' : 'IfNotPresent', defaulted: true };
}

export const pullPolicyStale: Rule = {
  id: 'image-pull-policy-stale',
  title: 'Mutable image tag with a pull policy that keeps stale images',
  severity: 'low',
  category: 'supply-chain',
  controls: ['NSA:Upgrading and application security practices'],
  rationale:
    'With imagePullPolicy IfNotPresent or Never a node reuses whatever image it cached under the tag. For a tag that moves (latest, stable, 1.27) replicas on different nodes silently run different builds, and a security fix pushed under the same tag never reaches nodes that already hold the old one.',
  remediation:
    'Pin the image by digest (then IfNotPresent is correct and cheap), or use an immutable release tag, or set imagePullPolicy: Always for images that must follow a moving tag.',
  kinds: WORKLOAD_KINDS,
  profiles: ['recommended'],
  params: [
    EXEMPT_IMAGES_PARAM,
    {
      name: 'mutableTags',
      description:
        'Tags (shell globs, case-insensitive) treated as moving channels besides latest, e.g. "stable", "lts-*".',
      type: 'string[]',
      default: DEFAULT_MUTABLE_TAGS,
    },
    {
      name: 'floatingVersionTags',
      description: 'Treat major or major.minor version tags such as "1" or "1.27-alpine" as mutable.',
      type: 'boolean',
      default: true,
    },
  ],
  check(obj, ctx) {
    const hits: RuleHit[] = [];
    for (const i of images(obj, ctx.params)) {
      const why = mutableTag(i.ref, ctx.params);
      if (why === undefined) continue;
      const { policy, defaulted } = effectivePullPolicy(i, i.ref);
      if (policy !== 'IfNotPresent' && policy !== 'Never') continue;
      const how = defaulted ? `imagePullPolicy defaults to ${policy}` : `imagePullPolicy is ${policy}`;
      hits.push({
        container: i.name,
        message: `container "${i.name}" image "${clip(i.image)}" ${why} but ${how} (${i.path}.imagePullPolicy)`,
      });
    }
    return hits;
  },
};
