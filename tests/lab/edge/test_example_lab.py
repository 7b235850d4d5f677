"""examples/nornir_script.py (a user's own Nornir script on edgekit's inventory plugin and tasks) against the
lab: run in the operator namespace with the lab's environment, before and after `edgekit deploy`."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator

import pytest

from tests.lab.helpers import own_lab
from tests.lab.labrun import REPO, LabRun

pytestmark = pytest.mark.lab

SCRIPT = str(REPO / "examples" / "nornir_script.py")
ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture(scope="module")
def lab() -> Iterator[LabRun]:
    with own_lab("ektex", "--clusters", "dev") as run:
        yield run


def example(lab: LabRun) -> tuple[int, str]:
    proc = lab.lab("exec", "--", sys.executable, SCRIPT, "dev", check=False, timeout=180)
    return proc.returncode, ANSI.sub("", proc.stdout + proc.stderr)


def section(output: str, task: str) -> str:
    """The print_result block of one task (from its header to its END line)."""
    start = output.index(f"vvvv {task} ")
    return output[start : output.index(f"^^^^ END {task} ", start)]


def test_example_script_plans_and_verifies_before_and_after_deploy(lab: LabRun) -> None:
    code, out = example(lab)
    assert code == 1, out  # the boot config: not deployed, so verify fails
    assert "Version:          VyOS 1.4" in section(out, "netmiko_send_command"), out
    plan = section(out, "plan")
    assert "plan ** changed : True" in plan, out
    assert "set protocols bgp" in plan and "set interfaces wireguard wg0 private-key '********'" in plan, plan
    assert "verify ** changed : False" in out and "status='fail'" in section(out, "verify"), out

    deployed = lab.edgekit("deploy")
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr

    code, out = example(lab)
    assert code == 0, out
    assert "plan ** changed : False" in section(out, "plan"), out
    checks = section(out, "verify")
    assert "check='bgp.peers'" in checks and "status='fail'" not in checks and "status='error'" not in checks, out
