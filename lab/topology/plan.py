"""What the lab builds: names and addresses, computed from the options alone (no side effects).

Addressing follows shared/reference/topology.md, shifted per cluster so that one operator namespace
reaches every cluster on-link:

- internet switch: a /28 per cluster (prd 203.0.113.0/28, dev .16/28, wsp .32/28), a /27 when more
  than 3 nodes are asked for (prd .0/27, dev .32/27, ...). Offsets are fixed: gateway .1, router .4,
  masters .5-.7, LBs .8/.9, VIP .10, nodes from .11, the operator at the block's last usable
  address (.14 in a /28, .30 in a /27).
- MetalLB range: 198.51.100.0/28, .16/28, .32/28 (a /28 per cluster whatever the block size): the global
  pool ``global-ip``. The venue-scoped pool ``venue-ip`` (reachable through the WireGuard tunnel only) is
  198.51.100.128/28, .144/28, ... (the upper half of 198.51.100.0/24, which the named clusters' global
  pools, at most 8 x /28, never reach).
- private switch: 192.168.100.0/24 in every cluster (isolated), router .1; nodes .11- in the
  ``private`` node-subnet variant.
- venue: link 198.18.<i>.0/30 from the upstream (.1) to the venue (.2), tunnel 172.16.100.<4i>/30
  (router .1, venue .2; from 172.16.101.0 on for i >= 64), venue network 10.88.<i>.0/24.

Generated clusters ``c01`` .. ``c63`` (the scale benchmark's) have an address plan of their own in the
shared address space 100.64.0.0/10: cluster cNN gets 100.64.NN.0/24, its internet switch at the start
of it (a /28 or /27, same offsets), its MetalLB range at 100.64.NN.128/28 and its venue pool at
100.64.NN.144/28; their index is 10 + NN.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from ipaddress import IPv4Address, IPv4Interface, IPv4Network
from pathlib import Path
from typing import Any, Literal

NodeSubnet = Literal["proxy-arp", "private"]
MetalLBMode = Literal["configmap", "crds", "none"]

# Fixed indices keep a cluster's addresses stable whichever subset of clusters is up.
KNOWN_CLUSTERS = ("prd", "dev", "wsp")
DEFAULT_METALLB: dict[str, MetalLBMode] = {"prd": "crds", "dev": "configmap", "wsp": "crds"}
# MetalLB as each cluster runs it (`lab up --metallb-version`, `--metallb-speaker`): the tags the Kubernetes
# stand-in's admission models (lab/kubeapi/admission.py VERSIONS) and the speaker modes of MetalLB's manifests
# (config/frr, config/native; config/frr-k8s from v0.14): default v0.13.12 in FRR mode.
METALLB_VERSIONS = ("v0.13.12", "v0.14.9")
DEFAULT_METALLB_VERSION = "v0.13.12"
METALLB_SPEAKERS = ("frr", "frr-k8s", "native")
DEFAULT_METALLB_SPEAKER = "frr"
# The router versions `lab up --vyos` offers (lab/vyos/schema.py DIALECTS): 1.5 = rolling (vyos-1x current)
VYOS_VERSIONS = ("1.3", "1.4", "1.5")
PUBLIC_BASE = IPv4Address("203.0.113.0")
METALLB_BASE = IPv4Address("198.51.100.0")
PRIVATE_NET = IPv4Network("192.168.100.0/24")
ROUTER_NODE_ADDRESS = IPv4Interface("192.168.100.1/24")
ROUTER_ASN = 65020
SPEAKER_ASN = 65021
WG_PORT = 51820
S3_PORT = 9000
KUBEAPI_BASE_PORT = 6443
MAX_NODES = 19  # .11 .. .29 in a /27, below the operator at .30
CLUSTER_NAME = re.compile(r"^[a-z][a-z0-9]{0,7}$")  # becomes part of interface names (<= 15 chars)
MAX_NAMED_CLUSTERS = 8  # in 203.0.113.0/24
# Generated clusters c01..c63: one 100.64.NN.0/24 each (RFC 6598 shared address space), index 10 + NN.
GENERATED_CLUSTER = re.compile(r"^c(\d{2})$")
GENERATED_BASE = IPv4Address("100.64.0.0")
GENERATED_INDEX_BASE = 10
MAX_GENERATED = 63
TUNNEL_BASE = IPv4Address("172.16.100.0")
VENUE_POOL_BASE = IPv4Address("198.51.100.128")
GLOBAL_POOL = "global-ip"  # MetalLB pool names are Kubernetes object names (DNS-1123: lower case)
VENUE_POOL = "venue-ip"
# The BGP timers the seeded MetalLB config (BGPPeer / legacy ConfigMap peer) carries: MetalLB's own defaults
# (hold 90 s, keepalive 30 s: metallb internal/config parsePeer/parseTimers), so what the lab shows about a dead
# node is what a real cluster does (issue 15); a test that needs a dead session seen fast uses BFD.
SEED_TIMERS = {"holdTime": "90s", "keepaliveTime": "30s"}


def generated_number(name: str) -> int | None:
    """NN of a generated cluster name cNN (1..63), else None."""
    m = GENERATED_CLUSTER.match(name)
    if m is None or not 1 <= int(m.group(1)) <= MAX_GENERATED:
        return None
    return int(m.group(1))


@dataclass(frozen=True)
class Options:
    """Everything that decides the topology; stored as ``<state>/lab.json`` so later commands agree."""

    prefix: str
    state_dir: Path
    clusters: tuple[str, ...] = ("prd",)
    nodes: int = 3
    node_subnet: NodeSubnet = "proxy-arp"
    # cluster -> "1.3" | "1.4" | "1.5" (rolling: the only one with `system config-management commit-confirm
    # action`, T5976; no 1.4 release tag of vyos-1x has that node)
    vyos: dict[str, str] = field(default_factory=dict)
    metallb: dict[str, str] = field(default_factory=dict)  # cluster -> "configmap" | "crds"
    unready: tuple[str, ...] = ()  # lab host names (prd-node3) whose speaker pod is not Ready
    metallb_version: dict[str, str] = field(default_factory=dict)  # cluster -> "v0.13.12" | "v0.14.9"
    metallb_speaker: dict[str, str] = field(default_factory=dict)  # cluster -> "frr" | "frr-k8s" | "native"

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["state_dir"] = str(self.state_dir)
        data["clusters"] = list(self.clusters)
        data["unready"] = list(self.unready)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Options:
        return cls(
            prefix=data["prefix"],
            state_dir=Path(data["state_dir"]),
            clusters=tuple(data["clusters"]),
            nodes=int(data["nodes"]),
            node_subnet=data["node_subnet"],
            vyos=dict(data["vyos"]),
            metallb=dict(data["metallb"]),
            unready=tuple(data.get("unready", [])),
            metallb_version=dict(data.get("metallb_version") or {}),
            metallb_speaker=dict(data.get("metallb_speaker") or {}),
        )

    def validate(self) -> None:
        if not re.fullmatch(r"[a-z][a-z0-9]{0,7}", self.prefix):
            raise ValueError(f"prefix {self.prefix!r}: lower-case letters and digits, at most 8")
        if not self.clusters:
            raise ValueError("no clusters")
        for name in self.clusters:
            if not CLUSTER_NAME.match(name):
                raise ValueError(f"cluster name {name!r}: lower-case letters and digits, at most 8")
        if len(set(self.clusters)) != len(self.clusters):
            raise ValueError("a cluster is named twice")
        if not 1 <= self.nodes <= MAX_NODES:
            raise ValueError(f"--nodes must be 1..{MAX_NODES}")
        if self.node_subnet not in ("proxy-arp", "private"):
            raise ValueError(f"node subnet {self.node_subnet!r}: proxy-arp or private")
        for c in self.clusters:
            if self.vyos.get(c, "1.4") not in VYOS_VERSIONS:
                raise ValueError(f"--vyos for {c}: 1.3, 1.4 or 1.5")
            if self.metallb.get(c, "crds") not in ("configmap", "crds", "none"):
                raise ValueError(f"--metallb for {c}: configmap, crds or none")
            version = self.metallb_version.get(c, DEFAULT_METALLB_VERSION)
            speaker = self.metallb_speaker.get(c, DEFAULT_METALLB_SPEAKER)
            if version not in METALLB_VERSIONS:
                raise ValueError(f"--metallb-version for {c}: {' or '.join(METALLB_VERSIONS)}")
            if speaker not in METALLB_SPEAKERS:
                raise ValueError(f"--metallb-speaker for {c}: {', '.join(METALLB_SPEAKERS)}")
            if speaker == "frr-k8s" and version == "v0.13.12":
                raise ValueError(f"--metallb-speaker frr-k8s for {c}: MetalLB v0.14 and later (--metallb-version)")
        if len([c for c in self.clusters if generated_number(c) is None]) > MAX_NAMED_CLUSTERS:
            raise ValueError(f"at most {MAX_NAMED_CLUSTERS} clusters (besides generated ones c01..c{MAX_GENERATED})")


@dataclass(frozen=True)
class Service:
    namespace: str
    name: str
    ip: IPv4Address
    policy: Literal["Cluster", "Local"]
    endpoint_nodes: tuple[str, ...]  # k8s node names with a ready endpoint
    pool: str = GLOBAL_POOL


@dataclass(frozen=True)
class Link:
    """A veth: ``ifname`` inside ``ns``, ``peer`` inside ``peer_ns`` (a switch port or a host)."""

    ns: str
    ifname: str
    peer_ns: str
    peer: str
    bridge: str | None  # bridge in peer_ns the peer end joins


@dataclass(frozen=True)
class Host:
    name: str  # lab name used by fault/heal/status: prd-node1, prd-lb2, op
    cluster: str  # "" for lab-wide hosts (the operator)
    role: str  # router lb master node upstream venue switch operator
    ns: str
    server: str | None = None  # Terraform server name (and Kubernetes node name for nodes)
    addresses: tuple[str, ...] = ()  # address/len per interface, "ifname=addr/len"
    routes: tuple[str, ...] = ()  # `ip route replace` arguments
    index: int = 0  # 1-based within its role


@dataclass(frozen=True)
class Cluster:
    name: str
    index: int
    block: IPv4Network
    node_subnet: NodeSubnet
    vyos: str
    metallb_mode: str
    confirm_action: bool  # the router knows `commit-confirm action` (1.5/rolling, T5976)
    metallb_range: IPv4Network
    venue_pool: IPv4Network
    node_count: int
    unready: tuple[str, ...]
    metallb_version: str = DEFAULT_METALLB_VERSION
    metallb_speaker: str = DEFAULT_METALLB_SPEAKER

    # -- internet switch -------------------------------------------------------------------------
    @property
    def gateway(self) -> IPv4Address:
        return self.block[1]

    @property
    def router_public(self) -> IPv4Interface:
        return IPv4Interface(f"{self.block[4]}/{self.block.prefixlen}")

    def master_address(self, i: int) -> IPv4Address:
        return self.block[4 + i]

    def lb_address(self, i: int) -> IPv4Address:
        return self.block[7 + i]

    @property
    def vip(self) -> IPv4Address:
        return self.block[10]

    @property
    def operator_address(self) -> IPv4Interface:
        return IPv4Interface(f"{self.block[-2]}/{self.block.prefixlen}")

    # -- private switch --------------------------------------------------------------------------
    def node_address(self, i: int) -> IPv4Interface:
        if self.node_subnet == "private":
            return IPv4Interface(f"{PRIVATE_NET[10 + i]}/{PRIVATE_NET.prefixlen}")
        return IPv4Interface(f"{self.block[10 + i]}/{self.block.prefixlen}")

    @property
    def node_gateway(self) -> IPv4Address:
        return ROUTER_NODE_ADDRESS.ip if self.node_subnet == "private" else self.gateway

    @property
    def metallb_peer(self) -> IPv4Address:
        """The router address speakers peer with (topology.md: the public one in the proxy-ARP layout)."""
        return ROUTER_NODE_ADDRESS.ip if self.node_subnet == "private" else self.router_public.ip

    # -- venue -------------------------------------------------------------------------------------
    @property
    def venue_link(self) -> IPv4Network:
        return IPv4Network(f"198.18.{self.index}.0/30")

    @property
    def venue_endpoint(self) -> IPv4Address:
        return self.venue_link[2]

    @property
    def tunnel(self) -> IPv4Network:
        return IPv4Network(f"{TUNNEL_BASE + 4 * self.index}/30")

    @property
    def venue_network(self) -> IPv4Network:
        return IPv4Network(f"10.88.{self.index}.0/24")

    @property
    def kubeapi_port(self) -> int:
        return KUBEAPI_BASE_PORT + self.index

    # -- names -------------------------------------------------------------------------------------
    def server_name(self, role: str, i: int = 1) -> str:
        """Terraform server names as the real deployment used them (tfstate.md)."""
        if role == "router":
            return f"k8s-router-{i}-{self.name}"
        return f"k8s-{role}-{i}-server-{self.name}"

    @property
    def node_names(self) -> list[str]:
        return [self.server_name("node", i) for i in range(1, self.node_count + 1)]

    @property
    def services(self) -> list[Service]:
        """LoadBalancer Services: web (Cluster-wide) and api (Local, endpoints on the first two nodes) in the
        global pool, scores (Cluster-wide) in the venue pool. Each asks MetalLB for its IP."""
        first = self.metallb_range[1]  # .1, clear of the .0 that avoid-buggy-ips would skip
        nodes = tuple(self.node_names)
        return [
            Service("default", "web", first, "Cluster", nodes),
            Service("default", "api", first + 1, "Local", nodes[:2]),
            Service("default", "scores", self.venue_pool[1], "Cluster", nodes, VENUE_POOL),
        ]

    @property
    def pools(self) -> list[tuple[str, IPv4Network]]:
        return [(GLOBAL_POOL, self.metallb_range), (VENUE_POOL, self.venue_pool)]

    def speaker_ready(self, i: int) -> bool:
        return f"{self.name}-node{i}" not in self.unready

    def advertised(self, i: int) -> list[IPv4Address]:
        """Service IPs node i's speaker announces (Local services: only from nodes with an endpoint)."""
        node = self.server_name("node", i)
        return [s.ip for s in self.services if s.policy == "Cluster" or node in s.endpoint_nodes]


def cluster_indices(names: tuple[str, ...] | list[str]) -> dict[str, int]:
    """prd/dev/wsp keep 0/1/2; generated cNN get 10 + NN; other names follow prd/dev/wsp in sorted order."""
    out = {n: KNOWN_CLUSTERS.index(n) for n in names if n in KNOWN_CLUSTERS}
    for n in names:
        number = generated_number(n)
        if number is not None:
            out[n] = GENERATED_INDEX_BASE + number
    for i, n in enumerate(sorted(n for n in names if n not in out)):
        out[n] = len(KNOWN_CLUSTERS) + i
    return out


def cluster_block(name: str, index: int, size: int) -> tuple[IPv4Network, IPv4Network]:
    """(internet switch block, MetalLB range) of a cluster; ``size`` is 16 or 32 addresses."""
    plen = 32 - (size.bit_length() - 1)
    number = generated_number(name)
    if number is not None:
        base = GENERATED_BASE + 256 * number
        return IPv4Network(f"{base}/{plen}"), IPv4Network(f"{base + 128}/28")
    return IPv4Network(f"{PUBLIC_BASE + size * index}/{plen}"), IPv4Network(f"{METALLB_BASE + 16 * index}/28")


def venue_pool(name: str, index: int) -> IPv4Network:
    """The venue-scoped pool: 198.51.100.128 + 16 * index /28 (named clusters, index < 8), 100.64.NN.144/28."""
    number = generated_number(name)
    if number is not None:
        return IPv4Network(f"{GENERATED_BASE + 256 * number + 144}/28")
    return IPv4Network(f"{VENUE_POOL_BASE + 16 * index}/28")


class Plan:
    """The whole lab: clusters, hosts and links, for one ``Options``."""

    def __init__(self, opts: Options) -> None:
        opts.validate()
        self.opts = opts
        self.prefix = opts.prefix
        size = 16 if opts.nodes <= 3 else 32
        self.clusters: dict[str, Cluster] = {}
        for name, idx in sorted(cluster_indices(opts.clusters).items(), key=lambda kv: kv[1]):
            block, metallb_range = cluster_block(name, idx, size)
            self.clusters[name] = Cluster(
                name=name,
                index=idx,
                block=block,
                node_subnet=opts.node_subnet,
                vyos=opts.vyos.get(name, "1.4"),
                metallb_mode=opts.metallb.get(name, DEFAULT_METALLB.get(name, "crds")),
                confirm_action=opts.vyos.get(name, "1.4") == "1.5",
                metallb_range=metallb_range,
                venue_pool=venue_pool(name, idx),
                node_count=opts.nodes,
                unready=opts.unready,
                metallb_version=opts.metallb_version.get(name, DEFAULT_METALLB_VERSION),
                metallb_speaker=opts.metallb_speaker.get(name, DEFAULT_METALLB_SPEAKER),
            )
        self.hosts: list[Host] = []
        self.links: list[Link] = []
        self._build()

    # Namespace names: <prefix>-op and <prefix>-<cluster>-<host>.
    def ns(self, cluster: str, host: str) -> str:
        return f"{self.prefix}-{cluster}-{host}" if cluster else f"{self.prefix}-{host}"

    @property
    def operator_ns(self) -> str:
        return self.ns("", "op")

    def _build(self) -> None:
        op = self.operator_ns
        op_addrs: list[str] = []
        for c in self.clusters.values():
            sw = self.ns(c.name, "sw")
            plen = c.block.prefixlen
            self.hosts.append(Host(f"{c.name}-sw", c.name, "switch", sw))

            def on_inet(host: str, port: str, ifname: str = "eth0", *, _sw: str = sw, _c: str = c.name) -> None:
                self.links.append(Link(self.ns(_c, host), ifname, _sw, port, "inet"))

            # Upstream: the cloud's gateway and the internet; routes the MetalLB range to the router.
            up = self.ns(c.name, "up")
            on_inet("up", "gw")
            self.links.append(Link(up, "venue", self.ns(c.name, "venue"), "eth0", None))
            self.hosts.append(
                Host(
                    f"{c.name}-up",
                    c.name,
                    "upstream",
                    up,
                    addresses=(f"eth0={c.gateway}/{plen}", f"venue={c.venue_link[1]}/30"),
                    # Both pools are routed to the router (the venue pool too: the router's firewall, not a
                    # missing route, is what keeps the internet out of it).
                    routes=tuple(f"{net} via {c.router_public.ip}" for _, net in c.pools),
                )
            )
            # Router: the VyOS stand-in owns its addresses; the lab only wires eth0/eth1.
            on_inet("router", "r0")
            self.links.append(Link(self.ns(c.name, "router"), "eth1", sw, "r1", "priv"))
            self.hosts.append(
                Host(
                    f"{c.name}-router",
                    c.name,
                    "router",
                    self.ns(c.name, "router"),
                    server=c.server_name("router"),
                    addresses=(f"eth0={c.router_public}",),
                )
            )
            for i in (1, 2, 3):
                on_inet(f"master{i}", f"m{i}")
                self.hosts.append(
                    Host(
                        f"{c.name}-master{i}",
                        c.name,
                        "master",
                        self.ns(c.name, f"master{i}"),
                        server=c.server_name("master", i),
                        addresses=(f"eth0={c.master_address(i)}/{plen}",),
                        routes=(f"default via {c.gateway}",),
                        index=i,
                    )
                )
            for i in (1, 2):
                on_inet(f"lb{i}", f"lb{i}")
                self.hosts.append(
                    Host(
                        f"{c.name}-lb{i}",
                        c.name,
                        "lb",
                        self.ns(c.name, f"lb{i}"),
                        server=c.server_name("lb", i),
                        addresses=(f"eth0={c.lb_address(i)}/{plen}",),
                        routes=(f"default via {c.gateway}",),
                        index=i,
                    )
                )
            for i in range(1, c.node_count + 1):
                node_ns = self.ns(c.name, f"node{i}")
                self.links.append(Link(node_ns, "eth0", sw, f"n{i}", "priv"))
                addr = c.node_address(i)
                # In the proxy-ARP layout the gateway is not on the node's wire; `onlink` says so.
                self.hosts.append(
                    Host(
                        f"{c.name}-node{i}",
                        c.name,
                        "node",
                        node_ns,
                        server=c.server_name("node", i),
                        # Service IPs on lo stand for kube-proxy; the lab's speakers (lab.topology.speakers) keep
                        # them in step with what MetalLB allocates. Seeded here when MetalLB is configured.
                        addresses=(
                            f"eth0={addr}",
                            *(f"lo={s.ip}/32" for s in c.services if c.metallb_mode != "none"),
                        ),
                        routes=(f"default via {c.node_gateway} dev eth0 onlink",),
                        index=i,
                    )
                )
            self.hosts.append(
                Host(
                    f"{c.name}-venue",
                    c.name,
                    "venue",
                    self.ns(c.name, "venue"),
                    addresses=(f"eth0={c.venue_endpoint}/30", f"lo={c.venue_network[1]}/{c.venue_network.prefixlen}"),
                    routes=(f"default via {c.venue_link[1]}",),
                )
            )
            self.links.append(Link(op, f"op-{c.name}", sw, "op", "inet"))
            op_addrs.append(f"op-{c.name}={c.operator_address}")
        self.hosts.append(Host("op", "", "operator", op, addresses=tuple(op_addrs)))

    # -- lookups -----------------------------------------------------------------------------------
    def host(self, name: str) -> Host:
        """A host by lab name (prd-node1), namespace (ek-prd-node1) or Terraform name."""
        for h in self.hosts:
            if name in (h.name, h.ns, h.server):
                return h
        raise KeyError(name)

    def namespaces(self) -> list[str]:
        return [h.ns for h in self.hosts]

    def cluster_of_ip(self, ip: IPv4Address) -> Cluster | None:
        for c in self.clusters.values():
            if any(ip in net for _, net in c.pools):
                return c
        return None


# Where the lab keeps its state when the checkout itself is not searchable by others (a clone under
# /root, mode 700): FRR runs as user frr and keeps its sockets in the state dir.
FALLBACK_STATE = Path("/var/lib/edgekit-lab")


def state_dir_default(repo: Path) -> Path:
    """``lab/.state`` in the checkout, or FALLBACK_STATE when a parent of the checkout lacks o+x."""
    state = repo / "lab" / ".state"
    if all(p.stat().st_mode & 0o001 for p in [repo, *repo.parents]):
        return state
    return FALLBACK_STATE


def load_options(state_dir: Path) -> Options | None:
    path = state_dir / "lab.json"
    if not path.exists():
        return None
    return Options.from_json(json.loads(path.read_text()))
