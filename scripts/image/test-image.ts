/**
 * Test images for image analysis (issue 18), built here from real packages at chosen versions,
 * with no container engine (oci.ts) and pushed to the local registry (registry.ts):
 *
 *   vigil-test/vulnerable:1  five layers on an empty base:
 *     1. Debian 12: zlib1g and liblz4-1 unpacked from their .deb files (apt-get download, the
 *        versions installed on this machine), /var/lib/dpkg/status from their control files,
 *        this machine's /etc/os-release;
 *     2. npm: lodash, minimist and left-pad installed by npm from the registry (package-lock.json);
 *     3. Python: the urllib3 wheel from PyPI unpacked into dist-packages (its .dist-info/METADATA);
 *     4. Go: a small program built with golang.org/x/text and gopkg.in/yaml.v2 at old versions
 *        (its embedded build info lists them);
 *     5. a whiteout (.wh.left-pad) that deletes left-pad again, as `RUN rm` would.
 *   vigil-test/fixed:1  the same with the fixed versions (lodash 4.17.21, minimist 1.2.8,
 *     urllib3 1.26.19, x/text v0.3.8, yaml.v2 v2.2.8): same base layer, new digest.
 *
 *   vigil-test/suspicious:1  (pushSuspiciousImage, separate so the images above keep their
 *     digests) the same Debian layer, then harmless stand-ins for what image analysis must flag:
 *     a shell script named xmrig that prints a line, a script naming a stratum pool (pool.invalid,
 *     a name that cannot resolve), a setuid script no package lists, two private keys generated
 *     here by openssl at build time (so this image's digest changes with every build), one of
 *     them deleted again by a third layer; the command names the pool too.
 *
 * Versions come from scripts/advisories-fixture.ts (FIXTURE_PACKAGES), whose advisories name them.
 * Downloads are cached in .vigil/test-image/cache; layers are deterministic, so a rebuild gives the
 * same digests and a push only sends what the registry lacks.
 *
 *   node scripts/image/test-image.ts [--registry host:port] [--no-push]
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { FIXTURE_PACKAGES } from '../advisories-fixture.ts';
import { debFile } from './build.ts';
import { compressedSize, layerFromDir, push, writeImage, type BuiltImage, type Layer } from './oci.ts';
import { DEFAULT_REGISTRY, ensureRegistry } from './registry.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const TEST_IMAGE_DIR = join(ROOT, '.vigil', 'test-image');
const DEBS = ['zlib1g', 'liblz4-1'];

export interface Versions {
  npm: Record<string, string>;
  pypi: Record<string, string>;
  go: Record<string, string>;
}

export const VULNERABLE: Versions = {
  npm: { ...FIXTURE_PACKAGES.npm, 'left-pad': '1.3.0' },
  pypi: { ...FIXTURE_PACKAGES.pypi },
  go: { ...FIXTURE_PACKAGES.go },
};

export const FIXED: Versions = {
  npm: { lodash: '4.17.21', minimist: '1.2.8', 'left-pad': '1.3.0' },
  pypi: { urllib3: '1.26.19' },
  go: { 'golang.org/x/text': 'v0.3.8', 'gopkg.in/yaml.v2': 'v2.2.8' },
};

const sh = (cmd: string, args: string[], cwd?: string, env?: NodeJS.ProcessEnv): string =>
  execFileSync(cmd, args, {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 64 << 20,
    ...(env ? { env: { ...process.env, ...env } } : {}),
  });

function log(msg: string): void {
  process.stderr.write(`test-image: ${msg}\n`);
}

function debianTree(dir: string, cache: string): string[] {
  const status: string[] = [];
  const names: string[] = [];
  for (const pkg of DEBS) {
    const version = sh('dpkg-query', ['-W', '-f=${Version}', pkg]).trim();
    const deb = debFile(`${pkg}:amd64`, version, cache);
    sh('dpkg-deb', ['-x', deb, dir]);
    const control = sh('dpkg-deb', ['-f', deb]).trimEnd();
    // dpkg writes Status after Package; the order of the other fields does not matter to readers.
    const lines = control.split('\n');
    lines.splice(1, 0, 'Status: install ok installed');
    status.push(lines.join('\n'));
    names.push(`${pkg}=${version}`);
  }
  mkdirSync(join(dir, 'var/lib/dpkg'), { recursive: true });
  writeFileSync(join(dir, 'var/lib/dpkg/status'), `${status.join('\n\n')}\n`);
  mkdirSync(join(dir, 'etc'), { recursive: true });
  copyFileSync('/etc/os-release', join(dir, 'etc/os-release'));
  return names;
}

function npmTree(dir: string, versions: Record<string, string>, cache: string): void {
  const app = join(dir, 'app');
  mkdirSync(app, { recursive: true });
  writeFileSync(
    join(app, 'package.json'),
    `${JSON.stringify({ name: 'vigil-test-app', version: '1.0.0', private: true, dependencies: versions }, null, 2)}\n`,
  );
  sh(
    'npm',
    ['install', '--ignore-scripts', '--no-audit', '--no-fund', '--save-exact', '--cache', join(cache, 'npm')],
    app,
  );
}

function pythonTree(dir: string, versions: Record<string, string>, cache: string): void {
  const site = join(dir, 'usr/lib/python3/dist-packages');
  mkdirSync(site, { recursive: true });
  for (const [name, version] of Object.entries(versions)) {
    const wheels = join(cache, 'wheels', `${name}-${version}`);
    mkdirSync(wheels, { recursive: true });
    if (!readdirSync(wheels).some((f) => f.endsWith('.whl')))
      sh('pip', ['download', '--no-deps', '--only-binary=:all:', '-d', wheels, `${name}==${version}`]);
    const whl = readdirSync(wheels).find((f) => f.endsWith('.whl'));
    if (!whl) throw new Error(`pip download ${name}==${version} gave no wheel`);
    sh('unzip', ['-q', '-o', join(wheels, whl), '-d', site]);
  }
}

function goTree(dir: string, versions: Record<string, string>, cache: string): void {
  const src = join(cache, `go-src-${Object.values(versions).join('-')}`);
  rmSync(src, { recursive: true, force: true });
  mkdirSync(src, { recursive: true });
  writeFileSync(
    join(src, 'go.mod'),
    `module example.com/vigil-test-hello\n\ngo 1.21\n\nrequire (\n${Object.entries(versions)
      .map(([m, v]) => `\t${m} ${v}\n`)
      .join('')})\n`,
  );
  writeFileSync(
    join(src, 'main.go'),
    [
      'package main',
      '',
      'import (',
      '\t"fmt"',
      '',
      '\t"golang.org/x/text/language"',
      '\t"gopkg.in/yaml.v2"',
      ')',
      '',
      'func main() {',
      '\tt, _ := language.Parse("en-GB")',
      '\tout, _ := yaml.Marshal(map[string]string{"lang": t.String()})',
      '\tfmt.Print(string(out))',
      '}',
      '',
    ].join('\n'),
  );
  const bin = join(dir, 'usr/local/bin/hello');
  mkdirSync(dirname(bin), { recursive: true });
  sh('go', ['build', '-mod=mod', '-trimpath', '-ldflags=-s -w -buildid=', '-o', bin, '.'], src, {
    CGO_ENABLED: '0',
    GOOS: 'linux',
    GOARCH: 'amd64',
    GOFLAGS: '-mod=mod -buildvcs=false',
  });
}

export interface TestImage {
  name: string;
  tag: string;
  image: BuiltImage;
  versions: Versions;
}

/** A fresh build directory for image `name`: its OCI layout, the download cache, and layer trees. */
function startBuild(name: string): {
  out: string;
  cache: string;
  layout: string;
  tree: (n: string) => string;
} {
  const out = join(TEST_IMAGE_DIR, name.replace(/\//g, '_'));
  rmSync(out, { recursive: true, force: true });
  const layout = join(out, 'oci');
  mkdirSync(layout, { recursive: true });
  const tree = (n: string): string => {
    const d = join(out, 'trees', n);
    mkdirSync(d, { recursive: true });
    return d;
  };
  return { out, cache: join(TEST_IMAGE_DIR, 'cache'), layout, tree };
}

/** Builds one test image into .vigil/test-image/<name> (an OCI layout). */
export function buildTestImage(name: string, versions: Versions): TestImage {
  const { out, cache, layout, tree } = startBuild(name);
  const layers: Layer[] = [];
  const debs = debianTree(tree('debian'), join(cache, 'debs'));
  layers.push(layerFromDir(layout, join(out, 'trees', 'debian'), `debian packages ${debs.join(' ')}`));
  npmTree(tree('npm'), versions.npm, cache);
  layers.push(layerFromDir(layout, join(out, 'trees', 'npm'), `npm install ${JSON.stringify(versions.npm)}`));
  pythonTree(tree('python'), versions.pypi, cache);
  layers.push(
    layerFromDir(layout, join(out, 'trees', 'python'), `pip wheels ${JSON.stringify(versions.pypi)}`),
  );
  goTree(tree('go'), versions.go, cache);
  layers.push(layerFromDir(layout, join(out, 'trees', 'go'), `go build with ${JSON.stringify(versions.go)}`));
  const wh = tree('whiteout');
  mkdirSync(join(wh, 'app/node_modules'), { recursive: true });
  writeFileSync(join(wh, 'app/node_modules/.wh.left-pad'), '');
  layers.push(layerFromDir(layout, wh, 'rm -rf /app/node_modules/left-pad'));
  const image = writeImage(
    layout,
    layers,
    {
      user: '65532:65532',
      env: ['PATH=/usr/local/bin:/usr/bin'],
      entrypoint: ['/usr/local/bin/hello'],
      cmd: [],
      workingDir: '/app',
      exposedPorts: [],
      labels: { 'org.opencontainers.image.title': name },
    },
    `${name}:1`,
  );
  rmSync(join(out, 'trees'), { recursive: true, force: true });
  return { name, tag: '1', image, versions };
}

/** Builds vigil-test/suspicious (see the header): nothing in it mines or escalates anything. */
export function buildSuspiciousImage(): TestImage {
  const name = 'vigil-test/suspicious';
  const { out, cache, layout, tree } = startBuild(name);
  const put = (dir: string, path: string, content: string, mode: number): void => {
    const f = join(dir, path);
    mkdirSync(dirname(f), { recursive: true });
    writeFileSync(f, content);
    chmodSync(f, mode);
  };
  const debs = debianTree(tree('debian'), join(cache, 'debs'));
  const layers: Layer[] = [
    layerFromDir(layout, join(out, 'trees', 'debian'), `debian packages ${debs.join(' ')}`),
  ];
  const added = tree('added');
  const harmless = "#!/bin/sh\necho 'vigil test image: not a miner'\n";
  put(added, 'usr/local/bin/xmrig', harmless, 0o755);
  put(added, 'usr/local/bin/helper', '#!/bin/sh\nid\n', 0o4755);
  put(
    added,
    'opt/start.sh',
    '#!/bin/sh\n# vigil test image: names a pool that cannot resolve, mines nothing\nexec /usr/local/bin/xmrig -o stratum+tcp://pool.invalid:3333\n',
    0o755,
  );
  const key = (): string => sh('openssl', ['genpkey', '-algorithm', 'ed25519']);
  put(added, 'root/.ssh/id_ed25519', key(), 0o600);
  put(added, 'app/deploy.pem', key(), 0o600);
  layers.push(layerFromDir(layout, added, 'add a miner stand-in, a setuid script and keys'));
  const removed = tree('removed');
  put(removed, 'app/.wh.deploy.pem', '', 0o644);
  layers.push(layerFromDir(layout, removed, 'rm /app/deploy.pem'));
  const image = writeImage(
    layout,
    layers,
    {
      user: '65532:65532',
      env: ['PATH=/usr/local/bin:/usr/bin:/bin'],
      entrypoint: ['/opt/start.sh'],
      cmd: ['--pool', 'stratum+ssl://pool.invalid:443'],
      workingDir: '/',
      exposedPorts: [],
      labels: { 'org.opencontainers.image.title': name },
    },
    `${name}:1`,
  );
  rmSync(join(out, 'trees'), { recursive: true, force: true });
  return { name, tag: '1', image, versions: { npm: {}, pypi: {}, go: {} } };
}

/** Builds vigil-test/suspicious and pushes it to `registry` (started here if none answers). */
export async function pushSuspiciousImage(
  registry: string = process.env['REGISTRY'] || DEFAULT_REGISTRY,
): Promise<TestImage & { reference: string }> {
  await ensureRegistry(registry, join(ROOT, '.vigil', 'registry'));
  const t = buildSuspiciousImage();
  const p = await push(t.image, registry, t.name, t.tag);
  log(
    `${p.reference}: ${t.image.layers.length} layers (${p.uploaded} blobs uploaded, ${p.existing} already there)`,
  );
  return { ...t, reference: `${registry}/${t.name}:${t.tag}` };
}

export interface PushedTestImages {
  vulnerable: TestImage & { reference: string };
  fixed: TestImage & { reference: string };
}

/** Builds both test images and pushes them to `registry` (started here if none answers). */
export async function pushTestImages(
  registry: string = process.env['REGISTRY'] || DEFAULT_REGISTRY,
): Promise<PushedTestImages> {
  await ensureRegistry(registry, join(ROOT, '.vigil', 'registry'));
  const out: Partial<PushedTestImages> = {};
  for (const [key, name, versions] of [
    ['vulnerable', 'vigil-test/vulnerable', VULNERABLE],
    ['fixed', 'vigil-test/fixed', FIXED],
  ] as const) {
    const t = buildTestImage(name, versions);
    const p = await push(t.image, registry, name, t.tag);
    log(
      `${p.reference}: ${(compressedSize(t.image) / 1048576).toFixed(2)} MiB compressed, ${t.image.layers.length} layers (${p.uploaded} blobs uploaded, ${p.existing} already there)`,
    );
    out[key] = { ...t, reference: `${registry}/${name}:${t.tag}` };
  }
  return out as PushedTestImages;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      registry: { type: 'string', default: process.env['REGISTRY'] || DEFAULT_REGISTRY },
      'no-push': { type: 'boolean', default: false },
    },
  });
  if (values['no-push']) {
    for (const [name, v] of [
      ['vigil-test/vulnerable', VULNERABLE],
      ['vigil-test/fixed', FIXED],
    ] as const) {
      const t = buildTestImage(name, v);
      log(
        `${name}@${t.image.manifest.digest}: ${(compressedSize(t.image) / 1048576).toFixed(2)} MiB compressed`,
      );
    }
    return;
  }
  const r = await pushTestImages(values.registry);
  console.log(r.vulnerable.reference);
  console.log(r.fixed.reference);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
