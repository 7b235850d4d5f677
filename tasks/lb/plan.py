"""API load balancers, plan (read only): the LB's current files and whether its services run, against the
render (``plan_lb``; the Nornir task ``plan_lb_task``): unified diffs (secrets masked) and the reloads that follow.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from nornir.core.inventory import Host
from nornir.core.task import Result, Task

from inventory.errors import InputError
from inventory.model import Cluster
from tasks.core.options import CommonOptions
from tasks.core.report import HostReport, one_line
from tasks.core.runtime import Runtime
from tasks.core.steps import run_step
from tasks.lb.remote import Remote, SSHRemote, service_active
from tasks.lb.render import (
    SERVICES,
    LBFile,
    RenderedLB,
    require_api_lb,
    unified_diff,
)


@dataclass
class LBHostReport(HostReport):
    """A host report with the unified diff of each changed file (secrets masked)."""

    diffs: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class FileState:
    file: LBFile
    current: str | None
    current_mode: int | None

    @property
    def changed(self) -> bool:
        return self.current != self.file.content or self.current_mode != self.file.mode

    @property
    def content_changed(self) -> bool:
        return self.current != self.file.content


@dataclass
class LBPlan:
    rendered: RenderedLB
    files: list[FileState]
    active: dict[str, bool]  # service -> running
    cluster: Cluster | None = None  # the LB's cluster (what the gate judges against)
    report: LBHostReport | None = None  # the host's report, filled by plan and apply

    @property
    def changed_files(self) -> list[FileState]:
        return [f for f in self.files if f.changed]

    @property
    def reloads(self) -> list[str]:
        """Services to reload: their file changed, or they are not running (a reload starts them)."""
        out = []
        for service in SERVICES:
            if not self.active.get(service, False) or any(
                f.file.service == service and f.content_changed for f in self.files
            ):
                out.append(service)
        return out

    def __bool__(self) -> bool:
        return bool(self.changed_files or self.reloads)

    def actions(self) -> list[str]:
        out = []
        for f in self.changed_files:
            if f.current is None:
                out.append(f"create {f.file.path} (mode {f.file.mode:o})")
            elif not f.content_changed:
                out.append(f"chmod {f.file.mode:o} {f.file.path}")
            else:
                added = sum(1 for line in self.diff(f) if line.startswith("+") and not line.startswith("+++"))
                removed = sum(1 for line in self.diff(f) if line.startswith("-") and not line.startswith("---"))
                out.append(f"update {f.file.path} (+{added} -{removed})")
        for service in self.reloads:
            verb = "reload" if self.active.get(service) else "start"
            out.append(f"{verb} {service}")
        return out

    def diff(self, f: FileState) -> list[str]:
        return unified_diff(f.file.path, f.current, f.file.content, self.rendered.secrets)

    def diffs(self) -> dict[str, list[str]]:
        return {f.file.path: self.diff(f) for f in self.changed_files if f.content_changed}


def plan_lb(remote: Remote, rendered: RenderedLB) -> LBPlan:
    """Read the current files and service states (read only)."""
    files = []
    for f in rendered.files:
        got = remote.read(f.path)
        files.append(FileState(f, got[0] if got else None, got[1] if got else None))
    active = {s: service_active(remote, s) for s in SERVICES}
    return LBPlan(rendered, files, active)


def lb_cluster(host: Host) -> Cluster:
    """The LB's cluster from the ``TFStateInventory`` plugin; InputError for a host that is not one of its LBs."""
    cluster = getattr(host, "cluster_model", None)
    if (
        not isinstance(cluster, Cluster)
        or cluster.api_lb is None
        or host.name not in {lb.name for lb in cluster.api_lb.lbs}
    ):
        raise InputError(f"{host.name}: not an API load balancer of the TFStateInventory plugin", path="host")
    return cluster


def plan_lb_task(
    task: Task,
    rendered: RenderedLB | Mapping[str, RenderedLB],
    cluster: Cluster | None = None,
    report: LBHostReport | None = None,
) -> Result:
    """Nornir task (read only): the LB's files and services against ``rendered`` (``render_lb``; or by host
    name). Steps: ``connect``, ``read``. An error is recorded in the report, not raised.

    Result: ``result`` the ``LBPlan`` (``report``: an ``LBHostReport`` whose ``commands`` are the actions,
    ``diffs`` the masked unified diff per file, ``status`` planned/unchanged), or on an error the failed
    ``LBHostReport`` (``failed``, ``exception``); ``changed`` True when the LB would change (a file or a
    service to reload); ``diff`` the unified diff of every changed file (secrets masked) and the actions.
    """
    name = task.host.name
    mine = rendered if isinstance(rendered, RenderedLB) else rendered[name]
    report = report if report is not None else LBHostReport(host=name, cluster=mine.cluster, role="lb")
    started = time.monotonic()
    try:
        remote = run_step(task, "connect", SSHRemote.from_task, task)
        plan = run_step(task, "read", plan_lb, remote, mine)
    except Exception as exc:
        report.status = "failed"
        report.error = one_line(exc)
        report.timed("plan", started)
        return Result(host=task.host, result=report, failed=True, exception=exc)
    plan.cluster = cluster
    plan.report = report
    report.commands = plan.actions()
    report.diffs = plan.diffs()
    report.status = "planned" if plan else "unchanged"
    report.timed("plan", started)
    return Result(host=task.host, result=plan, changed=bool(plan), diff=plan_diff(plan))


def plan_diff(plan: LBPlan) -> str:
    lines = [line for diff in plan.diffs().values() for line in diff]
    return "\n".join([*lines, *(f"# {action}" for action in plan.actions())])


def lb_targets(rt: Runtime, options: CommonOptions, missing: str = "") -> list[tuple[Cluster, list[str]]]:
    """(cluster, LB host names) of the selected LBs in rollout order (``Runtime.targets``), each cluster's BACKUP
    before its MASTER; a cluster with LB hosts but no LB facts is exit 2 (``missing``: none selected is too)."""
    waves = []
    for cluster, names in rt.targets("lb", options, missing=missing):
        require_api_lb(cluster)
        state = {lb.name: lb.state for lb in cluster.api_lb.lbs} if cluster.api_lb else {}
        waves.append((cluster, sorted(names, key=lambda n: (state.get(n) == "MASTER", n))))
    return waves
