/**
 * What can be checked without an API server: the regular expressions baked into the CEL (written
 * in the syntax RE2 and JavaScript share) give the engine's answers, params are baked in, and
 * every message starts with the rule id. e2e/admission/rules.e2e.ts runs the expressions on a
 * real API server against the engine.
 */
import { expect } from 'chai';
import { globMatch } from '../engine/match.ts';
import { ALL_RULES } from '../rules/index.ts';
import { parseImageRef } from '../rules/supply-chain/image-ref.ts';
import { mutableTag } from '../rules/supply-chain/image-tags.ts';
import {
  FLOATING_VERSION_RE,
  IMAGE_ID_RE,
  IMAGE_REF_RE,
  RULES_CEL,
  TAG_RE,
  globRe2,
  globsCel,
} from './rules-cel.ts';

/** A small seeded PRNG (mulberry32): the same strings on every run. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomStrings(seed: number, n: number, pieces: readonly string[], maxParts: number): string[] {
  const rnd = prng(seed);
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    let s = '';
    const parts = 1 + Math.floor(rnd() * maxParts);
    for (let j = 0; j < parts; j++) s += pieces[Math.floor(rnd() * pieces.length)] ?? '';
    out.push(s);
  }
  return out;
}

/** What the generated CEL computes for an image (imageFacts): parseable, and its tag. */
function celParsed(img: string): boolean {
  const at = img.indexOf('@');
  const bare = at < 0 ? img : img.slice(0, at);
  const tagged = bare.lastIndexOf(':') > bare.lastIndexOf('/');
  const nm = tagged ? bare.slice(0, bare.lastIndexOf(':')) : bare;
  return new RegExp(IMAGE_REF_RE).test(img) && !new RegExp(IMAGE_ID_RE).test(img) && nm.length <= 255;
}

const SHA = `sha256:${'a'.repeat(64)}`;
const IMAGE_PIECES = [
  'a',
  'b',
  'z',
  '0',
  '9',
  'A',
  'Q',
  '.',
  '_',
  '__',
  '-',
  '--',
  '/',
  ':',
  '@',
  ' ',
  '[',
  ']',
  '::1',
  'localhost',
  'docker.io',
  'index.docker.io',
  'nginx',
  'ghcr.io',
  ':5000',
  ':latest',
  ':1.27',
  `@${SHA}`,
  '@sha512:abc',
  'é',
];

describe('rules-cel', () => {
  it('IMAGE_REF_RE accepts exactly the references parseImageRef accepts', () => {
    const samples = [
      ...randomStrings(1, 40_000, IMAGE_PIECES, 8),
      'nginx',
      'a'.repeat(64),
      `registry.example.com/${'x'.repeat(250)}:1`,
      `${'x'.repeat(255)}:1`,
      `${'x'.repeat(256)}:1`,
      'Registry.Example.com/app:1',
      'Foo/bar',
      'a_b.c/x',
      'app_1/x__y',
      '[::1]:5000/app:1.0.0',
      '[::1]/app',
      '[::1]x/app',
      'localhost:5000',
      'host:/app',
      `nginx:latest@${SHA}`,
      `nginx@sha256:${'A'.repeat(64)}`,
      `nginx:${'t'.repeat(128)}`,
      `nginx:${'t'.repeat(129)}`,
    ];
    let accepted = 0;
    for (const s of samples) {
      const want = parseImageRef(s).ok;
      expect(celParsed(s), s).to.equal(want);
      if (want) accepted++;
    }
    expect(accepted, 'the sample exercises accepted references too').to.be.greaterThan(2000);
  });

  it('TAG_RE and FLOATING_VERSION_RE give the answers of the engine', () => {
    const tags = randomStrings(
      2,
      20_000,
      ['v', 'V', '1', '27', '123', '.', '-', 'a', 'Z', 'slim', '_', 'é'],
      6,
    );
    let floating = 0;
    for (const tag of tags) {
      const params = { mutableTags: [], floatingVersionTags: true };
      const engine = mutableTag(
        { registry: 'r', repository: 'x', name: 'r/x', tag, implicitRegistry: false },
        params,
      );
      const re = new RegExp(FLOATING_VERSION_RE, 'i').test(tag);
      expect(re, tag).to.equal(engine?.startsWith('uses the floating version tag') ?? false);
      if (re) floating++;
      expect(new RegExp(TAG_RE).test(tag), tag).to.equal(/^\w[\w.-]{0,127}$/.test(tag));
    }
    expect(floating).to.be.greaterThan(500);
  });

  it('globRe2 matches what globMatch matches', () => {
    const pieces = ['a', 'b', '-', '.', '*', '?', '+', '(', '[', '\\', '$'];
    const patterns = randomStrings(3, 400, pieces, 5);
    const values = randomStrings(
      4,
      200,
      pieces.filter((p) => p !== '*' && p !== '?'),
      6,
    );
    for (const p of patterns) {
      const re = new RegExp(globRe2(p).replace(/^\(\?s\)/, ''), 's');
      for (const v of values) expect(re.test(v), `${p} ~ ${v}`).to.equal(globMatch(p, v));
    }
    expect(globsCel('x', [])).to.equal('false');
    expect(globsCel('x', ['a', 'b*'])).to.equal("(x == 'a' || x.matches('(?s)^b.*$'))");
  });

  it('translates single-object rules only, each message starting with its rule id', () => {
    const byId = new Map(ALL_RULES.map((r) => [r.id, r]));
    for (const [id, make] of Object.entries(RULES_CEL)) {
      const rule = byId.get(id);
      expect(rule, id).to.not.equal(undefined);
      expect(rule?.category, id).to.be.oneOf(['workload', 'supply-chain', 'secrets']);
      const defaults = Object.fromEntries((rule?.params ?? []).map((p) => [p.name, p.default]));
      const params = id === 'image-registry-not-allowed' ? { allowedRegistries: ['ghcr.io'] } : defaults;
      const vs = ['spec', 'spec.template.spec', 'spec.jobTemplate.spec.template.spec'].flatMap((p) =>
        make(p, params),
      );
      expect(vs.length, id).to.be.greaterThan(0);
      for (const v of vs) {
        expect(v.messageExpression.startsWith(`'${id}: `), `${id}: ${v.messageExpression}`).to.equal(true);
        // RE2 has no look-arounds or back-references; the API server has no cel.bind.
        expect(`${v.expression}\n${v.messageExpression}`).not.to.match(/\(\?<?[=!]|\\\\[1-9]|cel\.bind/);
      }
    }
  });

  it('bakes the rule params into the expressions', () => {
    const text = (id: string, params: Record<string, unknown>): string =>
      JSON.stringify(RULES_CEL[id]?.('spec.template.spec', params));
    expect(
      text('container-root-filesystem-writable', { exemptContainers: ['istio-*', 'linkerd'] }),
    ).to.include(`c.name.matches('(?s)^istio-.*$') || c.name == 'linkerd'`);
    expect(text('container-root-filesystem-writable', { exemptContainers: [] })).not.to.include('c.name ==');
    expect(text('image-registry-not-allowed', { allowedRegistries: [] })).to.equal('[]');
    expect(text('image-registry-not-allowed', { allowedRegistries: ['  '] })).to.equal('[]');
    const reg = text('image-registry-not-allowed', {
      allowedRegistries: ['https://Index.Docker.io/library/', '*.ecr.aws'],
    });
    expect(reg).to.include(
      `reg.lowerAscii() == 'docker.io' && (repo == 'library' || repo.startsWith('library/'))`,
    );
    expect(reg).to.include(`reg.lowerAscii().matches('^[^/]*\\\\\\\\.ecr\\\\\\\\.aws$')`);
    expect(text('secret-exposed-as-env', { requireSecretFiles: false })).to.equal('[]');
    expect(
      text('image-pull-policy-stale', { mutableTags: ['Stable*'], floatingVersionTags: false }),
    ).to.include(`tg.lowerAscii().matches('(?s)^stable.*$')`);
    expect(text('image-pull-policy-stale', { mutableTags: [], floatingVersionTags: false })).not.to.include(
      "tg.matches('(?i)",
    );
    expect(text('image-pull-policy-stale', { mutableTags: [], floatingVersionTags: true })).to.include(
      "tg.matches('(?i)",
    );
    expect(text('image-latest-tag', { exemptImages: ['registry.local/dev/*'] })).to.include(
      `c.?image.orValue('').matches('(?s)^registry\\\\\\\\.local/dev/.*$')`,
    );
  });

  it('exempts run-to-completion workloads from the liveness probe', () => {
    const make = RULES_CEL['container-liveness-probe-missing'];
    expect(make?.('spec.jobTemplate.spec.template.spec', {})).to.deep.equal([]);
    expect(make?.('spec.template.spec', {})[0]?.expression).to.match(/^\(object\.kind == 'Job'\) \|\| /);
    expect(make?.('spec', {})[0]?.expression).to.include(
      `ownerReferences.orValue([]).exists(r, r.kind == 'Job')`,
    );
  });
});
