/**
 * Upstream test data read from pinned Go modules (the Pod Security fixtures, the real-world
 * corpus, the OpenReports CRDs): `go mod download -json <module>` in the directory whose go.mod
 * and go.sum pin it prints the module's directory in the Go module cache, downloading it first
 * (and verifying it against go.sum) if it is not there yet. -mod=readonly: a go.sum without the
 * module's checksum is an error, never filled in. Nothing is copied into the repository.
 *
 * Used only by tests.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export interface GoModule {
  module: string;
  /** The version the pinning go.mod selects. */
  version: string;
  /** Its directory in the Go module cache. */
  dir: string;
}

function errorText(err: unknown): string {
  if (typeof err !== 'object' || err === null) return String(err);
  const e = err as { code?: unknown; stderr?: unknown; stdout?: unknown; message?: unknown };
  if (e.code === 'ENOENT') return 'the `go` command was not found on PATH';
  const parts = [e.stdout, e.stderr, e.message].filter((p) => typeof p === 'string' && p.trim() !== '');
  return parts.map((p) => String(p).trim()).join('\n');
}

const located = new Map<string, GoModule>();

/**
 * Locates `module` as pinned in `pinnedIn`/go.mod, downloading it if needed. Throws, naming
 * `what` (the test data it is for), the module and how to fetch it, when it cannot.
 */
export function goModule(module: string, pinnedIn: string, what: string): GoModule {
  const key = `${pinnedIn}\n${module}`;
  const known = located.get(key);
  if (known) return known;
  const fail = (message: string): never => {
    throw new Error(
      `${what}: ${message}\n` +
        `It comes from the Go module ${module} pinned in ${pinnedIn}/go.mod; install Go (>= 1.26) ` +
        `and run \`go mod download ${module}\` there (scripts/setup.sh controlplane does).`,
    );
  };
  let out = '';
  try {
    out = execFileSync('go', ['mod', 'download', '-json', module], {
      cwd: pinnedIn,
      encoding: 'utf8',
      env: { ...process.env, GOFLAGS: '-mod=readonly' },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 300_000,
    });
  } catch (err) {
    fail(`\`go mod download -json ${module}\` in ${pinnedIn} failed: ${errorText(err)}`);
  }
  let info: { Version?: unknown; Dir?: unknown; Error?: unknown } = {};
  try {
    info = JSON.parse(out) as typeof info;
  } catch {
    fail(`\`go mod download -json\` printed something that is not JSON:\n${out}`);
  }
  if (typeof info.Error === 'string') fail(`go mod download: ${info.Error}`);
  if (typeof info.Dir !== 'string' || typeof info.Version !== 'string' || !existsSync(info.Dir))
    return fail(`go mod download gave no module directory:\n${out}`);
  const m = { module, version: info.Version, dir: info.Dir };
  located.set(key, m);
  return m;
}
