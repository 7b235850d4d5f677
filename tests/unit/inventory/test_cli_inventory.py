"""`edgekit inventory`: formats, environment defaults, exit codes and one-line errors."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
import yaml

from inventory.nornir_plugin import TFStateInventory
from tasks.router import run
from tests.conftest import FIXTURES

SAMPLE = FIXTURES / "samples" / "prd.tfstate"
TF = FIXTURES / "tfstate"
SITE = TF / "site.yaml"
SECRET = "cli-secret-value"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("EDGEKIT_STATE", "EDGEKIT_SITE", "KUBECONFIG"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("EDGEKIT_TEST_ROUTER_PASSWORD", SECRET)


def test_json_is_nornir_inventory_dict(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["inventory", "--state", str(SAMPLE), "--site", str(SITE), "--format", "json"]) == 0
    out, err = capsys.readouterr()
    printed = json.loads(out)
    expected = TFStateInventory(states=str(SAMPLE), site=str(SITE)).load().dict()
    assert printed == json.loads(json.dumps(expected))
    assert set(printed) == {"hosts", "groups", "defaults"}
    assert SECRET not in out and SECRET not in err
    assert "no kubeconfig" in err  # warnings on stderr, stdout stays JSON


def test_environment_defaults_and_several_states(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EDGEKIT_STATE", f"{SAMPLE},{TF / 'dev.tfstate'}")
    monkeypatch.setenv("EDGEKIT_SITE", str(SITE))
    assert run(["inventory", "--format", "yaml"]) == 0
    doc = yaml.safe_load(capsys.readouterr().out)
    assert {"cluster_prd", "cluster_dev"} <= set(doc["groups"])
    assert doc["hosts"]["k8s-router-1-dev"]["hostname"] == "198.18.1.4"
    assert run(["inventory", "--cluster", "dev", "--limit", "k8s-router-1-dev", "--format", "json"]) == 0
    assert list(json.loads(capsys.readouterr().out)["hosts"]) == ["k8s-router-1-dev"]


def test_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["inventory", "--state", str(SAMPLE), "--site", str(SITE)]) == 0
    out = capsys.readouterr().out
    assert "k8s-router-1-prd" in out and "203.0.113.4" in out and "data only" in out
    assert "password env:EDGEKIT_TEST_ROUTER_PASSWORD" in out and SECRET not in out
    assert "speakers (tfstate)" in out


def test_bad_input_exit_2_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = json.loads(SAMPLE.read_text())
    doc["resources"][6]["instances"][1]["attributes"]["ip_address"] = "203.0.113.999"
    path = tmp_path / "prd.tfstate"
    path.write_text(json.dumps(doc))
    assert run(["inventory", "--state", str(path)]) == 2
    err = capsys.readouterr().err
    assert err == (
        f"error: {path} at resources[6].instances[1].attributes.ip_address: "
        "'203.0.113.999' is not a valid IPv4 address\n"
    )


def test_no_state_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["inventory"]) == 2
    assert "EDGEKIT_STATE" in capsys.readouterr().err


def test_unknown_limit_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["inventory", "--state", str(SAMPLE), "--limit", "nope"]) == 2
    assert capsys.readouterr().err == "error: --limit: no such host: nope\n"


def test_unreachable_exit_3(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    assert run(["inventory", "--state", f"http://127.0.0.1:{port}/state"]) == 3
    err = capsys.readouterr().err
    assert (
        err.startswith(f"error: http://127.0.0.1:{port}/state: cannot reach the HTTP backend") and err.count("\n") == 1
    )
