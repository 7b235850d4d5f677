#!/usr/bin/env bash
# The README's first command: install everything, bring up the lab, deploy the routers and the API load
# balancers, then verify the whole edge and print the report. Each step says how long it took, and a
# summary of the steps' times closes the run. The lab's name and state dir follow EDGEKIT_LAB_PREFIX and
# EDGEKIT_LAB_STATE like every `python3 -m lab` command (`python3 -m lab down` with the same ones removes it).
#
# The lab starts as a new cluster does (runbook.md, "MetalLB and a new cluster"): MetalLB installed without
# configuration, so edgekit writes both ends of every BGP session: MetalLB's objects first, then the router.
# Then the venue gets its side of the tunnel from `render --venue`, as the venue team would.
# No waiting between the steps: `tasks.router deploy` and `tasks.lb deploy` return only when their gates
# have seen the change work (BGP and ECMP; the VIP settled on the elected LB, /healthz, backends UP).
set -euo pipefail
cd "$(dirname "$0")/.."

declare -a STEP_NAMES=() STEP_TIMES=()
started_all=$(date +%s.%N)

step() {
  local name=$1
  shift
  local started ended rc=0
  printf '\n==> %s\n' "$name"
  started=$(date +%s.%N)
  "$@" || rc=$?
  ended=$(date +%s.%N)
  local took
  took=$(awk -v a="$started" -v b="$ended" 'BEGIN { printf "%.1f", b - a }')
  STEP_NAMES+=("$name")
  STEP_TIMES+=("$took")
  if [ "$rc" -ne 0 ]; then
    printf '==> %s failed (exit %d) after %s s\n' "$name" "$rc" "$took"
    summary
    exit "$rc"
  fi
  printf '==> %s: %s s\n' "$name" "$took"
}

summary() {
  local total
  total=$(awk -v a="$started_all" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
  printf '\nquick start steps:\n'
  for i in "${!STEP_NAMES[@]}"; do
    printf '  %-28s %6s s\n' "${STEP_NAMES[$i]}" "${STEP_TIMES[$i]}"
  done
  printf '  %-28s %6s s\n' "total" "$total"
}

step "install (scripts/install.sh)" bash scripts/install.sh
step "lab up" python3 -m lab up --metallb none
step "metallb deploy" python3 -m lab exec -- python3 -m tasks.metallb deploy
step "router deploy" python3 -m lab exec -- python3 -m tasks.router deploy
step "venue stanza" bash -c 'python3 -m lab exec -- python3 -m tasks.router render --venue | python3 -m lab venue prd --config -'
step "lb deploy" python3 -m lab exec -- python3 -m tasks.lb deploy
step "edge verify" python3 -m lab exec -- python3 -m tasks.edge verify
summary
