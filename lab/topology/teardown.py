"""`python -m lab down`: works without a plan (after a crash, with another version, with no state at all).

It kills every process in the lab's namespaces (found by namespace, never by name) and the strays of a
lab whose namespaces are already gone, deletes the namespaces and the state directory.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import Any

from lab.topology.plan import load_options
from lab.topology.processes import have
from lab.topology.system import ancestors, ip_batch, kill_pids, list_netns, netns_inodes

SWEEP_SECONDS = 10.0


def down(prefix: str, state_dir: Path) -> dict[str, Any]:
    t0 = time.monotonic()
    state_dir = state_dir.resolve() if state_dir.exists() else state_dir
    opts = load_options(state_dir) if state_dir.exists() else None
    if opts and have("lab.vyos"):
        try:
            from lab.vyos import stop_router

            for c in opts.clusters:
                d = state_dir / "hosts" / f"{c}-router"
                if d.exists():
                    stop_router(d)
        except Exception:  # the namespace sweep below kills whatever is left
            pass
    names = list_netns(prefix)
    inodes = netns_inodes(names)  # kept: a process in a namespace stays findable by it until it is gone
    # Sweep until a scan finds nothing: a killed `up` (or a dying daemon) may have children in flight,
    # e.g. an `ip netns exec` still in the root namespace, about to enter one of ours. Bounded.
    pids: set[int] = set()
    deadline = time.monotonic() + SWEEP_SECONDS
    while True:
        found = _in_namespaces(inodes) | strays(state_dir, prefix)
        if not found or time.monotonic() > deadline:
            break
        pids |= found
        kill_pids(found)
    ip_batch((f"netns del {ns}" for ns in names), force=True)
    removed_state = False
    if (state_dir / "lab.json").exists() or (state_dir.exists() and not any(state_dir.iterdir())):
        shutil.rmtree(state_dir, ignore_errors=True)
        removed_state = True
    left = list_netns(prefix)
    return {
        "namespaces": len(names),
        "processes": len(pids),
        "state_removed": removed_state,
        "left": left,
        "seconds": round(time.monotonic() - t0, 2),
    }


def _in_namespaces(inodes: dict[int, str]) -> set[int]:
    out: set[int] = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.stat(f"/proc/{entry}/ns/net").st_ino in inodes:
                    out.add(int(entry))
            except OSError:
                continue
    return out - ancestors()


def strays(state_dir: Path, prefix: str) -> set[int]:
    """Processes of this lab that no namespace sweep finds: any with a file of the state dir on its command
    line (a namespace already gone, or a helper of a killed `up` in the root namespace), and `ip netns exec
    <prefix>-...` still on its way into one of the lab's namespaces. Never this process or its parents."""
    mine = ancestors()
    needle = str(state_dir).rstrip("/") + "/"  # a file inside it: ".state" must not match ".state2"
    out: set[int] = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) in mine:
            continue
        try:
            argv = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        words = [a.decode(errors="replace") for a in argv]
        entering = words[1:3] == ["netns", "exec"] and len(words) > 3 and words[3].startswith(prefix + "-")
        if entering and Path(words[0]).name == "ip" or any(needle in w for w in words):
            out.add(int(entry))
    return out
