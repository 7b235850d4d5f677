"""bfd.peers on real `show bfd peers` captures (tests/fixtures/parsers/frr84-bfd, readdressed to the model's
speakers), in verify (both dialects' commands) and in the deploy gate."""

from __future__ import annotations

import pytest

from checks import bfd
from checks.parsers import bfd_peers
from inventory.model import BFD, MetalLBPeer, Speaker
from tasks.router.dialect import DIALECTS
from tasks.router.features import BFD_PEERS, FEATURES, ProbeContext, Reader
from tasks.router.gate import gate_checks
from tasks.router.render import render_router_config
from tasks.router.verify import ClusterFacts, VerifyOptions, planned_checks, verify_router
from tests.unit.router.test_verify_cli import bfd_peers as bfd_text
from tests.unit.router_fixtures import cluster


def test_all_speakers_up_passes_with_the_detection_time() -> None:
    result = bfd.check_peers("r1", cluster(node_subnet="private"), bfd_peers.parse(bfd_text(base="192.168.100.1")))
    assert result.ok and "3 speakers BFD up" in result.reason and "900 ms" in result.reason
    assert result.details == {"expected": 3, "up": 3}


def test_a_down_session_fails_naming_the_speaker_and_the_diagnostic() -> None:
    result = bfd.check_peers("r1", cluster(), bfd_peers.parse(bfd_text(down=(2,))))
    assert result.status == "fail" and result.details == {"expected": 3, "up": 2}
    assert "k8s-node-2-server-prd (203.0.113.12): BFD down, control detection time expired" in result.reason
    assert "node-1" not in result.reason and "node-3" not in result.reason


def test_a_missing_session_fails() -> None:
    result = bfd.check_peers("r1", cluster(speakers=4), bfd_peers.parse(bfd_text()))
    assert result.status == "fail" and "k8s-node-4-server-prd (203.0.113.14) has no BFD session" in result.reason


def test_a_not_ready_speaker_is_named_by_its_cause() -> None:
    c = cluster(speakers=2)
    gone = Speaker(name="k8s-node-3-server-prd", address="203.0.113.13", ready=False)  # type: ignore[arg-type]
    result = bfd.check_peers("r1", c, bfd_peers.parse(bfd_text(down=(3,))), down=[gone])
    assert result.status == "fail" and "speaker pod not Ready in Kubernetes, BFD down" in result.reason


def _outputs(command: str, down: tuple[int, ...] = ()) -> dict[str, str]:
    return {command: bfd_text(down)}


@pytest.mark.parametrize("version", ["1.3", "1.4"])
def test_verify_asks_the_dialects_command(version: str) -> None:
    c = cluster(wireguard=False)
    c = c.model_copy(update={"router": c.router.model_copy(update={"dialect": version})})  # type: ignore[union-attr]
    asked: list[str] = []
    outputs = _outputs(DIALECTS[version].bfd_peers_command, down=(1,))

    def show(command: str) -> str:
        asked.append(command)
        return outputs.get(command, f"\n  Invalid command: [{command}]\n")

    verdict = verify_router(show, ClusterFacts(cluster=c), "r1", VerifyOptions())
    result = next(r for r in verdict.results if r.check == "bfd.peers")
    assert result.status == "fail" and "k8s-node-1-server-prd" in result.reason
    assert DIALECTS[version].bfd_peers_command in asked


def test_bfd_off_plans_and_runs_no_bfd_check() -> None:
    c = cluster(wireguard=False).model_copy(update={"bfd": BFD(enabled=False)})
    facts = ClusterFacts(cluster=c)
    assert ("bfd.peers", None) not in planned_checks(facts, VerifyOptions())
    verdict = verify_router(lambda cmd: "", facts, "r1", VerifyOptions())
    assert not any(r.check == "bfd.peers" for r in verdict.results)


class GateRouter:
    def __init__(self, outputs: dict[str, str]) -> None:
        self.outputs = outputs

    def show(self, command: str) -> str:
        return self.outputs.get(command, f"\n  Invalid command: [{command}]\n")


SUMMARY = """
IPv4 Unicast Summary (VRF default):
BGP router identifier 203.0.113.4, local AS number 65020 vrf-id 0
BGP table version 2
RIB entries 3, using 576 bytes of memory
Peers 3, using 2172 KiB of memory

Neighbor        V         AS   MsgRcvd   MsgSent   TblVer  InQ OutQ  Up/Down State/PfxRcd   PfxSnt Desc
203.0.113.11    4      65021        40        38        0    0    0 00:00:30            1        2 N/A
203.0.113.12    4      65021        40        38        0    0    0 00:00:30            1        2 N/A
203.0.113.13    4      65021        40        38        0    0    0 00:00:30            1        2 N/A

Total number of neighbors 3
"""


@pytest.mark.parametrize("version", ["1.3", "1.4"])
@pytest.mark.parametrize("site_dialect", ["auto", "given"])
def test_the_gate_holds_while_a_bfd_session_is_down_with_bgp_up(version: str, site_dialect: str) -> None:
    c = cluster(wireguard=False).model_copy(update={"services": []})
    if site_dialect == "given":
        c = c.model_copy(update={"router": c.router.model_copy(update={"dialect": version})})  # type: ignore[union-attr]
    d = DIALECTS[version]
    base = {"show ip bgp summary": SUMMARY, "show version": f"Version:          VyOS {version}.0\n"}
    up = gate_checks(GateRouter({**base, **_outputs(d.bfd_peers_command)}), c, "r1")  # type: ignore[arg-type]
    assert [r.check for r in up] == ["bgp.peers", "bfd.peers"] and all(r.ok for r in up)
    router = GateRouter({**base, **_outputs(d.bfd_peers_command, down=(3,))})
    held = gate_checks(router, c, "r1")  # type: ignore[arg-type]
    assert [r.status for r in held] == ["pass", "fail"] and "k8s-node-3-server-prd" in held[1].reason


def test_the_gate_skips_bfd_when_it_is_off() -> None:
    c = cluster(wireguard=False).model_copy(update={"services": [], "bfd": BFD(enabled=False)})
    results = gate_checks(GateRouter({"show ip bgp summary": SUMMARY}), c, "r1")  # type: ignore[arg-type]
    assert [r.check for r in results] == ["bgp.peers"]


def test_bfd_is_one_of_the_gate_checks() -> None:
    assert BFD_PEERS.gate == ("bfd.peers",) and any(BFD_PEERS in f.probes for f in FEATURES if f.name == "BFD")


def _metallb_peer(bfd_profile: str, ebgp_multihop: bool = True) -> MetalLBPeer:
    return MetalLBPeer(
        name="router",
        peer_address="203.0.113.4",  # type: ignore[arg-type]
        peer_asn=65020,
        my_asn=65021,
        bfd_profile=bfd_profile,
        ebgp_multihop=ebgp_multihop,
    )


def test_the_router_gets_bfd_only_when_metallbs_end_has_it() -> None:
    without = cluster(wireguard=False).model_copy(update={"metallb_peers": [_metallb_peer("")]})
    assert not without.router_bfd and "has no BFD profile" in without.bfd_mismatch
    assert not any("bfd" in line for line in render_router_config(without, DIALECTS["1.4"]).lines)
    with_bfd = without.model_copy(update={"metallb_peers": [_metallb_peer("edgekit")]})
    assert with_bfd.router_bfd and not with_bfd.bfd_mismatch
    assert "set protocols bgp neighbor 203.0.113.11 bfd" in render_router_config(with_bfd, DIALECTS["1.4"]).lines
    unread = cluster(wireguard=False)  # Kubernetes not read: the site decides
    assert unread.router_bfd and not unread.bfd_mismatch


def test_verify_fails_bfd_peers_when_only_the_site_has_bfd() -> None:
    c = cluster(wireguard=False).model_copy(update={"metallb_peers": [_metallb_peer("")]})
    c = c.model_copy(update={"router": c.router.model_copy(update={"dialect": "1.4"})})  # type: ignore[union-attr]
    verdict = verify_router(lambda cmd: "", ClusterFacts(cluster=c), "r1", VerifyOptions())
    result = next(r for r in verdict.results if r.check == "bfd.peers")
    assert result.status == "fail" and "run `metallb deploy`" in result.reason
    gate = BFD_PEERS.judge(ProbeContext(Reader(lambda cmd: ""), c, "r1", gate=True))
    assert gate == []  # the router has no BFD to wait for: nothing was rendered


def test_proxy_arp_layout_runs_multihop_bfd_so_that_bgp_follows_it() -> None:
    proxy = cluster(wireguard=False)  # proxy-ARP layout: BGP from the public address, speakers behind eth1
    assert proxy.bfd_multihop
    for version in ("1.3", "1.4"):
        d = DIALECTS[version]
        bgp = d.bgp_root(65020)
        lines = render_router_config(proxy, d).lines
        assert "set protocols bfd peer 203.0.113.11 multihop" in lines
        assert "set protocols bfd peer 203.0.113.11 source address '203.0.113.4'" in lines
        assert f"set {bgp} neighbor 203.0.113.11 ebgp-multihop '2'" in lines
        assert f"set {bgp} neighbor 203.0.113.11 bfd" in lines
        assert not any("disable-connected-check" in line for line in lines)  # ebgp-multihop replaces it
    result = bfd.check_peers("r1", proxy, bfd_peers.parse(bfd_text()))
    assert result.ok and "BFD multihop up" in result.reason


def test_multihop_only_with_bfd_in_the_proxy_arp_layout() -> None:
    private = render_router_config(cluster(wireguard=False, node_subnet="private"), DIALECTS["1.4"]).lines
    assert "set protocols bfd peer 192.168.100.11 interval multiplier '3'" in private
    assert not any("multihop" in line or "source address" in line for line in private)
    off = cluster(wireguard=False).model_copy(update={"bfd": BFD(enabled=False)})
    assert not off.bfd_multihop
    lines = render_router_config(off, DIALECTS["1.4"]).lines
    assert "set protocols bgp neighbor 203.0.113.11 disable-connected-check" in lines
    assert not any("multihop" in line or "bfd" in line for line in lines)


def test_proxy_arp_router_waits_for_metallbs_multihop_end() -> None:
    single = cluster(wireguard=False).model_copy(
        update={"metallb_peers": [_metallb_peer("edgekit", ebgp_multihop=False)]}
    )
    assert not single.router_bfd and "has no ebgpMultiHop" in single.bfd_mismatch
    lines = render_router_config(single, DIALECTS["1.4"]).lines
    assert not any("bfd" in line or "multihop" in line for line in lines)
    both = single.model_copy(update={"metallb_peers": [_metallb_peer("edgekit")]})
    assert both.router_bfd and both.bfd_multihop and not both.bfd_mismatch
    private = cluster(wireguard=False, node_subnet="private").model_copy(
        update={"metallb_peers": [_metallb_peer("edgekit", ebgp_multihop=False)]}
    )
    assert private.router_bfd and not private.bfd_multihop  # single hop there: MetalLB needs no multihop
