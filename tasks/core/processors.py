"""Nornir Processors the CLI shows and reports a run through: they only read the tasks' Results.

- ``LiveView``: the live table on a terminal, one line per step otherwise (``tasks.core.progress.Progress``). A
  step (``tasks.core.steps.run_step``) is shown when it starts; a step's or a host's Result that carries
  ``progress`` shows that text when it ends; else a host's task shows its report's status when it ends.
- ``LiveChecks``: verify's live view (``tasks.router.verify.LiveResults``), each host's checks as its task ends.
- ``ReportCollector``: each host's ``HostReport`` as its task ends (the ``result`` of the host's Result, or its
  ``report`` attribute: a ``RouterPlan``, an LB plan), the run report's rows.

A script of yours can attach them too (``nr.with_processors([LiveView("my run"), collector])``), or its own.
"""

from __future__ import annotations

import threading
from types import TracebackType
from typing import Any

from nornir.core.inventory import Host
from nornir.core.task import AggregatedResult, MultiResult, Result, Task

from tasks.core.progress import Progress
from tasks.core.report import HostReport
from tasks.core.results import LiveResults
from tasks.core.steps import is_step


def report_of(value: Any) -> HostReport | None:
    """The HostReport a task's ``result`` is or carries (``.report``), if any."""
    if isinstance(value, HostReport):
        return value
    report = getattr(value, "report", None)
    return report if isinstance(report, HostReport) else None


def _text(result: Result) -> str | None:
    """What a finished task says in the live view: its ``progress``, else its report's status."""
    text = getattr(result, "progress", None)
    if text is not None:
        return str(text) or None  # "" says nothing
    report = report_of(result.result)
    return report.status if report is not None else None


class _Quiet:
    """Every Processor hook, doing nothing (Nornir calls them all)."""

    def task_started(self, task: Task) -> None:
        return None

    def task_completed(self, task: Task, result: AggregatedResult) -> None:
        return None

    def task_instance_started(self, task: Task, host: Host) -> None:
        return None

    def task_instance_completed(self, task: Task, host: Host, result: MultiResult) -> None:
        return None

    def subtask_instance_started(self, task: Task, host: Host) -> None:
        return None

    def subtask_instance_completed(self, task: Task, host: Host, result: MultiResult) -> None:
        return None


class LiveView(_Quiet):
    """Progress while hosts work, from their steps and Results (a context manager around the live table)."""

    def __init__(self, title: str) -> None:
        self.progress = Progress(title)

    def __enter__(self) -> LiveView:
        self.progress.__enter__()
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None) -> None:
        self.progress.__exit__(kind, value, tb)

    def subtask_instance_started(self, task: Task, host: Host) -> None:
        if is_step(task):
            self.progress.step(host.name, str(task.name))

    def subtask_instance_completed(self, task: Task, host: Host, result: MultiResult) -> None:
        text = getattr(result[0], "progress", None) if is_step(task) and result else None
        if text:
            self.progress.step(host.name, str(text))

    def task_instance_completed(self, task: Task, host: Host, result: MultiResult) -> None:
        text = _text(result[0]) if result else None
        if text:
            self.progress.step(host.name, text)


class LiveChecks(_Quiet):
    """verify's live view: each host's checks (its report's ``checks``) as its task ends."""

    def __init__(self, live: LiveResults) -> None:
        self.live = live

    def task_instance_completed(self, task: Task, host: Host, result: MultiResult) -> None:
        report = report_of(result[0].result) if result else None
        if report is not None:
            self.live.add(report.host, report.checks)


class ReportCollector(_Quiet):
    """Each host's HostReport from its task's Result, in the order the hosts finished (``reports``)."""

    def __init__(self) -> None:
        self.reports: dict[str, HostReport] = {}
        self._lock = threading.Lock()

    def task_instance_completed(self, task: Task, host: Host, result: MultiResult) -> None:
        report = report_of(result[0].result) if result else None
        if report is not None:
            with self._lock:
                self.reports[host.name] = report
