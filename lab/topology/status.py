"""`python -m lab status`: per host its namespace, live addresses, processes (expected and others found in
the namespace, with memory), faults and health.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from lab.topology.faults import read_faults
from lab.topology.plan import Cluster
from lab.topology.processes import Proc, Processes
from lab.topology.system import list_netns, proc_info, procs_by_netns


class Status(Processes):
    """The lab's state as `lab status` reports it (a part of runtime.Lab)."""

    def allocated_ips(self, c: Cluster) -> dict[str, str]:
        """The cluster's Services' IPs as MetalLB assigned them (status.loadBalancer in the world)."""
        return _allocated(self.paths.host("op") / f"world-{c.name}.json")

    def status(self) -> list[dict[str, Any]]:
        hosts = self.plan.hosts
        by_ns = procs_by_netns(h.ns for h in hosts)
        addrs = live_addresses([h.ns for h in hosts])
        expected: dict[str, list[Proc]] = {}
        for p in self.procs():
            expected.setdefault(p.host, []).append(p)
        faults = read_faults(self.paths)
        allocated: dict[str, dict[str, str]] = {}
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
            if c is not None and h.cluster not in allocated:
                allocated[h.cluster] = self.allocated_ips(c)
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
                        {
                            "namespace": s.namespace,
                            "name": s.name,
                            "ip": allocated.get(h.cluster, {}).get(f"{s.namespace}/{s.name}", str(s.ip)),
                            "policy": s.policy,
                        }
                        for s in (c.services if c else [])
                    ],
                }
            )
        return out


def _allocated(world_file: Path) -> dict[str, str]:
    """ns/name -> the first LoadBalancer ingress IP MetalLB wrote into the world ("" for none)."""
    try:
        world = json.loads(world_file.read_text())
    except (OSError, ValueError):
        return {}
    out = {}
    for o in world.get("items", []):
        if o.get("kind") == "Service" and (o.get("spec") or {}).get("type") == "LoadBalancer":
            ingress = ((o.get("status") or {}).get("loadBalancer") or {}).get("ingress") or [{}]
            out[f"{o['metadata'].get('namespace', 'default')}/{o['metadata']['name']}"] = ingress[0].get("ip", "")
    return out


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
