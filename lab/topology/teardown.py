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
from lab.topology.system import ancestors, ip_batch, kill_pids, list_netns, procs_by_netns


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
    pids: set[int] = {i.pid for infos in procs_by_netns(names).values() for i in infos}
    pids |= strays(state_dir)
    kill_pids(pids)
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


def strays(state_dir: Path) -> set[int]:
    """Processes of a lab whose namespace is already gone (e.g. a down interrupted half way): outside the
    root network namespace, with the state dir on their command line. Never this process or its parents."""
    root_ns = os.stat("/proc/self/ns/net").st_ino
    mine = ancestors()
    needle = str(state_dir).rstrip("/") + "/"  # a file inside it: ".state" must not match ".state2"
    out: set[int] = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) in mine:
            continue
        try:
            if os.stat(f"/proc/{entry}/ns/net").st_ino == root_ns:
                continue
            cmd = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if needle in cmd:
            out.add(int(entry))
    return out
