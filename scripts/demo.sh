#!/usr/bin/env bash
# make demo: on a fresh machine, starts the local control plane, installs Vigil's
# CRDs and sample policies, creates a small "vulnerable shop", runs the operator
# from source and prints what a user would look at. Stays up until Ctrl-C
# (DEMO_EXIT=1: exit after printing) and cleans up after itself.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
export KUBECONFIG="$PWD/.vigil/kubeconfig"
METRICS_PORT=${DEMO_METRICS_PORT:-8080}
PROBE_PORT=${DEMO_PROBE_PORT:-8081}
k() { .vigil/bin/kubectl "$@"; }
bold() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { local shown="$*"; printf '\033[2m$ %s\033[0m\n' "${shown/#k /kubectl }"; "$@"; }

started_cluster=0
op_pid=""
cleanup() {
  set +e
  if [[ -n "$op_pid" ]] && kill -0 "$op_pid" 2>/dev/null; then
    kill -TERM "$op_pid"; wait "$op_pid" 2>/dev/null
  fi
  if [[ $started_cluster == 1 ]]; then node e2e/controlplane/cli.ts down >/dev/null; fi
  echo "demo: cleaned up"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

bold "vigil scan: the engine offline, on the shipped examples (what CI pipelines run)"
node bin/vigil.js scan manifests/examples --fail-on never --output json | node -e '
  let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
    const r = JSON.parse(s); const by = {};
    for (const f of r.findings) by[f.category] = (by[f.category] ?? 0) + 1;
    console.log(`${r.summary.resources} resources, ${r.findings.length} findings by category:`, JSON.stringify(by));
  });'

bold "Local control plane (Kubernetes $(bash scripts/controlplane-build.sh --print-bin | sed 's|.*/k8s-\(v[0-9.]*\).*|\1|'))"
if ! k get --raw /readyz >/dev/null 2>&1; then
  node e2e/controlplane/cli.ts up
  started_cluster=1
fi

bold "Install Vigil's CRDs and the sample policies"
k apply --server-side -f crds/securitypolicies.yaml -f crds/scanreports.yaml >/dev/null
k wait --for condition=established --timeout=60s crd/securitypolicies.security.vigil.dev crd/scanreports.security.vigil.dev >/dev/null
k create namespace vigil-system --dry-run=client -o yaml | k apply -f - >/dev/null
k apply -k config/samples >/dev/null
k apply -f manifests/demo/policies.yaml

bold "Create the vulnerable shop"
k apply -f manifests/demo/shop.yaml >/dev/null
k patch node legacy-node-1 --subresource=status --type=merge --patch-file manifests/demo/node-status.json >/dev/null
# A hand edit outside the pipeline ("shadow IT"): kubectl patch is not an approved field manager.
k patch deployment storefront -n shop-frontend --type=merge -p '{"spec":{"replicas":3}}' >/dev/null
echo "3 namespaces, 3 Deployments, RBAC, a NodePort Service, an Ingress, a Node; one hand-patched Deployment"

bold "Start the operator (metrics on :$METRICS_PORT/metrics, probes on :$PROBE_PORT)"
node bin/vigil.js operator --kubeconfig "$KUBECONFIG" --namespace vigil-system \
  --metrics-bind-address "127.0.0.1:$METRICS_PORT" --health-probe-bind-address "127.0.0.1:$PROBE_PORT" \
  --log-format json > .vigil/operator.log 2>&1 &
op_pid=$!
for _ in $(seq 1 100); do
  curl -fsS "127.0.0.1:$PROBE_PORT/readyz" >/dev/null 2>&1 && break
  kill -0 "$op_pid" 2>/dev/null || { echo "operator exited; see .vigil/operator.log" >&2; tail -20 .vigil/operator.log >&2; exit 1; }
  sleep 0.2
done
k wait --for=condition=Ready --timeout=60s securitypolicy --all >/dev/null
sleep 1

bold "What you would look at"
run k get securitypolicies
echo
run k get scanreports -A
echo
run k describe scanreport deployment-payment-worker -n shop-payments
echo
run k get events.events.k8s.io -A --field-selector reportingController=vigil --sort-by=.metadata.creationTimestamp -o custom-columns=NAMESPACE:.metadata.namespace,TYPE:.type,REASON:.reason,OBJECT:.regarding.kind,NAME:.regarding.name,NOTE:.note | tail -12
echo
printf '\033[2m$ curl -s localhost:%s/metrics | grep ...\033[0m\n' "$METRICS_PORT"
curl -s "127.0.0.1:$METRICS_PORT/metrics" | grep -E '^vigil_findings\{.*\} [1-9]' | sort -t' ' -k2 -rn | head -8
curl -s "127.0.0.1:$METRICS_PORT/metrics" | grep -E '^(vigil_reports_written_total|vigil_time_to_finding_seconds_count|controller_runtime_reconcile_total\{controller="subject",result="success"\}|vigil_cluster_vulnerable\{.*\} 1)' | head -8

bold "Findings by category across all ScanReports"
k get scanreports -A -o json | node -e '
  let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
    const by = {};
    for (const r of JSON.parse(s).items) for (const f of r.status?.findings ?? []) by[f.category] = (by[f.category] ?? 0) + 1;
    for (const [c, n] of Object.entries(by).sort()) console.log(`  ${c.padEnd(18)} ${n}`);
  });'

if [[ "${DEMO_EXIT:-0}" == 1 ]]; then exit 0; fi
bold "Vigil keeps running: try 'KUBECONFIG=.vigil/kubeconfig .vigil/bin/kubectl delete deployment storefront -n shop-frontend' and watch its report go. Ctrl-C to stop."
wait "$op_pid"
