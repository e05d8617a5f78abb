/**
 * Property tests: the engine on arbitrary and adversarial objects. Every rule
 * (profile `all`) over objects whose fields may be missing, of the wrong
 * type, huge, exotic unicode, deeply nested or `__proto__` keys: no throw out
 * of evaluateSubjects, no rule error, well-formed findings, bounded time, and
 * no prototype pollution.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { runs } from './config.ts';
import { ALL_RULES } from '../rules/index.ts';
import { compilePolicy, type CompiledPolicy } from '../engine/policy.ts';
import { evaluateSubjects } from '../engine/evaluate.ts';
import { CATEGORIES, SEVERITIES, type KubeObject } from '../engine/types.ts';
import { deepList, kubeObject, policyInput } from './arbitraries.ts';

const NOW = new Date('2026-06-01T00:00:00Z');
/** Longest one evaluation of a small batch may take (generous: CI machines are slow). */
const BATCH_MS = 2000;

function allPolicy(): CompiledPolicy {
  const { policy, errors } = compilePolicy({ profile: 'all' }, ALL_RULES);
  if (!policy) throw new Error(errors.map((e) => e.message).join('; '));
  return policy;
}

/** Rules that fired during the property runs: proof the generator reaches the rules at all. */
const fired = new Set<string>();

function check(objects: KubeObject[], policy: CompiledPolicy): void {
  const t0 = performance.now();
  const res = evaluateSubjects(
    objects.map((object) => ({ object })),
    policy,
    { now: NOW },
  );
  const ms = performance.now() - t0;
  expect(ms, 'evaluation time (ms)').to.be.lessThan(BATCH_MS);
  expect(
    res.errors.map((e) => `${e.ruleId}: ${e.message}`),
    'rule errors',
  ).to.deep.equal([]);
  for (const f of res.findings) {
    fired.add(f.ruleId);
    expect(f.ruleId).to.be.a('string').and.not.equal('');
    expect(SEVERITIES).to.include(f.severity);
    expect(CATEGORIES).to.include(f.category);
    expect(f.message).to.be.a('string').and.not.equal('');
    expect(f.controls).to.be.an('array');
  }
}

describe('fuzz: engine on adversarial objects (every rule, profile all)', function () {
  this.timeout(60_000);
  const policy = allPolicy();

  afterEach(() => {
    // Nothing may have reached Object.prototype through a __proto__ key.
    expect(Object.keys(Object.prototype)).to.deep.equal([]);
    expect(({} as Record<string, unknown>)['polluted']).to.equal(undefined);
  });

  it('one object at a time: no throw, no rule error, well-formed findings', () => {
    fc.assert(
      fc.property(kubeObject(), (obj) => {
        check([obj], policy);
      }),
      runs(300),
    );
    // 37–47 of the 75 rules over seeds 1–30 at 300 runs: a floor that holds for any seed, so
    // FUZZ_SEED replays and FAULTS_FULL's fresh seeds cannot fail on coverage alone.
    expect(fired.size, 'distinct rules that fired on generated objects').to.be.at.least(30);
  });

  it('batches (cross-resource rules see each other): same guarantees', () => {
    fc.assert(
      fc.property(fc.array(kubeObject(), { minLength: 2, maxLength: 8 }), (objs) => {
        check(objs, policy);
      }),
      runs(80),
    );
  });

  it('hand-made extremes: deep lists, huge strings, null prototypes, __proto__ keys', () => {
    const huge = 'x'.repeat(2_000_000);
    const extremes: KubeObject[] = [
      { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'deep' }, spec: { containers: deepList(10_000) } },
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'deep-sc' },
        spec: {
          containers: [{ name: 'a', image: 'b', securityContext: deepList(10_000), env: deepList(5000) }],
        },
      },
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'huge' },
        spec: {
          containers: [
            {
              name: huge,
              image: huge,
              args: [huge],
              env: [{ name: 'PASSWORD', value: huge }],
              command: [huge],
            },
          ],
        },
      },
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'big', namespace: 'a' },
        data: Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`k${i}`, `v${i}`.repeat(100)])),
      },
      JSON.parse(
        '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","__proto__":{"polluted":1}},"spec":{"__proto__":{"hostNetwork":true,"polluted":1},"containers":[{"name":"c","image":"i","securityContext":{"__proto__":{"privileged":true}}}]}}',
      ) as KubeObject,
      Object.assign(Object.create(null) as KubeObject, {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: Object.assign(Object.create(null) as object, { name: 'np' }),
        spec: Object.assign(Object.create(null) as object, { template: null }),
      }),
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRole',
        metadata: { name: 'many' },
        rules: Array.from({ length: 20_000 }, (_, i) => ({
          apiGroups: ['*'],
          resources: [`r${i}`, 'secrets'],
          verbs: ['*'],
        })),
      },
    ];
    for (const obj of extremes) check([obj], policy);
    // An own __proto__ key is data, not a prototype: no hostNetwork finding out of thin air.
    const res = evaluateSubjects([{ object: extremes[4] as KubeObject }], policy, { now: NOW });
    expect(res.findings.some((f) => f.ruleId === 'pss-host-namespaces')).to.equal(false);
  });
});

describe('fuzz: compilePolicy on adversarial policies', function () {
  this.timeout(30_000);

  it('never throws; a policy or field-named errors, never both, never neither', () => {
    fc.assert(
      fc.property(policyInput, (input) => {
        const t0 = performance.now();
        const r = compilePolicy(input, ALL_RULES);
        expect(performance.now() - t0).to.be.lessThan(500);
        expect(r.policy === undefined, 'policy ⇔ no errors').to.equal(r.errors.length > 0);
        for (const e of r.errors) {
          expect(e.field).to.be.a('string').and.match(/^spec/);
          expect(e.message).to.be.a('string').and.not.equal('');
          expect(e.reason).to.match(/^[A-Z][A-Za-z]+$/);
        }
        if (r.policy) {
          expect(r.policy.rules.every((a) => SEVERITIES.includes(a.severity))).to.equal(true);
          // A compiled policy evaluates adversarial objects without trouble too.
          check([{ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'x', namespace: 'team-a' } }], r.policy);
        }
      }),
      runs(400),
    );
    expect(Object.keys(Object.prototype)).to.deep.equal([]);
  });

  it('pathological globs and long lists compile and match in bounded time', () => {
    const glob = `${'*a'.repeat(200)}b`;
    const r = compilePolicy(
      {
        profile: 'all',
        match: { namespaces: [glob], names: Array.from({ length: 200 }, () => glob) },
        exceptions: [{ rules: [glob, 'pss-*'], reason: 'r', owner: 'o', match: { names: [glob] } }],
      },
      ALL_RULES,
    );
    expect(r.errors).to.deep.equal([]);
    const t0 = performance.now();
    check(
      [{ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'a'.repeat(5000), namespace: 'a'.repeat(5000) } }],
      r.policy as CompiledPolicy,
    );
    expect(performance.now() - t0).to.be.lessThan(BATCH_MS);
  });
});
