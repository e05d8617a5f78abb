import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, linkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { ImageFiles, DEFAULT_LIMITS } from './layers.ts';
import { normalisePath, readTar, type TarEntry } from './tar.ts';

/** A tar of `dir` made by GNU tar in `format`, fed in chunks of `size` bytes. */
function tarOf(dir: string, format: string): Buffer {
  return execFileSync('tar', ['--create', `--format=${format}`, '--sort=name', '-C', dir, '.'], {
    maxBuffer: 64 << 20,
  });
}

function chunks(b: Buffer, size: number): AsyncIterable<Buffer> {
  const parts: Buffer[] = [];
  for (let i = 0; i < b.length; i += size) parts.push(b.subarray(i, i + size));
  return Readable.from(parts, { objectMode: true }) as AsyncIterable<Buffer>;
}

async function entries(b: Buffer, size: number): Promise<{ e: TarEntry; text: string }[]> {
  const out: { e: TarEntry; text: string }[] = [];
  await readTar(chunks(b, size), (e) => {
    const parts: Buffer[] = [];
    out.push({ e, text: '' });
    const i = out.length - 1;
    return {
      write: (c) => parts.push(Buffer.from(c)),
      end: () => {
        const slot = out[i];
        if (slot) slot.text = Buffer.concat(parts).toString('utf8');
      },
    };
  });
  return out;
}

describe('images/tar', () => {
  let dir: string;
  const long = `${'d'.repeat(60)}/${'e'.repeat(60)}/${'f'.repeat(120)}.txt`;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-tar-'));
    const src = join(dir, 'src');
    mkdirSync(join(src, long, '..'), { recursive: true });
    writeFileSync(join(src, long), 'long name content');
    writeFileSync(join(src, 'a.txt'), 'x'.repeat(1000));
    writeFileSync(join(src, 'empty'), '');
    symlinkSync('a.txt', join(src, 'link'));
    linkSync(join(src, 'a.txt'), join(src, 'hard'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const format of ['gnu', 'posix']) {
    it(`reads GNU tar's ${format} format (long names, links, empty files) whatever the chunk size`, async () => {
      const tar = tarOf(join(dir, 'src'), format);
      for (const size of [1, 511, 512, 4096, tar.length]) {
        const got = await entries(tar, size);
        const byPath = new Map(got.map((g) => [g.e.path, g]));
        expect(byPath.get(long)?.text, `${format} chunk ${size}`).to.equal('long name content');
        expect(byPath.get('a.txt')?.text).to.equal('x'.repeat(1000));
        expect(byPath.get('empty')?.e.type).to.equal('file');
        expect(byPath.get('link')?.e).to.include({ type: 'symlink', linkname: 'a.txt' });
        expect(['hardlink', 'file']).to.include(byPath.get('hard')?.e.type);
        expect(byPath.get('')?.e.type).to.equal('dir');
      }
    });
  }

  it('reads the ustar prefix field of a name over 100 characters', async () => {
    const src = join(dir, 'ustar');
    const name = `${'p'.repeat(80)}/${'q'.repeat(80)}.txt`;
    mkdirSync(join(src, 'p'.repeat(80)), { recursive: true });
    writeFileSync(join(src, name), 'prefixed');
    const got = await entries(tarOf(src, 'ustar'), 700);
    expect(got.find((g) => g.e.path === name)?.text).to.equal('prefixed');
  });

  it('fails an archive cut inside an entry', async () => {
    const tar = tarOf(join(dir, 'src'), 'posix');
    const cut = tar.subarray(0, 1024 + 300);
    let err: unknown;
    await readTar(chunks(cut, 100), () => undefined).catch((e: unknown) => (err = e));
    expect(String(err)).to.match(/archive ends inside an entry/);
  });

  it('normalises paths as a container runtime resolves them', () => {
    expect(normalisePath('./usr/../etc//os-release')).to.equal('etc/os-release');
    expect(normalisePath('/../../etc/passwd')).to.equal('etc/passwd');
    expect(normalisePath('./')).to.equal('');
  });

  it('keeps each file in memory of its own, not a slice of a larger or shared buffer', async () => {
    const src = join(dir, 'owned');
    for (let i = 0; i < 20; i++) {
      mkdirSync(join(src, 'node_modules', `p${i}`), { recursive: true });
      writeFileSync(
        join(src, 'node_modules', `p${i}`, 'package.json'),
        JSON.stringify({ name: `p${i}`, version: '1.0.0', description: 'd'.repeat(300) }),
      );
    }
    const meta = join(src, 'site-packages', 'x-1.0.dist-info');
    mkdirSync(meta, { recursive: true });
    writeFileSync(join(meta, 'METADATA'), `Name: x\nVersion: 1.0\n\n${'long description\n'.repeat(2000)}`);
    const files = new ImageFiles();
    await files.addLayer(chunks(tarOf(src, 'posix'), 4096));
    expect(files.files.size).to.equal(21);
    for (const [path, f] of files.files) {
      // A kept file holds exactly its bytes: neither the rest of the buffer it was cut from nor a
      // slab of Node's buffer pool shared with garbage.
      expect(f.data.byteOffset, path).to.equal(0);
      expect(f.data.buffer.byteLength, path).to.equal(f.data.length);
    }
    expect(files.files.get('node_modules/p3/package.json')?.data.toString()).to.equal(
      '{"name":"p3","version":"1.0.0"}',
    );
    expect(files.files.get('site-packages/x-1.0.dist-info/METADATA')?.data.toString()).to.equal(
      'Name: x\nVersion: 1.0\n',
    );
    expect(files.keptBytes).to.equal([...files.files.values()].reduce((n, f) => n + f.data.length, 0));
  });

  it('refuses an image whose kept files pass the budget, naming the file', async () => {
    const src = join(dir, 'many');
    for (let i = 0; i < 50; i++) {
      mkdirSync(join(src, 'node_modules', `p${i}`), { recursive: true });
      writeFileSync(
        join(src, 'node_modules', `p${i}`, 'package.json'),
        JSON.stringify({ name: `p${i}`, version: '1.0.0' }),
      );
    }
    const files = new ImageFiles({ ...DEFAULT_LIMITS, maxTotalBytes: 500 });
    let err: unknown;
    await files.addLayer(chunks(tarOf(src, 'posix'), 4096)).catch((e: unknown) => (err = e));
    expect(String(err)).to.match(
      /node_modules\/p\d+\/package\.json: the files kept for this image pass the 500-byte budget/,
    );
  });
});
