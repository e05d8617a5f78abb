#!/usr/bin/env bash
# Prints the directory holding the Prometheus Operator's CRDs (monitoring.coreos.com: ServiceMonitor,
# PrometheusRule, ...) of a pinned release, taken from its Go module through the Go module proxy
# (verified against the checksum database and the hash below). The chart e2e test installs the
# ServiceMonitor and PrometheusRule CRDs to validate the chart's objects of those kinds with the API
# server. Nothing is copied into the repository. Idempotent: a warm module cache returns at once.
set -euo pipefail
module=github.com/prometheus-operator/prometheus-operator
version=v0.85.0
sum='h1:M5xLCLEoaW2IJfnuCwFzzpL+jSVQu3KGT84Pye+fW8s='
command -v go >/dev/null || { echo "prometheus-operator-crds: Go toolchain not found" >&2; exit 1; }
# Outside any module, so no go.mod of this repository is consulted or changed.
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
json=$(cd "$tmp" && GOFLAGS= go mod download -json "$module@$version")
dir=$(sed -n 's/^\t"Dir": "\(.*\)",$/\1/p' <<<"$json")
got=$(sed -n 's/^\t"Sum": "\(.*\)",$/\1/p' <<<"$json")
[[ "$got" == "$sum" ]] || { echo "prometheus-operator-crds: $module@$version has hash $got, want $sum" >&2; exit 1; }
crds="$dir/example/prometheus-operator-crd"
[[ -f "$crds/monitoring.coreos.com_servicemonitors.yaml" ]] || { echo "prometheus-operator-crds: no CRDs in $crds" >&2; exit 1; }
echo "$crds"
