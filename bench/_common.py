"""Shared helpers of the benchmarks: the machine, a plain table, JSON output, a lab of the benchmark's own."""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lab.harness import LabRun

PREFIX = "ektbn"  # the benchmarks' own lab prefix (never the developer's `ek` lab)


def machine() -> dict[str, Any]:
    """nproc, memory, CPU model, kernel, Python: what every figure was measured on."""
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_kb = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "memory_gib": round(mem_kb / 1024 / 1024, 1),
        "cpu": cpu,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
    }


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def print_table(title: str, headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """A plain Markdown table (pastes into bench/README.md as is)."""
    cells = [[_fmt(v) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]
    print(f"\n{title}\n")
    print("| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |")
    print("| " + " | ".join("-" * w for w in widths) + " |")
    for row in cells:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |")
    sys.stdout.flush()


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        if value != value:  # nan
            return "-"
        return f"{value:.3f}" if abs(value) < 10 else f"{value:.1f}"
    return str(value)


def write_json(path: str | None, data: dict[str, Any]) -> None:
    if path:
        Path(path).write_text(json.dumps({"machine": machine(), **data}, indent=2, default=str) + "\n")
        print(f"\nwrote {path}")


class BenchLab(LabRun):
    """A lab of the benchmark's own (prefix ektbn, a state dir in /tmp), on the lab tests' harness."""

    @classmethod
    def create(cls, prefix: str = PREFIX, **extra_env: str) -> BenchLab:
        return super().create(prefix, **extra_env)  # type: ignore[return-value]

    def lab(
        self, *args: str, check: bool = True, timeout: float = 600, cwd: Path | None = None
    ) -> subprocess.CompletedProcess[str]:
        return super().lab(*args, check=check, timeout=timeout, cwd=cwd)

    def up_timed(self, *args: str, timeout: float = 900) -> float:
        """Bring the lab up; returns the wall time."""
        started = time.monotonic()
        self.lab("up", *args, "--timeout", str(timeout), timeout=timeout + 60)
        return time.monotonic() - started

    def exec(self, *cmd: str, timeout: float = 900, check: bool = False) -> subprocess.CompletedProcess[str]:
        """CMD inside the operator namespace with the lab's environment."""
        return self.lab("exec", "--", *cmd, check=check, timeout=timeout)

    def in_ns(self, host: str, *cmd: str, timeout: float = 120, **kwargs: Any) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["ip", "netns", "exec", self.ns(host), *cmd], capture_output=True, text=True, timeout=timeout, **kwargs
        )

    def memory(self) -> dict[str, float]:
        """The lab's processes: PSS and RSS in MB (``lab status``)."""
        hosts = self.status()
        return {
            "pss_mb": round(sum(h.get("pss_kb") or 0 for h in hosts) / 1024, 1),
            "rss_mb": round(sum(h.get("rss_kb") or 0 for h in hosts) / 1024, 1),
            "processes": sum(len(h.get("processes") or []) for h in hosts),
        }
