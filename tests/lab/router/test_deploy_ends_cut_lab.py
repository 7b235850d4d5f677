"""Every way a router deploy ends when edgekit or its session is cut leaves the router deployable (issue 22
items 1 and 3), on VyOS 1.5/rolling (prd, `commit-confirm action reload` set by edgekit in the same deploy),
1.4 (wsp) and 1.3 (dev):

- an error after commit-confirm's question was answered (the read of its output fails, as a read timeout
  does): a confirm may be pending; edgekit restores in place on a fresh session, stops the timer, says so;
- edgekit SIGKILLed (to the router: its SSH session drops) right after it committed `action reload`
  and before its save; in its gate (the router's own timer reloads in place on 1.5); during its restore,
  after the inverse change and before `confirm` stopped the timer (the timer then fires on a config that is
  already the previous one).

The cuts at commit-confirm, confirm and save of 1.3 and 1.4 are in test_deploy_cut_lab.py. Each case ends
with `compare saved` empty, no timer, and a next deploy with a change that exits 0 without --save-first
(after the timer fired where one runs: a bounded wait on the router's state).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.lab.deploy_ends import (
    ACTION,
    FAIL_ASN,
    GATE,
    VERSIONS,
    Deploy,
    TimerWatch,
    assert_deployable,
    deployed_lab,
    failing_site,
    no_timer,
    unsaved,
    unset_action,
    wait_reverted,
)
from tests.lab.helpers import router_running as running
from tests.lab.helpers import site_with_routers, wait_for
from tests.lab.labrun import LabRun

pytestmark = pytest.mark.lab

CUT = "tests.lab.deploy_cut"


@pytest.fixture(scope="module")
def lab() -> Iterator[LabRun]:
    with deployed_lab("ektdk") as run:
        yield run


@pytest.mark.parametrize("version", ["1.5", "1.4", "1.3"])
def test_an_error_after_the_confirm_question_restores_and_leaves_the_router_deployable(
    lab: LabRun, version: str
) -> None:
    cluster = VERSIONS[version]
    unset_action(lab, cluster)
    before = running(lab, cluster)
    site = str(site_with_routers(lab, f"site-answer-{cluster}.yaml", **{cluster: {"description": "after-answer"}}))
    run = Deploy(lab, "--cluster", cluster, "--site", site, *GATE, module=CUT, EDGEKIT_TEST_FAULT="after-answer")
    code, report, output = run.finish()
    assert "FAULT-AFTER-ANSWER" in output, output[-2000:]
    host = report["hosts"][0]
    assert code == 1, (host, output[-2000:])
    # said so: a confirm may have been pending; restored in place, the timer stopped
    said = "\n".join([host["error"], *host["notes"]])
    assert host["status"] == "reverted" and "timer may be running" in host["error"], said
    assert any("restored in place" in n for n in host["notes"]), host
    assert host["timer_fires_at"] is None and no_timer(lab, cluster)
    assert running(lab, cluster) == (sorted([*before, ACTION]) if cluster == "prd" else before)
    assert_deployable(lab, cluster, "answer")


def test_killed_after_setting_the_action_before_its_save_leaves_the_router_deployable(lab: LabRun) -> None:
    cluster = VERSIONS["1.5"]
    unset_action(lab, cluster)
    site = str(site_with_routers(lab, "site-cut-action.yaml", **{cluster: {"description": "cut-action"}}))
    run = Deploy(lab, "--cluster", cluster, "--site", site, *GATE, module=CUT, EDGEKIT_TEST_CUT="action")
    try:
        run.wait_line("CUT-AT-ACTION")
    finally:
        run.kill()
    assert ACTION in running(lab, cluster)  # committed, not saved: edgekit's own commit
    assert "action reload" in unsaved(lab, cluster)
    host = assert_deployable(lab, cluster, "action", saved_before=False)
    assert any("interrupted deploy" in n for n in host["notes"]), host  # proven its own, and saved


@pytest.mark.parametrize("version", ["1.5", "1.3"])
def test_killed_in_the_gate_the_routers_timer_leaves_it_deployable(lab: LabRun, version: str) -> None:
    cluster = VERSIONS[version]
    unset_action(lab, cluster)
    before = running(lab, cluster)
    site = failing_site(lab, cluster, "cut-gate", FAIL_ASN + 4)
    # 1 VyOS minute (4 s here): the router's own timer fires soon after the cut
    run = Deploy(lab, "--cluster", cluster, "--site", site, "--confirm-timeout", "60", "--gate-timeout", "25")
    try:
        run.wait_line(": gate")
        assert any(str(FAIL_ASN + 4) in line for line in running(lab, cluster))  # committed, not confirmed
    finally:
        run.kill()
    # 1.5 reloads the revision before the change in place (it has the action edgekit set); 1.3 reboots into
    # config.boot (saved before the change)
    wait_reverted(lab, cluster, sorted([*before, ACTION]) if cluster == "prd" else before, timeout=90)
    assert wait_for(lambda: no_timer(lab, cluster), timeout=30)
    assert_deployable(lab, cluster, "cut-gate")


@pytest.mark.parametrize("version", ["1.5", "1.3"])
def test_killed_during_the_restore_leaves_the_router_deployable(lab: LabRun, version: str) -> None:
    cluster = VERSIONS[version]
    unset_action(lab, cluster)
    before = running(lab, cluster)
    wanted = sorted([*before, ACTION]) if cluster == "prd" else before
    site = failing_site(lab, cluster, "cut-restore", FAIL_ASN + 5)
    watch = TimerWatch(lab, cluster)
    try:
        # 3 VyOS minutes (12 s here): the gate (3 s) fails and the restore starts well before the timer fires
        run = Deploy(
            lab, "--cluster", cluster, "--site", site, "--gate-timeout", "3", "--confirm-timeout", "180",
            module=CUT, EDGEKIT_TEST_CUT="restore",
        )  # fmt: skip
        try:
            run.wait_line("CUT-AT-RESTORE")
        finally:
            run.kill()
        assert not watch.fired(), "the timer fired before the restore: the test's timing is off"
        assert running(lab, cluster) == wanted  # the inverse change is in; our timer still runs
        # the timer fires on a config that is the previous one already (1.5: revert_soft() reloads revision 0,
        # the restore's own commit; 1.3: config.boot, saved before the change, and a reboot)
        assert wait_for(watch.fired, timeout=60), f"the timer never fired: {watch.output[-500:]!r}"
    finally:
        watch.close()
    wait_reverted(lab, cluster, wanted, timeout=90)
    assert_deployable(lab, cluster, "cut-restore")
