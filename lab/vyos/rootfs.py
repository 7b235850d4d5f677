"""One file system for the router: what the op-mode shell sees and what `load`/`merge`/`save` read and write.

On VyOS the op-mode shell and the config commands run on the same box: napalm-vyos 0.2.1 (vyos.py,
``load_merge_candidate`` / ``rollback``) copies ``/config/config.boot`` to ``/var/tmp/backup_running.conf`` with
an op-mode ``cp`` and later ``load``s that file in config mode. The lab keeps the router's files under its state
dir, so the daemon builds a small root there (``state/root``) inside the mount namespace ``ip netns exec`` made
for it (its mounts never reach the machine's) and runs every op-mode shell command chrooted into it as user
nobody. Its writable directories are the router's own, and are the very directories ``load``/``save`` resolve to
(``ROUTER_DIRS``):

    /config      -> state/config       (config.boot, archive; VyOS: group vyattacfg, writable by the vyos user)
    /var/tmp     -> state/var/tmp      (sticky, world-writable)
    /tmp         -> state/tmp          (sticky, world-writable)
    /home/vyos   -> state/home/vyos    (the op user's home and the shell's cwd, owned by nobody)

Everything else is read-only: /usr (with the /bin, /sbin, /lib, /lib64 symlinks of a merged-/usr Debian), /etc,
/proc, /sys and a few /dev nodes are bound read-only from the machine, FRR's run dir is at /run/frr (read-only;
its vty sockets still connect) and /opt/edgekit-lab/bin holds the `vtysh` wrapper that reaches the router's FRR.
Nothing outside those is visible, so the op user sees less of the machine than before (it saw all of it).
"""

from __future__ import annotations

import ctypes
import logging
import os
import subprocess
from pathlib import Path

log = logging.getLogger("lab.vyos")

NOBODY = 65534
CLONE_NEWNS = 0x00020000

# path on the router -> directory under the state dir; (mode, owner uid) of the directory
ROUTER_DIRS: dict[str, tuple[str, int, int]] = {
    "/config": ("config", 0o775, 0),
    "/var/tmp": ("var/tmp", 0o1777, 0),
    "/tmp": ("tmp", 0o1777, 0),
    "/home/vyos": ("home/vyos", 0o755, NOBODY),
}
HOME = "/home/vyos"
LAB_BIN = "/opt/edgekit-lab/bin"  # inside the root: the vtysh wrapper
_READ_ONLY = ("/usr", "/etc", "/proc", "/sys")
_SYMLINKS = ("bin", "sbin", "lib", "lib64")
_DEV = ("null", "zero", "full", "random", "urandom", "tty")


def root_dir(state: Path) -> Path:
    return state / "root"


def ready(state: Path) -> bool:
    """Whether this process sees the router's root (built by ``build`` in the daemon's mount namespace)."""
    return _marker(state).exists() and _mounted(state)


def _marker(state: Path) -> Path:
    return root_dir(state) / ".edgekit-lab-root"


def _mounted(state: Path) -> bool:
    """The root's /config is the state dir's config/ (a bind mount: same device, so not os.path.ismount)."""
    try:
        a, b = os.stat(root_dir(state) / "config"), os.stat(state / "config")
    except OSError:
        return False
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


def router_path(state: Path, name: str, cwd: str = HOME) -> Path | None:
    """The file behind the router path ``name`` (relative names are taken from ``cwd``); None when it is not in
    one of the router's own directories (``ROUTER_DIRS``)."""
    p = Path(name) if name.startswith("/") else Path(cwd) / name
    p = Path(os.path.normpath(p))
    for top, (rel, _, _) in sorted(ROUTER_DIRS.items(), key=lambda kv: -len(kv[0])):
        if p == Path(top) or Path(top) in p.parents:
            target = (state / rel / p.relative_to(top)).resolve()
            base = (state / rel).resolve()
            if target == base or base in target.parents:
                return target
            return None
    return None


def own_dirs(state: Path) -> None:
    """The router's own directories under the state dir (also without a root: load/save use them)."""
    for _top, (rel, mode, uid) in ROUTER_DIRS.items():
        d = state / rel
        d.mkdir(parents=True, exist_ok=True)
        os.chmod(d, mode)
        if os.geteuid() == 0:
            os.chown(d, uid, uid if uid else 0)


def _private_mount_namespace() -> bool:
    """A mount namespace of this process's own (copied from the one `ip netns exec` made), whose mounts never
    propagate to the machine's: unshare(CLONE_NEWNS), then every mount a slave. Called before any thread."""
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    if libc.unshare(CLONE_NEWNS) != 0:
        log.warning("unshare(CLONE_NEWNS) failed (errno %s)", ctypes.get_errno())
        return False
    try:
        _mount("--make-rslave", "/")
    except (OSError, subprocess.CalledProcessError):
        return False
    return True


def _mount(*args: str) -> None:
    subprocess.run(["mount", *args], check=True, capture_output=True, text=True, timeout=10)


def build(state: Path) -> bool:
    """Build ``state/root`` with its bind mounts. Only in a mount namespace of the daemon's own (never the
    machine's); False (and the shell runs unchrooted, as before) when that is not possible."""
    own_dirs(state)
    if not _private_mount_namespace():
        log.warning("no private mount namespace: the op-mode shell runs without the router's root")
        return False
    root = root_dir(state)
    try:
        root.mkdir(exist_ok=True)
        os.chmod(root, 0o755)
        for name in _SYMLINKS:
            link = root / name
            if not link.is_symlink() and Path("/", name).is_symlink():
                link.symlink_to(os.readlink(Path("/", name)))
        for top in _READ_ONLY:
            target = root / top.lstrip("/")
            target.mkdir(parents=True, exist_ok=True)
            # /etc keeps the daemon's own /etc/hosts and /etc/resolv.conf (bound over the machine's: rbind)
            _mount("--rbind" if top == "/etc" else "--bind", top, str(target))
            _mount("-o", "remount,bind,ro", str(target))
        (root / "dev").mkdir(exist_ok=True)
        for name in _DEV:
            node = root / "dev" / name
            if Path("/dev", name).exists():
                node.touch()
                _mount("--bind", f"/dev/{name}", str(node))
                _mount("-o", "remount,bind,ro", str(node))
        frr = state / "frr"
        frr.mkdir(exist_ok=True)
        (root / "run" / "frr").mkdir(parents=True, exist_ok=True)
        _mount("--bind", str(frr), str(root / "run" / "frr"))
        _mount("-o", "remount,bind,ro", str(root / "run" / "frr"))
        for top, (rel, _, _) in ROUTER_DIRS.items():
            target = root / top.lstrip("/")
            target.mkdir(parents=True, exist_ok=True)
            _mount("--bind", str(state / rel), str(target))
        bindir = root / LAB_BIN.lstrip("/")
        bindir.mkdir(parents=True, exist_ok=True)
        wrapper = bindir / "vtysh"
        wrapper.write_text('#!/bin/sh\nexec /usr/bin/vtysh --vty_socket /run/frr/run --config_dir /run/frr "$@"\n')
        wrapper.chmod(0o755)
        _marker(state).write_text("")
    except (OSError, subprocess.CalledProcessError) as e:
        detail = getattr(e, "stderr", "") or str(e)
        log.warning("cannot build the router's root: %s", detail.strip())
        return False
    return True
