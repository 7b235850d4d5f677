"""Namespaces, links and processes: thin wrappers over iproute2 and /proc.

Processes are found through their network namespace (the inode of /proc/PID/ns/net against
/run/netns/NAME), never by process name, so ``down`` also finds what a crashed ``up`` or an SSH
session started.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

NETNS_DIR = Path("/run/netns")


class LabError(Exception):
    """A lab step failed; the message says which."""


def run(argv: list[str], *, input: str | None = None, check: bool = True, timeout: float = 30) -> str:
    proc = subprocess.run(argv, input=input, capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise LabError(f"{' '.join(argv)}: exit {proc.returncode}: {proc.stderr.strip() or proc.stdout.strip()}")
    return proc.stdout


def ip_batch(lines: Iterable[str], ns: str | None = None, *, force: bool = False) -> None:
    """Run many `ip` commands in one process (-force goes on after an error, for idempotent deletes)."""
    text = "\n".join(lines)
    if not text:
        return
    argv = ["ip"] + (["-n", ns] if ns else []) + (["-force"] if force else []) + ["-batch", "-"]
    run(argv, input=text + "\n", check=not force)


def list_netns(prefix: str) -> list[str]:
    """Namespaces named <prefix>-...; the dash keeps prefix `ek` away from a test lab's `ektlab`."""
    if not NETNS_DIR.is_dir():
        return []
    return sorted(p.name for p in NETNS_DIR.iterdir() if p.name.startswith(prefix + "-"))


def links(ns: str) -> dict[str, dict]:
    """Interfaces in ns by name (ip -j link)."""
    try:
        data = json.loads(run(["ip", "-n", ns, "-j", "link", "show"]) or "[]")
    except LabError:
        return {}
    return {d["ifname"]: d for d in data}


def netns_inodes(names: Iterable[str]) -> dict[int, str]:
    out: dict[int, str] = {}
    for name in names:
        try:
            out[os.stat(NETNS_DIR / name).st_ino] = name
        except OSError:
            pass
    return out


@dataclass
class ProcInfo:
    pid: int
    comm: str
    rss_kb: int
    cmdline: str
    netns_inode: int | None
    pss_kb: int = 0  # proportional share: shared libraries counted once across processes


def proc_info(pid: int) -> ProcInfo | None:
    base = Path(f"/proc/{pid}")
    try:
        comm = (base / "comm").read_text().strip()
        cmdline = (base / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        rss = 0
        for line in (base / "status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
                break
        try:
            ino = os.stat(base / "ns" / "net").st_ino
        except OSError:
            ino = None
        if (base / "stat").read_text().split(")")[-1].split()[0] == "Z":
            return None  # a zombie is dead for our purposes
        pss = 0
        try:
            for line in (base / "smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    pss = int(line.split()[1])
                    break
        except OSError:
            pss = rss
        return ProcInfo(pid, comm, rss, cmdline, ino, pss)
    except (OSError, ValueError, IndexError):
        return None


def all_pids() -> list[int]:
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def procs_by_netns(names: Iterable[str]) -> dict[str, list[ProcInfo]]:
    """Every live process in each of the given namespaces (one scan of /proc)."""
    names = list(names)
    inodes = netns_inodes(names)
    out: dict[str, list[ProcInfo]] = {n: [] for n in names}
    for pid in all_pids():
        try:
            ino = os.stat(f"/proc/{pid}/ns/net").st_ino
        except OSError:
            continue
        if ino in inodes:
            info = proc_info(pid)
            if info:
                out[inodes[ino]].append(info)
    return out


def alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return proc_info(pid) is not None


def kill_pids(pids: Iterable[int], grace: float = 1.5) -> None:
    """SIGTERM, wait up to ``grace`` seconds, then SIGKILL what is left."""
    pids = {p for p in pids if p > 1 and p != os.getpid()}
    for pid in pids:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + grace
    while pids and time.monotonic() < deadline:
        pids = {p for p in pids if alive(p)}
        if pids:
            time.sleep(0.03)
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def ancestors() -> set[int]:
    """This process and its parents: never ours to kill, even when their command line names the state dir."""
    out = set()
    pid = os.getpid()
    while pid > 1:
        out.add(pid)
        try:
            pid = int(Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[1])
        except (OSError, ValueError, IndexError):
            break
    return out


def listening_ports(pid: int) -> set[int]:
    """TCP ports in LISTEN state in the network namespace of ``pid`` (read from its /proc view)."""
    ports: set[int] = set()
    for name in ("tcp", "tcp6"):
        try:
            lines = Path(f"/proc/{pid}/net/{name}").read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            parts = line.split()
            if len(parts) > 3 and parts[3] == "0A":
                ports.add(int(parts[1].rsplit(":", 1)[1], 16))
    return ports


def read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
