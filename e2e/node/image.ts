/** The image make image built, and install.yaml rendered with it, for the suites on a real node. */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../controlplane/controlplane.ts';

/** The reference `make image` pushed (.vigil/image/reference): host:port/vigil@sha256:… */
export function builtImage(): string {
  const f = join(REPO_ROOT, '.vigil', 'image', 'reference');
  if (!existsSync(f)) throw new Error(`${f} is missing: run make image first (make test-node does)`);
  const ref = readFileSync(f, 'utf8').trim();
  if (!/^[\w.:-]+\/vigil@sha256:[0-9a-f]{64}$/.test(ref))
    throw new Error(`${f} holds "${ref}", not a registry reference by digest (make image without --no-push)`);
  return ref;
}

/** install.yaml rendered by the same command as manifests/install.yaml, with another image. */
export function renderInstall(image: string): string {
  const out = join(mkdtempSync(join(tmpdir(), 'vigil-install-')), 'install.yaml');
  execFileSync('bash', [join(REPO_ROOT, 'scripts', 'render-manifests.sh'), '--image', image, '--out', out], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return out;
}
