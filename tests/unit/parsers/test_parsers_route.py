"""show ip route PREFIX (detail) and show ip route (table)."""

from __future__ import annotations

from pathlib import Path

import pytest

from checks.parsers import ParseError, route

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
FRR84 = FIXTURES / "parsers" / "frr84"


def test_reference_multipath_route() -> None:
    (entry,) = route.parse((FIXTURES / "outputs" / "frr-r1-show_ip_route_198.51.100.10.txt").read_text())
    assert (entry.prefix, entry.protocol, entry.distance, entry.metric) == ("198.51.100.10/32", "bgp", 20, 0)
    assert entry.selected and entry.fib and entry.uptime == "00:00:10"
    assert [(n.address, n.interface, n.weight, n.fib, n.active) for n in entry.nexthops] == [
        ("10.77.0.11", "eth1", 1, True, True),
        ("10.77.0.12", "eth1", 1, True, True),
        ("10.77.0.13", "eth1", 1, True, True),
    ]


def test_one_next_hop_blackhole_and_connected() -> None:
    (one,) = route.parse((FRR84 / "r1-ip_route_198.51.100.20_32.txt").read_text())
    assert [n.address for n in one.fib_nexthops] == ["10.77.1.11"]
    (blackhole,) = route.parse((FRR84 / "r1-ip_route_198.51.100.0_28.txt").read_text())
    assert blackhole.protocol == "static" and blackhole.distance == 254 and blackhole.nexthops[0].blackhole
    (connected,) = route.parse((FRR84 / "r1-ip_route_10.77.1.0_24.txt").read_text())
    assert connected.nexthops[0].directly_connected and connected.nexthops[0].interface == "eth1"


def test_inactive_recursive_and_not_selected() -> None:
    text = (
        "Routing entry for 10.0.0.0/8\n"
        '  Known via "static", distance 1, metric 0\n'
        "  Last update 00:01:00 ago\n"
        "    10.9.9.9 (recursive)\n"
        "      10.77.1.11, via eth1 inactive, weight 1\n"
        "\n"
    )
    (entry,) = route.parse(text)
    assert not entry.selected and not entry.fib
    assert [(n.address, n.recursive, n.resolver, n.active) for n in entry.nexthops] == [
        ("10.9.9.9", True, False, True),
        ("10.77.1.11", False, True, False),
    ]


def test_table_reference_capture() -> None:
    routes = route.parse_table((FIXTURES / "outputs" / "frr-r1-show_ip_route.txt").read_text())
    assert [(r.protocol, r.prefix, len(r.nexthops)) for r in routes] == [
        ("connected", "10.77.0.0/24", 1),
        ("connected", "172.31.255.0/24", 1),
        ("bgp", "198.51.100.10/32", 3),
    ]
    bgp = routes[-1]
    assert (bgp.distance, bgp.metric, bgp.selected, bgp.fib, bgp.uptime) == (20, 0, True, True, "00:00:09")
    assert [n.address for n in bgp.nexthops] == ["10.77.0.11", "10.77.0.12", "10.77.0.13"]


def test_not_in_table_is_empty_and_garbage_is_an_error() -> None:
    assert route.parse("% Network not in table\n") == []
    with pytest.raises(ParseError, match="show ip route"):
        route.parse("% Unknown command: show ip rout 1.2.3.4\n")
    with pytest.raises(ParseError, match="show ip route"):
        route.parse_table("% Unknown command: show ip rout\n")


@pytest.mark.parametrize(
    ("line", "after"),
    [
        ("  * 10.77.1.11 via eth1, weird", "  Last update"),  # a next hop the template cannot read
        ("  Flags: something new", "  Last update"),  # a line zebra does not print
    ],
)
def test_detail_line_not_understood_is_an_error_naming_it(line: str, after: str) -> None:
    text = (FRR84 / "r1-ip_route_198.51.100.20_32.txt").read_text()
    head, tail = text.split(after, 1)
    first, rest = tail.split("\n", 1)
    broken = head + after + first + "\n" + line + "\n" + rest
    with pytest.raises(ParseError, match="show ip route") as info:
        route.parse(broken)
    assert line.strip().split()[0] in str(info.value) or "next hop lines" in str(info.value)


def test_table_line_not_understood_is_an_error_naming_it() -> None:
    text = (FRR84 / "r1-ip_route.txt").read_text() + "X? 10.0.0.0/8 something\n"
    with pytest.raises(ParseError, match="X\\? 10.0.0.0/8"):
        route.parse_table(text)


def test_nexthop_group_and_opaque_lines_are_known() -> None:
    text = (FRR84 / "r1-ip_route_198.51.100.20_32.txt").read_text()
    extra = "  Nexthop Group ID: 25\n  Installed Nexthop Group ID: 26\n"
    text = text.replace(" ago\n", " ago\n" + extra, 1) + "    AS-Path          : 65021\n"
    (entry,) = route.parse(text)
    assert [n.address for n in entry.nexthops] == ["10.77.1.11"]
