#!/usr/bin/env bash
# Builds the peer scanners of the offline benchmark (Polaris, kube-score) from their
# Go modules, pinned in bench/tools/<tool>/go.mod, into a per-version cache outside
# the repo (like scripts/controlplane-build.sh). Idempotent: a warm cache returns at
# once. One module per peer, so each binary is built with its own release's
# dependency versions.
#
# Prints one line per available peer on stdout: `<tool>\t<version>\t<binary>`.
# A peer that cannot be built is reported on stderr and left out (exit 0), unless
# --require is given (exit 1).
#
# Polaris: where the Go module proxy refuses github.com/fairwindsops/polaris (the one
# this project's machines reach answers 403), Polaris is reported missing and the
# benchmark runs without it.
#
# Usage: bench/peers-build.sh [--require] [--print-bin] [polaris|kube-score ...]
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
    polaris | kube-score) wanted+=("$a") ;;
    *) echo "peers-build: unknown argument $a" >&2; exit 2 ;;
  esac
done
[[ ${#wanted[@]} -gt 0 ]] || wanted=(polaris kube-score)

# The version a tool's go.mod pins: `require <module> <version>`.
pinned() { awk -v m="$2" '($1=="require" && $2==m) {print $3; exit} ($1==m && $2 ~ /^v/) {print $2; exit}' "$tools/$1/go.mod"; }

ks_version=$(pinned kube-score github.com/zegl/kube-score)
pol_pseudo=$(pinned polaris github.com/fairwindsops/polaris)
pol_release=$(awk '$1=="//" && $2=="release:" {print $3; exit}' "$tools/polaris/go.mod")
pol_commit=${pol_pseudo##*-}

version_of() { case "$1" in kube-score) echo "$ks_version" ;; polaris) echo "$pol_release" ;; esac; }
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

build_polaris() {
  local out work
  out=$(bin_of polaris)
  mkdir -p "$(dirname "$out")"
  work=$(mktemp -d "${TMPDIR:-/tmp}/vigil-polaris-build.XXXXXX")
  trap 'rm -rf "$work"' RETURN
  cp "$tools/polaris/go.mod" "$tools/polaris/go.sum" "$tools/polaris/tools.go" "$work/"
  local ldflags="-s -w -X main.Version=${pol_release#v} -X main.Commit=$pol_commit"
  if (cd "$work" && go mod download github.com/fairwindsops/polaris >/dev/null 2>&1); then
    (cd "$work" && go build -trimpath -ldflags "$ldflags" -o "$out.tmp" github.com/fairwindsops/polaris) &&
      mv "$out.tmp" "$out"
    return
  fi
  echo "peers-build: the Go module proxy refuses github.com/fairwindsops/polaris@$pol_pseudo; Polaris is left out" >&2
  return 1
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
    if [[ $t == kube-score ]]; then build_kube_score || true; else build_polaris || true; fi
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
