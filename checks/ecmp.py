"""ecmp.routes: each LoadBalancer IP is routed over exactly the expected speakers, in FRR and the kernel."""

from __future__ import annotations

from checks.parsers.models import RouteEntry
from checks.verdict import CheckResult, failed, passed
from inventory.model import Cluster, Service


def expected_nexthops(cluster: Cluster, service: Service) -> set[str]:
    """All Ready speakers; with externalTrafficPolicy Local only those on nodes with a ready endpoint."""
    speakers = cluster.speakers
    if service.external_traffic_policy == "Local":
        speakers = [s for s in speakers if s.name in set(service.endpoint_nodes)]
    return {str(s.address) for s in speakers}


def service_ips(cluster: Cluster) -> list[str]:
    return sorted({str(ip) for service in cluster.services for ip in service.ips})


def check_route(host: str, cluster: Cluster, service: Service, ip: str, route: RouteEntry | None) -> CheckResult:
    subject = f"{service.namespace}/{service.name} {ip}"
    want = expected_nexthops(cluster, service)
    if route is None or route.protocol != "bgp":
        how = "no route" if route is None else f"only a {route.protocol} route ({route.prefix})"
        return failed("ecmp.routes", host, cluster.name, f"{ip}: {how}; expected next hops {_fmt(want)}", subject)
    rib = {n.address for n in route.nexthops if n.address and n.active}
    fib = {n.address for n in route.fib_nexthops if n.address}
    if rib != want:
        missing, extra = want - rib, rib - want
        parts = [f"missing {_fmt(missing)}" if missing else "", f"unexpected {_fmt(extra)}" if extra else ""]
        return failed("ecmp.routes", host, cluster.name, f"{ip}: " + ", ".join(p for p in parts if p), subject)
    if fib != rib:
        return failed(
            "ecmp.routes", host, cluster.name, f"{ip}: kernel has {_fmt(fib)} but FRR selected {_fmt(rib)}", subject
        )
    return passed("ecmp.routes", host, cluster.name, f"{ip} via {len(want)} next hops", subject)


def _fmt(addresses: set[str]) -> str:
    return ", ".join(sorted(addresses)) or "none"


def selected_route(entries: list[RouteEntry]) -> RouteEntry | None:
    """The entry zebra selected among those for one prefix (bgp and a static may both exist)."""
    return next((e for e in entries if e.selected), entries[0] if entries else None)
