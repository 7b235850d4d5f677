"""Progress while hosts work: a live rich table on a terminal, one line per step otherwise (CI logs)."""

from __future__ import annotations

import threading
import time
from types import TracebackType

from rich.live import Live
from rich.table import Table

from tasks.core.report import err_console


class Progress:
    def __init__(self, title: str) -> None:
        self.title = title
        self.steps: dict[str, tuple[str, float]] = {}
        self.lock = threading.Lock()
        self.live: Live | None = None
        self.started = time.monotonic()

    def __enter__(self) -> Progress:
        if err_console.is_terminal:
            self.live = Live(self._table(), console=err_console, refresh_per_second=8, transient=True)
            self.live.__enter__()
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None) -> None:
        if self.live is not None:
            self.live.__exit__(kind, value, tb)

    def step(self, host: str, step: str) -> None:
        with self.lock:
            self.steps[host] = (step, time.monotonic())
            if self.live is not None:
                self.live.update(self._table())
            else:
                err_console.print(f"[dim]{time.monotonic() - self.started:6.1f}s[/] {host}: {step}")

    def _table(self) -> Table:
        table = Table(title=self.title, show_header=True)
        table.add_column("host")
        table.add_column("step")
        table.add_column("since")
        now = time.monotonic()
        for host, (step, since) in sorted(self.steps.items()):
            table.add_row(host, step, f"{now - since:.1f}s")
        return table
