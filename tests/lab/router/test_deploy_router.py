"""`tasks.router deploy` against the lab: a VyOS 1.5/rolling router (prd: 1.4's syntax, and the only release with
`system config-management commit-confirm action`, so a dead edgekit is undone in place) and a VyOS 1.3 router (dev)
in one run. 1.4 (which reboots instead) is deployed by test_deploy_confirm.py (wsp) and the quick start.

Proves the data plane, not just the config: ECMP routes in the router's kernel, traffic reaching every
node, proxy-ARP answering, the WireGuard tunnel carrying traffic to the venue network; then that every
failure leaves the router exactly as it was.
"""

from __future__ import annotations

import os
import re
import signal
import sys
from collections.abc import Callable, Iterator

import pytest
import yaml

from tests.lab.helpers import deploy_in_background, deploy_ok, own_lab, site_with_routers
from tests.lab.helpers import wait_for as _wait_for
from tests.lab.labrun import LabRun

pytestmark = pytest.mark.lab

# One VyOS minute lasts this many seconds in the lab, so commit-confirm expiries take seconds.
MINUTE_SECONDS = "8"
SERVICES = {"prd": ["198.51.100.1", "198.51.100.2"], "dev": ["198.51.100.17", "198.51.100.18"]}
NODES = {
    "prd": ["203.0.113.11", "203.0.113.12", "203.0.113.13"],
    "dev": ["203.0.113.27", "203.0.113.28", "203.0.113.29"],
}


@pytest.fixture(scope="module")
def lab() -> Iterator[LabRun]:
    with own_lab(
        "ektdp", "--clusters", "prd,dev", "--vyos", "prd=1.5,dev=1.3", EDGEKIT_LAB_MINUTE_SECONDS=MINUTE_SECONDS
    ) as run:
        yield run


@pytest.fixture(scope="module")
def first_deploy(lab: LabRun) -> dict:
    return deploy_ok(lab)


def kernel_nexthops(lab: LabRun, cluster: str, ip: str) -> list[str]:
    out = lab.sh(f"{cluster}-router", f"ip -4 route show {ip}").stdout
    return sorted(re.findall(r"nexthop via (\S+)", out))


def wait_for(predicate: Callable[[], bool], timeout: float = 20.0, interval: float = 0.5) -> bool:
    return _wait_for(predicate, timeout, interval)


def test_first_deploy_changes_both_routers_and_names_their_dialects(first_deploy: dict) -> None:
    hosts = {h["cluster"]: h for h in first_deploy["hosts"]}
    assert hosts["prd"]["status"] == "changed" and hosts["prd"]["dialect"] == "1.5"
    assert hosts["dev"]["status"] == "changed" and hosts["dev"]["dialect"] == "1.3"
    assert any("system-as" in c for c in hosts["prd"]["commands"])
    assert any(c.startswith("set protocols bgp 65020 ") for c in hosts["dev"]["commands"])
    # Secrets never reach the report: the 1.4-syntax private key is masked.
    assert any("private-key '********'" in c for c in hosts["prd"]["commands"])
    for host in hosts.values():
        assert set(host["timings"]) >= {"connect", "read", "commit", "gate", "confirm"}
        assert all(check["status"] == "pass" for check in host["checks"])


@pytest.mark.parametrize("cluster", ["prd", "dev"])
def test_every_service_ip_is_ecmp_over_every_speaker_in_the_kernel(
    lab: LabRun, first_deploy: dict, cluster: str
) -> None:
    web, api = SERVICES[cluster]
    assert kernel_nexthops(lab, cluster, web) == NODES[cluster]
    # `api` has externalTrafficPolicy Local with endpoints on the first two nodes only.
    assert kernel_nexthops(lab, cluster, api) == NODES[cluster][:2]


@pytest.mark.parametrize("cluster", ["prd", "dev"])
def test_traffic_through_the_router_reaches_every_node(lab: LabRun, first_deploy: dict, cluster: str) -> None:
    out = lab.lab("traffic", SERVICES[cluster][0], "-n", "40", "--json").stdout
    counts = {name: n for name, n in __import__("json").loads(out).items() if name != "(error)"}
    assert len(counts) == 3, out
    assert sum(counts.values()) == 40


def test_proxy_arp_lets_nodes_and_upstream_reach_each_other(lab: LabRun, first_deploy: dict) -> None:
    # node1 holds 203.0.113.11 on the private switch only; the gateway .1 is on the public switch.
    lab.sh("prd-node1", "ping -c 1 -W 2 203.0.113.1")
    lab.sh("prd-up", "ping -c 1 -W 2 203.0.113.12")
    neigh = lab.sh("prd-node1", "ip neigh show 203.0.113.1").stdout
    router_mac = lab.sh("prd-router", "cat /sys/class/net/eth1/address").stdout.strip()
    assert router_mac in neigh  # the router answered ARP for the gateway


def test_wireguard_tunnel_to_the_venue_carries_traffic_on_14(lab: LabRun, first_deploy: dict) -> None:
    assert wait_for(lambda: "latest handshake" in lab.show("prd", "show interfaces wireguard wg0 summary"))
    lab.sh("prd-venue", "ping -c 1 -W 2 172.16.100.1")
    out = lab.show("prd", "ping 10.88.0.1 count 2")
    assert " 0% packet loss" in out, out


def test_wireguard_on_13_uses_a_named_keypair_the_venue_is_given(lab: LabRun, first_deploy: dict) -> None:
    dev = next(h for h in first_deploy["hosts"] if h["cluster"] == "dev")
    assert "set interfaces wireguard wg0 private-key 'venue'" in lab.running_config("dev")
    pubkey = lab.show("dev", "show wireguard keypairs pubkey venue").strip().splitlines()[-1].strip()
    assert re.fullmatch(r"[A-Za-z0-9+/]{43}=", pubkey), pubkey
    assert f"router WireGuard public key: {pubkey}" in dev["notes"]  # what the operator sends the venue
    lab.lab("venue-peer", "dev", pubkey)
    assert wait_for(lambda: "latest handshake" in lab.show("dev", "show interfaces wireguard wg0 summary"))
    lab.sh("dev-venue", "ping -c 1 -W 2 172.16.100.5")


def test_second_deploy_changes_nothing(lab: LabRun, first_deploy: dict) -> None:
    code, report, output = lab.edgekit_json("deploy")
    assert code == 0, output
    assert [h["status"] for h in report["hosts"]] == ["unchanged", "unchanged"]
    code, _, _ = lab.edgekit_json("plan")
    assert code == 0


def test_speaker_gone_from_kubernetes_loses_its_neighbor(lab: LabRun, first_deploy: dict) -> None:
    lab.lab("fault", "prd-node3", "speaker-down")
    try:
        code, report, output = lab.edgekit_json("deploy", "--cluster", "prd")
        assert code == 0, output
        prd = report["hosts"][0]
        assert "delete protocols bgp neighbor 203.0.113.13" in prd["commands"]
        assert not any("203.0.113.13" in line and "neighbor" in line for line in lab.running_config("prd"))
        assert kernel_nexthops(lab, "prd", SERVICES["prd"][0]) == NODES["prd"][:2]
    finally:
        lab.lab("heal", "prd-node3")
    code, report, output = lab.edgekit_json("deploy", "--cluster", "prd")
    assert code == 0, output
    assert wait_for(lambda: kernel_nexthops(lab, "prd", SERVICES["prd"][0]) == NODES["prd"])


def test_wrong_asn_fails_the_gate_and_the_router_gets_its_exact_config_back(lab: LabRun, first_deploy: dict) -> None:
    before = lab.running_config("prd")
    site = site_with_routers(lab, "site-wrong-asn.yaml", prd={"asn": 65030})
    code, report, output = lab.edgekit_json("deploy", "--cluster", "prd", "--site", str(site), "--gate-timeout", "6")
    assert code == 1, output
    prd = report["hosts"][0]
    assert prd["status"] == "reverted", prd
    assert "gate failed" in prd["error"] and "bgp.peers" in prd["error"]
    assert lab.running_config("prd") == before
    assert wait_for(lambda: kernel_nexthops(lab, "prd", SERVICES["prd"][0]) == NODES["prd"], timeout=30)


def test_killed_edgekit_is_undone_by_the_routers_own_commit_confirm(lab: LabRun, first_deploy: dict) -> None:
    # prd is VyOS 1.5/rolling and edgekit set `commit-confirm action reload` there: the timer reverts in place.
    # (A 1.3 router reboots instead: tests/lab/router/test_deploy_confirm.py.)
    before = lab.running_config("prd")
    site = site_with_routers(lab, "site-killed.yaml", prd={"asn": 65031})
    proc = deploy_in_background(
        lab, "--cluster", "prd", "--site", str(site), "--gate-timeout", "25", "--confirm-timeout", "60"
    )
    try:
        assert proc.stderr is not None
        for line in proc.stderr:
            if line.rstrip().endswith(": gate"):
                break
        else:
            pytest.fail("deploy never reached its gate")
        assert any("65031" in line for line in lab.running_config("prd"))  # committed, not yet confirmed
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert wait_for(lambda: lab.running_config("prd") == before, timeout=4 * float(MINUTE_SECONDS))


def test_unreachable_router_fails_alone_and_the_other_finishes(lab: LabRun, first_deploy: dict) -> None:
    site = site_with_routers(lab, "site-desc.yaml", prd={"description": "k8s nodes (edgekit)"})
    lab.lab("fault", "dev-router", "sshd-down")
    try:
        code, report, output = lab.edgekit_json("deploy", "--site", str(site))
    finally:
        lab.lab("heal", "dev-router")
    assert code == 1, output
    hosts = {h["cluster"]: h for h in report["hosts"]}
    assert hosts["dev"]["status"] == "failed" and "cannot connect" in hosts["dev"]["error"]
    assert hosts["prd"]["status"] == "changed"
    assert "set interfaces ethernet eth1 description 'k8s nodes (edgekit)'" in lab.running_config("prd")


def test_napalm_driver_getters_and_config_lifecycle(lab: LabRun, first_deploy: dict) -> None:
    proc = lab.lab(
        "exec", "--", sys.executable, "-m", "tests.lab.napalm_probe", lab.router_address("prd"), "198.51.100.1"
    )
    out = __import__("json").loads(proc.stdout)
    assert out["facts"]["vendor"] == "VyOS" and out["facts"]["os_version"].startswith("1.5-rolling-")
    assert out["facts"]["hostname"] == "k8s-router-1-prd" and "eth1" in out["facts"]["interface_list"]
    peers = out["bgp"]["global"]["peers"]
    assert sorted(peers) == NODES["prd"] and all(p["is_up"] and p["remote_as"] == 65021 for p in peers.values())
    assert out["ips"]["eth1"]["ipv4"] == {"192.168.100.1": {"prefix_length": 24}}
    assert sorted(h["next_hop"] for h in out["route"]["198.51.100.1/32"]) == NODES["prd"]
    assert out["config"]["running"] == out["before"] == out["config"]["startup"]  # deploy saved it
    assert out["config_mode_after_get_config"] is False
    assert "napalm-probe" in out["compare"]
    assert out["pending"] is True and out["pending_after_confirm"] is False
    assert "set interfaces ethernet eth1 description 'napalm-probe'" in out["after_confirm"]
    assert out["after_rollback"] == out["before"]  # rollback restores the exact previous config
    assert out["after_discard"] == out["before"]
    assert "no-such-thing" in out["merge_error"] and out["after_bad_merge"] == out["before"]


def test_rollout_stops_after_a_cluster_fails_its_gate_unless_all_at_once(lab: LabRun, first_deploy: dict) -> None:
    # dev comes first in the rollout (dev, wsp, prd); its change fails the gate, prd has a good change.
    site = site_with_routers(lab, "site-rollout.yaml", dev={"asn": 65032})
    data = yaml.safe_load(site.read_text())
    data["clusters"].setdefault("prd", {}).setdefault("router", {})["description"] = "rollout"
    site.write_text(yaml.safe_dump(data))
    before_prd = lab.running_config("prd")
    code, report, output = lab.edgekit_json("deploy", "--site", str(site), "--gate-timeout", "5")
    assert code == 1, output
    hosts = {h["cluster"]: h for h in report["hosts"]}
    assert hosts["dev"]["status"] == "reverted"
    assert hosts["prd"]["status"] == "skipped"
    assert any("cluster dev did not pass" in note for note in hosts["prd"]["notes"])
    assert lab.running_config("prd") == before_prd

    code, report, output = lab.edgekit_json("deploy", "--site", str(site), "--gate-timeout", "5", "--all-at-once")
    hosts = {h["cluster"]: h for h in report["hosts"]}
    assert code == 1 and hosts["dev"]["status"] == "reverted" and hosts["prd"]["status"] == "changed", output
    assert lab.edgekit_json("deploy")[0] == 0  # back to the lab's own site file


def test_ctrl_c_starts_no_new_router_and_lets_the_running_one_finish(lab: LabRun, first_deploy: dict) -> None:
    site = site_with_routers(lab, "site-interrupt.yaml", dev={"asn": 65033})
    data = yaml.safe_load(site.read_text())
    data["clusters"].setdefault("prd", {}).setdefault("router", {})["description"] = "interrupted"
    site.write_text(yaml.safe_dump(data))
    before = {c: lab.running_config(c) for c in ("dev", "prd")}
    report_path = lab.state_dir / "interrupt.json"
    proc = deploy_in_background(
        lab, "--site", str(site), "--gate-timeout", "6", "--json", str(report_path), new_session=False
    )
    assert proc.stderr is not None
    for line in proc.stderr:  # `lab exec` execs into edgekit: proc.pid is edgekit itself
        if "k8s-router-1-dev: gate" in line:
            os.kill(proc.pid, signal.SIGINT)
            break
    proc.stderr.read()
    assert proc.wait(timeout=60) == 130
    hosts = {h["cluster"]: h for h in __import__("json").loads(report_path.read_text())["hosts"]}
    assert hosts["dev"]["status"] == "reverted"  # the router in progress finished its own way
    assert hosts["prd"]["status"] == "skipped"
    assert {c: lab.running_config(c) for c in ("dev", "prd")} == before
