#!/usr/bin/env bash
# Renders the kustomize sources in config/default into the single install bundle
# manifests/install.yaml, with the kubectl (built-in kustomize) of the pinned control plane.
#
#   scripts/render-manifests.sh          write manifests/install.yaml     (make manifests)
#   scripts/render-manifests.sh --check  exit 1, naming the file, when it is out of date
#
# --load-restrictor=LoadRestrictionsNone: config/crd references the generated CRDs in crds/
# (one source of truth) instead of holding copies, and they lie outside its kustomization root.
# KUBECTL overrides the kubectl used (any kubectl >= 1.27 has kustomize v5 built in).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/manifests/install.yaml"
rel=${out#"$root/"}

check=0
case "${1:-}" in
  --check) check=1 ;;
  '') ;;
  *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

kubectl=${KUBECTL:-}
if [[ -z "$kubectl" ]]; then
  kubectl="$(bash "$root/scripts/controlplane-build.sh")/kubectl"
fi

body=$("$kubectl" kustomize --load-restrictor=LoadRestrictionsNone "$root/config/default")
rendered="# GENERATED from config/default by scripts/render-manifests.sh (make manifests). Do not edit by hand.
# Vigil install bundle: CRDs, RBAC, the operator Deployment and its NetworkPolicies in vigil-system.
#   kubectl apply --server-side -f $rel
# The operator image is pinned by digest in config/manager/kustomization.yaml; a release sets the
# digest of the image it built (the all-zeros digest of an unreleased tree is a placeholder).
$body"

if [[ $check == 1 ]]; then
  if [[ ! -f "$out" ]] || [[ "$(cat "$out")" != "$rendered" ]]; then
    echo "$rel is out of date with config/ and crds/: run make manifests" >&2
    exit 1
  fi
  exit 0
fi
mkdir -p "$(dirname "$out")"
printf '%s\n' "$rendered" > "$out"
echo "wrote $rel"
