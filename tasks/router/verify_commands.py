"""`verify` and `comply`: the router subcommands of `python -m tasks.router` that judge, never change.

``verify`` runs the checks of ``tasks.router.verify`` on every selected router in parallel (plus the
per-cluster ``consistency.nodes``); ``comply`` adds ``compliance.config``, the running config of the
managed subtrees against the intent, and lists every differing line. A live table while hosts report, the
final table grouped by cluster and host on stdout, ``--json FILE`` and ``--junit FILE``. Exit 0 only when
every check passes, 1 otherwise; 2 bad input, 3 an unreachable source (``tasks.router``).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Collection, Mapping
from typing import Any

from nornir.core.task import AggregatedResult, Result, Task

from checks.verdict import CheckResult
from inventory.errors import InputError
from tasks.core import metrics
from tasks.core.options import CommonOptions
from tasks.core.processors import LiveChecks, ReportCollector
from tasks.core.report import EXIT_FAILED, EXIT_OK, HostReport, RunReport, write_junit
from tasks.core.runtime import Runtime, open_runtime
from tasks.router import verify_arguments as commands
from tasks.router.verify import (
    ClusterFacts,
    LiveResults,
    RouterVerdict,
    VerifyOptions,
    cluster_checks,
    errored_all,
    host_report,
    print_drift,
    print_results,
    validate_intent,
    verify_router_task,
    write_json,
)


def register(subparsers: argparse._SubParsersAction) -> None:
    """`verify` and `comply` (``tasks.router.verify_arguments``)."""
    commands.register(subparsers)


add_verify_options = commands.add_verify_options


def router_targets(rt: Runtime, options: CommonOptions) -> list[tuple[ClusterFacts, list[str]]]:
    """(cluster facts, router host names) in rollout order; clusters without a selected router are left out."""
    return [
        (ClusterFacts.from_loaded(rt.loaded, cluster), names)
        for cluster, names in rt.targets("router", options)
        if cluster.router is not None
    ]


def verify_router_report(task: Task, targets: Mapping[str, ClusterFacts], options: VerifyOptions) -> Result:
    """Nornir task: verify one router (its cluster's facts from ``targets`` by host name) and report it.

    A router of a refused cluster is never connected to: every check errors with the input problem.
    Result: ``result`` the router's ``HostReport`` (``checks``, ``dialect``, ``commands`` the compliance drift,
    ``error`` ``input: ...`` when refused); ``failed`` when a check did not pass; ``diff`` the drift.
    """
    name = task.host.name
    facts = targets[name]
    started = time.monotonic()
    if facts.cluster.refused:  # never connected to: every check errors with the input problem
        reason = f"input: {facts.cluster.refused[0]}"
        report = host_report(name, facts.cluster.name, "router", errored_all(facts, name, options, reason))
        report.error = reason
        return Result(host=task.host, result=report, failed=True)
    verdict: RouterVerdict = verify_router_task(task, facts, options).result
    report = host_report(name, facts.cluster.name, "router", verdict.results)
    report.dialect = verdict.dialect
    report.commands = verdict.drift
    report.timed("verify", started)
    return Result(host=task.host, result=report, failed=not report.ok, diff="\n".join(verdict.drift))


def run_hosts(
    rt: Runtime, names: Collection[str], task: Callable[..., Result], name: str, processors: list[Any], **params: Any
) -> AggregatedResult | None:
    """``task`` on every host of ``names`` at once on Nornir's threaded runner (each host its own thread, up to
    --workers), seen by ``processors``; the connections closed afterwards."""
    if not names:
        return None
    try:
        selected = rt.nornir.with_processors(processors).filter(filter_func=lambda host: host.name in names)
        return selected.run(task=task, name=name, **params)
    finally:
        rt.nornir.close_connections(on_good=True, on_failed=True)


def cluster_reports(
    targets: list[tuple[ClusterFacts, list[str]]], rt: Runtime | None = None, comply: bool = False
) -> list[HostReport]:
    """Per cluster: consistency.nodes; with ``comply`` (and ``rt``) also metallb.config, MetalLB's objects in the
    cluster against the render (``tasks.metallb``), where the site file states MetalLB's intent."""
    reports = []
    for facts, _ in targets:
        results = cluster_checks(facts)
        reports.append(host_report(results[0].host, facts.cluster.name, "kubernetes", results))
        if comply and rt is not None and not facts.cluster.refused:
            from tasks.metallb.commands import config_check

            result = config_check(rt, facts.cluster)
            if result is not None:
                reports.append(host_report(result.host, facts.cluster.name, "kubernetes", [result]))
    return reports


def finish(
    title: str,
    command: str,
    rt: Runtime,
    reports: list[HostReport],
    args: argparse.Namespace,
    cluster_order: list[str],
    comply: bool,
) -> int:
    """Print, write --json/--junit, and return the exit code (0 only when every check passed)."""
    results: list[CheckResult] = [r for report in reports for r in report.checks]
    print_results(results, title, cluster_order)
    if comply:
        print_drift(reports)
    report = RunReport(command=command, hosts=reports, warnings=list(rt.loaded.warnings))
    report.finished = time.time()
    if args.json:
        write_json(report, results, args.json)
    if args.junit:
        write_junit(results, args.junit, suite=f"edgekit {command}")
    if getattr(args, "metrics", None):
        metrics.write_textfile(report, args.metrics)
    if any((r.error or "").startswith("input: ") for r in reports):
        return InputError.exit_code  # a refused cluster's router (the other clusters were verified)
    return EXIT_OK if results and all(r.ok for r in results) else EXIT_FAILED


def run_verify(args: argparse.Namespace, comply: bool) -> int:
    options = CommonOptions.from_args(args)
    rt = open_runtime(options)
    targets = router_targets(rt, options)
    if not targets:
        raise InputError("no router matches the selection (--cluster/--limit)")
    vopts = VerifyOptions(comply=comply, handshake_max_age=args.handshake_max_age)
    if comply:
        validate_intent(facts for facts, _ in targets)
    command = "comply" if comply else "verify"
    reports: dict[str, HostReport] = {}
    pending = [(facts.cluster.name, name) for facts, names in targets for name in names]
    collector = ReportCollector()
    with LiveResults(f"edgekit {command}", pending) as live:
        for report in cluster_reports(targets, rt, comply):
            live.add(report.host, report.checks)
            reports[f"{report.cluster}/{report.host}"] = report
        by_host = {name: facts for facts, names in targets for name in names}
        run_hosts(
            rt, by_host, verify_router_report, command, [LiveChecks(live), collector], targets=by_host, options=vopts
        )
    reports.update(collector.reports)
    order = [facts.cluster.name for facts, _ in targets]
    ordered = sorted(reports.values(), key=lambda r: (order.index(r.cluster), r.role != "router", r.host))
    return finish(f"edgekit {command}", command, rt, ordered, args, order, comply)
