import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { createReadStream, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BuildInfoScanner, parseBuildInfo } from './gobuildinfo.ts';

/**
 * A small Go binary with a dependency, built from the module cache (no network): golang.org/x/text
 * at a version the cache holds. Fails with what to install when there is no toolchain or cache.
 */
function goBinary(dir: string): string {
  const go = (args: string[], cwd?: string): string =>
    execFileSync('go', args, {
      cwd,
      encoding: 'utf8',
      env: { ...process.env, GOPROXY: 'off', GOSUMDB: 'off', GOFLAGS: '-mod=mod', CGO_ENABLED: '0' },
    });
  let modcache: string;
  try {
    modcache = go(['env', 'GOMODCACHE']).trim();
  } catch (err) {
    throw new Error(`this test needs a Go toolchain on PATH (scripts/setup.sh installs it): ${String(err)}`, {
      cause: err,
    });
  }
  const versions = existsSync(join(modcache, 'golang.org/x'))
    ? readdirSync(join(modcache, 'golang.org/x')).filter((d) => d.startsWith('text@v'))
    : [];
  const version = versions.sort()[0]?.slice('text@'.length);
  if (!version)
    throw new Error(
      `no golang.org/x/text in ${modcache}: run "go mod download golang.org/x/text@latest" once`,
    );
  writeFileSync(
    join(dir, 'go.mod'),
    `module example.com/t\n\ngo 1.21\n\nrequire golang.org/x/text ${version}\n`,
  );
  writeFileSync(
    join(dir, 'main.go'),
    'package main\n\nimport (\n\t"fmt"\n\n\t"golang.org/x/text/language"\n)\n\nfunc main() { fmt.Println(language.English) }\n',
  );
  go(['build', '-trimpath', '-o', 'bin', '.'], dir);
  return join(dir, 'bin');
}

/** `go version -m` as the reference: the Go version and the mod/dep lines. */
function reference(bin: string): { goVersion: string; mods: string[] } {
  const out = execFileSync('go', ['version', '-m', bin], { encoding: 'utf8' });
  const lines = out.split('\n');
  const goVersion = (lines[0] ?? '').split(': ')[1]?.trim() ?? '';
  const mods = lines
    .map((l) => l.trim().split('\t'))
    .filter((f) => f[0] === 'mod' || f[0] === 'dep')
    .map((f) => `${f[0]} ${f[1]} ${f[2]}`);
  return { goVersion, mods };
}

async function scan(bin: string, chunk: number): Promise<BuildInfoScanner> {
  const s = new BuildInfoScanner();
  for await (const c of createReadStream(bin, { highWaterMark: chunk })) s.write(c as Buffer);
  s.end();
  return s;
}

describe('images/gobuildinfo', function () {
  this.timeout(20_000);
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'vigil-go-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('reads what go version -m reads, from a stream cut at any chunk size', async () => {
    const bin = goBinary(dir);
    const ref = reference(bin);
    expect(ref.mods.length, 'the go command has dependencies').to.be.greaterThan(0);
    for (const chunk of [13, 4093, 65536]) {
      const s = await scan(bin, chunk);
      expect(s.found, `chunk ${chunk}`).to.not.equal(undefined);
      const info = parseBuildInfo(s.found ?? Buffer.alloc(0));
      expect(info?.goVersion).to.equal(ref.goVersion);
      const mods = [
        ...(info?.main ? [`mod ${info.main.path} ${info.main.version}`] : []),
        ...(info?.deps ?? []).map((d) => `dep ${d.path} ${d.version}`),
      ];
      expect(mods).to.deep.equal(ref.mods);
      expect(info?.path).to.equal('example.com/t');
    }
  });

  it('gives nothing for a file that is not ELF, and nothing for an ELF without build info', async () => {
    const s = new BuildInfoScanner();
    s.write(Buffer.from('#!/bin/sh\necho \xff Go buildinf:\n', 'latin1'));
    expect(s.found).to.equal(undefined);
    const elf = new BuildInfoScanner();
    // A C binary from the base system.
    for await (const c of createReadStream('/bin/ls')) elf.write(c as Buffer);
    expect([elf.found, elf.legacy]).to.deep.equal([undefined, false]);
  });

  it('skips a misaligned or malformed magic and finds the real header after it', () => {
    const magic = Buffer.from('\xff Go buildinf:', 'latin1');
    const strings = Buffer.concat([Buffer.from([6]), Buffer.from('go1.22'), Buffer.from([0])]);
    const header = Buffer.concat([magic, Buffer.from([8, 2]), Buffer.alloc(16)]);
    const file = Buffer.concat([
      Buffer.from([0x7f, 0x45, 0x4c, 0x46]),
      Buffer.alloc(12), // offset 16: an aligned magic with a bad pointer size
      magic,
      Buffer.from([3, 0]),
      Buffer.alloc(16),
      Buffer.alloc(3), // a misaligned copy
      magic,
      Buffer.alloc(15 - ((16 + 32 + 3 + magic.length) % 16) + 1),
      header,
      strings,
    ]);
    expect((16 + 32 + 3 + magic.length + (15 - ((16 + 32 + 3 + magic.length) % 16) + 1)) % 16).to.equal(0);
    for (const size of [1, 5, 64]) {
      const s = new BuildInfoScanner();
      for (let i = 0; i < file.length; i += size) s.write(file.subarray(i, i + size));
      expect(parseBuildInfo(s.found ?? Buffer.alloc(0))?.goVersion, `chunk ${size}`).to.equal('go1.22');
    }
  });
});
