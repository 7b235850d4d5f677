"""MetalLB apply: server-side apply (field manager ``edgekit``) of the objects that differ and deletion of
edgekit's objects no longer rendered (``metallb_apply``), and the deploy of one cluster: apply then the gate, as
named steps (``metallb_deploy``).
"""

from __future__ import annotations

import time

from nornir.core.task import Result, Task

from checks import bgp
from checks import metallb as checks
from checks.verdict import errored
from tasks.core.report import HostReport, one_line
from tasks.core.steps import run_step
from tasks.metallb.gate import DEFAULT_GATE_TIMEOUT, router_show, wait_for_gate
from tasks.metallb.kube import ApplyConflict, ClusterAPI
from tasks.metallb.plan import MetalLBPlan
from tasks.router.plan import router_cluster


def metallb_apply(task: Task, plan: MetalLBPlan, api: ClusterAPI, force: bool = False) -> Result:
    """Server-side apply every object that differs, then delete edgekit's stale objects. Idempotent: an object
    equal on the managed fields is not sent. ``ApplyConflict`` (another manager owns a field) stops it."""
    done: list[str] = []
    for obj, d in zip(plan.rendered.objects, plan.diffs, strict=False):
        if not d:
            continue
        api.apply(obj, force=force)
        done.append(("create " if d.new else "apply ") + d.name)
    for obj in plan.stale:
        api.delete(obj)
        done.append("delete " + checks.object_name(obj))
    return Result(host=task.host, result=done, changed=bool(done), diff="\n".join(plan.lines))


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
        report.error = ("conflict: " if isinstance(exc, ApplyConflict) else "") + one_line(exc)
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
