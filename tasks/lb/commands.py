"""`python -m tasks.lb plan|deploy|verify`: the API load balancers (HAProxy + Keepalived) of every cluster.

Same options, output and exit codes as the router commands (``tasks.router``): 0 ok, 1 a host or check
failed, 2 bad input, 3 unreachable source, 10 ``plan`` found pending changes, 130 interrupted.

- ``plan``: render every LB's files, validate them locally with ``haproxy -c`` / ``keepalived -t`` (no
  device touched; input errors stop here with exit 2), then read every LB in parallel and show unified
  diffs (the VRRP password masked) and the reloads that would follow.
- ``deploy``: the same plan, then cluster by cluster in rollout order, one LB at a time, the BACKUP LB before
  the MASTER (the VIP stays where it is while the standby changes): push atomically, reload what changed
  (``tasks.lb.apply``), then wait for the gate: the LB's services active and its backends UP, and after the
  cluster's last changed LB the pair settled (exactly the elected LB holds the VIP, ``/healthz`` through it
  answers 200, every backend UP), bounded by ``--gate-timeout``. A failed gate restores that LB's previous
  files and reloads (``reverted``, exit 1, the failing checks named). A failed LB stops the rest of its
  cluster and the clusters after it.
- ``verify``: the ``lb.*`` checks (``checks.lb``) as a table, ``--json`` and ``--junit``. When the VIP is
  held by no LB or by both, the pair's addresses are read again for up to ``VIP_SETTLE`` seconds (a VRRP
  election takes ~3 advert intervals) before that is called a failure; the reason says so.

This module is the command line (argument handling, order, output); the engine lives in ``tasks.lb.render``
(the files), ``tasks.lb.validate`` (local checks), ``tasks.lb.remote`` (SSH), ``tasks.lb.apply`` (plan, apply,
gate: the Nornir tasks ``plan_lb_task``/``apply_lb_task``) and ``tasks.lb.verify`` (reading and judging).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Mapping

from nornir.core import Nornir
from nornir.core.inventory import Host
from nornir.core.task import Result, Task

from checks import lb as lbchecks
from checks.verdict import CheckResult, errored
from inventory.model import Cluster
from tasks.core.defaults import LB_GATE_TIMEOUT
from tasks.core.options import CommonOptions
from tasks.core.processors import LiveView
from tasks.core.report import (
    EXIT_FAILED,
    EXIT_OK,
    HostReport,
    RunReport,
    console,
    err_console,
    finish,
    one_line,
    write_junit,
)
from tasks.core.rollout import roll_out
from tasks.core.runtime import Runtime, open_runtime
from tasks.lb.apply import apply_lb_task
from tasks.lb.plan import LBHostReport, LBPlan, lb_targets, plan_lb_task
from tasks.lb.render import RenderedLB, render_lb
from tasks.lb.validate import ValidationFailed, validate_local
from tasks.lb.verify import (
    LBState,
    lb_checks,
    read_lb_task,
    vip_check,
)

# --- selection and render (no device) ----------------------------------------------------------------------


def render_all(rt: Runtime, waves: list[tuple[Cluster, list[str]]], warnings: list[str]) -> dict[str, RenderedLB]:
    """Every LB's files; missing facts and secrets raise InputError here, before any device."""
    rendered = {}
    for cluster, names in waves:
        reader = rt.loaded.secret_reader(cluster.name)
        for name in names:
            rendered[name] = render_lb(cluster, name, reader)
            for warning in rendered[name].warnings:
                if warning not in warnings:
                    warnings.append(warning)
                    err_console.print(f"[yellow]warning:[/] {_escape(warning)}", soft_wrap=True)
    return rendered


# --- plan / deploy -----------------------------------------------------------------------------------------


def run_deploy(args: argparse.Namespace, dry_run: bool | None = None) -> int:
    if dry_run is None:  # `deploy`: its --dry-run option decides
        dry_run = bool(args.dry_run)
    options = CommonOptions.from_args(args)
    rt = open_runtime(options)
    report = RunReport(command="lb plan" if dry_run else "lb deploy", warnings=list(rt.loaded.warnings))
    waves = lb_targets(rt, options, missing="API load balancer")
    rendered = render_all(rt, waves, report.warnings)
    clusters = {name: c for c, names in waves for name in names}
    reports = {name: LBHostReport(host=name, cluster=c.name, role="lb") for c, names in waves for name in names}
    report.hosts = list(reports.values())

    # Local validation with the real programs: an invalid render fails its host, no device touched.
    for name, r in rendered.items():
        started = time.monotonic()
        try:
            reports[name].notes.extend(validate_local(r))
        except ValidationFailed as exc:
            reports[name].status = "failed"
            reports[name].error = str(exc)
        reports[name].timed("validate", started)

    try:
        with LiveView(f"edgekit {report.command}") as live:
            nr = rt.nornir.with_processors([live])
            todo = [n for n in rendered if reports[n].status != "failed"]
            plans = _plan_all(nr, todo, rendered, clusters, reports)
            if not dry_run:
                gate_timeout = getattr(args, "gate_timeout", LB_GATE_TIMEOUT)
                _apply_waves(nr, waves, reports, plans, gate_timeout, rt.nornir.inventory.hosts)
    finally:
        rt.nornir.close_connections(on_good=True, on_failed=True)
    if dry_run:
        print_lb_changes(report, clusters)
    return finish(report, args.json, plan_only=dry_run)


def _plan_all(
    nr: Nornir,
    names: list[str],
    rendered: dict[str, RenderedLB],
    clusters: dict[str, Cluster],
    reports: dict[str, LBHostReport],
) -> dict[str, LBPlan]:
    """Every LB's plan in parallel (``plan_lb_task``); a failed read is recorded in its report."""
    if not names:
        return {}
    planned = nr.filter(filter_func=lambda host: host.name in names).run(
        task=_plan_host, name="lb plan", rendered=rendered, clusters=clusters, reports=reports
    )
    return {name: m[0].result for name, m in planned.items() if isinstance(m[0].result, LBPlan)}


def _plan_host(
    task: Task,
    rendered: dict[str, RenderedLB],
    clusters: dict[str, Cluster],
    reports: dict[str, LBHostReport],
) -> Result:
    """``plan_lb_task`` on the host's own report row (the run report lists every LB, planned or not)."""
    name = task.host.name
    return plan_lb_task(task, rendered[name], cluster=clusters[name], report=reports[name])


def _apply_waves(
    nr: Nornir,
    waves: list[tuple[Cluster, list[str]]],
    reports: dict[str, LBHostReport],
    plans: dict[str, LBPlan],
    gate_timeout: float,
    hosts: Mapping[str, Host],
) -> None:
    """Cluster after cluster, one LB at a time (BACKUP first), ``apply_lb_task`` (``tasks.core.rollout.roll_out``);
    a failed LB, or one that failed before any change, stops the rest."""

    def start(names: list[str], last: bool) -> None:
        nr.filter(filter_func=lambda host: host.name in names).run(
            task=apply_lb_task, name="apply", plans=plans, last=last, gate_timeout=gate_timeout, hosts=hosts
        )

    roll_out([(c.name, names) for c, names in waves], reports.__getitem__, start, failed_before_blocks=True)


def _record_failure(report: HostReport, exc: BaseException) -> None:
    report.status = "failed"
    report.error = one_line(exc)


def print_lb_changes(report: RunReport, clusters: dict[str, Cluster]) -> None:
    """Each LB's actions and the unified diff of each changed file (secrets already masked)."""
    for host in report.hosts:
        cluster = clusters.get(host.host)
        lb = next((x for x in cluster.api_lb.lbs if x.name == host.host), None) if cluster and cluster.api_lb else None
        header = f"[bold]{host.host}[/] ({host.cluster}" + (f", {lb.state} priority {lb.priority})" if lb else ")")
        if host.error:
            console.print(f"{header}: [red]{_escape(host.error)}[/]", soft_wrap=True)
            continue
        if not host.commands:
            console.print(f"{header}: no change")
            continue
        console.print(f"{header}: " + _escape("; ".join(host.commands)), soft_wrap=True)
        for lines in getattr(host, "diffs", {}).values():
            for line in lines:
                style = (
                    "bold"
                    if line.startswith(("---", "+++"))
                    else "cyan"
                    if line.startswith("@@")
                    else "green"
                    if line.startswith("+")
                    else "red"
                    if line.startswith("-")
                    else ""
                )
                console.print(f"[{style}]{_escape(line)}[/]" if style else _escape(line), soft_wrap=True)


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


# --- verify (the engine: tasks.lb.verify) -----------------------------------------------------------------


def run_verify(args: argparse.Namespace) -> int:
    options = CommonOptions.from_args(args)
    rt = open_runtime(options)
    report = RunReport(command="lb verify", warnings=list(rt.loaded.warnings))
    waves = lb_targets(rt, options, missing="API load balancer")
    rendered = render_all(rt, waves, report.warnings)
    reports = {name: LBHostReport(host=name, cluster=c.name, role="lb") for c, names in waves for name in names}
    try:
        names = list(rendered)
        done = rt.nornir.filter(filter_func=lambda host: host.name in names).run(
            task=read_lb_task, name="lb verify", rendered=rendered
        )
        states: dict[str, LBState] = {}
        for name in names:
            read = done[name][0]
            reports[name].timings["read"] = round(getattr(read, "seconds", 0.0), 3)
            if read.failed:
                _record_failure(reports[name], read.exception or RuntimeError(str(read.result)))
            else:
                states[name] = read.result
        return _judge_verify(args, rt, report, waves, reports, states)
    finally:
        rt.nornir.close_connections(on_good=True, on_failed=True)


def _judge_verify(
    args: argparse.Namespace,
    rt: Runtime,
    report: RunReport,
    waves: list[tuple[Cluster, list[str]]],
    reports: dict[str, LBHostReport],
    states: dict[str, LBState],
) -> int:
    all_results: list[CheckResult] = []
    for cluster, names in waves:
        assert cluster.api_lb is not None
        vip = cluster.api_lb.vip
        holders: dict[str, bool] = {}
        unknown: dict[str, str] = {}
        for name in names:
            r = reports[name]
            state = states.get(name)
            if state is None:
                reason = r.error or "not read"
                r.checks = [
                    errored(c, name, cluster.name, reason)
                    for c in (lbchecks.SERVICES, lbchecks.BACKENDS, lbchecks.CONFIG)
                ]
                unknown[name] = reason
            else:
                r.checks = lb_checks(name, cluster, state)
                if state.addresses is None:
                    unknown[name] = state.errors.get("addresses", "?")
                else:
                    holders[name] = vip in state.addresses
            r.status = "unchanged" if all(c.ok for c in r.checks) else "failed"
            r.error = None
            all_results.extend(r.checks)
        # LBs outside --limit still count for the VIP: only judge it when the whole pair was read.
        pair = {lb.name for lb in cluster.api_lb.lbs}
        cluster_report = LBHostReport(host=lbchecks.vip_subject(vip), cluster=cluster.name, role="vip")
        if pair <= set(names):
            cluster_report.checks.append(vip_check(rt, cluster, holders, unknown))
        url = f"https://{vip}:{cluster.api_lb.frontend_port}/healthz"
        status, body = lbchecks.fetch_healthz(url, timeout=args.timeout, ca_file=args.ca)
        cluster_report.checks.append(lbchecks.check_healthz(cluster.name, vip, url, status, body))
        cluster_report.status = "unchanged" if all(c.ok for c in cluster_report.checks) else "failed"
        all_results.extend(cluster_report.checks)
        report.hosts.extend([reports[n] for n in names] + [cluster_report])
    report.finished = time.time()

    print_checks(all_results)
    if args.json:
        report.write_json(args.json)
    if args.junit:
        write_junit(all_results, args.junit, suite="edgekit lb verify")
    return EXIT_OK if all(r.ok for r in all_results) else EXIT_FAILED


def print_checks(results: list[CheckResult]) -> None:
    from rich.table import Table

    style = {"pass": "green", "fail": "bold red", "error": "bold red"}
    table = Table(title="edgekit lb verify")
    for column in ("cluster", "host", "check", "status", "reason"):
        table.add_column(column)
    for r in results:
        table.add_row(r.cluster, r.host, r.check, f"[{style[r.status]}]{r.status}[/]", _escape(r.reason))
    console.print(table)
    failed = sum(not r.ok for r in results)
    console.print(f"{len(results) - failed}/{len(results)} checks passed")
