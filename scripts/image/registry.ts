/**
 * The local image registry: Debian's `docker-registry` (distribution 2.8) on loopback, storage in
 * .vigil/registry, started on demand and left running (like make cluster-up) so that a node's
 * container runtime can pull what `make image` pushed. REGISTRY=host:port moves it.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, openSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import https from 'node:https';
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

/** The status /v2/ of a TLS registry answers with (0: nothing answers), trusting `ca`. */
export function tlsStatus(addr: string, ca: Buffer): Promise<number> {
  return new Promise((res) => {
    const req = https.get(`https://${addr}/v2/`, { ca, timeout: 2000 }, (r) => {
      r.resume();
      res(r.statusCode ?? 0);
    });
    req.on('error', () => res(0));
    req.on('timeout', () => req.destroy());
  });
}

/**
 * Runs `docker-registry serve` detached (left running, pid in `<stateDir>/registry.pid`) with the
 * configuration `lines` (written to `<stateDir>/config.yml`); resolves once `ready()` says so, or
 * throws with the last lines of its log.
 */
export async function serveRegistry(opts: {
  name: string;
  addr: string;
  stateDir: string;
  lines: readonly string[];
  ready: () => Promise<boolean>;
}): Promise<void> {
  const bin = '/usr/bin/docker-registry';
  if (!existsSync(bin))
    throw new Error(
      `no ${opts.name} answers at ${opts.addr} and ${bin} is missing (scripts/setup.sh image installs it)`,
    );
  mkdirSync(opts.stateDir, { recursive: true });
  const config = join(opts.stateDir, 'config.yml');
  writeFileSync(config, ['version: 0.1', 'log: {level: warn}', ...opts.lines, ''].join('\n'));
  const logFile = join(opts.stateDir, 'registry.log');
  const log = openSync(logFile, 'a');
  const child = spawn(bin, ['serve', config], { stdio: ['ignore', log, log], detached: true });
  child.unref();
  writeFileSync(join(opts.stateDir, 'registry.pid'), String(child.pid ?? ''));
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (await opts.ready()) return;
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  const tail = existsSync(logFile) ? readFileSync(logFile, 'utf8').split('\n').slice(-10).join('\n') : '';
  throw new Error(`the ${opts.name} at ${opts.addr} did not start; last lines of ${logFile}:\n${tail}`);
}

/** Starts the registry unless one already answers at `addr`; resolves once /v2/ answers 200. */
export async function ensureRegistry(addr: string, stateDir: string): Promise<void> {
  if (await answers(addr)) return;
  mkdirSync(join(stateDir, 'data'), { recursive: true });
  await serveRegistry({
    name: 'registry',
    addr,
    stateDir,
    lines: [
      `storage: {filesystem: {rootdirectory: ${join(stateDir, 'data')}}, delete: {enabled: true}}`,
      `http: {addr: "${addr}", headers: {X-Content-Type-Options: [nosniff]}}`,
    ],
    ready: () => answers(addr),
  });
}
