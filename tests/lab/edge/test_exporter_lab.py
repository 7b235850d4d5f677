"""The exporter scraped by a real Prometheus (Debian's), both in the lab's operator namespace.

After deploy, a query shows every check green (as many series as `edge verify --metrics` writes); after
`lab fault prd-node1 speaker-down` the ECMP-degraded alert of monitoring/edgekit.rules.yml becomes
pending or firing; after `lab heal` it clears. The rules are a copy whose ECMP `for:` is 2 s instead of
minutes, so the test is bounded. Every wait polls with a deadline; the exporter and Prometheus are
stopped by PID.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from tests.lab.helpers import deploy_ok, own_lab
from tests.lab.labrun import REPO, LabRun

pytestmark = [pytest.mark.lab, pytest.mark.programs("prometheus", "curl")]

EXPORTER = "127.0.0.1:9479"  # 127.0.0.1 of the operator namespace: nothing outside it can reach either
PROMETHEUS = "127.0.0.1:9090"
ALERT = "EdgekitEcmpDegraded"


@pytest.fixture(scope="module")
def lab() -> Iterator[LabRun]:
    with own_lab("ektpm", "--clusters", "prd") as run:
        deploy_ok(run)
        deploy_ok(run, module="tasks.lb")
        yield run


def in_op(lab: LabRun, argv: list[str], log: Path) -> subprocess.Popen[bytes]:
    """A long-running process in the operator namespace with the lab's environment (`ip netns exec` execs,
    so the PID is the process's own)."""
    env = {**lab.env, **lab.lab_env()}
    with open(log, "wb") as out:
        return subprocess.Popen(
            ["ip", "netns", "exec", f"{lab.prefix}-op", *argv],
            env=env,
            cwd=REPO,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=20)


def rules_copy(target: Path) -> None:
    rules = yaml.safe_load((REPO / "monitoring" / "edgekit.rules.yml").read_text())
    for group in rules["groups"]:
        for rule in group["rules"]:
            if rule.get("alert") == ALERT:
                rule["for"] = "2s"
    target.write_text(yaml.safe_dump(rules))


def query(lab: LabRun, promql: str) -> list[dict[str, Any]]:
    proc = lab.sh("op", f"curl -sS --max-time 5 -G --data-urlencode 'query={promql}' http://{PROMETHEUS}/api/v1/query")
    data = json.loads(proc.stdout)
    assert data["status"] == "success", data
    return list(data["data"]["result"])


def until(what: str, probe: Callable[[], Any], timeout: float, logs: list[Path]) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = probe()
        except (RuntimeError, json.JSONDecodeError) as exc:  # not up yet
            last = exc
        else:
            if last:
                return last
        time.sleep(0.5)
    tails = "\n".join(f"--- {p.name}\n" + "\n".join(p.read_text(errors="replace").splitlines()[-15:]) for p in logs)
    raise AssertionError(f"{what}: not within {timeout:.0f} s; last: {last!r}\n{tails}")


def test_prometheus_sees_green_checks_then_the_ecmp_alert_then_its_clearing(lab: LabRun) -> None:
    # The series Prometheus should see: one edgekit_check_ok per check of an `edge verify` run.
    textfile = lab.state_dir / "edge.prom"
    proc = lab.edgekit("verify", "--metrics", str(textfile), module="tasks.edge")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    families = {f.name: f for f in text_string_to_metric_families(textfile.read_text())}
    checks = families["edgekit_check_ok"].samples
    assert checks and all(s.value == 1.0 for s in checks)
    assert {s.labels["check"] for s in checks} >= {"bgp.peers", "ecmp.routes", "lb.vip", "lb.backends"}

    prom_dir = lab.state_dir / "prometheus"
    (prom_dir / "data").mkdir(parents=True)
    rules_copy(prom_dir / "rules.yml")
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s", "scrape_timeout": "1s"},
        "rule_files": [str(prom_dir / "rules.yml")],
        "scrape_configs": [{"job_name": "edgekit", "static_configs": [{"targets": [EXPORTER]}]}],
    }
    (prom_dir / "prometheus.yml").write_text(yaml.safe_dump(config))
    logs = [lab.state_dir / "exporter.log", prom_dir / "prometheus.log"]
    exporter = in_op(
        lab,
        [sys.executable, "-m", "tasks.edge", "exporter", "--listen", EXPORTER, "--interval", "2"],
        logs[0],
    )
    prometheus = None
    try:
        prometheus = in_op(
            lab,
            [
                "prometheus",
                f"--config.file={prom_dir / 'prometheus.yml'}",
                f"--storage.tsdb.path={prom_dir / 'data'}",
                f"--web.listen-address={PROMETHEUS}",
            ],
            logs[1],
        )

        def all_green() -> bool:
            series = query(lab, "edgekit_check_ok")
            return len(series) == len(checks) and all(s["value"][1] == "1" for s in series)

        until("every check green in Prometheus", all_green, 120, logs)
        assert query(lab, 'up{job="edgekit"}')[0]["value"][1] == "1"
        assert not query(lab, f'ALERTS{{alertname="{ALERT}"}}')
        assert query(lab, "edgekit_exporter_last_run_ok")[0]["value"][1] == "1"

        lab.lab("fault", "prd-node1", "speaker-down")
        alerts = until(
            f"{ALERT} pending or firing",
            lambda: [a for a in query(lab, f'ALERTS{{alertname="{ALERT}",cluster="prd"}}')],
            120,
            logs,
        )
        assert {a["metric"]["alertstate"] for a in alerts} <= {"pending", "firing"}
        services = {a["metric"]["service"] for a in alerts}
        assert services == {"default/web", "default/api", "default/scores"}, alerts  # scores: the venue pool
        degraded = query(lab, 'edgekit_ecmp_nexthops{cluster="prd"} < edgekit_ecmp_nexthops_expected')
        assert degraded and all(int(s["value"][1]) < 3 for s in degraded)

        lab.lab("heal")
        until(f"{ALERT} cleared", lambda: not query(lab, f'ALERTS{{alertname="{ALERT}"}}'), 120, logs)
        until("every check green again", all_green, 120, logs)
    finally:
        if prometheus is not None:
            stop(prometheus)
        stop(exporter)
    assert exporter.returncode == 0, logs[0].read_text()
