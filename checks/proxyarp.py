"""proxyarp.enabled: the router answers ARP on the node switch (and, for public node addresses, on the
public side too, with a host route per node through the node side — topology.md).

Judged from the running config (VyOS applies it to the kernel) and ``show interfaces``: proxy-ARP on a
link that is down answers nobody, so the node-side interface must be up as well.
"""

from __future__ import annotations

from checks.parsers.models import ConfigCommand, Interface
from checks.verdict import CheckResult, failed, passed
from inventory.model import Cluster

ENABLED = "proxyarp.enabled"
IDS = (ENABLED,)  # the check ids this module judges


def host_route_paths(node: str, interface: str) -> set[tuple[str, ...]]:
    """The /32 host route through ``interface`` in either dialect (1.4 ``route``, 1.3 ``interface-route``)."""
    prefix = f"{node}/32"
    return {
        ("protocols", "static", "route", prefix, "interface", interface),
        ("protocols", "static", "interface-route", prefix, "next-hop-interface", interface),
    }


def check_proxyarp(
    host: str, cluster: Cluster, running: list[ConfigCommand], interfaces: list[Interface] | None = None
) -> CheckResult:
    router = cluster.router
    assert router is not None
    paths = {c.path if c.value is None else (*c.path, c.value) for c in running}
    wanted = [router.node_interface]
    if cluster.node_subnet == "proxy-arp":
        wanted.append(router.public_interface)
    problems = [
        f"no proxy-ARP on {ifname}"
        for ifname in wanted
        if ("interfaces", "ethernet", ifname, "ip", "enable-proxy-arp") not in paths
    ]
    if cluster.node_subnet == "proxy-arp":
        missing = [
            str(n.address)
            for n in cluster.nodes
            if not any(p in paths for p in host_route_paths(str(n.address), router.node_interface))
        ]
        if missing:
            problems.append(f"no host route via {router.node_interface} for {', '.join(missing)}")
    if interfaces is not None:
        by_name = {i.name: i for i in interfaces}
        for ifname in wanted:
            iface = by_name.get(ifname)
            if iface is None:
                problems.append(f"{ifname} does not exist")
            elif iface.admin_state != "up" or iface.link_state != "up":
                problems.append(f"{ifname} is {iface.admin_state}/{iface.link_state}")
    if problems:
        return failed(ENABLED, host, cluster.name, "; ".join(problems))
    where = " and ".join(wanted)
    routes = f", host routes for {len(cluster.nodes)} nodes" if cluster.node_subnet == "proxy-arp" else ""
    return passed(ENABLED, host, cluster.name, f"proxy-ARP on {where}{routes}")
