"""Exporter benchmark: the memory and CPU of `python -m tasks.edge exporter`, per run, against the lab.

    python -m bench.bench_exporter [--clusters prd,dev,wsp] [--runs 10] [--interval 10] [--json FILE]

Brings up a lab of its own (prefix ektbn), deploys every router and LB, then starts the exporter in the
operator namespace (``--listen 127.0.0.1:9479`` of that namespace) and reads, after each of ``--runs`` runs:

- the run's own figures from ``/metrics``: its wall time (``edgekit_run_duration_seconds``), the CPU (user
  + system) and peak RSS of the run's child process (``edgekit_exporter_last_run_cpu_seconds``,
  ``..._max_rss_bytes``, measured by ``wait4``);
- the exporter process itself, from ``/proc/PID``: RSS now, peak RSS (VmHWM), and its CPU since the last
  run (``utime + stime``: starting the child, reading the report, answering this benchmark's scrapes).

The lab is always taken down, the exporter stopped by its PID.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from prometheus_client.parser import text_string_to_metric_families

from bench._common import BenchLab, median, print_table, write_json
from lab.harness import REPO

LISTEN = "127.0.0.1:9479"
TICK = os.sysconf("SC_CLK_TCK")


def scrape(lab: BenchLab) -> dict[str, float]:
    proc = lab.in_ns("op", "curl", "-sS", "--max-time", "5", f"http://{LISTEN}/metrics")
    if proc.returncode != 0:
        return {}
    out: dict[str, float] = {}
    for family in text_string_to_metric_families(proc.stdout):
        for sample in family.samples:
            if sample.name == "edgekit_exporter_runs_total":
                out[f"runs_{sample.labels['result']}"] = sample.value
            elif not sample.labels:
                out[sample.name] = sample.value
    return out


def own_usage(pid: int) -> dict[str, float]:
    status = Path(f"/proc/{pid}/status").read_text()
    kb = {line.split(":")[0]: int(line.split()[1]) for line in status.splitlines() if line.startswith("Vm")}
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / TICK  # utime, stime (fields 14, 15 of stat)
    return {"rss_mb": kb["VmRSS"] / 1024, "hwm_mb": kb["VmHWM"] / 1024, "cpu_s": cpu}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clusters", default="prd,dev,wsp")
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--interval", type=float, default=10.0)
    parser.add_argument("--json", metavar="FILE")
    args = parser.parse_args()

    lab = BenchLab.create()
    exporter: subprocess.Popen[bytes] | None = None
    rows: list[list[Any]] = []
    data: dict[str, Any] = {}
    try:
        lab.up_timed("--clusters", args.clusters)
        for module in ("tasks.router", "tasks.lb"):
            proc = lab.exec(sys.executable, "-m", module, "deploy")
            if proc.returncode != 0:
                raise SystemExit(f"{module} deploy exited {proc.returncode}:\n{proc.stdout}{proc.stderr}")
        env = {**lab.env, **lab.lab_env()}
        log = open(lab.state_dir / "exporter.log", "wb")  # closed when the process ends
        argv = [sys.executable, "-m", "tasks.edge", "exporter", "--listen", LISTEN, "--interval", str(args.interval)]
        exporter = subprocess.Popen(
            ["ip", "netns", "exec", f"{lab.prefix}-op", *argv],
            env=env,
            cwd=REPO,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        started = own_usage(exporter.pid)
        last_cpu = started["cpu_s"]
        deadline = time.monotonic() + args.runs * args.interval * 3 + 120
        done = 0
        while done < args.runs:
            if time.monotonic() > deadline or exporter.poll() is not None:
                raise SystemExit(f"only {done} runs; see {lab.state_dir / 'exporter.log'}")
            time.sleep(1.0)  # a benchmark's poll: the exporter's pace is --interval
            m = scrape(lab)
            finished = int(m.get("runs_ok", 0) + m.get("runs_failed", 0))
            if finished <= done:
                continue
            done = finished
            usage = own_usage(exporter.pid)
            rows.append(
                [
                    done,
                    "ok" if m.get("edgekit_exporter_last_run_ok") == 1.0 else "failed",
                    m.get("edgekit_run_duration_seconds", float("nan")),
                    m.get("edgekit_exporter_last_run_cpu_seconds", float("nan")),
                    m.get("edgekit_exporter_last_run_max_rss_bytes", float("nan")) / 1e6,
                    usage["cpu_s"] - last_cpu,
                    usage["rss_mb"],
                    usage["hwm_mb"],
                    int(m.get("edgekit_exporter_overruns_total", 0)),
                ]
            )
            last_cpu = usage["cpu_s"]
        headers = [
            "run",
            "result",
            "wall s",
            "run CPU s",
            "run peak RSS MB",
            "exporter CPU s",
            "exporter RSS MB",
            "exporter peak MB",
            "overruns",
        ]
        print_table(f"exporter, {args.clusters}, --interval {args.interval:g}", headers, rows)
        summary = [
            ["run wall (s)", median([r[2] for r in rows]), max(r[2] for r in rows)],
            ["run CPU, child (s)", median([r[3] for r in rows]), max(r[3] for r in rows)],
            ["run peak RSS, child (MB)", median([r[4] for r in rows]), max(r[4] for r in rows)],
            ["exporter CPU per run (s)", median([r[5] for r in rows]), max(r[5] for r in rows)],
            ["exporter RSS (MB)", median([r[6] for r in rows]), max(r[7] for r in rows)],
        ]
        print_table("summary (median, max; exporter RSS: median, peak)", ["what", "median", "max"], summary)
        data = {"clusters": args.clusters, "interval": args.interval, "headers": headers, "runs": rows}
    finally:
        if exporter is not None and exporter.poll() is None:
            exporter.terminate()
            try:
                exporter.wait(timeout=30)
            except subprocess.TimeoutExpired:
                exporter.kill()
                exporter.wait(timeout=30)
        lab.down()
    write_json(args.json, data)


if __name__ == "__main__":
    main()
