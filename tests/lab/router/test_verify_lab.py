"""verify / comply / edge verify against the 3-cluster lab: green after deploy, and each fault of
`python -m lab fault` turns exactly the expected checks red with a reason that names the cause.

edgekit runs only inside the lab's operator namespace (``lab exec``); the hand-made change is typed into
an interactive ssh session from there, as an operator would.
"""

from __future__ import annotations

import json
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.lab.helpers import deploy_ok, own_lab
from tests.lab.labrun import LabRun

pytestmark = pytest.mark.lab

CLUSTERS = ("prd", "dev", "wsp")
Red = set[tuple[str, str, str, str | None]]  # (cluster, host, check, subject)


@pytest.fixture(scope="module")
def lab() -> Iterator[LabRun]:
    with own_lab("ektvf", "--clusters", ",".join(CLUSTERS)) as run:
        # MetalLB as the site file states it (comply judges it): takes over the lab's hand-made config.
        deploy_ok(run, "--force-conflicts", module="tasks.metallb")
        deploy_ok(run)
        deploy_ok(run, module="tasks.lb")
        yield run


def results(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for h in report.get("hosts", []) for c in h["checks"]]


def red(report: dict[str, Any]) -> Red:
    return {(c["cluster"], c["host"], c["check"], c["subject"]) for c in results(report) if c["status"] != "pass"}


def edge(lab: LabRun, *args: str, command: str = "verify") -> tuple[int, dict[str, Any], str]:
    return lab.edgekit_json(command, *args, module="tasks.edge")


def until(
    lab: LabRun, want: Callable[[dict[str, Any]], bool], *args: str, command: str = "verify", timeout: float = 60
) -> tuple[int, dict[str, Any], str]:
    """Run edge verify until ``want(report)`` (faults and heals take a moment to show), then return the last."""
    deadline = time.monotonic() + timeout
    while True:
        code, report, output = edge(lab, *args, command=command)
        if want(report) or time.monotonic() > deadline:
            return code, report, output
        time.sleep(1)


def test_whole_edge_green_after_deploy_all_hosts_in_parallel(lab: LabRun) -> None:
    junit_path = lab.state_dir / "edge.xml"
    started = time.monotonic()
    proc = lab.edgekit(
        "comply", "--json", str(lab.state_dir / "edge.json"), "--junit", str(junit_path), module="tasks.edge"
    )
    wall = time.monotonic() - started
    report = json.loads((lab.state_dir / "edge.json").read_text())
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert not red(report)
    hosts = {(h["cluster"], h["role"]) for h in report["hosts"]}
    assert hosts == {(c, r) for c in CLUSTERS for r in ("router", "kubernetes", "lb", "vip")}
    checks = {c["check"] for c in results(report)}
    assert checks >= {
        "bgp.peers",
        "bgp.unexpected",
        "ecmp.routes",
        "proxyarp.enabled",
        "wireguard.handshake",
        "wireguard.reachable",
        "consistency.metallb",
        "consistency.nodes",
        "compliance.config",
        "lb.services",
        "lb.backends",
        "lb.config",
        "lb.vip",
        "lb.healthz",
    }
    # In parallel: the run takes less than the sum of the hosts' own times.
    per_host = sum(h["timings"].get("verify", 0.0) for h in report["hosts"])
    assert report["finished"] - report["started"] < per_host, (wall, per_host)
    junit = ET.parse(junit_path).getroot()
    assert len(junit.findall(".//testcase")) == len(results(report))
    assert not junit.findall(".//failure") and not junit.findall(".//error")
    print(f"edge comply of {len(report['hosts'])} report hosts: {wall:.1f} s wall, {per_host:.1f} s of host time")


def test_proxy_arp_really_answers_on_the_node_side(lab: LabRun) -> None:
    """A node resolves its default gateway (which lives on the other switch) to the router's node-side MAC."""
    router_mac = lab.sh("prd-router", "cat /sys/class/net/eth1/address").stdout.strip()
    lab.sh("prd-node1", "ip neigh flush all")
    lab.sh("prd-node1", "ping -c 1 -W 2 203.0.113.1", check=False)
    neigh = lab.sh("prd-node1", "ip neigh show 203.0.113.1").stdout
    assert router_mac in neigh, (router_mac, neigh)


def test_speaker_down_turns_bgp_peers_and_ecmp_red_for_that_node(lab: LabRun) -> None:
    node = "k8s-node-1-server-prd"
    expected: Red = {
        ("prd", "k8s-router-1-prd", "bgp.peers", None),
        ("prd", "k8s-router-1-prd", "ecmp.routes", "default/web 198.51.100.1"),
        ("prd", "k8s-router-1-prd", "ecmp.routes", "default/api 198.51.100.2"),
        ("prd", "k8s-router-1-prd", "ecmp.routes", "default/scores 198.51.100.129"),  # the venue pool's service
    }
    lab.lab("fault", "prd-node1", "speaker-down")
    try:
        code, report, output = until(lab, lambda r: red(r) == expected)
        assert code == 1
        assert red(report) == expected, output
        for c in results(report):
            if c["status"] != "pass":
                assert node in c["reason"] and "not Ready" in c["reason"], c
    finally:
        lab.lab("heal")
    code, report, output = until(lab, lambda r: not red(r))
    assert code == 0 and not red(report), output


def test_wireguard_peer_gone_turns_wireguard_red(lab: LabRun) -> None:
    # Handshakes refresh every 2 minutes while the tunnel lives: judge with 20 s so the test need not wait 3.
    args = ("--cluster", "prd", "--handshake-max-age", "20")
    expected: Red = {
        ("prd", "k8s-router-1-prd", "wireguard.handshake", "wg0"),
        ("prd", "k8s-router-1-prd", "wireguard.reachable", "10.88.0.1"),
    }
    lab.lab("fault", "prd-venue", "wireguard-down")
    try:
        code, report, output = until(lab, lambda r: red(r) == expected, *args, timeout=90)
        assert code == 1 and red(report) == expected, output
        reasons = {c["check"]: c["reason"] for c in results(report) if c["status"] != "pass"}
        assert "latest handshake" in reasons["wireguard.handshake"] and "limit 20 s" in reasons["wireguard.handshake"]
        assert "10.88.0.1 (venue) did not answer through wg0" in reasons["wireguard.reachable"]
    finally:
        lab.lab("heal")
    # The restarted venue shakes hands at once: the same 20 s limit passes again.
    code, report, output = until(lab, lambda r: not red(r), *args, timeout=60)
    assert code == 0 and not red(report), output


def test_hand_made_change_is_listed_by_comply_only(lab: LabRun) -> None:
    lab.vyos(
        "prd",
        "configure",
        "set interfaces ethernet eth1 description 'hand-made'",
        "set interfaces ethernet eth0 description 'not-managed'",
        "commit",
        "save",  # a finished hand-made change: deploy refuses a router with unsaved commits
    )
    assert "set interfaces ethernet eth1 description 'hand-made'" in lab.running_config("prd")
    try:
        code, report, output = edge(lab)
        assert code == 0 and not red(report), output  # verify does not look at descriptions
        code, report, output = edge(lab, command="comply")
        assert code == 1
        assert red(report) == {("prd", "k8s-router-1-prd", "compliance.config", None)}, output
        router = next(h for h in report["hosts"] if h["host"] == "k8s-router-1-prd")
        assert router["commands"] == [
            "- set interfaces ethernet eth1 description 'hand-made'",
            "+ set interfaces ethernet eth1 description 'k8s-nodes'",
        ]
        check = next(c for c in router["checks"] if c["check"] == "compliance.config")
        assert "hand-made" in check["reason"]
    finally:
        code, _, output = lab.edgekit_json("deploy", "--cluster", "prd")
        assert code == 0, output
    code, report, output = edge(lab, command="comply")
    assert code == 0 and not red(report), output
