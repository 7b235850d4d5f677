"""The lab's network: namespaces, veth links, bridges, addresses, routes and sysctls; cutting and restoring
links (the link-down fault). Nothing is ever created in the root namespace.
"""

from __future__ import annotations

import subprocess

from lab.topology.plan import Host, Plan
from lab.topology.system import LabError, ip_batch, links, list_netns


class Network:
    """Builds the namespaces and links of the plan (a part of runtime.Lab)."""

    plan: Plan

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
