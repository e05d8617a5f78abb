/**
 * The control plane's components as containers, driven by testcontainers, for
 * machines with a Docker engine. No image can be pulled here, so the image is
 * built locally FROM scratch with the same static binaries the process path
 * runs. Host networking keeps the loopback-only ports and certificates of the
 * process path unchanged; the state directory is bind-mounted at its own path.
 */
import { createWriteStream, existsSync, linkSync, mkdirSync, writeFileSync, copyFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

// testcontainers' reaper (Ryuk) is itself an image that would have to be pulled.
process.env['TESTCONTAINERS_RYUK_DISABLED'] = 'true';
const { GenericContainer } = await import('testcontainers');
type Started = Awaited<ReturnType<InstanceType<typeof GenericContainer>['start']>>;

const BINARIES = ['etcd', 'kube-apiserver', 'kube-controller-manager'];

/** Builds (once per binary set) the local image `vigil-controlplane:<version>`. */
export async function buildControlPlaneImage(binDir: string): Promise<string> {
  const version = basename(dirname(binDir)); // k8s-v1.37.2-etcd-v3.7.0
  const tag = `vigil-controlplane:${version.replace(/[^a-zA-Z0-9_.-]/g, '-')}`;
  const ctx = join(dirname(binDir), 'image');
  mkdirSync(ctx, { recursive: true });
  for (const b of BINARIES) {
    const target = join(ctx, b);
    if (existsSync(target)) continue;
    try {
      linkSync(join(binDir, b), target);
    } catch {
      copyFileSync(join(binDir, b), target);
    }
  }
  writeFileSync(
    join(ctx, 'Dockerfile'),
    ['FROM scratch', ...BINARIES.map((b) => `COPY ${b} /${b}`), 'USER 0', 'ENTRYPOINT ["/etcd"]', ''].join(
      '\n',
    ),
  );
  await GenericContainer.fromDockerfile(ctx).withCache(true).build(tag, { deleteOnExit: false });
  return tag;
}

export interface ComponentContainer {
  name: string;
  container: Started;
  stop(timeoutMs?: number): Promise<void>;
}

/** Starts one component in a container; its output goes to `<dir>/<name>.log`. */
export async function startComponentContainer(
  image: string,
  dir: string,
  name: string,
  bin: string,
  args: string[],
): Promise<ComponentContainer> {
  const container = await new GenericContainer(image)
    .withNetworkMode('host')
    .withBindMounts([{ source: dir, target: dir, mode: 'rw' }])
    .withEntrypoint([`/${bin}`])
    .withCommand(args)
    .withStartupTimeout(60_000)
    .start();
  const log = createWriteStream(join(dir, `${name}.log`), { flags: 'a' });
  const stream = await container.logs();
  stream.pipe(log);
  return {
    name,
    container,
    async stop(timeoutMs = 5000) {
      await container.stop({ timeout: timeoutMs, remove: true });
    },
  };
}
