"""Bring the lab up and down, report on it, break it and mend it.

``up`` is idempotent: namespaces, links and addresses are created or replaced, files rewritten only
when they change, and only processes that are not alive are started (all at once, then one readiness
loop). ``down`` needs nothing but the prefix and the state directory: it kills every process in the
lab's namespaces (found by namespace, never by name), deletes the namespaces and the state directory.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

from lab.topology import artifacts as A
from lab.topology import lbhost
from lab.topology.plan import S3_PORT, WG_PORT, Cluster, Host, Options, Plan, load_options
from lab.topology.system import (
    LabError,
    alive,
    ancestors,
    ip_batch,
    kill_pids,
    links,
    list_netns,
    listening_ports,
    proc_info,
    procs_by_netns,
    read_pid,
    run,
)

REPO = Path(__file__).resolve().parents[2]
PY = sys.executable
FRR = Path("/usr/lib/frr")
FAULTS = ("speaker-down", "link-down", "sshd-down", "keepalived-down", "apiserver-down", "wireguard-down")


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


class Lab:
    def __init__(self, opts: Options) -> None:
        self.opts = opts
        self.plan = Plan(opts)
        self.paths = A.Paths(opts.state_dir)
        self.notes: list[str] = []

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
                                ",".join(self.service_ips(c)),
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
        d = self.paths.host(h.name) / "frr"
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
                ready_port=179 if daemon == "bgpd" else None,
                ready=(lambda _pid, d=d: (d / "run" / "zserv.api").exists()) if daemon == "zebra" else None,
            )
            for daemon in ("zebra", "bgpd")
        ]

    def hosts(self, c: Cluster | None = None) -> list[Host]:
        return [h for h in self.plan.hosts if c is None or h.cluster == c.name]

    def service_ips(self, c: Cluster) -> list[str]:
        return [str(s.ip) for s in c.services]

    # -- up ----------------------------------------------------------------------------------------------

    def up(self, timeout: float = 30.0) -> dict[str, Any]:
        t0 = time.monotonic()
        self.check_prerequisites()
        self.paths.state.mkdir(parents=True, exist_ok=True)
        os.chmod(self.paths.state, 0o755)
        A.write_json(self.paths.lab_json, self.opts.to_json())  # first: `down` after a crash needs it
        self.build_network()
        t_net = time.monotonic() - t0
        # `up` puts back every port and process, so whatever faults were injected are gone.
        (self.paths.state / "faults.json").unlink(missing_ok=True)
        A.ensure_secrets(self.paths, self.plan)
        self.write_files()
        routers = self.start_routers()
        failures = self.start_procs(self.procs(), timeout)
        for name, thread_result in routers.items():
            thread, result = thread_result
            thread.join(timeout)
            if isinstance(result.get("error"), Exception):
                failures.append(f"{name}: {result['error']}")
        self.seed_s3()
        self.write_known_hosts()
        elapsed = time.monotonic() - t0
        if failures:
            raise LabError("lab up incomplete:\n  " + "\n  ".join(failures))
        return {"seconds": round(elapsed, 2), "network_seconds": round(t_net, 2), "notes": self.notes}

    def check_prerequisites(self) -> None:
        if os.geteuid() != 0:
            raise LabError("the lab needs root (network namespaces)")
        for binary in ("ip", "haproxy", "keepalived", "wireguard-go", "wg", "/usr/sbin/sshd", str(FRR / "bgpd")):
            if not shutil.which(binary) and not Path(binary).exists():
                raise LabError(f"{binary} is not installed (see lab/README.md)")
        # FRR runs as user frr and keeps its sockets in the state dir: every parent needs o+x.
        state = self.paths.state.resolve()
        for p in [*reversed(state.parents)]:
            if p.exists() and not p.stat().st_mode & 0o001:
                raise LabError(f"{p} is not searchable by others (chmod o+x): FRR runs as user frr under {state}")

    def build_network(self) -> None:
        existing = set(list_netns(self.plan.prefix))
        ip_batch(f"netns add {ns}" for ns in self.plan.namespaces() if ns not in existing)
        have_links = {ns: set(links(ns)) for ns in self.plan.namespaces()}
        create, cleanup = [], []
        for c in self.plan.clusters.values():
            sw = self.plan.ns(c.name, "sw")
            for br in ("inet", "priv"):
                if br not in have_links[sw]:
                    create.append(f"link add name {br} netns {sw} type bridge")
        for ln in self.plan.links:
            a, b = ln.ifname in have_links[ln.ns], ln.peer in have_links[ln.peer_ns]
            if a and b:
                continue
            if a:
                cleanup.append((ln.ns, ln.ifname))
            if b:
                cleanup.append((ln.peer_ns, ln.peer))
            # Both ends are created directly in their namespaces: the root namespace never holds them.
            create.append(f"link add name {ln.peer} netns {ln.peer_ns} type veth peer name {ln.ifname} netns {ln.ns}")
        for ns, ifname in cleanup:
            ip_batch([f"link del {ifname}"], ns, force=True)
        ip_batch(create)
        # Per-namespace configuration, every namespace in parallel.
        batches: dict[str, list[str]] = {ns: ["link set dev lo up"] for ns in self.plan.namespaces()}
        for c in self.plan.clusters.values():
            sw = self.plan.ns(c.name, "sw")
            batches[sw] += ["link set dev inet up", "link set dev priv up"]
        for ln in self.plan.links:
            batches[ln.ns].append(f"link set dev {ln.ifname} up")
            if ln.bridge:
                batches[ln.peer_ns].append(f"link set dev {ln.peer} master {ln.bridge}")
            batches[ln.peer_ns].append(f"link set dev {ln.peer} up")
        for h in self.plan.hosts:
            if h.role == "router":
                continue  # the router configures its own addresses and routes
            for spec in h.addresses:
                ifname, addr = spec.split("=")
                batches[h.ns].append(f"address replace {addr} dev {ifname}")
            batches[h.ns] += [f"route replace {r}" for r in h.routes]
        procs = [
            subprocess.Popen(["ip", "-n", ns, "-batch", "-"], stdin=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for ns in batches
        ]
        # sysctls: forwarding on the upstream; IPv6 off everywhere but the router (less DAD/MLD noise).
        sysctl = []
        for h in self.plan.hosts:
            if h.role == "router":
                continue
            args = ["net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1"]
            if h.role == "upstream":
                args.append("net.ipv4.ip_forward=1")
            sysctl.append(
                subprocess.Popen(
                    ["ip", "netns", "exec", h.ns, "sysctl", "-q", "-w", *args],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE,
                    text=True,
                )
            )
        errors = []
        for p, ns in zip(procs, batches, strict=True):
            _, err = p.communicate("\n".join(batches[ns]) + "\n")
            if p.returncode:
                errors.append(f"{ns}: {err.strip()}")
        for p in sysctl:
            _, err = p.communicate()
            if p.returncode:
                errors.append(err.strip())
        if errors:
            raise LabError("network setup failed: " + "; ".join(errors))

    def write_files(self) -> None:
        paths, plan = self.paths, self.plan
        password = "lab-" + paths.vrrp_pass(next(iter(plan.clusters))).read_text().strip()
        for c in plan.clusters.values():
            A.write_json(paths.tfstate / f"{c.name}.tfstate", A.tfstate(plan, c, password))
            self.write_world(c)
            A.write(paths.host(f"{c.name}-venue") / "wg0.conf", self.venue_wg_conf(c), 0o600)
            for h in self.hosts(c):
                d = paths.host(h.name)
                d.mkdir(parents=True, exist_ok=True)
                if h.role == "node":
                    f = d / "frr"
                    (f / "run").mkdir(parents=True, exist_ok=True)
                    A.write(f / "zebra.conf", f"hostname {h.server}\n")
                    A.write(f / "bgpd.conf", A.speaker_bgpd(c, h.index))
                    A.write(f / "vtysh.conf", "no service integrated-vtysh-config\n")
                    shutil.chown(f, "frr", "frr")
                    for p in [f / "run", *f.iterdir()]:
                        shutil.chown(p, "frr", "frr")
                elif h.role == "lb":
                    for sub in ("run", "log", "haproxy-run", "bin", "etc", "tmp", "home"):
                        (d / sub).mkdir(exist_ok=True)
                    A.copy_tree_once(Path("/etc/haproxy"), d / "etc" / "haproxy")
                    (d / "etc" / "keepalived").mkdir(exist_ok=True)
                    os.chmod(d / "tmp", 0o1777)
                    A.write(d / "bin" / "systemctl", lbhost.systemctl_shim(), 0o755)
                    A.write(d / "bin" / "service", lbhost.service_shim(), 0o755)
                    if A.write(d / "sshd_config", lbhost.sshd_config()):
                        # sshd -t wants /run/sshd and reads /run/lab paths: check in a namespace like the holder's.
                        check = lbhost.sshd_check_script(d, paths.ssh)
                        run(["unshare", "-m", "--propagation", "private", "sh", "-c", check])
                elif h.role == "router":
                    self.prepare_router_dir(c, d)
        A.write_yaml(paths.site, A.site_file(paths, plan))
        A.write_yaml(paths.kubeconfig, A.kubeconfig(paths, plan), 0o600)
        env = A.environment(paths, plan, REPO)
        A.write(paths.env_sh, A.env_sh(env))
        A.write(paths.ssh_config, A.ssh_config(paths))

    def write_world(self, c: Cluster) -> None:
        if not have("lab.kubeapi"):
            return
        from lab.kubeapi.world import build_world, set_speaker_ready

        args = A.world_args(self.plan, c)
        services = [
            {
                "namespace": s["namespace"],
                "name": s["name"],
                "ip": s["ip"],
                "policy": s["external_traffic_policy"],
                "endpoints": s["endpoint_nodes"],
                "pool": s["pool"],
            }
            for s in args["services"]
        ]
        masters = [(c.server_name("master", i), str(c.master_address(i))) for i in (1, 2, 3)]
        world = build_world(args["nodes"], args["metallb"], services, masters=masters)
        # Faults that a kubelet would notice: a stopped speaker's pod turns NotReady.
        for host, kinds in self.faults().items():
            if "speaker-down" in kinds and host.startswith(c.name + "-"):
                world = set_speaker_ready(world, self.plan.host(host).server or host, False)
        A.write_json(self.paths.host("op") / f"world-{c.name}.json", world)

    def venue_wg_conf(self, c: Cluster) -> str:
        router_pub = self.router_wg_public(c)
        return (
            "[Interface]\n"
            f"PrivateKey = {self.paths.wg_key(c.name, 'venue').read_text().strip()}\n"
            f"ListenPort = {WG_PORT}\n\n"
            "[Peer]\n"
            f"PublicKey = {router_pub}\n"
            f"AllowedIPs = {c.tunnel}, {c.metallb_range}\n"
            f"Endpoint = {c.router_public.ip}:{WG_PORT}\n"
            f"PersistentKeepalive = {A.WG_KEEPALIVE}\n"
        )

    def router_wg_public(self, c: Cluster) -> str:
        """The router's WireGuard public key the venue trusts: the lab's keypair, or (1.3, after
        `python -m lab venue-peer`) the key of the router's named keypair."""
        override = self.paths.secrets / f"{c.name}-router-wg.pub.override"
        if override.exists():
            return override.read_text().strip()
        return A.wg_public(self.paths, c.name, "router")

    def configure_venue(self, c: Cluster, pid: int) -> None:
        conf = self.paths.host(f"{c.name}-venue") / "wg0.conf"
        script = (
            f"wg setconf wg0 {conf} && ip address replace {c.tunnel[2]}/{c.tunnel.prefixlen} dev wg0 && "
            f"ip link set wg0 up && ip route replace {c.metallb_range} dev wg0 src {c.venue_network[1]}"
        )
        run(["nsenter", "-t", str(pid), "-m", "-n", "sh", "-c", script])

    def prepare_router_dir(self, c: Cluster, d: Path) -> None:
        # The host key is made here, so known_hosts is written without scanning (lab.vyos keeps it).
        key = d / "ssh" / "host_key"
        if not key.exists():
            key.parent.mkdir(parents=True, exist_ok=True)
            run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", c.server_name("router"), "-f", str(key)])

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
                confirm_action_node=c.confirm_action,
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

    def seed_s3(self) -> None:
        """Put each cluster's state at env:/<cluster>/terraform.tfstate (a PUT is idempotent)."""
        if not self.pid_of("op.s3"):
            return
        base = f"http://127.0.0.1:{S3_PORT}/{A.S3_BUCKET}"
        # Signed like any S3 client (moto answers anonymous requests on private objects with 403).
        key, secret = A.S3_CREDENTIALS["AWS_ACCESS_KEY_ID"], A.S3_CREDENTIALS["AWS_SECRET_ACCESS_KEY"]
        curl = (
            f"curl -s -o /dev/null --aws-sigv4 aws:amz:us-east-1:s3 --user {key}:{secret} "
            "-H 'x-amz-content-sha256: UNSIGNED-PAYLOAD'"
        )
        cmds = [f"{curl} -X PUT {base}"]
        for c in self.plan.clusters.values():
            f = self.paths.tfstate / f"{c.name}.tfstate"
            cmds.append(f"{curl} -f -T {f} '{base}/env:/{c.name}/{A.S3_KEY}'")
        run(["ip", "netns", "exec", self.plan.operator_ns, "sh", "-c", " && ".join(cmds)])

    def write_known_hosts(self) -> None:
        lines = []
        host_pub = " ".join(self.paths.host_key.with_suffix(".pub").read_text().split()[:2])
        for c in self.plan.clusters.values():
            # The VIP moves between the LBs, which share one host key.
            for addr in (c.lb_address(1), c.lb_address(2), c.vip):
                lines.append(f"{addr} {host_pub}")
            rkey = self.paths.host(f"{c.name}-router") / "ssh" / "host_key.pub"
            if rkey.exists():
                lines.append(f"{c.router_public.ip} {' '.join(rkey.read_text().split()[:2])}")
        A.write(self.paths.known_hosts, "\n".join(lines) + "\n")

    # -- status ------------------------------------------------------------------------------------------

    def status(self) -> list[dict[str, Any]]:
        hosts = self.plan.hosts
        by_ns = procs_by_netns(h.ns for h in hosts)
        addrs = live_addresses([h.ns for h in hosts])
        expected: dict[str, list[Proc]] = {}
        for p in self.procs():
            expected.setdefault(p.host, []).append(p)
        faults = self.faults()
        out = []
        for h in hosts:
            procs = []
            for p in expected.get(h.name, []):
                pid = self.pid_of(p.id)
                info = proc_info(pid) if pid else None
                procs.append(
                    {
                        "name": p.kind,
                        "pid": pid,
                        "alive": pid is not None,
                        "rss_kb": info.rss_kb if info else 0,
                        "pss_kb": info.pss_kb if info else 0,
                    }
                )
            if h.role == "router":
                pid = self.pid_of(f"{h.name}.router")
                info = proc_info(pid) if pid else None
                procs.append(
                    {
                        "name": "router",
                        "pid": pid,
                        "alive": pid is not None,
                        "rss_kb": info.rss_kb if info else 0,
                        "pss_kb": info.pss_kb if info else 0,
                    }
                )
            listed = {p["pid"] for p in procs}
            others = [
                {"name": i.comm, "pid": i.pid, "alive": True, "rss_kb": i.rss_kb, "pss_kb": i.pss_kb}
                for i in by_ns.get(h.ns, [])
                if i.pid not in listed
            ]
            c = self.plan.clusters.get(h.cluster)
            out.append(
                {
                    "name": h.name,
                    "cluster": h.cluster,
                    "role": h.role,
                    "namespace": h.ns,
                    "server": h.server,
                    "addresses": addrs.get(h.ns, []),
                    "namespace_exists": h.ns in addrs,
                    "healthy": h.ns in addrs and all(p["alive"] for p in procs) and not faults.get(h.name),
                    "processes": procs + others,
                    "rss_kb": sum(i.rss_kb for i in by_ns.get(h.ns, [])),
                    "pss_kb": sum(i.pss_kb for i in by_ns.get(h.ns, [])),
                    "faults": faults.get(h.name, []),
                    "services": [
                        {"namespace": s.namespace, "name": s.name, "ip": str(s.ip), "policy": s.policy}
                        for s in (c.services if c else [])
                    ],
                }
            )
        return out

    # -- faults ------------------------------------------------------------------------------------------

    def faults(self) -> dict[str, list[str]]:
        try:
            return json.loads((self.paths.state / "faults.json").read_text())
        except (OSError, ValueError):
            return {}

    def _save_faults(self, faults: dict[str, list[str]]) -> None:
        A.write_json(self.paths.state / "faults.json", {k: v for k, v in faults.items() if v})

    def fault(self, name: str, kind: str, link: str | None = None, hard: bool = False) -> str:
        h = self.plan.host(name)
        allowed = {
            "speaker-down": ("node",),
            "link-down": ("router", "lb", "master", "node", "venue", "upstream"),
            "sshd-down": ("lb", "router"),
            "keepalived-down": ("lb",),
            "apiserver-down": ("master",),
            "wireguard-down": ("venue",),
        }
        if kind not in allowed:
            raise LabError(f"unknown fault {kind!r}; one of {', '.join(FAULTS)}")
        if h.role not in allowed[kind]:
            raise LabError(f"{kind} applies to {'/'.join(allowed[kind])} hosts, not {h.name} ({h.role})")
        what = ""
        if kind == "speaker-down":
            self.stop(f"{h.name}.bgpd", f"{h.name}.zebra")
            what = "bgpd and zebra stopped (the speaker pod turns NotReady)"
        elif kind == "link-down":
            what = self.cut_links(h, link, cut=True)
        elif kind == "sshd-down":
            if h.role == "lb":
                self.stop(f"{h.name}.sshd")
                what = "sshd stopped (established sessions stay)"
            else:
                # The router's SSH server is its daemon: stopping it stops the router's CLI, while
                # FRR and the kernel keep forwarding (the daemon leaves them running when killed).
                pid = self.pid_of(f"{h.name}.router")
                if pid:
                    os.kill(pid, signal.SIGKILL)
                what = "router SSH daemon killed (routing goes on; heal restarts the router from its saved config)"
        elif kind == "keepalived-down":
            pids = self.lb_service_pids(h, "keepalived")
            if not pids:
                raise LabError(f"keepalived is not running on {h.name}")
            if hard:
                for pid in pids:
                    os.kill(pid, signal.SIGKILL)
            else:
                kill_pids(pids[:1], grace=3.0)  # the main process stops its children and releases the VIP
            (self.paths.host(h.name) / "run" / "keepalived.pid").unlink(missing_ok=True)
            what = "keepalived killed (SIGKILL: the VIP may stay)" if hard else "keepalived stopped (SIGTERM)"
        elif kind == "apiserver-down":
            self.stop(f"{h.name}.apiserver")
            what = "apiserver stopped"
        elif kind == "wireguard-down":
            self.stop(f"{h.name}.wireguard")
            what = "wireguard-go stopped"
        faults = self.faults()
        faults.setdefault(h.name, [])
        if kind not in faults[h.name]:
            faults[h.name].append(kind)
        self._save_faults(faults)
        if kind == "speaker-down":
            self.write_world(self.plan.clusters[h.cluster])
        return f"{h.name}: {kind}: {what}"

    def heal(self, name: str | None = None) -> list[str]:
        """Undo faults (all, or one host's) and start whatever of those hosts is not running."""
        targets = [self.plan.host(name)] if name else [h for h in self.plan.hosts]
        faults = self.faults()
        done = []
        for h in targets:
            kinds = faults.pop(h.name, [])
            if "link-down" in kinds or name:
                self.cut_links(h, None, cut=False)
            if kinds:
                done.append(f"{h.name}: healed {', '.join(kinds)}")
        self._save_faults(faults)
        for c in self.plan.clusters.values():
            self.write_world(c)
        names = {h.name for h in targets}
        failures = self.start_procs([p for p in self.procs() if p.host in names], 20.0)
        routers = self.start_routers() if any(h.role == "router" for h in targets) else {}
        for rname, (t, result) in routers.items():
            t.join(25.0)
            if "error" in result:
                failures.append(f"{rname}: {result['error']}")
        for h in targets:
            if h.role == "lb":
                self.heal_lb_services(h)
        if failures:
            raise LabError("heal incomplete: " + "; ".join(failures))
        return done

    def stop(self, *proc_ids: str) -> None:
        pids = [p for p in (self.pid_of(i) for i in proc_ids) if p]
        kill_pids(pids)

    def cut_links(self, h: Host, only: str | None, cut: bool) -> str:
        done = []
        for ln in self.plan.links:
            if ln.ns != h.ns or (only and ln.ifname != only):
                continue
            if ln.bridge:
                # Detached from the bridge, the veth keeps its carrier: the host notices nothing.
                action = "nomaster" if cut else f"master {ln.bridge}"
                ip_batch([f"link set dev {ln.peer} {action}"], ln.peer_ns)
                done.append(ln.ifname)
        if h.role == "venue":
            # A point-to-point link: drop what the upstream sends to the venue (silent both ways).
            c = self.plan.clusters[h.cluster]
            up = self.plan.ns(c.name, "up")
            verb = "replace" if cut else "del"
            ip_batch([f"route {verb} blackhole {c.venue_endpoint}/32"], up, force=not cut)
            done.append("eth0")
        if cut and not done:
            raise LabError(f"{h.name} has no link {only!r}")
        return f"{', '.join(done)} cut (carrier stays up)" if cut else "links restored"

    def lb_service_pids(self, h: Host, svc: str) -> list[int]:
        run_dir = self.paths.host(h.name) / "run"
        files = [f"{svc}.pid"] + (
            ["keepalived.main.pid", "keepalived.vrrp.pid", "keepalived.checkers.pid"] if svc == "keepalived" else []
        )
        pids = []
        for f in files:
            pid = read_pid(run_dir / f)
            if pid and alive(pid) and pid not in pids:
                pids.append(pid)
        return pids

    def heal_lb_services(self, h: Host) -> None:
        d = self.paths.host(h.name)
        holder = self.pid_of(f"{h.name}.holder")
        if not holder:
            return
        for svc in ("haproxy", "keepalived"):
            if (d / "run" / f"{svc}.wanted").exists() and not self.lb_service_pids(h, svc):
                # The shim's path inside the host's mount namespace (the state dir may be hidden there).
                shim = str(lbhost.INNER / "bin" / "systemctl")
                run(["nsenter", "-t", str(holder), "-m", "-n", "-u", shim, "start", svc])

    # -- traffic -----------------------------------------------------------------------------------------

    def traffic(self, ip: str, count: int, port: int = 80) -> dict[str, int]:
        c = self.plan.cluster_of_ip(IPv4Address(ip))
        if c is None:
            raise LabError(f"{ip} is in no cluster's MetalLB range")
        out = run(
            [
                "ip",
                "netns",
                "exec",
                self.plan.ns(c.name, "up"),
                PY,
                "-m",
                "lab.topology.servers",
                "client",
                ip,
                "-n",
                str(count),
                "--port",
                str(port),
            ],
            timeout=count * 3 + 10,
        )
        return json.loads(out)

    def environment(self) -> dict[str, str]:
        return A.environment(self.paths, self.plan, REPO)

    # -- 1.3 WireGuard: the router's named keypair ---------------------------------------------------------

    def venue_peer(self, cluster: str, public_key: str) -> str:
        from inventory.secrets import is_wireguard_key

        if not is_wireguard_key(public_key):
            raise LabError(f"{public_key!r} is not a WireGuard public key")
        c = self.plan.clusters[cluster]
        A.write(self.paths.secrets / f"{c.name}-router-wg.pub.override", public_key + "\n")
        A.write(self.paths.host(f"{c.name}-venue") / "wg0.conf", self.venue_wg_conf(c), 0o600)
        pid = self.pid_of(f"{c.name}-venue.wireguard")
        if pid:
            self.configure_venue(c, pid)
            # setconf replaced the peer list; nothing else to do.
        return f"{c.name}-venue now trusts router key {public_key}"


def tail(path: Path, n: int = 3) -> str:
    try:
        lines = path.read_text(errors="replace").strip().splitlines()
    except OSError:
        return "(no log)"
    return " | ".join(lines[-n:]) or "(empty log)"


def live_addresses(namespaces: list[str]) -> dict[str, list[str]]:
    """IPv4 addresses per namespace as "ifname address/len" (namespaces that do not exist are absent)."""
    existing = set(list_netns(namespaces[0].split("-")[0])) if namespaces else set()
    procs = {
        ns: subprocess.Popen(["ip", "-n", ns, "-j", "-4", "addr", "show"], stdout=subprocess.PIPE, text=True)
        for ns in namespaces
        if ns in existing
    }
    out: dict[str, list[str]] = {}
    for ns, p in procs.items():
        data = json.loads(p.communicate()[0] or "[]")
        out[ns] = [
            f"{d['ifname']} {a['local']}/{a['prefixlen']}"
            for d in data
            for a in d.get("addr_info", [])
            if d["ifname"] != "lo" or not a["local"].startswith("127.")
        ]
    return out


# -- down (works without a plan: after a crash, with another version, with no state at all) ----------


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
