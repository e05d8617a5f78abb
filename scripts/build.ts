/**
 * Compiles the CLI and the operator for the npm package: operator/src (no tests, no test
 * helpers; tsconfig.build.json) to JavaScript in dist/src. In a clone nothing needs this,
 * Node 24 runs the TypeScript directly (bin/vigil.js prefers operator/src when it is there);
 * an installed package has no TypeScript, because Node does not strip types under node_modules.
 *
 *   node scripts/build.ts      (npm run build, make build; npm pack and npm publish run it first)
 *
 * dist/ is emptied first so a deleted source file cannot live on in the package. Afterwards the
 * output is checked: a production module that imports a test helper would pull it into dist
 * (tsconfig's exclude does not stop imports), and that fails the build.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');

/** Paths (relative to dist/) that must never be in the package. */
const TEST_ONLY = /(^|\/)(fuzz|testing)\/|(^|\/)_testkit\.js$|\.test\.js$|^src\/rules\/testing\.js$|\.ts$/;

function files(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dist, join(e.parentPath, e.name)).split('\\').join('/'));
}

rmSync(dist, { recursive: true, force: true });
try {
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
} catch {
  console.error('build: tsc failed (its errors are above)');
  process.exit(1);
}
const emitted = files(dist);
const leaked = emitted.filter((f) => TEST_ONLY.test(f));
if (leaked.length > 0 || !emitted.includes('src/cli/main.js')) {
  console.error(
    leaked.length > 0
      ? `build: test-only modules reached dist/ (imported by production code?): ${leaked.join(', ')}`
      : 'build: dist/src/cli/main.js was not emitted',
  );
  process.exit(1);
}
console.error(`build: ${emitted.length} modules in dist/src`);
