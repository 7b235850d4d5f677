"""`edgekit edge verify|comply|exporter` (`python -m tasks.edge`): their options (handlers: ``tasks.edge.commands``,
``tasks.edge.exporter``)."""

from __future__ import annotations

import argparse

from checks.defaults import DEFAULT_MAX_AGE
from tasks.core.arguments import handler, listen_address, positive_seconds
from tasks.core.defaults import EXPORTER_INTERVAL, EXPORTER_LISTEN
from tasks.core.options import add_common_options
from tasks.router.arguments import add_verify_options


def register(subparsers: argparse._SubParsersAction) -> None:
    for name, comply, text in (
        ("verify", False, "verify routers and API LBs of every cluster in parallel"),
        ("comply", True, "verify, plus every router's managed running config against the intent"),
    ):
        parser = subparsers.add_parser(name, help=text)
        add_verify_options(parser)
        group = parser.add_argument_group("load balancers")
        group.add_argument("--ca", metavar="FILE", help="CA for the apiserver's certificate (default: not verified)")
        group.add_argument("--timeout", type=float, default=3.0, help="seconds for /healthz (default: %(default)s)")
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
    group.add_argument(
        "--handshake-max-age",
        type=int,
        default=DEFAULT_MAX_AGE,
        metavar="SECONDS",
        help="oldest WireGuard handshake still counted as alive (default: %(default)s)",
    )
    group.add_argument("--ca", metavar="FILE", help="CA for the apiserver's certificate (default: not verified)")
    group.add_argument("--timeout", type=float, default=3.0, help="seconds for /healthz (default: %(default)s)")
