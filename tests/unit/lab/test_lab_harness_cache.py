"""lab.harness.LabRun asks `lab env` and the addresses in `lab status` once per lab life; health stays fresh."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from lab import harness
from lab.harness import LabRun


class Counting(LabRun):
    """A LabRun whose `python -m lab` (subprocess.run, patched) answers from memory and counts the calls."""

    calls: list[str]
    address_of_r: str

    def fake_run(self, argv: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
        command = argv[3]  # [python, -m, lab, COMMAND, ...]
        self.calls.append(command)
        if command == "env":
            out = "export EDGEKIT_SSH_KEY=/k\nexport EDGEKIT_KNOWN_HOSTS='/kh'\n"
        elif command == "status":
            hosts = [{"name": "prd-router", "addresses": [f"eth0 {self.address_of_r}/24", "eth1 10.0.0.1/24"]}]
            out = json.dumps(hosts)
        else:
            out = ""
        return subprocess.CompletedProcess(argv, 0, out, "")


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Counting:
    r = Counting("ekc", tmp_path)
    r.calls = []
    r.address_of_r = "192.0.2.1"
    monkeypatch.setattr(harness.subprocess, "run", r.fake_run)
    return r


def test_env_and_addresses_asked_once(run: Counting) -> None:
    assert run.router_address("prd") == "192.0.2.1"
    assert run.router_address("prd") == "192.0.2.1"
    env = run.lab_env()
    env["EDGEKIT_SSH_KEY"] = "changed by a caller"
    assert run.lab_env() == {"EDGEKIT_SSH_KEY": "/k", "EDGEKIT_KNOWN_HOSTS": "/kh"}
    assert run.calls == ["status", "env"]
    run.status()  # health: always asked afresh
    run.host("prd-router")
    assert run.calls == ["status", "env", "status", "status"]


def test_up_and_down_drop_the_cache(run: Counting) -> None:
    assert run.address("prd-router") == "192.0.2.1"
    run.address_of_r = "192.0.2.9"
    run.up()
    assert run.address("prd-router") == "192.0.2.9"
    run.address_of_r = "192.0.2.7"
    run.down()
    assert run.address("prd-router") == "192.0.2.7"
    run.address_of_r = "192.0.2.5"
    run.lab("up", "--clusters", "prd")  # however `up` is called (the benchmarks call lab("up", ...))
    assert run.address("prd-router") == "192.0.2.5"
    with pytest.raises(KeyError, match="no eth0 address for host 'nosuch'"):
        run.address("nosuch")
