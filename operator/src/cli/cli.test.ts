/**
 * The real `vigil` binary as a subprocess (Node 24 via process.execPath) on temp files:
 * formats, exit codes, inputs and policies, end to end.
 */
import { expect } from 'chai';
import { AUDIT_RULES } from '../audit/rules/index.ts';
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ALL_RULES } from '../rules/index.ts';
import { FAIL_ON } from './scan.ts';
import { SEVERITIES, severityRank, type Severity } from '../engine/types.ts';
import type { JsonReport } from './output/json.ts';
import { fixtureDir } from '../testing/pss-fixtures.ts';

const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'bin', 'vigil.js');
const PKG_VERSION = (
  JSON.parse(readFileSync(join(dirname(BIN), '..', 'package.json'), 'utf8')) as { version: string }
).version;
const NOW = '2026-06-01T00:00:00Z';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

let dir = '';

function vigil(args: string[], opts: { input?: string; env?: Record<string, string> } = {}): Run {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: dir,
    input: opts.input ?? '',
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', VIGIL_DEBUG: '', ...opts.env },
    timeout: 60_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, ms: performance.now() - t0 };
}

function scanJson(args: string[], opts: { input?: string } = {}): Run & { report: JsonReport } {
  const r = vigil(['scan', '-o', 'json', '--now', NOW, ...args], opts);
  let report: JsonReport;
  try {
    report = JSON.parse(r.stdout) as JsonReport;
  } catch {
    throw new Error(`stdout is not JSON (exit ${r.code}): ${r.stdout.slice(0, 500)}\nstderr: ${r.stderr}`);
  }
  return { ...r, report };
}

function write(rel: string, content: string | Buffer): string {
  const p = join(dir, rel);
  mkdirSync(dirname(p), { recursive: true });
  writeFileSync(p, content);
  return rel;
}

/** A pod that passes pss-restricted. */
const RESTRICTED_POD = `apiVersion: v1
kind: Pod
metadata:
  name: good
  namespace: prod
spec:
  securityContext:
    runAsNonRoot: true
    seccompProfile: {type: RuntimeDefault}
  containers:
    - name: app
      image: registry.example/app:1.0
      securityContext:
        allowPrivilegeEscalation: false
        capabilities: {drop: [ALL]}
`;

function privilegedPod(name: string, ns = 'prod'): string {
  return `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  namespace: ${ns}
spec:
  containers:
    - name: app
      image: registry.example/app:1.0
      securityContext:
        privileged: true
`;
}

function policy(spec: string, name = 'team-policy'): string {
  return `apiVersion: security.vigil.dev/v1alpha1
kind: SecurityPolicy
metadata:
  name: ${name}
spec:
${spec
  .split('\n')
  .map((l) => `  ${l}`)
  .join('\n')}
`;
}

const hasPrivileged = (report: JsonReport): boolean =>
  report.findings.some((f) => f.controls.includes('PSS:privileged'));

describe('vigil CLI (subprocess)', function () {
  this.timeout(60_000);

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-cli-'));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  describe('commands', () => {
    it('version prints the package version', () => {
      const r = vigil(['version']);
      expect(r.code).to.equal(0);
      expect(r.stdout.trim()).to.equal(`vigil ${PKG_VERSION}`);
      expect(vigil(['--version']).stdout.trim()).to.equal(`vigil ${PKG_VERSION}`);
    });

    it('help lists the commands; no command is a usage error', () => {
      const h = vigil(['help']);
      expect(h.code).to.equal(0);
      expect(h.stdout).to.contain('scan').and.contain('rules').and.contain('version');
      const none = vigil([]);
      expect(none.code).to.equal(2);
      expect(none.stderr).to.contain('Usage: vigil');
      const scanHelp = vigil(['help', 'scan']);
      expect(scanHelp.code).to.equal(0);
      expect(scanHelp.stdout).to.contain('--fail-on').and.contain('Exit codes');
    });

    it('unknown command → exit 2 with usage', () => {
      const r = vigil(['scna']);
      expect(r.code).to.equal(2);
      expect(r.stderr).to.contain('unknown command "scna"').and.contain('Usage: vigil');
    });

    it('rules lists every rule as a table and as JSON', () => {
      const t = vigil(['rules']);
      expect(t.code).to.equal(0);
      expect(t.stdout.split('\n')[0]).to.match(/^ID\s+SEVERITY\s+CATEGORY\s+PROFILES/);
      expect(t.stdout).to.contain('policy-exception-expired');
      const j = vigil(['rules', '--output', 'json']);
      expect(j.code).to.equal(0);
      const rules = JSON.parse(j.stdout) as {
        id: string;
        severity: string;
        category: string;
        profiles: string[];
      }[];
      expect(rules.map((r) => r.id)).to.have.members(ALL_RULES.map((r) => r.id));
      const ex = rules.find((r) => r.id === 'policy-exception-expired');
      expect(ex).to.include({ severity: 'medium', category: 'change-management' });
      expect(ex?.profiles).to.include('recommended').and.include('all');
      const sorted = rules.map((r) => r.id);
      expect(sorted).to.deep.equal([...sorted].sort());
    });

    it('rules --profile filters; unknown profile and flags → exit 2', () => {
      const j = vigil(['rules', '-o', 'json', '--profile', 'pss-baseline']);
      const rules = JSON.parse(j.stdout) as { profiles: string[] }[];
      expect(rules.every((r) => r.profiles.includes('pss-baseline'))).to.equal(true);
      expect(vigil(['rules', '--profile', 'nope']).code).to.equal(2);
      expect(vigil(['rules', '--bogus']).code).to.equal(2);
      expect(vigil(['rules', '-o', 'xml']).code).to.equal(2);
    });

    it('rules --audit lists the audit detections with their MITRE techniques (and refuses --profile)', () => {
      const j = vigil(['rules', '--audit', '-o', 'json']);
      expect(j.code).to.equal(0);
      const rules = JSON.parse(j.stdout) as { id: string; mitre: string[]; category: string }[];
      expect(rules.map((r) => r.id)).to.have.members(AUDIT_RULES.map((r) => r.id));
      expect(rules.every((r) => r.category === 'api-abuse')).to.equal(true);
      expect(rules.find((r) => r.id === 'audit-pod-exec')?.mitre.length).to.be.greaterThan(0);
      const t = vigil(['rules', '--audit']);
      expect(t.stdout).to.match(new RegExp(`${String(AUDIT_RULES.length)} audit rules\\n$`));
      const both = vigil(['rules', '--audit', '--profile', 'all']);
      expect(both.code).to.equal(2);
      expect(both.stderr).to.include('audit rules have no profiles');
    });
  });

  describe('scan: usage errors', () => {
    it('unknown flag → exit 2 with the scan usage', () => {
      const r = vigil(['scan', '--bogus', 'x.yaml']);
      expect(r.code).to.equal(2);
      expect(r.stderr).to.contain("Unknown option '--bogus'").and.contain('Usage: vigil scan');
      expect(r.stdout).to.equal('');
    });

    it('no path → exit 2', () => {
      const r = vigil(['scan']);
      expect(r.code).to.equal(2);
      expect(r.stderr).to.contain('no input');
    });

    it('unknown profile → one line listing the valid profiles, exit 2', () => {
      write('good.yaml', RESTRICTED_POD);
      const r = vigil(['scan', '--profile', 'strict', 'good.yaml']);
      expect(r.code).to.equal(2);
      const lines = r.stderr.trim().split('\n');
      expect(lines).to.have.length(1);
      expect(lines[0])
        .to.contain('"strict"')
        .and.contain('pss-baseline')
        .and.contain('pss-restricted')
        .and.contain('recommended')
        .and.contain('all');
      expect(r.stdout).to.equal('');
    });

    it('bad --output, --fail-on, --now and --max-file-size values → exit 2', () => {
      write('good.yaml', RESTRICTED_POD);
      for (const args of [
        ['--output', 'xml'],
        ['--fail-on', 'severe'],
        ['--now', 'yesterday'],
        ['--now', '2026-06-01T00:00:00'],
        ['--max-file-size', 'lots'],
        ['--policy', '-'],
      ]) {
        const r = vigil(['scan', ...args, 'good.yaml']);
        expect(r.code, args.join(' ')).to.equal(2);
        expect(r.stdout, args.join(' ')).to.equal('');
      }
    });

    it('a missing option value → exit 2', () => {
      expect(vigil(['scan', 'good.yaml', '--output']).code).to.equal(2);
    });
  });

  describe('scan: exit codes and formats', () => {
    it('a clean manifest → exit 0 and "no findings"', () => {
      write('good.yaml', RESTRICTED_POD);
      const r = vigil(['scan', '--profile', 'pss-restricted', 'good.yaml']);
      expect(r.stderr).to.equal('');
      expect(r.code).to.equal(0);
      expect(r.stdout).to.contain('1 resource scanned, no findings.');
    });

    it('a privileged pod → exit 1 (critical ≥ high) and a PSS:privileged finding with location', () => {
      write('priv.yaml', `# leading comment\n---\n${privilegedPod('web', 'team-a')}`);
      const r = scanJson(['priv.yaml']);
      expect(r.code).to.equal(1);
      expect(r.stderr).to.equal('');
      const f = r.report.findings.find((x) => x.controls.includes('PSS:privileged'));
      expect(f, 'PSS:privileged finding').to.not.equal(undefined);
      expect(f?.resource).to.deep.equal({ apiVersion: 'v1', kind: 'Pod', namespace: 'team-a', name: 'web' });
      expect(f?.container).to.equal('app');
      // The line and column of the offending field; the object starts at line 3.
      expect(f?.location).to.deep.equal({
        file: 'priv.yaml',
        line: 13,
        column: 9,
        field: 'spec.containers[0].securityContext.privileged',
        objectLine: 3,
      });
      expect(r.report.summary.resources).to.equal(1);
    });

    it('JSON has exactly the documented keys, null for absent namespace/container, and a consistent summary', () => {
      write('ns-less.yaml', privilegedPod('loose').replace('  namespace: prod\n', ''));
      const r = scanJson(['ns-less.yaml', '--profile', 'all']);
      expect(Object.keys(r.report)).to.deep.equal(['findings', 'summary']);
      expect(Object.keys(r.report.summary)).to.deep.equal([
        'critical',
        'high',
        'medium',
        'low',
        'info',
        'resources',
      ]);
      expect(r.report.findings.length).to.be.greaterThan(0);
      for (const f of r.report.findings) {
        expect(Object.keys(f)).to.deep.equal([
          'ruleId',
          'title',
          'severity',
          'category',
          'controls',
          'resource',
          'container',
          'message',
          'remediation',
          'location',
        ]);
        expect(Object.keys(f.resource)).to.deep.equal(['apiVersion', 'kind', 'namespace', 'name']);
        expect(f.resource.namespace).to.equal(null);
        expect(f.container === null || typeof f.container === 'string').to.equal(true);
        expect(Object.keys(f.location)).to.deep.equal(['file', 'line', 'column', 'field', 'objectLine']);
      }
      const counts = Object.fromEntries(
        SEVERITIES.map((s) => [s, r.report.findings.filter((f) => f.severity === s).length]),
      );
      for (const s of SEVERITIES) expect(r.report.summary[s], s).to.equal(counts[s]);
    });

    it('--fail-on: exit 1 exactly when a finding is at or above the threshold; never → 0', () => {
      write(
        'mixed.yaml',
        `${privilegedPod('a')}---\n${RESTRICTED_POD.replace('name: good', 'name: b').replace('    runAsNonRoot: true\n', '')}`,
      );
      const base = scanJson(['mixed.yaml', '--profile', 'all', '--fail-on', 'never']);
      expect(base.code).to.equal(0);
      const ranks = base.report.findings.map((f) => severityRank(f.severity));
      expect(ranks.length).to.be.greaterThan(1);
      for (const t of FAIL_ON) {
        const r = vigil(['scan', '--profile', 'all', '--fail-on', t, '--now', NOW, 'mixed.yaml']);
        const expected = t !== 'never' && ranks.some((k) => k >= severityRank(t)) ? 1 : 0;
        expect(r.code, `--fail-on ${t}`).to.equal(expected);
      }
      // Default threshold is high.
      const dflt = vigil(['scan', '--profile', 'all', '--now', NOW, 'mixed.yaml']);
      expect(dflt.code).to.equal(ranks.some((k) => k >= severityRank('high')) ? 1 : 0);
    });

    it('table output groups by resource with file:line, message, remediation and a summary; no ANSI with NO_COLOR', () => {
      write('priv.yaml', privilegedPod('web', 'team-a'));
      const r = vigil(['scan', 'priv.yaml']);
      expect(r.stdout).to.match(/^priv\.yaml:1 {2}Pod team-a\/web$/m);
      expect(r.stdout).to.match(/CRITICAL +pss-privileged +container "app"/);
      expect(r.stdout).to.contain('fix: ');
      expect(r.stdout).to.match(
        /1 resource scanned, \d+ findings?: \d+ critical, \d+ high, \d+ medium, \d+ low, \d+ info\.\n$/,
      );
      expect(r.stdout).to.not.contain('\x1b[');
    });

    it('SARIF 2.1.0 has the fields GitHub code scanning requires', () => {
      write('deploy/priv.yaml', privilegedPod('web', 'team-a'));
      const r = vigil(['scan', '-o', 'sarif', './deploy/priv.yaml']);
      expect(r.code).to.equal(1);
      const sarif = JSON.parse(r.stdout) as {
        $schema: string;
        version: string;
        runs: {
          tool: {
            driver: {
              name: string;
              version: string;
              informationUri: string;
              rules: Record<string, unknown>[];
            };
          };
          results: {
            ruleId: string;
            ruleIndex: number;
            level: string;
            message: { text: string };
            locations: {
              physicalLocation: { artifactLocation: { uri: string }; region: { startLine: number } };
            }[];
            partialFingerprints: Record<string, string>;
          }[];
        }[];
      };
      expect(sarif.$schema).to.match(/sarif-2\.1\.0/);
      expect(sarif.version).to.equal('2.1.0');
      expect(sarif.runs).to.have.length(1);
      const run = sarif.runs[0];
      expect(run?.tool.driver.name).to.equal('vigil');
      expect(run?.tool.driver.version).to.equal(PKG_VERSION);
      expect(run?.tool.driver.informationUri).to.match(/^https:\/\//);
      const rules = run?.tool.driver.rules ?? [];
      expect(rules.length).to.be.greaterThan(0);
      for (const rule of rules) {
        expect(rule).to.include.keys(
          'id',
          'name',
          'shortDescription',
          'fullDescription',
          'help',
          'defaultConfiguration',
          'properties',
        );
        const props = rule['properties'] as { tags: string[]; 'security-severity': string };
        expect(props['security-severity']).to.match(/^\d+\.\d$/);
        expect(props.tags.length).to.be.greaterThan(0);
      }
      const results = run?.results ?? [];
      expect(results.length).to.be.greaterThan(0);
      for (const res of results) {
        expect(rules[res.ruleIndex]?.['id']).to.equal(res.ruleId);
        expect(['error', 'warning', 'note']).to.include(res.level);
        expect(res.message.text).to.be.a('string').and.not.equal('');
        const loc = res.locations[0]?.physicalLocation;
        expect(loc?.artifactLocation.uri).to.equal('deploy/priv.yaml');
        // Every finding of this pod names a field of it, inside the object (lines 1-11).
        expect(loc?.region.startLine).to.be.within(1, 11);
        expect(Object.values(res.partialFingerprints)[0]).to.match(/^[0-9a-f]{64}$/);
      }
      const priv = results.find((x) => x.ruleId === 'pss-privileged');
      expect(priv?.level).to.equal('error');
      // `privileged: true` is line 11, column 9 of privilegedPod.
      expect(priv?.locations[0]?.physicalLocation.region).to.deep.equal({ startLine: 11, startColumn: 9 });
    });

    it('JUnit XML: one testcase per (resource, applicable rule), failures counted', () => {
      write('junit/priv.yaml', privilegedPod('web', 'team-a'));
      write('junit/good.yaml', RESTRICTED_POD);
      const r = vigil(['scan', '-o', 'junit', '--profile', 'pss-restricted', 'junit']);
      expect(r.code).to.equal(1);
      const xml = r.stdout;
      expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites')).to.equal(true);
      const cases = xml.match(/<testcase /g) ?? [];
      const failures = xml.match(/<failure /g) ?? [];
      const podRules = ALL_RULES.filter(
        (x) => x.profiles.includes('pss-restricted') && x.kinds.includes('Pod'),
      ).length;
      expect(cases).to.have.length(2 * podRules);
      const top = /<testsuites name="vigil" tests="(\d+)" failures="(\d+)" errors="(\d+)">/.exec(xml);
      expect(Number(top?.[1])).to.equal(cases.length);
      expect(Number(top?.[2])).to.equal(failures.length);
      expect(Number(top?.[3])).to.equal(0);
      expect(xml).to.match(/<testsuite name="junit\/good.yaml" tests="\d+" failures="0"/);
      expect(xml).to.match(
        /<testcase name="pss-privileged" classname="Pod team-a\/web" file="junit\/priv.yaml" line="1">\s*<failure /,
      );
    });
  });

  describe('scan: inputs', () => {
    it('reads standard input with -, located as <stdin>', () => {
      const r = scanJson(['-'], { input: privilegedPod('from-stdin') });
      expect(r.code).to.equal(1);
      expect(r.report.summary.resources).to.equal(1);
      expect(r.report.findings[0]?.location).to.include({ file: '<stdin>', objectLine: 1 });
      expect(r.report.findings[0]?.resource.name).to.equal('from-stdin');
    });

    it('walks directories recursively in sorted order, skipping hidden entries and other extensions', () => {
      write('tree/b.yaml', privilegedPod('b'));
      write('tree/a/z.yml', privilegedPod('az'));
      write(
        'tree/c.json',
        JSON.stringify(
          JSON.parse(JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'c' } })),
        ),
      );
      write('tree/notes.txt', 'not yaml: [');
      write('tree/.hidden/x.yaml', 'broken: [');
      write('tree/node_modules/y.yaml', 'broken: [');
      const r = scanJson(['tree', '--profile', 'all', '--fail-on', 'never']);
      expect(r.stderr).to.equal('');
      expect(r.code).to.equal(0);
      expect(r.report.summary.resources).to.equal(3);
      const files = [...new Set(r.report.findings.map((f) => f.location.file))];
      expect(files).to.include('tree/a/z.yml').and.include('tree/b.yaml');
      const junit = vigil(['scan', '-o', 'junit', '--profile', 'all', 'tree']);
      const suites = [...junit.stdout.matchAll(/<testsuite name="([^"]+)"/g)].map((m) => m[1]);
      expect(suites.filter((s) => s !== 'tree/c.json')).to.deep.equal(['tree/a/z.yml', 'tree/b.yaml']);
    });

    it('follows a symlink loop only once', () => {
      write('loop/inner/p.yaml', privilegedPod('p'));
      symlinkSync('..', join(dir, 'loop', 'inner', 'up'));
      const r = scanJson(['loop', '--fail-on', 'never']);
      expect(r.code).to.equal(0);
      expect(r.report.summary.resources).to.equal(1);
      expect(r.stderr).to.equal('');
    });

    it('scans each file once when named twice', () => {
      write('twice.yaml', privilegedPod('t'));
      const r = scanJson(['twice.yaml', './twice.yaml']);
      expect(r.report.summary.resources).to.equal(1);
    });

    it('kind: List items each get their own line; typed lists get their kind from the list', () => {
      write(
        'list.yaml',
        `apiVersion: v1
kind: List
items:
  - apiVersion: v1
    kind: Pod
    metadata: {name: one, namespace: prod}
    spec: {containers: [{name: app, image: x, securityContext: {privileged: true}}]}
  - apiVersion: v1
    kind: Pod
    metadata: {name: two, namespace: prod}
    spec: {containers: [{name: app, image: x, securityContext: {privileged: true}}]}
---
apiVersion: v1
kind: PodList
items:
  - metadata: {name: three, namespace: prod}
    spec: {containers: [{name: app, image: x, securityContext: {privileged: true}}]}
`,
      );
      const r = scanJson(['list.yaml']);
      expect(r.stderr).to.equal('');
      expect(r.report.summary.resources).to.equal(3);
      const lines = Object.fromEntries(
        r.report.findings
          .filter((f) => f.controls.includes('PSS:privileged'))
          .map((f) => [f.resource.name, [f.location.objectLine, f.location.line, f.location.column]]),
      );
      // Each item's first line, and the line and column of its `privileged: true`.
      expect(lines).to.deep.equal({ one: [4, 7, 65], two: [8, 11, 65], three: [16, 17, 65] });
    });

    it('JSON files: a single object and a List', () => {
      write(
        'obj.json',
        JSON.stringify(
          {
            apiVersion: 'v1',
            kind: 'Pod',
            metadata: { name: 'j1', namespace: 'prod' },
            spec: { containers: [{ name: 'app', image: 'x', securityContext: { privileged: true } }] },
          },
          null,
          2,
        ),
      );
      write(
        'list.json',
        JSON.stringify(
          {
            apiVersion: 'v1',
            kind: 'List',
            items: [
              {
                apiVersion: 'v1',
                kind: 'Pod',
                metadata: { name: 'j2', namespace: 'prod' },
                spec: { containers: [{ name: 'app', image: 'x', securityContext: { privileged: true } }] },
              },
            ],
          },
          null,
          '\t',
        ),
      );
      const r = scanJson(['obj.json', 'list.json']);
      expect(r.stderr).to.equal('');
      expect(r.report.summary.resources).to.equal(2);
      const names = r.report.findings
        .filter((f) => f.controls.includes('PSS:privileged'))
        .map((f) => `${f.resource.name}@${f.location.file}:${f.location.objectLine}:${f.location.line}`);
      // The object's first line, then the line of its "privileged" key.
      expect(names).to.have.members(['j1@obj.json:1:14', 'j2@list.json:5:18']);
    });

    it('YAML 1.1 booleans as kubectl reads them: privileged: yes is privileged', () => {
      write('yes.yaml', privilegedPod('yes').replace('privileged: true', 'privileged: yes'));
      const r = scanJson(['yes.yaml']);
      expect(hasPrivileged(r.report)).to.equal(true);
    });

    it('duplicate keys are an input error, not a silent first-or-last pick', () => {
      write(
        'dup.yaml',
        privilegedPod('dup').replace('privileged: true', 'privileged: false\n        privileged: true'),
      );
      const r = scanJson(['dup.yaml']);
      expect(r.code).to.equal(2);
      expect(r.stderr).to.match(/^dup\.yaml:\d+: duplicate key "privileged": keys must be unique/m);
    });

    it('empty documents and an empty file are skipped silently', () => {
      write('empty.yaml', '');
      write('blank-docs.yaml', `---\n# nothing\n---\n~\n---\n${RESTRICTED_POD}---\n`);
      const r = scanJson(['empty.yaml', 'blank-docs.yaml', '--profile', 'pss-restricted']);
      expect(r.stderr).to.equal('');
      expect(r.code).to.equal(0);
      expect(r.report.summary.resources).to.equal(1);
    });

    it('malformed YAML → exit 2 naming file and line; the other files are still scanned and reported', () => {
      write('broken.yaml', 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: [oops\n  namespace: x\n');
      write('priv.yaml', privilegedPod('web', 'team-a'));
      const r = scanJson(['broken.yaml', 'priv.yaml']);
      expect(r.code).to.equal(2);
      const lines = r.stderr.trim().split('\n');
      expect(lines).to.have.length(1);
      expect(lines[0]).to.match(/^broken\.yaml:\d+: \S/);
      expect(r.stderr).to.not.match(/\n\s+at /); // no stack trace
      expect(hasPrivileged(r.report)).to.equal(true);
    });

    it('a document that is not a Kubernetes object → exit 2 with file and line; the rest of the stream is scanned', () => {
      write(
        'mixed-docs.yaml',
        `${privilegedPod('first')}---\nfoo: bar\n---\n- a\n- b\n---\n${privilegedPod('last')}`,
      );
      const r = scanJson(['mixed-docs.yaml']);
      expect(r.code).to.equal(2);
      const lines = r.stderr.trim().split('\n');
      expect(lines).to.have.length(2);
      expect(lines[0]).to.match(/^mixed-docs\.yaml:13: not a Kubernetes object/);
      expect(lines[1]).to.match(/^mixed-docs\.yaml:15: document is a list/);
      expect(new Set(r.report.findings.map((f) => f.resource.name))).to.deep.equal(
        new Set(['first', 'last']),
      );
    });

    it('a folder with a Helm chart: the chart is skipped with a helm template hint, non-Kubernetes YAML with a note, exit by the findings (issue 19 item 6)', () => {
      write('repo/k8s/priv.yaml', privilegedPod('plain', 'team-a'));
      write('repo/chart/Chart.yaml', 'apiVersion: v2\nname: web\nversion: 0.1.0\n');
      write('repo/chart/values.yaml', 'replicaCount: 1\nimage:\n  tag: latest\n');
      // A template that happens to parse as YAML: it must not be scanned as a resource.
      write(
        'repo/chart/templates/pod.yaml',
        privilegedPod('templated', 'team-a').replace('name: templated', 'name: "{{ .Release.Name }}"'),
      );
      write('repo/chart/templates/broken.yaml', '{{- if .Values.x }}\nkind: [\n{{- end }}\n');
      write('repo/docker-compose.yml', 'services:\n  web:\n    image: nginx\n');
      const never = scanJson(['repo', '--fail-on', 'never']);
      expect(never.code).to.equal(0);
      expect(never.stderr).to.equal(
        [
          'vigil scan: note: repo/chart is a Helm chart (Chart.yaml): its templates are not Kubernetes YAML until rendered, so it is skipped; scan the rendered chart with: helm template repo/chart | vigil scan -',
          'vigil scan: note: repo/docker-compose.yml skipped: not a Kubernetes manifest (no document has apiVersion and kind)',
          '',
        ].join('\n'),
      );
      expect(new Set(never.report.findings.map((f) => f.resource.name))).to.deep.equal(new Set(['plain']));
      expect(never.report.summary.resources).to.equal(1);
      // The exit code follows the findings: the privileged pod is critical.
      expect(scanJson(['repo', '--fail-on', 'high']).code).to.equal(1);
      // The chart named directly, or a directory inside it, gets the same hint.
      const direct = vigil(['scan', 'repo/chart/templates', '--fail-on', 'never']);
      expect(direct.code).to.equal(0);
      expect(direct.stderr).to.contain(
        'repo/chart/templates is inside the chart repo/chart, which is a Helm chart (Chart.yaml)',
      );
      expect(direct.stderr).to.contain('helm template repo/chart | vigil scan -');
      // A non-Kubernetes file named explicitly is still an input error.
      expect(vigil(['scan', 'repo/docker-compose.yml', '--fail-on', 'never']).code).to.equal(2);
    });

    it('unreadable paths → exit 2 naming them; readable ones still reported', () => {
      write('priv.yaml', privilegedPod('web'));
      const args = ['missing.yaml', 'priv.yaml'];
      const rootUser = process.getuid?.() === 0;
      if (!rootUser) {
        write('locked.yaml', privilegedPod('locked'));
        chmodSync(join(dir, 'locked.yaml'), 0o000);
        args.push('locked.yaml');
      }
      const r = scanJson(args);
      expect(r.code).to.equal(2);
      expect(r.stderr).to.contain('missing.yaml: no such file or directory');
      if (!rootUser) expect(r.stderr).to.contain('locked.yaml: permission denied');
      expect(hasPrivileged(r.report)).to.equal(true);
    });

    it('a YAML bomb (billion laughs) is refused quickly; other files are still reported', () => {
      const levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
      for (let i = 1; i < 10; i++) {
        const prev = String.fromCharCode(96 + i);
        const cur = String.fromCharCode(97 + i);
        levels.push(`${cur}: &${cur} [${Array(9).fill(`*${prev}`).join(',')}]`);
      }
      write(
        'bomb.yaml',
        `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bomb}\ndata:\n${levels.map((l) => `  ${l}`).join('\n')}\n`,
      );
      write('priv.yaml', privilegedPod('web'));
      const r = scanJson(['bomb.yaml', 'priv.yaml']);
      expect(r.code).to.equal(2);
      // Line 8 holds the aliases that take the expansion past the budget (b: 9 aliases, c: 9 × 10).
      expect(r.stderr).to.match(/^bomb\.yaml:8: too many aliases/m);
      expect(r.ms).to.be.lessThan(20_000);
      expect(hasPrivileged(r.report)).to.equal(true);
    });

    it('a binary file → exit 2 with a clear message', () => {
      write('blob.yaml', Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x00, 0x00, 0x00, 0x10]));
      const r = scanJson(['blob.yaml']);
      expect(r.code).to.equal(2);
      expect(r.stderr.trim()).to.equal(
        'blob.yaml: binary file (contains NUL bytes); expected YAML or JSON text',
      );
    });

    it('a file above --max-file-size is refused, the others scanned', () => {
      write('big.yaml', `${privilegedPod('big')}# ${'x'.repeat(4096)}\n`);
      write('priv.yaml', privilegedPod('web'));
      const r = scanJson(['--max-file-size', '2KiB', 'big.yaml', 'priv.yaml']);
      expect(r.code).to.equal(2);
      expect(r.stderr).to.match(/^big\.yaml: file is larger than the 2 KiB limit/m);
      expect(r.report.findings.every((f) => f.resource.name === 'web')).to.equal(true);
      const stdin = vigil(['scan', '--max-file-size', '2KiB', '-'], {
        input: `${privilegedPod('big')}# ${'x'.repeat(4096)}\n`,
      });
      expect(stdin.code).to.equal(2);
      expect(stdin.stderr).to.match(/^<stdin>: file is larger than/m);
    });

    it('control characters in names cannot reach the terminal', () => {
      write('evil.yaml', privilegedPod('"evil\\e[31mred\\e]0;title\\a"'));
      const r = vigil(['scan', 'evil.yaml']);
      expect(r.stdout).to.not.contain('\x1b');
      expect(r.stdout).to.contain('evil\\x1b[31mred');
    });
  });

  describe('scan --policy', () => {
    it('severity overrides and enabled:false apply', () => {
      write('priv.yaml', privilegedPod('web'));
      write(
        'pol-low.yaml',
        policy('profile: pss-baseline\nrules:\n  - id: pss-privileged\n    severity: low'),
      );
      const low = scanJson(['--policy', 'pol-low.yaml', 'priv.yaml']);
      expect(low.code).to.equal(0);
      const f = low.report.findings.find((x) => x.ruleId === 'pss-privileged');
      expect(f?.severity).to.equal('low');
      write(
        'pol-off.yaml',
        policy('profile: pss-baseline\nrules:\n  - id: pss-privileged\n    enabled: false'),
      );
      const off = scanJson(['--policy', 'pol-off.yaml', 'priv.yaml']);
      expect(off.report.findings.some((x) => x.ruleId === 'pss-privileged')).to.equal(false);
    });

    it('--profile overrides the policy profile', () => {
      write('good.yaml', RESTRICTED_POD.replace('    runAsNonRoot: true\n', ''));
      write('pol-base.yaml', policy('profile: pss-baseline'));
      const base = scanJson(['--policy', 'pol-base.yaml', 'good.yaml']);
      expect(base.report.findings).to.have.length(0);
      const restricted = scanJson(['--policy', 'pol-base.yaml', '--profile', 'pss-restricted', 'good.yaml']);
      expect(restricted.report.findings.some((x) => x.controls.includes('PSS:runAsNonRoot'))).to.equal(true);
    });

    it('params of the right type compile; unknown params and wrong types → exit 2 naming the field', () => {
      write('good.yaml', RESTRICTED_POD);
      const withParam = ALL_RULES.find((r) => r.params?.some((p) => p.type === 'string[]'));
      if (withParam) {
        const p = withParam.params?.find((x) => x.type === 'string[]');
        write(
          'pol-param.yaml',
          policy(`profile: all\nrules:\n  - id: ${withParam.id}\n    params:\n      ${p?.name}: [sidecar]`),
        );
        expect(
          vigil(['scan', '--policy', 'pol-param.yaml', '--fail-on', 'never', 'good.yaml']).code,
        ).to.equal(0);
        write(
          'pol-badtype.yaml',
          policy(`rules:\n  - id: ${withParam.id}\n    params:\n      ${p?.name}: 7`),
        );
        const bad = vigil(['scan', '--policy', 'pol-badtype.yaml', 'good.yaml']);
        expect(bad.code).to.equal(2);
        expect(bad.stderr).to.contain(`pol-badtype.yaml: spec.rules[0].params.${p?.name}: `);
      }
      write(
        'pol-unknown-param.yaml',
        policy('rules:\n  - id: policy-exception-expired\n    params:\n      foo: 1'),
      );
      const r = vigil(['scan', '--policy', 'pol-unknown-param.yaml', 'good.yaml']);
      expect(r.code).to.equal(2);
      expect(r.stderr.trim()).to.match(
        /^pol-unknown-param\.yaml: spec\.rules\[0\]\.params\.foo: rule policy-exception-expired has no param "foo"/,
      );
      expect(r.stdout).to.equal('');
    });

    it('an active exception hides the finding; an expired one shows it plus policy-exception-expired', () => {
      write('priv.yaml', privilegedPod('web', 'team-a'));
      write(
        'pol-exc.yaml',
        policy(
          'profile: pss-baseline\nexceptions:\n  - rules: [pss-privileged]\n    match: {namespaces: [team-*]}\n    owner: team-a\n    reason: legacy agent\n    expiresAt: "2026-03-01T00:00:00Z"',
        ),
      );
      const active = vigil([
        'scan',
        '-o',
        'json',
        '--now',
        '2026-02-01T00:00:00Z',
        '--policy',
        'pol-exc.yaml',
        'priv.yaml',
      ]);
      const activeReport = JSON.parse(active.stdout) as JsonReport;
      expect(hasPrivileged(activeReport)).to.equal(false);
      expect(activeReport.findings.some((f) => f.ruleId === 'policy-exception-expired')).to.equal(false);
      expect(activeReport.summary.resources).to.equal(2); // the pod and the policy itself

      const expired = scanJson(['--policy', 'pol-exc.yaml', 'priv.yaml']);
      expect(hasPrivileged(expired.report)).to.equal(true);
      const lapse = expired.report.findings.find((f) => f.ruleId === 'policy-exception-expired');
      expect(lapse?.resource).to.deep.equal({
        apiVersion: 'security.vigil.dev/v1alpha1',
        kind: 'SecurityPolicy',
        namespace: null,
        name: 'team-policy',
      });
      expect(lapse?.location).to.deep.equal({
        file: 'pol-exc.yaml',
        line: 1,
        column: null,
        field: null,
        objectLine: 1,
      });
      expect(lapse?.message).to.contain('team-a');
    });

    it('the policy file is not reported twice when it is also among the scanned paths', () => {
      write(
        'both/pol.yaml',
        policy(
          'exceptions:\n  - rules: [pss-privileged]\n    owner: o\n    reason: r\n    expiresAt: "2026-01-01T00:00:00Z"',
        ),
      );
      const r = scanJson(['--policy', 'both/pol.yaml', 'both']);
      expect(r.report.findings.filter((f) => f.ruleId === 'policy-exception-expired')).to.have.length(1);
    });

    it('a policy with errors → exit 2, one `file: field: message` line per error, nothing on stdout', () => {
      write('good.yaml', RESTRICTED_POD);
      write(
        'pol-bad.yaml',
        policy(
          'profile: strictest\nrules:\n  - id: no-such-rule\nexceptions:\n  - rules: [pss-privileged]\n    reason: r\n    expiresAt: tomorrow',
        ),
      );
      const r = vigil(['scan', '--policy', 'pol-bad.yaml', 'good.yaml']);
      expect(r.code).to.equal(2);
      expect(r.stdout).to.equal('');
      const lines = r.stderr.trim().split('\n');
      expect(lines).to.include.members([
        'pol-bad.yaml: spec.profile: unknown profile "strictest" (expected one of pss-baseline, pss-restricted, recommended, all)',
        'pol-bad.yaml: spec.rules[0].id: unknown rule id "no-such-rule"',
        'pol-bad.yaml: spec.exceptions[0].owner: spec.exceptions[0].owner is required',
        'pol-bad.yaml: spec.exceptions[0].expiresAt: spec.exceptions[0].expiresAt must be an RFC 3339 date-time',
      ]);
    });

    it('a policy file that is missing, malformed, or not a SecurityPolicy → exit 2', () => {
      write('good.yaml', RESTRICTED_POD);
      write('pol-broken.yaml', 'kind: SecurityPolicy\nspec: [\n');
      write('pol-pod.yaml', RESTRICTED_POD);
      write('pol-two.yaml', `${policy('profile: all')}---\n${policy('profile: all', 'other')}`);
      const cases: [string, RegExp][] = [
        ['nope.yaml', /^nope\.yaml: no such file or directory$/],
        ['pol-broken.yaml', /^pol-broken\.yaml:\d+: /],
        ['pol-pod.yaml', /^pol-pod\.yaml: kind: expected SecurityPolicy, found "Pod"$/],
        ['pol-two.yaml', /^pol-two\.yaml: expected exactly one SecurityPolicy document, found 2$/],
      ];
      for (const [file, re] of cases) {
        const r = vigil(['scan', '--policy', file, 'good.yaml']);
        expect(r.code, file).to.equal(2);
        expect(r.stderr.trim(), file).to.match(re);
      }
    });
  });

  it('scans the upstream PSS restricted fixtures that must pass (k8s.io/pod-security-admission) without findings', () => {
    const fixtures = fixtureDir('restricted', 'pass');
    const files = readdirSync(fixtures).filter((f) => f.endsWith('.yaml'));
    expect(files, fixtures).to.include('base.yaml');
    const r = vigil(['scan', fixtures, '--profile', 'pss-restricted', '-o', 'json']);
    expect(r.stderr).to.equal('');
    expect(r.code).to.equal(0);
    const report = JSON.parse(r.stdout) as JsonReport;
    expect(report.findings).to.deep.equal([]);
    expect(report.summary.resources).to.equal(files.length);
  });
});

/** Severity helper used by --fail-on expectations, checked against the engine's order. */
describe('severity order assumed by --fail-on', () => {
  it('critical > high > medium > low > info', () => {
    const order: Severity[] = ['critical', 'high', 'medium', 'low', 'info'];
    for (let i = 1; i < order.length; i++)
      expect(severityRank(order[i - 1] as Severity)).to.be.greaterThan(severityRank(order[i] as Severity));
  });
});
