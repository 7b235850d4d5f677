"""The router deploy's gate against its state before the change (issue 22 #2): a speaker down before the commit
and after it passes with a warning; one the change broke fails fast and is restored. Fake device, real checks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from checks.config_diff import ConfigChange
from checks.verdict import CheckResult
from tasks.core.report import HostReport
from tasks.core.rollout import ALREADY_DOWN, WORKED_BEFORE
from tasks.router import apply
from tasks.router.apply import DeployOptions, apply_router
from tasks.router.dialect import DIALECTS
from tasks.router.plan import RouterPlan
from tasks.router.render import RenderedConfig
from tests.unit.core.test_rollout_baseline import NODE3, Clock, peers, summary
from tests.unit.router.test_checks_verify import SUMMARY_3
from tests.unit.router.test_deploy_apply import LINE, ScriptedDriver, StepTask
from tests.unit.router_fixtures import cluster

NODE3_DOWN = summary(active=("203.0.113.13",))


def deploy(
    monkeypatch: pytest.MonkeyPatch, before: str, after: Callable[[float], str], timeout: float = 60
) -> tuple[HostReport, ScriptedDriver, Clock, list[str]]:
    """apply_router whose gate reads ``before`` until the commit and ``after(seconds since)`` then (fake clock)."""
    clock = Clock()
    driver = ScriptedDriver()
    reads: list[str] = []

    def gate_checks(*args: Any) -> list[CheckResult]:
        committed = "commit_confirm" in driver.calls
        reads.append("after" if committed else "before")
        return [peers(after(clock.now) if committed else before)]

    monkeypatch.setattr(apply, "router_driver", lambda task: driver)
    monkeypatch.setattr(apply, "gate_checks", gate_checks)
    real_wait = apply.wait_for_gate

    def wait(*args: Any, **kwargs: Any) -> Any:
        return real_wait(*args, clock=clock, sleep=clock.sleep, **kwargs)

    monkeypatch.setattr(apply, "wait_for_gate", wait)
    plan = RouterPlan(DIALECTS["1.4"], driver.running, RenderedConfig([LINE]), ConfigChange(sets=[LINE]))
    report = HostReport(host="r1", cluster="prd")
    plan.report = report
    apply_router(StepTask(), cluster(wireguard=False), plan, DeployOptions(gate_timeout=timeout, baseline_settle=0.0))  # type: ignore[arg-type]
    return report, driver, clock, reads


def test_a_speaker_down_before_the_change_passes_with_a_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    report, driver, clock, reads = deploy(monkeypatch, NODE3_DOWN, lambda t: NODE3_DOWN)
    assert report.status == "changed" and driver.calls[-1] == "confirm"
    assert reads[0] == "before" and clock.now == 0  # read once before the commit; passed at the first poll
    warnings = [n for n in report.notes if n.startswith("warning: ")]
    assert len(warnings) == 1 and NODE3 in warnings[0] and ALREADY_DOWN in warnings[0]
    assert report.checks[0].ok and report.checks[0].details["before_change"]["down"] == [NODE3]


def test_a_speaker_the_change_broke_fails_fast_and_is_restored(monkeypatch: pytest.MonkeyPatch) -> None:
    report, driver, clock, _ = deploy(monkeypatch, SUMMARY_3, lambda t: NODE3_DOWN, timeout=60)
    assert report.status == "reverted" and "confirm" not in driver.calls
    assert clock.now == apply.GATE_GRACE < 60  # not the whole timeout
    assert report.error is not None and report.error.startswith("gate failed: bgp.peers: ")
    assert f"{WORKED_BEFORE}: {NODE3}" in report.error


def test_a_session_reset_by_the_change_may_come_back_within_the_grace(monkeypatch: pytest.MonkeyPatch) -> None:
    report, _, clock, _ = deploy(monkeypatch, SUMMARY_3, lambda t: NODE3_DOWN if t < 5 else SUMMARY_3)
    assert report.status == "changed" and clock.now == 5.0
    assert not [n for n in report.notes if n.startswith("warning: ")]


def test_a_speaker_that_was_no_neighbor_before_must_come_up_within_the_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    report, _, clock, _ = deploy(monkeypatch, summary(absent=("203.0.113.13",)), lambda t: NODE3_DOWN, timeout=8)
    assert report.status == "reverted" and clock.now >= 8  # new: neither excused nor failed early
