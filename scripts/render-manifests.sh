#!/usr/bin/env bash
# Renders the kustomize sources in config/default into the single install bundle
# manifests/install.yaml, with the kubectl (built-in kustomize) of the pinned control plane.
#
#   scripts/render-manifests.sh                 write manifests/install.yaml     (make manifests)
#   scripts/render-manifests.sh --check         exit 1, naming the file, when it is out of date
#   scripts/render-manifests.sh --set-image REF pin the operator image (config/manager/kustomization.yaml)
#                                               to REF, then write install.yaml  (make manifests IMAGE=REF)
#   scripts/render-manifests.sh --image REF --out FILE
#                                               the same bundle with another image, written to FILE
#                                               (config/ untouched: e2e installs what make image built)
# REF is name[:tag]@sha256:<64 hex>: the operator image is always pinned by digest.
#
# --load-restrictor=LoadRestrictionsNone: config/crd references the generated CRDs in crds/
# (one source of truth) instead of holding copies, and they lie outside its kustomization root.
# KUBECTL overrides the kubectl used (any kubectl >= 1.27 has kustomize v5 built in).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/manifests/install.yaml"
rel=${out#"$root/"}

check=0 set_image='' image='' out_override=''
usage() { echo "usage: $0 [--check | --set-image REF | --image REF --out FILE]" >&2; exit 2; }
while [[ $# -gt 0 ]]; do
  case "$1" in
    --check) check=1; shift ;;
    --set-image) set_image=${2:-}; [[ -n $set_image ]] || usage; shift 2 ;;
    --image) image=${2:-}; [[ -n $image ]] || usage; shift 2 ;;
    --out) out_override=${2:-}; [[ -n $out_override ]] || usage; shift 2 ;;
    *) usage ;;
  esac
done
[[ -n $image && -z $out_override ]] && usage
[[ -n $out_override && -z $image ]] && usage

kustomization="$root/config/manager/kustomization.yaml"
valid_ref() {
  [[ "$1" =~ ^[a-z0-9]([a-z0-9._:/-]*[a-z0-9])?(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?@sha256:[0-9a-f]{64}$ ]] || {
    echo "render-manifests: '$1' is not an image reference pinned by digest (name[:tag]@sha256:<64 hex>)" >&2
    exit 2
  }
  [[ "$1" != *@sha256:0000000000000000000000000000000000000000000000000000000000000000 ]] || {
    echo "render-manifests: the all-zeros digest names no image" >&2
    exit 2
  }
}
# The reference config/manager/kustomization.yaml pins, as kustomize renders it.
current_ref() {
  awk '$1=="newName:" {n=$2} $1=="newTag:" {t=$2} $1=="digest:" {d=$2} END {printf "%s%s@%s\n", n, (t=="" ? "" : ":" t), d}' "$kustomization"
}
if [[ -n $set_image ]]; then
  valid_ref "$set_image"
  name=${set_image%@*}; digest=${set_image#*@}; tag=''
  last=${name##*/}
  if [[ $last == *:* ]]; then tag=${last#*:}; name=${name%:*}; fi
  tmp=$(mktemp)
  awk -v n="$name" -v t="$tag" -v d="$digest" '
    $1=="newName:" {sub(/newName:.*/, "newName: " n); print; if (t != "") print "    newTag: " t; next}
    $1=="newTag:" {next}
    $1=="digest:" {sub(/digest:.*/, "digest: " d)}
    {print}' "$kustomization" > "$tmp"
  mv "$tmp" "$kustomization"
  echo "pinned the operator image in ${kustomization#"$root/"}: $(current_ref)"
fi
[[ -n $image ]] && valid_ref "$image"

kubectl=${KUBECTL:-}
if [[ -z "$kubectl" ]]; then
  kubectl="$(bash "$root/scripts/controlplane-build.sh")/kubectl"
fi

body=$("$kubectl" kustomize --load-restrictor=LoadRestrictionsNone "$root/config/default")
if [[ -n $image ]]; then
  from=$(current_ref)
  grep -qF "image: $from" <<<"$body" || { echo "render-manifests: the bundle does not use $from" >&2; exit 1; }
  body=${body//"image: $from"/"image: $image"}
  out=$out_override
  rel=$out
fi
rendered="# GENERATED from config/default by scripts/render-manifests.sh (make manifests). Do not edit by hand.
# Vigil install bundle: CRDs, RBAC, the operator Deployment and its NetworkPolicies in vigil-system.
#   kubectl apply --server-side -f $rel
# The operator image is pinned by digest (config/manager/kustomization.yaml): the image make image
# builds, set with make manifests IMAGE=<registry>/vigil@sha256:<digest>.
$body"

if [[ $check == 1 ]]; then
  # Nothing a user applies may name an image nobody built.
  zeros=$(grep -rlE 'sha256:0{64}' "$root/config" "$root/manifests" "$root/charts" 2>/dev/null || true)
  if [[ -n $zeros ]]; then
    echo "the all-zeros placeholder digest is in: ${zeros//"$root/"/}; pin a built image with make manifests IMAGE=…" >&2
    exit 1
  fi
  if [[ ! -f "$out" ]] || [[ "$(cat "$out")" != "$rendered" ]]; then
    echo "$rel is out of date with config/ and crds/: run make manifests" >&2
    exit 1
  fi
  exit 0
fi
mkdir -p "$(dirname "$out")"
printf '%s\n' "$rendered" > "$out"
echo "wrote $rel"
