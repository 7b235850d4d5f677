"""`deploy` against real VyOS commit-confirm semantics in the lab: a VyOS 1.4 router (prd), on which
edgekit sets `system config-management commit-confirm action reload`, a VyOS 1.3 router (dev), which
can only reboot, and a 1.4 release without that node (wsp), on which edgekit falls back to a reboot.

What a dead edgekit costs per dialect (a reload in place vs a reboot), the refusal of a router with
unsaved commits or someone else's pending confirm, `--save-first`, a second Ctrl-C that restores in
place, two runs against one router, and no `changed` for "No configuration changes to commit".
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator

import pytest

from tests.lab.deploy_ends import Deploy
from tests.lab.helpers import deploy_ok, own_lab, site_with_routers
from tests.lab.helpers import router_cli as vyos
from tests.lab.helpers import router_running as running
from tests.lab.helpers import router_show as show
from tests.lab.helpers import wait_for as _wait_for
from tests.lab.labrun import LabRun

pytestmark = pytest.mark.lab

MINUTE_SECONDS = "6"  # one VyOS minute in the lab: a 1-minute timer fires after 6 s
BOOT_SECONDS = "3"  # how long a lab reboot keeps the router down
SERVICE = {"prd": "198.51.100.1", "dev": "198.51.100.17"}
NODES = {
    "prd": ["203.0.113.11", "203.0.113.12", "203.0.113.13"],
    "dev": ["203.0.113.27", "203.0.113.28", "203.0.113.29"],
}
ACTION = "set system config-management commit-confirm action 'reload'"


# The harness's show/vyos/running_config ask `lab env` and `lab status` on every call (about 5 s each);
# these read them once per lab.
@pytest.fixture(scope="module")
def lab() -> Iterator[LabRun]:
    # prd: VyOS 1.5/rolling, the release with `system config-management commit-confirm action` (T5976);
    # wsp: VyOS 1.4, which lacks it (no 1.4 release tag of vyos-1x has the node)
    up = ("--clusters", "prd,dev,wsp", "--vyos", "prd=1.5,dev=1.3,wsp=1.4")
    with own_lab("ektdc", *up, EDGEKIT_LAB_MINUTE_SECONDS=MINUTE_SECONDS, EDGEKIT_LAB_BOOT_SECONDS=BOOT_SECONDS) as run:
        yield run


def wait_for(predicate: Callable[[], bool], timeout: float = 30.0, interval: float = 0.2) -> bool:
    return _wait_for(predicate, timeout, interval)


def nexthops(lab: LabRun, cluster: str) -> list[str]:
    out = lab.sh(f"{cluster}-router", f"ip -4 route show {SERVICE[cluster]}", check=False).stdout
    return sorted(re.findall(r"nexthop via (\S+)", out))


@pytest.fixture(scope="module")
def deployed(lab: LabRun) -> dict:
    code, report, output = lab.edgekit_json("plan")
    assert code == 10, output
    hosts = {h["cluster"]: h for h in report["hosts"]}
    # plan states per router what an unconfirmed change would cost
    assert hosts["prd"]["rollback"] == "reload" and hosts["dev"]["rollback"] == "reboot", output
    assert hosts["wsp"]["rollback"] == "reboot", output
    assert any("lacks system config-management commit-confirm action" in n for n in hosts["wsp"]["notes"])
    assert "reloads its previous config in place" in output and "REBOOTS into its saved config" in output
    return deploy_ok(lab)


def test_first_deploy_sets_action_reload_on_14_and_says_13_reboots(lab: LabRun, deployed: dict) -> None:
    hosts = {h["cluster"]: h for h in deployed["hosts"]}
    assert hosts["prd"]["status"] == "changed" and hosts["dev"]["status"] == "changed"
    assert hosts["prd"]["rollback"] == "reload" and hosts["dev"]["rollback"] == "reboot"
    assert any("commit-confirm action reload (committed and saved)" in n for n in hosts["prd"]["notes"])
    assert any("VyOS 1.3 cannot revert in place" in n for n in hosts["dev"]["notes"])
    assert ACTION in running(lab, "prd")
    # the 1.4 router without the node: deployed all the same, its timer announced a reboot
    assert hosts["wsp"]["status"] == "changed" and hosts["wsp"]["rollback"] == "reboot"
    assert not any("config-management commit-confirm" in line for line in running(lab, "wsp"))
    assert not any("config-management commit-confirm" in line for line in running(lab, "dev"))
    for cluster in ("prd", "dev"):  # confirmed and saved: nothing left unsaved
        assert not unsaved(lab, cluster)


def unsaved(lab: LabRun, cluster: str) -> bool:
    """`compare saved` shows +/- lines (1.4 says "No changes between ..." when none, 1.3 prints nothing)."""
    out = vyos(lab, cluster, "configure", "compare saved")
    return any(line.lstrip().startswith(("+", "-")) for line in out.splitlines())


def kill_at_gate(lab: LabRun, cluster: str, asn: int) -> list[str]:
    """Start a deploy whose change fails the gate, SIGKILL it once it is in its gate (after commit-confirm)."""
    before = running(lab, cluster)
    site = site_with_routers(lab, f"site-kill-{cluster}.yaml", **{cluster: {"asn": asn}})
    # 2 VyOS minutes: 12 s in this lab, time enough to see the change committed before its timer fires.
    run = Deploy(lab, "--cluster", cluster, "--site", str(site), "--confirm-timeout", "120", "--gate-timeout", "25")
    try:
        run.wait_line(": gate")
        assert any(str(asn) in line for line in running(lab, cluster))  # committed, not confirmed
    finally:
        run.kill()
    return before


def watch_revert(lab: LabRun, cluster: str, before: list[str], timeout: float) -> list[float]:
    """Wait until the router's config is ``before`` again; return the moments SSH did not answer. (The
    address is cached: a rebooting router has none, so `lab status` cannot name it meanwhile.)"""
    down: list[float] = []
    started = time.monotonic()

    def reverted() -> bool:
        out = show(lab, cluster, "show configuration commands")
        if not out:
            down.append(round(time.monotonic() - started, 1))
            return False
        return sorted(line.strip() for line in out.splitlines() if line.strip()) == before

    assert wait_for(reverted, timeout=timeout), f"{cluster} never got its previous config back"
    return down


def test_killed_edgekit_on_14_costs_an_in_place_reload_not_a_reboot(lab: LabRun, deployed: dict) -> None:
    # A reboot would stay down while hold-boot exists, so it cannot pass unseen between two polls.
    hold = lab.state_dir / "hosts" / "prd-router" / "run" / "hold-boot"
    hold.touch()
    try:
        before = kill_at_gate(lab, "prd", 65041)
        down = watch_revert(lab, "prd", before, timeout=6 * float(MINUTE_SECONDS))
    finally:
        hold.unlink(missing_ok=True)
    assert not down, f"the router stopped answering SSH at {down} s: it rebooted"
    assert wait_for(lambda: nexthops(lab, "prd") == NODES["prd"], timeout=30)


def test_killed_edgekit_on_13_costs_a_reboot(lab: LabRun, deployed: dict) -> None:
    # The lab's hold-boot file keeps a rebooting router down until it is removed: the reboot cannot slip by
    # between two polls, however busy the machine (lab/vyos/README.md).
    hold = lab.state_dir / "hosts" / "dev-router" / "run" / "hold-boot"
    hold.touch()
    try:
        before = kill_at_gate(lab, "dev", 65042)
        rebooting = wait_for(lambda: not show(lab, "dev", "show version"), timeout=6 * float(MINUTE_SECONDS) + 30)
        assert rebooting, "the router answered SSH all along: it did not reboot"
    finally:
        hold.unlink(missing_ok=True)
    watch_revert(lab, "dev", before, timeout=60)  # back from its boot with the saved config
    assert wait_for(lambda: nexthops(lab, "dev") == NODES["dev"], timeout=60)  # BGP back after the boot


def test_unsaved_commits_refuse_the_router_and_save_first_saves_them(lab: LabRun, deployed: dict) -> None:
    vyos(lab, "prd", "configure", "set interfaces ethernet eth0 description 'someone'", "commit")
    site = site_with_routers(lab, "site-unsaved.yaml", prd={"description": "unsaved-test"})
    code, report, output = lab.edgekit_json("deploy", "--cluster", "prd", "--site", str(site))
    assert code == 1, output
    prd = report["hosts"][0]
    assert prd["status"] == "failed" and "not saved" in prd["error"] and "--save-first" in prd["error"]
    assert "set interfaces ethernet eth1 description 'unsaved-test'" not in running(lab, "prd")

    code, report, output = lab.edgekit_json("deploy", "--cluster", "prd", "--site", str(site), "--save-first")
    assert code == 0, output
    prd = report["hosts"][0]
    assert prd["status"] == "changed" and any("--save-first" in n for n in prd["notes"])
    now = running(lab, "prd")
    assert "set interfaces ethernet eth1 description 'unsaved-test'" in now
    assert "set interfaces ethernet eth0 description 'someone'" in now  # kept, and now saved
    assert not unsaved(lab, "prd")


def test_someone_elses_pending_confirm_on_14_is_the_lock(lab: LabRun, deployed: dict) -> None:
    # An operator's commit-confirm waits for its confirm (the question answered with y on the next line).
    vyos(lab, "prd", "configure", "set interfaces ethernet eth0 description 'operator'", "commit-confirm 30", "y")
    try:
        site = site_with_routers(lab, "site-pending.yaml", prd={"description": "pending-test"})
        code, report, output = lab.edgekit_json("deploy", "--cluster", "prd", "--site", str(site))
        assert code == 1 and "not saved" in report["hosts"][0]["error"], output  # the pending change is unsaved
        code, report, output = lab.edgekit_json("deploy", "--cluster", "prd", "--site", str(site), "--save-first")
        assert code == 1, output
        prd = report["hosts"][0]
        assert prd["status"] == "failed" and "Another confirm is pending" in prd["error"], prd
        assert "set interfaces ethernet eth1 description 'pending-test'" not in running(lab, "prd")
    finally:
        out = vyos(lab, "prd", "configure", "confirm", "save")
    assert "timer stopped" in out  # the operator's timer was still theirs to stop


def test_someone_elses_pending_confirm_on_13_is_taken_out_again(lab: LabRun, deployed: dict) -> None:
    vyos(lab, "dev", "configure", "set interfaces ethernet eth0 description 'operator'", "commit-confirm 30", "y")
    try:
        site = site_with_routers(lab, "site-pending13.yaml", dev={"description": "pending-13"})
        code, report, output = lab.edgekit_json("deploy", "--cluster", "dev", "--site", str(site), "--save-first")
        assert code == 1, output
        dev = report["hosts"][0]
        # 1.3 commits anyway under the operator's timer: edgekit takes its change out in place
        assert dev["status"] == "reverted" and "Another confirm is pending" in dev["error"], dev
        assert "set interfaces ethernet eth1 description 'pending-13'" not in running(lab, "dev")
        # --save-first saved the operator's change; taking edgekit's out leaves running == saved (issue 22)
        assert not unsaved(lab, "dev")
    finally:
        out = vyos(lab, "dev", "configure", "confirm", "save")
    assert "No confirm pending" not in out  # edgekit left the operator's timer running


def test_second_ctrl_c_restores_in_place_at_once_and_writes_the_report(lab: LabRun, deployed: dict) -> None:
    before = running(lab, "prd")
    site = site_with_routers(lab, "site-ctrlc.yaml", prd={"asn": 65043})
    run = Deploy(lab, "--cluster", "prd", "--site", str(site), "--gate-timeout", "200", "--confirm-timeout", "600")
    run.wait_line(": gate")
    started = time.monotonic()
    run.ctrl_c(twice=True)
    code, report, output = run.finish()
    assert code == 130, output
    assert time.monotonic() - started < 60, "the gate was not cut short"
    prd = report["hosts"][0]
    assert prd["status"] == "reverted" and "second Ctrl-C" in prd["error"], prd
    assert prd["timer_fires_at"] is None
    assert running(lab, "prd") == before
    assert "No confirm pending" in vyos(lab, "prd", "configure", "confirm")  # the timer was stopped


def test_a_second_run_against_the_same_router_fails_fast(lab: LabRun, deployed: dict) -> None:
    # The first run's gate must wait long: node3's link is cut and its neighbor removed by hand, so the session
    # the deploy adds back is new to the gate and has the whole --gate-timeout to come up (a session the change
    # broke would end the gate after its grace: issue 22 #2).
    lab.lab("fault", "prd-node3", "link-down")
    try:
        vyos(lab, "prd", "configure", f"delete protocols bgp neighbor {NODES['prd'][2]}", "commit", "save")
        before = running(lab, "prd")
        first = Deploy(lab, "--cluster", "prd", "--gate-timeout", "200", "--confirm-timeout", "600")
        try:
            first.wait_line(": gate")
            started = time.monotonic()
            code, report, output = lab.edgekit_json("deploy", "--cluster", "prd")
            assert time.monotonic() - started < 30, output
            assert code == 1, output
            prd = report["hosts"][0]
            assert prd["status"] == "failed" and "another edgekit run is deploying to this router" in prd["error"]
            assert f"pid {first.proc.pid}" in prd["error"]
        finally:
            first.ctrl_c(twice=True)
            code, report, output = first.finish()
        assert report["hosts"][0]["status"] == "reverted", output
        assert running(lab, "prd") == before
    finally:
        lab.lab("heal", "prd-node3")
    code, report, output = lab.edgekit_json("deploy", "--cluster", "prd", "--gate-timeout", "120")
    assert code == 0 and report["hosts"][0]["status"] == "changed", output  # node3's neighbor is back


def test_nothing_to_commit_is_never_reported_changed(lab: LabRun, deployed: dict) -> None:
    # prd lacks its description (removed by hand and saved), so its whole change is one `set`. The rollout
    # takes dev first; dev's gate waits for node3, whose link is cut (its speaker still Ready) and whose
    # neighbor was removed by hand, so the session dev's deploy adds back is new to the gate (a speaker down
    # before the change would pass it, reported: issue 22 #2). Meanwhile an operator makes prd's change by hand
    # (committed and saved). Then node3 comes back, dev passes, and prd's commit-confirm has nothing to commit.
    vyos(lab, "prd", "configure", "delete interfaces ethernet eth1 description", "commit", "save")
    lab.lab("fault", "dev-node3", "link-down")
    try:
        vyos(lab, "dev", "configure", f"delete protocols bgp 65020 neighbor {NODES['dev'][2]}", "commit", "save")
        assert wait_for(lambda: NODES["dev"][2] not in nexthops(lab, "dev"), timeout=120)
        site = site_with_routers(lab, "site-same.yaml", dev={"description": "same-dev"})
        code, report, output = lab.edgekit_json("plan", "--site", str(site), "--cluster", "prd")
        assert report["hosts"][0]["commands"] == ["set interfaces ethernet eth1 description 'k8s-nodes'"], output
        # After the heal node3's session comes back with the next connection attempt of either end: the link was
        # down longer than the 90 s hold, so both wait out BGP's connect-retry timer (FRR's default 120 s; the
        # speakers render MetalLB's config, which sets none). The gate waits up to 170 s for that, inside a
        # commit-confirm window of 40 lab minutes (240 s; the default 5 lab minutes = 30 s would reboot dev).
        run = Deploy(
            lab, "--site", str(site), "--cluster", "dev,prd", "--gate-timeout", "170", "--confirm-timeout", "2400"
        )
        run.wait_line("k8s-router-1-dev: gate")
        vyos(lab, "prd", "configure", "set interfaces ethernet eth1 description 'k8s-nodes'", "commit", "save")
    finally:
        lab.lab("heal", "dev-node3")
    code, report, output = run.finish(timeout=300)
    hosts = {h["cluster"]: h for h in report["hosts"]}
    assert code == 0, ([(h["host"], h["status"], h["error"]) for h in report["hosts"]], output[-4000:])
    assert hosts["dev"]["status"] == "changed"
    assert hosts["prd"]["status"] == "unchanged", hosts["prd"]
    assert any("No configuration changes to commit" in n for n in hosts["prd"]["notes"])
    assert "No confirm pending" in vyos(lab, "prd", "configure", "confirm")  # and no timer was left running
