"""`python -m tasks.edge` (also `edgekit edge ...`): routers and load balancers of every cluster at
once: verify, comply, exporter.

Arguments in ``tasks.edge.arguments``, handlers in ``tasks.edge.commands``.
"""

from __future__ import annotations

from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    from tasks.core import cli, napalm_lean

    napalm_lean.without_drivers()  # NAPALM's start-up without its other drivers (edgekit's program only)
    return cli.run(argv, modules=("tasks.edge.arguments",), prog="python -m tasks.edge")
