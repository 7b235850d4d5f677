#!/usr/bin/env bash
# The README's first command: install everything, bring up the lab's three clusters (dev, wsp, prd) as new
# clusters, deploy the whole edge with one command, hand the venue its stanzas, then verify all three clusters
# and print the report. Each step says how long it took, and a summary of the steps' times closes the run.
# The lab's name and state dir follow EDGEKIT_LAB_PREFIX and EDGEKIT_LAB_STATE like every `python3 -m lab`
# command (`python3 -m lab down` with the same ones removes it, with the files this script wrote there).
#
# The lab starts as a new cluster does (runbook.md, "MetalLB and a new cluster"): MetalLB installed without
# configuration, so edgekit writes both ends of every BGP session. The lab's site file turns BFD off (BFD is on by
# default; the lab's seeded MetalLB has no profile); the quick start turns it on (`defaults.bfd.enabled: true`, inventory/README.md *BGP
# timers and BFD*) in a copy beside it, so both ends get BFD. `tasks.edge deploy` then runs, cluster after cluster
# in the site's rollout order (dev, the canary, then wsp, then prd), MetalLB's side, the router, the API LBs
# (each behind its own gate), writes the cluster's venue stanza and verifies the cluster; a cluster that fails
# stops the rest. The venue then gets its side of each tunnel from those files, as the venue team would.
# No waiting between the steps: every deploy returns only when its gate has seen the change work.
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
step "lab up (dev, wsp, prd)" python3 -m lab up --clusters dev,wsp,prd --metallb none

SITE=$(python3 -m lab env | sed -n "s/^export EDGEKIT_SITE='\(.*\)'$/\1/p")
STATE=$(dirname "$SITE")
bfd_site() {
  python3 -c 'import sys, yaml
site = yaml.safe_load(open(sys.argv[1]))
site.setdefault("defaults", {})["bfd"] = {"enabled": True}
open(sys.argv[2], "w").write(yaml.safe_dump(site))' "$SITE" "$STATE/site-bfd.yaml"
}
step "site: BFD on" bfd_site
step "edge deploy" python3 -m lab exec -- python3 -m tasks.edge deploy --site "$STATE/site-bfd.yaml" \
  --venue-dir "$STATE/venue" --json "$STATE/edge-deploy.json"
venue() {
  local c
  for c in dev wsp prd; do
    python3 -m lab venue "$c" --config "$STATE/venue/$c.conf"
  done
}
step "venue stanzas" venue
step "edge verify" python3 -m lab exec -- python3 -m tasks.edge verify --site "$STATE/site-bfd.yaml"
summary
