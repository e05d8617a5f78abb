/**
 * Bad input: the corpus of invalid SecurityPolicies in test/policies-invalid/.
 * Schema-invalid files must be rejected by the API server with a message
 * naming the field; schema-valid but semantically wrong ones must be stored
 * and get Accepted=False with the expected reason and a message naming the
 * problem. Meanwhile a valid policy keeps working (a new offender still gets
 * its report). Offline, `vigil scan --policy` refuses the same files.
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseYaml } from '../../operator/src/yaml.ts';
import { cluster } from '../harness.ts';
import { REPO_ROOT } from '../controlplane/controlplane.ts';
import { startOperator, type OperatorProcess } from '../operator/process.ts';
import { Kube, cleanup, eventually, measured, podYaml, policyYaml } from './lib.ts';

const DIR = join(REPO_ROOT, 'test', 'policies-invalid');
const NS = 'fi-a';

interface Case {
  file: string;
  name: string;
  expect: 'rejected' | 'not-accepted';
  field?: string;
  reason?: string;
  names?: string;
  offlineAccepted: boolean;
  /** The field vigil scan names, when it differs from the API server's. */
  offlineField?: string;
}

function header(text: string, key: string): string | undefined {
  return new RegExp(`^# ${key}: (.+)$`, 'm').exec(text)?.[1]?.trim();
}

const CASES: Case[] = readdirSync(DIR)
  .filter((f) => f.endsWith('.yaml'))
  .sort()
  .map((file) => {
    const text = readFileSync(join(DIR, file), 'utf8');
    const exp = header(text, 'expect');
    if (exp !== 'rejected' && exp !== 'not-accepted') throw new Error(`${file}: no "# expect:" header`);
    const name = (parseYaml(text) as { metadata?: { name?: string } } | null)?.metadata?.name;
    if (!name) throw new Error(`${file}: no metadata name`);
    const c: Case = {
      file,
      name,
      expect: exp,
      offlineAccepted: header(text, 'offline')?.startsWith('accepted') ?? false,
    };
    const field = header(text, 'field');
    const reason = header(text, 'reason');
    const names = header(text, 'names');
    if (field) c.field = field;
    if (reason) c.reason = reason;
    if (names) c.names = names;
    const offlineField = header(text, 'offline-field');
    if (offlineField) c.offlineField = offlineField;
    return c;
  });

describe('bad input: invalid SecurityPolicies (test/policies-invalid)', function () {
  this.timeout(180_000);
  let k: Kube;
  let op: OperatorProcess | undefined;

  before(async () => {
    k = new Kube(cluster());
    k.installCrds();
    for (const ns of ['vigil-system', NS]) k.ensureNamespace(ns);
    k.apply(policyYaml('fi-valid', [NS], 'profile: pss-baseline'));
    op = await startOperator({ kubeconfig: cluster().kubeconfig });
    k.run(['wait', '--for=condition=Ready', '--timeout=30s', 'securitypolicy/fi-valid']);
  });

  after(async () => {
    const code = await op?.stop();
    cleanup(k, ['fi-valid', ...CASES.map((c) => c.name)], [NS]);
    expect(code, 'operator exit code after SIGTERM').to.equal(0);
  });

  it('the corpus has both kinds of case', () => {
    expect(CASES.filter((c) => c.expect === 'rejected').length).to.be.greaterThan(5);
    expect(CASES.filter((c) => c.expect === 'not-accepted').length).to.be.greaterThan(3);
  });

  for (const c of CASES.filter((x) => x.expect === 'rejected')) {
    it(`${c.file}: rejected by the API server, naming ${c.field}`, () => {
      const r = k.try(['apply', '-f', join(DIR, c.file)]);
      expect(r.ok, `kubectl apply succeeded: ${r.stdout}`).to.equal(false);
      expect(r.stderr).to.contain(c.field);
      expect(k.try(['get', 'securitypolicy', c.name]).ok, 'nothing stored').to.equal(false);
    });
  }

  for (const c of CASES.filter((x) => x.expect === 'not-accepted')) {
    it(`${c.file}: stored, Accepted=False reason ${c.reason} naming "${c.names}"`, async () => {
      k.run(['apply', '-f', join(DIR, c.file)]);
      const { value: cond, ms } = await eventually(
        'Accepted=False',
        () => {
          const p = k.json<{
            status?: { conditions?: { type: string; status: string; reason: string; message: string }[] };
          }>(['get', 'securitypolicy', c.name]);
          const a = p.status?.conditions?.find((x) => x.type === 'Accepted');
          return a?.status === 'False' ? a : undefined;
        },
        20_000,
      );
      measured(`${c.name} marked Accepted=False`, ms);
      expect(cond.reason).to.equal(c.reason);
      expect(cond.message).to.contain(c.names);
      const ready = k
        .json<{ status?: { conditions?: { type: string; status: string; reason: string }[] } }>([
          'get',
          'securitypolicy',
          c.name,
        ])
        .status?.conditions?.find((x) => x.type === 'Ready');
      // A rule that cannot be used (unknown id, bad params, a custom rule that does not compile)
      // keeps the policy from being Ready for that reason; other mistakes say InvalidPolicy.
      expect(ready).to.include({
        status: 'False',
        reason: c.reason === 'InvalidRule' ? 'InvalidRule' : 'InvalidPolicy',
      });
    });
  }

  it('the valid policy keeps working: a new offender gets its report', async () => {
    k.apply(podYaml('new-offender', NS, { privileged: true }));
    const r = await eventually('report for the new offender', () => k.report(NS, 'pod-new-offender'), 20_000);
    measured('new offender reported with the invalid policies present', r.ms);
    // Only the valid policy contributes findings.
    expect(new Set((r.value.status?.findings ?? []).map((f) => f.policy))).to.deep.equal(
      new Set(['fi-valid']),
    );
    k.run(['wait', '--for=condition=Ready', '--timeout=30s', 'securitypolicy/fi-valid']);
  });

  it('vigil scan --policy refuses the same files offline (exit 2, naming the field)', () => {
    for (const c of CASES) {
      const r = spawnSync(
        process.execPath,
        [join(REPO_ROOT, 'bin', 'vigil.js'), 'scan', '--policy', join(DIR, c.file), '-'],
        { input: podYaml('x', 'y'), encoding: 'utf8' },
      );
      if (c.offlineAccepted) {
        expect(r.status, c.file).to.be.oneOf([0, 1]);
        continue;
      }
      expect(r.status, `${c.file}: ${r.stderr}`).to.equal(2);
      const named = c.expect === 'rejected' ? (c.offlineField ?? c.field ?? '') : (c.names ?? '');
      expect(r.stderr, c.file).to.contain(named);
    }
  });
});
