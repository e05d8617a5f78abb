#!/usr/bin/env bash
# Runs each e2e file in its own mocha process, so every file gets a fresh control
# plane (e2e/harness.ts) and no suite sees another's policies or reports.
#   E2E_SPEC="a.e2e.ts b.e2e.ts"  run only these files
#   E2E_EXCLUDE=regex             skip files matching (make test skips the full fault set)
#   --node                        the suites that need a real node (e2e/**/*.node.ts, make test-node)
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
pattern='*.e2e.ts' config=.mocharc.e2e.cjs label=e2e
if [[ "${1:-}" == "--node" ]]; then pattern='*.node.ts' config=.mocharc.node.cjs label=node-e2e; fi
if [[ -n "${E2E_SPEC:-}" ]]; then read -r -a files <<<"$E2E_SPEC"
else mapfile -t files < <(find e2e -name "$pattern" | sort); fi
passed=0 failed=0 failed_files=()
start=$(date +%s)
for f in "${files[@]}"; do
  if [[ -n "${E2E_EXCLUDE:-}" && "$f" =~ $E2E_EXCLUDE ]]; then continue; fi
  echo "=== $f"
  out=$(mktemp)
  t0=$(date +%s)
  E2E_SPEC="$f" mocha --config "$config" 2>&1 | tee "$out"
  rc=${PIPESTATUS[0]}
  p=$(grep -Eo '^ +[0-9]+ passing' "$out" | grep -Eo '[0-9]+' | tail -1); p=${p:-0}
  n=$(grep -Eo '^ +[0-9]+ failing' "$out" | grep -Eo '[0-9]+' | tail -1); n=${n:-0}
  if [[ $rc -ne 0 && $n -eq 0 ]]; then n=1; fi
  passed=$((passed + p)); failed=$((failed + n))
  [[ $rc -ne 0 ]] && failed_files+=("$f")
  echo "--- $f: $p passing, $n failing in $(( $(date +%s) - t0 ))s"
  rm -f "$out"
done
echo
echo "$label files: ${#files[@]}, wall time $(( $(date +%s) - start ))s"
[[ ${#failed_files[@]} -gt 0 ]] && printf 'failed: %s\n' "${failed_files[@]}"
echo "$label: $passed passed, $failed failed"
[[ $failed -eq 0 && ${#failed_files[@]} -eq 0 ]]
