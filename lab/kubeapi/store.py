"""The world file shared by the Kubernetes stand-in, the lab's speakers (MetalLB) and the lab's faults.

Every writer holds ``flock`` on ``<world>.lock`` while it reads, changes and writes the file, and writes
atomically (a temporary file renamed over the old one), so no change is lost and no reader sees half a file.
The stand-in re-reads the file when its modification time changes.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


@contextmanager
def locked(world: Path) -> Iterator[None]:
    with open(world.with_name(world.name + ".lock"), "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def read(world: Path) -> dict[str, Any]:
    return json.loads(world.read_text())


def write(world: Path, data: dict[str, Any]) -> None:
    tmp = world.with_name(f".{world.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=1) + "\n")
    tmp.replace(world)


def update(world: Path, change: Callable[[dict[str, Any] | None], dict[str, Any] | None]) -> dict[str, Any] | None:
    """Under the lock: ``change(current or None)``; a returned world that differs is written. Returns the result."""
    with locked(world):
        current = read(world) if world.exists() else None
        new = change(current)
        if new is not None and new != current:
            write(world, new)
        return new
