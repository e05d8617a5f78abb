/**
 * The npm package as users get it. `npm pack` (which builds dist/ first), then the tarball is
 * installed into an empty directory the way a user or the image build installs it: production
 * dependencies only, no install scripts, dependencies from the registry (npm's cache makes that
 * fast; --prefer-offline keeps it working offline once the cache is warm). The installed `vigil`
 * must scan exactly like the source tree, print its version, start `vigil operator --help`, and
 * the tarball must hold only allow-listed paths: compiled JavaScript, no TypeScript, no tests.
 *
 * The README's GitHub Actions recipe is run as written, with the packed tarball in place of the
 * published package: its `run:` lines must write valid SARIF with results and fail on high.
 */
import { expect } from 'chai';
import { spawn, spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const NOW = '2026-06-01T00:00:00Z';

interface PackageJson {
  name?: string;
  version?: string;
  private?: boolean;
  bin?: Record<string, string>;
  scripts?: Record<string, string>;
  publishConfig?: { access?: string };
}
const PKG = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as PackageJson;
const VERSION = PKG.version ?? '';

/** Source files that are tests or test helpers: never compiled into the package. */
const TEST_ONLY = /(^|\/)[^/]+\.test\.ts$|(^|\/)_testkit\.ts$|(^|\/)testing\/|^rules\/testing\.ts$|^fuzz\//;
/** Every path the tarball may contain (below its `package/` directory). */
const ALLOWED = [
  /^package\.json$/,
  /^README\.md$/,
  /^bin\/vigil\.js$/,
  /^data\/platform\/[a-z0-9-]+\.json$/,
  /^dist\/src\/[a-z0-9/_.-]+\.js$/,
  /^dist\/src\/engine\/cel\/vigil-cel\.wasm$/,
];
/** Lifecycle scripts npm runs when the package is installed. */
const INSTALL_SCRIPTS = ['preinstall', 'install', 'postinstall', 'prepare'];

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Node 24 first on PATH (npm and the `vigil` shebang use it), no npm_* variables of a calling npm. */
function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!/^npm_/i.test(k) && k !== 'NODE_COMPILE_CACHE' && k !== 'NODE_DISABLE_COMPILE_CACHE') e[k] = v;
  }
  e['PATH'] = [dirname(process.execPath), join(ROOT, 'node_modules', '.bin'), process.env['PATH'] ?? ''].join(
    delimiter,
  );
  return {
    ...e,
    NO_COLOR: '1',
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    npm_config_update_notifier: 'false',
    npm_config_prefer_offline: 'true',
    ...extra,
  };
}

function run(cmd: string, args: string[], cwd: string, extra: Record<string, string> = {}): Run {
  const r = spawnSync(cmd, args, {
    cwd,
    env: env(extra),
    encoding: 'utf8',
    timeout: 120_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function ok(r: Run, what: string): Run {
  if (r.code !== 0) throw new Error(`${what} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)).split('\\').join('/'))
    .sort();
}

describe('npm package @vigil-dev/vigil, packed and installed', function () {
  this.timeout(180_000);
  this.slow(60_000);

  let tmp = '';
  let tarball = '';
  /** Paths in the tarball, without the leading `package/`. */
  let entries: string[] = [];
  let installed = '';
  let vigilBin = '';

  /** The installed CLI and the source tree's bin/vigil.js, same arguments, from the repository root. */
  const fromInstall = (args: string[], extra: Record<string, string> = {}): Run =>
    run(vigilBin, args, ROOT, extra);
  const fromSource = (args: string[]): Run =>
    run(process.execPath, [join(ROOT, 'bin', 'vigil.js'), ...args], ROOT);

  before(() => {
    tmp = mkdtempSync(join(tmpdir(), 'vigil-package-'));
    ok(run('npm', ['pack', '--pack-destination', tmp], ROOT), 'npm pack');
    const packed = readdirSync(tmp).filter((f) => f.endsWith('.tgz'));
    expect(packed, 'npm pack writes one tarball').to.deep.equal([`vigil-dev-vigil-${VERSION}.tgz`]);
    tarball = join(tmp, packed[0] ?? '');
    entries = ok(run('tar', ['-tzf', tarball], tmp), 'tar -tzf')
      .stdout.split('\n')
      .filter((l) => l !== '' && !l.endsWith('/'))
      .map((l) => l.replace(/^package\//, ''))
      .sort();

    const app = join(tmp, 'app');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), '{"name": "app", "private": true}\n');
    ok(run('npm', ['install', '--omit=dev', '--ignore-scripts', tarball], app), 'npm install <tarball>');
    installed = join(app, 'node_modules', '@vigil-dev', 'vigil');
    vigilBin = join(app, 'node_modules', '.bin', 'vigil');
  });

  after(() => {
    if (!tmp) return;
    // npx keeps what it installed in npm's cache (_npx/<hash>); drop the entries for this tarball.
    const cache = run('npm', ['config', 'get', 'cache'], ROOT).stdout.trim();
    const npx = join(cache, '_npx');
    if (cache && existsSync(npx)) {
      for (const d of readdirSync(npx)) {
        const manifest = join(npx, d, 'package.json');
        if (existsSync(manifest) && readFileSync(manifest, 'utf8').includes(tmp)) {
          rmSync(join(npx, d), { recursive: true, force: true });
        }
      }
    }
    rmSync(tmp, { recursive: true, force: true });
  });

  it('holds only allow-listed paths: compiled JavaScript for every production module, no TypeScript, no tests', () => {
    expect(
      entries.filter((e) => !ALLOWED.some((re) => re.test(e))),
      'paths outside the allow-list',
    ).to.deep.equal([]);
    expect(
      entries.filter((e) =>
        /\.[mc]?ts$|\.test\.|_testkit|(^|\/)(testing|fuzz|testdata)\/|^(e2e|bench|test)\//.test(e),
      ),
      'TypeScript or test files',
    ).to.deep.equal([]);

    const src = join(ROOT, 'operator', 'src');
    const production = filesUnder(src)
      .filter((f) => f.endsWith('.ts') && !TEST_ONLY.test(f))
      .map((f) => `dist/src/${f.replace(/\.ts$/, '.js')}`);
    expect(production.length, 'production modules found in operator/src').to.be.greaterThan(50);
    // …and the CEL evaluator of custom rules (scripts/cel-build.sh), beside engine/cel/wasm.js.
    expect(entries.filter((e) => e.startsWith('dist/'))).to.deep.equal(
      [...production, 'dist/src/engine/cel/vigil-cel.wasm'].sort(),
    );

    const data = filesUnder(join(ROOT, 'data', 'platform'))
      .filter((f) => f.endsWith('.json'))
      .map((f) => `data/platform/${f}`);
    expect(data.length).to.be.greaterThan(0);
    expect(entries.filter((e) => e.startsWith('data/'))).to.deep.equal(data);
    expect(entries).to.include.members(['package.json', 'README.md', 'bin/vigil.js']);
  });

  it('is @vigil-dev/vigil, public, with the vigil command and no install scripts', () => {
    const pkg = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as PackageJson;
    expect(pkg.name).to.equal('@vigil-dev/vigil');
    expect(pkg.version).to.equal(VERSION);
    expect(pkg.private).to.equal(undefined);
    expect(pkg.publishConfig).to.deep.equal({ access: 'public' });
    expect(pkg.bin).to.deep.equal({ vigil: 'bin/vigil.js' });
    expect(Object.keys(pkg.scripts ?? {}).filter((s) => INSTALL_SCRIPTS.includes(s))).to.deep.equal([]);
    expect(Object.keys(PKG.scripts ?? {}).filter((s) => INSTALL_SCRIPTS.includes(s))).to.deep.equal([]);
    // The install has no source to fall back on: what runs below is dist/.
    expect(existsSync(join(installed, 'operator'))).to.equal(false);
    expect(existsSync(join(installed, 'dist', 'src', 'cli', 'main.js'))).to.equal(true);
  });

  it('vigil scan from the install reports exactly what the source tree reports (JSON)', () => {
    const args = ['scan', 'manifests/examples', '--output', 'json', '--now', NOW];
    const pkg = fromInstall(args);
    const src = fromSource(args);
    expect(pkg.stderr).to.equal(src.stderr);
    expect(pkg.code, pkg.stderr).to.equal(1); // the bad examples have high findings
    expect(src.code).to.equal(1);
    const report = JSON.parse(pkg.stdout) as { findings: { ruleId: string; category: string }[] };
    expect(report.findings.length).to.be.greaterThan(20);
    // The platform rules read data/platform/*.json through import attributes: from dist too.
    expect(report.findings.map((f) => f.category)).to.include('platform');
    expect(pkg.stdout).to.equal(src.stdout);
  });

  it('vigil version, vigil rules and vigil operator --help from the install', () => {
    expect(ok(fromInstall(['version']), 'vigil version').stdout).to.equal(`vigil ${VERSION}\n`);
    expect(ok(fromInstall(['rules']), 'vigil rules').stdout).to.equal(
      ok(fromSource(['rules']), 'rules').stdout,
    );
    const help = ok(fromInstall(['operator', '--help']), 'vigil operator --help');
    expect(help.stdout).to.match(/^Usage: vigil operator /);
    expect(help.stdout).to.equal(ok(fromSource(['operator', '--help']), 'operator --help').stdout);
  });

  it('vigil operator from the install loads credentials through @kubernetes/client-node, starts and stops on SIGTERM', async () => {
    // An exec credential plugin is what only client-node handles (it is imported lazily, so
    // --help alone would not show that it is installed). Nothing listens on port 9: the operator
    // starts, its lists fail and retry, and SIGTERM stops it cleanly.
    const kubeconfig = join(tmp, 'kubeconfig');
    writeFileSync(
      kubeconfig,
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters: [{name: c, cluster: {server: "https://127.0.0.1:9", insecure-skip-tls-verify: true}}]',
        'users: [{name: u, user: {exec: {apiVersion: client.authentication.k8s.io/v1, command: /bin/false}}}]',
        'contexts: [{name: x, context: {cluster: c, user: u}}]',
        'current-context: x',
        '',
      ].join('\n'),
    );
    const child = spawn(
      vigilBin,
      [
        'operator',
        '--kubeconfig',
        kubeconfig,
        '--metrics-bind-address',
        '0',
        '--health-probe-bind-address',
        '127.0.0.1:0',
        '--log-level',
        'debug',
      ],
      { cwd: tmp, env: env(), stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const deadline = Date.now() + 30_000;
    while (
      !/"message":"List failed; retrying"/.test(out) &&
      child.exitCode === null &&
      Date.now() < deadline
    ) {
      await new Promise((r) => setTimeout(r, 100));
    }
    child.kill('SIGTERM');
    const code = await exit;
    expect(out).to.match(/"message":"credentials loaded".*through client-node/);
    expect(out).to.include('"message":"starting"');
    expect(out).to.include('"message":"List failed; retrying"');
    expect(out).to.include('"message":"shutting down"');
    expect(code, out).to.equal(0);
  });

  it('caches compiled modules of the installed JavaScript (VIGIL_COMPILE_CACHE)', () => {
    const cacheDir = join(tmp, 'compile-cache');
    ok(fromInstall(['version'], { VIGIL_COMPILE_CACHE: cacheDir }), 'vigil version');
    expect(existsSync(cacheDir) ? filesUnder(cacheDir).length : 0).to.be.greaterThan(0);
  });

  describe("README's GitHub Actions recipe", () => {
    /** The `run:` lines of the workflow under "In CI: GitHub code scanning". */
    function recipe(): string[] {
      const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
      const section = readme.indexOf('### In CI: GitHub code scanning');
      expect(section, 'README section "In CI: GitHub code scanning"').to.be.greaterThan(-1);
      const block = /```yaml\n([\s\S]*?)```/.exec(readme.slice(section));
      expect(block, 'its yaml block').to.not.equal(null);
      return [...(block?.[1] ?? '').matchAll(/^\s*- run: (.+)$/gm)].map((m) => m[1] ?? '');
    }

    it('pins the package version being released', () => {
      const lines = recipe();
      expect(lines).to.have.length(2);
      for (const line of lines) {
        expect(line.startsWith(`npx --yes @vigil-dev/vigil@${VERSION} scan `), line).to.equal(true);
      }
    });

    it('its run: lines, with the packed tarball for the package, write SARIF with results and fail on high', () => {
      const ci = join(tmp, 'ci');
      cpSync(join(ROOT, 'manifests', 'examples'), join(ci, 'k8s'), { recursive: true });
      const lines = recipe().map((l) => l.replace(`@vigil-dev/vigil@${VERSION}`, `file:${tarball}`));
      expect(lines.every((l) => l.includes(`file:${tarball}`))).to.equal(true);
      const [sarifLine, gateLine] = lines;
      expect(sarifLine).to.include('--output sarif');
      expect(gateLine).to.include('--fail-on high');

      const sarifRun = run('bash', ['-c', sarifLine ?? ''], ci);
      expect(sarifRun.code, sarifRun.stderr).to.equal(0);
      const sarif = JSON.parse(readFileSync(join(ci, 'vigil.sarif'), 'utf8')) as {
        version: string;
        runs: { tool: { driver: { name: string } }; results: { ruleId: string }[] }[];
      };
      expect(sarif.version).to.equal('2.1.0');
      expect(sarif.runs[0]?.tool.driver.name).to.equal('vigil');
      expect(sarif.runs[0]?.results.length).to.be.greaterThan(20);

      const gate = run('bash', ['-c', gateLine ?? ''], ci);
      expect(gate.code, gate.stderr).to.equal(1);
      expect(gate.stdout).to.match(/critical|high/i);
    });
  });
});
