"""ecmp.routes: each LoadBalancer IP is routed over exactly the expected speakers, in FRR and the kernel.

FRR's ``show ip route <ip>`` marks each next hop installed in the kernel with ``*``; a selected next hop
without it means zebra and the kernel FIB disagree. ``down`` (optional) are speakers whose pod exists but
is not Ready: their next hop is missing for a known cause, and the route is degraded (fewer legs than
nodes meant to serve), which verify reports as a failure naming that node.
"""

from __future__ import annotations

from collections.abc import Sequence

from checks.parsers.models import RouteEntry
from checks.verdict import CheckResult, failed, passed
from inventory.model import Cluster, Service, Speaker

ROUTES = "ecmp.routes"
IDS = (ROUTES,)  # the check ids this module judges


def _serving(speakers: Sequence[Speaker], service: Service) -> list[Speaker]:
    """With externalTrafficPolicy Local only nodes with a ready endpoint announce the IP."""
    if service.external_traffic_policy == "Local":
        return [s for s in speakers if s.name in set(service.endpoint_nodes)]
    return list(speakers)


def expected_nexthops(cluster: Cluster, service: Service) -> set[str]:
    """All Ready speakers; with externalTrafficPolicy Local only those on nodes with a ready endpoint."""
    return {str(s.address) for s in _serving(cluster.speakers, service)}


def service_ips(cluster: Cluster) -> list[str]:
    return sorted({str(ip) for service in cluster.services for ip in service.ips})


def check_route(
    host: str,
    cluster: Cluster,
    service: Service,
    ip: str,
    route: RouteEntry | None,
    down: Sequence[Speaker] = (),
) -> CheckResult:
    subject = f"{service.namespace}/{service.name} {ip}"
    want = expected_nexthops(cluster, service)
    lost = {str(s.address): s.name for s in _serving(down, service)}
    full = want | set(lost)
    # For metrics: next hops of the nodes meant to serve that FRR selected and the kernel installed.
    details = {"service": f"{service.namespace}/{service.name}", "ip": ip, "expected": len(full), "nexthops": 0}
    if route is None or route.protocol != "bgp":
        how = "no route" if route is None else f"only a {route.protocol} route ({route.prefix})"
        why = _lost(lost, set(lost))
        reason = f"{ip}: {how}; expected next hops {_fmt(want)}{why}"
        return failed(ROUTES, host, cluster.name, reason, subject, details, {f"via {a}": False for a in sorted(full)})
    rib = {n.address for n in route.nexthops if n.address and n.active}
    fib = {n.address for n in route.fib_nexthops if n.address}
    details["nexthops"] = len(rib & fib & full)
    # Per next hop: selected by FRR and in the kernel (of a node meant to serve); one that should not be there.
    items: dict[str, bool | None] = {f"via {a}": a in rib and a in fib and a not in lost for a in sorted(full)}
    items.update({f"unexpected {a}": False for a in sorted((rib | fib) - full)})
    if rib != full:
        missing, extra = full - rib, rib - full
        parts = [f"missing {_fmt(missing)}" if missing else "", f"unexpected {_fmt(extra)}" if extra else ""]
        reason = f"{ip}: via {len(rib & full)} of {len(full)} nodes, " + ", ".join(p for p in parts if p)
        return failed(ROUTES, host, cluster.name, reason + _lost(lost, missing), subject, details, items)
    if lost:
        # Every expected next hop is there, yet a node's speaker is not Ready: Kubernetes and BGP disagree.
        names = ", ".join(f"{name} ({addr})" for addr, name in sorted(lost.items()))
        reason = f"{ip}: still routed via {names}, whose speaker pod is not Ready"
        return failed(ROUTES, host, cluster.name, reason, subject, details, items)
    if fib != rib:
        reason = f"{ip}: kernel has {_fmt(fib)} but FRR selected {_fmt(rib)}"
        return failed(ROUTES, host, cluster.name, reason, subject, details, items)
    return passed(ROUTES, host, cluster.name, f"{ip} via {len(want)} next hops", subject, details, items)


def _lost(lost: dict[str, str], missing: set[str]) -> str:
    named = [lost[a] for a in sorted(missing) if a in lost]
    return f" ({', '.join(named)}: speaker pod not Ready)" if named else ""


def _fmt(addresses: set[str]) -> str:
    return ", ".join(sorted(addresses)) or "none"


def selected_route(entries: list[RouteEntry]) -> RouteEntry | None:
    """The entry zebra selected among those for one prefix (bgp and a static may both exist)."""
    return next((e for e in entries if e.selected), entries[0] if entries else None)
