"""A deploy cut at each of its steps, on a VyOS 1.4 router (prd: sagitta, without `system
config-management commit-confirm action`, so its timer reboots) and a VyOS 1.3 router (dev), and the next
deploy converging without `--save-first` (issue 21 item 4, issue 22).

The cut is a SIGKILL of edgekit (tests/lab/deploy_cut.py) at the moment named: to the router an SSH
session that drops. After it:
- right after commit-confirm: the router's own timer reverts it (a reboot into the saved config, on both);
  the next deploy makes the change again and confirms and saves it;
- right after confirm, before save: the change is running and not saved; the next deploy has nothing to
  change, finds from the router's commit log that the unsaved commit is edgekit's own, and saves it;
- during save: whatever the router made of it, the next deploy leaves running == saved.
Every case ends with `compare saved` empty and no timer pending.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from tests.lab.helpers import router_cli as vyos
from tests.lab.helpers import router_running as running
from tests.lab.helpers import router_show as show
from tests.lab.helpers import site_with_routers as site_with
from tests.lab.helpers import wait_for
from tests.lab.labrun import REPO, LabRun

pytestmark = pytest.mark.lab

MINUTE_SECONDS = "4"  # one VyOS minute: the cut commit-confirm's 1-minute timer fires after 4 s
BOOT_SECONDS = "2"
# After a reboot the speakers' sessions come back by BGP's own retries: a long gate, inside a commit-confirm
# window of 60 VyOS minutes (240 s here).
GATE = ("--gate-timeout", "150", "--confirm-timeout", "3600")
# The cut deploys: the commit-confirm cut wants a short timer (1 VyOS minute, the least), so a short gate.
CUT = {"commit-confirm": ("--confirm-timeout", "60", "--gate-timeout", "25")}


def unsaved(lab: LabRun, cluster: str) -> bool:
    """`compare saved` shows +/- lines (1.4 says "No changes between ..." when none, 1.3 prints nothing)."""
    out = vyos(lab, cluster, "configure", "compare saved")
    return any(line.lstrip().startswith(("+", "-")) for line in out.splitlines())


@pytest.fixture(scope="module")
def lab() -> Iterator[LabRun]:
    run = LabRun.create("ektcut", EDGEKIT_LAB_MINUTE_SECONDS=MINUTE_SECONDS, EDGEKIT_LAB_BOOT_SECONDS=BOOT_SECONDS)
    try:
        run.up("--clusters", "prd,dev", "--vyos", "prd=1.4,dev=1.3")
        code, report, output = run.edgekit_json("deploy", *GATE)
        assert code == 0, output
        yield run
    finally:
        run.down()


def cut_deploy(lab: LabRun, step: str, cluster: str, site: str) -> None:
    """Run a deploy that stops at ``step`` and SIGKILL it there (its whole process group)."""
    env = dict(lab.env, EDGEKIT_TEST_CUT=step)
    proc = subprocess.Popen(
        [sys.executable, "-m", "lab", "exec", "--", sys.executable, "-m", "tests.lab.deploy_cut", "deploy"]
        + ["--cluster", cluster, "--site", site, *CUT.get(step, GATE)],
        cwd=REPO,
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    seen: list[str] = []
    try:
        assert proc.stderr is not None
        for line in proc.stderr:  # bounded by the deploy's own timeouts (connect, gate)
            seen.append(line)
            if f"CUT-AT-{step.upper()}" in line:
                break
        else:
            pytest.fail(f"the deploy never reached {step}:\n{''.join(seen)}")
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)


def no_timer(lab: LabRun, cluster: str) -> bool:
    return "No confirm pending" in vyos(lab, cluster, "configure", "confirm")


def description_line(description: str) -> str:
    return f"set interfaces ethernet eth1 description '{description}'"


@pytest.mark.parametrize("cluster", ["prd", "dev"], ids=["1.4", "1.3"])
def test_cut_right_after_confirm_then_the_next_deploy_saves_its_own_commit(lab: LabRun, cluster: str) -> None:
    site = str(
        site_with(lab, f"site-cut-confirm-{cluster}.yaml", **{cluster: {"description": f"cut-confirm-{cluster}"}})
    )
    cut_deploy(lab, "confirm", cluster, site)
    assert description_line(f"cut-confirm-{cluster}") in running(lab, cluster)
    assert unsaved(lab, cluster), "the cut left the confirmed change unsaved"
    code, report, output = lab.edgekit_json("deploy", "--cluster", cluster, "--site", site, *GATE)
    assert code == 0, output
    host = report["hosts"][0]
    assert host["status"] == "unchanged" and any("interrupted deploy" in n for n in host["notes"]), host
    assert not unsaved(lab, cluster) and no_timer(lab, cluster)


@pytest.mark.parametrize("cluster", ["prd", "dev"], ids=["1.4", "1.3"])
def test_cut_during_save_then_the_next_deploy_converges(lab: LabRun, cluster: str) -> None:
    site = str(site_with(lab, f"site-cut-save-{cluster}.yaml", **{cluster: {"description": f"cut-save-{cluster}"}}))
    cut_deploy(lab, "save", cluster, site)
    code, report, output = lab.edgekit_json("deploy", "--cluster", cluster, "--site", site, *GATE)
    assert code == 0, output
    assert report["hosts"][0]["status"] in ("unchanged", "changed"), report["hosts"][0]
    assert description_line(f"cut-save-{cluster}") in running(lab, cluster)
    assert not unsaved(lab, cluster) and no_timer(lab, cluster)


@pytest.mark.parametrize("cluster", ["prd", "dev"], ids=["1.4", "1.3"])
def test_cut_right_after_commit_confirm_then_the_router_reverts_and_the_next_deploy_converges(
    lab: LabRun, cluster: str
) -> None:
    before = running(lab, cluster)
    wanted = description_line(f"cut-cc-{cluster}")
    site = str(site_with(lab, f"site-cut-cc-{cluster}.yaml", **{cluster: {"description": f"cut-cc-{cluster}"}}))
    cut_deploy(lab, "commit-confirm", cluster, site)
    assert wanted in running(lab, cluster)  # committed, its timer running
    # The router's own timer (1 lab minute) reboots it into its saved config: bounded wait for that state.
    started = time.monotonic()
    assert wait_for(lambda: running(lab, cluster) == before, timeout=60), "the router never reverted"
    assert time.monotonic() - started < 60
    code, report, output = lab.edgekit_json("deploy", "--cluster", cluster, "--site", site, *GATE)
    assert code == 0, output
    assert report["hosts"][0]["status"] == "changed", report["hosts"][0]
    assert wanted in running(lab, cluster)
    assert not unsaved(lab, cluster) and no_timer(lab, cluster)
    assert show(lab, cluster, "show version")  # the router answers
