"""`edgekit inventory`: its options (handler: ``tasks.core.inventory_commands``)."""

from __future__ import annotations

import argparse

from tasks.core.arguments import handler
from tasks.core.options import add_common_options


def register(subparsers: argparse._SubParsersAction) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "inventory",
        help="print the resolved inventory",
        description="Print the inventory built from Terraform state, Kubernetes and the site file.",
    )
    add_common_options(parser)
    parser.add_argument("--format", choices=("table", "json", "yaml"), default="table", help="output format")
    parser.set_defaults(handler=handler("tasks.core.inventory_commands", "handle"))
