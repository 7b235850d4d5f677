"""The command-line runner every edgekit program shares: build the argparse tree from subcommand modules, run the
chosen handler, and turn edgekit's errors into exit codes.

Exit codes: 0 ok, 1 a host failed or a check failed, 2 bad input, 3 unreachable source,
10 plan found pending changes, 130 interrupted. ``tasks.router`` (the ``edgekit`` program), ``tasks.lb`` and
``tasks.edge`` all run through here; this module imports none of them (no import loop).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence

from inventory.errors import EdgekitError

Handler = Callable[[argparse.Namespace], int]


def build_parser(
    modules: Sequence[str], prog: str = "edgekit", groups: dict[str, tuple[str, str]] | None = None
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
    modules: Sequence[str],
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
