/**
 * The shipped examples stay honest: manifests/examples/good-deployment.yaml
 * passes every rule of the default `recommended` profile, and each
 * <category>-bad.yaml triggers at least one finding of its category there.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseYamlAll } from '../yaml.ts';
import { ALL_RULES } from './index.ts';
import { compilePolicy, type CompiledPolicy } from '../engine/policy.ts';
import { evaluateSubjects, type EvaluationResult } from '../engine/evaluate.ts';
import type { KubeObject, ProfileName, Subject } from '../engine/types.ts';
import { FIXED_NOW } from './testing.ts';

const examples = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'manifests', 'examples');

function load(file: string): Subject[] {
  return parseYamlAll(readFileSync(join(examples, file), 'utf8')).map((object) => ({
    object: object as KubeObject,
    location: { file },
  }));
}

function policy(profile: ProfileName): CompiledPolicy {
  const r = compilePolicy({ profile }, ALL_RULES);
  if (!r.policy) throw new Error(r.errors.map((e) => e.message).join('; '));
  return r.policy;
}

function scan(file: string, profile: ProfileName): EvaluationResult {
  return evaluateSubjects(load(file), policy(profile), { now: FIXED_NOW });
}

describe('manifests/examples', () => {
  it('good-deployment.yaml has no findings in the recommended profile', () => {
    const res = scan('good-deployment.yaml', 'recommended');
    expect(res.errors).to.deep.equal([]);
    expect(res.resourcesEvaluated).to.equal(5);
    expect(
      res.findings.map((f) => `${f.ruleId}: ${f.resource.kind}/${f.resource.name}: ${f.message}`),
    ).to.deep.equal([]);
  });

  it('good-deployment.yaml is a Deployment behind a Service with an image pinned by digest', () => {
    const objs = load('good-deployment.yaml').map((s) => s.object);
    expect(objs.map((o) => o.kind)).to.include.members(['Deployment', 'Service', 'ServiceAccount']);
    expect(JSON.stringify(objs)).to.match(/@sha256:[a-f0-9]{64}"/);
  });

  for (const [file, category] of [
    ['workload-bad.yaml', 'workload'],
    ['supply-chain-bad.yaml', 'supply-chain'],
    ['secrets-bad.yaml', 'secrets'],
  ] as const) {
    it(`${file} yields findings of category ${category} in the recommended profile`, () => {
      const res = scan(file, 'recommended');
      expect(res.errors).to.deep.equal([]);
      const ours = res.findings.filter((f) => f.category === category);
      expect(ours.length, res.findings.map((f) => f.ruleId).join(', ')).to.be.greaterThan(0);
    });
  }

  it('the bad examples exercise most rules of their categories (all profile)', () => {
    const fired = new Set<string>();
    for (const file of ['workload-bad.yaml', 'supply-chain-bad.yaml', 'secrets-bad.yaml'])
      for (const f of scan(file, 'all').findings) fired.add(f.ruleId);
    const recommended = ALL_RULES.filter(
      (r) =>
        ['workload', 'supply-chain', 'secrets'].includes(r.category) && r.profiles.includes('recommended'),
    ).map((r) => r.id);
    // Only the allow-list rule needs a policy param to fire; the image content rules need the
    // images read from their registries (vigil scan --images, or the operator), not manifests alone.
    const silent = recommended.filter((id) => !fired.has(id));
    expect(silent).to.deep.equal([
      'image-registry-not-allowed',
      'image-vulnerabilities',
      'image-suspicious-content',
      'image-not-analysed',
      'image-advisories-stale',
    ]);
  });

  it('no finding on the secrets example prints a credential', () => {
    const res = scan('secrets-bad.yaml', 'all');
    for (const f of res.findings)
      for (const s of [
        'AKIAIOSFODNN7EXAMPLE',
        'wJalrXUtnFEMI',
        'changeme',
        'q8Zr2VxK',
        'Sup3rS3cret',
        'Tr0ub4dor',
        'b3BlbnNzaC1rZXkt',
      ])
        expect(f.message).not.to.contain(s);
  });
});
