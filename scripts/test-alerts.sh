#!/usr/bin/env bash
# make test-alerts: Vigil's alert rules are valid, tested and documented.
#   1. the plain rules file is current with config/prometheus/prometheus-rule.yaml, and every alert
#      has summary/description/severity/runbook_url, an existing docs/runbooks/<Alert>.md, only
#      metrics Vigil exports, and promtool tests where it fires and where it does not;
#   2. promtool check rules (syntax, PromQL, templates);
#   3. promtool test rules test/alerts/*.yaml (every alert's unit tests).
# Needs promtool (Debian package `prometheus`: scripts/setup.sh prometheus) and Node 24 (node_modules/.bin).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
command -v promtool >/dev/null || { echo "test-alerts: promtool not found (run: bash scripts/setup.sh prometheus)" >&2; exit 2; }

rules=config/prometheus/rules/vigil-alerts.rules.yaml
node scripts/render-alert-rules.ts --check
promtool check rules "$rules"
shopt -s nullglob
tests=(test/alerts/*.yaml)
[[ ${#tests[@]} -gt 0 ]] || { echo "test-alerts: no promtool tests in test/alerts/" >&2; exit 1; }
promtool test rules "${tests[@]}"
echo "test-alerts: $(grep -c '^ *- alert:' "$rules") alerts checked and unit-tested (${#tests[@]} test files)"
