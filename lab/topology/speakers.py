"""``python -m lab.topology.speakers --state DIR --cluster NAME``: MetalLB (controller + speakers) of one cluster.

Watches the cluster's Kubernetes world file (lab.kubeapi.store); whenever it changes (an apply through the
stand-in, a fault that flips a speaker pod, a test editing Services), it runs lab.topology.metallb over it:
- writes each LoadBalancer Service's ``status.loadBalancer.ingress`` back (MetalLB's controller);
- captures every allocated service IP on each node as kube-proxy's iptables mode does (``kube_proxy_rules``):
  no address anywhere, a nat rule per LoadBalancer IP and port that DNATs it to the service's endpoint, here
  the node's own HTTP server (``redirect to :80``); so FRR's zebra sees no service IP on any interface and
  each speaker keeps its own router-id (the highest interface address: the node's; FRR zebra/router-id.c
  router_id_get at frr-8.4.4). The former form, every service IP on ``lo``, made zebra pick the highest
  service IP (rid_lo_sorted_list first) on every node alike: all speakers shared one router-id, and a speaker
  whose session went down came back with whatever service IP was highest then (FRR 8.4.4's bgpd takes a
  new router-id from zebra only while no session is Established: bgpd/bgpd.c bgp_router_id_zebra_bump,
  bgpd/bgp_fsm.c; bgp_router_id_set then sends CEASE config-change to the peers);
- renders each node's FRR config as MetalLB's FRR mode does and, when it changed, writes it and reloads the
  running daemon with FRR's frr-reload.py (MetalLB's frr-reloader does the same: frr-reload.py --reload);
  bfdd is started once BFD profiles exist (MetalLB's FRR container always runs bfdd; the lab saves the
  process until then) and reloaded like bgpd, before bgpd, so a neighbor's profile exists when it is named.
  A node whose speaker is down (fault) only gets its files; heal starts it on them.

A config MetalLB would refuse leaves the last good one in place and is logged (``metallb-<c>.log``).
"""

from __future__ import annotations

import argparse
import json
import re
import signal
import subprocess
import sys
import threading
import time
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

from lab.kubeapi import store
from lab.topology import metallb
from lab.topology.plan import Host, load_options

FRR_RELOAD = "/usr/lib/frr/frr-reload.py"


def log(msg: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {msg}", flush=True)


class Speakers:
    def __init__(self, state: Path, cluster: str) -> None:
        from lab.topology.runtime import Lab

        opts = load_options(state)
        if opts is None:
            raise SystemExit(f"no lab in {state}")
        self.lab = Lab(opts)
        self.c = self.lab.plan.clusters[cluster]
        self.world_path = self.lab.paths.host("op") / f"world-{cluster}.json"
        self.nodes: list[Host] = [h for h in self.lab.hosts(self.c) if h.role == "node"]
        self.last_good: metallb.Config | None = None
        self.last_error = ""
        self.nat: dict[str, str] = {}  # node -> the kube-proxy rules last loaded there
        self.ipvs: dict[str, set[str]] = {}  # node -> the service IPs on its kube-ipvs0 (--kube-proxy ipvs)
        self.kube_proxy = opts.kube_proxy
        self.seen: tuple[int, int] | None = None  # the world file version the last pass read (inode, mtime)

    def frr_dir(self, h: Host) -> Path:
        return self.lab.paths.host(h.name) / "frr"

    def once(self) -> None:
        if not self.world_path.exists():
            return
        with store.locked(self.world_path):
            world = store.read(self.world_path)
            outcome, cfg = metallb.run(world, [h.server or h.name for h in self.nodes], self.last_good)
            if outcome.world != world:
                store.write(self.world_path, outcome.world)
            self.seen = version(self.world_path)
        if cfg is not None:
            self.last_good = cfg
        if outcome.error != self.last_error:
            log(f"config refused, keeping the last good one: {outcome.error}" if outcome.error else "config ok")
            self.last_error = outcome.error
        rules = kube_proxy_rules(outcome.world if self.kube_proxy == "iptables" else {})
        ips = set(re.findall(r"ip daddr (\S+)", kube_proxy_rules(outcome.world)))

        def sync(h: Host) -> None:
            bgpd, bfdd = outcome.configs[h.server or h.name]
            try:
                self.sync_nat(h, rules)
                if self.kube_proxy == "ipvs":
                    self.sync_ipvs(h, ips)
                self.sync_frr(h, bgpd, bfdd)
            except (OSError, subprocess.SubprocessError) as exc:
                log(f"{h.name}: {exc}")

        # The nodes' speakers are independent: reload them side by side.
        threads = [threading.Thread(target=sync, args=(h,)) for h in self.nodes]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    def sync_nat(self, h: Host, rules: str) -> None:
        """Load the kube-proxy rules on ``h`` when they changed (one nft transaction: the table replaced)."""
        if h.name not in self.nat:
            # A node of a lab started by the former code holds the service IPs on lo: take them off once.
            out = subprocess.run(
                ["ip", "-n", h.ns, "-j", "-4", "addr", "show", "dev", "lo"], capture_output=True, text=True, check=True
            ).stdout
            old = [
                a["local"]
                for i in json.loads(out or "[]")
                for a in i.get("addr_info", [])
                if a.get("prefixlen") == 32 and not a["local"].startswith("127.")
            ]
            if old:
                cmds = "".join(f"addr del {ip}/32 dev lo\n" for ip in old)
                subprocess.run(["ip", "-n", h.ns, "-b", "-"], input=cmds, text=True, check=True)
        if self.nat.get(h.name) == rules:
            return
        subprocess.run(["ip", "netns", "exec", h.ns, "nft", "-f", "-"], input=rules, text=True, check=True)
        self.nat[h.name] = rules
        ips = sorted(set(re.findall(r"ip daddr (\S+)", rules)), key=IPv4Address)
        log(f"{h.name}: kube-proxy captures {' '.join(ips) or '(none)'}")

    def sync_ipvs(self, h: Host, want: set[str]) -> None:
        """kube-proxy's IPVS mode: every LoadBalancer IP bound to ``kube-ipvs0``, which stays down
        (kubernetes pkg/proxy/ipvs/proxier.go: defaultDummyDevice "kube-ipvs0", created as a dummy link and
        never set up; syncService binds each service address to it). The kernel takes a /32 on a down device
        as local (TCP and ICMP answered); zebra counts it among all interfaces' addresses for its router-id
        (FRR zebra/redistribute.c zebra_interface_address_add_update calls router_id_add_address whatever the
        link state), so the highest of node and service addresses wins, as on a real IPVS node."""
        have = self.ipvs.get(h.name)
        if have is None:
            # This machine's kernel has no dummy link type ("Unknown device type"): a veth pair left down stands
            # in (the same to the kernel and zebra here: a non-loopback link whose addresses are local).
            subprocess.run(
                ["ip", "-n", h.ns, "link", "add", "kube-ipvs0", "type", "veth", "peer", "name", "kube-ipvs0-peer"],
                capture_output=True,
                text=True,
            )
            out = subprocess.run(
                ["ip", "-n", h.ns, "-j", "-4", "addr", "show", "dev", "kube-ipvs0"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            have = {a["local"] for i in json.loads(out or "[]") for a in i.get("addr_info", [])}
        if have == want:
            self.ipvs[h.name] = have
            return
        cmds = [f"addr del {ip}/32 dev kube-ipvs0" for ip in sorted(have - want)]
        cmds += [f"addr replace {ip}/32 dev kube-ipvs0" for ip in sorted(want - have)]
        subprocess.run(["ip", "-n", h.ns, "-b", "-"], input="\n".join(cmds) + "\n", text=True, check=True)
        self.ipvs[h.name] = set(want)
        log(f"{h.name}: kube-ipvs0 holds {' '.join(sorted(want, key=IPv4Address)) or '(none)'}")

    def _write(self, path: Path, text: str) -> bool:
        if path.exists() and path.read_text() == text:
            return False
        path.write_text(text)
        try:
            import shutil

            shutil.chown(path, "frr", "frr")
        except (LookupError, OSError):
            pass
        return True

    def reload(self, h: Host, daemon: str) -> None:
        """frr-reload.py --reload, as MetalLB's frr-reloader runs it on every new config; here twice.

        MetalLB ships its own FRR build; the lab's FRR is Debian's 8.4.4, whose frr-reload.py, removing
        ``neighbor X bfd profile P`` (which enabled BFD), leaves ``neighbor X bfd`` behind in one run (observed).
        The second run (a no-op once converged) removes it, so the speakers run what MetalLB's template says."""
        for _ in range(2):
            if not self._reload_once(h, daemon):
                return
        log(f"{h.name}: {daemon} reloaded")

    def _reload_once(self, h: Host, daemon: str) -> bool:
        d = self.frr_dir(h)
        res = subprocess.run(
            [
                sys.executable,
                FRR_RELOAD,
                "--reload",
                "--daemon",
                daemon,
                "--bindir",
                "/usr/bin",
                "--confdir",
                str(d),
                "--vty_socket",
                str(d / "run"),
                str(d / f"{daemon}.conf"),
            ],
            capture_output=True,
            text=True,
            timeout=30,
        )
        if res.returncode != 0:
            log(f"{h.name}: frr-reload {daemon} failed ({res.returncode}): {res.stderr.strip()[-400:]}")
            return False
        return True

    def sync_frr(self, h: Host, bgpd: str, bfdd: str) -> None:
        d = self.frr_dir(h)
        bgpd_up = self.lab.pid_of(f"{h.name}.bgpd") is not None
        bfdd_changed = self._write(d / "bfdd.conf", bfdd or f"hostname {h.server}\n")
        if bfdd and bgpd_up and not self.lab.pid_of(f"{h.name}.bfdd"):
            failures = self.lab.start_procs([p for p in self.lab.frr_procs(h) if p.kind in ("zebra", "bfdd")], 10.0)
            for f in failures:
                log(f"{h.name}: {f}")
            if not failures:
                log(f"{h.name}: bfdd started")
        elif bfdd_changed and self.lab.pid_of(f"{h.name}.bfdd"):
            self.reload(h, "bfdd")
        if self._write(d / "bgpd.conf", bgpd) and bgpd_up:
            self.reload(h, "bgpd")


KUBE_PROXY_TABLE = "kube-proxy"


def kube_proxy_rules(world: dict[str, Any]) -> str:
    """The nft script that captures every allocated LoadBalancer IP of ``world`` on a node, as kube-proxy does.

    kubernetes/kubernetes pkg/proxy/iptables/proxier.go syncProxyRules, "Capture load-balancer ingress" (read
    from a stored copy of the file; the 1.9 GB repository could not be mirrored here, so no tag was pinned; the
    lab's nodes report kube-proxy v1.29.4): per LoadBalancer IP and service port ``-A KUBE-SERVICES -m comment
    --comment "<ns>/<svc>:<port> loadbalancer IP" -m tcp -p tcp -d <lbip> --dport <port> -j KUBE-EXT-...``
    in the nat table, KUBE-SERVICES jumped to from PREROUTING and OUTPUT; the address itself goes on no
    interface (iptables mode; IPVS mode would put it on the dummy ``kube-ipvs0``, which zebra would count among
    all interfaces' addresses for the router-id). This machine has nft, not iptables: the same chains in an nft
    table of their own. KUBE-EXT's DNAT to an endpoint pod is ``redirect to :80`` here: the lab's one endpoint
    per node is its HTTP server on port 80. Every allocated IP is captured (kube-proxy: those with endpoints;
    MetalLB announces no other)."""
    lines = []
    for o in sorted(world.get("items", []), key=lambda o: (o["metadata"].get("namespace", ""), o["metadata"]["name"])):
        if o.get("kind") != "Service" or (o.get("spec") or {}).get("type") != "LoadBalancer":
            continue
        ns, name = o["metadata"].get("namespace", "default"), o["metadata"]["name"]
        for ing in ((o.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []:
            if not ing.get("ip"):
                continue
            for port in (o.get("spec") or {}).get("ports") or [{"port": 80}]:
                proto = str(port.get("protocol") or "TCP").lower()
                pname = f"{ns}/{name}:{port.get('name') or port['port']}"
                lines.append(
                    f"    ip daddr {ing['ip']} {proto} dport {int(port['port'])} redirect to :80 "
                    f'comment "{pname} loadbalancer IP"'
                )
    body = "\n".join(lines)
    return (
        f"table ip {KUBE_PROXY_TABLE}\n"
        f"delete table ip {KUBE_PROXY_TABLE}\n"
        f"table ip {KUBE_PROXY_TABLE} {{\n"
        + "".join(
            f"  chain {chain} {{\n    type nat hook {hook} priority -100; policy accept;\n"
            "    jump KUBE-SERVICES\n  }\n"
            for chain, hook in (("PREROUTING", "prerouting"), ("OUTPUT", "output"))
        )
        + f"  chain KUBE-SERVICES {{\n{body}\n  }}\n"
        "}\n"
    )


def version(path: Path) -> tuple[int, int] | None:
    """Which version of the file is there: every writer renames a new file in (a new inode), and a change
    within one clock tick keeps the mtime."""
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_ino, st.st_mtime_ns


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lab.topology.speakers")
    parser.add_argument("--state", required=True, type=Path)
    parser.add_argument("--cluster", required=True)
    parser.add_argument("--interval", type=float, default=0.1, help="how often the world file's mtime is checked")
    args = parser.parse_args(argv)
    stop = False

    def _stop(*_: Any) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    sp = Speakers(args.state, args.cluster)
    last_pass = 0.0
    print(f"metallb for {args.cluster}: watching {sp.world_path}", flush=True)
    while not stop:
        # Also a pass every 2 s: a speaker healed after a change gets its bfdd, files stay in step.
        if version(sp.world_path) != sp.seen or time.monotonic() - last_pass > 2.0:
            sp.once()
            last_pass = time.monotonic()
        time.sleep(args.interval)
    return 0


if __name__ == "__main__":
    sys.exit(main())
