"""Bring the lab up, and the Lab that `python -m lab` drives.

``up`` is idempotent: namespaces, links and addresses are created or replaced, files rewritten only
when they change, and only processes that are not alive are started (all at once, then one readiness
loop). The jobs live in modules of their own, combined in Lab: processes (pid files, process table,
start/stop), network (namespaces, links), status, faults, traffic; teardown holds ``down``.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

from lab.topology import artifacts as A
from lab.topology import lbhost
from lab.topology.faults import FAULTS, Faults
from lab.topology.plan import S3_PORT, WG_PORT, Cluster, Options, Plan
from lab.topology.processes import FRR, REPO, have, venue_wg_quick_conf
from lab.topology.status import Status
from lab.topology.system import LabError, run
from lab.topology.teardown import down
from lab.topology.traffic import Traffic

__all__ = ["FAULTS", "Lab", "down"]


class Lab(Status, Faults, Traffic):
    def __init__(self, opts: Options) -> None:
        self.opts = opts
        self.plan = Plan(opts)
        self.paths = A.Paths(opts.state_dir)
        self.notes: list[str] = []

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
        # nft: the lab router filters with nftables (lab/vyos firewall); bfdd: BFD on the router and the speakers.
        programs = ("ip", "nft", "haproxy", "keepalived", "wireguard-go", "wg", "/usr/sbin/sshd", str(FRR / "bgpd"))
        for binary in (*programs, str(FRR / "bfdd")):
            if not shutil.which(binary) and not Path(binary).exists():
                raise LabError(f"{binary} is not installed (see lab/README.md)")
        # FRR runs as user frr and keeps its sockets in the state dir: every parent needs o+x.
        state = self.paths.state.resolve()
        for p in [*reversed(state.parents)]:
            if p.exists() and not p.stat().st_mode & 0o001:
                raise LabError(f"{p} is not searchable by others (chmod o+x): FRR runs as user frr under {state}")

    # -- files -------------------------------------------------------------------------------------------

    def write_files(self) -> None:
        paths, plan = self.paths, self.plan
        password = "lab-" + paths.vrrp_pass(next(iter(plan.clusters))).read_text().strip()
        for c in plan.clusters.values():
            A.write_json(paths.tfstate / f"{c.name}.tfstate", A.tfstate(plan, c, password))
            self.write_world(c)
            speaker_configs = self.speaker_configs(c)
            A.write(paths.host(f"{c.name}-venue") / "wg0.conf", self.venue_wg_conf(c), 0o600)
            for h in self.hosts(c):
                d = paths.host(h.name)
                d.mkdir(parents=True, exist_ok=True)
                if h.role == "node":
                    f = d / "frr"
                    (f / "run").mkdir(parents=True, exist_ok=True)
                    A.write(f / "zebra.conf", f"hostname {h.server}\n")
                    # What MetalLB renders for this node from the cluster's world (lab.topology.speakers
                    # keeps it so); bfdd.conf holds the BFD profiles when a peer uses one.
                    bgpd, bfdd = speaker_configs.get(h.server or h.name, ("", ""))
                    A.write(f / "bgpd.conf", bgpd)
                    A.write(f / "bfdd.conf", bfdd or f"hostname {h.server}\n")
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

    def world_path(self, c: Cluster) -> Path:
        return self.paths.host("op") / f"world-{c.name}.json"

    def write_world(self, c: Cluster) -> None:
        """The cluster's Kubernetes world: seeded on the first ``up``; later only the speaker pods follow the
        faults (what a kubelet would report), so objects applied through the stand-in stay."""
        if not have("lab.kubeapi"):
            return
        from lab.kubeapi import store
        from lab.kubeapi.world import build_world, set_speaker_ready, speaker_ready

        down = {
            self.plan.host(host).server or host
            for host, kinds in self.faults().items()
            if "speaker-down" in kinds and host.startswith(c.name + "-")
        }

        def change(world: dict[str, Any] | None) -> dict[str, Any]:
            if world is None:
                args = A.world_args(self.plan, c)
                masters = [(c.server_name("master", i), str(c.master_address(i))) for i in (1, 2, 3)]
                world = build_world(
                    args["nodes"], args["metallb"], args["services"], masters=masters, **args["install"]
                )
            for i in range(1, c.node_count + 1):
                name = c.server_name("node", i)
                if c.speaker_ready(i) and speaker_ready(world, name) != (name not in down):
                    world = set_speaker_ready(world, name, name not in down)
            return world

        self.world_path(c).parent.mkdir(parents=True, exist_ok=True)
        store.update(self.world_path(c), change)

    def speaker_configs(self, c: Cluster) -> dict[str, tuple[str, str]]:
        """Each node's (bgpd.conf, bfdd.conf) as MetalLB renders them from the world (lab.topology.metallb)."""
        from lab.topology import metallb

        path = self.world_path(c)
        if not path.exists():
            return {}
        outcome, _ = metallb.run(json.loads(path.read_text()), c.node_names)
        return outcome.configs

    def venue_wg_conf(self, c: Cluster) -> str:
        router_pub = self.router_wg_public(c)
        return (
            "[Interface]\n"
            f"PrivateKey = {self.paths.wg_key(c.name, 'venue').read_text().strip()}\n"
            f"ListenPort = {WG_PORT}\n\n"
            "[Peer]\n"
            f"PublicKey = {router_pub}\n"
            f"AllowedIPs = {c.tunnel}, {c.metallb_range}, {c.venue_pool}\n"
            f"Endpoint = {c.router_public.ip}:{WG_PORT}\n"
            f"PersistentKeepalive = {A.WG_KEEPALIVE}\n"
        )

    # -- the venue from a wg-quick style stanza (edgekit's `render --venue`) ---------------------------------

    def venue_config(self, cluster: str, text: str, source: str = "stanza") -> str:
        """Configure the venue's wg0 from ``text`` as wg-quick would (processes.configure_venue_wg_quick).

        The stanza is the venue team's config or a part of it: no ``[Interface]``, or one with ``Address``;
        the venue's own private key and listen port fill what it leaves out (its owner has them)."""
        c = self.plan.clusters.get(cluster)
        if c is None:
            raise LabError(f"no cluster {cluster!r} in this lab")
        conf = venue_wg_quick_conf(text, self.paths.wg_key(c.name, "venue").read_text().strip(), source)
        path = self.venue_stanza_conf(c)
        path.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(path.parent, 0o700)
        A.write(path, conf, 0o600)
        pid = self.pid_of(f"{c.name}-venue.wireguard")
        if pid:
            self.configure_venue(c, pid)
        peers = conf.count("[Peer]")
        return f"{c.name}-venue: wg0 configured from {source} ({peers} peer{'s' if peers != 1 else ''})"

    def venue_default(self, cluster: str) -> str:
        c = self.plan.clusters[cluster]
        stanza = self.venue_stanza_conf(c)
        stanza.unlink(missing_ok=True)
        pid = self.pid_of(f"{c.name}-venue.wireguard")
        if pid:
            # Back to the lab's own config: its routes replace the stanza's (same interface).
            run(["nsenter", "-t", str(pid), "-m", "-n", "sh", "-c", "ip route flush dev wg0 proto boot"])
            self.configure_venue(c, pid)
        return f"{c.name}-venue: wg0 back to the lab's own config"

    def router_wg_public(self, c: Cluster) -> str:
        """The router's WireGuard public key the venue trusts: the lab's keypair, or (1.3, after
        `python -m lab venue-peer`) the key of the router's named keypair."""
        override = self.paths.secrets / f"{c.name}-router-wg.pub.override"
        if override.exists():
            return override.read_text().strip()
        return A.wg_public(self.paths, c.name, "router")

    def prepare_router_dir(self, c: Cluster, d: Path) -> None:
        # The host key is made here, so known_hosts is written without scanning (lab.vyos keeps it).
        key = d / "ssh" / "host_key"
        if not key.exists():
            key.parent.mkdir(parents=True, exist_ok=True)
            run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", c.server_name("router"), "-f", str(key)])

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
