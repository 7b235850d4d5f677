"""One edgekit deploy per router at a time on this machine: an fcntl lock file per router.

The router's own lock is its pending commit-confirm (VyOS 1.4 answers a second ``commit-confirm`` with
``Another confirm is pending``); this local lock makes a second run on the same machine fail at once,
before it reads or touches the router, also on 1.3 (whose commit-confirm commits anyway). The kernel
drops the lock when the process dies, so a killed run never leaves a stale lock.

The key is the router's name and address as reached from this process's network namespace (its inode),
so two labs with the same router names in different namespaces never share a lock, while every run
on one machine's network sees one.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import time
from pathlib import Path

from inventory.errors import EdgekitError

DEFAULT_DIR = "/tmp/edgekit-locks"


class RouterLocked(EdgekitError):
    """Another edgekit run holds this router."""


def lock_dir() -> Path:
    return Path(os.environ.get("EDGEKIT_LOCK_DIR") or DEFAULT_DIR)


def _netns() -> str:
    try:
        return str(os.stat("/proc/self/ns/net").st_ino)
    except OSError:
        return ""


class RouterLock:
    def __init__(self, host: str, address: str, port: int = 22) -> None:
        self.host = host
        key = hashlib.sha256(f"{_netns()}|{address}:{port}".encode()).hexdigest()[:12]
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in host)
        self.path = lock_dir() / f"{safe}-{key}.lock"
        self.fd: int | None = None

    def acquire(self) -> None:
        """Take the lock or raise RouterLocked naming who holds it (never waits)."""
        directory = self.path.parent
        if not directory.exists():
            directory.mkdir(parents=True, exist_ok=True)
            with contextlib.suppress(OSError):
                directory.chmod(0o1777)  # shared by every user of the machine, like /tmp
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
        except PermissionError:
            fd = os.open(self.path, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise RouterLocked(
                f"{self.host}: another edgekit run is deploying to this router ({holder}; lock {self.path})"
            ) from None
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
            stamp = time.strftime("%H:%M:%S UTC", time.gmtime())
            os.pwrite(fd, f"pid {os.getpid()} since {stamp}\n".encode(), 0)
        self.fd = fd

    def release(self) -> None:
        if self.fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(self.fd, 0)
            os.close(self.fd)  # closing drops the flock
            self.fd = None
