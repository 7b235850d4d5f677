"""Every way a router deploy ends by edgekit's own decision leaves the router deployable (issue 22 item 1):
a gate that fails (the change broke the speakers' sessions, a short --gate-timeout), one Ctrl-C (the router
in progress finishes its gate, no other starts), two Ctrl-C (the gate ends now, restore in place); on VyOS
1.5/rolling (prd: edgekit sets `system config-management commit-confirm action reload` in the same deploy,
the path of the known bug), 1.4 (wsp) and 1.3 (dev). Each ends with `compare saved` empty, no timer, and a
next deploy with a change that exits 0 without --save-first (tests/lab/deploy_ends.py).

The ends that cut edgekit or its session are in test_deploy_ends_cut_lab.py (one lab per module: xdist's
--dist loadfile keeps a module on one worker).
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from tests.lab.deploy_ends import (
    ACTION,
    FAIL_ASN,
    VERSIONS,
    Deploy,
    assert_deployable,
    deployed_lab,
    failing_site,
    unset_action,
)
from tests.lab.helpers import router_running as running
from tests.lab.labrun import LabRun

pytestmark = pytest.mark.lab


@pytest.fixture(scope="module")
def lab() -> Iterator[LabRun]:
    with deployed_lab("ektde") as run:
        yield run


@pytest.mark.parametrize("version", ["1.5", "1.4", "1.3"])
def test_a_failed_gate_leaves_the_router_deployable(lab: LabRun, version: str) -> None:
    cluster = VERSIONS[version]
    unset_action(lab, cluster)
    before = running(lab, cluster)
    site = failing_site(lab, cluster, "gate", FAIL_ASN + 1)
    code, report, output = lab.edgekit_json(
        "deploy", "--cluster", cluster, "--site", site, "--gate-timeout", "8", "--confirm-timeout", "600"
    )
    host = report["hosts"][0]
    assert code == 1 and host["status"] == "reverted" and "gate failed" in host["error"], (host, output[-2000:])
    if cluster == "prd":  # the action edgekit set (committed and saved) stays: it is part of what was restored
        assert any("commit-confirm action reload (committed and saved)" in n for n in host["notes"]), host
        assert running(lab, cluster) == sorted([*before, ACTION])
    else:
        assert running(lab, cluster) == before
    assert_deployable(lab, cluster, "gate")


@pytest.mark.parametrize("version", ["1.5", "1.4", "1.3"])
def test_two_ctrl_c_during_the_gate_leave_the_router_deployable(lab: LabRun, version: str) -> None:
    cluster = VERSIONS[version]
    unset_action(lab, cluster)
    site = failing_site(lab, cluster, "ctrlc2", FAIL_ASN + 2)
    run = Deploy(lab, "--cluster", cluster, "--site", site, "--gate-timeout", "200", "--confirm-timeout", "600")
    run.wait_line(": gate")
    started = time.monotonic()
    run.ctrl_c(twice=True)
    code, report, output = run.finish()
    assert code == 130, output[-2000:]
    assert time.monotonic() - started < 60, "the gate was not cut short"
    host = report["hosts"][0]
    assert host["status"] == "reverted" and "second Ctrl-C" in host["error"], host
    assert host["timer_fires_at"] is None
    assert_deployable(lab, cluster, "ctrlc2")


@pytest.mark.parametrize("version", ["1.5", "1.3"])
def test_one_ctrl_c_lets_the_router_finish_and_leaves_it_deployable(lab: LabRun, version: str) -> None:
    cluster = VERSIONS[version]
    unset_action(lab, cluster)
    site = failing_site(lab, cluster, "ctrlc1", FAIL_ASN + 3)
    run = Deploy(lab, "--cluster", cluster, "--site", site, "--gate-timeout", "10", "--confirm-timeout", "600")
    run.wait_line(": gate")
    run.ctrl_c()
    code, report, output = run.finish()
    host = report["hosts"][0]
    # the router in progress finished its gate (it failed: the change broke its sessions) and restored
    assert code in (1, 130) and host["status"] == "reverted" and "gate failed" in host["error"], (host, output)
    assert_deployable(lab, cluster, "ctrlc1")
