"""API load balancers (HAProxy + Keepalived), plan and apply: read, push atomically, reload, gate, roll back.

The LB's files are rendered by ``tasks.lb.render``, checked on this machine by ``tasks.lb.validate`` and reached
over SSH through ``tasks.lb.remote``; this module plans and applies them (the names of those modules are
re-exported here, as before the split).

Plan (read only): the LB's current files and whether its services run (``plan_lb``).

Validation on the LB, before any change: every changed file is uploaded as ``FILE.edgekit-new`` and checked
there (``haproxy -c -f``, ``keepalived -t -f``, ``sh -n``). Any failure removes the temp files: nothing is
renamed or reloaded.

Apply (phase two, only for changed hosts): re-read the remote files (changed since the plan: fail), then
per file ``cp -p FILE FILE.edgekit-bak`` and ``mv FILE.edgekit-new FILE`` (atomic rename), then
``systemctl reload-or-restart`` each service whose file changed (or that is not running). A failed reload
puts every replaced file back from its backup and reloads again; the host reports ``reverted`` with the
program's message. The check script alone changing needs no reload (keepalived runs it each interval),
and a service whose file did not change is not reloaded (a keepalived reload or restart puts the instance
back in BACKUP, which leaves the VIP with no LB until VRRP elects again).

Gate (``wait_for_gate``), like the router's: after each LB's change, until its services are active and its
HAProxy sees every apiserver UP; after the last changed LB of a cluster, until the whole pair is settled:
both LBs' services active and backends UP, exactly one LB holds the VIP (the one VRRP elects: the highest
priority), and ``/healthz`` through the VIP answers 200. Keepalived starts every instance in BACKUP and
claims the VIP only when no higher-priority advert came for three advert intervals (RFC 5798's
Master_Down_Interval), so right after a (re)start the VIP is held by no LB for ~3 s and may move once more
when the higher-priority peer claims it: deploy returns only after that. A gate that does not pass within
the gate timeout restores that LB's previous files and reloads (``revert_lb``); the host reports
``reverted`` with the failing checks.

Nornir tasks: ``plan_lb_task`` (phase one) and ``apply_lb_task`` (install, reload, gate, restore), each
returning a Result that carries the host's report; their steps are named subtasks (``tasks.core.steps``).
"""

from __future__ import annotations

import hashlib
import shlex
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from nornir.core.inventory import Host
from nornir.core.task import Result, Task

from checks import lb as lbchecks
from checks.parsers import haproxy_stat
from checks.verdict import CheckResult, errored, failed
from inventory.errors import InputError
from inventory.model import Cluster, LoadBalancer
from tasks.core.defaults import LB_GATE_TIMEOUT
from tasks.core.report import HostReport
from tasks.core.report import one_line as one_line_of
from tasks.core.steps import Runner, direct, run_step, runner
from tasks.lb.remote import ConnectError, Remote, SSHRemote, one_line, service_active
from tasks.lb.render import (
    ADMIN_SOCKET,
    CHECK_SCRIPT,
    DEFAULT_TUNING,
    HAPROXY_CFG,
    KEEPALIVED_CONF,
    SERVICES,
    VRRP_PASS_MAX,
    FileKind,
    LBFile,
    RenderedLB,
    find_lb,
    mask,
    render_lb,
    require_api_lb,
    unified_diff,
    vrrp_weight,
)
from tasks.lb.validate import (
    ValidationFailed,
    haproxy_local_copy,
    keepalived_local_copy,
    local_interface,
    program_errors,
    validate_local,
)

__all__ = [
    "ADMIN_SOCKET",
    "CHECK_SCRIPT",
    "DEFAULT_TUNING",
    "HAPROXY_CFG",
    "KEEPALIVED_CONF",
    "SERVICES",
    "VRRP_PASS_MAX",
    "ConnectError",
    "FileKind",
    "LBFile",
    "Remote",
    "RenderedLB",
    "SSHRemote",
    "ValidationFailed",
    "find_lb",
    "haproxy_local_copy",
    "keepalived_local_copy",
    "local_interface",
    "mask",
    "one_line",
    "program_errors",
    "render_lb",
    "require_api_lb",
    "service_active",
    "unified_diff",
    "validate_local",
    "vrrp_weight",
]

DEFAULT_GATE_TIMEOUT = LB_GATE_TIMEOUT
NEW_SUFFIX = ".edgekit-new"
BAK_SUFFIX = ".edgekit-bak"
FAILED_SUFFIX = ".edgekit-failed"
GATE_INTERVAL = 0.5
SHOW_STAT = (
    "if command -v socat >/dev/null 2>&1; then echo 'show stat' | socat stdio UNIX-CONNECT:{sock}; "
    "else echo 'show stat' | nc -N -U {sock}; fi"
)


@dataclass
class LBHostReport(HostReport):
    """A host report with the unified diff of each changed file (secrets masked)."""

    diffs: dict[str, list[str]] = field(default_factory=dict)


# --- plan --------------------------------------------------------------------------------------------------


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


# --- apply -------------------------------------------------------------------------------------------------


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


class ApplyError(Exception):
    pass


def _checked(remote: Remote, command: str, what: str) -> str:
    rc, out = remote.run(command)
    if rc != 0:
        raise ApplyError(f"{what}: {one_line(out) or f'exit {rc}'}")
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
        message = str(exc) if isinstance(exc, ApplyError) else f"upload failed: {one_line(str(exc))}"
        return ApplyOutcome("failed", message, ["nothing was replaced or reloaded"])

    installed: list[FileState] = []
    try:
        run("install", _install, remote, changed, installed)
    except ApplyError as exc:
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
    """Each uploaded file checked on the LB by its program; ApplyError with the program's message."""
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
            raise ApplyError(f"{program} on the host: {mask(message, secrets)}")


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


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# --- gate --------------------------------------------------------------------------------------------------


def holds_vip(remote: Remote, vip: Any) -> bool:
    """Whether this LB has the VIP on an interface (``ip -4 -o addr show``); raises ApplyError if unreadable."""
    rc, out = remote.run("ip -4 -o addr show")
    if rc != 0:
        raise ApplyError(f"ip addr: {one_line(out) or f'exit {rc}'}")
    return vip in lbchecks.ipv4_addresses(out)


def backends_check(remote: Remote, host: str, cluster: Cluster) -> CheckResult:
    """``lb.backends`` from the LB's HAProxy admin socket (``show stat``)."""
    expected = [m.name for m in sorted(cluster.masters, key=lambda m: m.name)]
    rc, out = remote.run(SHOW_STAT.format(sock=ADMIN_SOCKET))
    if rc != 0 or not out.strip():
        return errored("lb.backends", host, cluster.name, f"show stat: {one_line(out) or f'exit {rc}'}")
    try:
        return lbchecks.check_backends(host, cluster.name, haproxy_stat.parse(out), expected)
    except Exception as exc:
        return errored("lb.backends", host, cluster.name, str(exc))


def lb_gate_checks(remote: Remote, host: str, cluster: Cluster) -> list[CheckResult]:
    """One LB after its change: haproxy and keepalived active, every apiserver UP in its HAProxy."""
    active = {s: service_active(remote, s) for s in SERVICES}
    return [lbchecks.check_services(host, cluster.name, active), backends_check(remote, host, cluster)]


HealthzFetch = Callable[[str], tuple[int | None, str]]


def pair_gate_checks(
    remotes: dict[str, Remote | str], cluster: Cluster, fetch: HealthzFetch, changed: str
) -> list[CheckResult]:
    """The pair after the last LB's change (``changed``): that LB's services and backends, the peer's
    backends when its HAProxy runs, the VIP on exactly one LB, the one VRRP elects (the highest priority
    among the LBs whose keepalived runs), and /healthz through the VIP. A peer that is degraded on its own
    (a service stopped) is verify's finding, not this change's. ``remotes``: LB name -> its Remote, or why
    it could not be reached."""
    api_lb = require_api_lb(cluster)
    results: list[CheckResult] = []
    holders: dict[str, bool] = {}
    unknown: dict[str, str] = {}
    electing: list[LoadBalancer] = []
    for lb in api_lb.lbs:
        remote = remotes.get(lb.name, "not connected")
        if isinstance(remote, str):
            unknown[lb.name] = remote
            if lb.name == changed:
                results += [errored(c, lb.name, cluster.name, remote) for c in ("lb.services", "lb.backends")]
            continue
        try:
            active = {s: service_active(remote, s) for s in SERVICES}
            if lb.name == changed:
                results.append(lbchecks.check_services(lb.name, cluster.name, active))
            if lb.name == changed or active["haproxy"]:
                results.append(backends_check(remote, lb.name, cluster))
            if active["keepalived"]:
                electing.append(lb)
            holders[lb.name] = holds_vip(remote, api_lb.vip)
        except Exception as exc:
            unknown[lb.name] = one_line(str(exc)) or type(exc).__name__
    vip = lbchecks.check_vip(cluster.name, api_lb.vip, holders, unknown)
    elected = _elected(electing)
    held = [name for name, has in holders.items() if has]
    if vip.ok and elected is not None and held != [elected.name]:
        vip = failed(
            "lb.vip",
            vip.host,
            cluster.name,
            f"held by {held[0]}, not yet by {elected.name} (priority {elected.priority}): VRRP has not settled",
        )
    results.append(vip)
    url = f"https://{api_lb.vip}:{api_lb.frontend_port}/healthz"
    status, body = fetch(url)
    results.append(lbchecks.check_healthz(cluster.name, api_lb.vip, url, status, body))
    return results


def _elected(lbs: list[LoadBalancer]) -> LoadBalancer | None:
    """The LB VRRP elects among those running keepalived: the highest priority (None: none or a tie)."""
    ranked = sorted(lbs, key=lambda lb: lb.priority, reverse=True)
    if not ranked or (len(ranked) > 1 and ranked[0].priority == ranked[1].priority):
        return None
    return ranked[0]


def wait_for_gate(
    probe: Callable[[], list[CheckResult]],
    timeout: float,
    interval: float = GATE_INTERVAL,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[list[CheckResult], float]:
    """Probe until every check passes or ``timeout`` seconds have gone by: (last results, seconds waited)."""
    started = clock()
    deadline = started + timeout
    while True:
        results = probe()
        if all(r.ok for r in results) or clock() >= deadline:
            return results, clock() - started
        sleep(interval)


def gate_error(results: list[CheckResult], waited: float) -> str:
    """One line naming every failing check and why."""
    failing = [r for r in results if not r.ok]
    parts = [f"{r.check} {r.host}: {r.reason}" for r in failing]
    return f"gate failed after {waited:.1f} s: " + "; ".join(parts)


# --- Nornir tasks ------------------------------------------------------------------------------------------


def host_lb_cluster(host: Host) -> Cluster:
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
        report.error = one_line_of(exc)
        report.timed("plan", started)
        return Result(host=task.host, result=report, failed=True, exception=exc)
    plan.cluster = cluster
    plan.report = report
    report.commands = plan.actions()
    report.diffs = plan.diffs()
    report.status = "planned" if plan else "unchanged"
    report.timed("plan", started)
    return Result(host=task.host, result=plan, changed=bool(plan), diff=_plan_diff(plan))


def _plan_diff(plan: LBPlan) -> str:
    lines = [line for diff in plan.diffs().values() for line in diff]
    return "\n".join([*lines, *(f"# {action}" for action in plan.actions())])


def apply_lb_task(
    task: Task,
    plans: LBPlan | Mapping[str, LBPlan],
    last: bool = True,
    gate_timeout: float = DEFAULT_GATE_TIMEOUT,
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
    cluster = plan.cluster if plan.cluster is not None else host_lb_cluster(task.host)
    started = time.monotonic()
    try:
        remote = SSHRemote.from_task(task)
        outcome = apply_lb(remote, plan, name, runner(task))
    except Exception as exc:
        report.status = "failed"
        report.error = one_line_of(exc)
        report.timed("apply", started)
        return Result(host=task.host, result=report, failed=True, exception=exc)
    report.status = outcome.status
    report.error = outcome.error
    report.notes.extend(outcome.notes)
    report.timed("apply", started)
    if outcome.status == "changed":
        _gate(task, cluster, remote, plan, outcome, report, last, gate_timeout, hosts or task.nornir.inventory.hosts)
    return Result(
        host=task.host,
        result=report,
        changed=report.status == "changed",
        diff=_plan_diff(plan),
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
) -> None:
    """Wait (bounded) for this LB, and after the cluster's last change for the whole pair; restore on failure."""
    name = task.host.name
    assert cluster.api_lb is not None
    what = "gate: services, backends, VIP, /healthz" if last else "gate: services, backends"
    started = time.monotonic()

    def probe_for() -> Callable[[], list[CheckResult]]:
        """The gate's probe; for the pair, the peer's session is opened here (inside the gate step)."""
        assert cluster.api_lb is not None
        if not last:
            return lambda: lb_gate_checks(remote, name, cluster)
        remotes: dict[str, Remote | str] = {name: remote}
        for lb in cluster.api_lb.lbs:
            if lb.name != name:
                remotes[lb.name] = _peer_remote(task, hosts, lb.name)
        return lambda: pair_gate_checks(remotes, cluster, _gate_fetch, name)

    results, waited = run_step(task, what, _gate_wait, probe_for, timeout, cluster, name, progress=_gate_progress)
    report.timed("gate", started)
    report.checks = results
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
        report.notes.append(f"could not restore the previous files: {one_line_of(exc)}")
    report.timed("revert", started)


def _gate_wait(
    probe_for: Callable[[], Callable[[], list[CheckResult]]], timeout: float, cluster: Cluster, name: str
) -> tuple[list[CheckResult], float]:
    started = time.monotonic()
    probe = probe_for()
    try:
        return wait_for_gate(probe, timeout)
    except Exception as exc:  # the session broke mid-gate: still try to restore
        return [errored("lb.gate", name, cluster.name, one_line_of(exc))], time.monotonic() - started


def _gate_progress(value: tuple[list[CheckResult], float]) -> str:
    results, waited = value
    if all(r.ok for r in results):
        return f"gate passed in {waited:.1f}s"
    return f"gate failed after {waited:.1f}s: restore"


def _peer_remote(task: Task, hosts: Mapping[str, Host], name: str) -> Remote | str:
    """The other LB of the pair (also outside --limit), on its own Nornir connection; why not, when it
    cannot be reached."""
    try:
        return SSHRemote.from_host(hosts[name], task.nornir.config)
    except Exception as exc:
        return one_line_of(exc)


def _gate_fetch(url: str) -> tuple[int | None, str]:
    return lbchecks.fetch_healthz(url, timeout=2.0)
