"""`edgekit lb plan|deploy|verify` (`python -m tasks.lb`): their options (handlers: ``tasks.lb``)."""

from __future__ import annotations

import argparse

from tasks.core.arguments import handler
from tasks.core.defaults import LB_GATE_TIMEOUT
from tasks.core.options import add_common_options


def register(subparsers: argparse._SubParsersAction) -> None:
    plan = subparsers.add_parser("plan", help="show each LB's pending change as unified diffs (exit 10 if any)")
    add_common_options(plan)
    plan.add_argument("--json", metavar="FILE", help="write a machine-readable report ('-' for stdout)")
    plan.set_defaults(handler=handler("tasks.lb.commands", "run_deploy", dry_run=True))

    dep = subparsers.add_parser("deploy", help="push HAProxy/Keepalived config to every LB, cluster by cluster")
    add_common_options(dep)
    dep.add_argument("--json", metavar="FILE", help="write a machine-readable report ('-' for stdout)")
    dep.add_argument("--dry-run", action="store_true", help="plan only (same as `plan`)")
    dep.add_argument(
        "--gate-timeout",
        type=float,
        default=LB_GATE_TIMEOUT,
        metavar="SECONDS",
        help="how long to wait after each LB's change for its services, backends, the VIP and /healthz "
        "(default: %(default)s)",
    )
    dep.set_defaults(handler=handler("tasks.lb.commands", "run_deploy"))

    ver = subparsers.add_parser("verify", help="check VIP ownership, HAProxy backends, /healthz through the VIP")
    add_common_options(ver)
    ver.add_argument("--json", metavar="FILE", help="write a machine-readable report ('-' for stdout)")
    ver.add_argument("--junit", metavar="FILE", help="write JUnit XML, one testcase per host x check")
    ver.add_argument("--ca", metavar="FILE", help="CA to verify the apiserver's certificate (default: not verified)")
    ver.add_argument("--timeout", type=float, default=3.0, help="seconds for the /healthz request (default: 3)")
    ver.set_defaults(handler=handler("tasks.lb.commands", "run_verify"))
