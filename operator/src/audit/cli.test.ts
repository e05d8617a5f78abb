/**
 * `vigil audit` end to end: the recorded log in testdata (every detection plus benign control-plane
 * noise) through the CLI, in process and as the real binary. The expected (ruleId, auditID)
 * pairs come from the fixture itself: each abusive request carries a `vigil.dev/expect`
 * annotation naming the rules it must trigger; benign events carry none.
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../cli/main.ts';
import type { CliIO } from '../cli/io.ts';
import { AUDIT_RULES } from './rules/index.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
const LOG = join(HERE, 'testdata', 'recorded.jsonl');
const EVENTLIST = join(HERE, 'testdata', 'eventlist.json');
const POLICY = join(HERE, 'testdata', 'policy.yaml');
const BIN = join(HERE, '..', '..', '..', 'bin', 'vigil.js');

interface Report {
  detections: {
    ruleId: string;
    title: string;
    severity: string;
    category: string;
    auditID: string;
    time: string;
    user: string;
    verb: string;
    resource: Record<string, string>;
    sourceIPs: string[];
    message: string;
    remediation: string;
  }[];
  summary: Record<string, number>;
}

interface RawEvent {
  auditID: string;
  stage: string;
  user: { username: string };
  verb: string;
  annotations?: Record<string, string>;
}

function fixture(file = LOG): RawEvent[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as RawEvent);
}

/** "ruleId auditID" for every rule named by a judged event's vigil.dev/expect annotation. */
function expectedPairs(events: RawEvent[]): string[] {
  const out: string[] = [];
  for (const e of events) {
    if (e.stage !== 'ResponseComplete' && e.stage !== 'Panic') continue;
    const want = e.annotations?.['vigil.dev/expect'];
    if (want) for (const id of want.split(',')) out.push(`${id} ${e.auditID}`);
  }
  return out.sort();
}

function pairs(r: Report): string[] {
  return r.detections.map((d) => `${d.ruleId} ${d.auditID}`).sort();
}

function fakeIO(input = ''): CliIO & { out: () => string; err: () => string } {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out: () => out.join(''),
    err: () => err.join(''),
    stdout: { write: (s: string) => out.push(s), isTTY: false },
    stderr: { write: (s: string) => err.push(s) },
    // Arbitrary chunk boundaries, as a pipe delivers them.
    stdin: (async function* () {
      const buf = Buffer.from(input);
      for (let i = 0; i < buf.length; i += 997) {
        await Promise.resolve(); // a pipe delivers asynchronously
        yield buf.subarray(i, i + 997);
      }
    })(),
    env: {},
    cwd: process.cwd(),
  };
}

async function audit(
  args: string[],
  input = '',
): Promise<{ code: number; report: Report; io: ReturnType<typeof fakeIO> }> {
  const io = fakeIO(input);
  const code = await main(['audit', ...args], io);
  let report: Report = { detections: [], summary: {} };
  if (args.includes('json')) report = JSON.parse(io.out()) as Report;
  return { code, report, io };
}

describe('vigil audit (recorded log)', () => {
  const events = fixture();
  const expected = expectedPairs(events);

  it('the fixture covers every detection and has benign noise', () => {
    const covered = new Set(expected.map((p) => p.split(' ')[0]));
    expect([...covered].sort()).to.deep.equal(AUDIT_RULES.map((r) => r.id).sort());
    const benign = events.filter(
      (e) => e.stage === 'ResponseComplete' && !e.annotations?.['vigil.dev/expect'],
    );
    expect(benign.length).to.be.greaterThan(15);
    expect(events.some((e) => e.stage === 'RequestReceived')).to.equal(true);
  });

  it('reports exactly the expected (ruleId, auditID) pairs', async () => {
    const { code, report, io } = await audit(['--policy', POLICY, '-o', 'json', LOG]);
    expect(io.err()).to.equal('');
    expect(pairs(report)).to.deep.equal(expected);
    expect(code).to.equal(1);
    const judged = events.filter((e) => e.stage === 'ResponseComplete' || e.stage === 'Panic').length;
    expect(report.summary).to.include({ events: events.length, judged, inputErrors: 0 });
    const bySeverity = (s: string) => report.detections.filter((d) => d.severity === s).length;
    for (const s of ['critical', 'high', 'medium', 'low', 'info'])
      expect(report.summary[s]).to.equal(bySeverity(s));
  });

  it('fills every field of a detection from its event', async () => {
    const { report } = await audit(['--policy', POLICY, '-o', 'json', LOG]);
    const byId = new Map(events.filter((e) => e.stage !== 'RequestReceived').map((e) => [e.auditID, e]));
    for (const d of report.detections) {
      const ev = byId.get(d.auditID);
      expect(ev, d.auditID).to.not.equal(undefined);
      expect(d.user).to.equal(ev?.user.username);
      expect(d.verb).to.equal(ev?.verb);
      expect(d.category).to.equal('api-abuse');
      expect(d.time).to.match(/^2026-12-01T/);
      expect(d.title).to.not.equal('');
      expect(d.remediation).to.not.equal('');
      expect(Object.keys(d.resource).sort()).to.deep.equal([
        'group',
        'name',
        'namespace',
        'resource',
        'subresource',
      ]);
    }
    const exec = report.detections.find((d) => d.ruleId === 'audit-pod-exec');
    expect(exec).to.deep.include({ severity: 'critical', user: 'alice', sourceIPs: ['198.51.100.7'] });
    expect(exec?.resource).to.deep.equal({
      group: '',
      resource: 'pods',
      subresource: 'exec',
      namespace: 'kube-system',
      name: 'etcd-cp',
    });
  });

  it('without the policy: the configurable detections are off or at their defaults', async () => {
    const { report } = await audit(['-o', 'json', LOG]);
    const off = new Set(['audit-unapproved-change', 'audit-sa-token-foreign-ip', 'audit-denied-burst']);
    // What the policy makes expected (cert-manager's Secret watch, its CA injector patching a
    // webhook) is reported, and the argocd controller's account is no longer powerful.
    const rc = events.filter((e) => e.stage === 'ResponseComplete');
    const certManager = rc.find((e) => e.user.username === 'system:serviceaccount:cert-manager:cert-manager');
    const injector = rc.find(
      (e) => e.user.username === 'system:serviceaccount:cert-manager:cert-manager-cainjector',
    );
    const argocdToken = rc.find(
      (e) => e.verb === 'create' && e.annotations?.['vigil.dev/expect'] === 'audit-token-request-powerful',
    );
    expect([certManager, injector, argocdToken]).to.not.include(undefined);
    const want = [
      ...expected.filter(
        (p) =>
          !off.has(p.split(' ')[0] ?? '') &&
          p !== `audit-token-request-powerful ${argocdToken?.auditID ?? ''}`,
      ),
      `audit-secret-read-unexpected ${certManager?.auditID ?? ''}`,
      `audit-admission-webhook-changed ${injector?.auditID ?? ''}`,
    ].sort();
    expect(pairs(report)).to.deep.equal(want);
  });

  it('reads standard input with -, in arbitrary chunks', async () => {
    const { code, report } = await audit(['--policy', POLICY, '-o', 'json', '-'], readFileSync(LOG, 'utf8'));
    expect(code).to.equal(1);
    expect(pairs(report)).to.deep.equal(expected);
  });

  it('reads a pretty-printed EventList document', async () => {
    const list = JSON.parse(readFileSync(EVENTLIST, 'utf8')) as { items: RawEvent[] };
    const { code, report, io } = await audit(['--policy', POLICY, '-o', 'json', EVENTLIST]);
    expect(io.err()).to.equal('');
    expect(pairs(report)).to.deep.equal(expectedPairs(list.items));
    expect(report.detections.length).to.be.greaterThan(0);
    expect(code).to.equal(1);
  });

  it('reads EventList lines mixed with Event lines', async () => {
    const lines = readFileSync(LOG, 'utf8')
      .split('\n')
      .filter((l) => l !== '');
    const half = Math.floor(lines.length / 2);
    const list = JSON.stringify({
      kind: 'EventList',
      apiVersion: 'audit.k8s.io/v1',
      items: lines.slice(half).map((l) => JSON.parse(l) as unknown),
    });
    const { report } = await audit(
      ['--policy', POLICY, '-o', 'json', '-'],
      `${lines.slice(0, half).join('\n')}\n${list}\n`,
    );
    expect(pairs(report)).to.deep.equal(expected);
  });

  it('--fail-on decides the exit code', async () => {
    expect((await audit(['--policy', POLICY, '--fail-on', 'never', LOG])).code).to.equal(0);
    expect((await audit(['--policy', POLICY, '--fail-on', 'critical', LOG])).code).to.equal(1);
    // mallory's denials are a burst even without the one that crossed the threshold.
    const benign = fixture()
      .filter((e) => !e.annotations?.['vigil.dev/expect'] && e.user.username !== 'mallory')
      .map((e) => JSON.stringify(e))
      .join('\n');
    const r = await audit(['--policy', POLICY, '-o', 'json', '--fail-on', 'info', '-'], benign);
    expect(r.report.detections).to.deep.equal([]);
    expect(r.code).to.equal(0);
  });

  it('table output names each detection and ends with a summary', async () => {
    const { io, code } = await audit(['--policy', POLICY, LOG]);
    expect(code).to.equal(1);
    const out = io.out();
    for (const id of new Set(expected.map((p) => p.split(' ')[0]))) expect(out).to.contain(id);
    expect(out).to.match(
      /\n\d+ detections \(\d+ critical, \d+ high, \d+ medium\) in \d+ events \(\d+ judged\)\n$/,
    );
    expect(out).to.not.contain('\x1b[');
  });

  it('runs as the real binary', function () {
    this.timeout(60_000);
    const r = spawnSync(process.execPath, [BIN, 'audit', '--policy', POLICY, '-o', 'json', LOG], {
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1' },
    });
    expect(r.status).to.equal(1);
    expect(pairs(JSON.parse(r.stdout) as Report)).to.deep.equal(expected);
  });
});

describe('vigil audit (input errors)', () => {
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-audit-'));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('names malformed lines, skips them, judges every good event and exits 2', async () => {
    const good = readFileSync(LOG, 'utf8')
      .split('\n')
      .filter((l) => l !== '');
    const input = [
      good[0],
      'not json',
      '',
      '[1, 2, 3]',
      '{"kind":"Event","stage":"ResponseComplete"}',
      `{"kind":"Event","auditID":"x","stage":"ResponseComplete","requestObject":${'['.repeat(5000)}`,
      ...good.slice(1),
      '{"kind":"Pod"}',
    ].join('\n');
    const { code, report, io } = await audit(['--policy', POLICY, '-o', 'json', '-'], input);
    expect(code).to.equal(2);
    expect(pairs(report)).to.deep.equal(expectedPairs(fixture()));
    const err = io.err();
    expect(err).to.match(/^<stdin>:2: invalid JSON/m);
    expect(err).to.match(/^<stdin>:4: not a JSON object$/m);
    expect(err).to.match(/^<stdin>:5: auditID: missing$/m);
    expect(err).to.match(/^<stdin>:6: invalid JSON/m);
    expect(err).to.match(new RegExp(`^<stdin>:${good.length + 6}: kind: expected Event, found "Pod"$`, 'm'));
    expect(report.summary['inputErrors']).to.equal(5);
  });

  it('skips a line longer than --max-line-size without holding it, and reads on', async () => {
    const good = readFileSync(LOG, 'utf8')
      .split('\n')
      .filter((l) => l !== '');
    const huge = `{"kind":"Event","auditID":"${'x'.repeat(300_000)}"}`;
    const { code, report, io } = await audit(
      ['--max-line-size', '64KiB', '--policy', POLICY, '-o', 'json', '-'],
      `${huge}\n${good.join('\n')}\n`,
    );
    expect(code).to.equal(2);
    expect(io.err()).to.equal('<stdin>:1: line longer than 65536 bytes skipped\n');
    expect(pairs(report)).to.deep.equal(expectedPairs(fixture()));
  });

  it('reports an EventList item that is not an Event and keeps the others', async () => {
    const items = fixture()
      .filter((e) => e.stage !== 'RequestReceived')
      .slice(-3);
    const doc = JSON.stringify({ kind: 'EventList', items: [items[0], 42, items[1], items[2]] }, null, 2);
    const { code, report, io } = await audit(['--policy', POLICY, '-o', 'json', '-'], `${doc}\n`);
    expect(code).to.equal(2);
    expect(io.err()).to.equal('<stdin>:1: items[1]: not a JSON object\n');
    expect(pairs(report)).to.deep.equal(expectedPairs(items));
  });

  it('reports a document the input ends inside', async () => {
    const { code, io } = await audit(['-o', 'json', '-'], '{\n  "kind": "EventList",\n');
    expect(code).to.equal(2);
    expect(io.err()).to.contain('<stdin>:1: document not closed');
  });

  it('usage errors exit 2 with a message', async () => {
    const cases: [string[], RegExp][] = [
      [[], /give exactly one input/],
      [['a', 'b'], /give exactly one input/],
      [['-o', 'sarif', '-'], /unknown output format "sarif"/],
      [['--fail-on', 'severe', '-'], /unknown --fail-on "severe"/],
      [['--bogus', '-'], /Unknown option '--bogus'/],
      [['--policy', '-', '-'], /--policy must name a file/],
    ];
    for (const [args, msg] of cases) {
      const { code, io } = await audit(args);
      expect(code, args.join(' ')).to.equal(2);
      expect(io.err()).to.match(msg);
    }
  });

  it('a missing file is an input error', async () => {
    const { code, io } = await audit([join(dir, 'nope.log')]);
    expect(code).to.equal(2);
    expect(io.err()).to.contain('nope.log: no such file');
  });

  it('rejects a policy whose spec.audit is wrong, naming each field', async () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(
      file,
      'apiVersion: security.vigil.dev/v1alpha1\nkind: SecurityPolicy\nmetadata: {name: p}\nspec:\n  audit:\n    clusterCIDRs: [10.0.0.0/33]\n    deniedBurst: {threshold: 0}\n    severities: {audit-pod-exec: severe, audit-nope: high}\n    disabledRules: [audit-nope]\n    typo: 1\n',
    );
    const { code, io } = await audit(['--policy', file, '-']);
    expect(code).to.equal(2);
    const err = io.err();
    expect(err).to.contain('spec.audit.clusterCIDRs: "10.0.0.0/33" is not a CIDR');
    expect(err).to.contain('spec.audit.deniedBurst.threshold: expected an integer');
    expect(err).to.contain('spec.audit.severities.audit-pod-exec: expected one of');
    expect(err).to.contain('spec.audit.severities.audit-nope: unknown rule');
    expect(err).to.contain('spec.audit.disabledRules: unknown rule "audit-nope"');
    expect(err).to.contain('spec.audit.typo: unknown field');
  });

  it('applies severities and disabledRules from the policy', async () => {
    const file = join(dir, 'sev.yaml');
    writeFileSync(
      file,
      'apiVersion: security.vigil.dev/v1alpha1\nkind: SecurityPolicy\nmetadata: {name: p}\nspec:\n  audit:\n    severities: {audit-pod-exec: low}\n    disabledRules: [audit-pod-attach]\n',
    );
    const { report } = await audit(['--policy', file, '-o', 'json', LOG]);
    const exec = report.detections.filter((d) => d.ruleId === 'audit-pod-exec');
    expect(exec.length).to.be.greaterThan(0);
    expect(exec.every((d) => d.severity === 'low')).to.equal(true);
    expect(report.detections.some((d) => d.ruleId === 'audit-pod-attach')).to.equal(false);
  });
});
