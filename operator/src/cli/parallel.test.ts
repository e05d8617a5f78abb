/**
 * Issue 17 point 1: parsing on parser threads (parallel.ts) gives the scan the same subjects,
 * errors, notes and field locations, in the same order, as parsing every input on one thread.
 */
import { expect } from 'chai';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { compilePolicy } from '../engine/policy.ts';
import { ALL_RULES } from '../rules/index.ts';
import { FIXED_NOW } from '../rules/testing.ts';
import { DEFAULT_LOAD_OPTIONS, loadInputs, type LoadResult } from './load.ts';
import { toJsonReport } from './output/json.ts';
import { toSarif } from './output/sarif.ts';
import { idleCpus, PARALLEL_MIN_BYTES, parserThreads } from './parallel.ts';
import { evaluateLoaded } from './scan.ts';
import { VERSION } from './version.ts';

const EXAMPLES = resolve(import.meta.dirname, '../../../manifests/examples');

const POD = `apiVersion: v1
kind: Pod
metadata:
  name: p
  namespace: default
spec:
  containers:
    - name: app
      image: registry.example/app:latest
      securityContext:
        privileged: true
`;

async function scanWith(
  paths: string[],
  cwd: string,
  workers: number,
  stdin = '',
): Promise<{ loaded: LoadResult; json: unknown; sarif: unknown }> {
  const loaded = await loadInputs(paths, Readable.from(stdin === '' ? [] : [stdin]), cwd, {
    ...DEFAULT_LOAD_OPTIONS,
    workers,
  });
  try {
    const { policy } = compilePolicy({ profile: 'all' }, ALL_RULES);
    if (!policy) throw new Error('all compiles');
    const evaluated = await evaluateLoaded(loaded.subjects, policy, FIXED_NOW, loaded.remote);
    const result = { ...evaluated, policy, inputErrors: loaded.errors, toolVersion: VERSION };
    return { loaded, json: toJsonReport(result), sarif: toSarif(result, cwd) };
  } finally {
    await loaded.remote?.close();
  }
}

describe('cli/parallel: parser threads change nothing but the speed', () => {
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-parallel-'));
    const w = (rel: string, content: string): void => {
      const p = join(dir, rel);
      mkdirSync(join(p, '..'), { recursive: true });
      writeFileSync(p, content);
    };
    for (const f of readdirSync(EXAMPLES)) w(`m/examples/${f}`, readFileSync(join(EXAMPLES, f), 'utf8'));
    w(
      'm/list.yaml',
      `apiVersion: v1\nkind: PodList\nitems:\n  - ${POD.replace(/\n/g, '\n    ').trimEnd()}\n`,
    );
    w('m/values.yaml', 'replicas: 2\n');
    w('m/broken.yaml', `${POD}---\nkey: [unclosed\n`);
    w(
      'm/anchors.yaml',
      POD.replace('name: app', '&n name: app').replace('privileged: true', 'privileged: yes'),
    );
    w('m/not-object.yaml', `${POD}---\n- a list\n`);
    w('m/binary.yaml', 'a\u0000b');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('the same subjects, errors, notes, JSON and SARIF with 0, 1 and 2 parser threads, stdin included', async () => {
    const stdin = POD.replace('name: p', 'name: from-stdin');
    const one = await scanWith(['m', '-'], dir, 0, stdin);
    expect(one.loaded.remote).to.equal(undefined);
    expect(one.loaded.subjects.length).to.be.greaterThan(20);
    expect(one.loaded.errors.map((e) => e.file)).to.include.members([
      'm/binary.yaml',
      'm/broken.yaml',
      'm/not-object.yaml',
    ]);
    expect(one.loaded.notes.map((n) => n.file)).to.deep.equal(['m/values.yaml']);
    const located = (one.json as { findings: { location: { field: string | null } }[] }).findings.filter(
      (f) => f.location.field !== null,
    );
    expect(located.length).to.be.greaterThan(10);
    for (const workers of [1, 2]) {
      const many = await scanWith(['m', '-'], dir, workers, stdin);
      expect(many.loaded.remote, `${workers} threads`).to.not.equal(undefined);
      expect(many.loaded.subjects).to.deep.equal(one.loaded.subjects);
      expect(many.loaded.errors).to.deep.equal(one.loaded.errors);
      expect(many.loaded.notes).to.deep.equal(one.loaded.notes);
      expect(many.loaded.files).to.deep.equal(one.loaded.files);
      expect(many.json).to.deep.equal(one.json);
      expect(many.sarif).to.deep.equal(one.sarif);
    }
  });

  it('threads only for large inputs of several files, and never more than files minus one', () => {
    const file = (abs: string) => ({ file: abs, display: abs, abs });
    const examples = readdirSync(EXAMPLES).map((f) => file(join(EXAMPLES, f)));
    const first = examples[0] as ReturnType<typeof file>;
    expect(parserThreads(examples, DEFAULT_LOAD_OPTIONS)).to.equal(0); // far below PARALLEL_MIN_BYTES
    expect(PARALLEL_MIN_BYTES).to.be.greaterThan(1024 * 1024);
    expect(parserThreads(examples.slice(0, 2), { ...DEFAULT_LOAD_OPTIONS, workers: 3 })).to.equal(1);
    expect(
      parserThreads([{ file: '-', display: '<stdin>' }, first], {
        ...DEFAULT_LOAD_OPTIONS,
        workers: 3,
      }),
    ).to.equal(0);
    expect(parserThreads(examples, { ...DEFAULT_LOAD_OPTIONS, workers: 0 })).to.equal(0);
  });

  it('counts the CPUs idle between two samples (threads are started only for those)', () => {
    const cpu = (idle: number, busy: number) => ({
      model: 'x',
      speed: 1,
      times: { user: busy, nice: 0, sys: 0, idle, irq: 0 },
    });
    const before = [cpu(1000, 1000), cpu(1000, 1000)];
    // One CPU busy all along (this thread parsing), the other idle: one idle CPU.
    expect(idleCpus(before, [cpu(1000, 1100), cpu(1100, 1000)])).to.equal(1);
    // Both busy (other work on the machine): none.
    expect(idleCpus(before, [cpu(1000, 1100), cpu(1000, 1100)])).to.equal(0);
    expect(idleCpus(before, [cpu(1050, 1050), cpu(1100, 1000)])).to.equal(1.5);
    expect(idleCpus(before, before)).to.equal(0);
  });
});
