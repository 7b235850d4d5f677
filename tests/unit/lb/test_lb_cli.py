"""`python -m tasks.lb`: exit codes and the order of things (input errors before any device).

Only loopback is ever contacted: the LBs' management address is 127.0.0.1 on a closed port.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from checks import lb as lbchecks
from tasks.lb import main as lb_main
from tasks.lb.remote import SSHRemote
from tasks.lb.render import DEFAULT_TUNING
from tests.conftest import FIXTURES
from tests.unit.lb_fixtures import VRRP_ENV

STATE = str(FIXTURES / "samples" / "prd.tfstate")
LBS = ("k8s-lb-1-server-prd", "k8s-lb-2-server-prd")


def site(tmp_path: Path, **lb: object) -> str:
    data = {
        "defaults": {
            "lb": {"auth_pass": {"env": VRRP_ENV}, "credentials": {"username": "root", "port": 1}, **lb},
        },
        "clusters": {"prd": {"hosts": {name: {"management_address": "127.0.0.1"} for name in LBS}}},
    }
    path = tmp_path / "site.yaml"
    path.write_text(yaml.safe_dump(data))
    return str(path)


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("EDGEKIT_STATE", "EDGEKIT_SITE", "KUBECONFIG"):
        monkeypatch.delenv(var, raising=False)


def test_missing_secret_is_exit_2_before_any_device(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv(VRRP_ENV, raising=False)
    opened: list[str] = []
    monkeypatch.setattr(SSHRemote, "from_task", lambda task: opened.append(task.host.name))
    assert lb_main(["plan", "--state", STATE, "--site", site(tmp_path)]) == 2
    assert "clusters.prd.lb.auth_pass" in capsys.readouterr().err
    assert opened == []


def test_no_lb_selected_is_exit_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(VRRP_ENV, "abcdefgh")
    assert lb_main(["plan", "--state", STATE, "--site", site(tmp_path), "--limit", "nosuchhost"]) == 2


def test_unreachable_lbs_fail_the_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(VRRP_ENV, "abcdefgh")
    report = tmp_path / "report.json"
    rc = lb_main(["deploy", "--state", STATE, "--site", site(tmp_path), "--json", str(report)])
    assert rc == 1
    data = json.loads(report.read_text())
    assert [h["status"] for h in data["hosts"]] == ["failed", "failed"]
    assert all("\n" not in h["error"] for h in data["hosts"])


@pytest.mark.programs("haproxy")
def test_invalid_render_fails_that_host_without_connecting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(VRRP_ENV, "abcdefgh")
    monkeypatch.setitem(DEFAULT_TUNING, "balance", "fastest")
    opened: list[str] = []
    monkeypatch.setattr(SSHRemote, "from_task", lambda task: opened.append(task.host.name))
    report = tmp_path / "report.json"
    assert lb_main(["plan", "--state", STATE, "--site", site(tmp_path), "--json", str(report)]) == 1
    data = json.loads(report.read_text())
    assert all(h["error"].startswith("haproxy -c: parsing [/etc/haproxy/haproxy.cfg:") for h in data["hosts"])
    assert opened == []


def test_verify_without_lbs_writes_errors_to_json_and_junit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(VRRP_ENV, "abcdefgh")
    # The VIP is a lab/documentation address: point the /healthz request at loopback instead.
    monkeypatch.setattr(lbchecks, "fetch_healthz", lambda url, timeout, ca_file: (None, "refused"))
    report, junit = tmp_path / "r.json", tmp_path / "j.xml"
    args = ["verify", "--state", STATE, "--site", site(tmp_path), "--json", str(report), "--junit", str(junit)]
    assert lb_main(args) == 1
    data = json.loads(report.read_text())
    ids = sorted((c["host"], c["check"], c["status"]) for h in data["hosts"] for c in h["checks"])
    assert ("vip 203.0.113.10", "lb.vip", "fail") in ids
    assert ("k8s-lb-1-server-prd", "lb.backends", "error") in ids
    assert junit.read_text().count("<testcase ") == len(ids) == 8
