"""`python -m tasks.edge verify|comply`: the whole edge of every cluster at once, in one report.
(`python -m tasks.edge exporter` runs verify every interval and serves its metrics: ``tasks.edge.exporter``.)

Routers (``tasks.router.verify``: bgp, ecmp, proxyarp, wireguard, consistency, compliance with ``comply``) and
API load balancers (``tasks.lb.verify``'s reading and ``checks.lb``: lb.services, lb.backends, lb.config per LB;
lb.vip and lb.healthz per cluster) of every selected cluster run in one Nornir run, all hosts in
parallel; the /healthz requests through the VIPs run beside them. One table, one ``--json``, one
``--junit``; exit 0 only when every check passes, 1 otherwise, 2 bad input, 3 unreachable source.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor

from nornir.core.task import Result, Task

from checks import lb as lbchecks
from checks.verdict import CheckResult, errored
from inventory.errors import InputError
from inventory.model import Cluster
from tasks.core.options import CommonOptions
from tasks.core.processors import LiveChecks, ReportCollector
from tasks.core.report import HostReport, one_line
from tasks.core.results import LiveResults, checks_report, finish_checks
from tasks.core.runtime import Runtime, open_runtime, run_hosts
from tasks.lb import verify as lb_verify
from tasks.lb.commands import render_all
from tasks.lb.plan import lb_targets
from tasks.lb.render import RenderedLB
from tasks.router.verify import (
    ClusterFacts,
    VerifyOptions,
    cluster_reports,
    router_facts,
    validate_intent,
    verify_router_report,
)

LB_CHECKS = (lbchecks.SERVICES, lbchecks.BACKENDS, lbchecks.CONFIG)


def verify_lb_report(task: Task, clusters: Mapping[str, Cluster], rendered: Mapping[str, RenderedLB]) -> Result:
    """Nornir task: read one LB (``tasks.lb.verify.verify_lb_task``) and judge it (``tasks.lb.verify.lb_checks``).

    Result: ``result`` the LB's ``HostReport`` (``checks`` lb.services, lb.backends, lb.config; errored with
    the reason when it could not be read); ``state`` the ``LBState`` read, or why it could not be;
    ``failed`` when a check did not pass.
    """
    name = task.host.name
    cluster = clusters[name]
    started = time.monotonic()
    state: lb_verify.LBState | str
    try:
        read: lb_verify.LBState = task.run(
            task=lb_verify.verify_lb_task, rendered=rendered[name], severity_level=10
        ).result
        state = read
        results = lb_verify.lb_checks(name, cluster, read)
    except Exception as exc:
        state = one_line(exc)
        results = [errored(check, name, cluster.name, state) for check in LB_CHECKS]
    report = checks_report(name, cluster.name, "lb", results)
    report.timed("verify", started)
    return Result(host=task.host, result=report, state=state, failed=not report.ok)


def verify_edge_host(
    task: Task,
    targets: Mapping[str, ClusterFacts],
    options: VerifyOptions,
    clusters: Mapping[str, Cluster],
    rendered: Mapping[str, RenderedLB],
) -> Result:
    """Nornir task: a router (``targets``) through ``verify_router_report``, an LB (``clusters``) through
    ``verify_lb_report``; the Result is theirs."""
    if task.host.name in targets:
        return verify_router_report(task, targets, options)
    return verify_lb_report(task, clusters, rendered)


def vip_results(
    cluster: Cluster, names: list[str], states: dict[str, lb_verify.LBState | str], rt: Runtime | None = None
) -> list[CheckResult]:
    """lb.vip from what each LB said (only when the whole pair was selected: --limit may take one); a VIP
    held by no LB or by both is read again for a few seconds (``tasks.lb.verify.vip_check``) when ``rt`` is given."""
    assert cluster.api_lb is not None
    vip = cluster.api_lb.vip
    holders: dict[str, bool] = {}
    unknown: dict[str, str] = {}
    for name in names:
        state = states.get(name, "not read")
        if isinstance(state, str):
            unknown[name] = state
        elif state.addresses is None:
            unknown[name] = state.errors.get("addresses", "?")
        else:
            holders[name] = vip in state.addresses
    if {m.name for m in cluster.api_lb.lbs} <= set(names):
        return [lb_verify.vip_check(rt, cluster, holders, unknown)]
    return []


def run_edge(args: argparse.Namespace, comply: bool) -> int:
    options = CommonOptions.from_args(args)
    rt = open_runtime(options)
    routers = router_facts(rt, options)
    lbs = lb_targets(rt, options)
    if not routers and not lbs:
        raise InputError("no router or API load balancer matches the selection (--cluster/--limit)")
    vopts = VerifyOptions(comply=comply, handshake_max_age=args.handshake_max_age)
    # Input problems (missing facts, secrets) stop here with exit 2, before any device is contacted.
    if comply:
        validate_intent(facts for facts, _ in routers)
    warnings: list[str] = []
    rendered = render_all(rt, lbs, warnings) if lbs else {}
    command = "edge comply" if comply else "edge verify"

    reports: dict[str, HostReport] = {}
    collector = ReportCollector()
    pending = [(f.cluster.name, n) for f, names in routers for n in names] + [(c.name, n) for c, ns in lbs for n in ns]
    with ThreadPoolExecutor(max_workers=max(1, len(lbs))) as pool, LiveResults(f"edgekit {command}", pending) as live:
        # /healthz through each VIP goes beside the SSH reads: it needs no LB session.
        health: dict[str, tuple[str, Future[tuple[int | None, str]]]] = {}
        for cluster, _ in lbs:
            assert cluster.api_lb is not None
            url = f"https://{cluster.api_lb.vip}:{cluster.api_lb.frontend_port}/healthz"
            health[cluster.name] = (url, pool.submit(lbchecks.fetch_healthz, url, args.timeout, args.ca))
        for report in cluster_reports(routers, rt, comply):
            live.add(report.host, report.checks)
            reports[f"{report.cluster}/{report.host}"] = report
        targets = {name: facts for facts, names in routers for name in names}
        clusters = {name: cluster for cluster, names in lbs for name in names}
        done = run_hosts(
            rt,
            targets.keys() | clusters.keys(),
            verify_edge_host,
            command,
            [LiveChecks(live), collector],
            targets=targets,
            options=vopts,
            clusters=clusters,
            rendered=rendered,
        )
        reports.update(collector.reports)
        states = {name: getattr(done[name][0], "state", "not read") for name in clusters if done and name in done}
        for cluster, names in lbs:
            assert cluster.api_lb is not None
            url, future = health[cluster.name]
            status, body = future.result()
            results = vip_results(cluster, names, states, rt)
            results.append(lbchecks.check_healthz(cluster.name, cluster.api_lb.vip, url, status, body))
            vip_host = lbchecks.vip_subject(cluster.api_lb.vip)
            reports[f"{cluster.name}/{vip_host}"] = checks_report(vip_host, cluster.name, "vip", results)
            live.add(vip_host, results)

    order = [c.name for c in rt.loaded.site.ordered_clusters()]
    role_rank = {"router": 0, "kubernetes": 1, "lb": 2, "vip": 3}
    ordered = sorted(reports.values(), key=lambda r: (order.index(r.cluster), role_rank.get(r.role, 9), r.host))
    for warning in warnings:
        if warning not in rt.loaded.warnings:
            rt.loaded.warnings.append(warning)
    return finish_checks(f"edgekit {command}", command, rt, ordered, args, order, comply)
