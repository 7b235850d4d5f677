"""`python -m tasks.lb` (also `edgekit lb ...`): the API load balancers (HAProxy + Keepalived): plan, deploy, verify.

Arguments in ``tasks.lb.arguments``, handlers in ``tasks.lb.commands``.
"""

from __future__ import annotations

from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    from tasks.core import cli, napalm_lean

    napalm_lean.without_drivers()  # NAPALM's start-up without its other drivers (edgekit's program only)
    return cli.run(argv, modules=("tasks.lb.arguments",), prog="python -m tasks.lb")
