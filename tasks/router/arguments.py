"""`edgekit plan`, `deploy`, `render`, `verify` and `comply`: their options (handlers: ``tasks.router.commands``)."""

from __future__ import annotations

import argparse

from checks.defaults import DEFAULT_MAX_AGE
from tasks.core.arguments import handler, textfile_path
from tasks.core.defaults import DEFAULT_CONFIRM_TIMEOUT, DEFAULT_GATE_TIMEOUT
from tasks.core.options import add_common_options
from tasks.router.dialect import DIALECTS


def register(subparsers: argparse._SubParsersAction) -> None:
    plan = subparsers.add_parser("plan", help="show each router's pending change as a diff (exit 10 if any)")
    add_common_options(plan)
    _add_output_options(plan)
    plan.set_defaults(handler=handler("tasks.router.commands", "run_deploy", dry_run=True))

    dep = subparsers.add_parser("deploy", help="apply the change to every router, cluster by cluster, safely")
    add_common_options(dep)
    _add_output_options(dep)
    dep.add_argument("--dry-run", action="store_true", help="plan only (same as `plan`)")
    dep.add_argument(
        "--confirm-timeout",
        type=int,
        default=DEFAULT_CONFIRM_TIMEOUT,
        metavar="SECONDS",
        help="commit-confirm time: the router restores itself unless confirmed (default: %(default)s)",
    )
    dep.add_argument(
        "--gate-timeout",
        type=float,
        default=DEFAULT_GATE_TIMEOUT,
        metavar="SECONDS",
        help="how long to wait for peers and ECMP routes after a commit (default: %(default)s)",
    )
    dep.add_argument("--all-at-once", action="store_true", help="do not wait for one cluster before the next")
    dep.add_argument(
        "--save-first",
        action="store_true",
        help="save a router's committed but unsaved changes before the commit-confirm (default: refuse the router)",
    )
    dep.set_defaults(handler=handler("tasks.router.commands", "run_deploy"))

    render = subparsers.add_parser("render", help="print each router's full intended config (secrets masked)")
    add_common_options(render)
    render.add_argument("--vyos", choices=sorted(DIALECTS), help="render for this VyOS version without connecting")
    render.add_argument(
        "--venue",
        action="store_true",
        help="print the venue side of each router's WireGuard tunnel (a wg-quick [Peer] stanza) instead",
    )
    render.set_defaults(handler=handler("tasks.router.commands", "run_render"))
    _register_verify(subparsers)


def _add_output_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", metavar="FILE", help="write a machine-readable report ('-' for stdout)")


def _register_verify(subparsers: argparse._SubParsersAction) -> None:
    ver = subparsers.add_parser("verify", help="check BGP, ECMP, proxy-ARP, WireGuard and MetalLB consistency")
    add_verify_options(ver)
    ver.set_defaults(handler=handler("tasks.router.commands", "run_verify", comply=False))
    com = subparsers.add_parser("comply", help="verify, plus the managed running config against the intent")
    add_verify_options(com)
    com.set_defaults(handler=handler("tasks.router.commands", "run_verify", comply=True))


def add_verify_options(parser: argparse.ArgumentParser) -> None:
    add_common_options(parser)
    out = parser.add_argument_group("verify")
    out.add_argument("--json", metavar="FILE", help="write a machine-readable report ('-' for stdout)")
    out.add_argument("--junit", metavar="FILE", help="write JUnit XML, one testcase per host x check")
    out.add_argument(
        "--metrics",
        metavar="FILE",
        type=textfile_path,
        help="write the results as Prometheus metrics ('-' for stdout; node_exporter textfile format, atomically)",
    )
    add_handshake_max_age(out)


def add_handshake_max_age(group: argparse._ActionsContainer) -> None:
    """``--handshake-max-age``: verify's, comply's and the edge exporter's WireGuard liveness bound."""
    group.add_argument(
        "--handshake-max-age",
        type=int,
        default=DEFAULT_MAX_AGE,
        metavar="SECONDS",
        help="oldest WireGuard handshake still counted as alive (default: %(default)s)",
    )
