"""The lab's VyOS-compatible router: a VyOS CLI over SSH whose commits drive FRR and the kernel.

    spec = RouterSpec(name="r1", netns="ek-r1", state_dir=Path("/tmp/lab/r1"), password="vyos")
    pid = start_router(spec)      # detached daemon, returns once SSH accepts connections
    stop_router(spec.state_dir)   # by PID files; idempotent

See lab/vyos/README.md.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .frr import pid_alive, stop_pid, stop_pidfile

__all__ = ["RouterSpec", "start_router", "stop_router", "RouterStartError"]

_REPO = Path(__file__).resolve().parent.parent.parent


class RouterStartError(RuntimeError):
    pass


@dataclass
class RouterSpec:
    name: str  # host name shown in the prompt, e.g. "k8s-router-1-prd"
    netns: str  # existing network namespace (interfaces already created and named there)
    state_dir: Path  # private dir for config, FRR files, pid files, logs
    # "1.3", "1.4" or "1.5" (rolling: vyos-1x current; 1.4's syntax, with `system config-management
    # commit-confirm action`, T5976, which no 1.4 release tag has)
    version: str = "1.4"
    listen: str = "0.0.0.0"  # SSH listen address inside the netns
    port: int = 22
    username: str = "vyos"
    password: str | None = None
    authorized_keys: list[str] = field(default_factory=list)  # OpenSSH public key lines
    boot_config: list[str] = field(default_factory=list)  # set-lines used when no saved config exists


def _check_traversable(path: Path) -> None:
    """FRR runs as user frr and keeps its sockets and logs under state_dir: every parent needs o+x."""
    for p in [path, *path.parents]:
        if not p.stat().st_mode & stat.S_IXOTH:
            raise RouterStartError(f"{p} is not searchable by others (o+x); FRR runs as user frr under {path}")


def start_router(spec: RouterSpec, timeout: float = 20.0) -> int:
    """Start the router daemon (detached, survives the caller); returns its PID once SSH listens (bounded by
    ``timeout``: on a loaded 2-core machine a start has taken over 5 s)."""
    state = Path(spec.state_dir).resolve()
    state.mkdir(parents=True, exist_ok=True)
    os.chmod(state, 0o755)
    _check_traversable(state)
    for d in ("run", "log"):
        (state / d).mkdir(exist_ok=True)
    old = state / "run" / "daemon.pid"
    if old.exists():
        try:
            if pid_alive(int(old.read_text())):
                raise RouterStartError(f"router already running in {state} (pid {old.read_text().strip()})")
        except ValueError:
            pass
    # A daemon that was killed leaves FRR and wireguard-go behind (a router's data plane outlives its
    # CLI); stop them by their PID files so the new daemon starts them afresh.
    stop_router(state)
    for f in ("ready", "failed"):
        (state / "run" / f).unlink(missing_ok=True)
    data = asdict(spec)
    data["state_dir"] = str(state)
    spec_file = state / "spec.json"
    spec_file.write_text(json.dumps(data, indent=1))
    os.chmod(spec_file, 0o600)
    env = dict(os.environ, PYTHONPATH=str(_REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    out = open(state / "log" / "daemon.out", "ab")
    cmd = ["ip", "netns", "exec", spec.netns, sys.executable, "-m", "lab.vyos.daemon", "--spec", str(spec_file)]
    proc = subprocess.Popen(
        cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=out, env=env, cwd=str(_REPO), start_new_session=True
    )
    out.close()
    end = time.monotonic() + timeout
    ready = state / "run" / "ready"
    while not ready.exists():
        rc = proc.poll()
        if rc is not None:
            detail = (state / "run" / "failed").read_text().strip() if (state / "run" / "failed").exists() else ""
            tail = (state / "log" / "daemon.out").read_text()[-2000:]
            raise RouterStartError(f"router {spec.name} exited with {rc}: {detail or tail}")
        if time.monotonic() > end:
            stop_router(state)
            raise RouterStartError(f"router {spec.name} did not accept SSH within {timeout}s; see {state}/log")
        time.sleep(0.01)
    # The Popen object is dropped on purpose: the daemon outlives the caller (it is in its own session).
    proc.returncode = 0  # keep Popen.__del__ from warning about a running child
    return proc.pid


def stop_router(state_dir: Path) -> None:
    """Stop the daemon and every FRR / wireguard-go process it started, by PID files. Idempotent."""
    state = Path(state_dir)
    pidfile = state / "run" / "daemon.pid"
    try:
        pid = int(pidfile.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        pid = 0
    if pid:
        stop_pid(pid, timeout=5.0)
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass
    pidfile.unlink(missing_ok=True)
    # Leftovers when the daemon died without cleaning up (SIGKILL).
    for f in sorted((state / "run").glob("wireguard-go.*.pid")):
        stop_pidfile(f)
    for d in ("bgpd", "staticd", "zebra"):
        stop_pidfile(state / "frr" / "run" / f"{d}.pid")
    (state / "run" / "ready").unlink(missing_ok=True)
