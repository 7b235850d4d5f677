"""inventory.speakers: which nodes' MetalLB speakers peer with the router (Ready ones and down ones)."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Interface

from inventory.kube import KubeNode
from inventory.model import BGP, Credentials, MetalLBPeer, NodeSelector, Router
from inventory.speakers import router_addresses, router_peers, speaker_nodes

ROUTER = Router(
    name="k8s-router-1-prd",
    management_address="203.0.113.4",
    public_address=IPv4Interface("203.0.113.4/28"),
    node_address=IPv4Interface("192.168.100.1/24"),
    bgp=BGP(asn=65020),
    credentials=Credentials(username="vyos"),
)


def node(name: str, *, ready: bool, pod: bool = True, zone: str = "a") -> KubeNode:
    return KubeNode(
        name=name,
        internal_ip=IPv4Address(f"192.168.100.{10 + int(name[-1])}"),
        ready=True,
        speaker_ready=ready,
        speaker_pod=f"speaker-{name}" if pod else None,
        labels={"zone": zone},
    )


def peer(address: str, *, zone: str | None = None) -> MetalLBPeer:
    selectors = [NodeSelector(match_labels={"zone": zone})] if zone else []
    return MetalLBPeer(
        name=f"to-{address}",
        peer_address=IPv4Address(address),
        peer_asn=65020,
        my_asn=65021,
        node_selectors=selectors,
    )


NODES = [
    node("n1", ready=True, zone="a"),
    node("n2", ready=True, zone="b"),
    node("n3", ready=False, zone="a"),
    node("n4", ready=False, zone="b"),
    node("n5", ready=False, pod=False, zone="a"),  # no speaker pod placed: neither Ready nor down
]


def names(nodes: list[KubeNode]) -> list[str]:
    return [n.name for n in nodes]


def test_router_addresses_are_its_public_and_node_side_ones() -> None:
    assert router_addresses(ROUTER) == {IPv4Address("203.0.113.4"), IPv4Address("192.168.100.1")}
    assert router_addresses(None) == set()


def test_router_peers_keep_only_peers_naming_the_router() -> None:
    peers = [peer("203.0.113.4"), peer("10.0.0.9"), peer("192.168.100.1")]
    assert [p.peer_address for p in router_peers(peers, ROUTER)] == [
        IPv4Address("203.0.113.4"),
        IPv4Address("192.168.100.1"),
    ]
    assert router_peers(peers, None) == []


def test_without_selectors_every_ready_speaker_peers_and_down_ones_are_those_with_a_pod() -> None:
    peers = [peer("192.168.100.1")]
    assert names(speaker_nodes(NODES, peers, ROUTER)) == ["n1", "n2"]
    assert names(speaker_nodes(NODES, peers, ROUTER, ready=False)) == ["n3", "n4"]


def test_node_selectors_of_the_routers_peer_decide() -> None:
    peers = [peer("192.168.100.1", zone="a")]
    assert names(speaker_nodes(NODES, peers, ROUTER)) == ["n1"]
    assert names(speaker_nodes(NODES, peers, ROUTER, ready=False)) == ["n3"]


def test_several_peers_to_the_router_select_any_of_their_nodes() -> None:
    peers = [peer("192.168.100.1", zone="a"), peer("203.0.113.4", zone="b")]
    assert names(speaker_nodes(NODES, peers, ROUTER)) == ["n1", "n2"]


def test_a_peer_elsewhere_does_not_narrow_the_routers_speakers() -> None:
    # Only a peer to another router, selecting zone b: no peer names this router, so every speaker counts.
    peers = [peer("10.0.0.9", zone="b")]
    assert names(speaker_nodes(NODES, peers, ROUTER)) == ["n1", "n2"]
    # With a peer to this router as well, only its selection counts.
    peers.append(peer("192.168.100.1", zone="a"))
    assert names(speaker_nodes(NODES, peers, ROUTER)) == ["n1"]
    # No router in the model: no peer can name it.
    assert names(speaker_nodes(NODES, [peer("192.168.100.1", zone="a")], None)) == ["n1", "n2"]
