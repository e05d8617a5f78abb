/**
 * The package parsers against the tools that own each format, on this machine's real data:
 * dpkg's status file against dpkg-query, Python's site-packages METADATA against pip list, and
 * the repository's node_modules package.json files against its package-lock.json.
 */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ImageFiles, kindOf } from './layers.ts';
import { inventory, lockPackages } from './packages.ts';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

function run(cmd: string, args: string[], what: string): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  } catch (err) {
    throw new Error(`this test needs ${what} (${cmd} ${args.join(' ')} failed): ${String(err)}`, {
      cause: err,
    });
  }
}

describe('images: parsers against the real tools on this machine', function () {
  this.timeout(30_000);

  it('dpkg status: the installed packages dpkg-query lists, no more, no less', () => {
    const files = new ImageFiles();
    files.files.set('var/lib/dpkg/status', {
      kind: 'dpkg-status',
      data: readFileSync('/var/lib/dpkg/status'),
      layer: 0,
    });
    const ours = inventory(files).packages.map((p) => `${p.name} ${p.version}`);
    const ref = run(
      'dpkg-query',
      ['-W', '-f=${db:Status-Abbrev}|${Package} ${Version}\\n'],
      'dpkg (a Debian system)',
    )
      .split('\n')
      .filter((l) => l.startsWith('ii'))
      .map((l) => l.split('|')[1] ?? '');
    expect(ref.length).to.be.greaterThan(50);
    expect([...new Set(ours)].sort()).to.deep.equal([...new Set(ref)].sort());
  });

  it('Python METADATA: what pip list finds in the same site-packages', () => {
    const site = run(
      'python3',
      ['-c', 'import sysconfig; print(sysconfig.get_paths()["purelib"])'],
      'python3',
    ).trim();
    const files = new ImageFiles();
    for (const d of readdirSync(site))
      if (d.endsWith('.dist-info'))
        files.files.set(`${site.slice(1)}/${d}/METADATA`, {
          kind: 'python-metadata',
          data: readFileSync(join(site, d, 'METADATA')),
          layer: 0,
        });
    const norm = (n: string): string => n.toLowerCase().replace(/[-_.]+/g, '-');
    const inv = inventory(files);
    expect(inv.problems).to.deep.equal([]);
    const ours = inv.packages.map((p) => `${norm(p.name)} ${p.version}`);
    const pip = JSON.parse(run('python3', ['-m', 'pip', 'list', '--format=json', '--path', site], 'pip')) as {
      name: string;
      version: string;
    }[];
    expect(pip.length).to.be.greaterThan(0);
    expect([...new Set(ours)].sort()).to.deep.equal(
      [...new Set(pip.map((p) => `${norm(p.name)} ${p.version}`))].sort(),
    );
  });

  it("npm: the repository's installed node_modules are exactly its package-lock.json", () => {
    const files = new ImageFiles();
    const walk = (rel: string): void => {
      for (const e of readdirSync(join(ROOT, rel), { withFileTypes: true })) {
        const p = `${rel}/${e.name}`;
        if (e.isDirectory()) walk(p);
        else if (
          e.isFile() &&
          kindOf({ path: p, type: 'file', size: 1, mode: 0o644, linkname: '' }) === 'npm-package'
        ) {
          const doc = JSON.parse(readFileSync(join(ROOT, p), 'utf8')) as { name?: string; version?: string };
          files.files.set(p, {
            kind: 'npm-package',
            data: Buffer.from(JSON.stringify({ name: doc.name, version: doc.version })),
            layer: 0,
          });
        }
      }
    };
    walk('node_modules');
    const ours = inventory(files).packages.map((p) => `${p.name}@${p.version}`);
    const lock = lockPackages(JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8'))).map(
      ([n, v]) => `${n}@${v}`,
    );
    expect(lock.length).to.be.greaterThan(100);
    expect([...new Set(ours)].sort()).to.deep.equal([...new Set(lock)].sort());
  });
});
