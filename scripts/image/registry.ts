/**
 * The local image registry: Debian's `docker-registry` (distribution 2.8) on loopback, storage in
 * .vigil/registry, started on demand and left running (like make cluster-up) so that a node's
 * container runtime can pull what `make image` pushed. REGISTRY=host:port moves it.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, openSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const DEFAULT_REGISTRY = '127.0.0.1:5000';

async function answers(addr: string): Promise<boolean> {
  try {
    const r = await fetch(`http://${addr}/v2/`, { signal: AbortSignal.timeout(2000) });
    return r.status === 200;
  } catch {
    return false;
  }
}

/** Starts the registry unless one already answers at `addr`; resolves once /v2/ answers 200. */
export async function ensureRegistry(addr: string, stateDir: string): Promise<void> {
  if (await answers(addr)) return;
  const bin = '/usr/bin/docker-registry';
  if (!existsSync(bin))
    throw new Error(
      `no registry answers at ${addr} and ${bin} is missing (scripts/setup.sh image installs it)`,
    );
  mkdirSync(join(stateDir, 'data'), { recursive: true });
  const config = join(stateDir, 'config.yml');
  writeFileSync(
    config,
    [
      'version: 0.1',
      'log: {level: warn}',
      `storage: {filesystem: {rootdirectory: ${join(stateDir, 'data')}}, delete: {enabled: true}}`,
      `http: {addr: "${addr}", headers: {X-Content-Type-Options: [nosniff]}}`,
      '',
    ].join('\n'),
  );
  const logFile = join(stateDir, 'registry.log');
  const log = openSync(logFile, 'a');
  const child = spawn(bin, ['serve', config], { stdio: ['ignore', log, log], detached: true });
  child.unref();
  writeFileSync(join(stateDir, 'registry.pid'), String(child.pid ?? ''));
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (await answers(addr)) return;
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  const tail = existsSync(logFile) ? readFileSync(logFile, 'utf8').split('\n').slice(-10).join('\n') : '';
  throw new Error(`the registry at ${addr} did not start; last lines of ${logFile}:\n${tail}`);
}
