/**
 * The real-world corpus (issue 19): public install manifests, read at test time from the Go
 * modules that hold them, pinned with their checksums in operator/src/testing/corpus/go.mod and
 * go.sum (Kubernetes itself: in e2e/controlplane/tools/go.mod, which already pins it for the
 * control plane). `go mod download -json <module>` there prints the module's directory in the Go
 * module cache, downloading (and verifying against go.sum) first if it is not there yet;
 * scripts/setup.sh controlplane warms the cache. Nothing is copied into the repository.
 *
 * Only sources published as Go modules can be pinned this way. Of the manifests issue 19 names,
 * Argo CD (manifests/install.yaml) is; kube-prometheus is not on the Go module proxy, so its core,
 * the Prometheus Operator's own example manifests, stands in for it. kubernetes-goat, badPods,
 * microservices-demo and the Kubernetes Dashboard chart are not Go modules on the proxy; the
 * privileged node agents among Kubernetes' own cluster add-ons give the corpus the host-level
 * workloads they would have.
 *
 * Used only by tests: rules/corpus.test.ts.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { goModule } from './go-module.ts';
import { TOOLS_MODULE } from './pss-fixtures.ts';

const here = dirname(fileURLToPath(import.meta.url));
/** The Go module whose go.mod and go.sum pin the corpus. */
export const CORPUS_MODULE = resolve(here, 'corpus');

export interface CorpusSource {
  /** Short name, the key of the expected counts. */
  name: string;
  /** Go module path, required in the go.mod of `pinnedIn`. */
  module: string;
  /** The directory of the go.mod and go.sum that pin the module. */
  pinnedIn: string;
  /** Files or directories inside the module, scanned together as one `vigil scan` run. */
  paths: string[];
}

export const CORPUS_SOURCES: readonly CorpusSource[] = [
  {
    name: 'argo-cd',
    module: 'github.com/argoproj/argo-cd/v3',
    pinnedIn: CORPUS_MODULE,
    paths: ['manifests/install.yaml'],
  },
  {
    name: 'prometheus-operator',
    module: 'github.com/prometheus-operator/prometheus-operator',
    pinnedIn: CORPUS_MODULE,
    paths: ['example/rbac/prometheus-operator', 'example/rbac/prometheus', 'example/admission-webhook'],
  },
  {
    name: 'kubernetes-addons',
    module: 'k8s.io/kubernetes',
    pinnedIn: TOOLS_MODULE,
    paths: [
      'cluster/addons/dns/nodelocaldns',
      'cluster/addons/ip-masq-agent',
      'cluster/addons/kube-network-policies',
    ],
  },
];

export interface LocatedModule {
  module: string;
  /** The version CORPUS_MODULE's go.mod selects. */
  version: string;
  /** Its directory in the Go module cache. */
  dir: string;
}

function fail(module: string, pinnedIn: string, message: string): never {
  throw new Error(
    `real-world corpus: ${message}\n` +
      `It comes from the Go module ${module} pinned in ${pinnedIn}/go.mod; install Go (>= 1.26) ` +
      `and run \`go mod download ${module}\` there (scripts/setup.sh controlplane does).`,
  );
}

/** Locates a pinned corpus module, downloading it if needed; throws with a clear message if it cannot. */
export function corpusModule(module: string, pinnedIn: string): LocatedModule {
  return goModule(module, pinnedIn, 'real-world corpus');
}

/** The absolute paths of a source's files and directories; throws if one is missing. */
export function corpusPaths(source: CorpusSource): { version: string; paths: string[] } {
  const { version, dir } = corpusModule(source.module, source.pinnedIn);
  const paths = source.paths.map((p) => join(dir, p));
  for (const p of paths)
    if (!existsSync(p))
      fail(source.module, source.pinnedIn, `${source.module}@${version} has no ${p.slice(dir.length + 1)}`);
  return { version, paths };
}
