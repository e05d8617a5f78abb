#!/usr/bin/env node
// Entry point of the `vigil` command, in a clone and in the npm package (@vigil-dev/vigil).
// It runs one of two copies of the same code:
//   - operator/src/cli/main.ts, the TypeScript source, when it is next to this file: a clone
//     (make run, tests, scripts), run by Node 24's type stripping with no build step;
//   - dist/src/cli/main.js otherwise: the installed package, which ships only the compiled
//     JavaScript (npm run build), since Node refuses to strip types under node_modules.
// The choice is by presence, so a clone always runs its current source even with a stale dist/.
// Either way Node 24 is required, so check the version before importing anything else.
import { existsSync } from 'node:fs';
import module from 'node:module';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';
import { URL } from 'node:url';

const [major] = process.versions.node.split('.').map(Number);
if (!major || major < 24) {
  process.stderr.write(`vigil: Node.js 24 or newer is required (this is ${process.version})\n`);
  process.exit(2);
}

// `vigil scan … | head` closes the pipe early: stop quietly instead of crashing.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err) => {
    if (err && err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}

// Cache compiled modules (the type-stripped source or the dist JavaScript): startup drops from
// ~0.45 s to ~0.15 s of CPU. The cache lives in the user's own cache directory, not a shared /tmp
// another user could seed; NODE_DISABLE_COMPILE_CACHE=1 turns it off, VIGIL_COMPILE_CACHE moves it.
if (process.env.NODE_COMPILE_CACHE === undefined) {
  try {
    const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
    module.enableCompileCache?.(process.env.VIGIL_COMPILE_CACHE || path.join(base, 'vigil', 'compile-cache'));
  } catch {
    // No cache (read-only home, no home): slower start, same results.
  }
}

const source = new URL('../operator/src/cli/main.ts', import.meta.url);
const compiled = new URL('../dist/src/cli/main.js', import.meta.url);
const entry = existsSync(source) ? source : compiled;
if (entry === compiled && !existsSync(compiled)) {
  process.stderr.write(
    'vigil: neither operator/src/cli/main.ts nor dist/src/cli/main.js is installed (run npm run build)\n',
  );
  process.exit(2);
}
const { main } = await import(entry.href);
// exitCode, not exit(): let buffered output to pipes drain first.
process.exitCode = await main(process.argv.slice(2));
