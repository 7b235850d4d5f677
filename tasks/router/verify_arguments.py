"""`edgekit verify` and `comply`: their options (handler: ``tasks.router.verify_commands``)."""

from __future__ import annotations

import argparse

from checks.defaults import DEFAULT_MAX_AGE
from tasks.core.arguments import handler, textfile_path
from tasks.core.options import add_common_options


def register(subparsers: argparse._SubParsersAction) -> None:
    ver = subparsers.add_parser("verify", help="check BGP, ECMP, proxy-ARP, WireGuard and MetalLB consistency")
    add_verify_options(ver)
    ver.set_defaults(handler=handler("tasks.router.verify_commands", "run_verify", comply=False))
    com = subparsers.add_parser("comply", help="verify, plus the managed running config against the intent")
    add_verify_options(com)
    com.set_defaults(handler=handler("tasks.router.verify_commands", "run_verify", comply=True))


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
    out.add_argument(
        "--handshake-max-age",
        type=int,
        default=DEFAULT_MAX_AGE,
        metavar="SECONDS",
        help="oldest WireGuard handshake still counted as alive (default: %(default)s)",
    )
