import { expect } from 'chai';
import { latestTag, notPinnedByDigest, pullPolicyStale } from './image-tags.ts';
import { runRule } from '../testing.ts';
import { MALFORMED, WRAPPERS, ctr, deploymentOf, type Spec } from '../workload/_testkit.ts';
import type { Rule } from '../../engine/types.ts';

const SHA = 'sha256:' + '0123456789abcdef'.repeat(4);

interface Case {
  name: string;
  image: unknown;
  policy?: string;
  params?: Record<string, unknown>;
  latest: number;
  digest: number;
  stale: number;
}

const cases: Case[] = [
  { name: 'fixed release tag', image: 'ghcr.io/acme/app:1.4.2', latest: 0, digest: 1, stale: 0 },
  { name: 'digest only', image: `ghcr.io/acme/app@${SHA}`, latest: 0, digest: 0, stale: 0 },
  {
    name: 'tag and digest',
    image: `ghcr.io/acme/app:1.4.2@${SHA}`,
    policy: 'IfNotPresent',
    latest: 0,
    digest: 0,
    stale: 0,
  },
  {
    name: 'latest and digest',
    image: `nginx:latest@${SHA}`,
    policy: 'IfNotPresent',
    latest: 0,
    digest: 0,
    stale: 0,
  },
  { name: 'no tag, default policy (Always)', image: 'nginx', latest: 1, digest: 1, stale: 0 },
  { name: 'no tag, IfNotPresent', image: 'nginx', policy: 'IfNotPresent', latest: 1, digest: 1, stale: 1 },
  { name: 'latest, default policy (Always)', image: 'nginx:latest', latest: 1, digest: 1, stale: 0 },
  { name: 'latest, Always', image: 'nginx:latest', policy: 'Always', latest: 1, digest: 1, stale: 0 },
  { name: 'latest, Never', image: 'nginx:latest', policy: 'Never', latest: 1, digest: 1, stale: 1 },
  {
    name: 'host:port registry without tag',
    image: 'registry.local:5000/app',
    latest: 1,
    digest: 1,
    stale: 0,
  },
  {
    name: 'host:port registry with tag',
    image: 'registry.local:5000/app:2.3.4',
    latest: 0,
    digest: 1,
    stale: 0,
  },
  { name: 'floating minor, default policy', image: 'nginx:1.27', latest: 0, digest: 1, stale: 1 },
  { name: 'floating minor, Always', image: 'nginx:1.27', policy: 'Always', latest: 0, digest: 1, stale: 0 },
  { name: 'floating major with variant', image: 'node:20-alpine', latest: 0, digest: 1, stale: 1 },
  { name: 'floating with v prefix', image: 'ghcr.io/acme/app:v3', latest: 0, digest: 1, stale: 1 },
  {
    name: 'floating version tags disabled',
    image: 'nginx:1.27',
    params: { floatingVersionTags: false },
    latest: 0,
    digest: 1,
    stale: 0,
  },
  { name: 'patch version with variant', image: 'python:3.12.4-slim', latest: 0, digest: 1, stale: 0 },
  { name: 'build number', image: 'ghcr.io/acme/app:4512', latest: 0, digest: 1, stale: 0 },
  { name: 'date tag', image: 'ghcr.io/acme/app:2026.05', latest: 0, digest: 1, stale: 0 },
  { name: 'git sha tag', image: 'ghcr.io/acme/app:sha-3f9c2ab', latest: 0, digest: 1, stale: 0 },
  { name: 'channel tag', image: 'ghcr.io/acme/app:stable', latest: 0, digest: 1, stale: 1 },
  {
    name: 'channel tag glob, upper case',
    image: 'ghcr.io/acme/app:LTS-jammy',
    latest: 0,
    digest: 1,
    stale: 1,
  },
  {
    name: 'custom channel list',
    image: 'ghcr.io/acme/app:prod',
    params: { mutableTags: ['prod'] },
    latest: 0,
    digest: 1,
    stale: 1,
  },
  {
    name: 'exempt image',
    image: 'nginx',
    policy: 'IfNotPresent',
    params: { exemptImages: ['nginx*'] },
    latest: 0,
    digest: 0,
    stale: 0,
  },
  { name: 'unparseable image is skipped', image: 'NGINX:latest', latest: 0, digest: 0, stale: 0 },
  { name: 'templated image is skipped', image: '{{ .Values.image }}', latest: 0, digest: 0, stale: 0 },
  { name: 'missing image', image: undefined, latest: 0, digest: 0, stale: 0 },
  { name: 'non-string image', image: 7, latest: 0, digest: 0, stale: 0 },
];

const table: [Rule, 'latest' | 'digest' | 'stale'][] = [
  [latestTag, 'latest'],
  [notPinnedByDigest, 'digest'],
  [pullPolicyStale, 'stale'],
];

function spec(c: Case, where: 'containers' | 'initContainers' | 'ephemeralContainers'): Spec {
  const container = ctr({ image: c.image, ...(c.policy ? { imagePullPolicy: c.policy } : {}) }, 'app');
  const pinned = ctr({ image: `ghcr.io/acme/side:1.0.0@${SHA}` }, 'side');
  return where === 'containers'
    ? { containers: [container] }
    : { containers: [pinned], [where]: [container] };
}

describe('rules image-latest-tag / image-not-pinned-by-digest / image-pull-policy-stale', () => {
  for (const c of cases)
    for (const [rule, key] of table) {
      for (const w of WRAPPERS)
        it(`${rule.id}: ${c.name} (${w.kind}) → ${c[key]}`, () => {
          expect(runRule(rule, w.wrap(spec(c, 'containers')), { params: c.params })).to.have.length(c[key]);
        });
      for (const where of ['initContainers', 'ephemeralContainers'] as const)
        it(`${rule.id}: ${c.name} (${where}) → ${c[key]}`, () => {
          expect(runRule(rule, deploymentOf(spec(c, where)), { params: c.params })).to.have.length(c[key]);
        });
    }

  it('messages name the container, the image, the reason and the field path', () => {
    const obj = deploymentOf({ containers: [ctr({ image: 'nginx', imagePullPolicy: 'IfNotPresent' })] });
    expect(runRule(latestTag, obj)[0]?.message).to.equal(
      'container "app" image "nginx" has no tag and pulls :latest (spec.template.spec.containers[0].image)',
    );
    expect(runRule(pullPolicyStale, obj)[0]?.message).to.equal(
      'container "app" image "nginx" has no tag (pulls latest) but imagePullPolicy is IfNotPresent (spec.template.spec.containers[0].imagePullPolicy)',
    );
    const floating = deploymentOf({
      initContainers: [ctr({ image: 'busybox:1.36' }, 'init')],
      containers: [],
    });
    const [h] = runRule(pullPolicyStale, floating);
    expect(h?.container).to.equal('init');
    expect(h?.message).to.equal(
      'container "init" image "busybox:1.36" uses the floating version tag "1.36" but imagePullPolicy defaults to IfNotPresent (spec.template.spec.initContainers[0].imagePullPolicy)',
    );
  });

  it('never throws on malformed input', () => {
    for (const [rule] of table) for (const m of MALFORMED) expect(() => runRule(rule, m)).not.to.throw();
  });
});
