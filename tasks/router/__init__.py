"""`python -m tasks.router` (also installed as `edgekit`): the router commands, and the other targets' commands
as groups (`edgekit lb ...`, `edgekit metallb ...`, `edgekit edge ...`).

Arguments in ``tasks.router.arguments`` (and ``tasks.core.inventory_arguments``), handlers in
``tasks.router.commands``. Exit codes: 0 ok, 1 a host failed or a check failed, 2 bad input, 3 unreachable
source, 10 plan found pending changes, 130 interrupted.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from tasks.core import cli

# Subcommand modules, in the order `--help` lists them. Each exposes register(subparsers) and imports no engine:
# a subcommand's handler module is imported when it runs.
SUBCOMMAND_MODULES: tuple[str, ...] = ("tasks.core.inventory_arguments", "tasks.router.arguments")
# Command groups of the `edgekit` program: `edgekit lb deploy` is `python -m tasks.lb deploy`.
GROUPS: dict[str, tuple[str, str]] = {
    "lb": ("tasks.lb.arguments", "the API load balancers: plan, deploy, verify"),
    "metallb": ("tasks.metallb.arguments", "MetalLB's side of the router's BGP sessions: render, plan, deploy, verify"),
    "edge": ("tasks.edge.arguments", "routers and load balancers of every cluster at once: verify, comply, exporter"),
}


def build_parser(
    modules: Sequence[str] = SUBCOMMAND_MODULES, prog: str = "edgekit", groups: dict[str, tuple[str, str]] | None = None
) -> argparse.ArgumentParser:
    """The ``edgekit`` argument parser (``tasks.core.cli.build_parser`` with the router's subcommands by default)."""
    return cli.build_parser(modules, prog, groups)


def run(
    argv: Sequence[str] | None,
    modules: Sequence[str] = SUBCOMMAND_MODULES,
    prog: str = "edgekit",
    groups: dict[str, tuple[str, str]] | None = None,
) -> int:
    """Parse ``argv`` and run the subcommand; edgekit's errors become exit codes (``tasks.core.cli.run``)."""
    return cli.run(argv, modules, prog, groups)


def main(argv: Sequence[str] | None = None) -> int:
    from tasks.core import napalm_lean

    napalm_lean.without_drivers()  # NAPALM's start-up without its other drivers (edgekit's program only)
    return run(argv, groups=GROUPS)
