"""`plan`, `deploy` and `render`: the router subcommands of `python -m tasks.router`."""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from nornir.core.task import Result, Task

from checks.config_diff import mask_line
from inventory.errors import InputError
from inventory.model import Cluster
from tasks import deploy
from tasks.commands import deploy as commands
from tasks.dialect import DIALECTS
from tasks.locks import RouterLock, RouterLocked
from tasks.options import CommonOptions
from tasks.progress import Progress
from tasks.render import RenderCache, render_router_config
from tasks.report import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    HostReport,
    RunReport,
    console,
    err_console,
    finish,
    one_line,
    print_changes,
    root_cause,
)
from tasks.runtime import Runtime, open_runtime


def register(subparsers: argparse._SubParsersAction) -> None:
    """`plan`, `deploy` and `render` (``tasks.commands.deploy``)."""
    commands.register(subparsers)


def _router_clusters(rt: Runtime, options: CommonOptions) -> list[tuple[Cluster, list[str]]]:
    """(cluster, router host names) in rollout order."""
    return rt.targets("router", options)


class GiveUp(BaseException):
    """The third Ctrl-C: stop waiting for routers in progress (their timers will revert them)."""


@contextmanager
def _stop_on_interrupt(flag: deploy.StopFlag) -> Iterator[None]:
    """First Ctrl-C: start no new host, let running ones finish or restore. Second: end the gates now and
    restore every router in progress in place. Third: stop waiting (GiveUp): the routers left pending are
    listed with when their timer fires and whether that is a reboot."""

    def handler(signum: int, frame: Any) -> None:
        if flag.abort.is_set():
            raise GiveUp
        if flag:
            flag.abort.set()
            err_console.print(
                "[yellow]second interrupt: gates end now; routers in progress are restored in place "
                "(Ctrl-C again leaves them to their commit-confirm timers)[/]"
            )
            return
        flag.set()
        err_console.print("[yellow]interrupt: no new host will start; waiting for hosts in progress[/]")

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def run_deploy(args: argparse.Namespace, dry_run: bool | None = None) -> int:
    if dry_run is None:  # `deploy`: its --dry-run option decides
        dry_run = bool(args.dry_run)
    options = CommonOptions.from_args(args)
    rt = open_runtime(options)
    waves = _router_clusters(rt, options)
    if not waves:
        raise InputError("no router matches the selection (--cluster/--limit)")
    stop = deploy.StopFlag()
    run_options = deploy.DeployOptions(
        dry_run=dry_run,
        confirm_timeout=getattr(args, "confirm_timeout", deploy.DEFAULT_CONFIRM_TIMEOUT),
        gate_timeout=getattr(args, "gate_timeout", deploy.DEFAULT_GATE_TIMEOUT),
        save_first=bool(getattr(args, "save_first", False)),
        abort=stop.abort,
    )
    _validate_timers(run_options)
    renders = RenderCache()
    _validate_intent(rt, waves, renders)
    report = RunReport(command="plan" if dry_run else "deploy", warnings=list(rt.loaded.warnings))
    reports = {name: HostReport(host=name, cluster=c.name) for c, names in waves for name in names}
    report.hosts = list(reports.values())
    # A router whose cluster's live facts are refused is never read nor changed; the other clusters proceed.
    refused = {name: c.refused[0] for c, names in waves if c.refused for name in names}
    for name, reason in refused.items():
        reports[name].status = "failed"
        reports[name].error = f"input: {reason}"
    clusters = {name: c for c, names in waves for name in names if name not in refused}
    plans: dict[str, deploy.RouterPlan] = {}
    locks: dict[str, RouterLock] = {}
    input_errors: dict[str, BaseException] = {}  # router -> the exception whose root cause is an InputError
    try:
        with Progress(f"edgekit {report.command}") as progress, _stop_on_interrupt(stop):
            _plan_all(
                rt, options, clusters, reports, plans, progress, None if dry_run else locks, renders, input_errors
            )
            first = next((input_errors[name] for name in reports if name in input_errors), None)
            if first is not None:  # bad input found while planning: exit 2 before any router is changed
                raise InputError(one_line(first)) from first
            if not dry_run:
                print_changes(report, only_pending=True)  # what is about to change, before anything does
                _apply_waves(rt, waves, clusters, reports, plans, run_options, progress, stop, args.all_at_once)
    except (GiveUp, KeyboardInterrupt):
        _give_up(report, args.json)
    finally:
        rt.nornir.close_connections(on_good=True, on_failed=True)
        for lock in locks.values():
            lock.release()
    if dry_run:
        print_changes(report)
    code = finish(report, args.json, plan_only=dry_run)
    if stop:
        return EXIT_INTERRUPTED
    return InputError.exit_code if refused else code


def _give_up(report: RunReport, json_path: str | None) -> None:
    """Third Ctrl-C: say which routers are left with an unconfirmed change and what their timers will do,
    write the report, and leave without waiting for the threads still talking to routers."""
    for host in report.hosts:
        if host.timer_fires_at is not None:
            left = deploy.pending_text(host)
            host.status = "failed"
            host.error = f"interrupted: left with an unconfirmed change; {left}"
            err_console.print(f"[bold red]{host.host}[/]: left pending; {left}", highlight=False)
        elif host.status == "planned":
            host.status = "skipped"
            host.notes.append("interrupted before this host finished")
    finish(report, json_path)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(EXIT_INTERRUPTED)


def _validate_timers(options: deploy.DeployOptions) -> None:
    """The gate must end well before the router's timer fires (VyOS counts whole minutes)."""
    if options.dry_run:
        return
    if options.confirm_timeout < 1:
        raise InputError(f"--confirm-timeout {options.confirm_timeout}: must be at least 1 second (1 minute on VyOS)")
    minutes = -(-options.confirm_timeout // 60)
    if options.gate_timeout + 30 > minutes * 60:
        raise InputError(
            f"--gate-timeout {options.gate_timeout:g} s leaves less than 30 s before the router's commit-confirm "
            f"timer ({minutes} min) would revert the change: raise --confirm-timeout or lower --gate-timeout"
        )


def _validate_intent(rt: Runtime, waves: list[tuple[Cluster, list[str]]], renders: RenderCache) -> None:
    """Render every router's intent once before connecting anywhere: a missing fact or secret is an
    input error (exit 2) while no device has been touched. The plan takes the render from ``renders``; only a
    router whose detected version differs from the one guessed here (``auto``: 1.4) renders again."""
    for cluster, _ in waves:
        assert cluster.router is not None
        if cluster.refused:
            continue  # reported per router by run_deploy
        version = cluster.router.dialect if cluster.router.dialect != "auto" else "1.4"
        renders.get(cluster, DIALECTS[version], rt.loaded.secret_reader(cluster.name))


def _plan_all(
    rt: Runtime,
    options: CommonOptions,
    clusters: dict[str, Cluster],
    reports: dict[str, HostReport],
    plans: dict[str, deploy.RouterPlan],
    progress: Progress,
    locks: dict[str, RouterLock] | None = None,
    renders: RenderCache | None = None,
    input_errors: dict[str, BaseException] | None = None,
) -> None:
    """Plan every router in parallel; a deploy (``locks`` given) first takes each router's local lock, so a
    second run fails at once for every router the first one holds."""

    def plan_task(task: Task) -> Result:
        name = task.host.name
        report = reports[name]
        cluster = clusters[name]
        if locks is not None:
            lock = RouterLock(name, str(task.host.hostname), int(task.host.port or 22))
            try:
                lock.acquire()
            except RouterLocked as exc:
                report.status = "failed"
                report.error = str(exc)
                progress.step(name, "locked")
                return Result(host=task.host, result=report)
            locks[name] = lock
        try:
            result = task.run(
                task=deploy.plan_router,
                cluster=cluster,
                report=report,
                k8s_reader=rt.loaded.secret_reader(cluster.name),
                step=progress.step,
                renders=renders,
                severity_level=10,
            )
            plans[name] = result.result
            progress.step(name, report.status)
        except Exception as exc:
            _record_failure(report, exc)
            if input_errors is not None and isinstance(root_cause(exc), InputError):
                input_errors[name] = exc
            progress.step(name, "failed")
        return Result(host=task.host, result=report)

    selected = rt.nornir.filter(filter_func=lambda host: host.name in clusters)
    selected.run(task=plan_task, name="plan")


def _apply_waves(
    rt: Runtime,
    waves: list[tuple[Cluster, list[str]]],
    clusters: dict[str, Cluster],
    reports: dict[str, HostReport],
    plans: dict[str, deploy.RouterPlan],
    run_options: deploy.DeployOptions,
    progress: Progress,
    stop: deploy.StopFlag,
    all_at_once: bool,
) -> None:
    def apply_task(task: Task) -> Result:
        name = task.host.name
        report = reports[name]
        if stop:
            report.status = "skipped"
            report.notes.append("interrupted before this host started")
            return Result(host=task.host, result=report)
        try:
            task.run(
                task=deploy.apply_router,
                cluster=clusters[name],
                plan=plans[name],
                report=report,
                options=run_options,
                step=progress.step,
                severity_level=10,
            )
        except Exception as exc:
            if report.status not in ("reverted", "failed"):
                _record_failure(report, exc)
        progress.step(name, report.status)
        return Result(host=task.host, result=report)

    groups = [[name for _, names in waves for name in names]] if all_at_once else [names for _, names in waves]
    blocked_by: str | None = None
    for names in groups:
        todo = [n for n in names if n in plans and reports[n].status == "planned"]
        if blocked_by:
            for n in todo:
                reports[n].status = "skipped"
                reports[n].notes.append(f"not started: {blocked_by}")
            continue
        if todo:
            rt.nornir.filter(filter_func=lambda host, todo=todo: host.name in todo).run(task=apply_task, name="apply")
        # A change that failed its gate stops the rollout (the canary caught it); a router that could
        # not even be read was never changed, so it fails alone and the other clusters go on.
        failed = [n for n in todo if not reports[n].ok]
        if failed and not all_at_once:
            blocked_by = f"cluster {clusters[failed[0]].name} did not pass ({', '.join(failed)})"


def _record_failure(report: HostReport, exc: BaseException) -> None:
    text = one_line(exc)
    report.status = "failed"
    report.error = f"input: {text}" if isinstance(root_cause(exc), InputError) else text


def run_render(args: argparse.Namespace) -> int:
    options = CommonOptions.from_args(args)
    rt = open_runtime(options)
    waves = _router_clusters(rt, options)
    if not waves:
        raise InputError("no router matches the selection (--cluster/--limit)")
    code = EXIT_OK
    for cluster, names in waves:
        if cluster.refused:  # nothing rendered for it (open_runtime printed why); the others are
            code = InputError.exit_code
            continue
        for name in names:
            reader = rt.loaded.secret_reader(cluster.name)
            if args.vyos:
                dialect = DIALECTS[args.vyos]
            else:
                host = rt.nornir.inventory.hosts[name]
                driver = host.get_connection("napalm", rt.nornir.config)
                dialect = deploy.router_dialect(cluster, driver)
            if getattr(args, "venue", False):
                from tasks import venue

                show = (
                    None
                    if args.vyos
                    else rt.nornir.inventory.hosts[name].get_connection("napalm", rt.nornir.config).show
                )
                key = venue.router_public_key(cluster, dialect, reader, show)
                console.print(venue.venue_stanza(cluster, key), markup=False, soft_wrap=True, end="")
                continue
            rendered = render_router_config(cluster, dialect, reader)
            console.print(f"# {name} ({cluster.name}, VyOS {dialect.version})", markup=False)
            for line in rendered.lines:
                console.print(mask_line(line, rendered.secrets), markup=False, soft_wrap=True)
    rt.nornir.close_connections()
    return code
