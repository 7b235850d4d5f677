"""bgp.peers and bgp.unexpected: the router's neighbors against the live MetalLB speakers.

``down`` (optional) are speakers whose pod exists but is not Ready: MetalLB placed a speaker on that node,
so the node is meant to serve, and its missing session is a failure named by its cause rather than an
unexpected neighbor (the deploy gate passes none: it only waits for what is Ready).
"""

from __future__ import annotations

from collections.abc import Sequence

from checks.parsers.models import BgpSummary
from checks.verdict import CheckResult, failed, passed
from inventory.model import Cluster, Speaker

PEERS = "bgp.peers"
UNEXPECTED = "bgp.unexpected"
IDS = (
    PEERS,
    UNEXPECTED,
)  # the check ids this module judges


def check_peers(host: str, cluster: Cluster, summary: BgpSummary, down: Sequence[Speaker] = ()) -> CheckResult:
    """Every expected speaker is a neighbor, Established, with prefixes received."""
    problems: list[str] = []
    items: dict[str, bool | None] = {}  # per speaker: Established with prefixes, down, or not a neighbor (None)
    for speaker in cluster.speakers:
        peer = summary.peer(str(speaker.address))
        item = f"{speaker.name} ({speaker.address})"
        # Up: Established with prefixes, or Established at all for a speaker MetalLB withholds (it announces nothing).
        items[item] = None if peer is None else bool(peer.established and (peer.prefixes_received or speaker.withheld))
        if peer is None:
            problems.append(f"{speaker.name} ({speaker.address}) is not a neighbor")
        elif not peer.established:
            problems.append(f"{speaker.name} ({speaker.address}) is {peer.state}")
        elif not peer.prefixes_received and not speaker.withheld:  # a withheld speaker peers, announcing nothing
            problems.append(f"{speaker.name} ({speaker.address}) is Established but sent no prefixes")
    for speaker in down:
        peer = summary.peer(str(speaker.address))
        items[f"{speaker.name} ({speaker.address})"] = False
        session = "no neighbor" if peer is None else f"neighbor {peer.state}"
        problems.append(f"{speaker.name} ({speaker.address}): speaker pod not Ready in Kubernetes, {session}")
    meant = [*cluster.speakers, *down]
    found = [summary.peer(str(s.address)) for s in meant]
    details = {"expected": len(meant), "established": sum(p is not None and p.established for p in found)}
    if problems:
        return failed(PEERS, host, cluster.name, "; ".join(problems), details=details, items=items)
    reason = f"{len(cluster.speakers)} speakers Established with prefixes"
    withheld = [f"{s.name} ({s.withheld})" for s in cluster.speakers if s.withheld]
    if withheld:
        # inventory.speakers.withheld: MetalLB announces nothing from these nodes.
        reason = f"{len(cluster.speakers)} speakers Established; none expected from {', '.join(withheld)}"
    return passed(PEERS, host, cluster.name, reason, details=details, items=items)


def check_unexpected(host: str, cluster: Cluster, summary: BgpSummary, down: Sequence[Speaker] = ()) -> CheckResult:
    """Neighbors that are not speakers (a stale node, a typo, a speaker that went away).

    A node whose speaker pod is merely not Ready is reported by bgp.peers, not here."""
    expected = {str(s.address) for s in [*cluster.speakers, *down]}
    extra = [p.address for p in summary.peers if p.address not in expected]
    if extra:
        return failed(UNEXPECTED, host, cluster.name, "neighbors that are not speakers: " + ", ".join(extra))
    return passed(UNEXPECTED, host, cluster.name, "every neighbor is a live speaker")
