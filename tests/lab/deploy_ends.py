"""What the two "every way a deploy ends" lab modules share (tests/lab/router/test_deploy_ends_lab.py and
test_deploy_ends_cut_lab.py, issue 22 items 1 and 3): the lab (a VyOS 1.5/rolling router, prd, on which
edgekit sets `system config-management commit-confirm action reload`; 1.4, wsp, without that node; 1.3,
dev), a change that fails the gate, a deploy in the background, and the proof that the router is
deployable afterwards: `compare saved` empty, no timer pending, and a deploy with a change that exits 0
without `--save-first`.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.lab.helpers import deploy_in_background, own_lab, router_ssh, site_with_routers, wait_for
from tests.lab.helpers import router_cli as vyos
from tests.lab.helpers import router_running as running
from tests.lab.labrun import REPO, LabRun

MINUTE_SECONDS = "4"  # one VyOS minute in the lab: a 1-minute timer fires after 4 s
BOOT_SECONDS = "2"
UP = ("--clusters", "prd,dev,wsp", "--vyos", "prd=1.5,dev=1.3,wsp=1.4")
VERSIONS = {"1.5": "prd", "1.4": "wsp", "1.3": "dev"}
ACTION = "set system config-management commit-confirm action 'reload'"
# A deploy that converges: after a reboot the speakers come back by BGP's own retries, so a long gate, inside a
# commit-confirm window of 60 VyOS minutes (240 s here).
GATE = ("--gate-timeout", "150", "--confirm-timeout", "3600")
# The AS numbers the failing changes use, one per case and cluster (a router AS the speakers do not peer with:
# every session the change finds Established drops, whatever the gate compares with).
FAIL_ASN = 65100


def unsaved(lab: LabRun, cluster: str) -> str:
    """`compare saved`'s +/- lines (1.4+ says "No changes between ..." when none, 1.3 prints nothing)."""
    out = vyos(lab, cluster, "configure", "compare saved")
    return "\n".join(line for line in out.splitlines() if line.lstrip().startswith(("+", "-")))


def no_timer(lab: LabRun, cluster: str) -> bool:
    return "No confirm pending" in vyos(lab, cluster, "configure", "confirm")


def unset_action(lab: LabRun, cluster: str) -> None:
    """A 1.5 router as a fresh lab has it (the action not set, saved), so the next deploy sets it again:
    the path of the known bug (a restore removed the saved action)."""
    if cluster != "prd":
        return
    vyos(lab, cluster, "configure", "delete system config-management commit-confirm", "commit", "save")
    assert ACTION not in running(lab, cluster) and not unsaved(lab, cluster)


def failing_site(lab: LabRun, cluster: str, case: str, asn: int) -> str:
    return str(site_with_routers(lab, f"site-{case}-{cluster}.yaml", **{cluster: {"asn": asn}}))


def assert_deployable(lab: LabRun, cluster: str, case: str, saved_before: bool = True) -> dict:
    """running == saved and no timer (``saved_before``: already before the next deploy; without it the next
    deploy must save what is left, edgekit's own commit), and the next deploy with a change proceeds without
    --save-first and leaves `compare saved` empty."""
    if saved_before:
        left = unsaved(lab, cluster)
        assert not left, f"{cluster}: compare saved shows after {case}:\n{left}"
        assert no_timer(lab, cluster)
    site = str(site_with_routers(lab, f"site-next-{case}-{cluster}.yaml", **{cluster: {"description": f"n-{case}"}}))
    code, report, output = lab.edgekit_json("deploy", "--cluster", cluster, "--site", site, *GATE)
    host = report["hosts"][0] if report.get("hosts") else {}
    assert code == 0, (host, output[-3000:])
    assert host["status"] == "changed", host
    assert f"set interfaces ethernet eth1 description 'n-{case}'" in running(lab, cluster)
    assert not unsaved(lab, cluster) and no_timer(lab, cluster)
    return host


class Deploy:
    """A deploy in the background (inside the operator namespace): its steps as it prints them. ``module``:
    tests.lab.deploy_cut for a cut or a fault (``env``: EDGEKIT_TEST_CUT / EDGEKIT_TEST_FAULT)."""

    def __init__(self, lab: LabRun, *args: str, module: str = "tasks.router", **env: str) -> None:
        self.report = lab.state_dir / f"bg-{time.monotonic_ns()}.json"
        if env:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "lab", "exec", "--", sys.executable, "-m", module, "deploy", *args]
                + ["--json", str(self.report)],
                cwd=REPO,
                env={**lab.env, **env},
                stderr=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                text=True,
                start_new_session=True,
            )
        else:
            self.proc = deploy_in_background(lab, *args, "--json", str(self.report), module=module)
        self.stderr: list[str] = []

    def wait_line(self, needle: str) -> str:
        """Read the deploy's stderr up to a line with ``needle`` (bounded by the deploy's own timeouts)."""
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.stderr.append(line)
            if needle in line:
                return line
        pytest.fail(f"deploy never printed {needle!r}:\n{''.join(self.stderr)}")

    def finish(self, timeout: float = 240) -> tuple[int, dict, str]:
        assert self.proc.stderr is not None
        rest = self.proc.stderr.read()
        code = self.proc.wait(timeout=timeout)
        report = json.loads(Path(self.report).read_text()) if self.report.exists() else {}
        return code, report, "".join(self.stderr) + rest

    def ctrl_c(self, twice: bool = False) -> None:
        """Ctrl-C (SIGINT: `lab exec` execs into edgekit, the pid is edgekit's) up to edgekit's "interrupt: no new
        host"; ``twice``: a second Ctrl-C after it."""
        os.kill(self.proc.pid, signal.SIGINT)
        self.wait_line("interrupt: no new host")
        if twice:
            os.kill(self.proc.pid, signal.SIGINT)

    def kill(self) -> None:
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)


@contextmanager
def deployed_lab(prefix: str) -> Iterator[LabRun]:
    """A module's lab (``UP``, short VyOS minutes and boots) with a converged deploy done (``GATE``)."""
    with own_lab(prefix, *UP, EDGEKIT_LAB_MINUTE_SECONDS=MINUTE_SECONDS, EDGEKIT_LAB_BOOT_SECONDS=BOOT_SECONDS) as run:
        code, report, output = run.edgekit_json("deploy", *GATE)
        assert code == 0, output
        yield run


def wait_reverted(lab: LabRun, cluster: str, wanted: list[str], timeout: float) -> None:
    """Bounded wait until the router's running config is ``wanted`` (sorted set lines) again."""
    assert wait_for(lambda: running(lab, cluster) == wanted, timeout=timeout), f"{cluster} never reverted"


# vyos-1x current python/vyos/config_mgmt.py ConfigMgmt.revert_soft(): `wall -n` this before it reloads
# (the lab's ledger, lab/vyos/ledger/v1_5.py wall.revert_soft)
REVERT_SOFT_WALL = "[commit-confirm] Reverting to previous config now"


class TimerWatch:
    """An interactive session on the router that sees its commit-confirm timer fire without touching it
    (`confirm` would stop it): on 1.5 with action reload the wall broadcast of revert_soft() reaches every
    logged-in tty; on 1.3/1.4 the reboot closes the session."""

    def __init__(self, lab: LabRun, cluster: str) -> None:
        self.proc = subprocess.Popen(
            router_ssh(lab, cluster, "-tt"),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        self.output = ""
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        assert wait_for(lambda: "$ " in self.output, timeout=30), f"no prompt on {cluster}: {self.output!r}"

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for chunk in iter(lambda: self.proc.stdout.read(1) if self.proc.stdout else "", ""):
            self.output += chunk

    def fired(self) -> bool:
        return REVERT_SOFT_WALL in self.output or self.proc.poll() is not None

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=30)
