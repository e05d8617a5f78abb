#!/usr/bin/env bash
# make bench: both benchmarks, one after the other (they would compete for the CPUs).
#   1. offline: Vigil, kube-score and trivy config on the same generated corpus (bench/offline.ts;
#      builds the pinned peers on first use) → bench/results/offline*.json;
#   2. in cluster: the operator against a local control plane with 10,000 pods
#      (bench/cluster.ts) → bench/results/cluster*.json;
#   3. custom CEL rules: bench/cel.ts (offline, → bench/results/cel.json) and bench/cluster.ts
#      --custom-rules (→ bench/results/cluster-custom-rules/);
#   4. audit webhook: 2,000 audit events/s for a minute into the operator's receiver
#      (bench/audit.ts) → bench/results/audit.json;
#   5. sharding: 1, 2 and 3 `--sharding` replicas on 5,000 pods, per-1k-pod CPU and memory and a
#      linear projection to 100k pods (bench/sharding.ts) → bench/results/sharding.json.
#   6. image analysis: 50 distinct images of 100–470 MiB built here, pushed to a registry the
#      bench starts, analysed one per process and all in one process (bench/images.ts)
#      → bench/results/images.json.
# Both rewrite their generated part of BENCHMARKS.md. Extra arguments go to bench/cluster.ts
# (e.g. --pods 2000). BENCH_SKIP_OFFLINE=1, BENCH_SKIP_CLUSTER=1, BENCH_SKIP_CEL=1, BENCH_SKIP_AUDIT=1,
# BENCH_SKIP_SHARDING=1 or BENCH_SKIP_IMAGES=1 leave one out; BENCH_IMAGES=N sets the number of
# images (bench/images.ts --images).
# Needs Node 24 (node_modules/.bin), Go for the peers and the control-plane binaries
# (scripts/setup.sh). On this 2-core machine the whole run took 853 s (BENCHMARKS.md).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"

secs() { date +%s; }
start=$(secs)
echo "bench: load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"

if [[ "${BENCH_SKIP_OFFLINE:-}" != 1 ]]; then
  t=$(secs)
  node bench/offline.ts
  echo "bench: offline benchmark took $(( $(secs) - t )) s"
fi

if [[ "${BENCH_SKIP_CLUSTER:-}" != 1 ]]; then
  t=$(secs)
  node bench/cluster.ts "$@"
  echo "bench: in-cluster benchmark took $(( $(secs) - t )) s"
fi

if [[ "${BENCH_SKIP_CEL:-}" != 1 ]]; then
  # Custom CEL rules (issue 15): 10 rules on the 10k corpus offline, and in the cluster.
  t=$(secs)
  node bench/cel.ts --out bench/results/cel.json
  node bench/cluster.ts --custom-rules --no-markdown --no-restart --out bench/results/cluster-custom-rules "$@"
  echo "bench: custom-rule benchmarks took $(( $(secs) - t )) s"
fi

if [[ "${BENCH_SKIP_AUDIT:-}" != 1 ]]; then
  t=$(secs)
  node bench/audit.ts
  echo "bench: audit webhook benchmark took $(( $(secs) - t )) s"
fi

if [[ "${BENCH_SKIP_SHARDING:-}" != 1 ]]; then
  t=$(secs)
  node bench/sharding.ts --pods 5000 --namespaces 50 --shards 1,2,3
  echo "bench: sharding benchmark took $(( $(secs) - t )) s"
fi
if [[ "${BENCH_SKIP_IMAGES:-}" != 1 ]]; then
  t=$(secs)
  node bench/images.ts ${BENCH_IMAGES:+--images "$BENCH_IMAGES"}
  echo "bench: image analysis benchmark took $(( $(secs) - t )) s"
fi

echo "bench: total $(( $(secs) - start )) s; results in bench/results/, summary in BENCHMARKS.md"
