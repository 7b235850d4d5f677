"""show ip bgp PREFIX: multipath paths, single path, not in table."""

from __future__ import annotations

from pathlib import Path

import pytest

from checks.parsers import ParseError, bgp_prefix

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


def test_reference_three_paths_one_best_all_multipath() -> None:
    entry = bgp_prefix.parse((FIXTURES / "outputs" / "frr-r1-show_ip_bgp_198.51.100.10.txt").read_text())
    assert entry is not None and (entry.prefix, entry.version) == ("198.51.100.10/32", 1)
    assert [(p.nexthop, p.from_address, p.as_path, p.best, p.multipath, p.valid) for p in entry.paths] == [
        ("10.77.0.12", "10.77.0.12", "65021", False, True, True),
        ("10.77.0.13", "10.77.0.13", "65021", False, True, True),
        ("10.77.0.11", "10.77.0.11", "65021", True, True, True),
    ]
    assert entry.best is not None and entry.best.best_reason == "Router ID"
    assert sorted(entry.multipath_nexthops) == ["10.77.0.11", "10.77.0.12", "10.77.0.13"]


def test_single_path_is_best_not_multipath() -> None:
    entry = bgp_prefix.parse((FIXTURES / "parsers" / "frr84" / "r1-ip_bgp_198.51.100.20_32.txt").read_text())
    assert entry is not None
    (path,) = entry.paths
    assert path.best and not path.multipath and path.best_reason == "First path received"


def test_local_path_inaccessible_and_longer_as_path() -> None:
    text = (
        "BGP routing table entry for 203.0.113.0/24, version 7\n"
        "Paths: (2 available, best #1, table default)\n"
        "  Not advertised to any peer\n"
        "  Local, (Received from a RR-client)\n"
        "    0.0.0.0 from 0.0.0.0 (10.77.0.1)\n"
        "      Origin incomplete, metric 0, localpref 100, weight 32768, valid, sourced, local,"
        " best (First path received)\n"
        "      Last update: Thu Nov 26 11:56:43 2026\n"
        "  65021 65030 {65040,65041}\n"
        "    10.77.0.99 (inaccessible) from 10.77.0.12 (10.77.0.12)\n"
        "      Origin IGP, metric 0\n"
    )
    entry = bgp_prefix.parse(text)
    assert entry is not None
    local, far = entry.paths
    assert (local.as_path, local.nexthop, local.localpref) == ("Local", "0.0.0.0", 100)
    assert local.best and local.origin == "incomplete"
    assert (far.as_path, far.nexthop, far.accessible) == ("65021 65030 {65040,65041}", "10.77.0.99", False)
    assert not far.valid


def test_not_in_table_is_none_and_garbage_is_an_error() -> None:
    assert bgp_prefix.parse("% Network not in table\n") is None
    with pytest.raises(ParseError, match="show ip bgp"):
        bgp_prefix.parse("% Unknown command: show ip bgpp 1.2.3.4\n")


def test_a_path_block_not_understood_is_an_error_not_a_path_less() -> None:
    text = (FIXTURES / "parsers" / "frr84" / "r1-ip_bgp_198.51.100.10_32.txt").read_text()
    broken = text.replace("\n  65021\n", "\n  AS65021\n", 1)
    assert broken != text
    with pytest.raises(ParseError, match="3 paths, 2 understood"):
        bgp_prefix.parse(broken)


def test_communities_of_a_path() -> None:
    from tests.unit.fixture_text import load

    (path,) = bgp_prefix.parse(load(FIXTURES / "parsers" / "frr-doc" / "show_ip_bgp_prefix-community.txt")).paths
    assert path.communities == ["65001:12", "65001:13", "community-1", "65001:65534"]
    assert path.large_communities == ["lcommunity-1", "65001:123:2"]
    assert (path.as_path, path.nexthop, path.router_id, path.best_reason) == (
        "65030",
        "192.168.0.2",
        "172.16.16.1",
        "Neighbor IP",
    )
