"""`edgekit plan`, `deploy` and `render`: their options (handlers: ``tasks.router.commands``)."""

from __future__ import annotations

import argparse

from tasks.core.arguments import handler
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


def _add_output_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", metavar="FILE", help="write a machine-readable report ('-' for stdout)")
