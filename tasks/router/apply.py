"""Router deploy: plan every router in parallel, then apply with commit-confirm and a gate, cluster by cluster.

Per router: read ``show configuration commands``, render the intent, compute the change of the managed
subtrees. No change: ``unchanged`` without entering config mode. Otherwise ``commit-confirm`` the
change, wait (bounded) for the gate — every live speaker Established and every LoadBalancer IP routed
over exactly the expected next hops — then ``confirm`` and ``save``. A failed gate or an error puts
back the exact previous config by the inverse change and stops the timer; if edgekit itself dies, the
router's own commit-confirm timer reverts it: by a **reboot into its saved config** (VyOS 1.3 and 1.4) or in
place (1.5/rolling, which has ``system config-management commit-confirm action``, T5976: edgekit sets it to
``reload`` unless the site file says ``revert_in_place: false``).

Before the commit-confirm a router with committed but unsaved changes is refused (a reboot would lose
them and edgekit's save would keep someone's half-done work; ``save_first`` saves them first), and a
pending commit-confirm of someone else (``Another confirm is pending``) is refused with nothing changed.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass

from nornir.core.exceptions import NornirSubTaskError
from nornir.core.task import Result, Task
from rich.markup import escape

from checks.config_diff import mask_line
from checks.verdict import CheckResult
from inventory.errors import EdgekitError
from inventory.model import Cluster
from inventory.secrets import is_wireguard_key
from napalm_edgekit_vyos.connection import ConfirmPending
from napalm_edgekit_vyos.driver import CONFIRM_ACTION_PATH, TimerFired, VyOSDriver
from tasks.core.defaults import DEFAULT_CONFIRM_TIMEOUT, DEFAULT_GATE_TIMEOUT
from tasks.core.report import HostReport, err_console, one_line
from tasks.core.rollout import Baseline, StopFlag, already_down, wait_for_gate
from tasks.core.steps import run_step
from tasks.router.gate import GATE_GRACE, gate_baseline, gate_checks
from tasks.router.plan import (
    OWN_UNSAVED_NOTE,
    RouterPlan,
    finish_own_save,
    plan_for_deploy,
    record_failure,
    router_driver,
)


@dataclass
class DeployOptions:
    dry_run: bool = False
    confirm_timeout: int = DEFAULT_CONFIRM_TIMEOUT
    gate_timeout: float = DEFAULT_GATE_TIMEOUT
    gate_interval: float = 0.25  # FRR installs routes within a second of Established: poll often
    comment: str = "edgekit deploy"
    save_first: bool = False  # save a router's unsaved commits instead of refusing it
    abort: threading.Event | None = None  # set by a second Ctrl-C: end gates now, restore in place
    baseline_settle: float = GATE_GRACE  # how long the gate's state before the change may take to be steady


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
        if not options.dry_run and not stop:
            finish_own_save(task, report)
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
    config. Steps: ``check``, ``baseline`` (the gate's state before the change), ``commit``, ``gate``, ``confirm`` or
    ``revert``.

    Result: ``result`` the plan's ``HostReport`` (status changed/unchanged/reverted/failed/skipped);
    ``failed`` when the change was not kept. Raises ``ChangeRefused`` when the router refused the change before
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
    # The gate's state before the change, once steady (a retry right after a revert finds sessions coming back);
    # after the safety checks, so a refused router is not polled first.
    started = time.monotonic()
    baseline = run_step(
        task,
        "baseline",
        gate_baseline,
        lambda: gate_checks(driver, cluster, name),
        options.baseline_settle,
        options.gate_interval,
        options.abort,
    )
    report.timed("baseline", started)
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
            raise ChangeRefused(f"refused: {message}") from None
        raise ChangeRefused(message) from None
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
        report.checks = run_step(task, "gate", gate, driver, cluster, name, options, baseline, report)
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
    except ChangeRefused:
        raise
    except Exception as exc:
        raise ChangeRefused(mask_line(one_line(exc), secrets)) from None


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
    if driver.unsaved_is_own_commit():  # an earlier deploy was cut between its confirm and its save
        driver.save()
        report.notes.append(OWN_UNSAVED_NOTE)
        return
    if options.save_first:
        driver.save()
        report.notes.append("saved the router's unsaved commits first (--save-first)")
        return
    cost = "a reboot would lose them" if plan.rollback == "reboot" else "edgekit's save would keep them"
    raise ChangeRefused(
        "refused: the router has committed changes that are not saved (someone may be mid-change, or a "
        f"commit-confirm waits for its confirm); {cost}: save or revert them on the router, or deploy --save-first"
    )


def _set_confirm_action(driver: VyOSDriver, plan: RouterPlan, report: HostReport) -> None:
    """Commit and save ``action reload``, then re-read the running config as the restore baseline.

    The plan read the running config before this commit: a restore to that read would delete the action
    again, which is saved, and leave running != saved, so the next deploy would refuse the router (issue 22).
    What a restore puts back is the running config right before the change's commit-confirm: this one."""
    try:
        driver.set_confirm_action_reload()
        failure: Exception | None = None
    except Exception as exc:
        failure = exc
    plan.running = driver.show("show configuration commands").splitlines()
    has_action = f"set {CONFIRM_ACTION_PATH} 'reload'" in (line.strip() for line in plan.running)
    if failure is None and has_action:
        report.notes.append(f"set {CONFIRM_ACTION_PATH} reload (committed and saved)")
        return
    why = one_line(failure) if failure is not None else "the running config does not show it"
    if has_action:  # committed, its save failed: edgekit's own unsaved commit, never a reason to go on
        if driver.unsaved_commits():
            raise ChangeRefused(
                f"refused: {CONFIRM_ACTION_PATH} reload was committed but not saved ({why}); nothing of the "
                "change was committed, the next deploy saves this commit of edgekit's own"
            )
        plan.rollback = report.rollback = "reload"
        report.notes.append(f"set {CONFIRM_ACTION_PATH} reload (committed and saved; the router said: {why})")
        return
    plan.rollback = report.rollback = "reboot"
    report.notes.append(f"could not set {CONFIRM_ACTION_PATH} reload ({why}): an unconfirmed change reboots")


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
    router's own commit-confirm timer. A session the driver dropped (its reads in doubt after commit-confirm's
    answer) is replaced first: both attempts then run on fresh sessions, so a commit that lands late (the
    dropped session's, which the router may finish after the drop) is taken out by the second."""
    for attempt in (1, 2):
        try:
            if attempt == 2 or not driver.has_session():
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


class ChangeRefused(EdgekitError):
    """The router refused the change (nothing was committed: the candidate was discarded)."""


def gate(
    driver: VyOSDriver,
    cluster: Cluster,
    host: str,
    options: DeployOptions,
    baseline: tuple[Baseline, str] | None = None,
    report: HostReport | None = None,
) -> list[CheckResult]:
    """Poll the router's gate (``tasks.router.gate.gate_checks``) until it passes or its time is up; a second
    Ctrl-C (``options.abort``) ends it now. ``baseline`` (``gate_baseline``, read before the commit): a speaker
    already down before the change passes, named in ``report``'s notes as a warning; one that worked and stays
    broken for ``GATE_GRACE`` seconds fails the gate then."""
    judge, unread = baseline if baseline is not None else (None, "")
    results, _ = wait_for_gate(
        lambda: gate_checks(driver, cluster, host),
        options.gate_timeout,
        options.gate_interval,
        options.abort,
        baseline=judge,
        grace=GATE_GRACE,
    )
    if report is not None:
        if unread:
            report.notes.append(f"warning: the gate's state before the change could not be read ({unread})")
        for line in already_down(results):
            report.notes.append(f"warning: {line}")
            err_console.print(f"[yellow]warning:[/] {escape(host)}: {escape(line)}", soft_wrap=True)
    return results
