/** Runs `vigil operator` from source as a child process against an e2e control plane. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT, freePort, waitFor } from '../controlplane/controlplane.ts';

export interface OperatorProcess {
  child: ChildProcess;
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
}

export async function startOperator(opts: StartOptions): Promise<OperatorProcess> {
  const metricsPort = await freePort();
  const probePort = await freePort();
  const logFile = join(mkdtempSync(join(tmpdir(), 'vigil-op-')), 'operator.log');
  const log = createWriteStream(logFile);
  const child = spawn(
    process.execPath,
    [
      join(REPO_ROOT, 'bin', 'vigil.js'),
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
      'debug',
      ...(opts.args ?? []),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...(opts.env ?? {}) } },
  );
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const p: OperatorProcess = {
    child,
    metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
    probeUrl: `http://127.0.0.1:${probePort}`,
    logFile,
    async stop(graceMs = 15_000) {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const code = await exited;
      clearTimeout(t);
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
