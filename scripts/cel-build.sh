#!/usr/bin/env bash
# Builds Vigil's CEL evaluator (operator/cel: the API server's own CEL compiler and
# ValidatingAdmissionPolicy semantics from the pinned k8s.io/apiserver) to WebAssembly,
# once per input: the output is cached in ~/.cache/vigil/cel-<hash>.wasm (the hash covers
# the Go sources, go.mod, go.sum and the Go version) and copied to .vigil/cel/vigil-cel.wasm,
# where operator/src/engine/cel/wasm.ts finds it in a clone (scripts/build.ts copies it into
# dist/ for the package). Prints the path of the .wasm.
#   scripts/cel-build.sh [--print]     (--print: the path, without building)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
mod="$here/operator/cel"
out="$here/.vigil/cel/vigil-cel.wasm"
if [[ "${1:-}" == "--print" ]]; then echo "$out"; exit 0; fi
command -v go >/dev/null || { echo "cel-build: Go toolchain not found (needs go >= 1.26)" >&2; exit 1; }
export GOTOOLCHAIN=${GOTOOLCHAIN:-auto}
k8s_version=$(awk '$1=="k8s.io/apiserver" && $2 ~ /^v/ {print $2; exit}' "$mod/go.mod")
pinned=$(awk '$1=="k8s.io/apiserver" && $2=="=>" {print $4; exit}' "$here/e2e/controlplane/tools/go.mod")
if [[ "$k8s_version" != "$pinned" ]]; then
  echo "cel-build: operator/cel requires k8s.io/apiserver $k8s_version but the control plane pins $pinned (e2e/controlplane/tools/go.mod)" >&2
  exit 1
fi
hash=$( (cd "$mod" && cat go.mod go.sum ./*.go; go version) | sha256sum | cut -c1-16)
cache="${VIGIL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vigil}"
wasm="$cache/cel-$hash.wasm"
if [[ ! -s "$wasm" ]]; then
  mkdir -p "$cache"
  start=$(date +%s)
  echo "cel-build: building the CEL evaluator (k8s.io/apiserver $k8s_version) to WebAssembly (first time: minutes)" >&2
  # The same version stamp as the control plane's binaries (scripts/controlplane-build.sh): the
  # CEL environment's compatibility version derives from it.
  minor=${k8s_version#v*.}; minor=${minor%%.*}
  pkg=k8s.io/component-base/version
  kube="v1.$minor.${k8s_version##*.}"
  ldflags="-s -w -X $pkg.gitVersion=$kube -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
  (cd "$mod" && GOFLAGS=-mod=readonly GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -trimpath -ldflags "$ldflags" -o "$wasm.tmp" .)
  mv "$wasm.tmp" "$wasm"
  echo "cel-build: built in $(( $(date +%s) - start ))s, $(stat -c %s "$wasm") bytes" >&2
fi
mkdir -p "$(dirname "$out")"
if ! cmp -s "$wasm" "$out"; then cp "$wasm" "$out.tmp" && mv "$out.tmp" "$out"; fi
echo "$out"
