#!/usr/bin/env bash
# Builds the peer scanners of the offline benchmark (kube-score, trivy) from their
# Go modules, pinned in bench/tools/<tool>/go.mod, into a per-version cache outside
# the repo (like scripts/controlplane-build.sh). Idempotent: a warm cache returns at
# once. One module per peer, so each binary is built with its own release's
# dependency versions.
#
# Prints one line per available peer on stdout: `<tool>\t<version>\t<binary>`.
# A peer that cannot be built is reported on stderr and left out (exit 0), unless
# --require is given (exit 1).
#
# trivy is built as its release is (CGO off, GOEXPERIMENT=jsonv2, version stamped), with
# its misconfiguration checks embedded; the benchmark runs only `trivy config`.
#
# Polaris is not a peer: the Go module proxy refuses github.com/fairwindsops/polaris
# (403 from the proxy this project's machines reach), and its v10 tags lack the /v10
# module suffix, so no pinned go.mod here can build it.
#
# Usage: bench/peers-build.sh [--require] [--print-bin] [kube-score|trivy ...]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
tools="$here/tools"
cache="${VIGIL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vigil}/peers"
require=0
print_only=0
wanted=()
for a in "$@"; do
  case "$a" in
    --require) require=1 ;;
    --print-bin) print_only=1 ;;
    kube-score | trivy) wanted+=("$a") ;;
    *) echo "peers-build: unknown argument $a" >&2; exit 2 ;;
  esac
done
[[ ${#wanted[@]} -gt 0 ]] || wanted=(kube-score trivy)

# The version a tool's go.mod pins: `require <module> <version>`.
pinned() { awk -v m="$2" '($1=="require" && $2==m) {print $3; exit} ($1==m && $2 ~ /^v/) {print $2; exit}' "$tools/$1/go.mod"; }

ks_version=$(pinned kube-score github.com/zegl/kube-score)
trivy_version=$(pinned trivy github.com/aquasecurity/trivy)

version_of() { case "$1" in kube-score) echo "$ks_version" ;; trivy) echo "$trivy_version" ;; esac; }
bin_of() { echo "$cache/$1-$(version_of "$1")/$1"; }

failed=0
report_missing() {
  echo "peers-build: $1 not available: $2" >&2
  failed=1
}

build_kube_score() {
  local out
  out=$(bin_of kube-score)
  mkdir -p "$(dirname "$out")"
  (
    cd "$tools/kube-score"
    go build -trimpath -ldflags "-s -w -X main.version=${ks_version#v} -X main.commit=release -X main.date=1970-01-01T00:00:00Z" \
      -o "$out.tmp" github.com/zegl/kube-score/cmd/kube-score
  ) && mv "$out.tmp" "$out"
}

build_trivy() {
  local out
  out=$(bin_of trivy)
  mkdir -p "$(dirname "$out")"
  (
    cd "$tools/trivy"
    GOEXPERIMENT=jsonv2 go build -trimpath \
      -ldflags "-s -w -X github.com/aquasecurity/trivy/pkg/version/app.ver=${trivy_version#v}" \
      -o "$out.tmp" github.com/aquasecurity/trivy/cmd/trivy
  ) && mv "$out.tmp" "$out"
}

for t in "${wanted[@]}"; do
  bin=$(bin_of "$t")
  if [[ $print_only == 0 && ! -x "$bin" ]]; then
    if ! command -v go >/dev/null; then
      report_missing "$t" "Go toolchain not found"
      continue
    fi
    start=$(date +%s)
    echo "peers-build: building $t $(version_of "$t") into $(dirname "$bin") (first time only)" >&2
    export CGO_ENABLED=0 GOFLAGS=-mod=mod
    if [[ $t == kube-score ]]; then build_kube_score || true; else build_trivy || true; fi
    if [[ -x "$bin" ]]; then
      echo "peers-build: $t built in $(($(date +%s) - start))s" >&2
    fi
  fi
  if [[ -x "$bin" ]]; then
    printf '%s\t%s\t%s\n' "$t" "$(version_of "$t")" "$bin"
  elif [[ $print_only == 0 ]]; then
    report_missing "$t" "build failed (see above)"
  fi
done
if [[ $require == 1 && $failed == 1 ]]; then exit 1; fi
exit 0
