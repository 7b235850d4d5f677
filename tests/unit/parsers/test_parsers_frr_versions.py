"""Real output of the FRR versions VyOS ships (1.3: FRR 7.5; 1.4: FRR 9.1) for every parser, from FRR's own
documentation and topotest references at the frr-7.5.1 and frr-9.1.3 tags (tests/fixtures/parsers/frr-tags,
each file names its source). The lab runs Debian's FRR 8.4 for both dialects (lab/README.md), so these are the
only check that the parsers read what a real 1.3 or 1.4 router prints."""

from __future__ import annotations

from pathlib import Path

from checks.parsers import bfd_peers, bgp_prefix, bgp_summary, route
from tests.unit.fixture_text import load

D = Path(__file__).resolve().parents[2] / "fixtures" / "parsers" / "frr-tags"


def test_bfd_peers_75_one_echo_line_is_the_receive_interval() -> None:
    peers = bfd_peers.parse(load(D / "frr75-bfd_peers.txt")).peers
    assert [(p.peer, p.status, p.uptime) for p in peers] == [("192.168.0.1", "up", 111), ("192.168.1.1", "up", 113)]
    # 7.5 prints required_min_echo as "Echo transmission interval" (bfdd_vty.c _display_peer at frr-7.5.1)
    assert peers[0].remote.echo_receive_interval == 50 and peers[0].remote.echo_transmit_interval is None
    assert (peers[0].local.detect_multiplier, peers[0].local.receive_interval) == (3, 300)


def test_bfd_peers_91() -> None:
    peers = bfd_peers.parse(load(D / "frr91-bfd_peers.txt")).peers
    assert len(peers) == 2 and all(p.status == "up" for p in peers)
    assert (peers[0].local.echo_receive_interval, peers[0].local.echo_transmit_interval) == (50, 0)
    assert peers[1].remote.echo_receive_interval == 50


def test_bgp_summary_75_and_91_topotest_references() -> None:
    s75 = bgp_summary.parse(load(D / "frr75-bgp_summary-topotest.txt"))
    assert (s75.layout, s75.router_id, s75.local_as, s75.vrf_id) == ("frr7", "192.168.0.1", 100, 0)
    assert [p.address for p in s75.peers][-1] == "fc00:0:0:8::2000"
    assert all(p.state == "Active" and p.prefixes_sent == 0 and p.description is None for p in s75.peers)
    s91 = bgp_summary.parse(load(D / "frr91-bgp_summary-topotest.txt"))
    assert [p.description for p in s91.peers][:2] == ["Transit_cogent", "Client_Bibi_Full"]
    assert all(p.up_down == "never" for p in s91.peers)


def test_route_detail_75_and_91() -> None:
    for name in ("frr75-route_detail-wecmp.txt", "frr91-route_detail-wecmp.txt"):
        (entry,) = route.parse(load(D / name))
        assert (entry.prefix, entry.protocol, entry.distance, entry.selected) == ("192.168.10.1/32", "bgp", 20, True)
        assert [(h.address, h.interface, h.weight) for h in entry.nexthops] == [
            ("fe80::202:ff:fe00:1b", "swp2", 66),
            ("fe80::202:ff:fe00:15", "swp1", 33),
        ]


def test_route_table_91_sixteen_way_ecmp() -> None:
    (entry,) = route.parse_table(load(D / "frr91-route_table-ecmp.txt"))
    assert (entry.prefix, entry.protocol, entry.selected, entry.fib) == ("4.4.4.4/32", "sharp", True, True)
    assert len(entry.nexthops) == 16 and entry.nexthops[-1].address == "192.168.161.16"


def test_bgp_prefix_75_heading_without_version() -> None:
    for name in ("frr75-bgp_prefix-wecmp.txt", "frr91-bgp_prefix-wecmp.txt"):
        p = bgp_prefix.parse(load(D / name))
        assert p is not None and (p.prefix, p.version) == ("192.168.10.1/32", None)
        assert [(x.nexthop, x.best, x.multipath) for x in p.paths] == [
            ("fe80::202:ff:fe00:1b", False, True),
            ("fe80::202:ff:fe00:15", True, True),
        ]
