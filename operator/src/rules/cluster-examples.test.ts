/**
 * The cluster-level examples in manifests/examples (rbac, network,
 * management-tools, change-management) evaluated like `vigil scan --profile all`
 * does: every file alone yields findings of its category, the files together
 * resolve across files (the Dashboard in one file, its cluster-admin binding in
 * another), and splitting the same objects over one file or many gives the same
 * findings apart from their location.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseManifests, type InputError } from '../cli/load.ts';
import { evaluateSubjects } from '../engine/evaluate.ts';
import { compilePolicy } from '../engine/policy.ts';
import type { Category, Finding, Subject } from '../engine/types.ts';
import { ALL_RULES } from './index.ts';

const examples = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'manifests', 'examples');
const FILES: Record<string, Category> = {
  'rbac-bad.yaml': 'rbac',
  'network-bad.yaml': 'network',
  'management-tools-bad.yaml': 'management-tools',
  'change-management-bad.yaml': 'change-management',
};
const NOW = new Date('2026-06-01T00:00:00Z');

/** The objects of one file with their lines, read by vigil scan's loader. */
function load(file: string): Subject[] {
  const out: Subject[] = [];
  const errors: InputError[] = [];
  parseManifests(readFileSync(join(examples, file), 'utf8'), file, out, errors);
  expect(errors, `${file}: input errors`).to.deep.equal([]);
  return out;
}

function scan(subjects: Subject[]): Finding[] {
  const { policy, errors } = compilePolicy({ profile: 'all' }, ALL_RULES);
  if (!policy) throw new Error(JSON.stringify(errors));
  const res = evaluateSubjects(subjects, policy, { now: NOW });
  expect(res.errors, 'rule errors').to.deep.equal([]);
  return res.findings;
}

function withoutLocation(fs: readonly Finding[]): Omit<Finding, 'location'>[] {
  return fs.map(({ location: _l, ...rest }) => rest);
}

describe('cluster-level examples (manifests/examples)', () => {
  const loaded = Object.fromEntries(Object.keys(FILES).map((f) => [f, load(f)]));
  const all = Object.values(loaded).flat();

  for (const [file, category] of Object.entries(FILES)) {
    it(`${file} alone yields ${category} findings`, () => {
      const subjects = loaded[file] ?? [];
      expect(subjects.length).to.be.greaterThan(0);
      const found = scan(subjects).filter((f) => f.category === category);
      expect(found.length).to.be.greaterThan(0);
      for (const f of found) expect(f.location?.file).to.equal(file);
    });
  }

  it('every rule of the four categories fires on at least one example (profile all)', () => {
    const fired = new Set(scan(all).map((f) => f.ruleId));
    const cats = new Set<Category>(Object.values(FILES));
    const silent = ALL_RULES.filter(
      (r) => cats.has(r.category) && r.id !== 'policy-exception-expired' && !fired.has(r.id),
    ).map((r) => r.id);
    expect(silent).to.deep.equal([]);
  });

  it('resolves across files: the Dashboard is cluster-admin only with rbac-bad.yaml in scope', () => {
    const alone = scan(loaded['management-tools-bad.yaml'] ?? []);
    const together = scan(all);
    const isDash = (f: Finding): boolean => f.ruleId === 'kubernetes-dashboard-cluster-admin';
    expect(alone.filter(isDash)).to.deep.equal([]);
    const [dash] = together.filter(isDash);
    expect(dash?.severity).to.equal('critical');
    expect(dash?.location?.file).to.equal('management-tools-bad.yaml');
    expect(dash?.message).to.contain('"kubernetes-dashboard-admin"');
  });

  it('one file or one file per object gives the same findings apart from location', () => {
    const oneFile = all.map((s, i) => ({
      object: s.object,
      location: { file: 'everything.yaml', line: i + 1 },
    }));
    const perObject = all.map((s, i) => ({
      object: s.object,
      location: { file: `object-${i}.yaml`, line: 1 },
    }));
    const a = withoutLocation(scan(oneFile));
    const b = withoutLocation(scan(perObject));
    const c = withoutLocation(scan(all));
    expect(a.length).to.be.greaterThan(0);
    const key = (f: Omit<Finding, 'location'>): string => JSON.stringify(f);
    expect(b.map(key).sort()).to.deep.equal(a.map(key).sort());
    expect(c.map(key).sort()).to.deep.equal(a.map(key).sort());
  });
});
