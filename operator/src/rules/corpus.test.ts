/**
 * Issue 19: the real-world corpus. Public install manifests (Argo CD, the Prometheus Operator,
 * Kubernetes' own node add-ons: pinned Go modules read from the module cache, see
 * testing/corpus.ts) scanned as `vigil scan --profile all -o json` scans them, with the per-rule
 * finding counts compared to corpus.expected.json, where every count comes with the reason for it
 * (reviewed by hand against the manifests). A rule change that adds or loses findings on real
 * manifests fails here; update the table only with a reason.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CliIO } from '../cli/io.ts';
import type { JsonReport } from '../cli/output/json.ts';
import { rulesJson } from '../cli/rules.ts';
import { run } from '../cli/scan.ts';
import { severityRank, type Severity } from '../engine/types.ts';
import { ALL_RULES } from './index.ts';
import { CORPUS_SOURCES, corpusPaths } from '../testing/corpus.ts';
import expected from './corpus.expected.json' with { type: 'json' };

interface Expected {
  module: string;
  version: string;
  resources: number;
  counts: Record<string, number>;
  why: Record<string, string>;
  /** The same scan with --profile pss-restricted (PSA's overrides: see pod-security/overlap.test.ts). */
  pssRestricted: { counts: Record<string, number>; why: Record<string, string> };
}

const EXPECTED = expected as Record<string, Expected>;

interface Scan {
  code: number;
  stderr: string;
  report: JsonReport;
}

interface Scanned extends Scan {
  version: string;
  paths: string[];
  restricted: Scan;
}

/** `vigil scan --profile PROFILE -o json --fail-on never PATH...`, in process. */
async function scanSource(paths: string[], profile: string): Promise<Scan> {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIO = {
    stdout: { write: (s: string) => out.push(s) },
    stderr: { write: (s: string) => err.push(s) },
    stdin: (async function* () {})(),
    env: {},
    cwd: '/',
  };
  const args = ['--profile', profile, '-o', 'json', '--fail-on', 'never', '--now', '2026-06-01T00:00:00Z'];
  const code = await run([...args, ...paths], io);
  return { code, stderr: err.join(''), report: JSON.parse(out.join('')) as JsonReport };
}

function countByRule(report: JsonReport): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const f of report.findings) counts[f.ruleId] = (counts[f.ruleId] ?? 0) + 1;
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

describe('real-world corpus: findings per rule', function () {
  // The first run may download the pinned modules into the Go module cache.
  this.timeout(300_000);
  const scanned = new Map<string, Scanned>();

  before(async () => {
    for (const source of CORPUS_SOURCES) {
      const { version, paths } = corpusPaths(source);
      const all = await scanSource(paths, 'all');
      const restricted = await scanSource(paths, 'pss-restricted');
      scanned.set(source.name, { version, paths, ...all, restricted });
    }
  });

  it('the expected table covers exactly the corpus sources, each count with its reason', () => {
    expect(Object.keys(EXPECTED).sort()).to.deep.equal(CORPUS_SOURCES.map((s) => s.name).sort());
    for (const [name, e] of Object.entries(EXPECTED)) {
      for (const t of [e, e.pssRestricted]) {
        expect(Object.keys(t.why).sort(), name).to.deep.equal(Object.keys(t.counts).sort());
        for (const [rule, n] of Object.entries(t.counts)) expect(n, `${name} ${rule}`).to.be.greaterThan(0);
      }
    }
  });

  it("points pss-privileged at ip-masq-agent's `privileged: true`, as the upstream file has it", () => {
    const s = scanned.get('kubernetes-addons');
    const f = s?.report.findings.find(
      (x) => x.ruleId === 'pss-privileged' && x.resource.name === 'ip-masq-agent',
    );
    const file = f?.location.file ?? '';
    expect(file.endsWith('cluster/addons/ip-masq-agent/ip-masq-agent.yaml'), file).to.equal(true);
    const lines = readFileSync(file, 'utf8').split('\n');
    const at = lines.findIndex((l) => /^\s*privileged: true\s*$/.test(l));
    expect(at).to.be.greaterThan(-1);
    expect(f?.location).to.include({
      line: at + 1,
      column: (lines[at] ?? '').indexOf('privileged') + 1,
      field: 'spec.template.spec.containers[0].securityContext.privileged',
    });
  });

  for (const source of CORPUS_SOURCES) {
    describe(source.name, () => {
      const get = (): Scanned => {
        const s = scanned.get(source.name);
        if (!s) throw new Error(`${source.name} was not scanned`);
        return s;
      };
      const want = (): Expected => {
        const e = EXPECTED[source.name];
        if (!e) throw new Error(`corpus.expected.json has no entry for ${source.name}`);
        return e;
      };

      it('is the pinned version, and scans without input or rule errors', () => {
        const s = get();
        expect(want().module).to.equal(source.module);
        expect(s.version, 'go.mod and corpus.expected.json must pin the same version').to.equal(
          want().version,
        );
        expect(s.stderr).to.equal('');
        expect(s.code).to.equal(0);
        expect(s.report.summary.resources).to.equal(want().resources);
      });

      it('gives the expected number of findings per rule', () => {
        expect(countByRule(get().report)).to.deep.equal(want().counts);
      });

      it('gives the expected number per rule with --profile pss-restricted', () => {
        const r = get().restricted;
        expect(r.stderr).to.equal('');
        expect(r.code).to.equal(0);
        expect(countByRule(r.report)).to.deep.equal(want().pssRestricted.counts);
      });

      it('reports no finding above its rule severity unless vigil rules lists that raise', () => {
        // Below the rule's severity is graded down (RBAC by scope, …); above it must be a listed raise.
        const rules = rulesJson(ALL_RULES) as {
          id: string;
          severity: Severity;
          raisedTo: { severity: Severity }[];
        }[];
        const byId = new Map(rules.map((r) => [r.id, r]));
        const off = [...get().report.findings, ...get().restricted.report.findings]
          .filter((f) => {
            const r = byId.get(f.ruleId);
            if (!r) return true;
            if (severityRank(f.severity) <= severityRank(r.severity)) return false;
            return !r.raisedTo.some((x) => x.severity === f.severity);
          })
          .map((f) => `${f.ruleId} ${f.severity}`);
        expect(off).to.deep.equal([]);
      });

      it('locates each finding that names a field inside its object', () => {
        const s = get();
        const lineCounts = new Map<string, number>();
        const linesOf = (file: string): number => {
          let n = lineCounts.get(file);
          if (n === undefined) {
            n = readFileSync(file, 'utf8').split('\n').length;
            lineCounts.set(file, n);
          }
          return n;
        };
        let located = 0;
        for (const f of s.report.findings) {
          const loc = f.location;
          if (loc.field === null) {
            expect(loc.line, f.message).to.equal(loc.objectLine);
            continue;
          }
          located++;
          expect(loc.file, f.message).to.be.a('string');
          expect(loc.line, f.message).to.be.within(loc.objectLine ?? 1, linesOf(join('/', loc.file ?? '')));
          expect(loc.column, f.message).to.be.greaterThan(0);
        }
        expect(located, 'findings with a located field').to.be.greaterThan(0);
      });
    });
  }
});
