"""The NAPALM driver's getters on captured output: FRR 7 (VyOS 1.3) and FRR 8+ (VyOS 1.4) alike."""

from __future__ import annotations

import pytest

from napalm_edgekit_vyos import getters
from tests.conftest import FIXTURES

OUT = FIXTURES / "outputs"
FRR7 = FIXTURES / "parsers" / "frr7"
VYOS = FIXTURES / "parsers" / "vyos"


def test_bgp_neighbors_frr8() -> None:
    result = getters.bgp_neighbors_from_text((OUT / "frr-r1-show_ip_bgp_summary.txt").read_text())
    assert result["global"]["router_id"] == "10.77.0.1"
    peers = result["global"]["peers"]
    assert sorted(peers) == ["10.77.0.11", "10.77.0.12", "10.77.0.13"]
    peer = peers["10.77.0.11"]
    assert (peer["local_as"], peer["remote_as"], peer["is_up"], peer["uptime"]) == (65020, 65021, True, 11)
    assert peer["address_family"]["ipv4"] == {"received_prefixes": 1, "accepted_prefixes": 1, "sent_prefixes": 1}


def test_bgp_neighbors_frr7_has_no_sent_column() -> None:
    result = getters.bgp_neighbors_from_text((FRR7 / "ntc-templates-vyos13.txt").read_text())
    peers = result["global"]["peers"]
    assert peers, "no peers parsed from the FRR 7 layout"
    assert all(p["address_family"]["ipv4"]["sent_prefixes"] == -1 for p in peers.values())


def test_down_peer_is_not_up_and_has_no_uptime() -> None:
    summary = (FIXTURES / "parsers" / "frr84" / "r1-ip_bgp_summary.txt").read_text()
    peers = getters.bgp_neighbors_from_text(summary)["global"]["peers"]
    down = [p for p in peers.values() if not p["is_up"]]
    assert down and all(p["uptime"] == -1 and p["address_family"]["ipv4"]["received_prefixes"] == -1 for p in down)
    assert any(not p["is_enabled"] for p in down)  # the Idle (Admin) one


def test_route_to_lists_every_ecmp_next_hop() -> None:
    result = getters.route_to_from_text((OUT / "frr-r1-show_ip_route_198.51.100.10.txt").read_text())
    hops = result["198.51.100.10/32"]
    assert [h["next_hop"] for h in hops] == ["10.77.0.11", "10.77.0.12", "10.77.0.13"]
    assert all(h["protocol"] == "bgp" and h["preference"] == 20 and h["current_active"] for h in hops)
    assert getters.route_to_from_text((OUT / "frr-r1-show_ip_route_198.51.100.10.txt").read_text(), "static") == {}


def test_interfaces_ip_and_facts_from_vyos_show_interfaces() -> None:
    text = (VYOS / "show_interfaces-14-rendered.txt").read_text()
    ips = getters.interfaces_ip(text)
    assert ips["eth1"]["ipv4"] == {"192.168.100.1": {"prefix_length": 24}, "198.51.100.1": {"prefix_length": 32}}
    assert ips["eth3"]["ipv6"] == {"2001:db8:ffff:1234:5678:9abc:def0:1": {"prefix_length": 64}}
    assert "eth2" not in ips  # no address
    facts = getters.facts("Version:          VyOS 1.4.0\nHardware model:   KVM\n", text, "r1")
    assert facts["vendor"] == "VyOS" and facts["os_version"] == "1.4.0" and facts["model"] == "KVM"
    assert facts["interface_list"] == ["eth0", "eth1", "eth2", "eth3", "lo", "wg0"]


@pytest.mark.parametrize(
    ("text", "seconds"), [("00:01:05", 65), ("1d02h03m", 93780), ("01w2d03h", 788400), ("never", -1)]
)
def test_frr_uptime_formats(text: str, seconds: int) -> None:
    assert getters.uptime_seconds(text) == seconds


def test_route_to_folds_recursive_next_hops_into_one_each() -> None:
    # Captured from the lab router (FRR 8.4) with disable-connected-check: each BGP next hop is
    # "(recursive)" and resolved onlink through eth1 on the line below it.
    text = (FIXTURES / "parsers" / "lab" / "show_ip_route_recursive_onlink.txt").read_text()
    hops = getters.route_to_from_text(text)["198.51.100.1/32"]
    assert [(h["next_hop"], h["outgoing_interface"], h["selected_next_hop"]) for h in hops] == [
        ("203.0.113.11", "eth1", True),
        ("203.0.113.12", "eth1", True),
        ("203.0.113.13", "eth1", True),
    ]
