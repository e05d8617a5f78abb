/**
 * The official Pod Security Admission fixtures, read at test time from the Go module that holds
 * them: k8s.io/pod-security-admission, pinned (through k8s.io/kubernetes) in
 * e2e/controlplane/tools/go.mod. `go mod download -json` in that module prints the module's
 * directory in the Go module cache, downloading it first if it is not there yet (scripts/setup.sh
 * controlplane builds from the same module, so it normally is).
 *
 * Upstream layout (test/fixtures_test.go in the module): test/testdata/<level>/v1.<minor>/{pass,fail}/
 * holds one complete fixture set per policy version. `base.yaml` (and, at restricted,
 * `base_linux.yaml` and `base_windows.yaml`) is the minimal valid pod of the level; every other
 * file is `<lower-cased check id><index>.yaml`, generated from that minimal pod by the generator
 * of the check (test/fixtures_<check id>.go). The harness (test/run.go) requires pass/ pods to be
 * admitted and fail/ pods to be rejected at the folder's level and version.
 *
 * Used only by tests: rules/pod-security/conformance.test.ts and cli/cli.test.ts.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { goModule } from './go-module.ts';

export const PSA_MODULE = 'k8s.io/pod-security-admission';
/** The policy version whose fixture folder the tests read. */
export const PSS_POLICY_VERSION = 'v1.37';

export type PssLevel = 'baseline' | 'restricted';
export type PssOutcome = 'pass' | 'fail';

const here = dirname(fileURLToPath(import.meta.url));
/** The Go module that pins the control plane and, through it, k8s.io/pod-security-admission. */
export const TOOLS_MODULE = resolve(here, '../../../e2e/controlplane/tools');

export interface PsaModule {
  /** The module version selected by TOOLS_MODULE's go.mod, e.g. v0.37.2. */
  version: string;
  /** Its directory in the Go module cache. */
  dir: string;
}

export interface UpstreamFixture {
  /** `<level>/<outcome>/<file>.yaml`, as the tests name cases. */
  path: string;
  /** Absolute path of the file in the module cache. */
  file: string;
  level: PssLevel;
  expect: PssOutcome;
  /** The check the fixture was generated for; null for the minimal valid pods (base*.yaml). */
  check: string | null;
}

function fail(message: string): never {
  throw new Error(
    `PSS conformance fixtures: ${message}\n` +
      `They come from the Go module ${PSA_MODULE} pinned in ${TOOLS_MODULE}/go.mod; ` +
      `install Go (>= 1.26) and run \`go mod download ${PSA_MODULE}\` there (scripts/setup.sh controlplane does).`,
  );
}

let located: PsaModule | undefined;

/** Locates the pinned k8s.io/pod-security-admission module; throws with a clear message if it cannot. */
export function psaModule(): PsaModule {
  located ??= goModule(PSA_MODULE, TOOLS_MODULE, 'PSS conformance fixtures');
  return { version: located.version, dir: located.dir };
}

/** The upstream fixture folder for a level and outcome at PSS_POLICY_VERSION. */
export function fixtureDir(level: PssLevel, outcome: PssOutcome): string {
  const { dir, version } = psaModule();
  const d = join(dir, 'test', 'testdata', level, PSS_POLICY_VERSION, outcome);
  if (!existsSync(d) || !statSync(d).isDirectory())
    fail(`${PSA_MODULE}@${version} has no fixture folder ${d}`);
  return d;
}

/**
 * The check ids defined by the module's policy package (policy/check_*.go: `ID: "<id>"` in the
 * check's definition, or `CheckID = "<id>"` for the ids that restricted checks override). Fixture
 * file names are these ids lower-cased.
 */
export function upstreamCheckIds(): string[] {
  const { dir } = psaModule();
  const policyDir = join(dir, 'policy');
  const ids = new Set<string>();
  for (const f of readdirSync(policyDir)) {
    if (!/^check_\w+\.go$/.test(f) || f.endsWith('_test.go')) continue;
    const src = readFileSync(join(policyDir, f), 'utf8');
    for (const m of src.matchAll(/(?:\bID:\s*|CheckID\s*=\s*)"(\w+)"/g)) if (m[1]) ids.add(m[1]);
  }
  if (ids.size === 0) fail(`no check ids found in ${policyDir}/check_*.go`);
  return [...ids].sort();
}

const MINIMAL_VALID_POD = /^base(?:_linux|_windows)?$/;

/** The check a fixture file was generated for, from its name; null for base*.yaml. */
export function checkOfFixture(
  name: string,
  checkIds: readonly string[],
  outcome: PssOutcome,
): string | null {
  const stem = name.replace(/\.yaml$/, '');
  if (MINIMAL_VALID_POD.test(stem)) {
    if (outcome === 'fail') fail(`a minimal valid pod is in a fail folder: ${name}`);
    return null;
  }
  const m = /^(.+?)\d+$/.exec(stem);
  const matches = m ? checkIds.filter((id) => id.toLowerCase() === m[1]) : [];
  if (matches.length !== 1 || matches[0] === undefined)
    fail(`fixture ${name} is not named <check id><index>.yaml for one of ${checkIds.join(', ')}`);
  return matches[0];
}

/** Every fixture of PSS_POLICY_VERSION, both levels, pass and fail, sorted by path. */
export function upstreamFixtures(): UpstreamFixture[] {
  const checkIds = upstreamCheckIds();
  const out: UpstreamFixture[] = [];
  for (const level of ['baseline', 'restricted'] as const) {
    for (const outcome of ['pass', 'fail'] as const) {
      const d = fixtureDir(level, outcome);
      for (const name of readdirSync(d).sort()) {
        if (!name.endsWith('.yaml')) continue;
        out.push({
          path: `${level}/${outcome}/${name}`,
          file: join(d, name),
          level,
          expect: outcome,
          check: checkOfFixture(name, checkIds, outcome),
        });
      }
    }
  }
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
