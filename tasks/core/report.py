"""What a run did, per host: printed as a rich table, written as JSON (and JUnit XML for checks)."""

from __future__ import annotations

import json
import os
import sys
import time
import xml.etree.ElementTree as ET
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from checks.verdict import CheckResult

EXIT_OK, EXIT_FAILED, EXIT_PENDING, EXIT_INTERRUPTED = 0, 1, 10, 130

HostStatus = Literal["unchanged", "changed", "planned", "failed", "reverted", "skipped"]
STATUS_STYLE = {
    "unchanged": "green",
    "changed": "bold green",
    "planned": "yellow",
    "failed": "bold red",
    "reverted": "bold red",
    "skipped": "dim",
}

# Not a terminal (CI logs, pipes): rich would wrap tables at 80 columns; logs are read wider.
_WIDTH = None if sys.stdout.isatty() or os.environ.get("COLUMNS") else 160
console = Console(stderr=False, highlight=False, width=_WIDTH)
err_console = Console(stderr=True, highlight=False, width=_WIDTH)


@dataclass
class HostReport:
    host: str
    cluster: str
    role: str = "router"
    status: HostStatus = "skipped"
    dialect: str | None = None
    commands: list[str] = field(default_factory=list)  # the change, secrets masked
    error: str | None = None
    checks: list[CheckResult] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    # Routers: what an unconfirmed commit-confirm does ("reload" in place or "reboot" into the saved
    # config), and while a change waits for its confirm, when the router's timer fires (epoch seconds).
    rollback: str | None = None
    timer_fires_at: float | None = None

    @property
    def ok(self) -> bool:
        return self.status not in ("failed", "reverted")

    def timed(self, step: str, started: float) -> None:
        self.timings[step] = round(self.timings.get(step, 0.0) + time.monotonic() - started, 3)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["checks"] = [c.model_dump() for c in self.checks]
        return data


@dataclass
class RunReport:
    command: str
    hosts: list[HostReport] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.time)
    finished: float | None = None

    @property
    def ok(self) -> bool:
        return all(h.ok for h in self.hosts)

    def to_json(self) -> dict[str, Any]:
        return {
            "command": self.command,
            "ok": self.ok,
            "started": self.started,
            "finished": self.finished,
            "warnings": self.warnings,
            "hosts": [h.to_json() for h in self.hosts],
        }

    def write_json(self, path: str) -> None:
        target = sys.stdout if path == "-" else None
        text = json.dumps(self.to_json(), indent=2, default=str)
        if target:
            target.write(text + "\n")
        else:
            Path(path).write_text(text + "\n")


def print_changes(report: RunReport, only_pending: bool = False) -> None:
    """Each host's change as a diff: ``-`` for deletes, ``+`` for sets (secrets already masked)."""
    for host in report.hosts:
        if only_pending and host.status != "planned":
            continue
        header = f"[bold]{escape(host.host)}[/] ({escape(host.cluster)}, VyOS {host.dialect or '?'})"
        if host.error:
            console.print(f"{header}: [red]{escape(host.error)}[/]")
            continue
        if not host.commands:
            console.print(f"{header}: no change")
            continue
        console.print(f"{header}: {len(host.commands)} change(s)")
        if host.rollback:
            console.print(f"  if not confirmed: {escape(ROLLBACK_TEXT.get(host.rollback, host.rollback))}")
        for command in host.commands:
            style, sign = ("red", "-") if command.startswith("delete ") else ("green", "+")
            console.print(f"  [{style}]{sign} {escape(command)}[/]", soft_wrap=True)


ROLLBACK_TEXT = {
    "reload": "the router reloads its previous config in place (commit-confirm action reload)",
    "reboot": "the router REBOOTS into its saved config (commit-confirm default; VyOS 1.3 and 1.4 know nothing else)",
}


def print_summary(report: RunReport) -> None:
    table = Table(title=f"edgekit {report.command}", show_lines=False)
    for column in ("cluster", "host", "status", "changes", "time", "detail"):
        table.add_column(column)
    for host in report.hosts:
        style = STATUS_STYLE.get(host.status, "")
        total = sum(host.timings.values())
        # Program messages contain brackets ("parsing [haproxy.cfg:25]") that rich would take for markup.
        detail = escape(host.error or "; ".join(host.notes) or "")
        table.add_row(
            host.cluster,
            host.host,
            f"[{style}]{host.status}[/]",
            str(len(host.commands)),
            f"{total:.1f}s",
            detail,
        )
    console.print(table)


def write_junit(results: list[CheckResult], path: str, suite: str = "edgekit") -> None:
    """JUnit XML for CI: one testsuite per check id, one testcase per host x check (x subject).

    ``fail`` becomes <failure>, ``error`` (the check could not run) <error>; the reason is the message.
    """
    by_check: dict[str, list[CheckResult]] = defaultdict(list)
    for result in results:
        by_check[result.check].append(result)
    root = ET.Element(
        "testsuites",
        name=suite,
        tests=str(len(results)),
        failures=str(sum(r.status == "fail" for r in results)),
        errors=str(sum(r.status == "error" for r in results)),
    )
    for check, items in by_check.items():
        ts = ET.SubElement(
            root,
            "testsuite",
            name=check,
            tests=str(len(items)),
            failures=str(sum(r.status == "fail" for r in items)),
            errors=str(sum(r.status == "error" for r in items)),
        )
        for r in items:
            name = f"{r.check} {r.host}" + (f" {r.subject}" if r.subject else "")
            case = ET.SubElement(ts, "testcase", classname=f"{r.cluster}.{r.host}", name=name)
            if r.status == "fail":
                ET.SubElement(case, "failure", message=r.reason, type="fail").text = r.reason
            elif r.status == "error":
                ET.SubElement(case, "error", message=r.reason, type="error").text = r.reason
            else:
                ET.SubElement(case, "system-out").text = r.reason
    ET.indent(root)
    text = ET.tostring(root, encoding="unicode", xml_declaration=True)
    if path == "-":
        sys.stdout.write(text + "\n")
    else:
        Path(path).write_text(text + "\n")


def finish(report: RunReport, json_path: str | None, plan_only: bool = False) -> int:
    """Print the summary, write the JSON report, and give the exit code: 0 all good, 1 a host failed,
    10 a plan found pending changes."""
    report.finished = time.time()
    print_summary(report)
    if json_path:
        report.write_json(json_path)
    if not report.ok:
        return EXIT_FAILED
    if plan_only and any(h.status == "planned" for h in report.hosts):
        return EXIT_PENDING
    return EXIT_OK


def root_cause(exc: BaseException) -> BaseException:
    """The exception behind Nornir's wrappers (a subtask's failure is wrapped once per task level)."""
    cause = exc
    while getattr(cause, "result", None) is not None and getattr(cause.result, "exception", None):  # type: ignore[attr-defined]
        cause = cause.result.exception  # type: ignore[attr-defined]
    return cause


def one_line(exc: BaseException) -> str:
    """The root cause's first line: what an operator needs in a table cell."""
    cause = root_cause(exc)
    text = str(cause).strip()
    return text.splitlines()[0] if text else type(cause).__name__
