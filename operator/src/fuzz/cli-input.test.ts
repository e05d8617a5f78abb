/**
 * Property and limit tests of `vigil scan`'s input handling: the loader on
 * arbitrary text and bytes (never a throw; subjects or one-line errors), and
 * the real binary on hostile files — 100 MB inputs, deep nesting, alias and
 * merge-key bombs, invalid UTF-8 — with bounded time and peak RSS (the
 * child's own VmHWM), exit 2 and a message where it must refuse.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { runs } from './config.ts';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, openSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeText, parseManifests, type InputError } from '../cli/load.ts';
import type { Subject } from '../engine/types.ts';

const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'bin', 'vigil.js');
const MIB = 1024 * 1024;

/** YAML-ish token soup: the characters and constructs a YAML parser has to get right. */
const yamlSoup = fc
  .array(
    fc.oneof(
      fc.constantFrom(
        '---\n',
        '...\n',
        'apiVersion: v1\n',
        'kind: Pod\n',
        'kind: List\n',
        'items:\n',
        'metadata: {name: x}\n',
        '- ',
        '  ',
        ': ',
        '&a ',
        '*a ',
        '<<: *a\n',
        '!!binary ',
        '!tag ',
        '? ',
        '|\n',
        '>-\n',
        '[',
        ']',
        '{',
        '}',
        ',',
        '"',
        "'",
        '#',
        '\t',
        '\n',
        '%YAML 1.2\n',
        'privileged: yes\n',
        'securityContext: {privileged: true}\n',
        '0x1F\n',
        '~\n',
        '\ufeff',
        '\u2028',
      ),
      fc.string({ maxLength: 8 }),
      fc.string({ unit: 'grapheme', maxLength: 4 }),
    ),
    { maxLength: 60 },
  )
  .map((parts) => parts.join(''));

function parse(text: string): { subjects: Subject[]; errors: InputError[]; ms: number } {
  const subjects: Subject[] = [];
  const errors: InputError[] = [];
  const t0 = performance.now();
  parseManifests(text, 'in.yaml', subjects, errors);
  return { subjects, errors, ms: performance.now() - t0 };
}

describe('fuzz: vigil scan loader on arbitrary input', function () {
  this.timeout(60_000);

  it('parseManifests never throws: Kubernetes objects or one-line errors naming the file', () => {
    fc.assert(
      fc.property(fc.oneof(yamlSoup, fc.string({ unit: 'binary', maxLength: 200 })), (text) => {
        const r = parse(text);
        expect(r.ms).to.be.lessThan(1000);
        for (const e of r.errors) {
          expect(e.file).to.equal('in.yaml');
          expect(e.message).to.be.a('string').and.not.equal('');
          expect(e.message).to.not.contain('\n');
        }
        for (const s of r.subjects) {
          expect(typeof s.object.kind === 'string' || s.object.kind === undefined).to.equal(true);
          expect(s.location?.file).to.equal('in.yaml');
        }
      }),
      runs(500),
    );
    expect(Object.keys(Object.prototype)).to.deep.equal([]);
  });

  it('decodeText on arbitrary bytes: text, or a refusal naming the file', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const r = decodeText(Buffer.from(bytes), 'blob');
        if (typeof r !== 'string') {
          expect(r.file).to.equal('blob');
          expect(r.message).to.match(/binary|UTF-8/);
        } else expect(r).to.not.contain('\u0000');
      }),
      runs(1000),
    );
  });

  it('deep nesting and bombs are errors, not crashes, in bounded time', () => {
    const cases = [
      `${'['.repeat(20_000)}${']'.repeat(20_000)}`,
      `a: ${'{b: '.repeat(20_000)}1${'}'.repeat(20_000)}`,
      Array.from({ length: 20_000 }, (_, i) => `${' '.repeat(i % 200)}- x`).join('\n'),
      `a: &a [x, x, x, x, x, x, x, x, x, x]\n${Array.from(
        { length: 12 },
        (_, i) =>
          `b${i}: &b${i} {<<: [${i === 0 ? '*a' : `*b${i - 1}`}], k${i}: [${Array(10)
            .fill(i === 0 ? '*a' : `*b${i - 1}`)
            .join(', ')}]}`,
      ).join('\n')}\n`,
    ];
    for (const text of cases) {
      const r = parse(text);
      expect(r.ms, 'parse time (ms)').to.be.lessThan(10_000);
      expect(r.subjects.length + r.errors.length).to.be.greaterThan(0);
    }
  });
});

interface Run {
  code: number | null;
  stderr: string;
  ms: number;
  maxRssMiB: number;
}

/** Runs the real binary; peak RSS is the child's own VmHWM (/proc/self/status) at exit. */
function vigil(args: string[], input?: Buffer | string): Run {
  const t0 = performance.now();
  const r = spawnSync(
    process.execPath,
    [
      '--import',
      // VmHWM, the peak of this process's own memory: getrusage's maxRSS carries the parent's peak
      // over fork and exec, so under a large mocha process it read 200-310 MiB for an 80 MiB child.
      'data:text/javascript,import{readFileSync}from"node:fs";process.on("exit",()=>process.stderr.write("\\nvigil-maxrss-kb="+/VmHWM:\\s*(\\d+)/.exec(readFileSync("/proc/self/status","utf8"))[1]+"\\n"))',
      BIN,
      ...args,
    ],
    {
      input: input ?? '',
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1' },
      timeout: 120_000,
      maxBuffer: 64 * MIB,
    },
  );
  const kb = Number(/vigil-maxrss-kb=(\d+)/.exec(r.stderr)?.[1] ?? NaN);
  return {
    code: r.status,
    stderr: r.stderr.replace(/\n?vigil-maxrss-kb=\d+\n/, ''),
    ms: performance.now() - t0,
    maxRssMiB: kb / 1024,
  };
}

describe('fuzz: vigil scan on hostile files (subprocess, time and peak RSS)', function () {
  this.timeout(180_000);
  let dir = '';
  const path = (name: string): string => join(dir, name);
  const log = (what: string, r: Run): void => {
    console.log(
      `      ${what}: exit ${r.code}, ${(r.ms / 1000).toFixed(1)} s, peak RSS ${r.maxRssMiB.toFixed(0)} MiB`,
    );
  };

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-fuzz-cli-'));
    // 100 MB: a pod, then padding in comments (written in chunks, never held in memory here).
    const fd = openSync(path('huge.yaml'), 'w');
    writeSync(
      fd,
      'apiVersion: v1\nkind: Pod\nmetadata: {name: big}\nspec: {containers: [{name: a, image: b}]}\n',
    );
    const line = `# ${'x'.repeat(1021)}\n`;
    const chunk = line.repeat(1024);
    for (let i = 0; i < 100; i++) writeSync(fd, chunk);
    closeSync(fd);
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('a 100 MB file over the default 64 MiB limit is refused at once without reading it', () => {
    const r = vigil(['scan', path('huge.yaml')]);
    log('100 MB file', r);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.match(/huge\.yaml: file is larger than the 64 MiB limit/);
    expect(r.ms).to.be.lessThan(10_000);
    expect(r.maxRssMiB).to.be.lessThan(200);
  });

  it('100 MB on standard input is refused once the limit is passed, memory bounded by the limit', () => {
    const big = Buffer.alloc(100 * 1000 * 1000, 'a');
    const r = vigil(['scan', '-'], big);
    log('100 MB on stdin', r);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.match(/<stdin>: file is larger than the 64 MiB limit/);
    expect(r.ms).to.be.lessThan(20_000);
    expect(r.maxRssMiB).to.be.lessThan(400);
  });

  it('the same 100 MB file allowed by --max-file-size is scanned in bounded time and memory', () => {
    const r = vigil([
      'scan',
      '--max-file-size',
      '128MiB',
      '-o',
      'json',
      '--fail-on',
      'never',
      path('huge.yaml'),
    ]);
    log('100 MB file, --max-file-size 128MiB', r);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.ms).to.be.lessThan(60_000);
    expect(r.maxRssMiB).to.be.lessThan(1536);
  });

  it('deep nesting, a merge-key bomb and invalid UTF-8 → exit 2 with a message; other files still scanned', () => {
    writeFileSync(path('deep.yaml'), `a: ${'['.repeat(50_000)}${']'.repeat(50_000)}\n`);
    const refs = Array.from({ length: 12 }, (_, i) =>
      i === 0
        ? ''
        : `b${i}: &b${i}\n  <<: [${Array(8)
            .fill(`*b${i - 1}`)
            .join(', ')}]\n  k${i}: [${Array(8)
            .fill(`*b${i - 1}`)
            .join(', ')}]`,
    );
    writeFileSync(
      path('merge-bomb.yaml'),
      `b0: &b0 {x: [1, 2, 3, 4, 5, 6, 7, 8]}\n${refs.slice(1).join('\n')}\n`,
    );
    writeFileSync(
      path('latin1.yaml'),
      Buffer.from([0x6b, 0x69, 0x6e, 0x64, 0x3a, 0x20, 0xe9, 0xe8, 0xff, 0x0a]),
    );
    writeFileSync(
      path('ok.yaml'),
      'apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec: {containers: [{name: a, image: b, securityContext: {privileged: true}}]}\n',
    );
    const r = vigil([
      'scan',
      '-o',
      'json',
      path('deep.yaml'),
      path('merge-bomb.yaml'),
      path('latin1.yaml'),
      path('ok.yaml'),
    ]);
    log('deep nesting + merge-key bomb + invalid UTF-8', r);
    expect(r.code).to.equal(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines.some((l) => l.includes('deep.yaml'))).to.equal(true);
    expect(lines.some((l) => /merge-bomb\.yaml.*[Aa]lias/.test(l))).to.equal(true);
    expect(lines.some((l) => /latin1\.yaml: not valid UTF-8/.test(l))).to.equal(true);
    expect(r.ms).to.be.lessThan(30_000);
    expect(r.maxRssMiB).to.be.lessThan(1024);
  });

  it('50,000 empty documents and one real one: bounded time', () => {
    writeFileSync(
      path('many-docs.yaml'),
      `${'---\n'.repeat(50_000)}apiVersion: v1\nkind: Pod\nmetadata: {name: last}\nspec: {containers: [{name: a, image: b}]}\n`,
    );
    const r = vigil(['scan', '-o', 'json', '--fail-on', 'never', path('many-docs.yaml')]);
    log('50k empty documents', r);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.ms).to.be.lessThan(30_000);
  });
});
