"""Check results on screen and on disk, for every verify (router, LB, MetalLB, edge): a live table while hosts
report (``LiveResults``), the final table grouped by cluster and host, ``--json``, ``--junit`` and ``--metrics``
(``finish_checks``), and a host's report row of check results (``checks_report``).
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from rich.live import Live
from rich.markup import escape
from rich.table import Table

from checks.verdict import CheckResult
from inventory.errors import InputError
from tasks.core import metrics
from tasks.core.report import EXIT_FAILED, EXIT_OK, HostReport, RunReport, console, err_console, write_junit
from tasks.core.runtime import Runtime

STATUS_STYLE = {"pass": "green", "fail": "bold red", "error": "bold magenta"}


class LiveResults:
    """Results grouped by cluster and host while hosts report: a live table on a terminal, lines otherwise."""

    def __init__(self, title: str, pending: Sequence[tuple[str, str]]) -> None:
        self.title = title
        self.pending = {host: cluster for cluster, host in pending}
        self.results: list[CheckResult] = []
        self.lock = threading.Lock()
        self.live: Live | None = None
        self.started = time.monotonic()

    def __enter__(self) -> LiveResults:
        if err_console.is_terminal:
            self.live = Live(self._table(), console=err_console, refresh_per_second=8, transient=True)
            self.live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.live is not None:
            self.live.__exit__(None, None, None)

    def add(self, host: str, results: Sequence[CheckResult]) -> None:
        with self.lock:
            self.pending.pop(host, None)
            self.results.extend(results)
            if self.live is not None:
                self.live.update(self._table())
                return
            elapsed = time.monotonic() - self.started
            for r in results:
                line = f"[dim]{elapsed:6.1f}s[/] {r.cluster} {r.host} {r.check}"
                line += f" [{STATUS_STYLE[r.status]}]{r.status}[/] {escape(r.reason)}"
                err_console.print(line, soft_wrap=True, highlight=False)

    def _table(self) -> Table:
        table = results_table(self.results, self.title)
        for host, cluster in sorted(self.pending.items(), key=lambda item: (item[1], item[0])):
            table.add_row(cluster, host, "", "[dim]running[/]", "")
        return table


def sort_results(results: Iterable[CheckResult], cluster_order: Sequence[str] = ()) -> list[CheckResult]:
    rank = {name: i for i, name in enumerate(cluster_order)}
    indexed = list(enumerate(results))
    indexed.sort(key=lambda item: (rank.get(item[1].cluster, len(rank)), item[1].cluster, item[1].host, item[0]))
    return [r for _, r in indexed]


def results_table(results: Sequence[CheckResult], title: str, cluster_order: Sequence[str] = ()) -> Table:
    table = Table(title=title, show_lines=False)
    for column in ("cluster", "host", "check", "status", "reason"):
        table.add_column(column, overflow="fold")
    last: tuple[str, str] | None = None
    for r in sort_results(results, cluster_order):
        key = (r.cluster, r.host)
        if last is not None and key[0] != last[0]:
            table.add_section()
        check = r.check + (f" [dim]{escape(r.subject)}[/]" if r.subject else "")
        table.add_row(
            r.cluster if last is None or key[0] != last[0] else "",
            r.host if key != last else "",
            check,
            f"[{STATUS_STYLE[r.status]}]{r.status}[/]",
            escape(r.reason),
        )
        last = key
    return table


def print_results(results: Sequence[CheckResult], title: str, cluster_order: Sequence[str] = ()) -> None:
    console.print(results_table(results, title, cluster_order))
    failed = sum(r.status == "fail" for r in results)
    errors = sum(r.status == "error" for r in results)
    passed = len(results) - failed - errors
    style = "green" if passed == len(results) else "bold red"
    console.print(f"[{style}]{passed}/{len(results)} checks passed[/], {failed} failed, {errors} errors")


def print_drift(reports: Iterable[HostReport]) -> None:
    """comply: every differing line of every router (the table's reason shows the first few only)."""
    for report in reports:
        if not report.commands:
            continue
        console.print(
            f"[bold]{report.host}[/] ({report.cluster}): {len(report.commands)} line(s) differ from the intent"
        )
        for line in report.commands:
            style = "red" if line.startswith("-") else "green"
            console.print(f"  [{style}]{escape(line)}[/]", soft_wrap=True)


def checks_report(host: str, cluster: str, role: str, results: list[CheckResult]) -> HostReport:
    report = HostReport(host=host, cluster=cluster, role=role)
    report.checks = results
    report.status = "unchanged" if all(r.ok for r in results) else "failed"
    return report


def write_checks_json(report: RunReport, results: Sequence[CheckResult], path: str) -> None:
    data: dict[str, Any] = report.to_json()
    data["ok"] = all(r.ok for r in results)
    data["summary"] = {status: sum(r.status == status for r in results) for status in ("pass", "fail", "error")}
    text = json.dumps(data, indent=2, default=str)
    if path == "-":
        sys.stdout.write(text + "\n")
    else:
        Path(path).write_text(text + "\n")


def finish_checks(
    title: str,
    command: str,
    rt: Runtime,
    reports: list[HostReport],
    args: argparse.Namespace,
    cluster_order: list[str],
    comply: bool,
) -> int:
    """Print, write --json/--junit, and return the exit code (0 only when every check passed)."""
    results: list[CheckResult] = [r for report in reports for r in report.checks]
    print_results(results, title, cluster_order)
    if comply:
        print_drift(reports)
    report = RunReport(command=command, hosts=reports, warnings=list(rt.loaded.warnings))
    report.finished = time.time()
    if args.json:
        write_checks_json(report, results, args.json)
    if args.junit:
        write_junit(results, args.junit, suite=f"edgekit {command}")
    if getattr(args, "metrics", None):
        metrics.write_textfile(report, args.metrics)
    if any((r.error or "").startswith("input: ") for r in reports):
        return InputError.exit_code  # a refused cluster's router (the other clusters were verified)
    return EXIT_OK if results and all(r.ok for r in results) else EXIT_FAILED
