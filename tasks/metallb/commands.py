"""`metallb render|plan|deploy|verify`: the command-line handlers (engine: ``tasks.metallb.apply``).

Render every selected cluster's objects first (a bad site file or a missing secret is exit 2 before any cluster
is touched), plan all clusters in parallel, then — ``deploy`` — cluster by cluster in rollout order: apply
(server-side, field manager ``edgekit``), then the gate (the speakers' sessions with the router Established,
bounded by ``--gate-timeout``). A failed cluster (a conflict, a failed gate) stops the clusters after it unless
``--all-at-once``.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass, field

from nornir.core import Nornir
from nornir.core.task import Result, Task
from rich.markup import escape

from checks import metallb as checks
from checks.verdict import CheckResult, errored
from inventory.errors import EdgekitError, InputError
from inventory.model import Cluster
from tasks.core.options import CommonOptions
from tasks.core.processors import LiveView
from tasks.core.report import EXIT_FAILED, EXIT_OK, HostReport, RunReport, console, finish, one_line, write_junit
from tasks.core.results import print_results, write_checks_json
from tasks.core.rollout import roll_out
from tasks.core.runtime import Runtime, open_runtime, run_hosts
from tasks.core.steps import run_step
from tasks.metallb.apply import metallb_deploy
from tasks.metallb.kube import ClusterAPI, Refused
from tasks.metallb.plan import MetalLBPlan, plan_cluster
from tasks.metallb.render import NAMESPACE, RenderedMetalLB, masked_yaml, render_metallb, resolve_form
from tasks.metallb.verify import metallb_verify

HOST = "metallb"  # the report's host column: the cluster's MetalLB (its Kubernetes API)


@dataclass
class Target:
    cluster: Cluster
    router: str  # the router host the gate and the probes use
    api: ClusterAPI | None
    report: HostReport = field(default_factory=lambda: HostReport(host=HOST, cluster="", role="metallb"))
    rendered: RenderedMetalLB | None = None
    plan: MetalLBPlan | None = None


def cluster_api(rt: Runtime, cluster: Cluster) -> ClusterAPI | None:
    if not rt.loaded.kubeconfig:
        return None
    namespace = cluster.metallb.namespace if cluster.metallb is not None else NAMESPACE
    return ClusterAPI(rt.loaded.kubeconfig, rt.loaded.kube_contexts.get(cluster.name, cluster.name), namespace)


def targets(rt: Runtime, options: CommonOptions, need_api: bool = True) -> list[Target]:
    """One target per selected cluster with a router, in rollout order."""
    out = []
    for cluster, names in rt.targets("router", options, missing="cluster with a router"):
        if cluster.router is None or cluster.router.name not in names:
            continue
        api = cluster_api(rt, cluster)
        if api is None and need_api:
            raise InputError("the metallb commands need the clusters' kubeconfig (--kubeconfig or $KUBECONFIG)")
        target = Target(cluster, cluster.router.name, api)
        target.report.cluster = cluster.name
        out.append(target)
    return out


def _render_all(rt: Runtime, todo: list[Target]) -> None:
    """Every cluster's objects before any cluster is changed: input errors stop the run here (exit 2)."""
    for t in todo:
        if t.cluster.refused:
            t.report.status = "failed"
            t.report.error = f"input: {t.cluster.refused[0]}"
            continue
        form = resolve_form(t.cluster, t.api)
        mode = t.api.speaker_mode() if t.api is not None else None
        t.rendered = render_metallb(t.cluster, form, rt.loaded.secret_reader(t.cluster.name), mode=mode)
        t.report.dialect = form  # the report's "dialect" of a MetalLB target is its form


def run_render(args: argparse.Namespace) -> int:
    options = CommonOptions.from_args(args)
    rt = open_runtime(options)
    code = EXIT_OK
    for t in targets(rt, options, need_api=False):
        if t.cluster.refused:
            code = InputError.exit_code
            continue
        form = resolve_form(t.cluster, t.api, args.form)
        mode = t.api.speaker_mode() if t.api is not None and args.form is None else None
        rendered = render_metallb(t.cluster, form, rt.loaded.secret_reader(t.cluster.name), mode=mode)
        m = t.cluster.metallb
        source = m.pools_source if m else "?"
        console.print(f"# {t.cluster.name}: MetalLB {form} (pools from {source})", markup=False)
        for note in rendered.notes:
            console.print(f"# {note}", markup=False, soft_wrap=True)
        console.print(masked_yaml(rendered), markup=False, soft_wrap=True, end="")
        if t.api is not None:
            t.api.close()
    return code


def run_deploy(args: argparse.Namespace, dry_run: bool | None = None) -> int:
    if dry_run is None:
        dry_run = bool(args.dry_run)
    options = CommonOptions.from_args(args)
    rt = open_runtime(options)
    report = RunReport(command="metallb plan" if dry_run else "metallb deploy", warnings=list(rt.loaded.warnings))
    todo = targets(rt, options)
    report.hosts = [t.report for t in todo]
    by_router = {t.router: t for t in todo}
    _render_all(rt, todo)
    try:
        with LiveView(f"edgekit {report.command}") as live:
            nr = rt.nornir.with_processors([live])

            def plan_task(task: Task) -> Result:
                t = by_router[task.host.name]
                started = time.monotonic()
                try:
                    assert t.api is not None and t.rendered is not None
                    t.plan = run_step(task, "read MetalLB objects", plan_cluster, t.rendered, t.api)
                    t.report.commands = t.plan.lines
                    t.report.notes.extend(t.plan.notes)
                    t.report.status = "planned" if t.plan else "unchanged"
                except Exception as exc:
                    t.report.status = "failed"
                    t.report.error = ("refused: " if isinstance(exc, Refused) else "") + one_line(exc)
                t.report.timed("plan", started)
                return Result(host=task.host, result=t.report)

            names = [t.router for t in todo if t.rendered is not None]
            if names:
                nr.filter(filter_func=lambda host: host.name in names).run(task=plan_task, name="metallb plan")
            if not dry_run:
                _apply_in_order(rt, args, todo, nr)
    finally:
        rt.nornir.close_connections(on_good=True, on_failed=True)
        for t in todo:
            if t.api is not None:
                t.api.close()
    if dry_run:
        print_plans(todo)
    code = finish(report, args.json, plan_only=dry_run)
    if any((t.report.error or "").startswith("input: ") for t in todo):
        return InputError.exit_code
    return code


def _apply_in_order(rt: Runtime, args: argparse.Namespace, todo: list[Target], nr: Nornir) -> None:
    """Cluster by cluster in rollout order (``tasks.core.rollout.roll_out``); a failed cluster, or one that failed
    before any change, stops the ones after it (unless --all-at-once)."""
    by_router = {t.router: t for t in todo}

    def start(names: list[str], last: bool) -> None:
        t = by_router[names[0]]
        nr.filter(filter_func=lambda host: host.name == t.router).run(
            task=metallb_deploy,
            name="metallb deploy",
            plan=t.plan,
            api=t.api,
            report=t.report,
            force=bool(args.force_conflicts),
            gate_timeout=args.gate_timeout,
        )

    waves = [(t.cluster.name, [t.router]) for t in todo]
    roll_out(
        waves,
        lambda name: by_router[name].report,
        start,
        all_at_once=bool(args.all_at_once),
        failed_before_blocks=True,
    )


def print_plans(todo: list[Target]) -> None:
    for t in todo:
        header = f"[bold]{escape(t.cluster.name)}[/] (MetalLB {t.report.dialect or '?'})"
        if t.report.error:
            console.print(f"{header}: [red]{escape(t.report.error)}[/]", soft_wrap=True)
        elif not t.report.commands:
            console.print(f"{header}: no change")
        else:
            console.print(f"{header}: {len(t.report.commands)} change(s)")
        for note in t.report.notes:  # what edgekit takes over, leaves out (native mode) or deletes first, and why
            console.print(f"  [dim]note: {escape(note)}[/]", soft_wrap=True)
        if t.report.commands and not t.report.error:
            for line in t.report.commands:
                style = {"+": "green", "-": "red", "~": "yellow"}.get(line[:1], "")
                console.print(f"  [{style}]{escape(line)}[/]" if style else f"  {escape(line)}", soft_wrap=True)


def config_check(rt: Runtime, cluster: Cluster) -> CheckResult | None:
    """metallb.config of one cluster for ``comply`` when the site file states MetalLB's intent (its ``metallb``
    section; None otherwise: MetalLB is not edgekit's there); an error naming why when it cannot be read."""
    if cluster.metallb is None or not cluster.metallb.declared:
        return None
    api = cluster_api(rt, cluster)
    if api is None:
        return errored(checks.CONFIG, HOST, cluster.name, "no kubeconfig: MetalLB's objects not read")
    try:
        rendered = render_metallb(
            cluster, resolve_form(cluster, api), rt.loaded.secret_reader(cluster.name), mode=api.speaker_mode()
        )
        return checks.check_config(cluster.name, plan_cluster(rendered, api).diffs, HOST)
    except EdgekitError as exc:
        return errored(checks.CONFIG, HOST, cluster.name, one_line(exc))
    finally:
        api.close()


def run_verify(args: argparse.Namespace) -> int:
    options = CommonOptions.from_args(args)
    rt = open_runtime(options)
    todo = targets(rt, options)
    _render_all(rt, todo)
    by_router = {t.router: t for t in todo}

    def verify_task(task: Task) -> Result:
        t = by_router[task.host.name]
        started = time.monotonic()
        assert t.api is not None
        try:
            t.report.checks = task.run(task=metallb_verify, api=t.api, rendered=t.rendered, severity_level=10).result
        except Exception as exc:
            t.report.checks = [errored(checks.CONFIG, HOST, t.cluster.name, one_line(exc))]
        t.report.timed("verify", started)
        return Result(host=task.host)

    try:
        for t in todo:
            if t.report.error:
                t.report.checks = [errored(checks.CONFIG, HOST, t.cluster.name, t.report.error)]
        run_hosts(rt, [t.router for t in todo if t.rendered is not None], verify_task, "metallb verify", [])
    finally:
        rt.nornir.close_connections(on_good=True, on_failed=True)
        for t in todo:
            if t.api is not None:
                t.api.close()
    results = [r for t in todo for r in t.report.checks]
    for t in todo:
        t.report.status = "unchanged" if all(r.ok for r in t.report.checks) else "failed"
    order = [t.cluster.name for t in todo]
    print_results(results, "edgekit metallb verify", order)
    report = RunReport(command="metallb verify", hosts=[t.report for t in todo], warnings=list(rt.loaded.warnings))
    report.finished = time.time()
    if args.json:
        write_checks_json(report, results, args.json)
    if args.junit:
        write_junit(results, args.junit, suite="edgekit metallb verify")
    if any((t.report.error or "").startswith("input: ") for t in todo):
        return InputError.exit_code
    return EXIT_OK if results and all(r.ok for r in results) else EXIT_FAILED
