# Vigil — every command people and CI rely on. Node 24 comes from the npm
# registry (node_modules/.bin/node); nothing here uses the machine's own Node.
SHELL := /bin/bash
.DEFAULT_GOAL := help
export PATH := $(CURDIR)/node_modules/.bin:$(PATH)
export GOTOOLCHAIN ?= auto
NODE := $(CURDIR)/node_modules/.bin/node
KUBECONFIG ?= $(CURDIR)/.vigil/kubeconfig
KUBECTL := $(shell bash scripts/controlplane-build.sh --print-bin 2>/dev/null)/kubectl

.PHONY: help setup setup-node setup-controlplane generate check-generated typecheck lint format \
        test test-unit test-e2e test-alerts test-faults cluster-up cluster-down install run demo manifests bench

help: ## Show the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

setup-node:
	@bash scripts/setup.sh node

setup-controlplane:
	@bash scripts/setup.sh controlplane

setup: ## Install Node 24, npm packages, control-plane binaries
	@bash scripts/setup.sh node controlplane

generate: setup-node ## Regenerate CRDs and TypeScript types from crds/src
	@$(NODE) scripts/generate-api.ts

check-generated: setup-node
	@$(NODE) scripts/generate-api.ts --check

typecheck: setup-node
	@tsc -p tsconfig.json --noEmit

lint: setup-node check-generated typecheck ## ESLint, Prettier, strict type-check, generated-file drift
	@eslint . && prettier --check . --log-level warn

format: setup-node
	@prettier --write . --log-level warn

test-unit: setup-node ## Unit tests (no cluster)
	@mocha

test-e2e: setup ## E2E tests against a real control plane started by the harness
	@mocha --config .mocharc.e2e.cjs

test: setup lint test-unit test-e2e ## Everything: lint, type-check, unit and e2e tests
	@echo "make test: all suites passed"

cluster-up: setup ## Start a local control plane (.vigil/kubeconfig, .vigil/bin/kubectl)
	@$(NODE) e2e/controlplane/cli.ts up

cluster-down: setup-node ## Stop the local control plane and remove its state
	@$(NODE) e2e/controlplane/cli.ts down

install: setup ## Apply Vigil's CRDs to the cluster in KUBECONFIG and wait until established
	@$(KUBECTL) --kubeconfig "$(KUBECONFIG)" apply --server-side -f crds/securitypolicies.yaml -f crds/scanreports.yaml
	@$(KUBECTL) --kubeconfig "$(KUBECONFIG)" wait --for condition=established --timeout=60s crd/securitypolicies.security.vigil.dev crd/scanreports.security.vigil.dev

demo: setup ## Show Vigil working (see README)
	@bash scripts/demo.sh
