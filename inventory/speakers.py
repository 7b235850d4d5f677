"""Which nodes' MetalLB speakers peer with the router: the one selection that inventory (the model's speakers),
the deploy gate and verify (speakers that are down) share.

A speaker peers with the router when one of the MetalLB peers whose address is the router's (public or node-side)
selects its node (the peer's node selectors; none select every node, several any of them, as MetalLB does).
When no peer names the router (no MetalLB configuration, or one that peers elsewhere: inventory reports that as
a disagreement), every speaker counts, so the router still gets its neighbours.

Who announces (``withheld``, ``announce_rules``): a speaker that peers does not always announce. MetalLB's
speaker/bgp_controller.go ShouldAnnounce and internal/k8s/nodes/nodes.go (metallb/metallb at v0.13.12, v0.14.0,
v0.14.4, v0.14.5, v0.14.9, v0.15.3) skip, by version:
- every version: a node whose ``NetworkUnavailable`` condition is True (IsNetworkUnavailable, reason
  nodeNetworkUnavailable);
- v0.14.0+: a node with the label ``node.kubernetes.io/exclude-from-external-load-balancers`` (any value;
  IsNodeExcludedFromBalancers, nodeLabeledExcludeBalancers); v0.14.4+ not when the speaker runs with
  ``--ignore-exclude-lb`` (speaker/main.go flag ignore-exclude-lb);
- v0.14.9 only: ``spec.unschedulable`` (IsNodeAvailable, nodeUnschedulable; v0.15.0 dropped it again).
Endpoints (hasHealthyEndpoint): up to v0.14.4 only ready ones count (epslices.IsConditionReady, absent =
ready); v0.14.5+ also ``serving`` ones (EndpointCanServe: a terminating pod still serving). The BGP session
stays in every case (syncPeers looks at the peers' node selectors only). The version is the speaker pod's
image tag; one that is no release (a digest, ``main``) gets the newest rules known here (v0.15's).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
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


EXCLUDE_LB_LABEL = "node.kubernetes.io/exclude-from-external-load-balancers"  # corev1.LabelNodeExcludeBalancers
NEWEST_KNOWN = (0, 15, 3)


@dataclass(frozen=True)
class AnnounceRules:
    """Which nodes MetalLB of one version announces from, and which endpoints it counts (module docstring)."""

    exclude_label: bool  # v0.14.0+
    ignore_flag: bool  # v0.14.4+: --ignore-exclude-lb
    unschedulable: bool  # v0.14.9 only
    serving: bool  # v0.14.5+: EndpointCanServe


def parse_version(text: str) -> tuple[int, int, int] | None:
    """A MetalLB release tag ("v0.14.9", "0.13.12") as numbers; None for anything else."""
    m = re.fullmatch(r"v?(\d+)\.(\d+)\.(\d+)", text.strip())
    return (int(m[1]), int(m[2]), int(m[3])) if m else None


def announce_rules(version: str) -> AnnounceRules:
    """The rules of MetalLB ``version`` (unknown or no release: the newest known, v0.15's)."""
    v = parse_version(version) or NEWEST_KNOWN
    return AnnounceRules(
        exclude_label=v >= (0, 14, 0),
        ignore_flag=v >= (0, 14, 4),
        unschedulable=v == (0, 14, 9),
        serving=v >= (0, 14, 5),
    )


def withheld(node: KubeNode) -> str:
    """Why the speaker on ``node`` announces nothing, as MetalLB's ShouldAnnounce names it ("": it announces)."""
    rules = announce_rules(node.speaker_version)
    if rules.unschedulable and node.unschedulable:
        return "nodeUnschedulable"
    if node.network_unavailable:
        return "nodeNetworkUnavailable"
    if rules.exclude_label and EXCLUDE_LB_LABEL in node.labels and not (rules.ignore_flag and node.ignore_exclude_lb):
        return "nodeLabeledExcludeBalancers"
    return ""
