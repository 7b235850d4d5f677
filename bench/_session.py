"""Helpers the benchmarks run inside a lab's operator namespace (``python -m lab exec -- python -m bench._session``).

plan OUT            every router: address, credentials, its running config and the change edgekit
                    would send (unmasked: it holds the WireGuard key; OUT is written 0600)
reset PLAN          make each router's running (and saved) config the one recorded in PLAN again
floor PLAN OUT      raw paramiko interactive shell per router: configure, the lines, commit, save, exit
netmiko PLAN OUT    the straightforward netmiko script per router, default settings
time OUT -- CMD...  run CMD; wall time and the peak RSS of CMD (getrusage of the children)
"""

from __future__ import annotations

import json
import os
import re
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

PROMPT = re.compile(rb"[\w.-]+@[\w.-]+(?::\S*\$|#) $")


def _write(path: str, data: Any, private: bool = False) -> None:
    text = json.dumps(data, indent=2) + "\n"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if private else 0o644)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)


def cmd_plan(out: str) -> None:
    """Read every router once (edgekit's own driver) and compute edgekit's change for it."""
    from checks.config_diff import diff
    from tasks.core.options import CommonOptions
    from tasks.core.runtime import open_runtime
    from tasks.router.plan import router_dialect
    from tasks.router.render import managed_scope, render_router_config

    states = [s for s in os.environ.get("EDGEKIT_STATE", "").split(",") if s]
    rt = open_runtime(
        CommonOptions(states=states, site=os.environ.get("EDGEKIT_SITE"), kubeconfig=os.environ.get("KUBECONFIG"))
    )
    routers = []
    for cluster in rt.loaded.site.ordered_clusters():
        if cluster.router is None:
            continue
        host = rt.nornir.inventory.hosts[cluster.router.name]
        driver = host.get_connection("napalm", rt.nornir.config)
        dialect = router_dialect(cluster, driver)
        running = driver.show("show configuration commands").splitlines()
        rendered = render_router_config(cluster, dialect, rt.loaded.secret_reader(cluster.name))
        change = diff(running, rendered.lines, managed_scope(cluster, dialect))
        routers.append(
            {
                "name": host.name,
                "cluster": cluster.name,
                "address": host.hostname,
                "username": host.username,
                "key_file": os.environ["EDGEKIT_SSH_KEY"],
                "known_hosts": os.environ["EDGEKIT_KNOWN_HOSTS"],
                "running": running,
                "lines": list(change.commands),
            }
        )
    rt.nornir.close_connections()
    _write(out, {"routers": routers}, private=True)


def _driver(router: dict[str, Any]) -> Any:
    from napalm_edgekit_vyos.driver import VyOSDriver

    driver = VyOSDriver(
        router["address"],
        router["username"],
        optional_args={"key_file": router["key_file"], "alt_key_file": router["known_hosts"], "ssh_strict": True},
    )
    driver.open()
    return driver


def cmd_reset(plan: str) -> None:
    for router in json.loads(Path(plan).read_text())["routers"]:
        driver = _driver(router)
        try:
            driver.restore(router["running"])
            driver.conn.config_mode()
            driver.conn.save_config()
            driver.conn.exit_config_mode()
            now = driver.show("show configuration commands").splitlines()
        finally:
            driver.close()
        if sorted(x.strip() for x in now if x.strip()) != sorted(x.strip() for x in router["running"] if x.strip()):
            raise SystemExit(f"{router['name']}: reset left a different config")


class Shell:
    """A raw interactive shell: send a line, read until a VyOS prompt ends the output. Nothing else."""

    def __init__(self, router: dict[str, Any]) -> None:
        import paramiko

        self.client = paramiko.SSHClient()
        self.client.load_host_keys(router["known_hosts"])
        self.client.set_missing_host_key_policy(paramiko.RejectPolicy())
        self.client.connect(
            router["address"],
            username=router["username"],
            key_filename=router["key_file"],
            allow_agent=False,
            look_for_keys=False,
            timeout=10,
        )
        self.chan = self.client.invoke_shell(width=512, height=1000)
        self.read()

    def read(self) -> bytes:
        buf = b""
        while not PROMPT.search(buf[-200:]):
            data = self.chan.recv(65536)
            if not data:
                raise EOFError(buf.decode(errors="replace")[-500:])
            buf += data
        return buf

    def send(self, line: str) -> bytes:
        self.chan.send(line.encode() + b"\n")
        return self.read()

    def close(self) -> None:
        self.client.close()


def floor_session(router: dict[str, Any]) -> dict[str, float]:
    t: dict[str, float] = {}
    t0 = time.perf_counter()
    shell = Shell(router)
    t["connect"] = time.perf_counter() - t0
    mark = time.perf_counter()
    shell.send("configure")
    for line in router["lines"]:
        out = shell.send(line)
        if b"failed" in out or b"Invalid command" in out:
            raise SystemExit(f"{router['name']}: {line!r}: {out.decode(errors='replace')[-300:]}")
    t["lines"] = time.perf_counter() - mark
    mark = time.perf_counter()
    out = shell.send("commit")
    if b"failed" in out.lower():
        raise SystemExit(f"{router['name']}: commit: {out.decode(errors='replace')[-300:]}")
    t["commit"] = time.perf_counter() - mark
    mark = time.perf_counter()
    shell.send("save")
    shell.send("exit")
    shell.close()
    t["save_exit"] = time.perf_counter() - mark
    t["total"] = time.perf_counter() - t0
    return t


def netmiko_session(router: dict[str, Any]) -> dict[str, float]:
    from netmiko import ConnectHandler

    t: dict[str, float] = {}
    t0 = time.perf_counter()
    conn = ConnectHandler(
        device_type="vyos",
        host=router["address"],
        username=router["username"],
        use_keys=True,
        key_file=router["key_file"],
        allow_agent=False,
    )
    t["connect"] = time.perf_counter() - t0
    steps = [
        ("send_config_set", lambda: conn.send_config_set(router["lines"])),
        ("commit", conn.commit),
        ("save_config", conn.save_config),
        ("exit_config_mode", conn.exit_config_mode),
        ("disconnect", conn.disconnect),
    ]
    for name, step in steps:
        mark = time.perf_counter()
        step()
        t[name] = time.perf_counter() - mark
    t["total"] = time.perf_counter() - t0
    return t


def cmd_sessions(kind: str, plan: str, out: str) -> None:
    session = floor_session if kind == "floor" else netmiko_session
    results = []
    started = time.perf_counter()
    for router in json.loads(Path(plan).read_text())["routers"]:
        results.append(
            {"name": router["name"], "cluster": router["cluster"], "lines": len(router["lines"]), **session(router)}
        )
    _write(out, {"wall": time.perf_counter() - started, "routers": results})


def cmd_time(out: str, argv: list[str]) -> int:
    started = time.perf_counter()
    proc = subprocess.run(argv)
    wall = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak_mb = usage.ru_maxrss / 1024
    cpu = usage.ru_utime + usage.ru_stime  # user + system CPU of CMD (all its threads): what load cannot inflate
    _write(out, {"wall": wall, "cpu": cpu, "peak_rss_mb": peak_mb, "returncode": proc.returncode})
    return proc.returncode


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__)
        return 2
    cmd, rest = argv[0], argv[1:]
    if cmd == "plan":
        cmd_plan(rest[0])
    elif cmd == "reset":
        cmd_reset(rest[0])
    elif cmd in ("floor", "netmiko"):
        cmd_sessions(cmd, rest[0], rest[1])
    elif cmd == "time":
        sep = rest.index("--")
        return cmd_time(rest[0], rest[sep + 1 :])
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
