/**
 * Compiles the CLI and the operator for the npm package: operator/src (no tests, no test
 * helpers; tsconfig.build.json) to JavaScript in dist/src. In a clone nothing needs this,
 * Node 24 runs the TypeScript directly (bin/vigil.js prefers operator/src when it is there);
 * an installed package has no TypeScript, because Node does not strip types under node_modules.
 *
 *   node scripts/build.ts      (npm run build, make build; npm pack and npm publish run it first)
 *
 * tsc writes into a fresh directory beside dist/src, which replaces dist/ only once complete and
 * checked: a deleted source file cannot live on in the package, a failed build leaves the previous
 * dist/ alone, and a concurrent `npm pack` sees the old or the new tree, never half of one. The
 * check: a production module that imports a test helper would pull it into the output
 * (tsconfig's exclude does not stop imports), and that fails the build.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');

/** Paths (relative to dist/) that must never be in the package. */
const TEST_ONLY = /(^|\/)(fuzz|testing)\/|(^|\/)_testkit\.js$|\.test\.js$|^src\/rules\/testing\.js$|\.ts$/;

/** Files below `dir`, relative to it, with forward slashes. */
function files(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)).split('\\').join('/'));
}

function fail(message: string): never {
  rmSync(staging, { recursive: true, force: true });
  console.error(`build: ${message}`);
  process.exit(1);
}

mkdirSync(dist, { recursive: true });
const staging = join(dist, `.build-${process.pid}`);
rmSync(staging, { recursive: true, force: true });
try {
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', staging], {
    cwd: root,
    stdio: 'inherit',
  });
} catch {
  fail('tsc failed (its errors are above)');
}
const emitted = files(staging);
const leaked = emitted.filter((f) => TEST_ONLY.test(f));
if (leaked.length > 0)
  fail(`test-only modules reached dist/ (imported by production code?): ${leaked.join(', ')}`);
if (!emitted.includes('src/cli/main.js')) fail('src/cli/main.js was not emitted');

// The CEL evaluator of custom rules (operator/cel, built to WebAssembly by scripts/cel-build.sh)
// goes beside the module that loads it (engine/cel/wasm.js looks there first).
let wasm: string;
try {
  wasm = execFileSync('bash', [join(root, 'scripts', 'cel-build.sh')], {
    cwd: root,
    encoding: 'utf8',
  }).trim();
} catch {
  fail('scripts/cel-build.sh failed (its errors are above): the package needs the CEL evaluator');
}
copyFileSync(wasm, join(staging, 'src', 'engine', 'cel', 'vigil-cel.wasm'));

/** Whether a process with this id runs (another build's staging directory is then in use). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

// Swap the new tree in. Everything else in dist/ goes (the old tree, leftovers of interrupted
// builds), except the staging directory of a build still running.
if (existsSync(join(dist, 'src'))) renameSync(join(dist, 'src'), join(dist, `.old-${process.pid}`));
renameSync(join(staging, 'src'), join(dist, 'src'));
for (const entry of readdirSync(dist)) {
  const other = /^\.build-(\d+)$/.exec(entry);
  if (entry === 'src' || (other && Number(other[1]) !== process.pid && alive(Number(other[1])))) continue;
  rmSync(join(dist, entry), { recursive: true, force: true });
}
console.error(`build: ${emitted.length} modules and the CEL evaluator in dist/src`);
