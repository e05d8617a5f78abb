#!/usr/bin/env bash
# Builds the pinned control-plane binaries (kube-apiserver, kube-controller-manager,
# kubectl, etcd) from their Go modules into a per-version cache outside the repo,
# the way envtest keeps its assets. Idempotent: a warm cache returns at once.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
mod="$here/e2e/controlplane/tools"
k8s_version=$(awk '$1=="k8s.io/kubernetes" && $2 ~ /^v/ {print $2; exit}' "$mod/go.mod")
etcd_version=$(awk '$1=="go.etcd.io/etcd/server/v3" && $2 ~ /^v/ {print $2; exit}' "$mod/go.mod")
cache="${VIGIL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vigil}"
bin="$cache/k8s-$k8s_version-etcd-$etcd_version/bin"
tools=(kube-apiserver kube-controller-manager kubectl etcd)

if [[ "${1:-}" == "--print-bin" ]]; then echo "$bin"; exit 0; fi

missing=0
for t in "${tools[@]}"; do [[ -x "$bin/$t" ]] || missing=1; done
if [[ $missing == 0 ]]; then echo "$bin"; exit 0; fi

command -v go >/dev/null || { echo "controlplane-build: Go toolchain not found (needs go >= 1.26)" >&2; exit 1; }
mkdir -p "$bin"
major=${k8s_version#v}; major=${major%%.*}
minor=${k8s_version#v*.}; minor=${minor%%.*}
pkg=k8s.io/component-base/version
ldflags="-s -w -X $pkg.gitVersion=$k8s_version -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
ldflags="$ldflags -X k8s.io/client-go/pkg/version.gitVersion=$k8s_version -X k8s.io/client-go/pkg/version.gitMajor=$major -X k8s.io/client-go/pkg/version.gitMinor=$minor"
start=$(date +%s)
echo "controlplane-build: building Kubernetes $k8s_version and etcd $etcd_version into $bin (first time only; slow)" >&2
cd "$mod"
export CGO_ENABLED=0 GOFLAGS=-mod=mod
for t in kube-apiserver kube-controller-manager kubectl; do
  [[ -x "$bin/$t" ]] && continue
  go build -trimpath -ldflags "$ldflags" -o "$bin/$t.tmp" "k8s.io/kubernetes/cmd/$t"
  mv "$bin/$t.tmp" "$bin/$t"
  echo "controlplane-build: $t done after $(( $(date +%s) - start ))s" >&2
done
if [[ ! -x "$bin/etcd" ]]; then
  go build -trimpath -ldflags "-s -w" -o "$bin/etcd.tmp" go.etcd.io/etcd/server/v3
  mv "$bin/etcd.tmp" "$bin/etcd"
fi
echo "controlplane-build: all built in $(( $(date +%s) - start ))s" >&2
echo "$bin"
