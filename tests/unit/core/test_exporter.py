"""tasks.edge.exporter with a fake run function: never two runs at once, an overrun counted, the last results
kept (and said to be old) when a run fails, /metrics served by prometheus_client's server; and a real
child run's failure and exit code. Every wait has a bound."""

from __future__ import annotations

import socket
import sys
import threading
import urllib.request
from collections.abc import Iterator

import pytest
from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.parser import text_string_to_metric_families

from checks.verdict import failed, passed
from tasks.core.arguments import listen_address
from tasks.core.report import HostReport, RunReport
from tasks.edge import exporter as ex

WAIT = 10.0  # seconds: a bound, never a pace


def report(ok: bool) -> RunReport:
    host = HostReport(host="k8s-router-1-prd", cluster="prd")
    check = passed if ok else failed
    host.checks = [check("bgp.peers", host.host, "prd", "x", details={"expected": 3, "established": 3 if ok else 2})]
    return RunReport(command="edge verify", hosts=[host], started=10.0, finished=12.0)


class FakeRun:
    """Each call blocks until released, and records how many calls ran at the same time."""

    def __init__(self) -> None:
        self.outcomes: list[ex.RunOutcome | Exception] = []
        self.entered = threading.Semaphore(0)
        self.release = threading.Semaphore(0)
        self.running = 0
        self.max_running = 0
        self.lock = threading.Lock()

    def __call__(self) -> ex.RunOutcome:
        with self.lock:
            self.running += 1
            self.max_running = max(self.max_running, self.running)
        self.entered.release()
        try:
            assert self.release.acquire(timeout=WAIT), "the test never released the run"
            outcome = self.outcomes.pop(0)
            if isinstance(outcome, Exception):
                raise outcome
            return outcome
        finally:
            with self.lock:
                self.running -= 1


def registry(exporter: ex.Exporter) -> CollectorRegistry:
    reg = CollectorRegistry(auto_describe=False)
    reg.register(exporter)
    return reg


def finish_one(exporter: ex.Exporter, run: FakeRun) -> None:
    assert run.entered.acquire(timeout=WAIT)
    run.release.release()
    assert exporter.idle.wait(WAIT)


def test_a_tick_during_a_run_is_an_overrun_not_a_second_run() -> None:
    run = FakeRun()
    run.outcomes = [ex.RunOutcome(report(True), cpu_seconds=1.5, max_rss_bytes=80e6), ex.RunOutcome(report(True))]
    exporter = ex.Exporter(run, interval=1.0, log=lambda line: None)
    reg = registry(exporter)
    assert exporter.tick() is True
    assert run.entered.acquire(timeout=WAIT)
    assert reg.get_sample_value("edgekit_exporter_run_in_progress") == 1.0
    assert exporter.tick() is False and exporter.tick() is False  # the run is still going
    assert reg.get_sample_value("edgekit_exporter_overruns_total") == 2.0
    run.release.release()
    assert exporter.idle.wait(WAIT)
    assert run.max_running == 1
    assert reg.get_sample_value("edgekit_exporter_run_in_progress") == 0.0
    assert reg.get_sample_value("edgekit_exporter_runs_total", {"result": "ok"}) == 1.0
    assert reg.get_sample_value("edgekit_exporter_last_run_cpu_seconds") == 1.5
    assert reg.get_sample_value("edgekit_exporter_last_run_max_rss_bytes") == 80e6
    assert exporter.tick() is True  # free again: the next tick runs
    finish_one(exporter, run)
    assert reg.get_sample_value("edgekit_exporter_runs_total", {"result": "ok"}) == 2.0
    assert run.max_running == 1


def test_a_failed_run_keeps_the_last_results_and_says_so() -> None:
    run = FakeRun()
    run.outcomes = [ex.RunOutcome(report(False)), ex.RunFailed("exit 3: state unreachable", 3)]
    run.outcomes.append(ex.RunOutcome(report(True)))
    exporter = ex.Exporter(run, interval=1.0, log=lambda line: None)
    reg = registry(exporter)
    key = {"cluster": "prd", "host": "k8s-router-1-prd", "check": "bgp.peers", "subject": ""}
    assert reg.get_sample_value("edgekit_check_ok", key) is None  # nothing before the first run
    assert reg.get_sample_value("edgekit_exporter_last_run_ok") is None

    exporter.tick()
    finish_one(exporter, run)
    assert reg.get_sample_value("edgekit_check_ok", key) == 0.0
    assert reg.get_sample_value("edgekit_exporter_last_run_ok") == 1.0
    success = reg.get_sample_value("edgekit_last_success_timestamp_seconds")
    assert success is not None

    exporter.tick()
    finish_one(exporter, run)
    assert reg.get_sample_value("edgekit_exporter_last_run_ok") == 0.0
    assert reg.get_sample_value("edgekit_check_ok", key) == 0.0  # still the last report's results
    assert reg.get_sample_value("edgekit_bgp_sessions_established", {"cluster": "prd", "host": key["host"]}) == 2.0
    assert reg.get_sample_value("edgekit_last_success_timestamp_seconds") == success
    last_run = reg.get_sample_value("edgekit_last_run_timestamp_seconds")
    assert last_run is not None and last_run >= success
    assert reg.get_sample_value("edgekit_exporter_runs_total", {"result": "failed"}) == 1.0
    assert exporter.first_error is None  # a run had succeeded before

    exporter.tick()
    finish_one(exporter, run)
    assert reg.get_sample_value("edgekit_exporter_last_run_ok") == 1.0
    assert reg.get_sample_value("edgekit_check_ok", key) == 1.0


def test_serve_forever_ticks_each_interval_and_stops() -> None:
    ticks = threading.Semaphore(0)

    class Counting:
        def tick(self) -> bool:
            ticks.release()
            return True

    stop = threading.Event()
    thread = threading.Thread(target=ex.serve_forever, args=(Counting(), stop, 0.01), daemon=True)
    thread.start()
    for _ in range(3):
        assert ticks.acquire(timeout=WAIT)
    stop.set()
    thread.join(WAIT)
    assert not thread.is_alive()


@pytest.fixture
def served() -> Iterator[tuple[ex.Exporter, FakeRun, str]]:
    run = FakeRun()
    exporter = ex.Exporter(run, interval=5.0, log=lambda line: None)
    server, _ = start_http_server(0, addr="127.0.0.1", registry=registry(exporter))
    try:
        yield exporter, run, f"http://127.0.0.1:{server.server_port}/metrics"
    finally:
        server.shutdown()
        server.server_close()


def test_metrics_served_over_http(served: tuple[ex.Exporter, FakeRun, str]) -> None:
    exporter, run, url = served
    run.outcomes = [ex.RunOutcome(report(True))]
    exporter.tick()
    finish_one(exporter, run)
    with urllib.request.urlopen(url, timeout=WAIT) as resp:
        text = resp.read().decode()
    families = {f.name: f for f in text_string_to_metric_families(text)}
    assert families["edgekit_check_ok"].samples[0].value == 1.0
    assert families["edgekit_exporter_interval_seconds"].samples[0].value == 5.0


def test_child_run_without_a_report_fails_with_its_exit_code_and_last_line() -> None:
    code = "import sys; print('starting', file=sys.stderr); print('error: site.yaml: no such file', file=sys.stderr)"
    process = ex.VerifyProcess([sys.executable, "-c", code + "; sys.exit(2)"])
    with pytest.raises(ex.RunFailed) as exc:
        process()
    assert exc.value.exit_code == 2
    assert str(exc.value) == "exit 2: error: site.yaml: no such file"


def test_child_run_report_is_read_with_its_cpu_and_memory(tmp_path: object) -> None:
    import json

    data = json.dumps(report(True).to_json())
    code = f"import sys; open(sys.argv[sys.argv.index('--json') + 1], 'w').write({data!r}); sys.exit(1)"
    outcome = ex.VerifyProcess([sys.executable, "-c", code])()
    assert [c.check for h in outcome.report.hosts for c in h.checks] == ["bgp.peers"]
    assert outcome.cpu_seconds is not None and outcome.cpu_seconds >= 0
    assert outcome.max_rss_bytes is not None and outcome.max_rss_bytes > 1e6  # a Python process


def test_child_run_over_its_timeout_is_killed() -> None:
    process = ex.VerifyProcess([sys.executable, "-c", "import time; time.sleep(60)"], timeout=0.5)
    with pytest.raises(ex.RunFailed, match="killed by run timeout"):
        process()


def test_listen_address_forms() -> None:
    assert listen_address("127.0.0.1:9479") == ("127.0.0.1", 9479)
    assert listen_address(":9479") == ("0.0.0.0", 9479)
    assert listen_address("[::1]:9479") == ("::1", 9479)
    for bad in ("9479", "localhost:9479", "1.2.3.4:0", "1.2.3.4:x"):
        with pytest.raises(Exception, match="ADDR:PORT|not an IP"):
            listen_address(bad)


def test_exporter_command_stops_with_exit_2_when_the_first_run_has_bad_input(tmp_path: object) -> None:
    """The real command: its child run fails on a site file that does not exist -> exit 2, one line."""
    import subprocess

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.run(
        [sys.executable, "-m", "tasks.edge", "exporter", "--listen", f"127.0.0.1:{port}", "--interval", "600"]
        + ["--site", "/nonexistent/site.yaml", "--state", "/nonexistent/tfstate"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2, proc.stderr
    assert "first run failed on bad input" in proc.stderr


def test_exporter_command_refuses_an_address_in_use() -> None:
    import subprocess

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = subprocess.run(
            [sys.executable, "-m", "tasks.edge", "exporter", "--listen", f"127.0.0.1:{port}"],
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith(f"error: --listen 127.0.0.1:{port}: ")
