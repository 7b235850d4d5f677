"""monitoring/: the alert rules and the Grafana dashboard only use metrics edgekit really exports, the
dashboard takes its Prometheus from a data source variable and has one row per cluster, and promtool's
unit tests of the rules pass."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import CollectorRegistry

from tasks.edge import exporter as ex
from tests.unit.core.test_metrics import sample_report

MONITORING = Path(__file__).resolve().parents[3] / "monitoring"
METRIC = re.compile(r"\bedgekit_[a-z_]+\b")


def exported_names() -> set[str]:
    """Sample names the exporter serves after one successful run of a report with every kind of check."""
    e = ex.Exporter(lambda: ex.RunOutcome(sample_report(), 1.0, 1e8), interval=60, log=lambda line: None)
    e.tick()
    assert e.idle.wait(10)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(e)
    return {s.name for family in registry.collect() for s in family.samples}


def dashboard() -> dict[str, Any]:
    return json.loads((MONITORING / "grafana-dashboard.json").read_text())


def exprs(panels: list[dict[str, Any]]) -> list[str]:
    return [t["expr"] for p in panels for t in p.get("targets", [])]


def test_rules_and_dashboard_use_only_exported_metrics() -> None:
    names = exported_names()
    rules = yaml.safe_load((MONITORING / "edgekit.rules.yml").read_text())
    rule_exprs = [str(r["expr"]) for g in rules["groups"] for r in g["rules"]]
    used = {m for text in rule_exprs + exprs(dashboard()["panels"]) for m in METRIC.findall(text)}
    assert used, "no edgekit metric referenced"
    assert used <= names, sorted(used - names)
    alerts = {r["alert"] for g in rules["groups"] for r in g["rules"]}
    assert {
        "EdgekitCheckFailing",
        "EdgekitEcmpDegraded",
        "EdgekitWireguardHandshakeStale",
        "EdgekitVipNotHeldByOne",
        "EdgekitExporterDown",
        "EdgekitExporterStale",
    } <= alerts


def test_dashboard_has_a_datasource_variable_and_a_row_per_cluster() -> None:
    dash = dashboard()
    variables = {v["name"]: v for v in dash["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource" and variables["datasource"]["query"] == "prometheus"
    assert variables["cluster"]["datasource"]["uid"] == "${datasource}"
    panels = dash["panels"]
    for panel in panels:
        if panel["type"] != "row":
            assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
            assert all(t["datasource"]["uid"] == "${datasource}" for t in panel["targets"]), panel["title"]
    rows = [i for i, p in enumerate(panels) if p["type"] == "row"]
    repeated = [i for i in rows if panels[i].get("repeat") == "cluster"]
    assert len(repeated) == 1
    start = repeated[0]
    end = next((i for i in rows if i > start), len(panels))
    in_row = panels[start + 1 : end]
    row_exprs = exprs(in_row)
    assert all('cluster="$cluster"' in e for e in row_exprs)
    shown = {m for e in row_exprs for m in METRIC.findall(e)}
    assert {
        "edgekit_bgp_sessions_established",
        "edgekit_ecmp_nexthops",
        "edgekit_vip_holder",
        "edgekit_wireguard_handshake_age_seconds",
        "edgekit_check_ok",
    } <= shown
    assert len({p["id"] for p in panels}) == len(panels)


@pytest.mark.programs("promtool")
def test_promtool_checks_and_unit_tests_of_the_rules_pass() -> None:
    for argv in (
        ["promtool", "check", "rules", "edgekit.rules.yml"],
        ["promtool", "test", "rules", "tests/edgekit.rules.test.yml"],
    ):
        proc = subprocess.run(argv, cwd=MONITORING, capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, proc.stdout + proc.stderr
