"""Run inside the lab's operator namespace: exercise the NAPALM driver on one router, print JSON.

python -m lab exec -- python -m tests.lab.napalm_probe ROUTER_ADDRESS SERVICE_IP
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from napalm import get_network_driver
from napalm.base.exceptions import MergeConfigException


def main(address: str, service_ip: str) -> dict[str, Any]:
    driver = get_network_driver("edgekit_vyos")(
        address,
        "vyos",
        optional_args={
            "key_file": os.environ["EDGEKIT_SSH_KEY"],
            "alt_key_file": os.environ["EDGEKIT_KNOWN_HOSTS"],
            "ssh_strict": True,
        },
    )
    out: dict[str, Any] = {}
    driver.open()
    try:
        out["facts"] = driver.get_facts()
        out["bgp"] = driver.get_bgp_neighbors()
        out["ips"] = driver.get_interfaces_ip()
        out["route"] = driver.get_route_to(service_ip)
        out["config"] = driver.get_config()
        out["config_mode_after_get_config"] = driver.conn.in_config_mode
        out["before"] = driver.show("show configuration commands")
        driver.load_merge_candidate(config="set interfaces ethernet eth1 description 'napalm-probe'")
        out["compare"] = driver.compare_config()
        driver.commit_config(message="napalm probe", revert_in=60)
        out["pending"] = driver.has_pending_commit()
        driver.confirm_commit()
        out["pending_after_confirm"] = driver.has_pending_commit()
        out["after_confirm"] = driver.show("show configuration commands")
        driver.rollback()
        out["after_rollback"] = driver.show("show configuration commands")
        driver.load_merge_candidate(config="set interfaces ethernet eth1 description 'discard-me'")
        driver.discard_config()
        out["after_discard"] = driver.show("show configuration commands")
        try:
            driver.load_merge_candidate(config="set protocols bgp no-such-thing 1")
        except MergeConfigException as exc:
            out["merge_error"] = str(exc)
        out["after_bad_merge"] = driver.show("show configuration commands")
    finally:
        driver.close()
    return out


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], sys.argv[2])))
