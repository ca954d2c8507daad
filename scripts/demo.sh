#!/usr/bin/env bash
# `npm run demo`: from a fresh Debian machine (as root) to a running lab with kaops' main job
# done on it. Each step prints what it does; the first failure stops the demo.
set -euo pipefail
cd "$(dirname "$0")/.."
inventory="${1:-inventories/lab.yaml}"
kaops() { node bin/run.js "$@"; }
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "install what is missing"
bash scripts/install-deps.sh all
step "build (type-check, bundle, one-file dist/kaopsd)"
npm run --silent build
step "kaops lab up $inventory"
kaops lab up "$inventory"
kaops lab status "$inventory"

# The main job, as each part lands: plan, apply, plan again (no changes), verify.
if kaops plan --help >/dev/null 2>&1 && ! kaops plan --help 2>&1 | grep -q 'not implemented'; then
  step "kaops plan $inventory"
  kaops plan "$inventory" || [[ $? -eq 2 ]]
fi
for cmd in apply verify; do
  if kaops "$cmd" --help 2>&1 | grep -q 'not implemented'; then
    echo "(kaops $cmd: not implemented yet)"
    continue
  fi
  step "kaops $cmd $inventory"
  if [[ $cmd == apply ]]; then kaops apply --yes "$inventory"; step "kaops plan (expect no changes)"; kaops plan --detailed-exitcode "$inventory"; else kaops "$cmd" "$inventory"; fi
done
step "done: the lab stays up; 'node bin/run.js lab down $inventory' removes it"
