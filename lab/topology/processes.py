"""The lab's processes: what runs where (the process table), pid files, starting and stopping.

Every process is started detached and recorded in a pid file with its start time, so a pid is recognised
again across `python -m lab` calls and never mistaken for a reused one. Routers (lab.vyos) start in threads
of their own, the other processes all at once, then one readiness loop waits for them.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lab.topology import artifacts as A
from lab.topology import lbhost
from lab.topology.plan import S3_PORT, WG_PORT, Cluster, Host, Options, Plan
from lab.topology.system import LabError, alive, kill_pids, listening_ports, run

REPO = Path(__file__).resolve().parents[2]
PY = sys.executable
FRR = Path("/usr/lib/frr")


def have(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def starttime(pid: int) -> str | None:
    """Field 22 of /proc/PID/stat: with the pid, identifies a process across pid reuse."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


@dataclass
class Proc:
    """A process the lab starts and supervises through a pid file."""

    id: str  # <host>.<kind>
    host: str
    kind: str
    argv: list[str] | Callable[[], list[str]]
    ns: str | None  # run through `ip netns exec ns`; None when argv enters a namespace itself
    log: Path
    ready_port: int | None = None
    ready: Callable[[int], bool] | None = None
    after: str | None = None  # id of a process that must be ready first
    on_ready: Callable[[int], None] | None = None
    env: dict[str, str] = field(default_factory=dict)


def tail(path: Path, n: int = 3) -> str:
    try:
        lines = path.read_text(errors="replace").strip().splitlines()
    except OSError:
        return "(no log)"
    return " | ".join(lines[-n:]) or "(empty log)"


class Processes:
    """Pid files, the process table and starting/stopping (a part of runtime.Lab)."""

    opts: Options
    plan: Plan
    paths: A.Paths
    notes: list[str]

    # -- pid files ---------------------------------------------------------------------------------

    def record(self, proc_id: str, pid: int) -> None:
        self.paths.run.mkdir(parents=True, exist_ok=True)
        A.write(self.paths.pidfile(proc_id), f"{pid} {starttime(pid) or ''}\n")

    def pid_of(self, proc_id: str) -> int | None:
        """The recorded pid when that very process is still alive."""
        try:
            pid_s, _, st = self.paths.pidfile(proc_id).read_text().strip().partition(" ")
            pid = int(pid_s)
        except (OSError, ValueError):
            return None
        if not alive(pid) or (st and starttime(pid) != st):
            return None
        return pid

    # -- process table -------------------------------------------------------------------------------

    def procs(self) -> list[Proc]:
        out: list[Proc] = []
        py_env = {"PYTHONPATH": str(REPO)}
        cert, key = str(self.paths.cert), str(self.paths.key_pem)
        op = self.plan.operator_ns
        hostdir = self.paths.host
        out.append(
            Proc(
                "op.s3",
                "op",
                "s3",
                [PY, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(S3_PORT)],
                op,
                hostdir("op") / "s3.log",
                ready_port=S3_PORT,
                env=py_env,
            )
        )
        for c in self.plan.clusters.values():
            if have("lab.kubeapi"):
                out.append(
                    Proc(
                        f"op.kubeapi-{c.name}",
                        "op",
                        "kubeapi",
                        [
                            PY,
                            "-m",
                            "lab.kubeapi",
                            "--listen",
                            f"127.0.0.1:{c.kubeapi_port}",
                            "--world",
                            str(hostdir("op") / f"world-{c.name}.json"),
                            "--cert",
                            cert,
                            "--key",
                            key,
                            "--token",
                            A.KUBE_TOKEN,
                        ],
                        op,
                        hostdir("op") / f"kubeapi-{c.name}.log",
                        ready_port=c.kubeapi_port,
                        env=py_env,
                    )
                )
                # MetalLB (controller + speakers) of the cluster: follows the world file (lab.topology.speakers).
                out.append(
                    Proc(
                        f"op.metallb-{c.name}",
                        "op",
                        "metallb",
                        [PY, "-m", "lab.topology.speakers", "--state", str(self.paths.state), "--cluster", c.name],
                        op,
                        hostdir("op") / f"metallb-{c.name}.log",
                        env=py_env,
                    )
                )
            for h in self.hosts(c):
                d = hostdir(h.name)
                if h.role == "master":
                    out.append(
                        Proc(
                            f"{h.name}.apiserver",
                            h.name,
                            "apiserver",
                            [PY, "-m", "lab.topology.servers", "apiserver", "--cert", cert, "--key", key],
                            h.ns,
                            d / "apiserver.log",
                            ready_port=6443,
                            env=py_env,
                        )
                    )
                elif h.role == "node":
                    out.append(
                        Proc(
                            f"{h.name}.http",
                            h.name,
                            "http",
                            [
                                PY,
                                "-m",
                                "lab.topology.servers",
                                "node",
                                h.server or h.name,
                                # Every address: kube-proxy's nat rules redirect service IPs here (speakers.py).
                                "0.0.0.0",
                            ],
                            h.ns,
                            d / "http.log",
                            ready_port=80,
                            env=py_env,
                        )
                    )
                    if c.speaker_ready(h.index):
                        out += self.frr_procs(h)
                elif h.role == "lb":
                    out.append(
                        Proc(
                            f"{h.name}.holder",
                            h.name,
                            "holder",
                            [
                                "unshare",
                                "-m",
                                "-u",
                                "--propagation",
                                "private",
                                "sh",
                                "-c",
                                lbhost.holder_script(d, self.paths.ssh, h.server or h.name),
                            ],
                            h.ns,
                            d / "log" / "holder.log",
                            ready=lambda _pid, d=d: (d / "run" / "holder.ready").exists(),
                        )
                    )
                    out.append(
                        Proc(
                            f"{h.name}.sshd",
                            h.name,
                            "sshd",
                            lambda h=h, d=d: [
                                "nsenter",
                                "-t",
                                str(self.pid_of(f"{h.name}.holder")),
                                "-m",
                                "-n",
                                "-u",
                                "/usr/sbin/sshd",
                                "-D",
                                "-e",
                                "-f",
                                str(lbhost.INNER / "sshd_config"),
                            ],
                            None,
                            d / "log" / "sshd.log",
                            ready_port=22,
                            after=f"{h.name}.holder",
                        )
                    )
                elif h.role == "venue":
                    out.append(
                        Proc(
                            f"{h.name}.wireguard",
                            h.name,
                            "wireguard",
                            [
                                "unshare",
                                "-m",
                                "--propagation",
                                "private",
                                "sh",
                                "-c",
                                "mount -t tmpfs -o mode=0755 lab-run /run && exec wireguard-go -f wg0",
                            ],
                            h.ns,
                            d / "wireguard.log",
                            ready=lambda pid: Path(f"/proc/{pid}/root/run/wireguard/wg0.sock").exists(),
                            on_ready=lambda pid, c=c: self.configure_venue(c, pid),
                            env={"LOG_LEVEL": "error"},
                        )
                    )
        return out

    def frr_procs(self, h: Host) -> list[Proc]:
        """zebra and bgpd; bfdd too when the node's MetalLB peer carries a BFD profile (bfdd.conf has one)."""
        d = self.paths.host(h.name) / "frr"
        daemons = ["zebra", "bgpd"]
        try:
            if "\nbfd\n" in (d / "bfdd.conf").read_text():
                # bfdd ready before bgpd starts: FRR 8.4's bgpd started first logs "BFD session ... was not
                # installed" and its neighbors get no BFD session (observed after a speaker-down heal).
                daemons = ["zebra", "bfdd", "bgpd"]
        except OSError:
            pass
        try:
            # Without a BGP instance (MetalLB has no peer for this node) bgpd listens on nothing: ready by its vty.
            bgp_instance = "router bgp" in (d / "bgpd.conf").read_text()
        except OSError:
            bgp_instance = True
        common = ["-P", "0", "-u", "frr", "-g", "frr", "-z", f"{d}/run/zserv.api", "--vty_socket", f"{d}/run"]
        return [
            Proc(
                f"{h.name}.{daemon}",
                h.name,
                daemon,
                [
                    str(FRR / daemon),
                    *common,
                    "-f",
                    f"{d}/{daemon}.conf",
                    "-i",
                    f"{d}/run/{daemon}.pid",
                    "--log",
                    f"file:{d}/{daemon}.log",
                ],
                h.ns,
                d / f"{daemon}.out",
                ready_port=179 if daemon == "bgpd" and bgp_instance else None,
                ready=(lambda _pid, d=d: (d / "run" / "zserv.api").exists())
                if daemon == "zebra"
                else (lambda _pid, d=d, daemon=daemon: accepts(d / "run" / f"{daemon}.vty"))
                if daemon == "bfdd" or not bgp_instance
                else None,
                after=f"{h.name}.zebra"
                if daemon == "bfdd"
                else f"{h.name}.bfdd"
                if daemon == "bgpd" and "bfdd" in daemons
                else None,
            )
            for daemon in daemons
        ]

    def hosts(self, c: Cluster | None = None) -> list[Host]:
        return [h for h in self.plan.hosts if c is None or h.cluster == c.name]

    def service_ips(self, c: Cluster) -> list[str]:
        return [str(s.ip) for s in c.services]

    # -- starting ------------------------------------------------------------------------------------

    def venue_stanza_conf(self, c: Cluster) -> Path:
        """Where ``lab venue --config`` keeps the venue's wg-quick config (its name is the interface's)."""
        return self.paths.host(f"{c.name}-venue") / "wg-quick" / "wg0.conf"

    def configure_venue(self, c: Cluster, pid: int) -> None:
        stanza = self.venue_stanza_conf(c)
        if stanza.exists():
            self.configure_venue_wg_quick(c, pid, stanza)
            return
        conf = self.paths.host(f"{c.name}-venue") / "wg0.conf"
        routes = " && ".join(
            f"ip route replace {net} dev wg0 src {c.venue_network[1]}" for net in (c.metallb_range, c.venue_pool)
        )
        script = (
            f"wg setconf wg0 {conf} && ip address replace {c.tunnel[2]}/{c.tunnel.prefixlen} dev wg0 && "
            f"ip link set wg0 up && {routes}"
        )
        run(["nsenter", "-t", str(pid), "-m", "-n", "sh", "-c", script])

    def configure_venue_wg_quick(self, c: Cluster, pid: int, conf: Path) -> None:
        """What ``wg-quick up`` does with ``conf`` on the running wg0 (wireguard-tools src/wg-quick/linux.bash):
        ``wg-quick strip`` for the wg(8) part, applied with ``wg syncconf`` (the reload wg-quick(8) documents:
        ``wg syncconf wg0 <(wg-quick strip wg0)``); each ``Address`` added (none: the venue keeps its tunnel
        address); then, longest prefixes first, a route ``dev wg0`` for every allowed IP no route on wg0 covers
        yet (add_route: ``ip route show dev wg0 match``). The routes on wg0 from before go first, as after
        ``wg-quick down`` (the interface and its routes gone) and ``up``."""
        addresses = wg_quick_addresses(conf.read_text())
        addr = (
            " && ".join(f"ip address replace {a} dev wg0" for a in addresses)
            if addresses
            else f"ip address replace {c.tunnel[2]}/{c.tunnel.prefixlen} dev wg0"
        )
        script = f"""set -e
wg syncconf wg0 <(wg-quick strip {conf})
{addr}
ip link set wg0 up
allowed=$(wg show wg0 allowed-ips | while read -r _ i; do for i in $i; do
  [[ $i =~ ^[0-9a-z:.]+/[0-9]+$ ]] && echo "$i"; done; done | sort -nr -k 2 -t /)
ip -4 route flush dev wg0 proto boot
for i in $allowed; do
  [[ -n $(ip -4 route show dev wg0 match "$i" 2>/dev/null) ]] || ip route add "$i" dev wg0
done
"""
        run(["nsenter", "-t", str(pid), "-m", "-n", "bash", "-c", script])

    def router_boot_config(self, c: Cluster) -> list[str]:
        """A minimal config: host name, the public address, the default route, SSH. edgekit does the rest."""
        lines = [
            f"set system host-name '{c.server_name('router')}'",
            f"set interfaces ethernet eth0 address '{c.router_public}'",
            f"set protocols static route 0.0.0.0/0 next-hop '{c.gateway}'",
            "set service ssh port '22'",
            # VyOS's default config.boot has it; 1.3's commit-confirm refuses without it
            # (vyatta-config-mgmt.pl: "commit-revisions is not configured.").
            "set system config-management commit-revisions '100'",
        ]
        return lines

    def start_routers(self) -> dict[str, tuple[threading.Thread, dict[str, Any]]]:
        out: dict[str, tuple[threading.Thread, dict[str, Any]]] = {}
        if not have("lab.vyos") or not hasattr(importlib.import_module("lab.vyos"), "start_router"):
            self.notes.append("lab.vyos is not available: routers have interfaces but no daemon")
            return out
        from lab.vyos import RouterSpec, start_router

        pub = self.paths.key.with_suffix(".pub").read_text().strip()
        for c in self.plan.clusters.values():
            name = f"{c.name}-router"
            if self.pid_of(f"{name}.router"):
                continue
            spec = RouterSpec(
                name=c.server_name("router"),
                netns=self.plan.ns(c.name, "router"),
                state_dir=self.paths.host(name),
                version=c.vyos,
                authorized_keys=[pub],
                boot_config=self.router_boot_config(c),
            )
            result: dict[str, Any] = {}

            def go(spec: Any = spec, result: dict[str, Any] = result, name: str = name) -> None:
                try:
                    # start_router clears what a dead daemon left (a restart, like a reboot of the box).
                    self.record(f"{name}.router", start_router(spec, timeout=20.0))
                except Exception as exc:  # reported with the other failures
                    result["error"] = exc

            t = threading.Thread(target=go, daemon=True)
            t.start()
            out[name] = (t, result)
        return out

    def start_procs(self, procs: list[Proc], timeout: float) -> list[str]:
        """Start what is not alive (dependencies first), then wait for all in one loop."""
        waiting: dict[str, Proc] = {}
        ready: set[str] = set()
        pending: list[Proc] = []
        for p in procs:
            if self.pid_of(p.id):
                ready.add(p.id)
            else:
                pending.append(p)
        failures: list[str] = []
        deadline = time.monotonic() + timeout
        while (pending or waiting) and time.monotonic() < deadline:
            for p in list(pending):
                if p.after and p.after not in ready:
                    if p.after not in waiting and not any(q.id == p.after for q in pending):
                        pending.remove(p)
                        failures.append(f"{p.id}: {p.after} did not start")
                    continue
                pending.remove(p)
                self.spawn(p)
                waiting[p.id] = p
            for pid_id, p in list(waiting.items()):
                pid = self.pid_of(pid_id)
                if pid is None:
                    del waiting[pid_id]
                    failures.append(f"{pid_id} exited: {tail(p.log)}")
                    continue
                ok = (p.ready_port is None or p.ready_port in listening_ports(pid)) and (
                    p.ready is None or p.ready(pid)
                )
                if ok:
                    del waiting[pid_id]
                    if p.on_ready:
                        try:
                            p.on_ready(pid)
                        except LabError as exc:
                            failures.append(f"{pid_id}: {exc}")
                            continue
                    ready.add(pid_id)
            if pending or waiting:
                time.sleep(0.02)
        failures += [f"{p} not ready after {timeout:.0f} s: {tail(waiting[p].log)}" for p in waiting]
        failures += [f"{p.id} not started" for p in pending]
        return failures

    def spawn(self, p: Proc) -> None:
        argv = p.argv() if callable(p.argv) else p.argv
        if p.ns:
            argv = ["ip", "netns", "exec", p.ns, *argv]
        p.log.parent.mkdir(parents=True, exist_ok=True)
        with open(p.log, "ab") as log:
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, **p.env},
                cwd=str(REPO),
                start_new_session=True,  # survives the CLI; never gets the terminal's signals
            )
        # `ip netns exec`, unshare, sh -c 'exec' and nsenter all exec: the pid is the daemon's.
        self.record(p.id, proc.pid)
        proc.returncode = 0  # detached on purpose; keep Popen.__del__ quiet

    def stop(self, *proc_ids: str) -> None:
        pids = [p for p in (self.pid_of(i) for i in proc_ids) if p]
        kill_pids(pids)


def accepts(path: Path) -> bool:
    """A unix socket someone listens on (a daemon's vty socket left by its previous run does not count)."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(0.2)
        sock.connect(str(path))
        return True
    except OSError:
        return False
    finally:
        sock.close()


# -- wg-quick configs (wireguard-tools src/wg-quick/linux.bash parse_options) ----------------------------------

_SECTION = re.compile(r"^\s*\[(\w+)\]\s*$")


def _key_value(line: str) -> tuple[str, str]:
    stripped = line.split("#", 1)[0]
    key, _, value = stripped.partition("=")
    return key.strip(), value.strip()


def wg_quick_addresses(text: str) -> list[str]:
    """The ``Address`` values of the [Interface] section (comma-separated, several lines allowed)."""
    out: list[str] = []
    section = ""
    for line in text.splitlines():
        m = _SECTION.match(line.split("#", 1)[0])
        if m:
            section = m.group(1).lower()
            continue
        key, value = _key_value(line)
        if section == "interface" and key.lower() == "address":
            out += [v.strip() for v in value.split(",") if v.strip()]
    return out


def venue_wg_quick_conf(text: str, private_key: str, source: str = "stanza") -> str:
    """The venue's wg-quick config from a stanza: its [Peer]s as given, an [Interface] with the venue's
    private key and listen port where the stanza has none. Raises LabError on a stanza wg could not take."""
    lines = text.splitlines()
    sections = [(i, _SECTION.match(line.split("#", 1)[0])) for i, line in enumerate(lines)]
    names = [m.group(1).lower() for _, m in sections if m]
    if "peer" not in names:
        raise LabError(f"{source}: no [Peer] section")
    for name in names:
        if name not in ("interface", "peer"):
            raise LabError(f"{source}: unknown section [{name}]")
    section = ""
    peers: list[set[str]] = []
    iface_keys: set[str] = set()
    for line in lines:
        m = _SECTION.match(line.split("#", 1)[0])
        if m:
            section = m.group(1).lower()
            if section == "peer":
                peers.append(set())
            continue
        key, _ = _key_value(line)
        if not key:
            continue
        if section == "peer":
            peers[-1].add(key.lower())
        elif section == "interface":
            iface_keys.add(key.lower())
        else:
            raise LabError(f"{source}: {key!r} outside a section")
    for n, keys in enumerate(peers, 1):
        if "publickey" not in keys:
            raise LabError(f"{source}: [Peer] #{n} has no PublicKey")
    extra = []
    if "privatekey" not in iface_keys:
        extra.append(f"PrivateKey = {private_key}")
    if "listenport" not in iface_keys:
        extra.append(f"ListenPort = {WG_PORT}")
    if "interface" in names:
        at = next(i for i, m in sections if m and m.group(1).lower() == "interface")
        lines[at + 1 : at + 1] = extra
    else:
        lines = ["[Interface]", *extra, "", *lines]
    return "\n".join(lines).rstrip() + "\n"
