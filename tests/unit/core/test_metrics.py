"""tasks.core.metrics: the metric families from a constructed RunReport, the textfile written atomically, and
``verify --metrics`` refusing a path it could not write before anything runs."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from checks.verdict import errored, failed, passed
from tasks.core import metrics
from tasks.core.arguments import textfile_path
from tasks.core.report import HostReport, RunReport


def sample_report() -> RunReport:
    router = HostReport(host="k8s-router-1-prd", cluster="prd", role="router", status="failed")
    router.checks = [
        failed("bgp.peers", router.host, "prd", "node1 is Active", details={"expected": 3, "established": 2}),
        passed("bgp.unexpected", router.host, "prd", "every neighbor is a live speaker"),
        failed(
            "ecmp.routes",
            router.host,
            "prd",
            "via 2 of 3",
            "default/web 198.51.100.1",
            {"service": "default/web", "ip": "198.51.100.1", "expected": 3, "nexthops": 2},
        ),
        passed(
            "wireguard.handshake",
            router.host,
            "prd",
            "venue: handshake 12 s ago",
            "wg0",
            {"peer": "venue", "age_seconds": 12, "max_age_seconds": 180},
        ),
        passed("compliance.config", router.host, "prd", "equal", details={"extra": 0, "missing": 0}),
    ]
    dev = HostReport(host="k8s-router-1-dev", cluster="dev", role="router", status="failed")
    dev.checks = [
        errored("bgp.peers", dev.host, "dev", "ssh: timed out"),
        failed(
            "wireguard.handshake",
            dev.host,
            "dev",
            "venue: never shook hands",
            "wg0",
            {"peer": "venue", "age_seconds": None, "max_age_seconds": 180},
        ),
    ]
    lb1 = HostReport(host="prd-lb1", cluster="prd", role="lb")
    lb1.checks = [
        passed(
            "lb.backends", "prd-lb1", "prd", "3/3 UP", details={"backend": "apiserverbackend", "expected": 3, "up": 3}
        )
    ]
    vip = HostReport(host="vip 10.0.0.10", cluster="prd", role="vip")
    vip.checks = [
        failed(
            "lb.vip",
            "vip 10.0.0.10",
            "prd",
            "held by 2 LBs at once",
            details={"vip": "10.0.0.10", "holders": ["prd-lb1", "prd-lb2"], "answered": ["prd-lb1", "prd-lb2"]},
        )
    ]
    report = RunReport(command="edge verify", hosts=[router, dev, lb1, vip], started=1000.0)
    report.finished = 1004.5
    return report


def registry_of(report: RunReport) -> CollectorRegistry:
    return metrics.registry_for(report)


def test_check_status_per_cluster_host_check_subject() -> None:
    reg = registry_of(sample_report())
    key = {"cluster": "prd", "host": "k8s-router-1-prd", "check": "ecmp.routes", "subject": "default/web 198.51.100.1"}
    assert reg.get_sample_value("edgekit_check_ok", key) == 0.0
    assert reg.get_sample_value("edgekit_check_status", {**key, "status": "fail"}) == 1.0
    assert reg.get_sample_value("edgekit_check_status", {**key, "status": "pass"}) == 0.0
    unexpected = {"cluster": "prd", "host": "k8s-router-1-prd", "check": "bgp.unexpected", "subject": ""}
    assert reg.get_sample_value("edgekit_check_ok", unexpected) == 1.0
    dev = {"cluster": "dev", "host": "k8s-router-1-dev", "check": "bgp.peers", "subject": ""}
    assert reg.get_sample_value("edgekit_check_status", {**dev, "status": "error"}) == 1.0
    assert reg.get_sample_value("edgekit_checks", {"status": "pass"}) == 4.0
    assert reg.get_sample_value("edgekit_checks", {"status": "fail"}) == 4.0
    assert reg.get_sample_value("edgekit_checks", {"status": "error"}) == 1.0


def test_numbers_behind_the_verdicts() -> None:
    reg = registry_of(sample_report())
    router = {"cluster": "prd", "host": "k8s-router-1-prd"}
    assert reg.get_sample_value("edgekit_bgp_sessions_expected", router) == 3.0
    assert reg.get_sample_value("edgekit_bgp_sessions_established", router) == 2.0
    ecmp = {**router, "service": "default/web", "ip": "198.51.100.1"}
    assert reg.get_sample_value("edgekit_ecmp_nexthops", ecmp) == 2.0
    assert reg.get_sample_value("edgekit_ecmp_nexthops_expected", ecmp) == 3.0
    assert reg.get_sample_value("edgekit_wireguard_handshake_age_seconds", {**router, "interface": "wg0"}) == 12.0
    never = {"cluster": "dev", "host": "k8s-router-1-dev", "interface": "wg0"}
    assert reg.get_sample_value("edgekit_wireguard_handshake_age_seconds", never) == math.inf
    backend = {"cluster": "prd", "host": "prd-lb1", "backend": "apiserverbackend"}
    assert reg.get_sample_value("edgekit_haproxy_backends_up", backend) == 3.0
    assert reg.get_sample_value("edgekit_haproxy_backends_expected", backend) == 3.0
    for lb in ("prd-lb1", "prd-lb2"):
        assert reg.get_sample_value("edgekit_vip_holder", {"cluster": "prd", "vip": "10.0.0.10", "lb": lb}) == 1.0
    assert reg.get_sample_value("edgekit_vip_holders", {"cluster": "prd", "vip": "10.0.0.10"}) == 2.0
    assert reg.get_sample_value("edgekit_config_drift_lines", {**router, "kind": "extra"}) == 0.0
    # An errored check has no numbers: the host is left out, not reported as 0 sessions.
    assert reg.get_sample_value("edgekit_bgp_sessions_expected", {"cluster": "dev", "host": "k8s-router-1-dev"}) is None


def test_run_time_and_version() -> None:
    reg = registry_of(sample_report())
    assert reg.get_sample_value("edgekit_run_duration_seconds") == 4.5
    assert reg.get_sample_value("edgekit_last_run_timestamp_seconds") == 1004.5
    assert reg.get_sample_value("edgekit_last_success_timestamp_seconds") == 1004.5
    info = {"version": metrics.version(), "command": "edge verify"}
    assert reg.get_sample_value("edgekit_build_info", info) == 1.0


def test_vip_holder_count_left_out_when_an_lb_was_not_read() -> None:
    vip = HostReport(host="vip 10.0.0.10", cluster="prd", role="vip")
    details = {"vip": "10.0.0.10", "holders": ["prd-lb1"], "answered": ["prd-lb1"], "unknown": ["prd-lb2"]}
    vip.checks = [failed("lb.vip", vip.host, "prd", "not every LB answered", details=details)]
    reg = registry_of(RunReport(command="edge verify", hosts=[vip], started=1.0, finished=2.0))
    assert reg.get_sample_value("edgekit_vip_holder", {"cluster": "prd", "vip": "10.0.0.10", "lb": "prd-lb1"}) == 1.0
    assert reg.get_sample_value("edgekit_vip_holder", {"cluster": "prd", "vip": "10.0.0.10", "lb": "prd-lb2"}) is None
    assert reg.get_sample_value("edgekit_vip_holders", {"cluster": "prd", "vip": "10.0.0.10"}) is None


def test_report_from_json_round_trips_the_json_report() -> None:
    report = sample_report()
    again = metrics.report_from_json(json.loads(json.dumps(report.to_json(), default=str)))
    assert again.command == "edge verify" and again.finished == 1004.5
    assert [c for h in again.hosts for c in h.checks] == [c for h in report.hosts for c in h.checks]
    before = metrics.registry_for(report)
    after = metrics.registry_for(again)
    from prometheus_client import generate_latest

    assert generate_latest(before) == generate_latest(after)


def test_textfile_is_valid_exposition_and_replaced_atomically(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "edgekit.prom"
    metrics.write_textfile(sample_report(), str(target))
    names = {f.name for f in text_string_to_metric_families(target.read_text())}
    assert {"edgekit_check_ok", "edgekit_ecmp_nexthops", "edgekit_build_info"} <= names
    assert sorted(p.name for p in tmp_path.iterdir()) == ["edgekit.prom"]  # no temporary file left behind

    # The new content goes to a temporary file renamed over the old one: a reader sees old or new, never
    # half, and a failure while writing leaves the old file as it was.
    before = target.read_text()
    inode = target.stat().st_ino
    renames: list[tuple[str, str]] = []
    real_rename = os.rename

    def spy(src: str, dst: str) -> None:
        renames.append((str(src), str(dst)))
        assert Path(dst).read_text() == before  # still the complete old file until the rename
        real_rename(src, dst)

    monkeypatch.setattr(os, "rename", spy)
    metrics.write_textfile(sample_report(), str(target))
    assert len(renames) == 1 and renames[0][1] == str(target) and renames[0][0] != str(target)
    assert target.stat().st_ino != inode

    broken = sample_report()
    broken.hosts[0].checks = [object()]  # type: ignore[list-item]  # collecting fails halfway
    with pytest.raises(AttributeError):
        metrics.write_textfile(broken, str(target))
    assert target.read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["edgekit.prom"]


def test_metrics_option_refuses_a_missing_directory_before_running(tmp_path: Path) -> None:
    from tasks.router import build_parser

    parser = build_parser(("tasks.edge.arguments",), prog="python -m tasks.edge")
    with pytest.raises(SystemExit) as exc:
        parser.parse_args(["verify", "--metrics", str(tmp_path / "missing" / "edgekit.prom")])
    assert exc.value.code == 2
    args = parser.parse_args(["verify", "--metrics", str(tmp_path / "edgekit.prom")])
    assert args.metrics == str(tmp_path / "edgekit.prom")


def test_metrics_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    metrics.write_textfile(sample_report(), "-")
    names = {f.name for f in text_string_to_metric_families(capsys.readouterr().out)}
    assert {"edgekit_check_ok", "edgekit_vip_holders"} <= names
    assert textfile_path("-") == "-"
