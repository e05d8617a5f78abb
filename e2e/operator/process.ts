/**
 * Runs `vigil operator` from source as a child process against a local control plane: the one
 * launcher of the e2e suites and the in-cluster benchmark (bench/cluster.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { REPO_ROOT, freePort, waitFor } from '../controlplane/controlplane.ts';

export interface OperatorProcess {
  child: ChildProcess;
  /** performance.now() just before the process was spawned. */
  spawnedAt: number;
  metricsUrl: string;
  probeUrl: string;
  logFile: string;
  /** SIGTERM and wait (SIGKILL after graceMs); resolves with the exit code. */
  stop(graceMs?: number): Promise<number | null>;
  kill(): Promise<void>;
  metrics(): Promise<string>;
}

export interface StartOptions {
  kubeconfig: string;
  namespace?: string;
  args?: string[];
  env?: Record<string, string>;
  /** Wait for /readyz (default true). */
  waitReady?: boolean;
  /** Checkout whose bin/vigil.js runs (default: this one). */
  repoDir?: string;
  /** --log-level (default debug). */
  logLevel?: string;
  /** Where stdout and stderr go, line by line (default: a new temporary file). */
  logFile?: string;
  /** Every line the operator prints, with performance.now() when it was read. */
  onLine?: (line: string, at: number) => void;
  /** Wraps the command line (e.g. to run it in a memory cgroup). */
  wrap?: (argv: string[]) => { command: string; args: string[] };
}

export async function startOperator(opts: StartOptions): Promise<OperatorProcess> {
  const metricsPort = await freePort();
  const probePort = await freePort();
  const logFile = opts.logFile ?? join(mkdtempSync(join(tmpdir(), 'vigil-op-')), 'operator.log');
  const log = createWriteStream(logFile);
  const argv = [
    process.execPath,
    join(opts.repoDir ?? REPO_ROOT, 'bin', 'vigil.js'),
    'operator',
    '--kubeconfig',
    opts.kubeconfig,
    '--namespace',
    opts.namespace ?? 'vigil-system',
    '--metrics-bind-address',
    `127.0.0.1:${metricsPort}`,
    '--health-probe-bind-address',
    `127.0.0.1:${probePort}`,
    '--log-level',
    opts.logLevel ?? 'debug',
    ...(opts.args ?? []),
  ];
  const cmd = opts.wrap ? opts.wrap(argv) : { command: argv[0] ?? '', args: argv.slice(1) };
  const spawnedAt = performance.now();
  const child = spawn(cmd.command, cmd.args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...(opts.env ?? {}) },
  });
  const onLine = (line: string): void => {
    const at = performance.now();
    log.write(`${line}\n`);
    opts.onLine?.(line, at);
  };
  createInterface({ input: child.stdout }).on('line', onLine);
  createInterface({ input: child.stderr }).on('line', onLine);
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const p: OperatorProcess = {
    child,
    spawnedAt,
    metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
    probeUrl: `http://127.0.0.1:${probePort}`,
    logFile,
    async stop(graceMs = 15_000) {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const code = await exited;
      clearTimeout(t);
      log.end();
      return code;
    },
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await exited;
    },
    async metrics() {
      const r = await fetch(p.metricsUrl);
      return r.text();
    },
  };
  if (opts.waitReady !== false) {
    await waitFor(
      'vigil operator /readyz',
      async () => {
        if (child.exitCode !== null) throw new Error(`vigil operator exited (code ${child.exitCode})`);
        const r = await fetch(`${p.probeUrl}/readyz`);
        return r.status === 200;
      },
      60_000,
    );
  }
  return p;
}
