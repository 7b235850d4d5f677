"""MetalLB apply: server-side apply (field manager ``edgekit``) of the objects that differ and deletion of
edgekit's objects no longer rendered (``metallb_apply``), and the deploy of one cluster: apply then the gate, as
named steps (``metallb_deploy``).
"""

from __future__ import annotations

import time
from typing import Any

from nornir.core.task import Result, Task

from checks import bgp
from checks import metallb as checks
from checks.verdict import errored
from inventory.errors import EdgekitError
from tasks.core.report import HostReport, one_line
from tasks.core.steps import run_step
from tasks.metallb.gate import DEFAULT_GATE_TIMEOUT, router_show, wait_for_gate
from tasks.metallb.kube import ApplyConflict, ClusterAPI, Refused
from tasks.metallb.plan import MetalLBPlan, Removal
from tasks.metallb.render import RenderedMetalLB
from tasks.router.plan import router_cluster


class PartialApply(EdgekitError):
    """A real apply failed after the dry run admitted everything (exit 1): what was done, what was undone, and
    exactly what is left as applied, in one line."""

    def __init__(self, cause: Exception, done: list[str], undone: list[str], left: list[str]) -> None:
        self.cause = cause
        self.done, self.undone, self.left = done, undone, left
        parts = [one_line(cause)]
        parts.append("undone: " + ", ".join(undone) if undone else "nothing to undo")
        if left:
            parts.append("left as applied: " + ", ".join(left))
        super().__init__("; ".join(parts))


def _restorable(live: dict[str, Any]) -> dict[str, Any]:
    """A deleted object as it can be created again (server fields dropped)."""
    meta = live.get("metadata") or {}
    keep = {k: meta[k] for k in ("name", "namespace", "labels", "annotations") if k in meta}
    out = {k: v for k, v in live.items() if k not in ("metadata", "status")}
    out["metadata"] = keep
    return out


def metallb_apply(task: Task, plan: MetalLBPlan, api: ClusterAPI, force: bool = False) -> Result:
    """Apply ``plan`` so that a refusal is seen before anything is sent for real and a cluster is never left
    half-applied:

    1. dry run (``dryRun=All``: MetalLB's webhooks and the CRD schema judge, nothing is persisted) of the stale
       objects deleted first, of every object that differs and of the foreign fields removed: a refusal (``Refused``)
       or a conflict (``ApplyConflict``) stops here, nothing changed;
    2. delete the conflicting stale objects (``plan.first``: a renamed pool's old CIDRs), then dry-run the objects
       that depended on their deletion;
    3. server-side apply every object that differs, in dependency order (Secret and BFDProfile before the BGPPeer,
       pools before their advertisements), the foreign fields removed just before their object;
    4. delete the other stale objects.
    A failure in 2-4 undoes what can be undone (objects created are deleted, objects deleted are created again) and
    says exactly what is left (``PartialApply``). Idempotent: an object equal on the managed fields is not sent."""
    todo = [(obj, d) for obj, d in zip(plan.rendered.objects, plan.object_diffs, strict=False) if d]
    removals: dict[str, list[Removal]] = {}
    for r in plan.removals:
        removals.setdefault(checks.object_name(r.obj), []).append(r)
    gated = {checks.object_name(o) for o in conflicting_with(plan, [o for o, _ in todo])}
    for obj in plan.first:
        api.delete(obj, dry_run=True)
    for obj, _ in todo:
        name = checks.object_name(obj)
        if name in removals:
            # MetalLB v0.13.12's webhook refuses the peer while the inline password is still there (internal/
            # config/config.go: "can not have both password and secret ref", not a TransientError there): its
            # own dry run follows the removal (step 3), the removal's dry run is here.
            api.remove_fields(obj, [r.path for r in removals[name]], dry_run=True)
        elif name not in gated:
            api.apply(obj, force=force, dry_run=True)
    done: list[str] = []
    # ("delete" a created object | "create" a deleted one | "restore" removed fields | "left" changed in place)
    undo: list[tuple[str, Any]] = []
    try:
        for obj in plan.first:
            api.delete(obj)
            done.append("delete " + checks.object_name(obj))
            undo.append(("create", _restorable(obj)))
        for obj, _ in todo:
            name = checks.object_name(obj)
            if name in gated and name not in removals:
                api.apply(obj, force=force, dry_run=True)
        for obj, d in todo:
            name = checks.object_name(obj)
            if name in removals:
                api.remove_fields(obj, [r.path for r in removals[name]])
                done.append("remove " + ", ".join(".".join(r.path) for r in removals[name]) + " of " + name)
                undo.append(("restore", removals[name]))
                api.apply(obj, force=force, dry_run=True)
            api.apply(obj, force=force)
            done.append(("create " if d.new else "apply ") + d.name)
            undo.append(("delete" if d.new else "left", obj))
        for obj in plan.stale:
            api.delete(obj)
            done.append("delete " + checks.object_name(obj))
    except Exception as exc:
        undone, left = _undo(api, undo)
        raise PartialApply(exc, done, undone, left) from exc
    return Result(host=task.host, result=done, changed=bool(done), diff="\n".join(plan.lines))


def conflicting_with(plan: MetalLBPlan, objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The objects whose dry run would be refused while ``plan.first`` still exists (they overlap it): dry-run
    only once those are deleted."""
    if not plan.first:
        return []
    from tasks.metallb.plan import conflicting_stale

    out = []
    for obj in objects:
        probe = RenderedMetalLB(plan.cluster, plan.rendered.form, [obj])
        if conflicting_stale(probe, plan.first):
            out.append(obj)
    return out


def _undo(api: ClusterAPI, undo: list[tuple[str, Any]]) -> tuple[list[str], list[str]]:
    """Undo in reverse: delete what was created, create again what was deleted, put back removed fields; an object
    changed in place stays as applied (listed)."""
    undone: list[str] = []
    left: list[str] = []
    for action, obj in reversed(undo):
        if action == "restore":
            removed: list[Removal] = obj
            name = checks.object_name(removed[0].obj)
            try:
                api.remove_fields(removed[0].obj, [r.path for r in removed], values=[r.value for r in removed])
                undone.append("removed " + ", ".join(".".join(r.path) for r in removed) + " of " + name)
            except Exception as exc:
                left.append(f"{name} (undo failed: {one_line(exc)})")
            continue
        name = checks.object_name(obj)
        try:
            if action == "delete":
                api.delete(obj)
                undone.append("created " + name)
            elif action == "create":
                api.apply(obj, force=True)
                undone.append("deleted " + name)
            elif name not in left:
                left.append(name)
        except Exception as exc:
            left.append(f"{name} (undo failed: {one_line(exc)})")
    return undone, left


def _error_text(exc: Exception) -> str:
    """The one-line error of a failed apply: a conflict, a refusal (the dry run's: nothing applied), or a partial
    apply with what is left."""
    if isinstance(exc, ApplyConflict):
        return "conflict: " + one_line(exc)
    if isinstance(exc, Refused):
        return "refused: " + one_line(exc) + (" (dry run: nothing applied)" if exc.dry_run else "")
    if isinstance(exc, PartialApply):
        head = "refused: " if isinstance(exc.cause, Refused) else "failed: "
        return head + one_line(exc)
    return one_line(exc)


def metallb_deploy(
    task: Task,
    plan: MetalLBPlan,
    api: ClusterAPI,
    report: HostReport | None = None,
    force: bool = False,
    gate_timeout: float = DEFAULT_GATE_TIMEOUT,
) -> Result:
    """Apply ``plan`` (server-side, field manager ``edgekit``), then wait for the router's sessions with the
    speakers (the gate). ``result``: the ``HostReport`` (status changed/unchanged/failed, ``notes`` what was
    applied, ``checks`` the gate's verdicts, ``error`` a conflict naming manager and field, or the failing gate)."""
    cluster = router_cluster(task.host)
    report = report or HostReport(host="metallb", cluster=cluster.name, role="metallb")
    report.commands = plan.lines
    if not plan:
        report.status = "unchanged"
        return Result(host=task.host, result=report)
    started = time.monotonic()
    try:
        done: list[str] = run_step(
            task, "server-side apply", lambda: metallb_apply(task, plan, api, force=force).result
        )
    except Exception as exc:
        report.status = "failed"
        report.error = _error_text(exc)
        report.timed("apply", started)
        return Result(host=task.host, result=report, failed=True, exception=exc, diff="\n".join(plan.lines))
    report.timed("apply", started)
    report.notes.extend(done)
    report.status = "changed"
    started = time.monotonic()
    try:
        gate = run_step(
            task,
            "gate: speakers' sessions with the router",
            lambda: wait_for_gate(router_show(task), cluster, task.host.name, gate_timeout),
        )
    except Exception as exc:
        gate = [errored(bgp.PEERS, task.host.name, cluster.name, one_line(exc))]
    report.timed("gate", started)
    waited = report.timings.get("gate", 0.0)
    if gate is None:
        report.notes.append("gate skipped: the router has no session with these speakers yet (router deploy next)")
    else:
        report.checks = gate
        if all(c.ok for c in gate):
            report.notes.append(f"gate passed in {waited:.1f} s (speakers Established)")
        else:
            report.status = "failed"
            report.error = "gate failed: " + "; ".join(f"{c.check}: {c.reason}" for c in gate if not c.ok)
    return Result(host=task.host, result=report, changed=True, failed=not report.ok, diff="\n".join(plan.lines))
