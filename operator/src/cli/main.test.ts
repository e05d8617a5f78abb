import { expect } from 'chai';
import { commands, main } from './main.ts';
import { EXIT_ERROR, EXIT_FINDINGS, EXIT_OK, printable, useColour, type CliIO } from './io.ts';
import { exitCodeFor, parseSize } from './scan.ts';
import type { Finding, Severity } from '../engine/types.ts';

function fakeIO(env: Record<string, string> = {}, tty = false): CliIO & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    stdout: { write: (s: string) => out.push(s), isTTY: tty },
    stderr: { write: (s: string) => err.push(s) },
    stdin: (async function* () {})(),
    env,
    cwd: process.cwd(),
  };
}

describe('cli/main (in process)', () => {
  it('dispatches to a registered command with the remaining argv', async () => {
    const seen: string[][] = [];
    commands['probe'] = {
      summary: 'test probe',
      load: () => Promise.resolve({ run: (argv: string[]) => (seen.push(argv), Promise.resolve(7)) }),
    };
    try {
      const io = fakeIO();
      expect(await main(['probe', '--x', 'y'], io)).to.equal(7);
      expect(seen).to.deep.equal([['--x', 'y']]);
      expect(await main(['help', 'probe'], io)).to.equal(7);
      expect(seen[1]).to.deep.equal(['--help']);
      await main(['help'], io);
      expect(io.out.join('')).to.contain('probe').and.contain('test probe');
    } finally {
      delete commands['probe'];
    }
  });

  it('turns a crashing command into exit 2 and one line, not a stack trace', async () => {
    commands['crash'] = {
      summary: 'crashes',
      load: () => Promise.resolve({ run: () => Promise.reject(new Error('kaboom')) }),
    };
    try {
      const io = fakeIO();
      expect(await main(['crash'], io)).to.equal(EXIT_ERROR);
      expect(io.err.join('')).to.equal('vigil: internal error: kaboom\n');
    } finally {
      delete commands['crash'];
    }
  });

  it('does not treat inherited object keys as commands', async () => {
    const io = fakeIO();
    expect(await main(['toString'], io)).to.equal(EXIT_ERROR);
    expect(await main(['help', '__proto__'], io)).to.equal(EXIT_ERROR);
  });

  it('--help and -h print usage with exit 0', async () => {
    const io = fakeIO();
    expect(await main(['--help'], io)).to.equal(EXIT_OK);
    expect(io.out.join('')).to.contain('Usage: vigil <command>');
  });
});

describe('cli/io', () => {
  it('useColour: only on a TTY, never with a non-empty NO_COLOR', () => {
    expect(useColour(fakeIO({}, true))).to.equal(true);
    expect(useColour(fakeIO({}, false))).to.equal(false);
    expect(useColour(fakeIO({ NO_COLOR: '1' }, true))).to.equal(false);
    expect(useColour(fakeIO({ NO_COLOR: '' }, true))).to.equal(true);
  });

  it('printable escapes control and bidi characters, keeps the rest', () => {
    expect(printable('ok ünïcode 😀')).to.equal('ok ünïcode 😀');
    expect(printable('a\x1b[31mb\x07\n\t\u202e\u0085')).to.equal('a\\x1b[31mb\\x07\\n\\t\\u202e\\x85');
  });
});

describe('cli/scan helpers', () => {
  const f = (severity: Severity): Finding =>
    ({ severity, ruleId: 'r', resource: { apiVersion: 'v1', kind: 'Pod', name: 'p' } }) as unknown as Finding;

  it('exitCodeFor: 2 wins, then 1 at or above the threshold, never ignores findings', () => {
    expect(exitCodeFor([f('critical')], 'high', true)).to.equal(EXIT_ERROR);
    expect(exitCodeFor([], 'high', true)).to.equal(EXIT_ERROR);
    expect(exitCodeFor([f('high')], 'high', false)).to.equal(EXIT_FINDINGS);
    expect(exitCodeFor([f('medium')], 'high', false)).to.equal(EXIT_OK);
    expect(exitCodeFor([f('info')], 'info', false)).to.equal(EXIT_FINDINGS);
    expect(exitCodeFor([f('critical')], 'never', false)).to.equal(EXIT_OK);
    expect(exitCodeFor([], 'info', false)).to.equal(EXIT_OK);
  });

  it('parseSize accepts bytes and binary units', () => {
    expect(parseSize('1024')).to.equal(1024);
    expect(parseSize('2KiB')).to.equal(2048);
    expect(parseSize('64MiB')).to.equal(64 * 1024 * 1024);
    expect(parseSize('1g')).to.equal(1024 ** 3);
    expect(parseSize('0')).to.equal(undefined);
    expect(parseSize('-1')).to.equal(undefined);
    expect(parseSize('lots')).to.equal(undefined);
  });
});
