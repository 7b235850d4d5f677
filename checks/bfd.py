"""bfd.peers: every expected speaker's BFD session up on the router (when the cluster's BFD is on).

A speaker whose BGP session is Established but whose BFD session is not up is the dangerous case: the router
keeps its next hop until the BGP hold time (MetalLB's default 90 s) when the node dies. ``down`` (optional)
are speakers whose pod exists but is not Ready, as in ``checks.bgp``: named by their cause.
"""

from __future__ import annotations

from collections.abc import Sequence

from checks.parsers.models import BfdPeer, BfdPeers
from checks.verdict import CheckResult, failed, passed
from inventory.model import Cluster, Speaker

PEERS = "bfd.peers"
IDS = (PEERS,)  # the check ids this module judges


def _state(peer: BfdPeer) -> str:
    if peer.status == "shutdown":
        return "shut down on the router"
    why = "" if peer.diagnostic == "ok" else f", {peer.diagnostic}"
    if peer.remote_id == 0:
        why += ", no packet from the speaker (is BFD on in its MetalLB BGPPeer?)"
    return f"BFD {peer.status}{why}"


def check_peers(host: str, cluster: Cluster, peers: BfdPeers, down: Sequence[Speaker] = ()) -> CheckResult:
    """Every speaker has a BFD session on the router and it is up."""
    problems: list[str] = []
    items: dict[str, bool | None] = {}  # per speaker: BFD up, down, or no session (None)
    for speaker in cluster.speakers:
        peer = peers.peer(str(speaker.address))
        items[f"{speaker.name} ({speaker.address})"] = None if peer is None else peer.up
        if peer is None:
            problems.append(f"{speaker.name} ({speaker.address}) has no BFD session")
        elif not peer.up:
            problems.append(f"{speaker.name} ({speaker.address}): {_state(peer)}")
    for speaker in down:
        peer = peers.peer(str(speaker.address))
        items[f"{speaker.name} ({speaker.address})"] = False
        session = "no BFD session" if peer is None else f"BFD {peer.status}"
        problems.append(f"{speaker.name} ({speaker.address}): speaker pod not Ready in Kubernetes, {session}")
    meant = [*cluster.speakers, *down]
    found = [peers.peer(str(s.address)) for s in meant]
    details = {"expected": len(meant), "up": sum(p is not None and p.up for p in found)}
    if problems:
        return failed(PEERS, host, cluster.name, "; ".join(problems), details=details, items=items)
    ms = cluster.bfd.detect_ms
    hop = " multihop" if cluster.bfd_multihop else ""
    reason = f"{len(cluster.speakers)} speakers BFD{hop} up (a dead node is detected in {ms} ms)"
    return passed(PEERS, host, cluster.name, reason, details=details, items=items)
