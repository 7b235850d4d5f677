"""A Nornir script of your own on edgekit's inventory and tasks (docs/library.md).

Run it where edgekit runs, with its usual environment (EDGEKIT_STATE, EDGEKIT_SITE, KUBECONFIG), e.g. in the lab:
    python -m lab exec -- python examples/nornir_script.py dev
"""

import os
import sys

from nornir import InitNornir
from nornir.core.filter import F
from nornir_netmiko.tasks import netmiko_send_command
from nornir_utils.plugins.functions import print_result

from tasks.library import plan, verify

nr = InitNornir(
    runner={"plugin": "threaded", "options": {"num_workers": 10}},
    inventory={
        "plugin": "TFStateInventory",
        "options": {
            "states": os.environ["EDGEKIT_STATE"],
            "site": os.environ.get("EDGEKIT_SITE"),
            "kubeconfig": os.environ.get("KUBECONFIG"),
        },
    },
    logging={"enabled": False},
)
routers = nr.filter(F(groups__contains="role_router") & F(cluster=sys.argv[1] if len(sys.argv) > 1 else "prd"))
print_result(routers.run(task=netmiko_send_command, command_string="show version"))
print_result(routers.run(task=plan))
checks = routers.run(task=verify)
print_result(checks)
sys.exit(1 if checks.failed else 0)
