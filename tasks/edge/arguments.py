"""`edgekit edge plan|deploy|verify|comply|exporter` (`python -m tasks.edge`): their options (handlers:
``tasks.edge.deploy``, ``tasks.edge.commands``, ``tasks.edge.exporter``)."""

from __future__ import annotations

import argparse

from tasks.core.arguments import handler, listen_address, positive_seconds
from tasks.core.defaults import (
    DEFAULT_CONFIRM_TIMEOUT,
    DEFAULT_GATE_TIMEOUT,
    EXPORTER_INTERVAL,
    EXPORTER_LISTEN,
    LB_GATE_TIMEOUT,
)
from tasks.core.options import add_common_options
from tasks.router.arguments import add_handshake_max_age, add_verify_options


def register(subparsers: argparse._SubParsersAction) -> None:
    register_deploy(subparsers)
    for name, comply, text in (
        ("verify", False, "verify routers and API LBs of every cluster in parallel"),
        ("comply", True, "verify, plus every router's managed running config against the intent"),
    ):
        parser = subparsers.add_parser(name, help=text)
        add_verify_options(parser)
        _add_healthz_options(parser.add_argument_group("load balancers"))
        parser.set_defaults(handler=handler("tasks.edge.commands", "run_edge", comply=comply))
    parser = subparsers.add_parser("exporter", help="serve the edge checks as Prometheus metrics, a run every interval")
    add_exporter_options(parser)
    parser.set_defaults(handler=handler("tasks.edge.exporter", "run_exporter"))


def add_exporter_options(parser: argparse.ArgumentParser) -> None:
    add_common_options(parser)
    group = parser.add_argument_group("exporter")
    group.add_argument(
        "--listen",
        type=listen_address,
        default=EXPORTER_LISTEN,
        metavar="ADDR:PORT",
        help="where /metrics is served (default: %(default)s; ':9479' for every address)",
    )
    group.add_argument(
        "--interval",
        type=positive_seconds,
        default=EXPORTER_INTERVAL,
        metavar="SECONDS",
        help="seconds between runs (default: %(default)s)",
    )
    group.add_argument(
        "--run-timeout",
        type=positive_seconds,
        metavar="SECONDS",
        help="kill a run that takes longer (a failed run; default: none, an overrunning run is only reported)",
    )
    group.add_argument("--comply", action="store_true", help="run comply (adds config drift) instead of verify")
    add_handshake_max_age(group)
    _add_healthz_options(group)


def _add_healthz_options(group: argparse._ActionsContainer) -> None:
    """The load balancers' /healthz probe through the VIP (edge verify, comply, exporter)."""
    group.add_argument("--ca", metavar="FILE", help="CA for the apiserver's certificate (default: not verified)")
    group.add_argument("--timeout", type=float, default=3.0, help="seconds for /healthz (default: %(default)s)")


VENUE_DIR = "venue"


def register_deploy(subparsers: argparse._SubParsersAction) -> None:
    plan = subparsers.add_parser(
        "plan", help="the MetalLB, router and LB changes of every cluster, and the venue stanzas (exit 10 if any)"
    )
    add_common_options(plan)
    plan.add_argument("--json", metavar="FILE", help="write a machine-readable report ('-' for stdout)")
    plan.add_argument(
        "--venue-dir",
        default=VENUE_DIR,
        metavar="DIR",
        help="where deploy writes the venue stanzas; plan compares with them (default: %(default)s)",
    )
    plan.set_defaults(handler=handler("tasks.edge.deploy", "run_plan"))

    dep = subparsers.add_parser(
        "deploy",
        help="cluster by cluster: MetalLB, router, LBs (each gated), the venue stanza, then verify",
    )
    add_common_options(dep)
    out = dep.add_argument_group("report")
    out.add_argument("--json", metavar="FILE", help="write a machine-readable report ('-' for stdout)")
    out.add_argument("--junit", metavar="FILE", help="write JUnit XML, one testcase per cluster x step and check")
    out.add_argument(
        "--venue-dir",
        default=VENUE_DIR,
        metavar="DIR",
        help="write each cluster's venue stanza to DIR/CLUSTER.conf (created if missing; default: %(default)s)",
    )
    run = dep.add_argument_group("rollout")
    run.add_argument("--all-at-once", action="store_true", help="do not stop at a cluster that failed")
    run.add_argument(
        "--confirm-timeout",
        type=int,
        default=DEFAULT_CONFIRM_TIMEOUT,
        metavar="SECONDS",
        help="router commit-confirm time (default: %(default)s)",
    )
    run.add_argument(
        "--gate-timeout",
        type=float,
        default=DEFAULT_GATE_TIMEOUT,
        metavar="SECONDS",
        help="the router's gate: peers and ECMP after a commit (default: %(default)s)",
    )
    run.add_argument(
        "--metallb-gate-timeout",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="MetalLB's gate: the speakers' sessions after an apply (default: %(default)s)",
    )
    run.add_argument(
        "--lb-gate-timeout",
        type=float,
        default=LB_GATE_TIMEOUT,
        metavar="SECONDS",
        help="the LBs' gate: services, backends, the VIP and /healthz (default: %(default)s)",
    )
    run.add_argument(
        "--save-first", action="store_true", help="save a router's committed but unsaved changes first (router deploy)"
    )
    run.add_argument(
        "--force-conflicts", action="store_true", help="take over MetalLB fields another manager owns (metallb deploy)"
    )
    dep.set_defaults(handler=handler("tasks.edge.deploy", "run_deploy"))
