"""`python -m lab traffic`: connections to a service IP from the cluster's upstream (the internet) or from
its venue (through the WireGuard tunnel), counted per answering node (lab.topology.servers client).
"""

from __future__ import annotations

import json
from ipaddress import IPv4Address

from lab.topology.plan import Plan
from lab.topology.processes import PY
from lab.topology.system import LabError, run


class Traffic:
    """Test traffic to a MetalLB service IP (a part of runtime.Lab)."""

    plan: Plan

    def traffic(self, ip: str, count: int, port: int = 80, source: str = "upstream") -> dict[str, int]:
        c = self.plan.cluster_of_ip(IPv4Address(ip))
        if c is None:
            raise LabError(f"{ip} is in no cluster's MetalLB pools")
        if source not in ("upstream", "venue"):
            raise LabError(f"--from {source!r}: upstream or venue")
        out = run(
            [
                "ip",
                "netns",
                "exec",
                self.plan.ns(c.name, "up" if source == "upstream" else "venue"),
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
