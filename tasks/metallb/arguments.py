"""`edgekit metallb render|plan|deploy|verify` (`python -m tasks.metallb`): their options (handlers:
``tasks.metallb.commands``)."""

from __future__ import annotations

import argparse

from tasks.core.arguments import handler
from tasks.core.options import add_common_options

FORMS = ("crds", "configmap")


def register(subparsers: argparse._SubParsersAction) -> None:
    render = subparsers.add_parser("render", help="print each cluster's MetalLB objects as YAML (secrets masked)")
    add_common_options(render)
    render.add_argument("--form", choices=FORMS, help="render this form without asking the cluster")
    render.set_defaults(handler=handler("tasks.metallb.commands", "run_render"))

    plan = subparsers.add_parser("plan", help="diff each cluster's MetalLB objects against the render (exit 10 if any)")
    add_common_options(plan)
    plan.add_argument("--json", metavar="FILE", help="write a machine-readable report ('-' for stdout)")
    plan.set_defaults(handler=handler("tasks.metallb.commands", "run_deploy", dry_run=True))

    dep = subparsers.add_parser(
        "deploy",
        help="server-side apply MetalLB's objects, cluster by cluster, each gated by the router's BGP sessions",
    )
    add_common_options(dep)
    dep.add_argument("--json", metavar="FILE", help="write a machine-readable report ('-' for stdout)")
    dep.add_argument("--dry-run", action="store_true", help="plan only (same as `plan`)")
    dep.add_argument(
        "--force-conflicts",
        action="store_true",
        help="take over fields another field manager owns (default: report the conflict and stop)",
    )
    dep.add_argument(
        "--gate-timeout",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="how long to wait for the speakers' sessions with the router after a change (default: %(default)s)",
    )
    dep.add_argument("--all-at-once", action="store_true", help="do not wait for one cluster before the next")
    dep.set_defaults(handler=handler("tasks.metallb.commands", "run_deploy"))

    ver = subparsers.add_parser(
        "verify", help="check MetalLB's objects against the render, the router's sessions and venue reachability"
    )
    add_common_options(ver)
    ver.add_argument("--json", metavar="FILE", help="write a machine-readable report ('-' for stdout)")
    ver.add_argument("--junit", metavar="FILE", help="write JUnit XML, one testcase per cluster x check")
    ver.set_defaults(handler=handler("tasks.metallb.commands", "run_verify"))
