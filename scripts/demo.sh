#!/usr/bin/env bash
# make demo: shows Vigil working on a fresh machine. Everything it needs is
# installed by `make setup` (the Makefile runs it first).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
bold() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

bold "vigil scan manifests/examples (offline, the same engine the operator runs)"
node bin/vigil.js scan manifests/examples --fail-on never
bold "JSON summary"
node bin/vigil.js scan manifests/examples --output json --fail-on never | node -e '
  let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
    const r = JSON.parse(s); const by = {};
    for (const f of r.findings) by[f.category] = (by[f.category] ?? 0) + 1;
    console.log("findings by category:", by); console.log("summary:", r.summary);
  });'
