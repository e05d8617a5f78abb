/** `vigil version`: the version from package.json. */
import { readFileSync } from 'node:fs';
import type { CliIO } from './io.ts';
import { EXIT_OK } from './io.ts';

function readVersion(): string {
  // Three levels up from operator/src/cli/ in a clone and from dist/src/cli/ in the npm package
  // (tsconfig.build.json keeps the depth); the package test checks `vigil version` from an install.
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
      version?: unknown;
    };
    return typeof pkg.version === 'string' ? pkg.version : '0.0.0-unknown';
  } catch {
    return '0.0.0-unknown';
  }
}

export const VERSION: string = readVersion();

export function run(_argv: string[], io: CliIO): Promise<number> {
  io.stdout.write(`vigil ${VERSION}\n`);
  return Promise.resolve(EXIT_OK);
}
