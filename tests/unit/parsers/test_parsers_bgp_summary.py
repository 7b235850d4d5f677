"""show ip bgp summary: FRR 8.4 captures, FRR 7 layouts from public sources, errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from checks.parsers import ParseError, bgp_summary
from tests.unit.fixture_text import load

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
FRR7 = FIXTURES / "parsers" / "frr7"


def parse(path: Path) -> bgp_summary.BgpSummary:
    return bgp_summary.parse(path.read_text())


def test_reference_capture_three_established_peers() -> None:
    summary = parse(FIXTURES / "outputs" / "frr-r1-show_ip_bgp_summary.txt")
    assert (summary.router_id, summary.local_as, summary.vrf, summary.layout) == ("10.77.0.1", 65020, "default", "frr8")
    assert [p.address for p in summary.peers] == ["10.77.0.11", "10.77.0.12", "10.77.0.13"]
    assert all(p.established and p.prefixes_received == 1 and p.prefixes_sent == 1 for p in summary.peers)
    assert summary.peers[0].up_down == "00:00:11" and summary.peers[0].msg_rcvd == 14
    assert summary.peers[0].description is None


def test_frr84_states_dynamic_and_description() -> None:
    summary = parse(FIXTURES / "parsers" / "frr84" / "r1-ip_bgp_summary.txt")
    by = {p.address: p for p in summary.peers}
    assert by["192.168.100.100"].dynamic and by["192.168.100.100"].established
    assert by["10.77.1.11"].description == "k8s node n1"  # FRR cut "k8s node n1 (metallb)"
    assert (by["10.77.1.99"].state, by["10.77.1.99"].prefixes_received) == ("Active", None)
    assert by["10.77.1.99"].up_down == "never"
    assert by["10.77.2.99"].state == "Idle (Admin)" and by["10.77.2.99"].remote_as == 65022
    assert (summary.total_neighbors, summary.dynamic_neighbors, summary.dynamic_limit) == (5, 1, 100)


def test_policy_counts_as_established_with_zero_and_a_flag() -> None:
    peer = parse(FIXTURES / "parsers" / "frr84" / "n2-ip_bgp_summary.txt").peers[0]
    assert (peer.state, peer.prefixes_received, peer.prefixes_sent, peer.policy_blocked) == ("Established", 0, 1, True)


def test_frr7_vyos13_layout() -> None:
    summary = parse(FRR7 / "ntc-templates-vyos13.txt")
    assert (summary.router_id, summary.local_as, summary.vrf_id, summary.layout) == ("10.10.10.1", 123456, 0, "frr7")
    assert [(p.address, p.remote_as, p.state, p.prefixes_received, p.prefixes_sent) for p in summary.peers] == [
        ("10.10.10.10", 1234, "Established", 0, None),
        ("123.123.123.123", 345612, "Established", 0, None),
        ("193.189.82.105", 12365, "Active", None, None),
    ]
    assert summary.peers[0].up_down == "5d13h10m" and summary.peers[0].msg_sent == 69353


def test_frr7_dynamic_neighbors_and_four_byte_as() -> None:
    summary = parse(FRR7 / "purelb-dynamic.txt")
    assert summary.local_as == 4200000001
    assert [p.address for p in summary.peers if p.dynamic] == [f"172.30.250.10{i}" for i in range(1, 6)]
    assert {p.remote_as for p in summary.peers if p.dynamic} == {4200000003}
    assert summary.peer("172.30.255.1") is not None and not summary.peer("172.30.255.1").dynamic
    assert (summary.dynamic_neighbors, summary.dynamic_limit, summary.total_neighbors) == (5, 100, 7)
    assert sum(p.prefixes_received or 0 for p in summary.peers) == 49


def test_frr7_hostname_form_and_wide_counters() -> None:
    summary = parse(FRR7 / "frr-pr5817-hostname.txt")
    robot = summary.peers[-1]
    assert (robot.hostname, robot.address, robot.state) == ("robot", "192.168.201.139", "Connect")
    assert robot.msg_rcvd == 11159975
    assert summary.peer("65.19.134.122").prefixes_received == 800670


def test_frr7_pfxsnt_without_desc() -> None:
    peer = parse(FRR7 / "frr-issue6520-pfxsnt.txt").peers[0]
    assert (peer.address, peer.remote_as, peer.state, peer.prefixes_sent) == ("2a02:4780::1", 0, "Active", 0)


def test_long_neighbor_wrapped_onto_its_own_line() -> None:
    summary = parse(FRR7 / "wrapped-constructed.txt")
    assert [(p.address, p.dynamic, p.hostname, p.state) for p in summary.peers] == [
        ("192.168.100.100", True, None, "Established"),
        ("192.168.100.21", False, None, "Established"),
        ("192.168.100.23", False, "n3", "Idle (Admin)"),
    ]


def test_multiword_description_and_every_fsm_state() -> None:
    head = (FIXTURES / "outputs" / "frr-r1-show_ip_bgp_summary.txt").read_text().split("10.77.0.11")[0]
    rows = [
        "10.0.0.1        4      65021         0         0        0    0    0    never      Connect        0 rack 1 top",
        "10.0.0.2        4      65021         3         2        0    0    0 00:00:01     OpenSent        0 N/A",
        "10.0.0.3        4      65021         0         0        0    0    0    never  Idle (PfxCt)        0 N/A",
        "10.0.0.4        4      65021      1000       999        0    0    0 1d02h03m            0        0 x",
    ]
    summary = bgp_summary.parse(head + "\n".join(rows) + "\n\nTotal number of neighbors 4\n")
    assert [(p.state, p.description) for p in summary.peers] == [
        ("Connect", "rack 1 top"),
        ("OpenSent", None),
        ("Idle (PfxCt)", None),
        ("Established", "x"),
    ]


@pytest.mark.parametrize("text", ["% No BGP neighbors found in VRF default\n", "% BGP instance not found\n"])
def test_no_neighbors_is_an_empty_summary(text: str) -> None:
    summary = bgp_summary.parse(text)
    assert summary.peers == [] and summary.layout == "empty"


@pytest.mark.parametrize("text", ["% Unknown command: show ip bgp summry\n", "", "interface: wg0\n"])
def test_not_a_summary_raises_parse_error(text: str) -> None:
    with pytest.raises(ParseError, match="show ip bgp summary") as info:
        bgp_summary.parse(text)
    assert "\n" not in str(info.value)


def test_a_row_the_template_does_not_understand_is_an_error() -> None:
    text = (FIXTURES / "outputs" / "frr-r1-show_ip_bgp_summary.txt").read_text()
    broken = text.replace("10.77.0.12      4      65021", "10.77.0.12      x      65021")
    with pytest.raises(ParseError, match="3 neighbor rows, 2 understood"):
        bgp_summary.parse(broken)


# --- every layout FRR 7.5 .. 10 prints, from FRR's documentation and topotests (sources in the fixtures) ---

DOC = FIXTURES / "parsers" / "frr-doc"


@pytest.mark.parametrize(
    ("name", "vrf", "layout"),
    [
        ("frr75-policy.txt", None, "frr7"),
        ("frr91-policy.txt", "default", "frr8"),
        ("frr10-policy.txt", "default", "frr8"),
    ],
)
def test_policy_rows_of_frr_7_9_10_are_established_with_their_counts(name: str, vrf: str | None, layout: str) -> None:
    summary = bgp_summary.parse(load(DOC / name))
    assert (summary.afi_safi, summary.vrf, summary.layout, summary.local_as) == ("IPv4 Unicast", vrf, layout, 65001)
    v4, v6 = summary.peers
    # "5 (Policy) N/A": 5 prefixes received, nothing sent (no outbound policy): Established, not down
    assert (v4.address, v4.state, v4.prefixes_received, v4.prefixes_sent, v4.policy_blocked) == (
        "192.168.0.2",
        "Established",
        5,
        0,
        True,
    )
    assert v4.description is None and v4.up_down == "00:03:09"
    assert (v6.address, v6.state, v6.prefixes_received, v6.prefixes_sent) == ("fe80:1::2222", "Established", 0, 0)


def test_software_version_in_the_desc_column() -> None:
    summary = bgp_summary.parse(load(DOC / "frr91-software-version.txt"))
    assert [(p.address, p.prefixes_received, p.prefixes_sent, p.description) for p in summary.peers] == [
        ("10.0.0.4", 5, 12, "FRRouting/8.5.1"),
        ("10.0.0.5", 5, 12, "FRRouting/9.0"),
        ("192.168.67.7", 2, 10, "FRRouting/9.1-dev-MyOwnFRRVersion-g3c8c08dcd9"),
    ]


def test_topotest_reference_without_heading_active_peers_with_descriptions() -> None:
    summary = bgp_summary.parse(load(DOC / "topotest-show_ip_bgp_summary.txt"))
    assert summary.afi_safi is None and summary.vrf == "default" and summary.local_as == 100
    assert [(p.address, p.state, p.prefixes_received, p.prefixes_sent, p.description) for p in summary.peers] == [
        ("192.168.7.10", "Active", None, 0, "Transit_cogent"),
        ("192.168.7.20", "Active", None, 0, "Client_Bibi_Full"),
        ("fc00:0:0:8::1000", "Active", None, 0, "Transit_cogent_v6"),
        ("fc00:0:0:8::2000", "Active", None, 0, "Client_Toto_default"),
    ]


def test_wide_layout_is_refused_not_misread() -> None:
    with pytest.raises(ParseError, match="wide"):
        bgp_summary.parse(load(DOC / "frr85-wide.txt"))


def test_two_address_families_are_two_summaries() -> None:
    text = (FIXTURES / "parsers" / "frr84" / "r1-bgp_summary_families.txt").read_text()
    v4, v6 = bgp_summary.parse_all(text)
    assert (v4.afi_safi, v6.afi_safi) == ("IPv4 Unicast", "IPv6 Unicast")
    assert [(p.address, p.prefixes_received, p.prefixes_sent, p.policy_blocked) for p in v4.peers] == [
        ("10.77.1.11", 2, 0, True)
    ]
    assert [(p.address, p.prefixes_received, p.description) for p in v6.peers] == [
        ("2001:db8:1::11", 1, "n1 over IPv6")
    ]
    assert bgp_summary.parse(text) == v4 and bgp_summary.parse(text, "IPv6 Unicast") == v6
    empty = bgp_summary.parse(text, "L2VPN EVPN")
    assert empty.peers == [] and empty.layout == "empty"


@pytest.mark.parametrize(
    ("row", "what"),
    [
        ("00:03:09            5 Policy N/A", "Policy"),  # not FRR's "(Policy)"
        ("00:03:09     Estab        5 N/A", "Estab"),  # not an FSM state name FRR prints
        ("00:03:09            5", "00:03:09"),  # the PfxSnt column missing
    ],
)
def test_a_row_that_does_not_decode_is_an_error_naming_it(row: str, what: str) -> None:
    text = load(DOC / "frr91-policy.txt")
    good = "192.168.0.2     4      65002         8        10        0    0    0 00:03:09            5 (Policy) N/A"
    bad = good.replace("00:03:09            5 (Policy) N/A", row)
    with pytest.raises(ParseError, match="192.168.0.2") as info:
        bgp_summary.parse(text.replace(good, bad))
    assert what in str(info.value) and "\n" not in str(info.value)


def test_no_neighbor_in_any_family_is_no_block() -> None:
    assert bgp_summary.parse_all("% No BGP neighbors found in VRF default\n") == []
    assert bgp_summary.parse_all("\nIPv6 Unicast Summary:\nNo IPv6 Unicast neighbor is configured\n") == []
