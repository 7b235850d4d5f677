"""`python -m tasks.edge` (also `edgekit edge ...`): the whole edge of every cluster: plan and deploy (MetalLB,
router, LBs and the venue stanza per cluster in rollout order, then verify), verify, comply, exporter.

Arguments in ``tasks.edge.arguments``, handlers in ``tasks.edge.deploy`` (plan, deploy; the venue files in
``tasks.edge.venue_files``), ``tasks.edge.commands`` (verify, comply) and ``tasks.edge.exporter``.
"""

from __future__ import annotations

from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    from tasks.core import cli, napalm_lean

    napalm_lean.without_drivers()  # NAPALM's start-up without its other drivers (edgekit's program only)
    return cli.run(argv, modules=("tasks.edge.arguments",), prog="python -m tasks.edge")
