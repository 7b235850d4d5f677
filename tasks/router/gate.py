"""The router's gate: what a change must pass before it is confirmed (``deploy``) and what MetalLB's change
waits for (``metallb deploy``). Each entry of ``GATE_CHECKS`` reads what it needs with ``show`` and judges it
with the check functions verify uses (checks/); the waiting is ``tasks.core.rollout.wait_for_gate``.
"""

from __future__ import annotations

from collections.abc import Callable

from checks import bfd, bgp, ecmp
from checks.bgp import check_peers
from checks.ecmp import check_route, selected_route
from checks.parsers import bfd_peers, bgp_summary, route
from checks.verdict import CheckResult, errored
from inventory.errors import EdgekitError
from inventory.model import Cluster
from napalm_edgekit_vyos.driver import VyOSDriver
from tasks.router.dialect import resolve

Show = Callable[[str], str]


GateCheck = Callable[[Show, Cluster, str], list[CheckResult]]


def gate_bgp_peers(show: Show, cluster: Cluster, host: str) -> list[CheckResult]:
    """``bgp.peers`` (``checks.bgp.check_peers``, as verify): every live speaker Established."""
    try:
        summary = bgp_summary.parse(show("show ip bgp summary"))
    except EdgekitError as exc:
        return [errored(bgp.PEERS, host, cluster.name, str(exc))]
    return [check_peers(host, cluster, summary)]


def gate_bfd_peers(show: Show, cluster: Cluster, host: str) -> list[CheckResult]:
    """``bfd.peers`` (``checks.bfd.check_peers``, as verify) when the cluster's BFD is on: every live speaker's
    BFD session up. The command is the dialect's (``show bfd peers`` on 1.3 and 1.4)."""
    if not cluster.router_bfd:  # off, or not yet on MetalLB's end (then not rendered on the router either)
        return []
    try:
        router = cluster.router
        assert router is not None
        dialect = resolve(router.dialect, show)
        return [bfd.check_peers(host, cluster, bfd_peers.parse(show(dialect.bfd_peers_command)))]
    except EdgekitError as exc:
        return [errored(bfd.PEERS, host, cluster.name, str(exc))]


def gate_ecmp_routes(show: Show, cluster: Cluster, host: str) -> list[CheckResult]:
    """``ecmp.routes`` (``checks.ecmp.check_route``, as verify): every service IP over exactly its next hops."""
    results = []
    for service in cluster.services:
        for ip in service.ips:
            try:
                entry = selected_route(route.parse(show(f"show ip route {ip}")))
            except EdgekitError as exc:
                results.append(errored(ecmp.ROUTES, host, cluster.name, str(exc), f"{service.name} {ip}"))
                continue
            results.append(check_route(host, cluster, service, str(ip), entry))
    return results


# The gate: what a change must pass before it is confirmed. Each entry reads what it needs with ``show`` and
# judges it with the check functions verify uses (checks/); a check of your own is one more line here.
GATE_CHECKS: list[GateCheck] = [
    gate_bgp_peers,
    gate_bfd_peers,
    gate_ecmp_routes,
]


def gate_checks(driver: VyOSDriver, cluster: Cluster, host: str) -> list[CheckResult]:
    """One pass of every gate check (``GATE_CHECKS``) on the router."""
    return [result for check in GATE_CHECKS for result in check(driver.show, cluster, host)]
