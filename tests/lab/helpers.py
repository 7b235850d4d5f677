"""What the lab test modules share: bounded waits, site files of a lab, namespaces and sockets opened inside
them, FRR peers and vtysh on a private FRR directory, an interactive router shell.

Each lab module still builds its own lab (its own prefix, its own state dir): nothing here holds state.
"""

from __future__ import annotations

import ctypes
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import paramiko
import yaml

from lab.harness import REPO, LabRun

T = TypeVar("T")

# The password the lab router tests give the routers they start.
LAB_PASSWORD = "lab-pass"


# ---------------------------------------------------------------- bounded waits (never a sleep for a state)


def wait_for(predicate: Callable[[], object], timeout: float, interval: float = 0.2) -> bool:
    """Poll ``predicate()`` until it is true or ``timeout`` seconds have passed; whether it held at the end."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())


def wait_until(probe: Callable[[], T], timeout: float, what: str = "the wanted state", interval: float = 0.2) -> T:
    """Poll ``probe()`` until it returns something true and return that; AssertionError naming ``what``
    after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout:g} s")
        time.sleep(interval)


# ---------------------------------------------------------------- a lab of the module's own


@contextmanager
def own_lab(prefix: str, *up_args: str, **extra_env: str) -> Iterator[LabRun]:
    """A lab of its own (``LabRun.create``: the module's prefix, a new state dir) brought up with ``up_args``,
    and down at the end, also when ``up`` or the tests fail. Prefixes are one per module: xdist runs a module
    on one worker, other modules' labs at the same time."""
    run = LabRun.create(prefix, **extra_env)
    try:
        run.up(*up_args)
        yield run
    finally:
        run.down()


def deploy_ok(lab: LabRun, *args: str, module: str = "tasks.router") -> dict[str, Any]:
    """``python -m MODULE deploy ARGS`` in the lab's operator namespace, which must succeed; its report."""
    code, report, output = lab.edgekit_json("deploy", *args, module=module)
    assert code == 0, output
    return report


def deploy_in_background(
    lab: LabRun, *args: str, module: str = "tasks.router", new_session: bool = True
) -> subprocess.Popen[str]:
    """``python -m MODULE deploy ARGS`` in the lab's operator namespace, running on: its stderr (the steps it
    prints) piped, stdout dropped. ``lab exec`` execs into edgekit, so the pid is edgekit's; ``new_session``:
    a process group of its own, to be killed whole (``os.killpg``)."""
    return subprocess.Popen(
        [sys.executable, "-m", "lab", "exec", "--", sys.executable, "-m", module, "deploy", *args],
        cwd=REPO,
        env=lab.env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        start_new_session=new_session,
    )


# ---------------------------------------------------------------- site files of a lab


def lab_site(lab: LabRun) -> dict[str, Any]:
    """The site file `lab up` wrote (``EDGEKIT_SITE`` of the lab's environment), parsed."""
    site = yaml.safe_load(Path(lab.lab_env()["EDGEKIT_SITE"]).read_text())
    assert isinstance(site, dict)
    return site


def write_site(lab: LabRun, name: str, site: dict[str, Any]) -> Path:
    """``site`` as the file ``name`` in the lab's state dir (removed with the lab)."""
    path = lab.state_dir / name
    path.write_text(yaml.safe_dump(site))
    return path


def site_with_defaults(lab: LabRun, name: str, **sections: dict[str, Any]) -> Path:
    """The lab's site file with each of ``sections`` merged into ``defaults`` (one level deep)."""
    site = lab_site(lab)
    defaults = site.setdefault("defaults", {})
    for key, value in sections.items():
        defaults[key] = {**defaults.get(key, {}), **value}
    return write_site(lab, name, site)


def site_with_routers(lab: LabRun, name: str, **routers: dict[str, Any]) -> Path:
    """The lab's site file with router settings overridden per cluster (``prd={...}``)."""
    site = lab_site(lab)
    for cluster, router in routers.items():
        site.setdefault("clusters", {}).setdefault(cluster, {}).setdefault("router", {}).update(router)
    return write_site(lab, name, site)



# ---------------------------------------------------------------- a lab router over plain ssh (from the operator ns)


def router_ssh(lab: LabRun, cluster: str, *options: str) -> list[str]:
    """The ssh command line to a cluster's router from the lab's operator namespace (LabRun caches the
    lab's env and addresses)."""
    env = lab.lab_env()
    # ConnectTimeout: a rebooting router has no address, and a connect to it would wait for TCP's retries.
    return ["ip", "netns", "exec", f"{lab.prefix}-op", "ssh", *options, "-i", env["EDGEKIT_SSH_KEY"]] + [
        "-o", f"UserKnownHostsFile={env['EDGEKIT_KNOWN_HOSTS']}", "-o", "BatchMode=yes", "-o", "ConnectTimeout=5",
        f"vyos@{lab.router_address(cluster)}",
    ]  # fmt: skip


def router_show(lab: LabRun, cluster: str, command: str) -> str:
    """One op-mode command (exec request); "" when the router does not answer."""
    try:
        proc = subprocess.run([*router_ssh(lab, cluster), command], capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        return ""
    return proc.stdout


def router_running(lab: LabRun, cluster: str) -> list[str]:
    """The router's `show configuration commands`, sorted, blank lines dropped."""
    out = router_show(lab, cluster, "show configuration commands")
    return sorted(line.strip() for line in out.splitlines() if line.strip())


def router_cli(lab: LabRun, cluster: str, *commands: str) -> str:
    """CLI lines in one interactive session (config mode needs a terminal), then exit twice."""
    script = "\n".join([*commands, "exit", "exit", ""])
    proc = subprocess.run(router_ssh(lab, cluster, "-tt"), input=script, capture_output=True, text=True, timeout=60)
    return proc.stdout

# ---------------------------------------------------------------- namespaces, sockets, FRR

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


def vtysh(frr_dir: Path, *commands: str, timeout: float = 10, check: bool = False) -> str:
    """vtysh on an FRR of private paths (``frr_dir``: its config dir, sockets in ``frr_dir/run``), as the lab's
    routers, nodes and the tests' peers run it; stdout (``check``: RuntimeError when vtysh fails)."""
    args = [a for c in commands for a in ("-c", c)]
    p = subprocess.run(
        ["vtysh", "--vty_socket", str(frr_dir / "run"), "--config_dir", str(frr_dir), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check and p.returncode != 0:
        raise RuntimeError(f"vtysh {' '.join(commands)}: {p.stderr.strip()}")
    return p.stdout


def peer_vtysh(base: Path, cmd: str) -> str:
    return vtysh(base, cmd, timeout=60)


def host_vtysh(lab: LabRun, host: str, *commands: str) -> str:
    """vtysh on the FRR of a lab host (a node's speaker: ``prd-node1``)."""
    return vtysh(lab.state_dir / "hosts" / host / "frr", *commands)


# ---------------------------------------------------------------- a person at a router's terminal


class Shell:
    """An interactive paramiko shell on a lab router, opened from inside namespace ``ns``, that reads up to
    each prompt (as a person at a terminal would)."""

    PROMPT = re.compile(r"(\S+@\S+(:~\$|#) )$")

    def __init__(self, router_ip: str, ns: str, password: str = LAB_PASSWORD) -> None:
        self.sock = connect_in_netns(ns, router_ip)
        self.client = paramiko.SSHClient()
        self.client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
        self.client.connect(
            router_ip, username="vyos", password=password, sock=self.sock, look_for_keys=False, allow_agent=False
        )
        self.chan = self.client.invoke_shell(width=200)
        self.chan.settimeout(30)
        self.banner = self.read()

    def read(self, until: re.Pattern[str] | None = None) -> str:
        buf = ""
        pat = until or self.PROMPT
        while not pat.search(buf):
            data = self.chan.recv(65536)
            if not data:
                break
            buf += data.decode()
        return buf.replace("\r\n", "\n")

    def cmd(self, line: str) -> str:
        self.chan.send(line + "\n")
        out = self.read()
        # drop the echoed command and the trailing prompt
        body = out.split("\n", 1)[1] if "\n" in out else ""
        return self.PROMPT.sub("", body)

    def config(self, lines: list[str]) -> None:
        for line in lines:
            out = self.cmd(line)
            assert "failed" not in out, f"{line}: {out}"

    def close(self) -> None:
        self.client.close()


# ---------------------------------------------------------------- FRR in namespaces, for the parser captures

FRR = Path("/usr/lib/frr")

FRR_BASE = """\
frr defaults traditional
hostname {name}
log file {dir}/{daemon}.log
!
"""


def _run(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, check=check, capture_output=True, text=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


class FrrLab:
    """Namespaces ``<prefix>r1``, ``<prefix>n1``, ... with FRR of private paths in each: node r1 linked to each
    other node by ``links`` (r1's interface, its addresses, the node, its addresses on its eth1), ``advertised``
    addresses on the nodes' lo. ``configs``: one config per node (zebra gets none, staticd its ``ip route``
    lines, bgpd the rest); a subclass with other daemons overrides ``daemon_configs``. ``close()`` removes
    everything it made, whatever state it is in."""

    daemons: tuple[str, ...] = ("zebra", "staticd", "bgpd")

    def __init__(
        self,
        configs: dict[str, Any],
        links: tuple[tuple[str, ...], ...],
        advertised: dict[str, list[str]],
        tag: str = "",
    ) -> None:
        self.configs = configs
        self.links = links
        self.advertised = advertised
        # EDGEKIT_TEST_NS: another checkout's tests get other names (as LabRun.create does)
        self.prefix = f"{os.environ.get('EDGEKIT_TEST_NS', 'ekt')[:3]}ps{tag}{os.getpid() % 100000}"
        self.state = Path(tempfile.mkdtemp(prefix="ektps-frr-"))
        self.pids: list[int] = []
        self.daemon_pids: dict[tuple[str, str], int] = {}
        self.namespaces: list[str] = []

    def ns(self, node: str) -> str:
        return f"{self.prefix}{node}"

    def dir(self, node: str) -> Path:
        return self.state / node

    def start(self) -> None:
        for node in self.configs:
            _run("ip", "netns", "add", self.ns(node))
            self.namespaces.append(self.ns(node))
            _run("ip", "-n", self.ns(node), "link", "set", "lo", "up")
        for index, (r1_if, r1_addrs, node, addrs) in enumerate(self.links):
            # Created in r1's namespace under temporary names, then one end moved: nothing in the root one.
            peer_tmp = f"ektpsv{index}"
            _run("ip", "-n", self.ns("r1"), "link", "add", r1_if, "type", "veth", "peer", "name", peer_tmp)
            _run("ip", "-n", self.ns("r1"), "link", "set", peer_tmp, "netns", self.ns(node))
            _run("ip", "-n", self.ns(node), "link", "set", peer_tmp, "name", "eth1")
            for ns, dev, address in [(self.ns("r1"), r1_if, a) for a in r1_addrs.split(",")] + [
                (self.ns(node), "eth1", a) for a in addrs.split(",")
            ]:
                # nodad: an IPv6 address is usable at once (no duplicate address detection to wait for)
                _run("ip", "-n", ns, "addr", "add", address, "dev", dev, *(["nodad"] if ":" in address else []))
            _run("ip", "-n", self.ns("r1"), "link", "set", r1_if, "up")
            _run("ip", "-n", self.ns(node), "link", "set", "eth1", "up")
        for node, prefixes in self.advertised.items():
            for prefix in prefixes:
                _run("ip", "-n", self.ns(node), "addr", "add", prefix, "dev", "lo")
        for node, config in self.configs.items():
            self._start_frr(node, self.daemon_configs(node, config))

    def daemon_configs(self, node: str, config: Any) -> dict[str, str]:
        """The body of each daemon's config file on ``node`` (after FRR_BASE); the daemons that run there."""
        bodies = {"zebra": ""}
        bodies["staticd"] = "".join(line + "\n" for line in config.splitlines() if line.startswith("ip route"))
        bodies["bgpd"] = "".join(line + "\n" for line in config.splitlines() if not line.startswith("ip route"))
        return bodies

    def _start_frr(self, node: str, bodies: dict[str, str]) -> None:
        d = self.dir(node)
        (d / "run").mkdir(parents=True)
        (d / "vtysh.conf").write_text("no service integrated-vtysh-config\n")
        for daemon, body in bodies.items():
            (d / f"{daemon}.conf").write_text(FRR_BASE.format(name=node, dir=d, daemon=daemon) + body)
        _run("chown", "-R", "frr:frr", str(self.state))
        for daemon in bodies:
            pidfile = d / "run" / f"{daemon}.pid"
            _run(
                "ip", "netns", "exec", self.ns(node), str(FRR / daemon),
                "-d", "-P", "0", "-u", "frr", "-g", "frr",
                "-z", str(d / "run" / "zserv.api"), "--vty_socket", str(d / "run"),
                "-f", str(d / f"{daemon}.conf"), "-i", str(pidfile),
            )  # fmt: skip
            for _ in range(100):  # -d: the daemon has forked; its pid file follows within moments
                if pidfile.exists() and pidfile.read_text().strip():
                    break
                time.sleep(0.02)
            pid = int(pidfile.read_text().strip())
            self.pids.append(pid)
            self.daemon_pids[(node, daemon)] = pid

    def vtysh(self, node: str, command: str) -> str:
        return vtysh(self.dir(node), command, timeout=60, check=True)

    def stop(self, node: str, daemon: str) -> None:
        """Stop one daemon (SIGKILL: a dead node sends no last packet)."""
        pid = self.daemon_pids[(node, daemon)]
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and _alive(pid):
            time.sleep(0.02)

    def close(self) -> None:
        for pid in reversed(self.pids):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 3
        for pid in self.pids:
            while time.monotonic() < deadline and _alive(pid):
                time.sleep(0.02)
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        for name in self.namespaces:
            _run("ip", "netns", "del", name, check=False)
        shutil.rmtree(self.state, ignore_errors=True)

    def wait(self, ready: Callable[[], bool], timeout: float = 20.0) -> None:
        if not wait_for(ready, timeout):
            raise TimeoutError("FRR lab did not reach the expected state")

    def stable(self, command: str, node: str = "r1", tries: int = 30) -> tuple[str, Any]:
        """Text and JSON of one moment (keepalives and uptimes tick every second): retry until the text did not
        change around the JSON."""
        for _ in range(tries):
            text = self.vtysh(node, command)
            data = json.loads(self.vtysh(node, command + " json"))
            if self.vtysh(node, command) == text:
                return text, data
            time.sleep(0.05)
        raise RuntimeError(f"{command!r} did not stay still long enough to capture")


def save_capture(stem: Path, text: str, data: Any, head: str = "", command: str | None = None) -> None:
    """A parser fixture: ``stem.txt`` (``head`` lines, then the text), ``stem.json`` (FRR's JSON of the same
    moment) and, given ``command``, ``stem.cmd``."""
    Path(f"{stem}.txt").write_text(head + text)
    Path(f"{stem}.json").write_text(json.dumps(data, indent=2) + "\n")
    if command is not None:
        Path(f"{stem}.cmd").write_text(command + "\n")
