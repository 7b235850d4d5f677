"""`python -m tasks.metallb render|plan|deploy|verify` (also `edgekit metallb ...`): MetalLB's side of the
router's BGP sessions, rendered from the same site model as the router's side.

Same inventory options, exit codes, ``--json`` and rollout order as the router commands: 0 ok, 1 a cluster or
check failed, 2 bad input, 3 unreachable source, 10 ``plan`` found pending changes, 130 interrupted.
Parsers in ``tasks.metallb.arguments``, handlers in ``tasks.metallb.commands``.

The Nornir tasks (each in the module of its job: render, plan, apply, gate, verify):
- ``metallb_render``: the objects for the cluster's form (``Result.result``: ``RenderedMetalLB``; print with
  ``masked_yaml``);
- ``metallb_plan``: what the cluster holds against the render, managed fields only (``result``: ``MetalLBPlan``,
  ``changed``, ``diff`` = the plan lines);
- ``metallb_apply``: server-side apply (field manager ``edgekit``) of the objects that differ, deletion of
  edgekit's objects no longer rendered (``result``: the lines applied; ``changed``); a conflict with another
  field manager fails it (``exception``: ``ApplyConflict`` naming manager and field) unless ``force``;
- ``metallb_gate``: waits (bounded) until the router's gate passes again — the speakers' sessions Established,
  every service IP over its next hops: the gate probes of ``tasks.router.features``, the check functions verify
  uses (``result``: the ``CheckResult`` list; ``failed``);
- ``metallb_deploy``: apply then gate as named steps (``tasks.core.steps``: a live view shows them), the outcome
  in a ``HostReport`` (``result``; ``changed``, ``failed``, ``diff``), never raising;
- ``metallb_verify``: ``metallb.config``, the router gate's checks and ``private.reachability`` (``result``:
  CheckResults).
"""

from __future__ import annotations

from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    from tasks.core import cli, napalm_lean

    napalm_lean.without_drivers()  # NAPALM's start-up without its other drivers (edgekit's program only)
    return cli.run(argv, modules=("tasks.metallb.arguments",), prog="python -m tasks.metallb")
