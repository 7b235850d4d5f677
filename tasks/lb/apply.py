"""API load balancers, apply (phase two, only for changed hosts): push atomically, reload, gate, roll back.

Validation on the LB, before any change: every changed file is uploaded as ``FILE.edgekit-new`` and checked
there (``haproxy -c -f``, ``keepalived -t -f``, ``sh -n``). Any failure removes the temp files: nothing is
renamed or reloaded.

Apply: re-read the remote files (changed since the plan: fail), then per file ``cp -p FILE FILE.edgekit-bak``
and ``mv FILE.edgekit-new FILE`` (atomic rename), then ``systemctl reload-or-restart`` each service whose file
changed (or that is not running). A failed reload puts every replaced file back from its backup and reloads
again; the host reports ``reverted`` with the program's message. The check script alone changing needs no
reload (keepalived runs it each interval), and a service whose file did not change is not reloaded (a
keepalived reload or restart puts the instance back in BACKUP, which leaves the VIP with no LB until VRRP elects
again).

Then the gate (``tasks.lb.gate``), judged against the same probe read before the upload (``lb_baseline``): an
apiserver DOWN before and after is a warning in the host's notes, not a failure. A gate that does not pass within
the gate timeout, or that finds something that worked before the change broken for ``GATE_GRACE`` seconds,
restores that LB's previous files and reloads (``revert_lb``); the host reports ``reverted`` with the failing
checks.

The Nornir task ``apply_lb_task`` (install, reload, gate, restore) returns a Result that carries the host's
report; its steps are named subtasks (``tasks.core.steps``). Phase one is ``tasks.lb.plan.plan_lb_task``.
"""

from __future__ import annotations

import shlex
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from nornir.core.inventory import Host
from nornir.core.task import Result, Task
from rich.markup import escape

from inventory.model import Cluster
from tasks.core.defaults import LB_GATE_TIMEOUT
from tasks.core.report import err_console, one_line
from tasks.core.rollout import Baseline, already_down
from tasks.core.steps import Runner, direct, runner
from tasks.lb.gate import GATE_GRACE, Probe, gate_error, gate_probe, lb_baseline, wait_for_lb_gate
from tasks.lb.plan import FileState, LBHostReport, LBPlan, lb_cluster, plan_diff
from tasks.lb.remote import Remote, RemoteCommandFailed, SSHRemote, first_lines
from tasks.lb.render import (
    CHECK_SCRIPT,
    FileKind,
    mask,
)
from tasks.lb.validate import (
    program_errors,
)

NEW_SUFFIX = ".edgekit-new"


BAK_SUFFIX = ".edgekit-bak"


FAILED_SUFFIX = ".edgekit-failed"


def remote_validate_command(kind: FileKind, path: str, script_new: str | None = None) -> str:
    """The check of an uploaded temp file on the LB; ``script_new``: validate against the new check script."""
    q = shlex.quote
    if kind == "haproxy":
        return f"haproxy -c -f {q(path)}"
    if kind == "script":
        return f"sh -n {q(path)}"
    if script_new is None:
        return f"keepalived -t -f {q(path)}"
    # The new conf names the final script path; check a copy naming the new script, so nothing live is touched.
    check = path + ".check"
    sed = f's#^\\([[:space:]]*script[[:space:]]*\\)"{CHECK_SCRIPT}"#\\1"{script_new}"#'
    return f"sed {q(sed)} {q(path)} > {q(check)} && keepalived -t -f {q(check)}; rc=$?; rm -f {q(check)}; exit $rc"


def _checked(remote: Remote, command: str, what: str) -> str:
    rc, out = remote.run(command)
    if rc != 0:
        raise RemoteCommandFailed(f"{what}: {first_lines(out) or f'exit {rc}'}")
    return out


@dataclass
class ApplyOutcome:
    status: Literal["unchanged", "changed", "failed", "reverted"]
    error: str | None = None
    notes: list[str] = field(default_factory=list)
    reloaded: list[str] = field(default_factory=list)
    installed: list[FileState] = field(default_factory=list)  # files replaced (what revert_lb puts back)


def apply_lb(remote: Remote, plan: LBPlan, host: str = "", run: Runner = direct) -> ApplyOutcome:
    """Phase two on one LB: upload, validate there, back up, rename, reload; roll back a failed reload.

    ``run``: how each step runs (``tasks.core.steps``): ``upload``, ``validate``, ``install``, ``reload SERVICE``,
    ``restore``; ``direct`` (default) calls them in place, ``runner(task)`` as named Nornir subtasks."""
    if not plan:
        return ApplyOutcome("unchanged")
    secrets = plan.rendered.secrets
    changed = plan.changed_files
    # Someone changed the host since the plan: the diff shown is no longer what would be applied.
    for f in plan.files:
        got = remote.read(f.file.path)
        if (got[0] if got else None) != f.current:
            return ApplyOutcome("failed", f"{f.file.path} changed on the host since the plan; plan again")

    uploaded: list[str] = []
    try:
        run("upload", _upload, remote, changed, uploaded)
        run("validate", _validate_uploaded, remote, changed, secrets)
    except Exception as exc:
        if uploaded:
            remote.run("rm -f " + " ".join(shlex.quote(p) for p in uploaded))
        message = str(exc) if isinstance(exc, RemoteCommandFailed) else f"upload failed: {first_lines(str(exc))}"
        return ApplyOutcome("failed", message, ["nothing was replaced or reloaded"])

    installed: list[FileState] = []
    try:
        run("install", _install, remote, changed, installed)
    except RemoteCommandFailed as exc:
        _restore(remote, installed)
        remote.run("rm -f " + " ".join(shlex.quote(p) for p in uploaded))
        return ApplyOutcome("reverted", str(exc), ["previous files restored"])

    outcome = ApplyOutcome("changed")
    for service in plan.reloads:
        rc, out = run(f"reload {service}", remote.run, f"systemctl reload-or-restart {service}", timeout=90.0)
        if rc == 0:
            outcome.reloaded.append(service)
            continue
        # Reload failed: the previous files go back and the services touched reload onto them.
        error = f"reload of {service} failed: {mask(program_errors('haproxy', out), secrets) or f'exit {rc}'}"
        notes = run("restore", _restore_after_reload, remote, plan, installed, [*outcome.reloaded, service])
        return ApplyOutcome("reverted", error, notes, outcome.reloaded)
    if outcome.reloaded:
        outcome.notes.append("reloaded " + ", ".join(outcome.reloaded))
    outcome.installed = installed
    return outcome


def _upload(remote: Remote, changed: list[FileState], uploaded: list[str]) -> None:
    """Every changed file as ``FILE.edgekit-new`` (``uploaded`` lists them, also after a failure)."""
    for f in changed:
        remote.write(f.file.path + NEW_SUFFIX, f.file.content, f.file.mode)
        uploaded.append(f.file.path + NEW_SUFFIX)


def _validate_uploaded(remote: Remote, changed: list[FileState], secrets: list[str]) -> None:
    """Each uploaded file checked on the LB by its program; RemoteCommandFailed with the program's message."""
    script_new = next((f.file.path + NEW_SUFFIX for f in changed if f.file.kind == "script"), None)
    for f in changed:
        if not f.content_changed:
            continue
        cmd = remote_validate_command(
            f.file.kind, f.file.path + NEW_SUFFIX, script_new if f.file.kind == "keepalived" else None
        )
        rc, out = remote.run(cmd)
        if rc != 0:
            program = {"haproxy": "haproxy -c", "keepalived": "keepalived -t", "script": "sh -n"}[f.file.kind]
            message = program_errors(f.file.kind, out, {f.file.path + NEW_SUFFIX: f.file.path})
            raise RemoteCommandFailed(f"{program} on the host: {mask(message, secrets)}")


def _install(remote: Remote, changed: list[FileState], installed: list[FileState]) -> None:
    """Back up and rename, script first so the new keepalived.conf never names a missing script
    (``installed`` lists the files replaced, also after a failure)."""
    order = {"script": 0, "haproxy": 1, "keepalived": 2}
    for f in sorted(changed, key=lambda f: order[f.file.kind]):
        q = shlex.quote(f.file.path)
        if f.current is not None:
            _checked(remote, f"cp -p {q} {shlex.quote(f.file.path + BAK_SUFFIX)}", f"backup of {f.file.path}")
        _checked(remote, f"mv -f {shlex.quote(f.file.path + NEW_SUFFIX)} {q}", f"rename into {f.file.path}")
        installed.append(f)


def _restore_after_reload(remote: Remote, plan: LBPlan, installed: list[FileState], touched: list[str]) -> list[str]:
    """A reload failed: the previous files back, the services touched that ran before reloaded onto them."""
    secrets = plan.rendered.secrets
    _restore(remote, installed)
    notes = ["previous files restored from " + ", ".join(f.file.path + BAK_SUFFIX for f in installed if f.current)]
    for again in touched:
        if not plan.active.get(again, False):
            continue  # was not running before this deploy: leave it as it was
        rc2, out2 = remote.run(f"systemctl reload-or-restart {again}", timeout=90.0)
        if rc2 == 0:
            notes.append(f"{again} reloaded with the previous config")
        else:
            notes.append(f"{again} reload after restore also failed: {mask(program_errors('haproxy', out2), secrets)}")
    return notes


def revert_lb(remote: Remote, plan: LBPlan, outcome: ApplyOutcome) -> list[str]:
    """Undo a change that did not pass its gate: the previous files back, the services reloaded onto them;
    a service this deploy started (it was not running before) is stopped again. Returns notes."""
    secrets = plan.rendered.secrets
    _restore(remote, outcome.installed)
    restored = [f.file.path for f in outcome.installed if f.current is not None]
    removed = [f.file.path for f in outcome.installed if f.current is None]
    notes = []
    if restored:
        notes.append("previous files restored: " + ", ".join(restored))
    if removed:
        notes.append("new files moved aside (*" + FAILED_SUFFIX + "): " + ", ".join(removed))
    for service in outcome.reloaded:
        if plan.active.get(service, False):
            rc, out = remote.run(f"systemctl reload-or-restart {service}", timeout=90.0)
            verb = "reloaded with the previous config"
        else:
            rc, out = remote.run(f"systemctl stop {service}", timeout=90.0)
            verb = "stopped again (it was not running before)"
        if rc == 0:
            notes.append(f"{service} {verb}")
        else:
            notes.append(f"{service}: {mask(program_errors('haproxy', out), secrets) or f'exit {rc}'}")
    return notes


def _restore(remote: Remote, installed: list[FileState]) -> None:
    """Put each replaced file back (the failed one kept as FILE.edgekit-failed); new files are moved aside."""
    for f in reversed(installed):
        q = shlex.quote(f.file.path)
        failed = shlex.quote(f.file.path + FAILED_SUFFIX)
        if f.current is None:
            remote.run(f"mv -f {q} {failed}")
            continue
        bak, new = shlex.quote(f.file.path + BAK_SUFFIX), shlex.quote(f.file.path + NEW_SUFFIX)
        remote.run(f"cp -p {q} {failed}; cp -p {bak} {new} && mv -f {new} {q}")


def apply_lb_task(
    task: Task,
    plans: LBPlan | Mapping[str, LBPlan],
    last: bool = True,
    gate_timeout: float = LB_GATE_TIMEOUT,
    hosts: Mapping[str, Host] | None = None,
) -> Result:
    """Nornir task, phase two on one LB (``plan_lb_task``'s plan, or plans by host name): upload the changed
    files and validate them there, install them, reload what changed (a failed reload puts the previous files
    back), then the gate: this LB's services and backends, and with ``last`` (the cluster's last changed LB)
    the whole pair settled (VIP on the elected LB, ``/healthz`` through it). A gate that does not pass within
    ``gate_timeout`` restores the previous files. ``hosts``: the whole inventory's hosts, to reach the peer LB
    outside the run's filter (default: the task's own inventory). Steps: ``upload``, ``validate``,
    ``install``, ``reload SERVICE``, ``restore``, ``gate: ...`` (ending with ``progress`` "gate passed in
    N s" or "gate failed after N s: restore").

    Result: ``result`` the plan's ``LBHostReport`` (status unchanged/changed/failed/reverted, ``checks`` the
    gate's verdicts, ``error``, ``notes``); ``changed`` True when the LB was changed and kept; ``diff`` as
    ``plan_lb_task``'s; ``failed`` when the status is failed or reverted.
    """
    name = task.host.name
    plan = plans if isinstance(plans, LBPlan) else plans[name]
    report = (
        plan.report if plan.report is not None else LBHostReport(host=name, cluster=plan.rendered.cluster, role="lb")
    )
    plan.report = report
    cluster = plan.cluster if plan.cluster is not None else lb_cluster(task.host)
    started = time.monotonic()
    hosts = hosts or task.nornir.inventory.hosts
    gate: tuple[Probe, tuple[Baseline, str]] | None = None
    try:
        remote = SSHRemote.from_task(task)
        if plan:  # a change: the gate's state before it
            probe = gate_probe(task, cluster, remote, last, hosts)
            gate = (probe, lb_baseline(probe, settle=GATE_GRACE))  # once steady: what is down then was down before
        outcome = apply_lb(remote, plan, name, runner(task))
    except Exception as exc:
        report.status = "failed"
        report.error = one_line(exc)
        report.timed("apply", started)
        return Result(host=task.host, result=report, failed=True, exception=exc)
    report.status = outcome.status
    report.error = outcome.error
    report.notes.extend(outcome.notes)
    report.timed("apply", started)
    if outcome.status == "changed":
        _gate(task, cluster, remote, plan, outcome, report, last, gate_timeout, hosts, gate)
    return Result(
        host=task.host,
        result=report,
        changed=report.status == "changed",
        diff=plan_diff(plan),
        failed=not report.ok,
    )


def _gate(
    task: Task,
    cluster: Cluster,
    remote: Remote,
    plan: LBPlan,
    outcome: ApplyOutcome,
    report: LBHostReport,
    last: bool,
    timeout: float,
    hosts: Mapping[str, Host],
    gate: tuple[Probe, tuple[Baseline, str]] | None = None,
) -> None:
    """Wait (bounded) for this LB, and after the cluster's last change for the whole pair, judged against
    ``gate`` (its probe and the baseline read before the change); restore on failure."""
    started = time.monotonic()
    probe, (baseline, unread) = gate if gate is not None else (None, (None, ""))
    results, waited = wait_for_lb_gate(task, cluster, remote, last, timeout, hosts, probe, baseline)
    report.timed("gate", started)
    report.checks = results
    if unread:
        report.notes.append(f"warning: the gate's state before the change could not be read ({unread})")
    for line in already_down(results):
        report.notes.append(f"warning: {line}")
        err_console.print(f"[yellow]warning:[/] {escape(task.host.name)}: {escape(line)}", soft_wrap=True)
    if all(r.ok for r in results):
        summary = "services, backends, VIP and /healthz of the pair" if last else "services and backends"
        report.notes.append(f"gate passed in {waited:.1f} s ({summary})")
        return
    report.error = gate_error(results, waited)
    started = time.monotonic()
    report.status = "reverted"
    try:
        report.notes.extend(revert_lb(remote, plan, outcome))
    except Exception as exc:
        report.status = "failed"
        report.notes.append(f"could not restore the previous files: {one_line(exc)}")
    report.timed("revert", started)
