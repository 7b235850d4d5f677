"""Which nodes' MetalLB speakers peer with the router: the one selection that inventory (the model's speakers),
the deploy gate and verify (speakers that are down) share.

A speaker peers with the router when one of the MetalLB peers whose address is the router's (public or node-side)
selects its node (the peer's node selectors; none select every node, several any of them, as MetalLB does).
When no peer names the router (no MetalLB configuration, or one that peers elsewhere: inventory reports that as
a disagreement), every speaker counts, so the router still gets its neighbours.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from ipaddress import IPv4Address

from inventory.kube import KubeNode
from inventory.model import MetalLBPeer, Router


def router_addresses(router: Router | None) -> set[IPv4Address]:
    """The addresses a MetalLB peer may name the router by: its public and its node-side address."""
    return {router.public_address.ip, router.node_address.ip} if router is not None else set()


def router_peers(peers: Iterable[MetalLBPeer], router: Router | None) -> list[MetalLBPeer]:
    """The MetalLB peers whose peer address is the router's, in their order."""
    addresses = router_addresses(router)
    return [p for p in peers if p.peer_address in addresses]


def peers_with_router(node: KubeNode, my_peers: Sequence[MetalLBPeer]) -> bool:
    """Whether ``node``'s speaker peers with the router, ``my_peers`` being ``router_peers(...)``."""
    return not my_peers or any(p.selects(node.labels) for p in my_peers)


def speaker_nodes(
    nodes: Iterable[KubeNode], peers: Iterable[MetalLBPeer], router: Router | None, *, ready: bool = True
) -> list[KubeNode]:
    """The Kubernetes nodes whose MetalLB speaker peers with ``router``, in ``nodes``' order.

    ``ready=True``: the nodes running a Ready speaker pod (the model's speakers); ``ready=False``: the nodes
    where MetalLB placed a speaker pod that is not Ready (down speakers). ``peers``: every MetalLB peer of the
    cluster (``KubeFacts.peers`` or ``Cluster.metallb_peers``); those that do not name the router are ignored.
    """
    my_peers = router_peers(peers, router)
    if ready:
        wanted = [n for n in nodes if n.speaker_ready]
    else:
        wanted = [n for n in nodes if not n.speaker_ready and n.speaker_pod is not None]
    return [n for n in wanted if peers_with_router(n, my_peers)]
