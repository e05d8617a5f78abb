#!/usr/bin/env bash
# Builds the pinned binaries of the real node that `make test-node` runs: kubelet, kube-proxy and
# kube-scheduler from the control plane's Kubernetes module (e2e/controlplane/tools, so node and
# control plane are one version), containerd v2 with its runc shim and ctr from e2e/node/tools,
# and the pause program from the Kubernetes module's own source (build/pause/linux/pause.c),
# statically linked. Cached per version outside the repo, like scripts/controlplane-build.sh.
# runc, the CNI plugins, iptables and conntrack come from Debian (scripts/setup.sh node-runtime).
#   scripts/node-build.sh              build what is missing; print the two bin directories
#   scripts/node-build.sh --print-bin  print them without building
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
k8s_bin=$(bash "$here/scripts/controlplane-build.sh" --print-bin)
cp_mod="$here/e2e/controlplane/tools"
node_mod="$here/e2e/node/tools"
k8s_version=$(awk '$1=="k8s.io/kubernetes" && $2 ~ /^v/ {print $2; exit}' "$cp_mod/go.mod")
ctrd_version=$(awk '{ for (i = 1; i < NF; i++) if ($i == "github.com/containerd/containerd/v2" && $(i + 1) ~ /^v/) { print $(i + 1); exit } }' "$node_mod/go.mod")
cache="${VIGIL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vigil}"
ctrd_bin="$cache/containerd-$ctrd_version/bin"

if [[ "${1:-}" == "--print-bin" ]]; then echo "$k8s_bin"; echo "$ctrd_bin"; exit 0; fi

command -v go >/dev/null || { echo "node-build: Go toolchain not found (needs go >= 1.26)" >&2; exit 1; }
export CGO_ENABLED=0 GOFLAGS=-mod=mod
start=$(date +%s)
mkdir -p "$k8s_bin" "$ctrd_bin"

major=${k8s_version#v}; major=${major%%.*}
minor=${k8s_version#v*.}; minor=${minor%%.*}
pkg=k8s.io/component-base/version
ldflags="-s -w -X $pkg.gitVersion=$k8s_version -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
for t in kube-scheduler kube-proxy kubelet; do
  [[ -x "$k8s_bin/$t" ]] && continue
  echo "node-build: building $t $k8s_version (first time only)" >&2
  (cd "$cp_mod" && go build -trimpath -ldflags "$ldflags" -o "$k8s_bin/$t.tmp" "k8s.io/kubernetes/cmd/$t")
  mv "$k8s_bin/$t.tmp" "$k8s_bin/$t"
done

cpkg=github.com/containerd/containerd/v2/version
cflags="-s -w -X $cpkg.Version=$ctrd_version -X $cpkg.Revision=module -X $cpkg.Package=github.com/containerd/containerd/v2"
for t in containerd containerd-shim-runc-v2 ctr; do
  [[ -x "$ctrd_bin/$t" ]] && continue
  echo "node-build: building $t $ctrd_version (first time only)" >&2
  (cd "$node_mod" && go build -trimpath -tags no_btrfs -ldflags "$cflags" -o "$ctrd_bin/$t.tmp" "github.com/containerd/containerd/v2/cmd/$t")
  mv "$ctrd_bin/$t.tmp" "$ctrd_bin/$t"
done

if [[ ! -x "$k8s_bin/pause" ]]; then
  src=$(cd "$cp_mod" && go list -m -f '{{.Dir}}' k8s.io/kubernetes)/build/pause
  tag=$(awk '$1=="TAG" {print $3; exit}' "$src/Makefile")
  command -v gcc >/dev/null || { echo "node-build: gcc not found (the pause program is C)" >&2; exit 1; }
  gcc -Os -Wall -Werror -static -DVERSION="v$tag-vigil" -o "$k8s_bin/pause.tmp" "$src/linux/pause.c"
  strip "$k8s_bin/pause.tmp"
  mv "$k8s_bin/pause.tmp" "$k8s_bin/pause"
  echo "$tag" > "$k8s_bin/pause.version"
fi
[[ $(( $(date +%s) - start )) -gt 1 ]] && echo "node-build: done in $(( $(date +%s) - start ))s" >&2
echo "$k8s_bin"
echo "$ctrd_bin"
