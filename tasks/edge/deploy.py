"""`edge deploy` and `edge plan`: the whole edge of every cluster in one command, in the order a rebuilt cluster
needs, so it cannot be run in the wrong order.

``deploy``, cluster after cluster in the site's rollout order (``tasks.core.rollout.roll_out``; ``--all-at-once``
does not wait): MetalLB's side (``metallb deploy``: server-side apply, then its gate), the router (``deploy``:
commit-confirm, its gate, confirm or restore), the API LBs (``lb deploy``: one LB at a time, its gate, restore),
the cluster's venue stanza written to ``--venue-dir`` (``tasks.router.venue``; the report says whether the venue
needs it), then the cluster's ``edge verify``. Each layer runs through its own command's handler (the same
options, apply and gate as ``edgekit metallb|router|lb deploy``, nothing reimplemented); its output goes to stderr
as progress, its ``--json`` report is merged into this one. A cluster whose layer or verify fails stops the
rollout: the clusters after it are ``skipped`` with one line naming the cluster, the layer and the reason.
The tunnel's far end is the venue's: when the cluster's stanza changed (the venue needs it) and the only red checks
are ``wireguard.handshake``/``wireguard.reachable``, the cluster passes with a note saying so (they turn green once
the venue applied the stanza); with a stanza the venue has, they fail the cluster like any check.

Ctrl-C as ``router deploy``: once, the layer running finishes (a router in progress finishes its gate and
confirms or restores) and nothing new starts; twice, the router's gates end now and routers in progress are
restored in place; three times, edgekit stops waiting (the routers' timers revert them). Exit 130.

``plan``: the three layers' plans of every selected cluster (each layer's diffs as its own ``plan`` prints them)
and what writing the venue stanzas would change; exit 10 when anything is pending, 0 when nothing is.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from checks import wireguard
from checks.verdict import CheckResult
from inventory.errors import EdgekitError, InputError
from tasks.core.report import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_PENDING,
    HostReport,
    RunReport,
    err_console,
    print_summary,
    write_junit,
)
from tasks.core.rollout import GiveUp, StopFlag, roll_out, stop_on_interrupt
from tasks.edge.venue_files import VenueChange

if TYPE_CHECKING:  # the engine's types; its modules load when a handler runs
    from inventory.model import Cluster
    from tasks.core.options import CommonOptions
    from tasks.core.runtime import Runtime

LAYERS = ("metallb", "router", "lb")  # a cluster's order: MetalLB's end of the sessions first (runbook.md)
# Each layer's argument module (its deploy/plan subcommands and handlers) and its name in the report.
ARGUMENTS = {
    "metallb": "tasks.metallb.arguments",
    "router": "tasks.router.arguments",
    "lb": "tasks.lb.arguments",
    "verify": "tasks.edge.arguments",
}
COMMAND = {"metallb": "metallb deploy", "router": "router deploy", "lb": "lb deploy", "verify": "edge verify"}
# Verify checks the venue's own side answers: red until the venue applied a stanza it needs.
VENUE_CHECKS = (wireguard.HANDSHAKE, wireguard.REACHABLE)


@dataclass
class LayerRun:
    """One command run by edge: its exit code, its ``--json`` report (``{}`` when it wrote none; ``error``: an
    edgekit error it raised, in one line) and how long it took."""

    code: int
    report: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    error: str | None = None


# (layer, argv) -> LayerRun: the default runs the layer's own command in this process (``run_command``).
Runner = Callable[[str, list[str]], LayerRun]


def run_command(layer: str, argv: list[str], stdout_to_stderr: bool = True) -> LayerRun:
    """``argv`` through the layer's own argument parser and handler (``edgekit metallb deploy ...``), with
    ``--json`` to a temporary file that is read back. Its tables go to stderr (progress) unless told otherwise."""
    from tasks.core import cli

    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="edgekit-edge-") as tmp:
        path = Path(tmp) / "report.json"
        parser = cli.build_parser((ARGUMENTS[layer],), prog=f"edgekit {layer}")
        args = parser.parse_args([*argv, "--json", str(path)])
        redirect = contextlib.redirect_stdout(sys.stderr) if stdout_to_stderr else contextlib.nullcontext()
        error = None
        with redirect:
            try:
                code = args.handler(args)
            except EdgekitError as exc:
                code, error = exc.exit_code, str(exc).splitlines()[0]
                err_console.print(f"[red]error:[/] {_escape(error)}", soft_wrap=True)
        report = json.loads(path.read_text()) if path.exists() else {}
    return LayerRun(code, report, time.monotonic() - started, error)


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


# --- one cluster's rows ------------------------------------------------------------------------------------


def host_rows(report: dict[str, Any]) -> list[dict[str, Any]]:
    hosts = report.get("hosts") or []
    return [h for h in hosts if isinstance(h, dict)]


def first_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[0].strip() if lines else ""


def layer_status(run: LayerRun) -> str:
    """A layer's status from its hosts: failed/reverted (or a non-zero exit), changed, else unchanged."""
    statuses = [h.get("status") for h in host_rows(run.report)]
    if "reverted" in statuses:
        return "reverted"
    if run.code != EXIT_OK or "failed" in statuses:
        return "failed"
    return "changed" if "changed" in statuses else "unchanged"


def layer_reason(layer: str, run: LayerRun) -> str:
    """Why a layer failed, in one line: the command, the first failing host and its error."""
    name = COMMAND[layer]
    if run.error:
        return f"{name}: {run.error}"
    if run.code == EXIT_INTERRUPTED:
        return f"{name}: interrupted"
    for host in host_rows(run.report):
        if host.get("status") in ("failed", "reverted"):
            error = first_line(str(host.get("error") or "")) or "; ".join(host.get("notes") or []) or "failed"
            return f"{name}: {host.get('host')} {host.get('status')}: {first_line(error)}"
    return f"{name}: exit {run.code}"


def verify_failures(run: LayerRun) -> list[dict[str, Any]]:
    return [c for h in host_rows(run.report) for c in h.get("checks") or [] if c.get("status") != "pass"]


def verify_reason(failed: list[dict[str, Any]], run: LayerRun) -> str:
    if run.error:
        return f"edge verify: {run.error}"
    if not failed:
        return f"edge verify: exit {run.code}"
    c = failed[0]
    more = f" (+{len(failed) - 1} more)" if len(failed) > 1 else ""
    return (
        f"edge verify: {c.get('check')} {c.get('status')} on {c.get('host')}: {first_line(str(c.get('reason')))}{more}"
    )


@dataclass
class ClusterRun:
    """One cluster of the rollout: its row (status, the one-line reason), each layer's run and the venue."""

    name: str
    layers: Sequence[str]
    row: HostReport
    runs: dict[str, LayerRun] = field(default_factory=dict)
    venue: VenueChange | None = None
    interrupted: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "cluster": self.name,
            "status": self.row.status,
            "error": self.row.error,
            "notes": self.row.notes,
            "venue": self.venue.to_json() if self.venue else None,
            "steps": [
                {
                    "layer": layer,
                    "exit": run.code,
                    "seconds": round(run.seconds, 3),
                    "error": run.error,
                    "report": run.report,
                }
                for layer, run in self.runs.items()
            ],
        }


def deploy_cluster(
    c: ClusterRun,
    run: Runner,
    common: list[str],
    venue: Callable[[str], VenueChange | None],
    stop: StopFlag,
    extra: dict[str, list[str]] | None = None,
) -> None:
    """The layers of one cluster in order, each its own deploy with its gate, then the venue stanza and verify.
    ``common``: the inventory options every command takes; ``extra``: a layer's own deploy options. The first
    layer that fails ends the cluster (the row ``failed`` with the reason); Ctrl-C starts nothing new."""
    row = c.row
    changed = False
    for layer in c.layers:
        if stop:
            row.status = "skipped"
            row.notes.append(f"interrupted before {COMMAND[layer]}")
            c.interrupted = True
            return
        err_console.print(f"[bold]==> {c.name}: {COMMAND[layer]}[/]", highlight=False)
        result = run(layer, ["deploy", "--cluster", c.name, *common, *(extra or {}).get(layer, [])])
        c.runs[layer] = result
        row.timings[layer] = round(result.seconds, 3)
        status = layer_status(result)
        if result.code == EXIT_INTERRUPTED:
            stop.set()
            c.interrupted = True
        if status in ("failed", "reverted"):
            row.status = "failed"
            row.error = layer_reason(layer, result)
            return
        changed = changed or status == "changed"
        row.commands.extend(
            f"{layer}: {h['host']}: {line}"
            for h in host_rows(result.report)
            for line in h.get("commands") or []
            if h.get("status") == "changed"
        )
    if stop:
        row.status = "skipped"
        row.notes.append("interrupted before edge verify")
        c.interrupted = True
        return
    try:
        c.venue = venue(c.name)
    except Exception as exc:  # an input error or the router's session: this cluster fails, the report is written
        row.status = "failed"
        row.error = f"venue stanza: {first_line(str(exc)) or type(exc).__name__}"
        return
    if c.venue is not None:
        row.notes.append(c.venue.text())
    err_console.print(f"[bold]==> {c.name}: edge verify[/]", highlight=False)
    result = run("verify", ["verify", "--cluster", c.name, *common, *(extra or {}).get("verify", [])])
    c.runs["verify"] = result
    row.timings["verify"] = round(result.seconds, 3)
    failed = verify_failures(result)
    waiting_for_venue = (
        c.venue is not None and c.venue.needed and failed and all(f.get("check") in VENUE_CHECKS for f in failed)
    )
    if waiting_for_venue:
        # The tunnel's far end is the venue's: until it applies the new stanza these are red by design.
        row.notes.append(f"{len(failed)} wireguard check(s) red until the venue applies the new stanza")
    elif result.code != EXIT_OK or failed:
        row.status = "failed"
        row.error = verify_reason(failed, result)
        return
    else:
        passed = sum(c.get("status") == "pass" for h in host_rows(result.report) for c in h.get("checks") or [])
        row.notes.append(f"edge verify: {passed} checks passed")
    row.status = "changed" if changed else "unchanged"


def roll_out_clusters(
    clusters: list[ClusterRun],
    run: Runner,
    common: list[str],
    venue: Callable[[str], VenueChange | None],
    stop: StopFlag,
    all_at_once: bool = False,
    extra: dict[str, list[str]] | None = None,
) -> None:
    """Cluster after cluster (``roll_out``, one wave per cluster): a failed cluster stops the ones after it,
    each then ``skipped`` with one line naming the cluster that failed, its layer and its reason."""
    by_name = {c.name: c for c in clusters}

    def start(names: list[str], last: bool) -> None:
        c = by_name[names[0]]
        deploy_cluster(c, run, common, venue, stop, extra)

    roll_out([(c.name, [c.name]) for c in clusters], lambda name: by_name[name].row, start, all_at_once=all_at_once)
    blocker: ClusterRun | None = None
    for c in clusters:
        if c.row.status == "failed" and c.runs:  # refused before any layer ran: it failed alone, blocks nothing
            blocker = c
        elif c.row.status == "skipped" and blocker is not None and not c.interrupted:
            c.row.notes = [f"not started: cluster {blocker.name} failed: {blocker.row.error}"]


def exit_code(clusters: list[ClusterRun], stop: StopFlag) -> int:
    if stop or any(c.interrupted for c in clusters):
        return EXIT_INTERRUPTED
    codes = {run.code for c in clusters for run in c.runs.values()}
    if any((c.row.error or "").startswith("input: ") for c in clusters):
        codes.add(InputError.exit_code)
    for code in (InputError.exit_code, 3):
        if code in codes:
            return code
    return EXIT_OK if all(c.row.ok for c in clusters) else EXIT_FAILED


# --- the whole run's report --------------------------------------------------------------------------------


def layer_rows(c: ClusterRun) -> list[HostReport]:
    """The report's rows of one cluster: the cluster's own (status, the one-line reason, the venue, verify's
    count), then every host each deploy layer reported (verify's checks are in the cluster's steps and JUnit)."""
    return [
        c.row,
        *(
            row_of(h, c.name, layer)
            for layer, run in c.runs.items()
            if layer != "verify"
            for h in host_rows(run.report)
        ),
    ]


def row_of(h: dict[str, Any], cluster: str, layer: str) -> HostReport:
    """A layer's host row (its ``--json`` form) back as a ``HostReport``."""
    return HostReport(
        host=str(h.get("host")),
        cluster=str(h.get("cluster") or cluster),
        role=str(h.get("role") or layer),
        status=h.get("status") or "skipped",
        commands=list(h.get("commands") or []),
        error=h.get("error"),
        notes=list(h.get("notes") or []),
        timings=dict(h.get("timings") or {}),
        dialect=h.get("dialect"),
        checks=[CheckResult.model_validate(x) for x in h.get("checks") or []],
        rollback=h.get("rollback"),
    )


def junit_results(clusters: list[ClusterRun]) -> list[CheckResult]:
    """One testcase per cluster x step (``edge.metallb``, ``edge.router``, ``edge.lb``, ``edge.verify``), plus
    every check verify read; a step not started is an error naming why."""
    out: list[CheckResult] = []
    for c in clusters:
        for layer in [*c.layers, "verify"]:
            run = c.runs.get(layer)
            check = f"edge.{layer}"
            if run is None:
                reason = f"not started: {c.row.error}" if c.row.error else "; ".join(c.row.notes) or "not started"
                out.append(CheckResult(check=check, host="edge", cluster=c.name, status="error", reason=reason))
                continue
            ok = (
                layer_status(run) in ("changed", "unchanged")
                if layer != "verify"
                else c.row.ok and not (c.row.error or "").startswith("edge verify")
            )
            reason = f"exit {run.code} in {run.seconds:.1f} s"
            if not ok:
                reason = (layer_reason(layer, run) if layer != "verify" else c.row.error) or reason
            out.append(
                CheckResult(check=check, host="edge", cluster=c.name, status="pass" if ok else "fail", reason=reason)
            )
        verify = c.runs.get("verify")
        if verify is not None:
            out.extend(CheckResult.model_validate(x) for h in host_rows(verify.report) for x in h.get("checks") or [])
    return out


def write_report(report: RunReport, clusters: list[ClusterRun], path: str) -> None:
    data = report.to_json()
    data["clusters"] = [c.to_json() for c in clusters]
    data["venues"] = [c.venue.to_json() for c in clusters if c.venue is not None]
    text = json.dumps(data, indent=2, default=str)
    if path == "-":
        sys.stdout.write(text + "\n")
    else:
        Path(path).write_text(text + "\n")


def print_venues(clusters: list[ClusterRun]) -> None:
    for c in clusters:
        if c.venue is not None:
            style = "bold yellow" if c.venue.needed else "green"
            err_console.print(f"[{style}]{c.name}: {_escape(c.venue.text())}[/]", soft_wrap=True)


@contextlib.contextmanager
def stdout_for(json_path: str | None) -> Iterator[None]:
    """``--json -``: stdout holds the report alone, every table goes to stderr."""
    if json_path == "-":
        with contextlib.redirect_stdout(sys.stderr):
            yield
    else:
        yield


def finish_deploy(
    clusters: list[ClusterRun], args: argparse.Namespace, warnings: list[str], started: float, stop: StopFlag
) -> int:
    report = RunReport(command="edge deploy", warnings=warnings, started=started)
    report.hosts = [row for c in clusters for row in layer_rows(c)]
    report.finished = time.time()
    with stdout_for(args.json):
        print_summary(report)
    print_venues(clusters)
    if args.json:
        write_report(report, clusters, args.json)
    if getattr(args, "junit", None):
        write_junit(junit_results(clusters), args.junit, suite="edgekit edge deploy")
    return exit_code(clusters, stop)


def deploy(
    clusters: list[ClusterRun],
    args: argparse.Namespace,
    run: Runner,
    common: list[str],
    venue: Callable[[str], VenueChange | None],
    warnings: list[str] | None = None,
    extra: dict[str, list[str]] | None = None,
) -> int:
    """The rollout under Ctrl-C handling (``stop_on_interrupt``), then the report and the exit code."""
    started = time.time()
    stop = StopFlag()
    try:
        with stop_on_interrupt(stop):
            roll_out_clusters(clusters, run, common, venue, stop, bool(getattr(args, "all_at_once", False)), extra)
    except (GiveUp, KeyboardInterrupt):
        for c in clusters:
            if c.row.status == "planned":
                c.row.status = "skipped"
                c.row.notes.append("interrupted before this cluster finished")
                c.interrupted = True
        finish_deploy(clusters, args, list(warnings or []), started, stop)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(EXIT_INTERRUPTED)
    return finish_deploy(clusters, args, list(warnings or []), started, stop)


# --- plan ---------------------------------------------------------------------------------------------------


def plan_code(runs: dict[str, LayerRun], venues: Sequence[VenueChange]) -> int:
    """``edge plan``'s exit: the worst of the layers' (2 bad input, 3 unreachable, 1 failed), else 10 when a layer
    or a venue stanza has something pending, else 0."""
    codes = {r.code for r in runs.values()}
    for code in (InputError.exit_code, 3, EXIT_FAILED):
        if code in codes:
            return code
    if EXIT_PENDING in codes or any(v.needed for v in venues):
        return EXIT_PENDING
    return EXIT_OK if all(c == EXIT_OK for c in codes) else EXIT_FAILED


# --- the command-line handlers ------------------------------------------------------------------------------


def inventory_argv(args: argparse.Namespace) -> list[str]:
    """The inventory options as given (the layers resolve the environment defaults themselves), no --cluster."""
    out: list[str] = []
    for value in args.state or []:
        out += ["--state", value]
    for flag, value in (("--site", args.site), ("--kubeconfig", args.kubeconfig)):
        if value:
            out += [flag, value]
    for value in args.limit or []:
        out += ["--limit", value]
    out += ["--workers", str(args.workers)]
    if args.require_k8s:
        out.append("--require-k8s")
    if getattr(args, "accept_new_host_keys", False):
        out.append("--accept-new-host-keys")
    return out


def deploy_extra(args: argparse.Namespace) -> dict[str, list[str]]:
    """Each layer's own deploy options, from edge deploy's."""
    router = ["--confirm-timeout", str(args.confirm_timeout), "--gate-timeout", str(args.gate_timeout)]
    if args.save_first:
        router.append("--save-first")
    metallb = ["--gate-timeout", str(args.metallb_gate_timeout)]
    if args.force_conflicts:
        metallb.append("--force-conflicts")
    return {"metallb": metallb, "router": router, "lb": ["--gate-timeout", str(args.lb_gate_timeout)]}


@dataclass
class Selection:
    """The selected clusters in rollout order, each with its layers (MetalLB only with a kubeconfig, the router
    when it has one selected, the LBs when it has any selected)."""

    clusters: list[tuple[Cluster, list[str]]]  # (cluster, its layers in order)

    def names(self, layer: str) -> list[str]:
        return [c.name for c, layers in self.clusters if layer in layers]


def select(rt: Runtime, options: CommonOptions) -> Selection:
    from tasks.lb.plan import lb_targets

    routers = {c.name for c, names in rt.targets("router", options) if c.router is not None and c.router.name in names}
    lbs = {c.name for c, _ in lb_targets(rt, options)}
    out = []
    for cluster in rt.loaded.site.ordered_clusters():
        if options.clusters and cluster.name not in options.clusters:
            continue
        layers = []
        if cluster.name in routers:
            if rt.loaded.kubeconfig:
                layers.append("metallb")
            layers.append("router")
        if cluster.name in lbs:
            layers.append("lb")
        if layers:
            out.append((cluster, layers))
    if not out:
        raise InputError("no router or API load balancer matches the selection (--cluster/--limit)")
    return Selection(out)


def validate(rt: Runtime, selection: Selection, warnings: list[str]) -> None:
    """Every layer's render of every selected cluster before any device or cluster is changed: a missing fact or
    secret is exit 2 here (the same renders the layers' own commands check first)."""
    from tasks.lb.commands import render_all
    from tasks.metallb.commands import cluster_api
    from tasks.metallb.render import render_metallb, resolve_form
    from tasks.router.dialect import assumed
    from tasks.router.render import RenderCache

    renders = RenderCache()
    lbs = []
    for cluster, layers in selection.clusters:
        if cluster.refused:
            continue  # its router fails with the refusal in its own layer; the other clusters go on
        reader = rt.loaded.secret_reader(cluster.name)
        if "router" in layers and cluster.router is not None:
            renders.get(cluster, assumed(cluster.router.dialect), reader)
        if "metallb" in layers:
            api = cluster_api(rt, cluster)
            try:
                render_metallb(cluster, resolve_form(cluster, api), reader)
            finally:
                if api is not None:
                    api.close()
        if "lb" in layers:
            lbs.append((cluster, sorted(m.name for m in cluster.api_lb.lbs) if cluster.api_lb else []))
    if lbs:
        render_all(rt, lbs, warnings)


def render_venue(rt: Runtime, cluster: Cluster) -> str | None:
    """The cluster's venue stanza (``tasks.router.venue``, as ``router render --venue`` prints it), the key read
    from the router where the dialect keeps it there; None for a cluster without a tunnel."""
    from tasks.router import venue
    from tasks.router.plan import router_dialect

    if cluster.router is None or cluster.wireguard is None:
        return None
    host = rt.nornir.inventory.hosts[cluster.router.name]
    try:
        driver = host.get_connection("napalm", rt.nornir.config)
        dialect = router_dialect(cluster, driver)
        key = venue.router_public_key(cluster, dialect, rt.loaded.secret_reader(cluster.name), driver.show)
        return venue.venue_stanza(cluster, key)
    finally:
        host.close_connections()


def run_deploy(args: argparse.Namespace) -> int:
    from tasks.core.options import CommonOptions
    from tasks.core.runtime import open_runtime
    from tasks.edge.venue_files import venue_dir, write_stanza
    from tasks.router.apply import DeployOptions
    from tasks.router.commands import _validate_timers

    _validate_timers(DeployOptions(confirm_timeout=args.confirm_timeout, gate_timeout=args.gate_timeout))
    directory = venue_dir(args.venue_dir)
    options = CommonOptions.from_args(args)
    rt = open_runtime(options)
    warnings = list(rt.loaded.warnings)
    selection = select(rt, options)
    validate(rt, selection, warnings)
    by_name = {c.name: c for c, _ in selection.clusters}

    def venue(name: str) -> VenueChange | None:
        stanza = render_venue(rt, by_name[name])
        return None if stanza is None else write_stanza(directory, name, stanza)

    clusters = [
        ClusterRun(c.name, layers, HostReport(host="edge", cluster=c.name, role="cluster", status="planned"))
        for c, layers in selection.clusters
    ]
    for run, (cluster, _) in zip(clusters, selection.clusters, strict=True):
        if cluster.refused:  # as router deploy: never touched, fails alone (exit 2), the other clusters go on
            run.row.status = "failed"
            run.row.error = f"input: {cluster.refused[0]}"
    order = ", ".join(f"{c.name} ({' -> '.join(c.layers)} -> verify)" for c in clusters)
    err_console.print(f"edgekit edge deploy: {order}" + (" all at once" if args.all_at_once else ""), highlight=False)
    try:
        return deploy(clusters, args, run_command, inventory_argv(args), venue, warnings, deploy_extra(args))
    finally:
        rt.nornir.close_connections(on_good=True, on_failed=True)


def run_plan(args: argparse.Namespace) -> int:
    from tasks.core.options import CommonOptions
    from tasks.core.runtime import open_runtime
    from tasks.edge.venue_files import compare_stanza, venue_change

    options = CommonOptions.from_args(args)
    rt = open_runtime(options)
    warnings = list(rt.loaded.warnings)
    selection = select(rt, options)
    validate(rt, selection, warnings)
    runs: dict[str, LayerRun] = {}
    venues: list[VenueChange] = []
    directory = Path(args.venue_dir).expanduser()
    try:
        with stdout_for(args.json):
            from tasks.core.report import console

            for layer in LAYERS:
                names = selection.names(layer)
                if not names:
                    continue
                console.print(f"[bold]== {layer} plan ({', '.join(names)})[/]", highlight=False)
                argv = ["plan", *inventory_argv(args), *[x for n in names for x in ("--cluster", n)]]
                runs[layer] = run_command(layer, argv, stdout_to_stderr=args.json == "-")
            for cluster, layers in selection.clusters:
                if "router" not in layers or cluster.refused:
                    continue
                try:
                    stanza = render_venue(rt, cluster)
                except EdgekitError as exc:  # 1.3 before the first deploy: the router has no keypair yet
                    path = str(directory / f"{cluster.name}.conf")
                    venues.append(
                        VenueChange(cluster.name, path, True, [f"after router deploy: {first_line(str(exc))}"])
                    )
                    continue
                if stanza is None:
                    continue
                change = compare_stanza(directory if directory.is_dir() else None, cluster.name, stanza)
                venues.append(
                    change or venue_change(cluster.name, str(directory / f"{cluster.name}.conf"), None, stanza)
                )
            report = RunReport(command="edge plan", warnings=warnings)
            order = [c.name for c, _ in selection.clusters]
            rows = [row_of(h, "", layer) for layer, run in runs.items() for h in host_rows(run.report)]
            report.hosts = sorted(rows, key=lambda r: order.index(r.cluster) if r.cluster in order else len(order))
            report.finished = time.time()
            console.print("[bold]== edge plan[/]", highlight=False)
            print_summary(report)
            for v in venues:
                style = "bold yellow" if v.needed else "green"
                console.print(f"[{style}]{v.cluster}: {_escape(v.text())}[/]", soft_wrap=True)
    finally:
        rt.nornir.close_connections(on_good=True, on_failed=True)
    code = plan_code(runs, venues)
    if args.json:
        data = report.to_json()
        data["layers"] = {layer: {"exit": r.code, "error": r.error, "report": r.report} for layer, r in runs.items()}
        data["venues"] = [v.to_json() for v in venues]
        data["exit"] = code
        text = json.dumps(data, indent=2, default=str)
        if args.json == "-":
            sys.stdout.write(text + "\n")
        else:
            Path(args.json).write_text(text + "\n")
    return code
