/**
 * Hostile input never throws: random values in every field of real events, non-object lines,
 * deep nesting and truncated documents go through the reader and every rule. Seeded, so a
 * failure is reproducible.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AuditEvaluator, type RuleFailure } from './evaluate.ts';
import { readAuditEvents } from './read.ts';
import { defaultSettings, type AuditSettings } from './types.ts';
import { prng } from '../../../e2e/prng.ts';

const LOG = join(dirname(fileURLToPath(import.meta.url)), 'testdata', 'recorded.jsonl');

function hostile(rand: () => number, depth: number): unknown {
  const pick = Math.floor(rand() * (depth > 3 ? 7 : 10));
  switch (pick) {
    case 0:
      return null;
    case 1:
      return rand() < 0.5;
    case 2:
      return [0, -1, 1e308, -0, 403, 101, 2 ** 53][Math.floor(rand() * 7)];
    case 3:
      return [
        '',
        '*',
        'system:anonymous',
        'system:node:',
        '\u202e\x1b[31m',
        '10.244.0.1',
        '::1',
        'not-an-ip',
        'create',
      ][Math.floor(rand() * 9)];
    case 4:
      return '__proto__';
    case 5:
      return { constructor: 'x', toString: 1, hasOwnProperty: [] };
    case 6:
      return 'x'.repeat(Math.floor(rand() * 1000));
    case 7:
      return Array.from({ length: Math.floor(rand() * 4) }, () => hostile(rand, depth + 1));
    default: {
      const o: Record<string, unknown> = {};
      for (const k of [
        'kind',
        'spec',
        'containers',
        'rules',
        'verbs',
        'roleRef',
        'subjects',
        'name',
        'template',
        'volumes',
      ])
        if (rand() < 0.3) o[k] = hostile(rand, depth + 1);
      return o;
    }
  }
}

/** Replaces a random path of the event with a hostile value (or deletes it). */
function mutate(ev: Record<string, unknown>, rand: () => number): void {
  let node: Record<string, unknown> = ev;
  for (let i = 0; i < 4; i++) {
    const keys = Object.keys(node);
    if (keys.length === 0) return;
    const k = keys[Math.floor(rand() * keys.length)] ?? '';
    const child = node[k];
    if (rand() < 0.4 || child === null || typeof child !== 'object') {
      if (rand() < 0.2) delete node[k];
      else node[k] = hostile(rand, 0);
      return;
    }
    node = child as Record<string, unknown>;
  }
}

async function* chunks(text: string): AsyncGenerator<string> {
  await Promise.resolve();
  yield text;
}

async function judgeAll(
  input: string,
  settings: AuditSettings,
): Promise<{ events: number; errors: number; failures: RuleFailure[] }> {
  const evaluator = new AuditEvaluator(settings);
  const failures: RuleFailure[] = [];
  let events = 0;
  let errors = 0;
  for await (const item of readAuditEvents(chunks(input), 1024 * 1024)) {
    expect(item.line).to.be.a('number');
    if ('error' in item) {
      errors++;
      expect(item.error).to.be.a('string').and.not.equal('');
      continue;
    }
    events++;
    for (const d of evaluator.judge(item.event, failures)) expect(d.auditID).to.not.equal('');
  }
  return { events, errors, failures };
}

describe('audit input robustness', () => {
  const base = readFileSync(LOG, 'utf8')
    .split('\n')
    .filter((l) => l !== '');
  const settings: AuditSettings = {
    ...defaultSettings(),
    approvedChangers: ['ci-*'],
    clusterCIDRs: ['10.244.0.0/16', 'fd00::/8'],
    deniedBurst: { threshold: 2, windowSeconds: 5 },
  };

  it('random values in every field of real events never make a rule throw', async function () {
    this.timeout(30_000);
    for (let seed = 1; seed <= 40; seed++) {
      const rand = prng(seed);
      const lines = base.map((l) => {
        const ev = JSON.parse(l) as Record<string, unknown>;
        const n = 1 + Math.floor(rand() * 4);
        for (let i = 0; i < n; i++) mutate(ev, rand);
        return JSON.stringify(ev);
      });
      const r = await judgeAll(lines.join('\n'), settings);
      expect(r.failures, `seed ${seed}`).to.deep.equal([]);
      expect(r.events + r.errors, `seed ${seed}`).to.equal(base.length);
    }
  });

  it('non-object lines, deep nesting and broken documents are errors, not crashes', async () => {
    const good = base.find((l) => l.includes('"stage":"ResponseComplete"')) ?? '';
    const lines = [
      '42',
      '"a string"',
      'null',
      'true',
      '[]',
      '[{"kind":"Event"}]',
      `${'['.repeat(200_000)}${']'.repeat(200_000)}`,
      `{"kind":"Event","auditID":"d","stage":"ResponseComplete","verb":"create","objectRef":{"resource":"pods","namespace":"n"},"responseStatus":{"code":201},"requestObject":${'{"spec":'.repeat(50_000)}1${'}'.repeat(50_000)}}`,
      '{"kind":"EventList","items":{"0":{}}}',
      '{"kind":"EventList","items":[null,[],"x"]}',
      '{"kind":"Event","auditID":1,"stage":"ResponseComplete"}',
      '{"auditID":"m","stage":"ResponseComplete"}',
      '\u0000\u0001\u0002',
      '{',
      '  "half": ',
      '}',
      good,
      '{',
    ];
    const r = await judgeAll(lines.join('\n'), settings);
    expect(r.failures).to.deep.equal([]);
    // The deeply nested requestObject and the field-less Event are events; the good line too.
    expect(r.events).to.equal(3);
    // Seven non-objects, the EventList without a list, its three non-Event items, the numeric
    // auditID, the control characters, the broken three-line document and the unclosed one.
    expect(r.errors).to.equal(7 + 1 + 3 + 1 + 1 + 1 + 1);
  });
});
