"""`down` leaves nothing behind: after a normal up, and after an `up` killed half way (SIGKILL)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.lab.labrun import REPO, LabRun

pytestmark = pytest.mark.lab


def namespaces(prefix: str) -> list[str]:
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    return [line.split()[0] for line in out.splitlines() if line.startswith(prefix + "-")]


def recorded_pids(state: Path) -> list[int]:
    """Every pid the lab (and the router stand-in, the LB shim) wrote into its state dir."""
    pids = []
    for f in state.rglob("*.pid"):
        try:
            pids.append(int(f.read_text().split()[0]))
        except (OSError, ValueError, IndexError):
            pass
    return pids


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def processes_mentioning(text: str) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != os.getpid():
            try:
                if text.encode() in Path(f"/proc/{entry}/cmdline").read_bytes():
                    out.append(int(entry))
            except OSError:
                pass
    return out


def test_down_after_a_killed_up_leaves_nothing() -> None:
    run = LabRun.create("ektkill")
    try:
        up = subprocess.Popen(
            [sys.executable, "-m", "lab", "up", "--clusters", "prd,dev"],
            cwd=REPO,
            env=run.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        # Kill it once daemons are being started: namespaces exist and some pid files are written.
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and len(list((run.state_dir / "run").glob("*.pid"))) < 8:
            time.sleep(0.05)
        assert up.poll() is None, "up finished before it could be killed"
        up.send_signal(signal.SIGKILL)
        up.wait()
        assert namespaces(run.prefix), "the killed up left no namespaces to clean"
        pids = recorded_pids(run.state_dir)
        assert any(alive(p) for p in pids)
        run.lab("down")  # returns once a scan of the lab's processes finds none: no wait here
        assert namespaces(run.prefix) == []
        assert [p for p in pids if alive(p)] == []
        assert processes_mentioning(str(run.state_dir)) == []
        assert not run.state_dir.exists()
    finally:
        run.down()


def test_down_twice_and_without_a_lab_is_fine() -> None:
    run = LabRun.create("ektnone")
    run.lab("down")
    run.lab("down")
    assert namespaces(run.prefix) == []


def test_two_labs_side_by_side_do_not_touch_each_other() -> None:
    a, b = LabRun.create("ekta"), LabRun.create("ektb")
    try:
        a.up()
        b.up("--node-subnet", "private", "--nodes", "1")
        assert all(h["healthy"] for h in a.status())
        b.down()
        assert namespaces(b.prefix) == []
        assert all(h["healthy"] for h in a.status())
        assert len(namespaces(a.prefix)) == 13  # switch, upstream, router, 3 masters, 2 LBs, 3 nodes, venue, op
    finally:
        a.down()
        b.down()
