"""`python -m tasks.edge exporter` (also `edgekit edge exporter`): the edge checks as a Prometheus target.

Every ``--interval`` seconds it runs ``python -m tasks.edge verify`` (``comply`` with ``--comply``) as a
child process with ``--json``, reads the report back (``tasks.core.metrics.report_from_json``) and serves the
metrics of the last report on ``/metrics`` (prometheus_client's HTTP server and a collector of our own).
The child keeps the exporter small (each run's imports, sessions and memory go away with it) and its
resource usage is measured exactly (``wait4``): CPU seconds and peak RSS of every run are metrics too.

- Never two runs at once: a tick that finds the previous run still going counts an overrun
  (``edgekit_exporter_overruns_total``) and starts nothing.
- A run that fails (no report: bad input, an unreachable source, a crash, ``--run-timeout``) leaves the last
  report's metrics in place and sets ``edgekit_exporter_last_run_ok`` to 0 until a run succeeds again. A
  run whose checks fail is a successful run: its failures are the metrics.
- Bad input on the very first run (exit 2, nothing was ever served) stops the exporter with exit 2.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from inventory.errors import InputError
from tasks.core import metrics
from tasks.core.report import RunReport

REPO = Path(__file__).resolve().parents[1]


@dataclass
class RunOutcome:
    report: RunReport
    cpu_seconds: float | None = None  # user + system CPU of the run's process
    max_rss_bytes: float | None = None  # its peak resident memory


class RunFailed(Exception):
    """A run that produced no report; ``exit_code`` is the child's (None: killed or never started)."""

    def __init__(self, message: str, exit_code: int | None = None) -> None:
        super().__init__(message)
        self.exit_code = exit_code


RunFn = Callable[[], RunOutcome]


class Exporter(Collector):
    """Runs ``run`` on ``tick`` (at most one at a time) and collects the last report's metrics."""

    def __init__(self, run: RunFn, interval: float, log: Callable[[str], None] | None = None) -> None:
        self._run = run
        self.interval = interval
        self._log = log or (lambda line: print(line, file=sys.stderr, flush=True))
        self._busy = threading.Lock()  # held while a run goes on
        self._lock = threading.Lock()  # guards the fields below
        self.idle = threading.Event()  # set when no run is going on
        self.idle.set()
        self.report: RunReport | None = None
        self.last_success: float | None = None
        self.last_run_end: float | None = None
        self.last_duration: float | None = None
        self.last_run_ok: bool | None = None
        self.last_usage: tuple[float | None, float | None] = (None, None)
        self.first_error: RunFailed | None = None  # the first run's failure, when no run ever succeeded
        self.runs = {"ok": 0, "failed": 0}
        self.overruns = 0
        self.started_runs = 0

    def tick(self) -> bool:
        """Start a run unless one is going on (then count an overrun). True when a run was started."""
        if not self._busy.acquire(blocking=False):
            with self._lock:
                self.overruns += 1
            self._log(f"run {self.started_runs} still going after {self.interval:g} s: this interval's run skipped")
            return False
        with self._lock:
            self.started_runs += 1
            number = self.started_runs
        self.idle.clear()
        threading.Thread(target=self._run_once, args=(number,), name=f"edgekit-run-{number}", daemon=True).start()
        return True

    def _run_once(self, number: int) -> None:
        started = time.monotonic()
        try:
            outcome = self._run()
        except Exception as exc:  # the run's failure is a metric, never the exporter's end
            elapsed = time.monotonic() - started
            with self._lock:
                self.runs["failed"] += 1
                self.last_run_ok = False
                self.last_duration = elapsed
                self.last_run_end = time.time()
                if self.last_success is None and self.first_error is None:
                    self.first_error = exc if isinstance(exc, RunFailed) else RunFailed(str(exc))
            self._log(f"run {number} failed after {elapsed:.1f} s: {exc} (serving the last results)")
        else:
            elapsed = time.monotonic() - started
            with self._lock:
                self.runs["ok"] += 1
                self.report = outcome.report
                self.last_run_ok = True
                self.last_duration = elapsed
                self.last_run_end = time.time()
                self.last_success = self.last_run_end
                self.last_usage = (outcome.cpu_seconds, outcome.max_rss_bytes)
            results = [r for h in outcome.report.hosts for r in h.checks]
            passed = sum(r.ok for r in results)
            usage = f", {outcome.cpu_seconds:.2f} s CPU" if outcome.cpu_seconds is not None else ""
            self._log(f"run {number}: {passed}/{len(results)} checks passed in {elapsed:.1f} s{usage}")
        finally:
            self.idle.set()
            self._busy.release()

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            report = self.report
            runs = dict(self.runs)
            overruns = self.overruns
            last_ok = self.last_run_ok
            duration, last_end, last_success = self.last_duration, self.last_run_end, self.last_success
            cpu, rss = self.last_usage
        if report is not None:
            yield from metrics.check_families(report)
        if duration is not None and last_end is not None:
            yield from metrics.run_families(duration, last_end, last_success)
        yield metrics.build_info(report.command if report is not None else "")
        runs_f = CounterMetricFamily("edgekit_exporter_runs", "runs finished, by result", labels=["result"])
        for result in ("ok", "failed"):
            runs_f.add_metric([result], float(runs[result]))
        yield runs_f
        yield CounterMetricFamily(
            "edgekit_exporter_overruns",
            "intervals whose run was skipped because the previous run was still going",
            value=float(overruns),
        )
        yield GaugeMetricFamily(
            "edgekit_exporter_run_in_progress", "1 while a run is going on", value=0.0 if self.idle.is_set() else 1.0
        )
        yield GaugeMetricFamily("edgekit_exporter_interval_seconds", "seconds between runs", value=self.interval)
        if last_ok is not None:
            yield GaugeMetricFamily(
                "edgekit_exporter_last_run_ok",
                "1 when the last run produced a report, 0 when it failed (the metrics are then an older run's)",
                value=1.0 if last_ok else 0.0,
            )
        if cpu is not None:
            yield GaugeMetricFamily(
                "edgekit_exporter_last_run_cpu_seconds", "CPU (user + system) of the last successful run", value=cpu
            )
        if rss is not None:
            yield GaugeMetricFamily(
                "edgekit_exporter_last_run_max_rss_bytes", "peak resident memory of the last successful run", value=rss
            )


def serve_forever(exporter: Exporter, stop: threading.Event, interval: float) -> None:
    """Tick every ``interval`` seconds (the first one ``interval`` from now) until ``stop``; missed ticks are
    not made up."""
    next_at = time.monotonic() + interval
    while not stop.wait(max(0.0, next_at - time.monotonic())):
        exporter.tick()
        next_at += interval
        now = time.monotonic()
        if next_at < now:
            next_at = now + interval


# --- the run: `python -m tasks.edge verify --json` as a child process ----------------------------------------


class VerifyProcess:
    """One edge verify run in a child process, its report read from ``--json``, its CPU and memory measured."""

    def __init__(self, argv: list[str], timeout: float | None = None) -> None:
        self.argv = argv
        self.timeout = timeout
        self._current: subprocess.Popen[bytes] | None = None

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
        env.pop("COLUMNS", None)
        return env

    def __call__(self) -> RunOutcome:
        with tempfile.TemporaryDirectory(prefix="edgekit-exporter-") as tmp:
            json_path = Path(tmp) / "report.json"
            err_path = Path(tmp) / "stderr"
            with open(err_path, "wb") as err:
                proc = subprocess.Popen(
                    [*self.argv, "--json", str(json_path)],
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=err,
                    env=self.env(),
                )
            self._current = proc
            timer = threading.Timer(self.timeout, proc.kill) if self.timeout else None
            if timer is not None:
                timer.daemon = True
                timer.start()
            try:
                _, status, usage = os.wait4(proc.pid, 0)
            finally:
                if timer is not None:
                    timer.cancel()
                self._current = None
            proc.returncode = code = os.waitstatus_to_exitcode(status)
            cpu = usage.ru_utime + usage.ru_stime
            rss = float(usage.ru_maxrss * 1024)  # Linux: kilobytes
            if code in (0, 1, 2) and json_path.is_file():
                try:
                    report = metrics.report_from_json(json.loads(json_path.read_text()))
                except (ValueError, KeyError, TypeError) as exc:
                    raise RunFailed(f"report unreadable: {exc}", code) from exc
                return RunOutcome(report, cpu, rss)
            lines = [line for line in err_path.read_text(errors="replace").splitlines() if line.strip()]
            why = lines[-1].strip() if lines else "no output"
            if code < 0:
                killed = "run timeout" if self.timeout else "a signal"
                raise RunFailed(f"killed by {killed} (signal {-code}): {why}", None)
            raise RunFailed(f"exit {code}: {why}", code)

    def terminate(self) -> None:
        proc = self._current
        if proc is not None and proc.returncode is None:
            proc.terminate()


# --- the command ---------------------------------------------------------------------------------------------


def child_argv(args: argparse.Namespace) -> list[str]:
    """The edge verify command line a run executes: the exporter's own inventory and check options."""
    argv = [sys.executable, "-m", "tasks.edge", "comply" if args.comply else "verify"]
    for option, values in (("--state", args.state), ("--cluster", args.cluster), ("--limit", args.limit)):
        for value in values or []:
            argv += [option, value]
    for option, value in (("--site", args.site), ("--kubeconfig", args.kubeconfig), ("--ca", args.ca)):
        if value:
            argv += [option, value]
    if args.require_k8s:
        argv.append("--require-k8s")
    argv += ["--workers", str(args.workers), "--handshake-max-age", str(args.handshake_max_age)]
    argv += ["--timeout", str(args.timeout)]
    return argv


def run_exporter(args: argparse.Namespace) -> int:
    host, port = args.listen
    process = VerifyProcess(child_argv(args), timeout=args.run_timeout)
    exporter = Exporter(process, args.interval)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(exporter)
    try:
        server, _ = start_http_server(port, addr=host, registry=registry)
    except OSError as exc:
        raise InputError(f"--listen {host}:{port}: {exc.strerror or exc}") from None
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous: dict[int, Any] = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    print(f"edgekit exporter: http://{host}:{port}/metrics, a run every {args.interval:g} s", file=sys.stderr)

    def watch_first_run() -> None:
        exporter.idle.wait()
        error = exporter.first_error
        if error is not None and error.exit_code == InputError.exit_code:
            stop.set()  # bad input never gets better by itself: say so and stop

    exporter.tick()  # the first run at once
    threading.Thread(target=watch_first_run, daemon=True).start()
    threading.Thread(target=serve_forever, args=(exporter, stop, args.interval), daemon=True).start()
    try:
        stop.wait()
    finally:
        process.terminate()
        server.shutdown()
        server.server_close()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    error = exporter.first_error
    if error is not None and error.exit_code == InputError.exit_code and exporter.last_success is None:
        print(f"edgekit exporter: the first run failed on bad input, stopping: {error}", file=sys.stderr)
        return InputError.exit_code
    return 0
