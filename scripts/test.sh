#!/usr/bin/env bash
# The one test command (`npm test`). It installs what it is missing, builds, then runs the unit
# tests and the lab tests in one node:test run, so the run ends with one summary line.
#   scripts/test.sh          unit + lab
#   scripts/test.sh unit     unit only (no root, no network namespaces)
#   scripts/test.sh lab      lab only
set -euo pipefail
cd "$(dirname "$0")/.."
which="${1:-all}"

bash scripts/install-deps.sh "$which"
npm run --silent build
# Tests and benchmarks are type-checked too (tsx runs them without checking).
npm run --silent typecheck

files=()
if [[ "$which" == all || "$which" == unit ]]; then
  while IFS= read -r f; do files+=("$f"); done < <(find test/unit -name '*.test.ts' | sort)
fi
if [[ "$which" == all || "$which" == lab ]]; then
  while IFS= read -r f; do files+=("$f"); done < <(find test/lab -name '*.test.ts' | sort)
fi

# One file at a time: lab tests share this machine's bridges and namespaces.
exec node --import tsx --test --test-concurrency=1 \
  --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter=./scripts/summary-reporter.mjs --test-reporter-destination=stdout \
  "${files[@]}"
