"""MetalLB verify: ``metallb.config`` (the cluster's objects as rendered), the router gate's checks and
``private.reachability`` (each venue-scoped Service IP answers the router's ping from its tunnel address).
"""

from __future__ import annotations

from nornir.core.task import Result, Task

from checks import bgp
from checks import metallb as checks
from checks.verdict import CheckResult, errored, passed
from inventory.errors import EdgekitError
from inventory.model import Cluster
from tasks.core.report import one_line
from tasks.metallb.gate import Show, gate_checks, router_show
from tasks.metallb.kube import ClusterAPI
from tasks.metallb.plan import plan_cluster
from tasks.metallb.render import RenderedMetalLB, metallb_render
from tasks.router.plan import router_cluster


def private_checks(show: Show, cluster: Cluster, host: str) -> list[CheckResult]:
    """private.reachability: each IP of a Service in a venue-scoped pool answers the router's ping sourced from
    its tunnel address (routed over the nodes like the venue's traffic; the tunnel's own leg is
    wireguard.handshake/wireguard.reachable, the firewall rule compliance.config)."""
    wg = cluster.wireguard
    venue = [n for p in cluster.venue_pools for n in p.addresses]
    out: list[CheckResult] = []
    for svc in cluster.services:
        for ip in svc.ips:
            if not any(ip in n for n in venue):
                continue
            subject = f"{svc.namespace}/{svc.name} {ip}"
            if wg is None:
                out.append(errored(checks.PRIVATE, host, cluster.name, "no WireGuard tunnel in the model", subject))
                continue
            source = str(wg.address.ip)
            try:
                text = show(f"ping {ip} count 2 source-address {source}")
            except Exception as exc:
                out.append(errored(checks.PRIVATE, host, cluster.name, one_line(exc), subject))
                continue
            out.append(checks.check_private(host, cluster.name, subject, source, text))
    return out


def metallb_verify(
    task: Task, api: ClusterAPI, rendered: RenderedMetalLB | None = None, show: Show | None = None
) -> Result:
    """metallb.config (the cluster's objects as rendered), the router gate's checks (bgp.peers, ecmp.routes, ...)
    and private.reachability from the router."""
    cluster = router_cluster(task.host)
    host = task.host.name
    results: list[CheckResult] = []
    try:
        if rendered is None:
            rendered = task.run(task=metallb_render, api=api, severity_level=10).result
        assert rendered is not None
        results.append(checks.check_config(cluster.name, plan_cluster(rendered, api).diffs, host))
    except EdgekitError as exc:
        results.append(errored(checks.CONFIG, host, cluster.name, one_line(exc)))
    try:
        show = show or router_show(task)
        gate = gate_checks(show, cluster, host)
        results.extend(gate or [errored(bgp.PEERS, host, cluster.name, "the router has no session with a speaker")])
        results.extend(private_checks(show, cluster, host))
    except Exception as exc:
        results.append(errored(bgp.PEERS, host, cluster.name, one_line(exc)))
    if not any(r.check == checks.PRIVATE for r in results) and cluster.venue_pools:
        results.append(
            passed(checks.PRIVATE, host, cluster.name, "no Service holds a venue-scoped IP: nothing to probe")
        )
    return Result(host=task.host, result=results, failed=not all(r.ok for r in results))
