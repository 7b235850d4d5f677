"""The resolved site model: one deployment, the single source templates and checks read.

Built by ``inventory.build`` from Terraform state (hosts, addresses), Kubernetes (live speakers,
MetalLB config, LoadBalancer services) and the site file (what neither knows). Every field is
validated here, so a bad ASN, key or address fails before any device is touched.
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Interface, IPv4Network
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from inventory.errors import InputError, MissingFact
from inventory.secrets import SecretRef, is_wireguard_key

# 0 and 65535 / 4294967295 are reserved; 23456 is AS_TRANS. VyOS itself accepts 1-4294967294.
ASN = Annotated[int, Field(ge=1, le=4294967294)]
Port = Annotated[int, Field(ge=1, le=65535)]
Dialect = Literal["1.3", "1.4", "1.5"]  # 1.5: rolling (tasks/dialect.py)
Role = Literal["router", "lb", "master", "node"]
ROLES: tuple[Role, ...] = ("router", "lb", "master", "node")


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Credentials(Model):
    """How edgekit logs in. The key file path is not secret; the password is a reference."""

    username: str
    password: SecretRef | None = None
    ssh_key_file: str | None = None
    known_hosts_file: str | None = None
    port: Port = 22


class Speaker(Model):
    """A MetalLB speaker the router peers with (a node running a Ready speaker pod)."""

    name: str
    address: IPv4Address
    asn: ASN = 65021
    ready: bool = True
    # Why MetalLB's speaker on this node announces nothing although it peers ("" when it announces): its
    # ShouldAnnounce reason (nodeNetworkUnavailable, nodeLabeledExcludeBalancers, nodeUnschedulable;
    # inventory.speakers.withheld).
    withheld: str = ""


class Node(Model):
    """A Kubernetes worker as Terraform (and Kubernetes) know it."""

    name: str
    address: IPv4Address
    internal_address: IPv4Address | None = None
    # Where the node is known from: "tfstate", "kubernetes" or both ("tfstate+kubernetes").
    source: str = "tfstate"
    tainted: bool = False


class Master(Model):
    name: str
    address: IPv4Address
    internal_address: IPv4Address | None = None
    apiserver_port: Port = 6443
    tainted: bool = False


PoolScope = Literal["global", "venue"]


class Pool(Model):
    """A MetalLB address pool: the routed range the router blackholes and learns /32s from.

    ``scope`` venue: reachable only through the WireGuard tunnel (the router's firewall drops the rest);
    ``auto_assign``/``avoid_buggy_ips``: MetalLB's knobs (IPAddressPool autoAssign/avoidBuggyIPs)."""

    name: str
    addresses: list[IPv4Network]
    scope: PoolScope = "global"
    auto_assign: bool = True
    avoid_buggy_ips: bool = False
    # A pool read from Kubernetes (IPAddressPool): its whole spec as the cluster holds it (ranges, IPv6 addresses,
    # serviceAllocation, autoAssign ...), which ``tasks.metallb`` re-renders as is (``addresses`` keeps the IPv4
    # networks the router routes).
    spec: dict[str, Any] | None = None


class Service(Model):
    """A LoadBalancer Service with its assigned IP, as Kubernetes reports it."""

    namespace: str
    name: str
    ips: list[IPv4Address]
    external_traffic_policy: Literal["Cluster", "Local"] = "Cluster"
    endpoint_nodes: list[str] = []  # nodes with an endpoint MetalLB counts (ready; v0.14.5+ also serving)
    # Whether any endpoint MetalLB counts exists (without one no node announces the IP); None: not read.
    has_endpoints: bool | None = None


class SelectorRequirement(Model):
    key: str
    operator: Literal["In", "NotIn", "Exists", "DoesNotExist"]
    values: list[str] = []


class NodeSelector(Model):
    """A Kubernetes label selector (``matchLabels`` AND every ``matchExpressions`` requirement)."""

    match_labels: dict[str, str] = {}
    match_expressions: list[SelectorRequirement] = []

    def matches(self, labels: dict[str, str]) -> bool:
        if any(labels.get(k) != v for k, v in self.match_labels.items()):
            return False
        for req in self.match_expressions:
            present = req.key in labels
            if req.operator == "In" and not (present and labels[req.key] in req.values):
                return False
            if req.operator == "NotIn" and present and labels[req.key] in req.values:
                return False
            if req.operator == "Exists" and not present:
                return False
            if req.operator == "DoesNotExist" and present:
                return False
        return True


class MetalLBPeer(Model):
    """One BGP peer in MetalLB's configuration (ConfigMap ``peers`` or a BGPPeer object)."""

    name: str = ""
    peer_address: IPv4Address
    peer_asn: ASN
    my_asn: ASN
    source: Literal["configmap", "crds"] = "crds"
    # Which nodes' speakers peer with it: none means every node, several mean any of them (MetalLB).
    node_selectors: list[NodeSelector] = []
    # The BFD profile its speakers run with the router (BGPPeer spec.bfdProfile, legacy bfd-profile); "" none.
    bfd_profile: str = ""
    # Its speakers' BGP (and so BFD) session is multihop (BGPPeer spec.ebgpMultiHop, legacy ebgp-multihop).
    ebgp_multihop: bool = False
    # BGPPeer spec.dynamicASN (v0.14.9+, "internal"/"external"): the peer's ASN is learnt, ``peer_asn`` is a guess.
    dynamic_asn: str = ""

    def selects(self, labels: dict[str, str]) -> bool:
        return not self.node_selectors or any(s.matches(labels) for s in self.node_selectors)


# BFD timer ranges as VyOS accepts them (vyos/vyos-1x interface-definitions/include/bfd/common.xml.i:
# ``interval receive``/``transmit`` "u32:10-60000" ms, ``interval multiplier`` "u32:2-255", defaults 300/300/3);
# MetalLB's BFDProfile takes the same ranges (metallb/metallb internal/config/config.go bfdProfileFromCR).
BfdInterval = Annotated[int, Field(ge=10, le=60000)]
BfdMultiplier = Annotated[int, Field(ge=2, le=255)]


class BFD(Model):
    """BFD between the router and every speaker: a node that dies is detected in ``multiplier`` x interval
    (300 ms x 3: under a second) instead of the BGP hold time."""

    enabled: bool = True
    receive_interval: BfdInterval = 300  # ms
    transmit_interval: BfdInterval = 300  # ms
    multiplier: BfdMultiplier = 3

    @property
    def detect_ms(self) -> int:
        """The detection time the router's end runs with (RFC 5880 6.8.4; the peer's TX interval, worst case)."""
        return self.multiplier * max(self.receive_interval, self.transmit_interval)


DEFAULT_PEER_NAME = "edgekit-router"


class MetalLBIntent(Model):
    """What ``tasks.metallb`` renders for one cluster: MetalLB's side of the router's BGP sessions.

    The peer side comes from the router (address the speakers reach, ASN, timers, password), so both ends
    of every session are rendered from one model. ``pools_source`` says where the pools came from
    (``site``, ``kubernetes``, ``tfstate``; inventory/README.md, *MetalLB intent*)."""

    form: Literal["auto", "crds", "configmap"] = "auto"
    # MetalLB's namespace (site metallb.namespace, else where its speaker pods run, else metallb-system).
    namespace: str = "metallb-system"
    pools: list[Pool]
    pools_source: Literal["site", "kubernetes", "tfstate"] = "site"
    # The BGPPeer's name; None: the cluster's one BGPPeer for the router's address if it has one (taken over), else
    # ``DEFAULT_PEER_NAME``.
    peer_name: str | None = None
    # The site file states MetalLB's intent (a ``metallb`` section): comply then judges the cluster's MetalLB.
    declared: bool = False
    peer_address: IPv4Address
    peer_asn: ASN
    my_asn: ASN
    hold_time: int
    keepalive_time: int
    password: SecretRef | None = None
    node_selectors: list[NodeSelector] = []
    # The cluster's BFD when on (the same object the router's templates/vyos/bfd.j2 reads): rendered as a
    # BFDProfile named ``bfd_profile`` that the BGPPeer references, so both ends run the same timers.
    bfd: BFD | None = None
    bfd_profile: str = "edgekit"
    # BGPPeer ``ebgpMultiHop`` (legacy ``ebgp-multihop``): on with BFD in the proxy-ARP layout, where the router's
    # end is multihop too (Cluster.bfd_multihop), so the speakers' bgpd registers a multihop BFD session.
    ebgp_multihop: bool = False

    @property
    def venue_pools(self) -> list[Pool]:
        return [p for p in self.pools if p.scope == "venue"]


# MetalLB's own BGP timers when a peer sets none: hold 90 s (metallb/metallb internal/config/config.go, legacy
# parsePeer: ``holdTime := 90 * time.Second``) and keepalive a third of the hold time (parseTimers:
# ``keepaliveTime = ptr.To(ht.Duration / 3)``). edgekit renders both on the router and on MetalLB's BGPPeer.
METALLB_KEEPALIVE = 30
METALLB_HOLDTIME = 90


class BGP(Model):
    asn: ASN = 65020
    router_id: IPv4Address | None = None
    keepalive: Annotated[int, Field(ge=1, le=65535)] = METALLB_KEEPALIVE
    holdtime: Annotated[int, Field(ge=3, le=65535)] = METALLB_HOLDTIME
    password: SecretRef | None = None

    @model_validator(mode="after")
    def _timers(self) -> BGP:
        if self.holdtime < 3 * self.keepalive:
            raise ValueError(f"holdtime {self.holdtime} must be at least 3 x keepalive {self.keepalive}")
        return self


class WireGuard(Model):
    """The tunnel to the contest venue."""

    interface: str = "wg0"
    address: IPv4Interface
    port: Port = 51820
    private_key: SecretRef
    # 1.3 keeps keys on the box under a name (generate wireguard named-keypairs NAME).
    key_name: str = "venue"
    peer_name: str = "venue"
    peer_public_key: str
    endpoint_address: IPv4Address
    endpoint_port: Port = 51820
    allowed_ips: list[IPv4Network]
    keepalive: Annotated[int, Field(ge=0, le=65535)] = 25
    venue_networks: list[IPv4Network] = []
    # What verify pings through the tunnel (default: the first host of the first venue network).
    probe_address: IPv4Address | None = None

    @field_validator("peer_public_key")
    @classmethod
    def _key(cls, value: str) -> str:
        if not is_wireguard_key(value):
            raise ValueError("not a WireGuard public key (32 bytes, base64)")
        return value

    @field_validator("interface")
    @classmethod
    def _ifname(cls, value: str) -> str:
        if not value.startswith("wg") or not value[2:].isdigit():
            raise ValueError("WireGuard interface must be named wgN")
        return value


class VenueFirewall(Model):
    """Where the router's venue rule goes (templates/vyos/firewall.j2, tasks/router/dialect.py).

    ``rule``: its number (default 10): in ``firewall ipv4 forward filter`` (1.4/1.5), or in the 1.3 ruleset.
    ``ruleset`` (1.3 only): the router's own ruleset, already on ``firewall in name`` of the public/node-side
    interfaces, that edgekit adds its rule to instead of attaching ``EDGEKIT-VENUE-ONLY`` (which would detach the
    router's: one ruleset per direction on 1.3). Rule numbers 1-999999 (vyatta-cfg-firewall equuleus / vyos-1x
    sagitta: "Firewall rule number must be between 1 and 999999")."""

    ruleset: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,27}$")] | None = None
    rule: Annotated[int, Field(ge=1, le=999999)] = 10


class Router(Model):
    name: str
    management_address: str  # host name or address edgekit connects to
    dialect: Dialect | Literal["auto"] = "auto"
    public_interface: str = "eth0"
    public_address: IPv4Interface
    node_interface: str = "eth1"
    node_address: IPv4Interface
    description: str = "k8s-nodes"
    bgp: BGP = BGP()
    credentials: Credentials
    # where the router has `system config-management commit-confirm action` (1.5/rolling, T5976; 1.4 is probed)
    # edgekit sets it to reload, so an unconfirmed change reverts in place instead of rebooting the router;
    # false leaves that node alone.
    revert_in_place: bool = True
    venue_firewall: VenueFirewall = VenueFirewall()


class LoadBalancer(Model):
    name: str
    address: IPv4Address  # on the internet switch, where the VIP lives
    management_address: str
    interface: str = "eth0"
    priority: Annotated[int, Field(ge=1, le=254)]
    state: Literal["MASTER", "BACKUP"]
    credentials: Credentials


class ApiLB(Model):
    vip: IPv4Address
    frontend_port: Port = 6443
    virtual_router_id: Annotated[int, Field(ge=1, le=255)] = 51
    auth_pass: SecretRef | None = None
    lbs: list[LoadBalancer]

    @field_validator("lbs")
    @classmethod
    def _pair(cls, lbs: list[LoadBalancer]) -> list[LoadBalancer]:
        if len(lbs) != 2:
            raise ValueError(f"an API LB pair has exactly 2 load balancers, got {len(lbs)}")
        if len({lb.priority for lb in lbs}) != 2:
            raise ValueError("the two load balancers need different priorities")
        return lbs


class Cluster(Model):
    name: str
    order: int = 0
    router: Router | None = None
    speakers: list[Speaker] = []
    nodes: list[Node] = []
    masters: list[Master] = []
    pools: list[Pool] = []
    services: list[Service] = []
    wireguard: WireGuard | None = None
    api_lb: ApiLB | None = None
    # MetalLB's intended configuration (tasks.metallb); None when a fact it needs is missing (``missing``).
    metallb: MetalLBIntent | None = None
    # "proxy-arp": nodes hold public addresses on the private switch (topology.md);
    # "private": nodes sit on the router's node-side subnet and need none of the proxy-ARP knobs.
    node_subnet: Literal["proxy-arp", "private"] = "proxy-arp"
    # BFD to every speaker (router end rendered by templates/vyos/bfd.j2, MetalLB's by its BFDProfile).
    bfd: BFD = BFD()
    # Facts that could not be resolved, by field path, with the reason: a feature that needs one fails.
    missing: dict[str, str] = {}
    warnings: list[str] = []
    # The upstream gateway of the public (NIC 0) network: the router answers ARP for it on the node side.
    gateway: IPv4Address | None = None
    # Where the speaker set came from: "kubernetes" (Ready speaker pods) or "tfstate" (fallback: all nodes).
    speakers_source: Literal["kubernetes", "tfstate"] = "tfstate"
    # MetalLB's own view of its peers (peer address and ASN), as read from Kubernetes.
    metallb_peers: list[MetalLBPeer] = []
    # Where Kubernetes and tfstate / the site file disagree (one line each).
    disagreements: list[str] = []
    # Live facts this cluster's router cannot be configured for (a speaker outside every subnet the router
    # reaches, a pool in Kubernetes over the nodes' subnet): one InputError line each, naming the source and
    # path. Such a router is never rendered nor connected to; the other clusters proceed.
    refused: list[str] = []

    @property
    def venue_pools(self) -> list[Pool]:
        """Venue-scoped pools (the intent's, else those of ``pools``): only the venue may reach them."""
        if self.metallb is not None:
            return self.metallb.venue_pools
        return [p for p in self.pools if p.scope == "venue"]

    @property
    def router_bfd(self) -> bool:
        """Whether the router runs BFD with the speakers: the site turns it on and MetalLB's end has it too (a
        peer with a BFD profile), or MetalLB was not read. Never one end alone: a router whose speakers run no
        BFD would keep the sessions down and fail its own deploy gate; ``bfd_mismatch`` says why it is off."""
        return self.bfd.enabled and not self.bfd_mismatch

    @property
    def bfd_multihop(self) -> bool:
        """Whether BFD (and the BGP session it guards) is multihop on both ends: BFD on in the proxy-ARP layout.

        There BGP runs from the router's public address (bgp.j2 update-source) while the speakers sit behind the
        node-side interface. A single-hop BFD session would be registered by FRR's bgpd on the interface holding
        that source address (bgpd/bgp_bfd.c bgp_peer_configure_bfd: ``p->nexthop.ifp``) while bfdd reports it on
        the node-side one, and lib/bfd.c zclient_bfd_session_update skips a session whose interface
        differs ("sessions updated: 0"): BGP would never go down with BFD. A multihop session carries no
        interface (lib/bfd.c zclient_bfd_command: "multi hop is configured, not sending interface"; bfdd
        ptm_adapter.c sends no ifindex for one), so its down reaches bgpd (FRR 8.4, frr-8.4.4 tag). bgpd makes
        the session multihop when the neighbor is eBGP multihop (bgpd/bgp_bfd.h PEER_IS_MULTIHOP), so the router
        gets ``ebgp-multihop`` (bgp.j2) and ``protocols bfd peer ... multihop`` (bfd.j2), MetalLB's BGPPeer
        ``ebgpMultiHop`` (MetalLBIntent.ebgp_multihop)."""
        return self.router_bfd and self.node_subnet == "proxy-arp"

    @property
    def bfd_mismatch(self) -> str:
        """Why the site's BFD is not on the router yet ("" when it is, or when the site turns it off)."""
        if not self.bfd.enabled or not self.metallb_peers:
            return ""
        names = ", ".join(p.name or str(p.peer_address) for p in self.metallb_peers)
        if not any(p.bfd_profile for p in self.metallb_peers):
            return (
                f"the site turns BFD on but MetalLB's peer ({names}) has no BFD profile: run `metallb deploy` "
                "(MetalLB's FRR mode), then deploy the router; on a native-mode MetalLB set bfd.enabled: false"
            )
        if self.node_subnet == "proxy-arp" and not any(p.bfd_profile and p.ebgp_multihop for p in self.metallb_peers):
            return (
                f"the proxy-ARP layout needs multihop BFD but MetalLB's peer ({names}) has no ebgpMultiHop: run "
                "`metallb deploy`, then deploy the router"
            )
        return ""

    @property
    def speaker_asns(self) -> set[int]:
        return {s.asn for s in self.speakers}

    def raise_refused(self) -> None:
        """Fail with ``InputError`` (the first ``refused`` line) when this cluster's router is refused."""
        if self.refused:
            raise InputError(self.refused[0])

    def require(self, *fields: str) -> None:
        """Fail with ``MissingFact`` naming the first unresolved field under any of ``fields``.

        ``require("wireguard")`` fails when any ``wireguard.*`` fact is missing; ``require("router.node_address")``
        only for that one. Features call this before rendering so the error names what to add to the site file.
        """
        for want in fields:
            for path, reason in self.missing.items():
                if path == want or path.startswith(want + "."):
                    raise MissingFact(reason, path=f"clusters.{self.name}.{path}")


class Site(Model):
    clusters: dict[str, Cluster]
    rollout: list[str] = ["dev", "wsp", "prd"]

    def ordered_clusters(self) -> list[Cluster]:
        """Clusters in rollout order; ones not named in the rollout come last, by name."""
        rank = {name: i for i, name in enumerate(self.rollout)}
        return sorted(self.clusters.values(), key=lambda c: (rank.get(c.name, len(rank)), c.name))
