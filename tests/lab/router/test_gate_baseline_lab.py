"""The router deploy's gate judges what the change broke (issue 22 #2), against the lab's real FRR: a speaker whose
session was down before the change passes the gate, reported as a warning; a change that breaks sessions that were
Established (the router's own ASN changed, so every speaker's OPEN names the wrong peer AS) fails in well under the
gate timeout and is restored. One lab of its own (VyOS 1.4 stand-in, prd)."""

from __future__ import annotations

import os
import re
import signal
from collections.abc import Iterator

import pytest

from checks.parsers import bgp_summary
from tests.lab.helpers import deploy_ok, own_lab, site_with_routers, wait_until
from tests.lab.labrun import LabRun

pytestmark = pytest.mark.lab

NODE3 = "203.0.113.13"
WEB = "198.51.100.1"


@pytest.fixture(scope="module")
def lab() -> Iterator[LabRun]:
    with own_lab("ektgr", "--clusters", "prd") as run:
        deploy_ok(run)
        yield run


def established(lab: LabRun) -> dict[str, bool]:
    return {p.address: p.established for p in bgp_summary.parse(lab.show("prd", "show ip bgp summary")).peers}


def kernel_nexthops(lab: LabRun) -> list[str]:
    out = lab.sh("prd-router", f"ip -4 route show {WEB}", check=False).stdout
    return sorted(re.findall(r"nexthop via (\S+)", out))


def stop_bgpd(lab: LabRun, host: str) -> None:
    """The node's bgpd (the lab started it: its pid file in the state dir) ends; FRR sends a Cease on the way
    out, so the router's session goes at once. Kubernetes still calls the speaker pod Ready."""
    pid = int((lab.state_dir / "run" / f"{host}.bgpd.pid").read_text().split()[0])
    os.kill(pid, signal.SIGTERM)


def test_a_speaker_down_before_the_change_passes_and_is_reported(lab: LabRun) -> None:
    wait_until(lambda: all(established(lab).values()) and len(established(lab)) == 3, 60, "3 sessions Established")
    stop_bgpd(lab, "prd-node3")
    try:
        wait_until(lambda: not established(lab).get(NODE3, True), 30, "node3's session down on the router")
        site = site_with_routers(lab, "site-desc.yaml", prd={"description": "nodes-changed"})  # a real change
        code, report, output = lab.edgekit_json("deploy", "--site", str(site), "--gate-timeout", "60")
        assert code == 0, output
        prd = report["hosts"][0]
        assert prd["status"] == "changed", prd
        warnings = [n for n in prd["notes"] if n.startswith("warning: ")]
        assert any("bgp.peers" in w and NODE3 in w and "was already down before the change" in w for w in warnings), prd
        peers = next(c for c in prd["checks"] if c["check"] == "bgp.peers")
        assert peers["status"] == "pass" and peers["details"]["before_change"]["status"] == "fail", peers
        assert "warning:" in output and "was already down before the change" in output  # the line while it runs
    finally:
        lab.lab("heal", "prd-node3")
    wait_until(lambda: established(lab).get(NODE3) is True, 180, "node3's session back after the heal", interval=1)


def test_a_change_that_breaks_working_sessions_fails_fast_and_is_restored(lab: LabRun) -> None:
    wait_until(lambda: kernel_nexthops(lab) == ["203.0.113.11", "203.0.113.12", NODE3], 180, "all 3 next hops")
    before = lab.running_config("prd")
    site = site_with_routers(lab, "site-wrong-asn.yaml", prd={"asn": 65030})
    code, report, output = lab.edgekit_json("deploy", "--site", str(site), "--gate-timeout", "150")
    assert code == 1, output
    prd = report["hosts"][0]
    assert prd["status"] == "reverted", prd
    assert "gate failed" in prd["error"] and "worked before the change" in prd["error"], prd["error"]
    # Failed once the sessions stayed down for the grace (20 s), not after the 150 s timeout (bound: a busy machine).
    assert prd["timings"]["gate"] < 75, prd["timings"]
    assert lab.running_config("prd") == before
    wait_until(lambda: all(established(lab).values()), 180, "the sessions back after the restore", interval=1)
