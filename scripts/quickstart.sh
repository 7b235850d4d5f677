#!/usr/bin/env bash
# The README's first command: install everything, bring up the lab, deploy the routers and the API load
# balancers, then verify the whole edge and print the report.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
python3 -m lab up
python3 -m lab exec -- python3 -m tasks.router deploy
python3 -m lab exec -- python3 -m tasks.lb deploy
python3 -m lab exec -- python3 -m tasks.edge verify
