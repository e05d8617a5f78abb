/**
 * The image make image built (.vigil/image): what the registry serves under the printed digest is
 * that layout; a rebuild of the same tree gives the same digest; the SBOM lists every package in
 * the image and nothing that is not; the image holds no shell or package manager and nothing the
 * runtime user could modify.
 */
import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, lstatSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../controlplane/controlplane.ts';
import { readImage, unpack, type BuiltImage } from '../../scripts/image/oci.ts';
import type { CycloneDx } from '../../scripts/image/sbom.ts';
import { builtImage } from './image.ts';

const OUT = join(REPO_ROOT, '.vigil', 'image');
const NODE = join(REPO_ROOT, 'node_modules', '.bin', 'node');

describe('the operator image make image built', function () {
  let img: BuiltImage;
  let rootfs: string;
  let sbom: CycloneDx;

  before(() => {
    img = readImage(join(OUT, 'oci'));
    rootfs = mkdtempSync(join(tmpdir(), 'vigil-image-test-'));
    unpack(img, rootfs);
    sbom = JSON.parse(readFileSync(join(OUT, 'sbom.cdx.json'), 'utf8')) as CycloneDx;
  });

  after(() => {
    rmSync(rootfs, { recursive: true, force: true });
  });

  it('the registry serves that layout under the digest make image printed', async () => {
    const ref = builtImage();
    const registry = ref.slice(0, ref.indexOf('/'));
    const rest = ref.slice(ref.indexOf('/') + 1);
    const [name, digest] = rest.split('@');
    expect(digest).to.equal(img.manifest.digest);
    const r = await fetch(`http://${registry}/v2/${name ?? ''}/manifests/${digest ?? ''}`, {
      headers: { accept: img.manifest.mediaType },
    });
    expect(r.status).to.equal(200);
    expect(r.headers.get('docker-content-digest')).to.equal(digest);
    const body = Buffer.from(await r.arrayBuffer());
    expect(body).to.deep.equal(readFileSync(join(OUT, 'oci', 'blobs', 'sha256', (digest ?? '').slice(7))));
  });

  it('rebuilding the same tree gives the same digest', function () {
    const out = mkdtempSync(join(tmpdir(), 'vigil-image-rebuild-'));
    try {
      const printed = execFileSync(
        NODE,
        [join(REPO_ROOT, 'scripts', 'image', 'build.ts'), '--no-push', '--out', out],
        {
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      ).trim();
      expect(printed).to.equal(`vigil:${sbom.metadata.component.version}@${img.manifest.digest}`);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('runs as 65532 with node and vigil as the entrypoint; no shell or package manager inside', () => {
    const cfg = JSON.parse(
      readFileSync(join(OUT, 'oci', 'blobs', 'sha256', img.config.digest.slice(7)), 'utf8'),
    ) as {
      config: { User: string; Entrypoint: string[]; Cmd: string[] };
    };
    expect(cfg.config.User).to.equal('65532:65532');
    expect(cfg.config.Entrypoint).to.deep.equal(['/usr/local/bin/node', '/app/bin/vigil.js']);
    expect(cfg.config.Cmd).to.deep.equal(['operator']);
    const executables: string[] = [];
    const walk = (d: string): void => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        const p = join(d, e.name);
        if (e.isDirectory()) walk(p);
        else if (e.isFile() && lstatSync(p).mode & 0o111 && !p.includes('/node_modules/'))
          executables.push(p.slice(rootfs.length));
      }
    };
    walk(rootfs);
    // The only programs: Node, the dynamic loader and the libraries it maps, Vigil's entrypoint.
    for (const x of executables)
      expect(x).to.match(/^\/(usr\/local\/bin\/node|app\/bin\/vigil\.js|(usr\/)?lib(64)?\/.*\.so[.\d]*)$/);
    expect(executables).to.include('/usr/local/bin/node');
  });

  it("nothing in it is writable by the runtime user (files are root's, no group/other write) but /tmp", () => {
    expect(img.layers).to.have.length(3);
    for (const layer of img.layers) {
      const out = execFileSync('tar', ['-tvzf', join(OUT, 'oci', 'blobs', 'sha256', layer.digest.slice(7))], {
        encoding: 'utf8',
        maxBuffer: 256 << 20,
      });
      for (const l of out.split('\n').filter(Boolean)) {
        const [mode = '', owner = ''] = l.split(/\s+/);
        expect(owner, l).to.equal('0/0');
        if (l.endsWith(' ./tmp/')) {
          expect(mode, l).to.equal('drwxrwxrwt');
          continue;
        }
        if (mode.startsWith('l')) continue; // symlinks' own modes mean nothing
        expect(mode.slice(5, 6), l).to.not.equal('w');
        expect(mode.slice(8, 9), l).to.not.equal('w');
      }
    }
  });

  it('the SBOM lists exactly the npm packages installed in the image, the Debian packages and Node', () => {
    const installed = new Set<string>();
    const walk = (dir: string): void => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        if (!e.isDirectory() || e.name.startsWith('.')) continue;
        const p = join(dir, e.name);
        if (e.name.startsWith('@')) {
          walk(p);
          continue;
        }
        const pkg = JSON.parse(readFileSync(join(p, 'package.json'), 'utf8')) as {
          name: string;
          version: string;
        };
        installed.add(`${pkg.name}@${pkg.version}`);
        try {
          walk(join(p, 'node_modules'));
        } catch {
          // no nested dependencies
        }
      }
    };
    walk(join(rootfs, 'app', 'node_modules'));
    const npm = new Set(
      sbom.components
        .filter((c) => c.purl?.startsWith('pkg:npm/') && c.name !== 'node')
        .map((c) => `${c.name}@${c.version}`),
    );
    expect([...npm].sort()).to.deep.equal([...installed].sort());
    expect(installed.size).to.be.greaterThan(50);
    const debs = sbom.components.filter((c) => c.purl?.startsWith('pkg:deb/debian/'));
    expect(debs.map((d) => d.name)).to.include.members(['libc6', 'libstdc++6', 'libgcc-s1']);
    for (const d of debs) for (const f of d.properties ?? []) lstatSync(join(rootfs, f.value)); // every listed file is in the image
    const node = sbom.components.find((c) => c.name === 'node');
    expect(node?.version).to.equal(
      execFileSync(NODE, ['-p', 'process.versions.node'], { encoding: 'utf8' }).trim(),
    );
    expect(sbom.metadata.component.hashes?.[0]?.content).to.equal(img.manifest.digest.slice(7));
  });
});

describe("the README's docker recipe with the image make image built", function () {
  it('scans the mounted directory read-only and exits by the findings', () => {
    const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
    const lines = readme.split('\n').filter((l) => l.startsWith('docker run '));
    expect(lines, 'docker recipes in README.md').to.have.length.greaterThan(0);
    const dir = mkdtempSync(join(tmpdir(), 'vigil-docker-recipe-'));
    cpSync(join(REPO_ROOT, 'manifests', 'examples'), dir, { recursive: true });
    // A checkout is readable by others; mkdtemp's 0700 would hide it from the image's user 65532.
    chmodSync(dir, 0o755);
    try {
      for (const line of lines) {
        const r = spawnSync('bash', ['-c', line], {
          cwd: dir,
          encoding: 'utf8',
          env: { ...process.env, VIGIL_IMAGE: builtImage() },
          timeout: 120_000,
        });
        // The examples hold high and critical findings: --fail-on high exits 1, as in CI.
        expect(r.status, `${line}\n${r.stderr}`).to.equal(1);
        expect(r.stdout).to.match(/\d+ resources scanned, \d+ findings: \d+ critical/);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
