"""The verify checks on parsed fixtures: each passes on good state and fails with a reason naming the cause."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network

from checks import bgp, compliance, consistency, ecmp, proxyarp, wireguard
from checks.config_diff import ManagedScope
from checks.parsers import bgp_summary, config_commands, interfaces, route
from checks.parsers import wireguard as wg_parser
from inventory.model import Cluster, MetalLBPeer, Node, Pool, Service, Speaker
from tests.conftest import FIXTURES
from tests.unit import router_fixtures

PARSERS = FIXTURES / "parsers"
ROUTE_3 = """Routing entry for 198.51.100.1/32
  Known via "bgp", distance 20, metric 0, best
  Last update 00:00:37 ago
    203.0.113.11 (recursive), weight 1
  *   203.0.113.11, via eth1 onlink, weight 1
    203.0.113.12 (recursive), weight 1
  *   203.0.113.12, via eth1 onlink, weight 1
    203.0.113.13 (recursive), weight 1
  *   203.0.113.13, via eth1 onlink, weight 1
"""
SUMMARY_3 = """
IPv4 Unicast Summary (VRF default):
BGP router identifier 203.0.113.4, local AS number 65020 vrf-id 0
BGP table version 2
RIB entries 3, using 576 bytes of memory
Peers 3, using 2172 KiB of memory

Neighbor        V         AS   MsgRcvd   MsgSent   TblVer  InQ OutQ  Up/Down State/PfxRcd   PfxSnt Desc
203.0.113.11    4      65021        42        42        0    0    0 00:00:38            2        2 $
203.0.113.12    4      65021        42        42        0    0    0 00:00:38            2        2 $
203.0.113.13    4      65021        42        42        0    0    0 00:00:38            1        2 $

Total number of neighbors 3
""".replace("$\n", "\n")  # FRR pads the empty Desc column with a trailing space
WEB = Service(namespace="default", name="web", ips=["198.51.100.1"])  # type: ignore[list-item]


def lab_cluster() -> Cluster:
    return router_fixtures.cluster()


def down_node1(c: Cluster) -> tuple[Cluster, list[Speaker]]:
    """node1's speaker pod is not Ready: the model's speakers drop it, verify knows it as down."""
    first = c.speakers[0]
    return c.model_copy(update={"speakers": c.speakers[1:]}), [first.model_copy(update={"ready": False})]


def test_bgp_peers_pass_on_three_established_speakers() -> None:
    summary = bgp_summary.parse(SUMMARY_3)
    c = lab_cluster()
    assert bgp.check_peers("r", c, summary).status == "pass"
    assert bgp.check_unexpected("r", c, summary).status == "pass"


def test_bgp_peers_names_active_and_missing_speakers_from_frr_fixture() -> None:
    summary = bgp_summary.parse((PARSERS / "frr84" / "r1-ip_bgp_summary.txt").read_text())
    c = lab_cluster().model_copy(
        update={
            "speakers": [
                Speaker(name="n1", address="10.77.1.11"),  # type: ignore[arg-type]
                Speaker(name="n9", address="10.77.1.99"),  # type: ignore[arg-type]
                Speaker(name="gone", address="10.77.3.3"),  # type: ignore[arg-type]
            ]
        }
    )
    result = bgp.check_peers("r1", c, summary)
    assert result.status == "fail"
    assert "n9 (10.77.1.99) is Active" in result.reason
    assert "gone (10.77.3.3) is not a neighbor" in result.reason
    assert "n1" not in result.reason
    extra = bgp.check_unexpected("r1", c, summary)
    assert extra.status == "fail" and "10.77.2.12" in extra.reason and "10.77.2.99" in extra.reason


def test_speaker_down_fails_bgp_peers_naming_the_node_but_is_not_unexpected() -> None:
    summary = bgp_summary.parse(
        SUMMARY_3.replace(
            "00:00:38            2        2 \n203.0.113.12", "00:00:09       Active        0 \n203.0.113.12", 1
        )
    )
    c, down = down_node1(lab_cluster())
    peers = bgp.check_peers("r", c, summary, down)
    assert peers.status == "fail"
    assert peers.reason == "k8s-node-1-server-prd (203.0.113.11): speaker pod not Ready in Kubernetes, neighbor Active"
    assert bgp.check_unexpected("r", c, summary, down).status == "pass"
    # Without the Kubernetes view the stale neighbor is only "unexpected".
    assert bgp.check_unexpected("r", c, summary).status == "fail"


def test_ecmp_pass_with_recursive_onlink_next_hops() -> None:
    entry = ecmp.selected_route(route.parse(ROUTE_3))
    result = ecmp.check_route("r", lab_cluster(), WEB, "198.51.100.1", entry)
    assert result.status == "pass" and result.subject == "default/web 198.51.100.1"


def test_ecmp_speaker_down_names_the_node_and_its_cause() -> None:
    two = "\n".join(line for line in ROUTE_3.splitlines() if "203.0.113.11" not in line) + "\n"
    c, down = down_node1(lab_cluster())
    result = ecmp.check_route("r", c, WEB, "198.51.100.1", ecmp.selected_route(route.parse(two)), down)
    assert result.status == "fail"
    assert result.reason == (
        "198.51.100.1: via 2 of 3 nodes, missing 203.0.113.11 (k8s-node-1-server-prd: speaker pod not Ready)"
    )
    # Policy Local without an endpoint on node1: node1 is not expected, down or not.
    local = WEB.model_copy(
        update={
            "external_traffic_policy": "Local",
            "endpoint_nodes": ["k8s-node-2-server-prd", "k8s-node-3-server-prd"],
        }
    )
    assert ecmp.check_route("r", c, local, "198.51.100.1", ecmp.selected_route(route.parse(two)), down).ok


def test_ecmp_fib_disagreement_and_missing_route_from_frr_fixtures() -> None:
    c = lab_cluster().model_copy(
        update={"speakers": [Speaker(name="n1", address="10.77.1.11")]}  # type: ignore[arg-type]
    )
    svc = Service(namespace="default", name="x", ips=["198.51.100.20"])  # type: ignore[list-item]
    entry = ecmp.selected_route(route.parse((PARSERS / "frr84" / "r1-ip_route_198.51.100.20_32.txt").read_text()))
    assert ecmp.check_route("r1", c, svc, "198.51.100.20", entry).ok
    not_in_fib = entry.model_copy(update={"nexthops": [entry.nexthops[0].model_copy(update={"fib": False})]})
    result = ecmp.check_route("r1", c, svc, "198.51.100.20", not_in_fib)
    assert result.status == "fail" and "kernel has none but FRR selected 10.77.1.11" in result.reason
    missing = ecmp.check_route("r1", c, svc, "198.51.100.20", None)
    assert missing.status == "fail" and "no route" in missing.reason


def test_proxyarp_on_fixture_config_names_what_is_missing() -> None:
    running = config_commands.parse((PARSERS / "vyos" / "show_configuration_commands-14.txt").read_text())
    ifaces = interfaces.parse((PARSERS / "vyos" / "show_interfaces-14-rendered.txt").read_text())
    c = lab_cluster()
    result = proxyarp.check_proxyarp("r1", c, running, ifaces)
    assert result.status == "fail"
    assert "no proxy-ARP on eth0" in result.reason
    assert "no host route via eth1 for 203.0.113.11, 203.0.113.12, 203.0.113.13" in result.reason
    private = c.model_copy(update={"node_subnet": "private"})
    assert proxyarp.check_proxyarp("r1", private, running, ifaces).ok
    down = [i.model_copy(update={"link_state": "down"}) if i.name == "eth1" else i for i in ifaces]
    assert "eth1 is up/down" in proxyarp.check_proxyarp("r1", private, running, down).reason


def test_proxyarp_accepts_both_dialects_of_host_routes() -> None:
    c = lab_cluster()
    lines = ["set interfaces ethernet eth0 ip enable-proxy-arp", "set interfaces ethernet eth1 ip enable-proxy-arp"]
    lines += [f"set protocols static route 203.0.113.1{i}/32 interface eth1" for i in (1, 2)]
    lines += ["set protocols static interface-route 203.0.113.13/32 next-hop-interface eth1"]
    assert proxyarp.check_proxyarp("r", c, config_commands.parse("\n".join(lines))).ok


def test_wireguard_handshake_by_peer_key() -> None:
    iface = wg_parser.parse_interface((PARSERS / "wireguard" / "wg-show-two-peers.txt").read_text())
    c = lab_cluster()
    wg = c.wireguard
    assert wg is not None
    fresh = c.model_copy(update={"wireguard": wg.model_copy(update={"peer_public_key": iface.peers[0].public_key})})
    assert wireguard.check_handshake("r", fresh, iface).reason == "venue: handshake 2 s ago"
    never = c.model_copy(update={"wireguard": wg.model_copy(update={"peer_public_key": iface.peers[1].public_key})})
    assert wireguard.check_handshake("r", never, iface).reason == "venue: never shook hands"
    old = wireguard.check_handshake("r", fresh, iface, max_age=1)
    assert old.status == "fail" and old.reason == "venue: latest handshake 2 s ago (limit 1 s)"
    absent = wireguard.check_handshake("r", c, iface)
    assert absent.status == "fail" and "no peer with the venue's key" in absent.reason
    assert wireguard.check_handshake("r", c, None).reason == "no interface wg0"


def test_wireguard_handshake_age_in_minutes_from_reference_capture() -> None:
    text = (FIXTURES / "outputs" / "wireguard-wg-show.txt").read_text().split("\n# ")[0]  # the router's view
    iface = wg_parser.parse_interface(text.split("\n", 1)[1].replace("3 seconds ago", "3 minutes, 5 seconds ago"))
    c = lab_cluster()
    result = wireguard.check_handshake("r", c, iface)
    assert result.status == "fail" and result.reason == "venue: latest handshake 3 min 5 s ago (limit 180 s)"


def test_wireguard_probe_address_default_and_ping_verdicts() -> None:
    c = lab_cluster()
    wg = c.wireguard
    assert wg is not None
    assert wireguard.probe_address(wg) == IPv4Address("10.88.0.1")
    assert wireguard.probe_address(wg.model_copy(update={"probe_address": IPv4Address("10.88.0.9")})) == IPv4Address(
        "10.88.0.9"
    )
    assert wireguard.probe_address(wg.model_copy(update={"venue_networks": []})) is None
    ok = wireguard.check_reachable("r", c, IPv4Address("10.88.0.1"), PING_OK)
    assert ok.ok and ok.reason == "10.88.0.1: 2/2 replies, avg 0.633 ms"
    lost = wireguard.check_reachable("r", c, IPv4Address("10.88.0.1"), PING_LOST)
    assert lost.status == "fail" and lost.reason == "10.88.0.1 (venue) did not answer through wg0: 0/2 replies"
    bad = wireguard.check_reachable("r", c, IPv4Address("10.88.0.1"), "\n  Invalid command: [ping 10.88.0.1 x]\n")
    assert bad.status == "fail" and "Invalid command" in bad.reason


PING_OK = """PING 10.88.0.1 (10.88.0.1) 56(84) bytes of data.
64 bytes from 10.88.0.1: icmp_seq=1 ttl=64 time=0.820 ms
64 bytes from 10.88.0.1: icmp_seq=2 ttl=64 time=0.447 ms

--- 10.88.0.1 ping statistics ---
2 packets transmitted, 2 received, 0% packet loss, time 1027ms
rtt min/avg/max/mdev = 0.447/0.633/0.820/0.186 ms
"""
PING_LOST = """PING 10.88.0.1 (10.88.0.1) 56(84) bytes of data.

--- 10.88.0.1 ping statistics ---
2 packets transmitted, 0 received, 100% packet loss, time 1015ms

"""


def test_running_bgp_both_dialects_and_peer_groups() -> None:
    fixture = config_commands.parse((PARSERS / "vyos" / "show_configuration_commands-14.txt").read_text())
    got = consistency.running_bgp(fixture)
    assert got.asn == 65020
    assert got.neighbors == {"192.168.100.21": 65021}
    assert got.blackholes == {IPv4Network("198.51.100.0/28")}
    v13 = config_commands.parse(
        "set protocols bgp 65020 neighbor 203.0.113.11 peer-group 'metallb'\n"
        "set protocols bgp 65020 peer-group metallb remote-as '65021'\n"
        "set protocols static route 198.51.100.0/28 blackhole distance '254'\n"
    )
    got13 = consistency.running_bgp(v13)
    assert got13.asn == 65020 and got13.neighbors == {"203.0.113.11": 65021}


def _running_bgp(asn: int = 65020, remote: int = 65021, pools: str = "198.51.100.0/28") -> consistency.RunningBgp:
    return consistency.RunningBgp(
        asn=asn,
        neighbors={f"203.0.113.1{i}": remote for i in (1, 2, 3)},
        blackholes={IPv4Network(pools)},
    )


PEER = MetalLBPeer(name="router", peer_address="203.0.113.4", peer_asn=65020, my_asn=65021)  # type: ignore[arg-type]
POOLS = [Pool(name="globalIP", addresses=["198.51.100.0/28"])]  # type: ignore[list-item]


def test_metallb_consistency_pass_and_each_mismatch_named() -> None:
    c = lab_cluster()
    assert consistency.check_metallb("r", c, [PEER], POOLS, _running_bgp()).ok
    private = consistency.check_metallb(
        "r", c.model_copy(update={"node_subnet": "private"}), [PEER], POOLS, _running_bgp()
    )
    assert "peer-address 203.0.113.4, router is 192.168.100.1" in private.reason
    asn = consistency.check_metallb("r", c, [PEER], POOLS, _running_bgp(asn=65030))
    assert "peer-asn 65020, router runs AS 65030" in asn.reason
    mine = consistency.check_metallb("r", c, [PEER], POOLS, _running_bgp(remote=65099))
    assert "my-asn 65021, router neighbors expect AS 65099" in mine.reason
    pools = consistency.check_metallb("r", c, [PEER], POOLS, _running_bgp(pools="198.51.100.16/28"))
    assert "without a blackhole on the router: 198.51.100.0/28" in pools.reason
    assert "no MetalLB pool: 198.51.100.16/28" in pools.reason
    assert "MetalLB has no BGP peer" in consistency.check_metallb("r", c, [], POOLS, _running_bgp()).reason


def test_nodes_consistency() -> None:
    c = lab_cluster()
    views = [consistency.KubeNodeView(n.name, n.address) for n in c.nodes]
    assert consistency.check_nodes(c, views).ok
    assert consistency.check_nodes(c, views).host == "kubernetes"
    moved = [views[0], views[1], consistency.KubeNodeView(views[2].name, IPv4Address("203.0.113.14"), ready=False)]
    extra = [*moved, consistency.KubeNodeView("k8s-node-9", IPv4Address("203.0.113.9"))]
    result = consistency.check_nodes(c, extra)
    assert "k8s-node-3-server-prd: Kubernetes InternalIP 203.0.113.14, tfstate 203.0.113.13" in result.reason
    assert "k8s-node-3-server-prd is NotReady in Kubernetes" in result.reason
    assert "k8s-node-9 (203.0.113.9) is in Kubernetes but not in tfstate" in result.reason
    gone = consistency.check_nodes(c, views[:2])
    assert gone.reason == "k8s-node-3-server-prd (203.0.113.13) is in tfstate but not in Kubernetes"
    # a node only Kubernetes knows (build adds it with source "kubernetes") is no tfstate node
    c2 = c.model_copy(update={"nodes": [*c.nodes, Node(name="k", address="203.0.113.14", source="kubernetes")]})  # type: ignore[arg-type]
    assert (
        "k (203.0.113.14) is in Kubernetes but not in tfstate"
        in consistency.check_nodes(c2, [*views, consistency.KubeNodeView("k", IPv4Address("203.0.113.14"))]).reason
    )


def test_compliance_lists_every_line_and_masks_secrets() -> None:
    scope = ManagedScope([("protocols", "bgp"), ("interfaces", "wireguard")])
    intended = [
        "set protocols bgp system-as '65020'",
        "set protocols bgp neighbor 203.0.113.11 remote-as '65021'",
        "set interfaces wireguard wg0 private-key 'SECRETKEY'",
    ]
    running = [
        "set protocols bgp system-as '65020'",
        "set protocols bgp neighbor 203.0.113.11 remote-as '65021'",
        "set protocols bgp neighbor 203.0.113.11 description 'hand-made'",
        "set interfaces wireguard wg0 private-key 'OLDSECRET'",
        "set system host-name 'r1'",
    ]
    found = compliance.drift(running, intended, scope, ["SECRETKEY"])
    assert found.lines == [
        "- set interfaces wireguard wg0 private-key '********'",
        "- set protocols bgp neighbor 203.0.113.11 description 'hand-made'",
        "+ set interfaces wireguard wg0 private-key '********'",
    ]
    result = compliance.check_config("r", lab_cluster(), found)
    assert result.status == "fail" and result.reason.startswith("2 extra, 1 missing: - set interfaces wireguard")
    assert "SECRET" not in result.reason and "OLDSECRET" not in result.reason
    assert compliance.check_config("r", lab_cluster(), compliance.drift(intended, intended, scope)).ok
    many = compliance.drift([], [f"set protocols bgp neighbor 10.0.0.{i} remote-as '1'" for i in range(6)], scope)
    assert compliance.check_config("r", lab_cluster(), many).reason.endswith("; ... 3 more")
