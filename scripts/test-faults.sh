#!/usr/bin/env bash
# Fault-injection and bad-input suites (e2e/faults/*.e2e.ts) against real control planes
# started by the e2e harness (and by suites that need API-server flags of their own).
#
#   bash scripts/test-faults.sh                 reduced set (the one `make test` runs)
#   FAULTS_FULL=1 bash scripts/test-faults.sh   every suite at full size, 10-minute soak
#
# Knobs: FAULTS_SPEC (comma-separated files or globs, overrides the set),
# FAULTS_SEED (soak PRNG seed; printed by every run, so a failure reproduces),
# FAULTS_SOAK_SECONDS (soak length; default 60, or 600 with FAULTS_FULL=1).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"

# The reduced set: every scenario that runs on the shared control plane, at reduced size.
# Left to the full run: the two suites that start a control plane of their own only for
# their flags (throttling: APF off and tiny in-flight limits; watch-expired: no watch cache)
# and the huge-object suite (thousands of pods).
REDUCED=(
  e2e/faults/apiserver-restart.e2e.ts
  e2e/faults/watch-stall.e2e.ts
  e2e/faults/conflicts.e2e.ts
  e2e/faults/leader.e2e.ts
  e2e/faults/tampering.e2e.ts
  e2e/faults/sigterm.e2e.ts
  e2e/faults/invalid-policies.e2e.ts
  e2e/faults/soak.e2e.ts
)

if [[ -n "${FAULTS_SPEC:-}" ]]; then
  spec="$FAULTS_SPEC"
elif [[ "${FAULTS_FULL:-}" == "1" ]]; then
  spec="e2e/faults/*.e2e.ts"
  # The property tests too, with ten times the runs.
  echo "== property tests (FAULTS_FULL: 10x runs)"
  FAULTS_FULL=1 mocha --no-config --extension ts --timeout 600000 --reporter dot 'operator/src/fuzz/*.test.ts'
else
  spec="$(IFS=,; echo "${REDUCED[*]}")"
fi
echo "== fault suites: $spec (FAULTS_FULL=${FAULTS_FULL:-0})"
started=$SECONDS
E2E_SPEC="$spec" mocha --config .mocharc.e2e.cjs
echo "== fault suites passed in $((SECONDS - started)) s"
