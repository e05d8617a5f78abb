/**
 * Mocha global fixture for e2e suites: one real control plane for the run,
 * started before the first suite and stopped after the last, also when a suite
 * fails or the run is interrupted. Suites reach it through `cluster()`.
 *
 * With VIGIL_E2E_NODE=1 (.mocharc.node.cjs, make test-node) the control plane is
 * started reachable from pods and a real node joins it (e2e/node/node.ts): suites
 * reach the node through `node()`.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ControlPlane } from './controlplane/controlplane.ts';
import type { LocalNode } from './node/node.ts';

let current: ControlPlane | undefined;
let currentNode: LocalNode | undefined;

export function cluster(): ControlPlane {
  if (!current) throw new Error('control plane not started (run e2e suites with --config .mocharc.e2e.cjs)');
  return current;
}

export function node(): LocalNode {
  if (!currentNode) throw new Error('no node in this run (node suites run with --config .mocharc.node.cjs)');
  return currentNode;
}

async function teardown(): Promise<void> {
  const n = currentNode;
  currentNode = undefined;
  if (n) await n.stop();
  const cp = current;
  current = undefined;
  if (cp) await cp.stop();
}

export async function mochaGlobalSetup(): Promise<void> {
  const started = Date.now();
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      void teardown().finally(() => process.exit(130));
    });
  }
  if (process.env['VIGIL_E2E_NODE'] === '1') {
    const { LocalNode, nodeControlPlaneOptions } = await import('./node/node.ts');
    current = await ControlPlane.start(nodeControlPlaneOptions(mkdtempSync(join(tmpdir(), 'vigil-cp-'))));
    currentNode = await LocalNode.start(current);
    console.log(
      `  control plane and node ready in ${((Date.now() - started) / 1000).toFixed(1)} s (${current.state.dir})`,
    );
    return;
  }
  current = await ControlPlane.start();
  console.log(
    `  control plane ready in ${((Date.now() - started) / 1000).toFixed(1)} s (${current.state.dir})`,
  );
}

export async function mochaGlobalTeardown(): Promise<void> {
  await teardown();
}
