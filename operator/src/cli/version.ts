/** `vigil version`: the version from package.json. */
import { readFileSync } from 'node:fs';
import type { CliIO } from './io.ts';
import { EXIT_OK } from './io.ts';

function readVersion(): string {
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
