"""Every way a router deploy ends leaves the router deployable: running == saved afterwards, so the next
deploy is not refused for unsaved commits (issue 22 items 1 and 3).

The fake router below keeps what those end states are made of: the running and the saved config, the
commit-confirm timer (whose, and what it does when it fires), and whether the session can still be read.
It is constructed from the behaviour docs/driver-steps.md cites (1.5/rolling `commit-confirm action reload`
reloads the revision before the commit-confirm in place; 1.3/1.4 reboot into config.boot); the lab runs the
same ends for real (tests/lab/router/test_deploy_ends_lab.py)."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from napalm.base.exceptions import CommitError, ConnectionException

from checks.config_diff import ConfigChange
from checks.verdict import CheckResult
from napalm_edgekit_vyos.connection import ConfirmMaybePending, ConfirmOutcome, ConfirmPending
from napalm_edgekit_vyos.driver import CONFIRM_ACTION_PATH, TimerFired
from tasks.core.report import HostReport
from tasks.router import apply
from tasks.router.apply import ChangeRefused, DeployOptions, apply_router
from tasks.router.dialect import DIALECTS
from tasks.router.plan import RouterPlan
from tasks.router.render import RenderedConfig
from tests.unit.router.test_deploy_apply import StepTask
from tests.unit.router_fixtures import cluster

BASE = ["set system host-name 'r1'", "set protocols bgp system-as '65000'"]
ACTION = f"set {CONFIRM_ACTION_PATH} 'reload'"
CHANGE = "set interfaces ethernet eth1 description 'new'"


class Router:
    """A VyOS router as the end states see it, driven through the driver's API that apply_router uses."""

    def __init__(self, running: list[str] | None = None, saved: list[str] | None = None) -> None:
        self.running = list(running if running is not None else BASE)
        self.saved = list(saved if saved is not None else self.running)
        self.timer: str | None = None  # "ours" or "theirs"
        self.timer_action = "reboot"
        self.at_commit: list[str] = []  # the config the timer's revert brings back
        self.candidate: list[str] | None = None
        self.connected = True
        self.own = False
        # what goes wrong, and where
        self.action_save_fails = False
        self.action_refused = False
        self.commit_error: str | None = None  # "maybe-pending-committed" | "maybe-pending-nothing" | "theirs-13"
        self.fire_in_gate = False
        self.lands_late = False
        self.pending_fires_at: float | None = None
        self.last_confirm: ConfirmOutcome | None = None
        self.calls: list[str] = []

    # -- reads
    def _session(self) -> None:
        if not self.connected:
            raise ConnectionException("r1: not connected (call open() first)")

    def show(self, command: str) -> str:
        self._session()
        assert command == "show configuration commands", command
        return "\n".join(self.running)

    def unsaved_commits(self) -> str:
        self._session()
        return "" if sorted(self.running) == sorted(self.saved) else "[edit]\n+ something"

    def unsaved_is_own_commit(self) -> bool:
        return self.own

    def has_pending_commit(self) -> bool:
        return self.timer == "ours"

    # -- writes
    def save(self) -> None:
        self._session()
        self.calls.append("save")
        self.saved = list(self.running)

    def set_confirm_action_reload(self) -> None:
        self.calls.append("set_action")
        if self.action_refused:
            raise CommitError(f"'set {CONFIRM_ACTION_PATH} reload' failed: Configuration path is not valid")
        self.running.append(ACTION)
        if self.action_save_fails:
            raise CommitError("'save' failed: Permission denied")
        self.saved = list(self.running)

    def load_merge_candidate(self, config: list[str]) -> None:
        self.calls.append("load")
        self.candidate = list(config)

    def remember_running(self, lines: list[str]) -> None:
        pass

    def commit_config(self, message: str = "", revert_in: int | None = None) -> None:
        self.calls.append("commit_confirm")
        assert self.candidate is not None
        if self.commit_error == "theirs-13":  # 1.3: committed anyway, under someone else's timer
            self.running += self.candidate
            self.candidate = None
            pending = ConfirmPending("commit-confirm 5", "Another confirm is pending", committed=True)
            raise CommitError(str(pending)) from pending
        self.timer, self.at_commit = "ours", list(self.running)
        self.timer_action = "reload" if ACTION in self.running else "reboot"
        self.pending_fires_at = time.time() + 300
        if self.commit_error is not None:
            if self.commit_error == "maybe-pending-committed":
                self.running += self.candidate
            self.candidate = None
            self.connected = False  # the driver dropped the session whose reads are in doubt
            maybe = ConfirmMaybePending("commit-confirm 5", "ReadTimeout: r1: no prompt after 120 s")
            raise CommitError(str(maybe)) from maybe
        self.running += self.candidate
        self.candidate = None
        self.last_confirm = ConfirmOutcome("", 5, self.timer_action)  # type: ignore[arg-type]

    def fire(self) -> None:
        """The timer runs out: 1.5 with action reload loads the revision before the commit-confirm in place;
        otherwise the router reboots into config.boot."""
        self.running = list(self.at_commit) if self.timer_action == "reload" else list(self.saved)
        self.timer = None

    def confirm_commit(self) -> None:
        self._session()
        self.calls.append("confirm")
        if self.timer is None:
            raise TimerFired("r1: 'confirm' answered 'No confirm pending'")
        self.timer = None
        self.pending_fires_at = None
        self.saved = list(self.running)

    def restore(self, previous: list[str], stop_timer: bool = True) -> None:
        self._session()
        self.calls.append(f"restore(stop_timer={stop_timer})")
        self.running = list(previous)
        if stop_timer and self.timer == "ours":
            self.timer = None
            self.pending_fires_at = None
        if self.lands_late:  # the dropped session's commit ends now, after the restore stopped the timer
            self.lands_late = False
            self.running.append(CHANGE)
            raise CommitError("r1: after the restore the running config still differs from the previous one")

    def close(self) -> None:
        self.connected = False

    def has_session(self) -> bool:
        return self.connected

    def open(self) -> None:
        self.calls.append("open")
        self.connected = True

    # -- what the test asserts
    def deployable(self) -> bool:
        """What the next deploy's safety check asks: no unsaved commits and no timer of ours."""
        return sorted(self.running) == sorted(self.saved) and self.timer != "ours"


def deploy(
    monkeypatch: pytest.MonkeyPatch,
    router: Router,
    gate_ok: bool = False,
    set_action: bool = False,
    version: str = "1.5",
    during_gate: Any = None,
    **options: Any,
) -> tuple[HostReport, Any]:
    monkeypatch.setattr(apply, "router_driver", lambda task: router)
    result = CheckResult(check="bgp.peers", host="r1", cluster="prd", status="pass" if gate_ok else "fail", reason="t")

    def gate(*args: Any, **kwargs: Any) -> list[CheckResult]:
        if router.fire_in_gate:
            router.fire()
        if during_gate is not None:
            during_gate()
        return [result]

    monkeypatch.setattr(apply, "gate", gate)
    monkeypatch.setattr(apply, "gate_checks", lambda *a, **k: [result])
    plan = RouterPlan(DIALECTS[version], list(router.running), RenderedConfig([CHANGE]), ConfigChange(sets=[CHANGE]))
    plan.set_action = set_action
    plan.rollback = "reload" if set_action or ACTION in router.running else "reboot"
    report = HostReport(host="r1", cluster="prd")
    plan.report = report
    opts = DeployOptions(**{"gate_timeout": 0.2, "gate_interval": 0.05, "baseline_settle": 0.0, **options})
    try:
        outcome = apply_router(StepTask(), cluster(wireguard=False), plan, opts)  # type: ignore[arg-type]
    except ChangeRefused as exc:
        return report, exc
    return report, outcome


# -- the known bug: a restore after edgekit set `action reload` removed it again -----------------------------


def test_a_gate_failure_after_setting_the_action_keeps_it_and_leaves_running_saved(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    router = Router()
    report, _ = deploy(monkeypatch, router, set_action=True)
    assert report.status == "reverted", report
    assert ACTION in router.running, "the restore removed the action edgekit had committed and saved"
    assert router.deployable(), (router.running, router.saved)
    assert CHANGE not in router.running


def test_a_second_ctrl_c_after_setting_the_action_leaves_running_saved(monkeypatch: pytest.MonkeyPatch) -> None:
    router = Router()
    abort = threading.Event()
    report, _ = deploy(monkeypatch, router, set_action=True, abort=abort, during_gate=abort.set)
    assert report.status == "reverted" and "second Ctrl-C" in (report.error or "")
    assert ACTION in router.running and router.deployable()


def test_the_timer_firing_during_the_gate_leaves_running_saved(monkeypatch: pytest.MonkeyPatch) -> None:
    # 1.5 reloads the config from before the change in place (it has the action); the gate then passes and
    # `confirm` answers "No confirm pending": a failure, and the router is as it was.
    router = Router()
    router.fire_in_gate = True
    report, _ = deploy(monkeypatch, router, gate_ok=True, set_action=True)
    assert report.status == "failed" and "No confirm pending" in (report.error or "")
    assert ACTION in router.running and router.deployable()


def test_the_timer_firing_and_then_a_failed_gate_restores_nothing_and_leaves_running_saved(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    router = Router()
    router.fire_in_gate = True
    report, _ = deploy(monkeypatch, router, set_action=True)
    assert report.status == "reverted" and router.deployable() and ACTION in router.running


@pytest.mark.parametrize("version", ["1.3", "1.4"])
def test_a_gate_failure_on_a_router_that_reboots_leaves_running_saved(
    monkeypatch: pytest.MonkeyPatch, version: str
) -> None:
    router = Router()
    report, _ = deploy(monkeypatch, router, version=version)
    assert report.status == "reverted" and router.deployable()
    assert "set_action" not in router.calls


# -- the action itself ------------------------------------------------------------------------------------


def test_the_action_committed_but_not_saved_refuses_before_the_change(monkeypatch: pytest.MonkeyPatch) -> None:
    router = Router()
    router.action_save_fails = True
    report, outcome = deploy(monkeypatch, router, set_action=True)
    assert isinstance(outcome, ChangeRefused), outcome
    assert "committed but not saved" in str(outcome) and "\n" not in str(outcome)
    assert "load" not in router.calls and CHANGE not in router.running
    # the next deploy finds edgekit's own unsaved commit (its commit log says so) and saves it
    router.own = True
    report, _ = deploy(monkeypatch, router, gate_ok=True)
    assert report.status == "changed" and router.deployable() and ACTION in router.running


def test_a_refused_action_falls_back_to_a_reboot_and_a_failure_still_leaves_running_saved(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    router = Router()
    router.action_refused = True
    report, _ = deploy(monkeypatch, router, set_action=True)
    assert report.rollback == "reboot" and any("could not set" in n for n in report.notes)
    assert report.status == "reverted" and router.deployable() and ACTION not in router.running


def test_a_successful_deploy_that_set_the_action_saves_it(monkeypatch: pytest.MonkeyPatch) -> None:
    router = Router()
    report, _ = deploy(monkeypatch, router, gate_ok=True, set_action=True)
    assert report.status == "changed" and router.deployable()
    assert ACTION in router.saved and CHANGE in router.saved


# -- an error after commit-confirm's question was answered (item 3) ------------------------------------------


@pytest.mark.parametrize("committed", [True, False], ids=["change-committed", "nothing-committed"])
@pytest.mark.parametrize("version", ["1.3", "1.4", "1.5"])
def test_an_error_after_the_answer_restores_on_a_fresh_session_and_says_so(
    monkeypatch: pytest.MonkeyPatch, committed: bool, version: str
) -> None:
    router = Router()
    router.commit_error = "maybe-pending-committed" if committed else "maybe-pending-nothing"
    report, _ = deploy(monkeypatch, router, version=version, set_action=version == "1.5")
    assert "open" in router.calls, "the restore did not get a fresh session"
    assert "restore(stop_timer=True)" in router.calls
    assert report.status == "reverted", report
    assert "timer may be running" in (report.error or "")
    assert any("restored in place" in n for n in report.notes)
    assert report.timer_fires_at is None
    assert router.deployable() and CHANGE not in router.running


# -- saves edgekit makes before the change, then a failure ------------------------------------------------


def test_own_unsaved_commit_saved_then_a_gate_failure_leaves_running_saved(monkeypatch: pytest.MonkeyPatch) -> None:
    router = Router(running=[*BASE, "set interfaces ethernet eth1 description 'cut-before-save'"], saved=BASE)
    router.own = True
    report, _ = deploy(monkeypatch, router, set_action=True)
    assert report.status == "reverted" and router.deployable()
    assert "set interfaces ethernet eth1 description 'cut-before-save'" in router.saved


def test_save_first_then_a_gate_failure_leaves_running_saved(monkeypatch: pytest.MonkeyPatch) -> None:
    router = Router(running=[*BASE, "set interfaces ethernet eth0 description 'someone'"], saved=BASE)
    report, _ = deploy(monkeypatch, router, set_action=True, save_first=True)
    assert report.status == "reverted" and router.deployable()


def test_13_commit_under_someone_elses_timer_is_taken_out_and_leaves_running_saved(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    router = Router()
    router.timer = "theirs"
    router.commit_error = "theirs-13"
    report, _ = deploy(monkeypatch, router, version="1.3", save_first=True)
    assert report.status == "reverted" and "Another confirm is pending" in (report.error or "")
    assert router.timer == "theirs"  # their timer left alone
    assert sorted(router.running) == sorted(router.saved)


def test_a_commit_that_lands_after_the_restore_is_taken_out_by_the_second_attempt(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # the lab shows it: the dropped session's commit finishes while the fresh session restores
    router = Router()
    router.commit_error = "maybe-pending-nothing"
    router.lands_late = True
    report, _ = deploy(monkeypatch, router, version="1.4")
    assert router.calls.count("open") == 2 and router.calls.count("restore(stop_timer=True)") == 2
    assert report.status == "reverted", report
    assert router.deployable() and CHANGE not in router.running
