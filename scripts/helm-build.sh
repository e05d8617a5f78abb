#!/usr/bin/env bash
# Builds the pinned Helm CLI (helm.sh/helm/v4, version in charts/tools/go.mod) from its Go module
# into a per-version cache outside the repo, like scripts/controlplane-build.sh builds kubectl.
# Prints the bin directory (helm is "$dir/helm"). Idempotent: a warm cache returns at once.
#
#   scripts/helm-build.sh              build if missing, print the bin directory
#   scripts/helm-build.sh --print-bin  print the bin directory without building
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
mod="$here/charts/tools"
helm_version=$(awk '$1=="require" && $2=="helm.sh/helm/v4" {print $3; exit} $1=="helm.sh/helm/v4" && $2 ~ /^v/ {print $2; exit}' "$mod/go.mod")
[[ -n "$helm_version" ]] || { echo "helm-build: no helm.sh/helm/v4 version in $mod/go.mod" >&2; exit 1; }
cache="${VIGIL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vigil}"
bin="$cache/helm-$helm_version/bin"

if [[ "${1:-}" == "--print-bin" ]]; then echo "$bin"; exit 0; fi
if [[ -x "$bin/helm" ]]; then echo "$bin"; exit 0; fi

command -v go >/dev/null || { echo "helm-build: Go toolchain not found (needs go >= 1.26)" >&2; exit 1; }
mkdir -p "$bin"
start=$(date +%s)
echo "helm-build: building Helm $helm_version into $bin (first time only)" >&2
# The ldflags of Helm's own Makefile for a tagged release build (version, empty metadata).
pkg=helm.sh/helm/v4/internal/version
ldflags="-s -w -X $pkg.version=$helm_version -X $pkg.metadata= -X $pkg.gitTreeState=clean"
cd "$mod"
export CGO_ENABLED=0 GOFLAGS=-mod=mod
go build -trimpath -ldflags "$ldflags" -o "$bin/helm.tmp" helm.sh/helm/v4/cmd/helm
mv "$bin/helm.tmp" "$bin/helm"
echo "helm-build: built in $(( $(date +%s) - start ))s" >&2
echo "$bin"
