"""bgp.peers and bgp.unexpected: the router's neighbors against the live MetalLB speakers."""

from __future__ import annotations

from checks.parsers.models import BgpSummary
from checks.verdict import CheckResult, failed, passed
from inventory.model import Cluster


def check_peers(host: str, cluster: Cluster, summary: BgpSummary) -> CheckResult:
    """Every expected speaker is a neighbor, Established, with prefixes received."""
    problems: list[str] = []
    for speaker in cluster.speakers:
        peer = summary.peer(str(speaker.address))
        if peer is None:
            problems.append(f"{speaker.name} ({speaker.address}) is not a neighbor")
        elif not peer.established:
            problems.append(f"{speaker.name} ({speaker.address}) is {peer.state}")
        elif not peer.prefixes_received:
            problems.append(f"{speaker.name} ({speaker.address}) is Established but sent no prefixes")
    if problems:
        return failed("bgp.peers", host, cluster.name, "; ".join(problems))
    return passed("bgp.peers", host, cluster.name, f"{len(cluster.speakers)} speakers Established with prefixes")


def check_unexpected(host: str, cluster: Cluster, summary: BgpSummary) -> CheckResult:
    """Neighbors that are not live speakers (a stale node, a typo, a speaker that went away)."""
    expected = {str(s.address) for s in cluster.speakers}
    extra = [p.address for p in summary.peers if p.address not in expected]
    if extra:
        return failed("bgp.unexpected", host, cluster.name, "neighbors that are not speakers: " + ", ".join(extra))
    return passed("bgp.unexpected", host, cluster.name, "every neighbor is a live speaker")
