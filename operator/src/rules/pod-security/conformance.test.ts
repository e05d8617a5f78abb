/**
 * Conformance with k8s.io/pod-security-admission, policy version v1.37: every upstream fixture in
 * <repo>/../shared/conformance/pss (see its INDEX.md) is evaluated by the engine with the
 * pss-baseline / pss-restricted profile and must get PSA's verdict, naming PSA's check.
 */
import { expect } from 'chai';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { evaluateSubjects } from '../../engine/evaluate.ts';
import { compilePolicy, type CompiledPolicy } from '../../engine/policy.ts';
import { isObj } from '../../engine/podspec.ts';
import type { Finding, KubeObject } from '../../engine/types.ts';
import { ALL_RULES } from '../index.ts';
import { FIXED_NOW } from '../testing.ts';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '../../../..');
const FIXTURES = resolve(repoRoot, '../shared/conformance/pss');
const EXPECTED_CASES = 148;

type Level = 'baseline' | 'restricted';
const LEVELS: readonly Level[] = ['baseline', 'restricted'];

interface Expected {
  level: Level;
  expect: 'pass' | 'fail';
  check: string | null;
}

interface CrossLevel {
  baseline: 'pass' | 'fail';
  baselineFailingChecks: string[];
  restricted: 'pass' | 'fail';
  restrictedFailingChecks: string[];
}

/**
 * PSA's OverrideCheckIDs at v1.37: at restricted these baseline checks do not run, and the
 * restricted check that overrides them reports the problem (upstream's harness accepts that, as
 * its error substrings match both; see INDEX.md).
 */
const OVERRIDDEN_AT_RESTRICTED: Readonly<Record<string, string>> = {
  hostPathVolumes: 'restrictedVolumes',
  capabilities_baseline: 'capabilities_restricted',
  seccompProfile_baseline: 'seccompProfile_restricted',
  procMount: 'procMount_restricted',
};

/** The check that must report a fail fixture at its level. */
function reportingCheck(e: Expected): string {
  const check = e.check ?? '';
  return (e.level === 'restricted' ? OVERRIDDEN_AT_RESTRICTED[check] : undefined) ?? check;
}

function readJson(file: string): unknown {
  return JSON.parse(readFileSync(join(FIXTURES, file), 'utf8')) as unknown;
}

function compile(level: Level): CompiledPolicy {
  const { policy, errors } = compilePolicy({ profile: `pss-${level}` }, ALL_RULES);
  if (!policy) throw new Error(`pss-${level} does not compile: ${JSON.stringify(errors)}`);
  return policy;
}

function findings(obj: KubeObject, policy: CompiledPolicy): Finding[] {
  const res = evaluateSubjects([{ object: obj }], policy, { now: FIXED_NOW });
  expect(res.errors, 'rule errors').to.deep.equal([]);
  return res.findings;
}

/** The PSS check ids named by a set of findings, sorted and unique. */
function pssChecks(fs: readonly Finding[]): string[] {
  const ids = new Set<string>();
  for (const f of fs) for (const c of f.controls) if (c.startsWith('PSS:')) ids.add(c.slice(4));
  return [...ids].sort();
}

function describeFinding(fs: readonly Finding[]): string {
  return fs.map((f) => `${f.ruleId}: ${f.message}`).join('\n');
}

function deploymentOf(pod: KubeObject): KubeObject {
  const meta = isObj(pod.metadata) ? pod.metadata : {};
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'wrapped', namespace: 'default' },
    spec: {
      selector: { matchLabels: { app: 'wrapped' } },
      template: { metadata: { ...meta, labels: { app: 'wrapped' } }, spec: pod['spec'] },
    },
  };
}

function cronJobOf(pod: KubeObject): KubeObject {
  const meta = isObj(pod.metadata) ? pod.metadata : {};
  return {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name: 'wrapped', namespace: 'default' },
    spec: {
      schedule: '*/5 * * * *',
      jobTemplate: {
        spec: {
          template: { metadata: meta, spec: { restartPolicy: 'OnFailure', ...asRecord(pod['spec']) } },
        },
      },
    },
  };
}

function asRecord(v: unknown): Record<string, unknown> {
  return isObj(v) ? v : {};
}

describe('Pod Security Standards v1.37 conformance (shared/conformance/pss)', () => {
  if (!existsSync(join(FIXTURES, 'expected.json')) || !existsSync(join(FIXTURES, 'cross_level.json'))) {
    it('finds the conformance fixtures', () => {
      expect.fail(
        `PSS conformance fixtures missing: expected ${FIXTURES}/expected.json and cross_level.json`,
      );
    });
    return;
  }

  const expected = readJson('expected.json') as Record<string, Expected>;
  const crossRaw = readJson('cross_level.json') as { fixtures?: Record<string, CrossLevel> };
  const cross = crossRaw.fixtures ?? {};
  const policies: Record<Level, CompiledPolicy> = {
    baseline: compile('baseline'),
    restricted: compile('restricted'),
  };
  const cases = Object.entries(expected).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const load = (file: string): KubeObject => parse(readFileSync(join(FIXTURES, file), 'utf8')) as KubeObject;

  it(`lists exactly ${EXPECTED_CASES} fixtures, all present, each with derived cross-level results`, () => {
    expect(cases).to.have.length(EXPECTED_CASES);
    expect(cases.filter(([f]) => !existsSync(join(FIXTURES, f))).map(([f]) => f)).to.deep.equal([]);
    expect(Object.keys(cross).sort()).to.deep.equal(cases.map(([f]) => f));
    const counts: Record<string, number> = {};
    for (const [, e] of cases) counts[`${e.level}/${e.expect}`] = (counts[`${e.level}/${e.expect}`] ?? 0) + 1;
    expect(counts).to.deep.equal({
      'baseline/pass': 15,
      'baseline/fail': 34,
      'restricted/pass': 23,
      'restricted/fail': 76,
    });
  });

  it('the PSS profiles hold one rule per PSA check: 12 baseline, 15 restricted (7 + 8 not overridden)', () => {
    const checksOf = (p: CompiledPolicy): string[] =>
      pssChecks(p.rules.map((r) => ({ controls: r.rule.controls }) as Finding));
    expect(checksOf(policies.baseline)).to.deep.equal(
      [
        'appArmorProfile',
        'capabilities_baseline',
        'hostNamespaces',
        'hostPathVolumes',
        'hostPorts',
        'hostProbesAndHostLifecycle',
        'privileged',
        'procMount',
        'seLinuxOptions',
        'seccompProfile_baseline',
        'sysctls',
        'windowsHostProcess',
      ].sort(),
    );
    expect(checksOf(policies.restricted)).to.deep.equal(
      [
        'allowPrivilegeEscalation',
        'appArmorProfile',
        'capabilities_restricted',
        'hostNamespaces',
        'hostPorts',
        'hostProbesAndHostLifecycle',
        'privileged',
        'procMount_restricted',
        'restrictedVolumes',
        'runAsNonRoot',
        'runAsUser',
        'seLinuxOptions',
        'seccompProfile_restricted',
        'sysctls',
        'windowsHostProcess',
      ].sort(),
    );
  });

  describe('verdict at the fixture level (expected.json)', () => {
    for (const [file, e] of cases) {
      it(`${file}: ${e.expect}${e.check ? ` (${reportingCheck(e)})` : ''}`, () => {
        const fs = findings(load(file), policies[e.level]);
        if (e.expect === 'pass') {
          expect(fs, describeFinding(fs)).to.deep.equal([]);
        } else {
          expect(e.check, 'fail fixtures name their check').to.be.a('string');
          const check = reportingCheck(e);
          const named = fs.filter((f) => f.controls.includes(`PSS:${check}`));
          expect(
            named.length,
            `no finding names PSS:${check}; got\n${describeFinding(fs)}`,
          ).to.be.greaterThan(0);
        }
      });
    }
  });

  describe('failing checks at both levels (cross_level.json)', () => {
    for (const [file] of cases) {
      it(file, () => {
        const derived = cross[file];
        if (!derived) throw new Error(`cross_level.json has no entry for ${file}`);
        const obj = load(file);
        for (const level of LEVELS) {
          const got = pssChecks(findings(obj, policies[level]));
          const want = [
            ...(level === 'baseline' ? derived.baselineFailingChecks : derived.restrictedFailingChecks),
          ].sort();
          expect(got, `${level} failing checks`).to.deep.equal(want);
          expect(got.length === 0 ? 'pass' : 'fail', `${level} verdict`).to.equal(derived[level]);
        }
      });
    }
  });

  describe('the same verdict for the pod spec wrapped in a Deployment and a CronJob', () => {
    for (const [file, e] of cases) {
      it(`${file} (${e.level}, ${e.expect})`, () => {
        const pod = load(file);
        const derived = cross[file];
        for (const wrapped of [deploymentOf(pod), cronJobOf(pod)]) {
          const fs = findings(wrapped, policies[e.level]);
          for (const f of fs) expect(f.resource.kind, 'finding lands on the wrapper').to.equal(wrapped.kind);
          if (e.expect === 'pass')
            expect(fs, `${String(wrapped.kind)}: ${describeFinding(fs)}`).to.deep.equal([]);
          else
            expect(
              fs.filter((f) => f.controls.includes(`PSS:${reportingCheck(e)}`)).length,
              `${String(wrapped.kind)}: no finding names PSS:${reportingCheck(e)}`,
            ).to.be.greaterThan(0);
          if (derived) {
            const want =
              e.level === 'baseline' ? derived.baselineFailingChecks : derived.restrictedFailingChecks;
            expect(pssChecks(fs), `${String(wrapped.kind)} failing checks`).to.deep.equal([...want].sort());
          }
        }
      });
    }
  });
});
