"""`python -m tasks.metallb render|plan|deploy|verify` (also `edgekit metallb ...`): MetalLB's side of the
router's BGP sessions, rendered from the same site model as the router's side.

Same inventory options, exit codes, ``--json`` and rollout order as the router commands: 0 ok, 1 a cluster or
check failed, 2 bad input, 3 unreachable source, 10 ``plan`` found pending changes, 130 interrupted.
Parsers in ``tasks.metallb.arguments``, handlers in ``tasks.metallb.commands``, the engine (Nornir
tasks) in ``tasks.metallb.apply``.
"""

from __future__ import annotations

from collections.abc import Sequence

from tasks.core import cli, napalm_lean


def main(argv: Sequence[str] | None = None) -> int:
    napalm_lean.without_drivers()  # NAPALM's start-up without its other drivers (edgekit's program only)
    return cli.run(argv, modules=("tasks.metallb.arguments",), prog="python -m tasks.metallb")
