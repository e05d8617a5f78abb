#!/usr/bin/env node
// Entry point of the `vigil` command. The CLI is TypeScript run by Node's type
// stripping (Node >= 24), so check the version before importing it.
import process from 'node:process';

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

const { main } = await import('../operator/src/cli/main.ts');
// exitCode, not exit(): let buffered output to pipes drain first.
process.exitCode = await main(process.argv.slice(2));
