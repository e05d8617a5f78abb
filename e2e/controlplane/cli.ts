/**
 * make cluster-up / cluster-down: a detached local control plane whose kubeconfig
 * is .vigil/kubeconfig and whose kubectl is .vigil/bin/kubectl. Both idempotent.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, unlinkSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ControlPlane,
  REPO_ROOT,
  apiGet,
  ensureBinaries,
  stopFromState,
  type ControlPlaneState,
} from './controlplane.ts';

const vigilDir = join(REPO_ROOT, '.vigil');
const stateDir = join(vigilDir, 'cluster');

async function running(): Promise<boolean> {
  const f = join(stateDir, 'state.json');
  if (!existsSync(f)) return false;
  const state = JSON.parse(readFileSync(f, 'utf8')) as ControlPlaneState;
  try {
    return (await apiGet(state, '/readyz', 2000)).status === 200;
  } catch {
    return false;
  }
}

async function up(): Promise<void> {
  if (await running()) {
    console.log('cluster-up: already running; KUBECONFIG=.vigil/kubeconfig');
    return;
  }
  await stopFromState(stateDir);
  rmSync(stateDir, { recursive: true, force: true });
  const binDir = ensureBinaries();
  mkdirSync(join(vigilDir, 'bin'), { recursive: true });
  const kubectl = join(vigilDir, 'bin', 'kubectl');
  if (existsSync(kubectl)) unlinkSync(kubectl);
  symlinkSync(join(binDir, 'kubectl'), kubectl);
  const started = Date.now();
  const cp = await ControlPlane.start({ dir: stateDir, detached: true });
  copyFileSync(cp.kubeconfig, join(vigilDir, 'kubeconfig'));
  console.log(`cluster-up: control plane ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  console.log('  export KUBECONFIG=.vigil/kubeconfig; .vigil/bin/kubectl get --raw /readyz');
}

async function down(): Promise<void> {
  const had = await stopFromState(stateDir);
  rmSync(stateDir, { recursive: true, force: true });
  rmSync(join(vigilDir, 'kubeconfig'), { force: true });
  console.log(had ? 'cluster-down: stopped and removed' : 'cluster-down: nothing was running');
}

const cmd = process.argv[2];
if (cmd === 'up') await up();
else if (cmd === 'down') await down();
else {
  console.error('usage: node e2e/controlplane/cli.ts up|down');
  process.exit(2);
}
