"""The router's command handlers (``python -m tasks.router``, ``edgekit``): ``plan``, ``deploy`` and ``render``
change or show the intent; ``verify`` and ``comply`` judge and never change.

``deploy``: plan every router in parallel, then cluster by cluster in rollout order (``tasks.core.rollout``),
commit-confirm, gate, confirm or restore (``tasks.router.apply``). ``verify`` runs the checks of
``tasks.router.verify`` on every selected router in parallel (plus the per-cluster ``consistency.nodes``);
``comply`` adds ``compliance.config``, the running config of the managed subtrees against the intent, and lists
every differing line. A live table while hosts report, the final table grouped by cluster and host on stdout,
``--json FILE`` and ``--junit FILE``. Exit 0 only when every check passes, 1 otherwise; 2 bad input, 3 an
unreachable source.
"""

from __future__ import annotations

import argparse
import os
import sys

from nornir.core import Nornir

from checks.config_diff import mask_line
from inventory.errors import InputError
from inventory.model import Cluster
from tasks.core.defaults import DEFAULT_CONFIRM_TIMEOUT, DEFAULT_GATE_TIMEOUT
from tasks.core.options import CommonOptions
from tasks.core.processors import LiveChecks, LiveView, ReportCollector
from tasks.core.report import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    HostReport,
    RunReport,
    console,
    err_console,
    finish,
    one_line,
    print_changes,
)
from tasks.core.results import LiveResults, finish_checks
from tasks.core.rollout import GiveUp, StopFlag, roll_out, stop_on_interrupt
from tasks.core.runtime import Runtime, open_runtime, run_hosts
from tasks.router.apply import DeployOptions, deploy_router, pending_text
from tasks.router.dialect import DIALECTS, assumed
from tasks.router.locks import RouterLock
from tasks.router.plan import RouterPlan, plan_for_deploy, router_dialect
from tasks.router.render import RenderCache, render_router_config
from tasks.router.verify import (
    VerifyOptions,
    cluster_reports,
    router_facts,
    validate_intent,
    verify_router_report,
)


def run_deploy(args: argparse.Namespace, dry_run: bool | None = None) -> int:
    if dry_run is None:  # `deploy`: its --dry-run option decides
        dry_run = bool(args.dry_run)
    options = CommonOptions.from_args(args)
    rt = open_runtime(options)
    waves = rt.targets("router", options, missing="router")
    stop = StopFlag()
    run_options = DeployOptions(
        dry_run=dry_run,
        confirm_timeout=getattr(args, "confirm_timeout", DEFAULT_CONFIRM_TIMEOUT),
        gate_timeout=getattr(args, "gate_timeout", DEFAULT_GATE_TIMEOUT),
        save_first=bool(getattr(args, "save_first", False)),
        abort=stop.abort,
    )
    _validate_timers(run_options)
    renders = RenderCache()
    _validate_intent(rt, waves, renders)
    report = RunReport(command="plan" if dry_run else "deploy", warnings=list(rt.loaded.warnings))
    # A router whose cluster's live facts are refused is never read nor changed; the other clusters proceed.
    rows = Rows(waves)
    for cluster, names in waves:
        for name in names if cluster.refused else []:
            rows.fixed[name].status = "failed"
            rows.fixed[name].error = f"input: {cluster.refused[0]}"
    clusters = {name: c for c, names in waves for name in names if not c.refused}
    refused = len(clusters) < len(rows.fixed)
    collector = ReportCollector()
    rows.collector = collector
    report.hosts = rows.hosts()
    locks: list[RouterLock] = []
    try:
        with LiveView(f"edgekit {report.command}") as live, stop_on_interrupt(stop):
            nr = rt.nornir.with_processors([live, collector])
            planned = nr.filter(filter_func=lambda host: host.name in clusters).run(
                task=plan_for_deploy,
                name="plan",
                clusters=clusters,
                renders=renders,
                k8s_readers={name: rt.loaded.secret_reader(c.name) for name, c in clusters.items()},
                lock=not dry_run,
            )
            locks = [lock for multi in planned.values() if (lock := getattr(multi[0], "lock", None)) is not None]
            plans = {name: m[0].result for name, m in planned.items() if isinstance(m[0].result, RouterPlan)}
            report.hosts = rows.hosts()
            errors = [planned[name][0].exception for name in rows.order if name in planned]
            first = next((e for e in errors if isinstance(e, InputError)), None)
            if first is not None:  # bad input found while planning: exit 2 before any router is changed
                raise InputError(one_line(first)) from first
            if not dry_run:
                print_changes(report, only_pending=True)  # what is about to change, before anything does
                _apply_waves(nr, waves, rows, plans, run_options, stop, args.all_at_once)
    except (GiveUp, KeyboardInterrupt):
        report.hosts = rows.hosts()
        _give_up(report, args.json)
    finally:
        rt.nornir.close_connections(on_good=True, on_failed=True)
        for lock in locks:
            lock.release()
    report.hosts = rows.hosts()
    if dry_run:
        print_changes(report)
    code = finish(report, args.json, plan_only=dry_run)
    if stop:
        return EXIT_INTERRUPTED
    return InputError.exit_code if refused else code


class Rows:
    """The run report's rows in rollout order: each router's report from the Results (``ReportCollector``),
    a refused router's own, and a placeholder (``skipped``) for one that has not reported yet."""

    def __init__(self, waves: list[tuple[Cluster, list[str]]]) -> None:
        self.order = [name for _, names in waves for name in names]
        self.fixed = {name: HostReport(host=name, cluster=c.name) for c, names in waves for name in names}
        self.collector: ReportCollector | None = None

    def row(self, name: str) -> HostReport:
        got = self.collector.reports if self.collector is not None else {}
        return got.get(name) or self.fixed[name]

    def hosts(self) -> list[HostReport]:
        return [self.row(name) for name in self.order]


def _give_up(report: RunReport, json_path: str | None) -> None:
    """Third Ctrl-C: say which routers are left with an unconfirmed change and what their timers will do,
    write the report, and leave without waiting for the threads still talking to routers."""
    for host in report.hosts:
        if host.timer_fires_at is not None:
            left = pending_text(host)
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


def _validate_timers(options: DeployOptions) -> None:
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
        renders.get(cluster, assumed(cluster.router.dialect), rt.loaded.secret_reader(cluster.name))


def _apply_waves(
    nr: Nornir,
    waves: list[tuple[Cluster, list[str]]],
    rows: Rows,
    plans: dict[str, RouterPlan],
    run_options: DeployOptions,
    stop: StopFlag,
    all_at_once: bool,
) -> None:
    """Cluster after cluster in rollout order (all together with ``--all-at-once``), ``deploy_router`` on each
    planned router (``tasks.core.rollout.roll_out``): a change that failed its gate stops the rollout (the canary
    caught it); a router that could not even be read was never changed, so it fails alone and the other
    clusters go on."""

    def start(names: list[str], last: bool) -> None:
        nr.filter(filter_func=lambda host: host.name in names).run(
            task=deploy_router, name="apply", options=run_options, plans=plans, stop=stop
        )

    roll_out([(c.name, names) for c, names in waves], rows.row, start, together=True, all_at_once=all_at_once)


def run_render(args: argparse.Namespace) -> int:
    options = CommonOptions.from_args(args)
    rt = open_runtime(options)
    waves = rt.targets("router", options, missing="router")
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
                dialect = router_dialect(cluster, driver)
            if getattr(args, "venue", False):
                from tasks.router import venue

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


def run_verify(args: argparse.Namespace, comply: bool) -> int:
    options = CommonOptions.from_args(args)
    rt = open_runtime(options)
    targets = router_facts(rt, options, missing="router")
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
    return finish_checks(f"edgekit {command}", command, rt, ordered, args, order, comply)
