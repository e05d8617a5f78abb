/**
 * Benchmark of image analysis (issue 18: "bounded, under 100 MiB extra"): images of about 130, 330
 * and 530 MiB compressed are built (the vulnerable test image's layers, a layer with a real 90 MB
 * Go binary — terraform, if this machine has it — and 5000 node_modules package.json files, and
 * layers of incompressible files, half of them starting like ELF binaries so the Go build-info
 * scanner reads every byte), pushed to the local registry, and each is analysed in a fresh
 * process that reports its time, bytes read and peak RSS above the RSS it had once the modules
 * were loaded (VmHWM of /proc/self/status). Results go to .vigil/bench/images-sbom.json.
 *
 *   node scripts/image/bench-sbom.ts
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { layerFromDir, push, writeImage, compressedSize, type Layer } from './oci.ts';
import { DEFAULT_REGISTRY, ensureRegistry } from './registry.ts';
import { buildTestImage, VULNERABLE } from './test-image.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const OUT = join(ROOT, '.vigil', 'bench');
const MiB = 1 << 20;

function log(msg: string): void {
  process.stderr.write(`bench-sbom: ${msg}\n`);
}

/** The child: analyse one image, print one JSON line. */
async function child(ref: string): Promise<void> {
  const { analyseImage } = await import('../../operator/src/images/analyse.ts');
  const { RegistryClient } = await import('../../operator/src/images/registry.ts');
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const baseRss = process.memoryUsage().rss;
  let peak = baseRss;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  const t0 = performance.now();
  const a = await analyseImage(ref, new RegistryClient());
  const ms = performance.now() - t0;
  clearInterval(timer);
  // VmHWM: this process's own peak (getrusage's maxrss would carry the parent's over exec).
  const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
  const maxRss = Number(hwm ?? 0) * 1024;
  process.stdout.write(
    `${JSON.stringify({ ref, ms, bytes: a.bytes, kept: a.keptBytes, packages: a.inventory.packages.length, baseRss, peakRss: Math.max(peak, maxRss) })}\n`,
  );
}

function randomTree(dir: string, mib: number, seedName: string): void {
  mkdirSync(dir, { recursive: true });
  const per = 8 * MiB;
  for (let i = 0; i < Math.ceil((mib * MiB) / per); i++) {
    const f = join(dir, `${seedName}-${i}.bin`);
    const data = randomBytes(per);
    if (i % 2 === 0) data.write('\x7fELF', 0, 'latin1');
    writeFileSync(f, data);
    chmodSync(f, 0o755);
  }
}

async function main(): Promise<void> {
  if (process.argv[2] === '--child') return child(process.argv[3] ?? '');
  const registry = process.env['REGISTRY'] || DEFAULT_REGISTRY;
  await ensureRegistry(registry, join(ROOT, '.vigil', 'registry'));
  const work = join(OUT, 'work');
  rmSync(work, { recursive: true, force: true });
  const layout = join(work, 'oci');
  mkdirSync(layout, { recursive: true });

  const base = buildTestImage('vigil-bench/base', VULNERABLE).image;
  // Reuse the base image's blobs in this layout.
  execFileSync('cp', ['-r', join(base.layout, 'blobs'), layout]);
  const tree = (n: string): string => {
    const d = join(work, 'trees', n);
    mkdirSync(d, { recursive: true });
    return d;
  };
  const t = tree('big-go-npm');
  const tf = '/usr/local/bin/terraform';
  if (existsSync(tf)) {
    mkdirSync(join(t, 'usr/local/bin'), { recursive: true });
    copyFileSync(tf, join(t, 'usr/local/bin/terraform'));
  } else log(`${tf} is missing: the big Go binary layer has none`);
  for (let i = 0; i < 5000; i++) {
    const d = join(t, 'srv/node_modules', `pkg-${i}`);
    mkdirSync(d, { recursive: true });
    writeFileSync(
      join(d, 'package.json'),
      JSON.stringify({ name: `pkg-${i}`, version: `1.0.${i}`, description: 'x'.repeat(400) }),
    );
  }
  const goNpm = layerFromDir(layout, t, 'terraform and 5000 npm packages');
  const r100 = layerFromDir(
    layout,
    (randomTree(tree('r100'), 100, 'a'), join(work, 'trees', 'r100')),
    'random 100 MiB',
  );
  const r200 = layerFromDir(
    layout,
    (randomTree(tree('r200'), 200, 'b'), join(work, 'trees', 'r200')),
    'random 200 MiB',
  );
  const r200b = layerFromDir(
    layout,
    (randomTree(tree('r200b'), 200, 'c'), join(work, 'trees', 'r200b')),
    'random 200 MiB',
  );
  rmSync(join(work, 'trees'), { recursive: true, force: true });

  const images: [string, Layer[]][] = [
    ['vigil-bench/small', [...base.layers, goNpm, r100]],
    ['vigil-bench/medium', [...base.layers, goNpm, r100, r200]],
    ['vigil-bench/large', [...base.layers, goNpm, r100, r200, r200b]],
  ];
  const results: unknown[] = [];
  for (const [name, layers] of images) {
    const img = writeImage(
      layout,
      layers,
      { user: '', env: [], entrypoint: [], cmd: [], workingDir: '/', exposedPorts: [], labels: {} },
      `${name}:1`,
    );
    await push(img, registry, name, '1');
    const ref = `${registry}/${name}:1`;
    const line = execFileSync(
      process.execPath,
      ['--expose-gc', fileURLToPath(import.meta.url), '--child', ref],
      {
        encoding: 'utf8',
        maxBuffer: 1 << 20,
      },
    );
    const r = JSON.parse(line) as {
      ms: number;
      bytes: number;
      kept: number;
      packages: number;
      baseRss: number;
      peakRss: number;
    };
    const row = {
      image: ref,
      compressedMiB: +(compressedSize(img) / MiB).toFixed(1),
      layers: layers.length,
      seconds: +(r.ms / 1000).toFixed(2),
      MiBPerSecond: +(r.bytes / MiB / (r.ms / 1000)).toFixed(1),
      packages: r.packages,
      keptKiB: +(r.kept / 1024).toFixed(1),
      baseRssMiB: +(r.baseRss / MiB).toFixed(1),
      peakRssMiB: +(r.peakRss / MiB).toFixed(1),
      extraMiB: +((r.peakRss - r.baseRss) / MiB).toFixed(1),
    };
    log(JSON.stringify(row));
    results.push(row);
  }
  mkdirSync(OUT, { recursive: true });
  const file = join(OUT, 'images-sbom.json');
  writeFileSync(
    file,
    `${JSON.stringify({ date: new Date().toISOString(), node: process.version, results }, null, 2)}\n`,
  );
  rmSync(work, { recursive: true, force: true });
  log(`written ${file}`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
