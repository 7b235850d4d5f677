"""consistency.metallb and consistency.nodes: the sources of truth agree with each other.

- ``consistency.metallb`` (per router): MetalLB's BGP peers point at the address the speakers must use
  (the router's public address when nodes hold public addresses, its node-side address on a private node
  subnet), expect the router's running ASN, and use the ASN the router's neighbors are configured with;
  the blackhole routes on the router are exactly MetalLB's pools.
- ``consistency.nodes`` (per cluster): the worker nodes Kubernetes knows are the tfstate nodes, at the
  same addresses, and Ready.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network

from checks.parsers.models import ConfigCommand
from checks.verdict import CheckResult, failed, passed
from inventory.model import Cluster, MetalLBPeer, Pool

NODES = "consistency.nodes"
METALLB = "consistency.metallb"
IDS = (
    NODES,
    METALLB,
)  # the check ids this module judges

NODES_HOST = "kubernetes"  # the pseudo host of the per-cluster node comparison


@dataclass
class RunningBgp:
    """What the router's running config says about BGP (either dialect)."""

    asn: int | None
    neighbors: dict[str, int | None]  # address -> remote-as (directly or through its peer group)
    blackholes: set[IPv4Network]


def running_bgp(running: Sequence[ConfigCommand]) -> RunningBgp:
    asn: int | None = None
    remote: dict[str, int | None] = {}
    groups: dict[str, int] = {}
    member: dict[str, str] = {}
    blackholes: set[IPv4Network] = set()
    for c in running:
        p = c.path
        if p[:2] == ("protocols", "bgp") and len(p) > 2:
            rest = p[2:]
            if rest[0].isdigit():  # 1.3: protocols bgp <asn> ...
                asn, rest = int(rest[0]), rest[1:]
            elif rest == ("system-as",) or rest == ("local-as",):
                asn = int(c.value) if c.value and c.value.isdigit() else asn
                continue
            if len(rest) >= 2 and rest[0] == "neighbor":
                remote.setdefault(rest[1], None)
                if rest[2:] == ("remote-as",) and c.value and c.value.isdigit():
                    remote[rest[1]] = int(c.value)
                elif rest[2:] == ("peer-group",) and c.value:
                    member[rest[1]] = c.value
            elif len(rest) >= 3 and rest[0] == "peer-group" and rest[2:] == ("remote-as",):
                if c.value and c.value.isdigit():
                    groups[rest[1]] = int(c.value)
        elif p[:3] == ("protocols", "static", "route") and len(p) >= 5 and p[4] == "blackhole":
            try:
                blackholes.add(IPv4Network(p[3]))
            except ValueError:
                continue
    for address, group in member.items():
        if remote.get(address) is None and group in groups:
            remote[address] = groups[group]
    return RunningBgp(asn=asn, neighbors=remote, blackholes=blackholes)


def router_peer_address(cluster: Cluster) -> IPv4Address:
    """Where the speakers must connect: public address with public node addresses, else the node side."""
    assert cluster.router is not None
    if cluster.node_subnet == "proxy-arp":
        return cluster.router.public_address.ip
    return cluster.router.node_address.ip


def check_metallb(
    host: str, cluster: Cluster, peers: Sequence[MetalLBPeer], pools: Sequence[Pool], bgp: RunningBgp
) -> CheckResult:
    problems: list[str] = []
    want_address = router_peer_address(cluster)
    if not peers:
        problems.append("MetalLB has no BGP peer")
    speaker_asns = {
        asn for address, asn in bgp.neighbors.items() if asn is not None and address in _speaker_addresses(cluster)
    } or {asn for asn in bgp.neighbors.values() if asn is not None}
    for peer in peers:
        name = peer.name or "?"
        if peer.peer_address != want_address:
            problems.append(f"MetalLB peer {name} peer-address {peer.peer_address}, router is {want_address}")
        if bgp.asn is not None and peer.peer_asn != bgp.asn:
            problems.append(f"MetalLB peer {name} peer-asn {peer.peer_asn}, router runs AS {bgp.asn}")
        if speaker_asns and speaker_asns != {peer.my_asn}:
            asns = ", ".join(str(a) for a in sorted(speaker_asns))
            problems.append(f"MetalLB peer {name} my-asn {peer.my_asn}, router neighbors expect AS {asns}")
    if bgp.asn is None:
        problems.append("router has no BGP ASN configured")
    metallb_nets = {net for pool in pools for net in pool.addresses}
    if metallb_nets != bgp.blackholes:
        missing, extra = metallb_nets - bgp.blackholes, bgp.blackholes - metallb_nets
        if missing:
            problems.append("MetalLB pool(s) without a blackhole on the router: " + _nets(missing))
        if extra:
            problems.append("router blackholes that are no MetalLB pool: " + _nets(extra))
    if problems:
        return failed(METALLB, host, cluster.name, "; ".join(problems))
    return passed(
        METALLB,
        host,
        cluster.name,
        f"{len(peers)} MetalLB peer(s) -> {want_address} AS {bgp.asn}; pools {_nets(metallb_nets)} blackholed",
    )


def _speaker_addresses(cluster: Cluster) -> set[str]:
    return {str(n.address) for n in cluster.nodes} | {str(s.address) for s in cluster.speakers}


def _nets(nets: set[IPv4Network]) -> str:
    return ", ".join(str(n) for n in sorted(nets)) or "none"


@dataclass(frozen=True)
class KubeNodeView:
    """A Kubernetes node as the comparison needs it (kept free of the kube client's types)."""

    name: str
    internal_ip: IPv4Address | None
    ready: bool = True


def check_nodes(cluster: Cluster, kube_nodes: Sequence[KubeNodeView], host: str = NODES_HOST) -> CheckResult:
    """Workers in Kubernetes vs tfstate nodes: same names (or addresses), same addresses, all Ready."""
    tf_nodes = [n for n in cluster.nodes if "tfstate" in n.source]
    masters = {m.name for m in cluster.masters} | {str(m.address) for m in cluster.masters}
    masters |= {str(m.internal_address) for m in cluster.masters if m.internal_address}
    workers = [k for k in kube_nodes if k.name not in masters and str(k.internal_ip) not in masters]
    by_name = {k.name: k for k in workers}
    by_ip = {k.internal_ip: k for k in workers if k.internal_ip is not None}
    problems: list[str] = []
    matched: set[str] = set()
    for node in tf_nodes:
        k = by_name.get(node.name) or by_ip.get(node.address)
        if k is None:
            problems.append(f"{node.name} ({node.address}) is in tfstate but not in Kubernetes")
            continue
        matched.add(k.name)
        if k.internal_ip is not None and k.internal_ip != node.address:
            problems.append(f"{node.name}: Kubernetes InternalIP {k.internal_ip}, tfstate {node.address}")
        if not k.ready:
            problems.append(f"{k.name} is NotReady in Kubernetes")
    for k in workers:
        if k.name not in matched:
            problems.append(f"{k.name} ({k.internal_ip}) is in Kubernetes but not in tfstate")
    if problems:
        return failed(NODES, host, cluster.name, "; ".join(problems))
    return passed(NODES, host, cluster.name, f"{len(tf_nodes)} nodes in tfstate and Kubernetes agree")
