"""The deploy engine's Nornir tasks seen through Processors: steps as subtasks, Results carrying the report."""

from __future__ import annotations

from typing import Any

import pytest
from nornir.core import Nornir
from nornir.core.filter import F
from nornir.core.inventory import Host
from nornir.core.task import MultiResult, Task

from checks.config_diff import ConfigChange
from checks.verdict import CheckResult
from tasks.core.processors import LiveView, ReportCollector
from tasks.core.report import HostReport
from tasks.router import apply
from tasks.router.apply import DeployOptions, deploy_router
from tasks.router.dialect import DIALECTS
from tasks.router.plan import RouterPlan
from tasks.router.render import RenderedConfig
from tests.unit.core.test_library import nornir
from tests.unit.router.test_deploy_apply import LINE, ScriptedDriver
from tests.unit.router_fixtures import cluster

ROUTER = "k8s-router-1-prd"


class Recorder:
    """A user's own processor: what it is told, in order."""

    def __init__(self) -> None:
        self.events: list[str] = []

    def task_started(self, task: Task) -> None:
        self.events.append(f"start {task.name}")

    def task_completed(self, task: Task, result: Any) -> None:
        self.events.append(f"end {task.name}")

    def task_instance_started(self, task: Task, host: Host) -> None:
        return None

    def task_instance_completed(self, task: Task, host: Host, result: MultiResult) -> None:
        self.events.append(f"{host.name} done changed={result[0].changed} failed={result[0].failed}")

    def subtask_instance_started(self, task: Task, host: Host) -> None:
        self.events.append(f"{host.name} > {task.name}")

    def subtask_instance_completed(self, task: Task, host: Host, result: MultiResult) -> None:
        return None


def planned(gate_ok: bool, monkeypatch: pytest.MonkeyPatch) -> tuple[Nornir, RouterPlan, ScriptedDriver]:
    driver = ScriptedDriver()
    monkeypatch.setattr(apply, "router_driver", lambda task: driver)
    verdict = CheckResult(
        check="bgp.peers", host=ROUTER, cluster="prd", status="pass" if gate_ok else "fail", reason="test"
    )
    monkeypatch.setattr(apply, "gate_checks", lambda *a: [verdict])
    plan = RouterPlan(
        DIALECTS["1.4"],
        driver.running,
        RenderedConfig([LINE]),
        ConfigChange(sets=[LINE]),
        cluster=cluster(wireguard=False),
        report=HostReport(host=ROUTER, cluster="prd", status="planned", commands=[LINE]),
    )
    return nornir().filter(F(name=ROUTER)), plan, driver


def test_deploy_router_result_and_steps_reach_every_processor(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    nr, plan, driver = planned(True, monkeypatch)
    recorder, collector = Recorder(), ReportCollector()
    options = DeployOptions(gate_timeout=0.5, gate_interval=0.05, baseline_settle=0.0)
    with LiveView("test") as live:
        results = nr.with_processors([live, collector, recorder]).run(
            task=deploy_router, name="apply", options=options, plans={ROUTER: plan}
        )
    result = results[ROUTER][0]
    assert result.changed and not result.failed and result.diff == LINE
    assert isinstance(result.result, HostReport) and result.result.status == "changed"
    assert result.result.checks[0].check == "bgp.peers"
    assert collector.reports[ROUTER] is result.result
    steps = [e.split(" > ")[1] for e in recorder.events if " > " in e]
    assert [s for s in steps if s in ("check", "baseline", "commit", "gate", "confirm", "revert")] == [
        "check",
        "baseline",
        "commit",
        "gate",
        "confirm",
    ]
    assert recorder.events[-2:] == [f"{ROUTER} done changed=True failed=False", "end apply"]
    assert driver.calls[-1] == "confirm"
    err = capsys.readouterr().err
    shown = [line.split(f"{ROUTER}: ", 1)[1] for line in err.splitlines() if f"{ROUTER}: " in line]
    # the live view: steps, then the status
    assert shown == ["check", "baseline", "commit", "gate", "confirm", "changed"]


def test_a_failed_gate_is_a_failed_result_with_the_restore_step(monkeypatch: pytest.MonkeyPatch) -> None:
    nr, plan, driver = planned(False, monkeypatch)
    recorder = Recorder()
    options = DeployOptions(gate_timeout=0.2, gate_interval=0.05, baseline_settle=0.0)
    results = nr.with_processors([recorder]).run(task=deploy_router, options=options, plans={ROUTER: plan})
    result = results[ROUTER][0]
    assert result.failed and not result.changed
    assert result.result.status == "reverted" and "gate failed" in (result.result.error or "")
    assert f"{ROUTER} > revert" in recorder.events and "restore(stop_timer=True)" in driver.calls


def test_dry_run_changes_nothing_and_reports_the_change(monkeypatch: pytest.MonkeyPatch) -> None:
    nr, plan, driver = planned(True, monkeypatch)
    results = nr.run(task=deploy_router, options=DeployOptions(dry_run=True), plans={ROUTER: plan})
    result = results[ROUTER][0]
    assert result.changed and result.result.status == "planned" and driver.calls == []
