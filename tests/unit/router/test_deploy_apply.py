"""apply_router with a fake device: a refused change reports the router's error with secrets masked."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from napalm.base.exceptions import CommitError, MergeConfigException

from checks.config_diff import ConfigChange
from checks.verdict import CheckResult
from napalm_edgekit_vyos.connection import ConfirmOutcome, ConfirmPending
from napalm_edgekit_vyos.driver import TimerFired
from tasks.core.report import HostReport
from tasks.router import apply
from tasks.router.apply import ChangeRefused, DeployOptions, apply_router, pending_text
from tasks.router.dialect import DIALECTS
from tasks.router.plan import RouterPlan, plan_rollback
from tasks.router.render import RenderedConfig
from tests.unit.router_fixtures import cluster


class StepTask:
    """A Nornir task of one host that runs its subtasks (the engine's named steps) in place, and records them."""

    def __init__(self) -> None:
        self.host = SimpleNamespace(name="r1")
        self.steps: list[str] = []

    def run(self, task: Any, name: str | None = None, severity_level: int = 20, **kwargs: Any) -> list[Any]:
        self.steps.append(name or task.__name__)
        result = task(self, **kwargs)
        if result.failed:
            raise AssertionError("a step never returns a failed Result")
        return [result]


class RefusingDriver:
    """Answers a merge the way VyOS answers a bad line: quoting it, secret value and all."""

    def unsaved_commits(self) -> str:
        return ""

    def has_pending_commit(self) -> bool:
        return False

    def load_merge_candidate(self, config: list[str]) -> None:
        raise MergeConfigException(f"{config[0]!r} failed: Configuration path is not valid; Set failed")

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"nothing after a refused merge may touch the router ({name})")


def test_refused_change_is_reported_with_the_secret_masked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(apply, "router_driver", lambda task: RefusingDriver())
    line = "set protocols bgp neighbor 203.0.113.11 password 'hunter2'"
    plan = RouterPlan(
        dialect=DIALECTS["1.4"],
        running=[],
        rendered=RenderedConfig([line], ["hunter2"]),
        change=ConfigChange(sets=[line]),
    )
    plan.report = HostReport(host="r1", cluster="prd")
    with pytest.raises(ChangeRefused) as caught:
        apply_router(StepTask(), cluster(wireguard=False), plan, DeployOptions())  # type: ignore[arg-type]
    assert "hunter2" not in str(caught.value)
    assert "********" in str(caught.value) and "Set failed" in str(caught.value)


# -- the safety steps around commit-confirm, with a scripted driver -------------------------------------

LINE = "set interfaces ethernet eth1 description 'x'"


class ScriptedDriver:
    """Records what apply_router asks; answers as the test says."""

    def __init__(self, unsaved: str = "", commit_error: Exception | None = None, nothing: bool = False) -> None:
        self.calls: list[str] = []
        self.unsaved = unsaved
        self.commit_error = commit_error
        self.nothing = nothing
        self.pending = False
        self.pending_fires_at: float | None = None
        self.last_confirm: ConfirmOutcome | None = None
        self.confirm_error: Exception | None = None
        self.running = ["set system host-name 'r1'"]
        self.own = False

    def unsaved_commits(self) -> str:
        self.calls.append("unsaved_commits")
        return self.unsaved

    def unsaved_is_own_commit(self) -> bool:  # the router's commit log: the unsaved change is edgekit's own
        return self.own

    def save(self) -> None:
        self.calls.append("save")
        self.unsaved = ""

    def load_merge_candidate(self, config: list[str]) -> None:
        self.calls.append("load")

    def remember_running(self, lines: list[str]) -> None:
        pass

    def commit_config(self, message: str = "", revert_in: int | None = None) -> None:
        self.calls.append("commit_confirm")
        if self.commit_error is not None:
            raise self.commit_error
        self.last_confirm = ConfirmOutcome("", 5, None if self.nothing else "reboot", nothing_to_commit=self.nothing)
        if not self.nothing:
            self.pending = True
            self.pending_fires_at = time.time() + 300

    def has_pending_commit(self) -> bool:
        return self.pending

    def has_session(self) -> bool:
        return True

    def confirm_commit(self) -> None:
        self.calls.append("confirm")
        if self.confirm_error is not None:
            raise self.confirm_error
        self.pending = False

    def restore(self, previous: list[str], stop_timer: bool = True) -> None:
        self.calls.append(f"restore(stop_timer={stop_timer})")
        if stop_timer:
            self.pending = False

    def show(self, command: str) -> str:
        assert command == "show configuration commands", command
        return "\n".join(self.running)


def run_apply(
    monkeypatch: pytest.MonkeyPatch, driver: ScriptedDriver, gate_ok: bool = True, **options: Any
) -> tuple[HostReport, Any]:
    monkeypatch.setattr(apply, "router_driver", lambda task: driver)
    verdict = "pass" if gate_ok else "fail"
    result = CheckResult(check="bgp.peers", host="r1", cluster="prd", status=verdict, reason="test")
    monkeypatch.setattr(apply, "gate_checks", lambda *a: [result])
    plan = RouterPlan(DIALECTS["1.4"], driver.running, RenderedConfig([LINE]), ConfigChange(sets=[LINE]))
    report = HostReport(host="r1", cluster="prd")
    plan.report = report
    task = StepTask()
    opts = DeployOptions(**{"gate_timeout": 0.5, "gate_interval": 0.05, "baseline_settle": 0.0, **options})
    try:
        result = apply_router(task, cluster(wireguard=False), plan, opts)  # type: ignore[arg-type]
    except ChangeRefused as exc:
        return report, exc
    return report, result


def test_unsaved_commits_refuse_the_router_before_anything_is_loaded(monkeypatch: pytest.MonkeyPatch) -> None:
    driver = ScriptedDriver(unsaved="[edit interfaces]\n+ description 'someone'")
    _, outcome = run_apply(monkeypatch, driver)
    assert isinstance(outcome, ChangeRefused)
    assert "not saved" in str(outcome) and "--save-first" in str(outcome) and "reboot" in str(outcome)
    assert "\n" not in str(outcome)  # one line
    assert driver.calls == ["unsaved_commits"]


def test_save_first_saves_them_and_goes_on(monkeypatch: pytest.MonkeyPatch) -> None:
    driver = ScriptedDriver(unsaved="[edit interfaces]\n+ description 'someone'")
    report, _ = run_apply(monkeypatch, driver, save_first=True)
    assert driver.calls == ["unsaved_commits", "save", "load", "commit_confirm", "confirm"]
    assert report.status == "changed" and any("--save-first" in n for n in report.notes)


def test_edgekits_own_unsaved_commit_is_saved_without_save_first(monkeypatch: pytest.MonkeyPatch) -> None:
    # a deploy cut between its confirm and its save left its own commit unsaved (issue 21 item 4)
    driver = ScriptedDriver(unsaved="[edit interfaces]\n+ description 'edgekit'")
    driver.own = True
    report, _ = run_apply(monkeypatch, driver)
    assert driver.calls == ["unsaved_commits", "save", "load", "commit_confirm", "confirm"]
    assert report.status == "changed" and any("interrupted deploy" in n for n in report.notes)


def test_nothing_to_commit_is_never_reported_changed(monkeypatch: pytest.MonkeyPatch) -> None:
    driver = ScriptedDriver(nothing=True)
    report, _ = run_apply(monkeypatch, driver)
    assert report.status == "unchanged"
    assert "confirm" not in driver.calls and report.timer_fires_at is None
    assert any("No configuration changes to commit" in n for n in report.notes)


def test_another_pending_confirm_on_14_changes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    pending = ConfirmPending("commit-confirm 5", "Another confirm is pending", committed=False)
    error = CommitError(str(pending))
    error.__cause__ = pending
    driver = ScriptedDriver(commit_error=error)
    _, outcome = run_apply(monkeypatch, driver)
    assert isinstance(outcome, ChangeRefused) and "Another confirm is pending" in str(outcome)
    assert not any(c.startswith("restore") for c in driver.calls)


def test_another_pending_confirm_on_13_takes_the_change_out_and_leaves_their_timer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pending = ConfirmPending("commit-confirm 5", "Another confirm is pending", committed=True)
    error = CommitError(str(pending))
    error.__cause__ = pending
    driver = ScriptedDriver(commit_error=error)
    report, _ = run_apply(monkeypatch, driver)
    assert "restore(stop_timer=False)" in driver.calls  # never `confirm` someone else's timer
    assert report.status == "reverted" and "Another confirm is pending" in (report.error or "")


def test_a_timer_that_already_fired_is_a_failure_not_a_change(monkeypatch: pytest.MonkeyPatch) -> None:
    driver = ScriptedDriver()
    driver.confirm_error = TimerFired("r1: 'confirm' answered 'No confirm pending'")
    report, _ = run_apply(monkeypatch, driver)
    assert report.status == "failed" and "No confirm pending" in (report.error or "")
    assert "rebooted" in (report.error or "")


def test_a_second_ctrl_c_ends_the_gate_and_restores_in_place(monkeypatch: pytest.MonkeyPatch) -> None:
    driver = ScriptedDriver()
    abort = threading.Event()
    threading.Timer(0.1, abort.set).start()
    started = time.monotonic()
    report, _ = run_apply(monkeypatch, driver, gate_ok=False, abort=abort, gate_timeout=30)
    assert time.monotonic() - started < 5  # not the 30 s gate
    assert report.status == "reverted" and "second Ctrl-C" in (report.error or "")
    assert "restore(stop_timer=True)" in driver.calls and report.timer_fires_at is None


def test_pending_text_names_the_time_and_the_reboot() -> None:
    report = HostReport(host="r1", cluster="prd", rollback="reboot", timer_fires_at=1_000_000.0)
    text = pending_text(report, now=1_000_000.0 - 125)
    assert "in 2 min 5 s" in text and "REBOOTS" in text
    report.rollback = "reload"
    assert "in place" in pending_text(report, now=1_000_000.0)


ACTION_SET = "set system config-management commit-confirm action 'reload'"


class ProbeDriver:
    """Answers the plan-phase probe for `system config-management commit-confirm action`."""

    def __init__(self, knows_node: bool) -> None:
        self.knows_node = knows_node
        self.probed = False

    def supports_confirm_action(self) -> bool:
        self.probed = True
        return self.knows_node


@pytest.mark.parametrize(
    ("version", "knows", "revert_in_place", "running", "expected", "why"),
    [
        # 1.5/rolling has the node (T5976); 1.4's release tags lack it, edgekit still probes (a backport would do)
        ("1.5", True, True, [], ("reload", True), "edgekit sets"),
        ("1.4", False, True, [], ("reboot", False), "lacks system config-management commit-confirm action"),
        ("1.5", True, False, [], ("reboot", False), "revert_in_place is off"),
        ("1.5", True, True, [ACTION_SET], ("reload", False), "is set"),
        ("1.3", False, True, [], ("reboot", False), "VyOS 1.3 cannot revert in place"),
    ],
)
def test_plan_says_reload_or_reboot_per_router(
    version: str, knows: bool, revert_in_place: bool, running: list[str], expected: tuple[str, bool], why: str
) -> None:
    base = cluster(wireguard=False)
    assert base.router is not None
    c = base.model_copy(update={"router": base.router.model_copy(update={"revert_in_place": revert_in_place})})
    driver = ProbeDriver(knows)
    rollback, set_action, text = plan_rollback(driver, c, DIALECTS[version], running)  # type: ignore[arg-type]
    assert (rollback, set_action) == expected and why in text
    assert driver.probed == (version != "1.3" and revert_in_place and not running)  # probe only when it matters


def test_the_site_file_turns_revert_in_place_off(tmp_path: Path) -> None:
    from inventory.build import InventorySources, load
    from inventory.errors import InputError
    from tests.conftest import FIXTURES

    state = str(FIXTURES / "samples" / "prd.tfstate")
    default = load(InventorySources(states=[state])).site.clusters["prd"].router
    assert default is not None and default.revert_in_place is True
    site = tmp_path / "site.yaml"
    site.write_text("clusters:\n  prd:\n    router:\n      revert_in_place: false\n")
    router = load(InventorySources(states=[state], site=str(site))).site.clusters["prd"].router
    assert router is not None and router.revert_in_place is False
    site.write_text("clusters:\n  prd:\n    router:\n      revert_in_place: sometimes\n")
    with pytest.raises(InputError, match="revert_in_place"):
        load(InventorySources(states=[state], site=str(site)))
