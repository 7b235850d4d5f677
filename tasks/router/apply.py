"""Router deploy: plan every router in parallel, then apply with commit-confirm and a gate, cluster by cluster.

Per router: read ``show configuration commands``, render the intent, compute the change of the managed
subtrees. No change: ``unchanged`` without entering config mode. Otherwise ``commit-confirm`` the
change, wait (bounded) for the gate — every live speaker Established and every LoadBalancer IP routed
over exactly the expected next hops — then ``confirm`` and ``save``. A failed gate or an error puts
back the exact previous config by the inverse change and stops the timer; if edgekit itself dies, the
router's own commit-confirm timer reverts it: by a **reboot into its saved config** (VyOS 1.3, and 1.4
without ``action reload``) or in place (1.4 with ``system config-management commit-confirm action
reload``, which edgekit sets unless the site file says ``revert_in_place: false``).

Before the commit-confirm a router with committed but unsaved changes is refused (a reboot would lose
them and edgekit's save would keep someone's half-done work; ``save_first`` saves them first), and a
pending commit-confirm of someone else (``Another confirm is pending``) is refused with nothing changed.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from nornir.core.exceptions import NornirSubTaskError
from nornir.core.inventory import Host
from nornir.core.task import Result, Task

from checks import bfd
from checks.bgp import check_peers
from checks.config_diff import ConfigChange, diff, mask_line
from checks.ecmp import check_route, selected_route
from checks.parsers import bfd_peers, bgp_summary, route
from checks.verdict import CheckResult, errored
from inventory.errors import EdgekitError, InputError
from inventory.model import Cluster
from inventory.nornir_plugin import EdgekitHost
from inventory.secrets import K8sSecretReader, is_wireguard_key
from napalm_edgekit_vyos.connection import ConfirmPending
from napalm_edgekit_vyos.driver import CONFIRM_ACTION_PATH, TimerFired, VyOSDriver
from tasks.core.defaults import DEFAULT_CONFIRM_TIMEOUT, DEFAULT_GATE_TIMEOUT
from tasks.core.report import HostReport, one_line, root_cause
from tasks.core.steps import run_step
from tasks.router.dialect import Dialect, detect, dialect_for
from tasks.router.locks import RouterLock, RouterLocked
from tasks.router.render import RenderCache, RenderedConfig, managed_scope, render_router_task


@dataclass
class DeployOptions:
    dry_run: bool = False
    confirm_timeout: int = DEFAULT_CONFIRM_TIMEOUT
    gate_timeout: float = DEFAULT_GATE_TIMEOUT
    gate_interval: float = 0.25  # FRR installs routes within a second of Established: poll often
    comment: str = "edgekit deploy"
    save_first: bool = False  # save a router's unsaved commits instead of refusing it
    abort: threading.Event | None = None  # set by a second Ctrl-C: end gates now, restore in place


@dataclass
class RouterPlan:
    """What phase one learned about a router: everything phase two needs to apply."""

    dialect: Dialect
    running: list[str]
    rendered: RenderedConfig
    change: ConfigChange
    rollback: str = "reboot"  # what an unconfirmed change costs: "reload" (in place) or "reboot"
    set_action: bool = False  # commit `action reload` before the change (1.4, node known, not yet set)
    cluster: Cluster | None = None  # the router's cluster (what phase two applies and gates against)
    report: HostReport | None = None  # the host's report, filled by both phases


def router_driver(task: Task) -> VyOSDriver:
    driver = task.host.get_connection("napalm", task.nornir.config)
    assert isinstance(driver, VyOSDriver), f"{task.host.name}: napalm platform must be edgekit_vyos"
    return driver


def router_dialect(cluster: Cluster, driver: VyOSDriver) -> Dialect:
    assert cluster.router is not None
    if cluster.router.dialect != "auto":
        return dialect_for(cluster.router.dialect)
    return detect(driver.show("show version"))


def host_cluster(host: Host) -> Cluster:
    """The router's cluster model from the ``TFStateInventory`` plugin; InputError for any other host."""
    cluster = host.cluster_model if isinstance(host, EdgekitHost) else None
    if cluster is None or cluster.router is None or cluster.router.name != host.name:
        raise InputError(f"{host.name}: not a router of the TFStateInventory plugin", path="host")
    return cluster


def host_secret_reader(host: Host) -> K8sSecretReader | None:
    return host.secret_reader if isinstance(host, EdgekitHost) else None


def plan_router(
    task: Task,
    cluster: Cluster,
    report: HostReport | None = None,
    k8s_reader: K8sSecretReader | None = None,
    renders: RenderCache | None = None,
) -> Result:
    """Nornir task, phase one (read only): connect, detect the dialect, read the running config, render, diff.

    Steps (subtasks a Processor sees): ``connect``, ``read config``. ``renders``: the run's renders (the
    deploy's input check rendered the intent already); without it the intent is rendered here as a Nornir
    subtask (``render_router_task``). ``report``: the host's report to fill (a new one without it).

    Result: ``result`` the ``RouterPlan`` (its ``report`` has the masked change in ``commands``, ``status``
    ``planned`` or ``unchanged``, the dialect, rollback kind and timings); ``changed`` True when there is a
    change; ``diff`` the masked change; raises (a failed Result) on a connection, read or input error.
    """
    report = report if report is not None else HostReport(host=task.host.name, cluster=cluster.name)
    started = time.monotonic()
    driver = run_step(task, "connect", router_driver, task)
    report.timed("connect", started)
    started = time.monotonic()
    dialect, running = run_step(task, "read config", _read_config, driver, cluster, report)
    report.timed("read", started)
    rendered: RenderedConfig
    if renders is not None:
        rendered = renders.get(cluster, dialect, k8s_reader)
    else:
        rendered = task.run(
            task=render_router_task, cluster=cluster, dialect=dialect, k8s_reader=k8s_reader, severity_level=10
        ).result
    change = diff(running, rendered.lines, managed_scope(cluster, dialect))
    report.commands = [mask_line(c, rendered.secrets) for c in change.commands]
    report.status = "planned" if change else "unchanged"
    plan = RouterPlan(dialect, running, rendered, change, cluster=cluster, report=report)
    if change:
        plan.rollback, plan.set_action, why = plan_rollback(driver, cluster, dialect, running)
        report.rollback = plan.rollback
        report.notes.append(why)
    return Result(host=task.host, result=plan, changed=bool(change), diff="\n".join(report.commands))


def _read_config(driver: VyOSDriver, cluster: Cluster, report: HostReport) -> tuple[Dialect, list[str]]:
    """The router's dialect (in the report as soon as it is known) and its running config."""
    dialect = router_dialect(cluster, driver)
    report.dialect = dialect.version
    return dialect, driver.show("show configuration commands").splitlines()


def plan_rollback(driver: VyOSDriver, cluster: Cluster, dialect: Dialect, running: list[str]) -> tuple[str, bool, str]:
    """(rollback, set_action, why): what the router's commit-confirm timer would do to this change."""
    assert cluster.router is not None
    if f"set {CONFIRM_ACTION_PATH} 'reload'" in (line.strip() for line in running):
        return "reload", False, "unconfirmed: reverted in place (commit-confirm action reload is set)"
    if not dialect.revert_in_place:
        return (
            "reboot",
            False,
            f"unconfirmed: REBOOT into the saved config (VyOS {dialect.version} cannot revert in place)",
        )
    if not cluster.router.revert_in_place:
        return "reboot", False, "unconfirmed: REBOOT into the saved config (revert_in_place is off in the site file)"
    if driver.supports_confirm_action():
        return "reload", True, f"unconfirmed: reverted in place (edgekit sets {CONFIRM_ACTION_PATH} reload first)"
    return (
        "reboot",
        False,
        f"unconfirmed: REBOOT into the saved config (this router lacks {CONFIRM_ACTION_PATH}; "
        "it answered 'is not valid')",
    )


def plan_for_deploy(
    task: Task,
    clusters: Mapping[str, Cluster] | None = None,
    renders: RenderCache | None = None,
    k8s_readers: Mapping[str, K8sSecretReader | None] | None = None,
    lock: bool = False,
) -> Result:
    """Nornir task, phase one of ``edgekit plan|deploy`` for one router: take its local lock (``lock``: a
    deploy, so a second run fails at once for every router the first holds), then ``plan_router``; a
    failure is recorded in the host's report, not raised.

    ``clusters``/``k8s_readers``: by host name (the CLI's selection); without them, the host's own from the
    ``TFStateInventory`` plugin. Result: ``result`` the ``RouterPlan`` (with its ``report``), or the failed
    host's ``HostReport``; ``changed``/``diff`` as ``plan_router``'s; ``failed`` with ``exception`` on an
    error; ``lock`` the ``RouterLock`` held (release it when the run ends), ``progress`` ``locked`` when
    another run holds the router.
    """
    name = task.host.name
    cluster = clusters[name] if clusters is not None else host_cluster(task.host)
    reader = k8s_readers.get(name) if k8s_readers is not None else host_secret_reader(task.host)
    report = HostReport(host=name, cluster=cluster.name)
    held: RouterLock | None = None
    if lock:
        held = RouterLock(name, str(task.host.hostname), int(task.host.port or 22))
        try:
            held.acquire()
        except RouterLocked as exc:
            report.status = "failed"
            report.error = str(exc)
            return Result(host=task.host, result=report, failed=True, exception=exc, progress="locked", lock=None)
    try:
        planned = task.run(
            task=plan_router,
            cluster=cluster,
            report=report,
            k8s_reader=reader,
            renders=renders,
            severity_level=logging.DEBUG,
        )[0]
    except Exception as exc:
        record_failure(report, exc)
        return Result(host=task.host, result=report, failed=True, exception=root_cause(exc), lock=held)
    return Result(host=task.host, result=planned.result, changed=planned.changed, diff=planned.diff, lock=held)


def record_failure(report: HostReport, exc: BaseException) -> None:
    """The host failed with ``exc``: its one line (``input: ...`` for bad input) in the report."""
    text = one_line(exc)
    report.status = "failed"
    report.error = f"input: {text}" if isinstance(root_cause(exc), InputError) else text


def deploy_router(
    task: Task,
    options: DeployOptions | None = None,
    plans: Mapping[str, RouterPlan] | None = None,
    stop: StopFlag | None = None,
) -> Result:
    """Nornir task: deploy one router (commit-confirm, gate, confirm and save, or restore the previous config).

    ``plans``: phase one's ``RouterPlan`` by host name (``plan_for_deploy``, the CLI's); without it the
    router is planned here first (the host's cluster from the ``TFStateInventory`` plugin). ``options``:
    timers, ``dry_run`` (plan only), ``save_first``; ``stop``: set by a first Ctrl-C, no router starts after.
    A failure is recorded in the report, not raised.

    Result: ``result`` the host's ``HostReport`` (``status`` unchanged/changed/planned/failed/reverted/skipped,
    ``commands`` the masked change, ``checks`` the gate's verdicts, ``error``, ``notes``, ``rollback``,
    ``timer_fires_at`` while a change waits for its confirm, ``timings``); ``changed`` True when the change
    was committed and confirmed (with ``dry_run``: when there is one); ``diff`` the masked change;
    ``failed`` when the status is failed or reverted.
    """
    options = options or DeployOptions()
    plan = plans.get(task.host.name) if plans is not None else None
    if plan is None:
        try:
            plan = task.run(task=plan_for_deploy, severity_level=logging.DEBUG)[0].result
        except NornirSubTaskError as exc:  # recorded in its report
            failed = exc.result[0]
            return Result(host=task.host, result=failed.result, failed=True, exception=failed.exception)
    assert plan.cluster is not None and plan.report is not None
    report = plan.report
    if options.dry_run or not plan.change:
        return Result(host=task.host, result=report, changed=bool(plan.change), diff="\n".join(report.commands))
    if stop:
        report.status = "skipped"
        report.notes.append("interrupted before this host started")
        return Result(host=task.host, result=report, progress="")
    try:
        task.run(task=apply_router, cluster=plan.cluster, plan=plan, options=options, severity_level=logging.DEBUG)
    except Exception as exc:
        if report.status not in ("reverted", "failed"):
            record_failure(report, exc)
    return Result(
        host=task.host,
        result=report,
        changed=report.status == "changed",
        diff="\n".join(report.commands),
        failed=not report.ok,
    )


def apply_router(task: Task, cluster: Cluster, plan: RouterPlan, options: DeployOptions | None = None) -> Result:
    """Nornir task, phase two: safety checks, commit-confirm, gate, then confirm+save or restore the previous
    config. Steps: ``check``, ``commit``, ``gate``, ``confirm`` or ``revert``.

    Result: ``result`` the plan's ``HostReport`` (status changed/unchanged/reverted/failed/skipped);
    ``failed`` when the change was not kept. Raises ``ApplyError`` when the router refused the change before
    anything was committed (the candidate discarded: nothing changed).
    """
    options = options or DeployOptions()
    report = plan.report if plan.report is not None else HostReport(host=task.host.name, cluster=cluster.name)
    plan.report = report
    driver = router_driver(task)
    name = task.host.name
    if not plan.change:
        report.status = "unchanged"
        return Result(host=task.host, result=report)
    secrets = plan.rendered.secrets
    started = time.monotonic()
    run_step(task, "check", _safety_checks, driver, cluster, plan, report, options)
    report.timed("check", started)
    if options.abort is not None and options.abort.is_set():  # second Ctrl-C before anything was committed
        report.status = "skipped"
        report.notes.append("interrupted (second Ctrl-C) before the commit: nothing changed")
        return Result(host=task.host, result=report)
    started = time.monotonic()
    try:
        run_step(task, "commit", _commit, driver, plan, options)
    except Exception as exc:
        # The router's error quotes the failing line, secret values included: mask before reporting.
        message = mask_line(one_line(exc), secrets)
        pending = exc.__cause__ if isinstance(exc.__cause__, ConfirmPending) else None
        if pending is not None and pending.committed:
            # VyOS 1.3 commits under someone else's timer: take our change out again, leave their timer.
            report.error = f"refused: {message}"
            _restore(driver, plan.running, report, options, secrets, stop_timer=False)
            return Result(host=task.host, result=report, failed=True)
        if driver.has_pending_commit():  # the commit failed after the timer started: stop it in place
            _mark_pending(driver, report)
            report.error = f"commit failed: {message}"
            _restore(driver, plan.running, report, options, secrets)
            return Result(host=task.host, result=report, failed=True)
        if pending is not None:
            raise ApplyError(f"refused: {message}") from None
        raise ApplyError(message) from None
    report.timed("commit", started)
    outcome = driver.last_confirm
    if outcome is not None and outcome.nothing_to_commit:
        report.status = "unchanged"
        report.notes.append("the router answered 'No configuration changes to commit': it already had this change")
        return Result(host=task.host, result=report)
    if outcome is not None and outcome.action:
        report.rollback = outcome.action  # what the router itself announced
    _mark_pending(driver, report)
    try:
        started = time.monotonic()
        report.checks = run_step(task, "gate", wait_for_gate, driver, cluster, name, options)
        report.timed("gate", started)
        if options.abort is not None and options.abort.is_set():
            report.error = "interrupted (second Ctrl-C) during the gate"
        elif all(c.ok for c in report.checks):
            started = time.monotonic()
            run_step(task, "confirm", driver.confirm_commit)
            report.timer_fires_at = None
            report.timed("confirm", started)
            report.status = "changed"
            return Result(host=task.host, result=report, changed=True)
        else:
            failing = [c for c in report.checks if not c.ok]
            report.error = "gate failed: " + "; ".join(f"{c.check}: {c.reason}" for c in failing[:3])
    except TimerFired as exc:
        report.timer_fires_at = None
        report.status = "failed"
        report.error = f"{one_line(exc)} ({ROLLBACK_DONE.get(report.rollback or 'reboot')})"
        return Result(host=task.host, result=report, failed=True)
    except Exception as exc:  # the session broke mid-gate: still try to restore in place
        report.error = mask_line(f"error after commit: {one_line(exc)}", secrets)
    started = time.monotonic()
    run_step(task, "revert", _restore, driver, plan.running, report, options, secrets)
    report.timed("revert", started)
    return Result(host=task.host, result=report, failed=True)


def _safety_checks(
    driver: VyOSDriver, cluster: Cluster, plan: RouterPlan, report: HostReport, options: DeployOptions
) -> None:
    """Before the commit-confirm: unsaved commits, the confirm action, VyOS 1.3's named WireGuard keypair."""
    secrets = plan.rendered.secrets
    try:
        _check_saved(driver, plan, report, options)
        if plan.set_action:
            _set_confirm_action(driver, plan, report)
        if plan.dialect.wireguard_named_keys and cluster.wireguard is not None:
            _ensure_named_keypair(driver, cluster.wireguard.key_name, report)
    except ApplyError:
        raise
    except Exception as exc:
        raise ApplyError(mask_line(one_line(exc), secrets)) from None


def _commit(driver: VyOSDriver, plan: RouterPlan, options: DeployOptions) -> None:
    driver.load_merge_candidate(config=plan.change.commands)
    driver.remember_running(plan.running)
    driver.commit_config(message=options.comment, revert_in=options.confirm_timeout)


ROLLBACK_DONE = {"reload": "reloaded the previous config in place", "reboot": "rebooted into its saved config"}
ROLLBACK_COMING = {"reload": "reloads the previous config in place", "reboot": "REBOOTS into its saved config"}


def _check_saved(driver: VyOSDriver, plan: RouterPlan, report: HostReport, options: DeployOptions) -> None:
    """Refuse a router whose running config differs from its saved one (unless ``save_first``)."""
    unsaved = driver.unsaved_commits()
    if not unsaved:
        return
    if options.save_first:
        driver.save()
        report.notes.append("saved the router's unsaved commits first (--save-first)")
        return
    cost = "a reboot would lose them" if plan.rollback == "reboot" else "edgekit's save would keep them"
    raise ApplyError(
        "refused: the router has committed changes that are not saved (someone may be mid-change, or a "
        f"commit-confirm waits for its confirm); {cost}: save or revert them on the router, or deploy --save-first"
    )


def _set_confirm_action(driver: VyOSDriver, plan: RouterPlan, report: HostReport) -> None:
    try:
        driver.set_confirm_action_reload()
    except Exception as exc:
        plan.rollback = report.rollback = "reboot"
        report.notes.append(
            f"could not set {CONFIRM_ACTION_PATH} reload ({one_line(exc)}): an unconfirmed change reboots"
        )
        return
    report.notes.append(f"set {CONFIRM_ACTION_PATH} reload (committed and saved)")


def _mark_pending(driver: VyOSDriver, report: HostReport) -> None:
    report.timer_fires_at = driver.pending_fires_at


def pending_text(report: HostReport, now: float | None = None) -> str:
    """When a router's timer fires and what that does, for an operator who has to act on it."""
    if report.timer_fires_at is None:
        return ""
    now = time.time() if now is None else now
    at = time.strftime("%H:%M:%S UTC", time.gmtime(report.timer_fires_at))
    left = max(0, int(report.timer_fires_at - now))
    what = ROLLBACK_COMING.get(report.rollback or "reboot", ROLLBACK_COMING["reboot"])
    return f"its commit-confirm timer fires at {at} (in {left // 60} min {left % 60} s) and the router then {what}"


def _restore(
    driver: VyOSDriver,
    previous: list[str],
    report: HostReport,
    options: DeployOptions,
    secrets: list[str],
    stop_timer: bool = True,
) -> None:
    """Put the exact previous config back; a broken session gets one fresh one before giving up to the
    router's own commit-confirm timer."""
    for attempt in (1, 2):
        try:
            if attempt == 2:
                driver.close()
                driver.open()  # the driver keeps what it knows of our pending timer
            driver.restore(previous, stop_timer=stop_timer)
            now = driver.show("show configuration commands").splitlines()
        except Exception as exc:
            if attempt == 1:
                continue
            report.status = "failed"
            left = pending_text(report)
            report.notes.append(
                f"could not restore ({mask_line(one_line(exc), secrets)})" + (f"; {left}" if left else "")
            )
            return
        if stop_timer:
            report.timer_fires_at = None
        if _normalized(now) != _normalized(previous):
            report.status = "failed"
            report.notes.append("restored config differs from the previous one")
            return
        report.status = "reverted"
        report.notes.append("previous config restored in place")
        return


def _normalized(lines: list[str]) -> list[str]:
    return sorted(line.strip() for line in lines if line.strip().startswith("set "))


def _ensure_named_keypair(driver: VyOSDriver, name: str, report: HostReport) -> None:
    """VyOS 1.3 refers to WireGuard keys by the name of a keypair generated on the box; the venue needs
    its public key, so the report carries it."""
    pubkey = driver.show(f"show wireguard keypairs pubkey {name}").strip()
    if not is_wireguard_key(pubkey):
        driver.show(f"generate wireguard named-keypairs {name}")
        pubkey = driver.show(f"show wireguard keypairs pubkey {name}").strip()
        report.notes.append(f"generated WireGuard keypair {name!r} on the router")
    if is_wireguard_key(pubkey):
        report.notes.append(f"router WireGuard public key: {pubkey}")


Show = Callable[[str], str]
GateCheck = Callable[[Show, Cluster, str], list[CheckResult]]


def gate_bgp_peers(show: Show, cluster: Cluster, host: str) -> list[CheckResult]:
    """``bgp.peers`` (``checks.bgp.check_peers``, as verify): every live speaker Established."""
    try:
        summary = bgp_summary.parse(show("show ip bgp summary"))
    except EdgekitError as exc:
        return [errored("bgp.peers", host, cluster.name, str(exc))]
    return [check_peers(host, cluster, summary)]


def gate_bfd_peers(show: Show, cluster: Cluster, host: str) -> list[CheckResult]:
    """``bfd.peers`` (``checks.bfd.check_peers``, as verify) when the cluster's BFD is on: every live speaker's
    BFD session up. The command is the dialect's (``show bfd peers`` on 1.3 and 1.4)."""
    if not cluster.router_bfd:  # off, or not yet on MetalLB's end (then not rendered on the router either)
        return []
    try:
        router = cluster.router
        assert router is not None
        dialect = dialect_for(router.dialect) if router.dialect != "auto" else detect(show("show version"))
        return [bfd.check_peers(host, cluster, bfd_peers.parse(show(dialect.bfd_peers_command)))]
    except EdgekitError as exc:
        return [errored(bfd.CHECK, host, cluster.name, str(exc))]


def gate_ecmp_routes(show: Show, cluster: Cluster, host: str) -> list[CheckResult]:
    """``ecmp.routes`` (``checks.ecmp.check_route``, as verify): every service IP over exactly its next hops."""
    results = []
    for service in cluster.services:
        for ip in service.ips:
            try:
                entry = selected_route(route.parse(show(f"show ip route {ip}")))
            except EdgekitError as exc:
                results.append(errored("ecmp.routes", host, cluster.name, str(exc), f"{service.name} {ip}"))
                continue
            results.append(check_route(host, cluster, service, str(ip), entry))
    return results


# The gate: what a change must pass before it is confirmed. Each entry reads what it needs with ``show`` and
# judges it with the check functions verify uses (checks/); a check of your own is one more line here.
GATE_CHECKS: list[GateCheck] = [
    gate_bgp_peers,
    gate_bfd_peers,
    gate_ecmp_routes,
]


def gate_checks(driver: VyOSDriver, cluster: Cluster, host: str) -> list[CheckResult]:
    """One pass of every gate check (``GATE_CHECKS``) on the router."""
    return [result for check in GATE_CHECKS for result in check(driver.show, cluster, host)]


def wait_for_gate(driver: VyOSDriver, cluster: Cluster, host: str, options: DeployOptions) -> list[CheckResult]:
    """Poll the gate until it passes or its time is up; a second Ctrl-C (``options.abort``) ends it now."""
    deadline = time.monotonic() + options.gate_timeout
    while True:
        results = gate_checks(driver, cluster, host)
        aborted = options.abort is not None and options.abort.is_set()
        if all(r.ok for r in results) or time.monotonic() >= deadline or aborted:
            return results
        if options.abort is not None:
            options.abort.wait(options.gate_interval)
        else:
            time.sleep(options.gate_interval)


class ApplyError(EdgekitError):
    """The router refused the change (nothing was committed: the candidate was discarded)."""


class StopFlag:
    """Set by Ctrl-C: no new host starts; hosts already applying finish (or restore). ``abort`` (the
    second Ctrl-C) ends their gates at once so they restore in place."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.abort = threading.Event()

    def set(self) -> None:
        self.event.set()

    def __bool__(self) -> bool:
        return self.event.is_set()
