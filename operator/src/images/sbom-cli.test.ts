import { expect } from 'chai';
import { main } from '../cli/main.ts';
import type { CliIO } from '../cli/io.ts';

function capture(env: Record<string, string> = {}): { io: CliIO; out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return {
    io: {
      stdout: { write: (s: string) => (out += s) },
      stderr: { write: (s: string) => (err += s) },
      stdin: (async function* () {})(),
      env,
      cwd: process.cwd(),
    },
    out: () => out,
    err: () => err,
  };
}

describe('vigil sbom (command line, no registry)', () => {
  it('is listed by vigil help and has its own help', async () => {
    const list = capture();
    expect(await main(['help'], list.io)).to.equal(0);
    expect(list.out()).to.match(/^ {2}sbom +List the packages in an image/m);
    const help = capture();
    expect(await main(['help', 'sbom'], help.io)).to.equal(0);
    expect(help.out()).to.contain('Usage: vigil sbom [options] IMAGE');
  });

  it('usage errors exit 2 with the reason and the usage', async () => {
    for (const [args, reason] of [
      [['sbom'], 'give exactly one IMAGE'],
      [['sbom', 'a', 'b'], 'give exactly one IMAGE'],
      [['sbom', 'x', '-o', 'xml'], 'unknown output format "xml" (valid: table, json)'],
      [['sbom', 'x', '--username', 'u'], '--username needs the password in VIGIL_REGISTRY_PASSWORD'],
      [['sbom', 'x', '--nope'], "Unknown option '--nope'"],
    ] as const) {
      const c = capture();
      expect(await main([...args], c.io), args.join(' ')).to.equal(2);
      expect(c.err()).to.contain(`vigil sbom: ${reason}`);
      expect(c.err()).to.contain('Usage: vigil sbom');
    }
  });

  it('an image that cannot be read exits 2 and says why', async () => {
    const refused = capture();
    expect(await main(['sbom', '127.0.0.1:1/team/app:1'], refused.io)).to.equal(2);
    expect(refused.err()).to.match(/^vigil sbom: .*ECONNREFUSED/);
    const missing = capture();
    expect(await main(['sbom', 'oci:/nonexistent/layout'], missing.io)).to.equal(2);
    expect(missing.err()).to.match(/^vigil sbom: ENOENT.*\/nonexistent\/layout\/index\.json/);
    const badRef = capture();
    expect(await main(['sbom', 'Registry.example/UPPER/case'], badRef.io)).to.equal(2);
    expect(badRef.err()).to.contain('is not a repository name');
    const badAdvisories = capture();
    expect(
      await main(['sbom', 'oci:/nonexistent', '--advisories', '/nonexistent.json'], badAdvisories.io),
    ).to.equal(2);
    expect(badAdvisories.err()).to.match(/ENOENT.*nonexistent\.json/);
  });
});
