"""Helpers for the lab router tests: namespaces, sockets opened inside a namespace, FRR peers."""

from __future__ import annotations

import ctypes
import os
import socket
import subprocess
import threading
from pathlib import Path

CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL("libc.so.6", use_errno=True)


def sh(*args: str, check: bool = True, input: str | None = None) -> str:
    p = subprocess.run(list(args), capture_output=True, text=True, input=input, timeout=60)
    if check and p.returncode != 0:
        raise RuntimeError(f"{' '.join(args)}: {p.stderr.strip()}")
    return p.stdout


def nsx(ns: str, *args: str, check: bool = True) -> str:
    return sh("ip", "netns", "exec", ns, *args, check=check)


def connect_in_netns(ns: str, host: str, port: int = 22, timeout: float = 5.0) -> socket.socket:
    """A TCP socket connected from inside ``ns``: setns() in a helper thread only moves that thread,
    and a socket keeps the namespace it was created in, so the test process stays in the root
    namespace and no route to the lab is ever added there."""
    result: dict[str, object] = {}

    def work() -> None:
        try:
            fd = os.open(f"/run/netns/{ns}", os.O_RDONLY)
            try:
                if _libc.setns(fd, CLONE_NEWNET) != 0:
                    raise OSError(ctypes.get_errno(), "setns failed")
            finally:
                os.close(fd)
            result["sock"] = socket.create_connection((host, port), timeout=timeout)
        except Exception as e:  # handed to the caller
            result["err"] = e

    t = threading.Thread(target=work)
    t.start()
    t.join()
    if "err" in result:
        raise result["err"]  # type: ignore[misc]
    s = result["sock"]
    assert isinstance(s, socket.socket)
    s.settimeout(None)
    return s


def veth(ns_a: str, if_a: str, ns_b: str, if_b: str, tmp_a: str, tmp_b: str) -> None:
    """A veth pair between two namespaces, renamed inside them (eth0 may exist in the root ns)."""
    sh("ip", "link", "add", tmp_a, "type", "veth", "peer", "name", tmp_b)
    sh("ip", "link", "set", tmp_a, "netns", ns_a)
    sh("ip", "link", "set", tmp_b, "netns", ns_b)
    nsx(ns_a, "ip", "link", "set", tmp_a, "name", if_a)
    nsx(ns_b, "ip", "link", "set", tmp_b, "name", if_b)
    nsx(ns_a, "ip", "link", "set", if_a, "up")
    nsx(ns_b, "ip", "link", "set", if_b, "up")


def del_netns(ns: str) -> None:
    subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=30)


def frr_peer(ns: str, base: Path, conf: str, bfdd_conf: str | None = None) -> list[Path]:
    """Plain zebra + bgpd (+ bfdd when ``bfdd_conf`` is given) in ``ns`` with private paths; returns their
    pid files."""
    run = base / "run"
    run.mkdir(parents=True, exist_ok=True)
    (base / "vtysh.conf").write_text("no service integrated-vtysh-config\n")
    (base / "bgpd.conf").write_text(conf)
    (base / "zebra.conf").write_text("")
    daemons = ["zebra", "bgpd"]
    if bfdd_conf is not None:
        (base / "bfdd.conf").write_text(bfdd_conf)
        daemons.append("bfdd")
    sh("chown", "-R", "frr:frr", str(base))
    common = ["-d", "-P", "0", "-u", "frr", "-g", "frr", "-z", str(run / "zserv.api"), "--vty_socket", str(run)]
    pids = []
    for d in daemons:
        pid = run / f"{d}.pid"
        extra = ["--bfdctl", str(run / "bfdd.sock")] if d == "bfdd" else []
        nsx(
            ns,
            f"/usr/lib/frr/{d}",
            *common,
            *extra,
            "-f",
            str(base / f"{d}.conf"),
            "-i",
            str(pid),
            "--log",
            f"file:{base / (d + '.log')}",
        )
        pids.append(pid)
    return pids


def peer_vtysh(base: Path, cmd: str) -> str:
    return sh("vtysh", "--vty_socket", str(base / "run"), "--config_dir", str(base), "-c", cmd, check=False)
