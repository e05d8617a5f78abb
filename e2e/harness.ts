/**
 * Mocha global fixture for e2e suites: one real control plane for the run,
 * started before the first suite and stopped after the last, also when a suite
 * fails or the run is interrupted. Suites reach it through `cluster()`.
 */
import { ControlPlane } from './controlplane/controlplane.ts';

let current: ControlPlane | undefined;

export function cluster(): ControlPlane {
  if (!current) throw new Error('control plane not started (run e2e suites with --config .mocharc.e2e.cjs)');
  return current;
}

async function teardown(): Promise<void> {
  const cp = current;
  current = undefined;
  if (cp) await cp.stop();
}

export async function mochaGlobalSetup(): Promise<void> {
  const started = Date.now();
  current = await ControlPlane.start();
  console.log(
    `  control plane ready in ${((Date.now() - started) / 1000).toFixed(1)} s (${current.state.dir})`,
  );
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      void teardown().finally(() => process.exit(130));
    });
  }
}

export async function mochaGlobalTeardown(): Promise<void> {
  await teardown();
}
