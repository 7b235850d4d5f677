"""`python -m tasks.router` (also installed as `edgekit`): the router and edge commands.

Each subcommand lives in its own module under tasks/ and registers itself through ``register``.
Exit codes: 0 ok, 1 a host failed or a check failed, 2 bad input, 3 unreachable source,
10 plan found pending changes, 130 interrupted.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence

from inventory.errors import EdgekitError

# Subcommand modules, in the order `--help` lists them. Each exposes register(subparsers).
SUBCOMMAND_MODULES: tuple[str, ...] = ("tasks.inventory_cmd", "tasks.deploy_cmd", "tasks.verify_cmd")
# Command groups of the `edgekit` program: `edgekit lb deploy` is `python -m tasks.lb deploy`.
GROUPS: dict[str, tuple[str, str]] = {
    "lb": ("tasks.lb", "the API load balancers: plan, deploy, verify"),
    "edge": ("tasks.edge", "routers and load balancers of every cluster at once: verify, comply, exporter"),
}

Handler = Callable[[argparse.Namespace], int]


def build_parser(
    modules: Sequence[str] = SUBCOMMAND_MODULES, prog: str = "edgekit", groups: dict[str, tuple[str, str]] | None = None
) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="edgekit: configure and verify the edge of Kubernetes clusters (VyOS routers, API load balancers).",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in modules:
        importlib.import_module(name).register(subparsers)
    for group, (module, text) in (groups or {}).items():
        sub = subparsers.add_parser(group, help=text)
        importlib.import_module(module).register(
            sub.add_subparsers(dest="subcommand", metavar="COMMAND", required=True)
        )
    return parser


def run(
    argv: Sequence[str] | None,
    modules: Sequence[str] = SUBCOMMAND_MODULES,
    prog: str = "edgekit",
    groups: dict[str, tuple[str, str]] | None = None,
) -> int:
    args = build_parser(modules, prog, groups).parse_args(argv)
    handler: Handler = args.handler
    try:
        return handler(args)
    except EdgekitError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def main(argv: Sequence[str] | None = None) -> int:
    return run(argv, groups=GROUPS)


if __name__ == "__main__":
    sys.exit(main())
