"""The router's features, one row each (``FEATURES``): its template, the config paths it owns, and its probes.

feature        template (templates/vyos/)   owns                                      probes: show command -> check ids
interfaces     interfaces.j2                the node-side NIC's address, description  -
proxy-ARP      proxyarp.j2                  enable-proxy-arp, node and public side    show interfaces, running config
                                                                                      -> proxyarp.enabled
BGP            bgp.j2                       protocols bgp, multipath layer4-hashing   show ip bgp summary -> bgp.peers*,
                                                                                      bgp.unexpected; show ip route IP
                                                                                      -> ecmp.routes*; running config
                                                                                      -> consistency.metallb
BFD            bfd.j2                       protocols bfd                             show bfd peers -> bfd.peers*
WireGuard      wireguard.j2                 interfaces wireguard wgN                  show interfaces wireguard wgN
                                                                                      summary -> wireguard.handshake;
                                                                                      ping -> wireguard.reachable
firewall       firewall.j2                  edgekit's network-group; its rule (1.4)   - (compliance.config; MetalLB's
                                            or ruleset and attachments (1.3)          private.reachability)
static routes  - (lines of proxyarp.j2,     blackholes, routes through the node side  -
               bgp.j2 and wireguard.j2)     or the tunnel

Render (``tasks.router.render``), the plan's scope (``managed_scope``), verify (``tasks.router.verify``), the deploy
gate (``tasks.router.gate``) and the MetalLB gate (``tasks.metallb.gate``) all iterate ``FEATURES``; the probes
marked * are the gate's. Every probe reads through one ``Reader`` (one per verify run, one per gate poll), so a
show command is sent and parsed once. Adding a feature is one row here (CONTRIBUTING.md).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from checks import bfd, bgp, compliance, consistency, ecmp, proxyarp, wireguard
from checks.config_diff import ConfigPath, ScopePredicate
from checks.parsers import bfd_peers, bgp_summary, interfaces, route
from checks.parsers import wireguard as wg_parser
from checks.parsers.models import ConfigCommand
from checks.verdict import CheckResult, errored, failed
from inventory.errors import EdgekitError
from inventory.kube import KubeFacts
from inventory.model import Cluster, Speaker
from tasks.core.report import one_line
from tasks.router.dialect import VENUE_GROUP, VENUE_RULESET, Dialect, resolve

Show = Callable[[str], str]
Planned = list[tuple[str, str | None]]  # (check id, subject)
T = TypeVar("T")

# The order checks are reported in (tables, JUnit, the gate's verdicts), whatever row yields them.
REPORT_ORDER: tuple[str, ...] = (
    bgp.PEERS,
    bgp.UNEXPECTED,
    bfd.PEERS,
    ecmp.ROUTES,
    proxyarp.ENABLED,
    wireguard.HANDSHAKE,
    wireguard.REACHABLE,
    consistency.METALLB,
    compliance.CONFIG,
)


class Reader:
    """A router's op-mode output for one verify run or one gate poll: each command is sent once, each output
    parsed once per parser; later asks get the same text (or the same parsed value)."""

    def __init__(self, show: Show) -> None:
        self._show = show
        self._outputs: dict[str, str] = {}
        self._parsed: dict[tuple[str, Callable[[str], Any]], Any] = {}
        self.sent: list[str] = []

    def __call__(self, command: str) -> str:
        if command not in self._outputs:
            self.sent.append(command)
            self._outputs[command] = self._show(command)
        return self._outputs[command]

    def parsed(self, command: str, parse: Callable[[str], T]) -> T:
        key = (command, parse)
        if key not in self._parsed:
            self._parsed[key] = parse(self(command))
        value: T = self._parsed[key]
        return value


@dataclass
class ProbeContext:
    """What a probe reads and judges with. ``gate``: the deploy or MetalLB gate (no Kubernetes facts; an error
    other than unparsable output, e.g. a broken session, is raised so the change is restored at once)."""

    read: Reader
    cluster: Cluster
    host: str
    gate: bool = False
    down: Sequence[Speaker] = ()  # speakers whose pod exists but is not Ready (verify)
    kube: KubeFacts | None = None
    kube_missing: str = ""
    handshake_max_age: int = wireguard.DEFAULT_MAX_AGE
    dialect: Dialect | None = None  # verify: from its config read; the gate resolves it when a probe asks
    running: list[ConfigCommand] = field(default_factory=list)
    config_error: str = ""  # why ``show configuration commands`` could not be read (verify)

    def guarded(self, planned: Planned, judge: Callable[[], list[CheckResult]]) -> list[CheckResult]:
        """``judge()``, or every ``planned`` check errored with why it could not run."""
        try:
            return judge()
        except EdgekitError as exc:
            reason = str(exc) if self.gate else one_line(exc)
        except Exception as exc:  # verify: a parse error or a broken session fails these checks, not the run
            if self.gate:
                raise
            reason = one_line(exc)
        return [errored(check, self.host, self.cluster.name, reason, subject) for check, subject in planned]

    def running_config(self) -> list[ConfigCommand]:
        if self.config_error:
            raise RuntimeError(f"show configuration commands: {self.config_error}")
        return self.running


@dataclass(frozen=True)
class Probe:
    """One probe of a feature: the checks it yields for a cluster (``planned``: what a router that cannot be read
    errors on) and how it reads and judges them (``judge``). ``gate``: the ids of them the gate waits for."""

    planned: Callable[[Cluster], Planned]
    judge: Callable[[ProbeContext], list[CheckResult]]
    gate: tuple[str, ...] = ()
    per_subject: bool = False  # judged one subject at a time (``judge`` guards each itself)


@dataclass(frozen=True)
class Owned:
    """The config paths a feature owns: everything under ``prefixes``, and what ``predicates`` accept."""

    prefixes: list[ConfigPath] = field(default_factory=list)
    predicates: list[ScopePredicate] = field(default_factory=list)


@dataclass(frozen=True)
class Feature:
    name: str
    template: str | None  # under templates/; None: its lines come from other features' templates
    enabled: Callable[[Cluster], bool]  # whether its template is rendered for the cluster
    owned: Callable[[Cluster, Dialect], Owned]  # what it owns even when not enabled (so its lines get deleted)
    probes: tuple[Probe, ...] = ()


def _router(cluster: Cluster) -> Any:
    router = cluster.router
    assert router is not None
    return router


# --- interfaces -----------------------------------------------------------------------------------------------


def _owned_interfaces(cluster: Cluster, dialect: Dialect) -> Owned:
    node_if = _router(cluster).node_interface
    return Owned([("interfaces", "ethernet", node_if, "address"), ("interfaces", "ethernet", node_if, "description")])


# --- proxy-ARP ------------------------------------------------------------------------------------------------


def _owned_proxyarp(cluster: Cluster, dialect: Dialect) -> Owned:
    router = _router(cluster)
    return Owned(
        [
            ("interfaces", "ethernet", router.node_interface, "ip", "enable-proxy-arp"),
            ("interfaces", "ethernet", router.public_interface, "ip", "enable-proxy-arp"),
        ]
    )


def _judge_proxyarp(ctx: ProbeContext) -> list[CheckResult]:
    running = ctx.running_config()
    ifaces = ctx.read.parsed("show interfaces", interfaces.parse)
    return [proxyarp.check_proxyarp(ctx.host, ctx.cluster, running, ifaces)]


PROXYARP = Probe(lambda c: [(proxyarp.ENABLED, None)], _judge_proxyarp)


# --- BGP ------------------------------------------------------------------------------------------------------


def _owned_bgp(cluster: Cluster, dialect: Dialect) -> Owned:
    return Owned([("protocols", "bgp"), ("system", "ip", "multipath", "layer4-hashing")])


def _judge_sessions(ctx: ProbeContext) -> list[CheckResult]:
    summary = ctx.read.parsed("show ip bgp summary", bgp_summary.parse)
    return [
        bgp.check_peers(ctx.host, ctx.cluster, summary, ctx.down),
        bgp.check_unexpected(ctx.host, ctx.cluster, summary, ctx.down),
    ]


def _route_subjects(cluster: Cluster) -> list[tuple[Any, Any, str]]:
    return [(s, ip, f"{s.namespace}/{s.name} {ip}") for s in cluster.services for ip in s.ips]


def _judge_routes(ctx: ProbeContext) -> list[CheckResult]:
    out: list[CheckResult] = []
    for service, ip, subject in _route_subjects(ctx.cluster):

        def judge(service: Any = service, ip: Any = ip) -> list[CheckResult]:
            entry = ecmp.selected_route(ctx.read.parsed(f"show ip route {ip}", route.parse))
            return [ecmp.check_route(ctx.host, ctx.cluster, service, str(ip), entry, ctx.down)]

        out.extend(ctx.guarded([(ecmp.ROUTES, subject)], judge))
    return out


def _judge_metallb_consistency(ctx: ProbeContext) -> list[CheckResult]:
    if ctx.kube is None:
        return [errored(consistency.METALLB, ctx.host, ctx.cluster.name, f"{ctx.kube_missing}: cannot compare")]
    running_bgp = consistency.running_bgp(ctx.running_config())
    return [consistency.check_metallb(ctx.host, ctx.cluster, ctx.kube.peers, ctx.kube.pools, running_bgp)]


SESSIONS = Probe(lambda c: [(bgp.PEERS, None), (bgp.UNEXPECTED, None)], _judge_sessions, gate=(bgp.PEERS,))
ROUTES = Probe(
    lambda c: [(ecmp.ROUTES, subject) for _, _, subject in _route_subjects(c)],
    _judge_routes,
    gate=(ecmp.ROUTES,),
    per_subject=True,
)
METALLB_CONSISTENCY = Probe(lambda c: [(consistency.METALLB, None)], _judge_metallb_consistency)


# --- BFD ------------------------------------------------------------------------------------------------------


def _judge_bfd(ctx: ProbeContext) -> list[CheckResult]:
    cluster = ctx.cluster
    if ctx.gate and not cluster.router_bfd:  # not yet on MetalLB's end: not rendered on the router either
        return []
    if cluster.bfd_mismatch:
        return [failed(bfd.PEERS, ctx.host, cluster.name, cluster.bfd_mismatch)]
    if ctx.dialect is None:
        if not ctx.gate:
            raise RuntimeError(f"the VyOS version is unknown, so is its BFD command ({ctx.config_error})")
        ctx.dialect = resolve(_router(cluster).dialect, ctx.read)
    peers = ctx.read.parsed(ctx.dialect.bfd_peers_command, bfd_peers.parse)
    return [bfd.check_peers(ctx.host, cluster, peers, ctx.down)]


BFD_PEERS = Probe(lambda c: [(bfd.PEERS, None)] if c.bfd.enabled else [], _judge_bfd, gate=(bfd.PEERS,))


# --- WireGuard ------------------------------------------------------------------------------------------------


def _owned_wireguard(cluster: Cluster, dialect: Dialect) -> Owned:
    wg = cluster.wireguard
    return Owned([("interfaces", "wireguard", wg.interface)] if wg is not None else [])


def _judge_handshake(ctx: ProbeContext) -> list[CheckResult]:
    wg = ctx.cluster.wireguard
    assert wg is not None
    found = ctx.read.parsed(f"show interfaces wireguard {wg.interface} summary", wg_parser.parse)
    iface = next((i for i in found if i.name == wg.interface), None)
    return [wireguard.check_handshake(ctx.host, ctx.cluster, iface, ctx.handshake_max_age)]


def _reachable_planned(cluster: Cluster) -> Planned:
    probe = wireguard.probe_address(cluster.wireguard) if cluster.wireguard is not None else None
    return [(wireguard.REACHABLE, str(probe))] if probe is not None else []


def _judge_reachable(ctx: ProbeContext) -> list[CheckResult]:
    assert ctx.cluster.wireguard is not None
    probe = wireguard.probe_address(ctx.cluster.wireguard)
    assert probe is not None
    return [wireguard.check_reachable(ctx.host, ctx.cluster, probe, ctx.read(wireguard.ping_command(probe)))]


HANDSHAKE = Probe(
    lambda c: [(wireguard.HANDSHAKE, c.wireguard.interface)] if c.wireguard is not None else [], _judge_handshake
)
REACHABLE = Probe(_reachable_planned, _judge_reachable)


# --- firewall -------------------------------------------------------------------------------------------------


def _owned_firewall(cluster: Cluster, dialect: Dialect) -> Owned:
    """edgekit's group and rule, and on 1.3 its ruleset and where it is attached (only that attachment: another
    ruleset on an interface is the operator's)."""
    router = _router(cluster)
    fw = router.venue_firewall  # where the rule goes (inventory.model.VenueFirewall): only that rule is owned
    prefixes: list[ConfigPath] = [("firewall", "group", "network-group", VENUE_GROUP)]
    if dialect.firewall_base_chains:
        prefixes.append(tuple(dialect.firewall_rule(fw.rule).split()))
    else:
        prefixes.append(("firewall", "name", VENUE_RULESET))
        if fw.ruleset not in (None, VENUE_RULESET):  # merged into the router's own ruleset: only edgekit's rule
            prefixes.append(tuple(dialect.firewall_rule(fw.rule, fw.ruleset).split()))
    names = {VENUE_RULESET, fw.ruleset or VENUE_RULESET}
    attachments = {
        ("interfaces", "ethernet", i, "firewall", "in", "name", name)
        for i in (router.node_interface, router.public_interface)
        for name in names
    }

    def owned_firewall_attachment(path: ConfigPath) -> bool:
        return path in attachments

    return Owned(prefixes, [owned_firewall_attachment])


# --- static routes --------------------------------------------------------------------------------------------


def _owned_static_routes(cluster: Cluster, dialect: Dialect) -> Owned:
    """Recognised by shape: blackholes (the MetalLB ranges) and routes through the node-side or tunnel interface
    (node host routes, venue networks), so a route whose node or network left the model is deleted while the
    default route stays."""
    route_interfaces = {_router(cluster).node_interface}
    if cluster.wireguard is not None:
        route_interfaces.add(cluster.wireguard.interface)

    def owned_static_route(path: ConfigPath) -> bool:
        if path[:3] == ("protocols", "static", "route") and len(path) >= 5:
            if path[4] == "blackhole":
                return True
            return len(path) >= 6 and path[4] == "interface" and path[5] in route_interfaces
        if path[:3] == ("protocols", "static", "interface-route") and len(path) >= 6:
            return path[4] == "next-hop-interface" and path[5] in route_interfaces
        return False

    return Owned(predicates=[owned_static_route])


def _always(cluster: Cluster) -> bool:
    return True


# The router's features in render order. BGP and BFD belong to edgekit whole (the router peers only with MetalLB);
# of the interfaces only the leaves the templates write.
FEATURES: tuple[Feature, ...] = (
    Feature("interfaces", "vyos/interfaces.j2", _always, _owned_interfaces),
    Feature("proxy-ARP", "vyos/proxyarp.j2", _always, _owned_proxyarp, (PROXYARP,)),
    Feature("BGP", "vyos/bgp.j2", _always, _owned_bgp, (SESSIONS, ROUTES, METALLB_CONSISTENCY)),
    Feature("BFD", "vyos/bfd.j2", _always, lambda c, d: Owned([("protocols", "bfd")]), (BFD_PEERS,)),
    Feature(
        "WireGuard", "vyos/wireguard.j2", lambda c: c.wireguard is not None, _owned_wireguard, (HANDSHAKE, REACHABLE)
    ),
    Feature("firewall", "vyos/firewall.j2", lambda c: c.wireguard is not None and bool(c.venue_pools), _owned_firewall),
    Feature("static routes", None, _always, _owned_static_routes),
)


def report_order(planned: Planned) -> Planned:
    """``planned`` in ``REPORT_ORDER`` (subjects of one check keep their order)."""
    rank = {check: i for i, check in enumerate(REPORT_ORDER)}
    return sorted(planned, key=lambda item: rank.get(item[0], len(rank)))


def planned_probes(cluster: Cluster) -> Planned:
    """(check id, subject) of every probe of every feature for ``cluster``, in report order."""
    return report_order([p for f in FEATURES for probe in f.probes for p in probe.planned(cluster)])


def run_probes(ctx: ProbeContext) -> list[CheckResult]:
    """Every probe of every feature (``ctx.gate``: the gate's only), each guarded, in report order."""
    out: list[CheckResult] = []
    for feature in FEATURES:
        for probe in feature.probes:
            if ctx.gate and not probe.gate:
                continue
            planned = [p for p in probe.planned(ctx.cluster) if not ctx.gate or p[0] in probe.gate]
            if not planned:  # nothing of it applies to this cluster (no BFD, no tunnel, no service IP)
                continue
            if probe.per_subject:
                results = probe.judge(ctx)
            else:
                results = ctx.guarded(planned, lambda probe=probe: probe.judge(ctx))  # type: ignore[misc]
            out.extend(r for r in results if not ctx.gate or r.check in probe.gate)
    rank = {check: i for i, check in enumerate(REPORT_ORDER)}
    return sorted(out, key=lambda r: rank.get(r.check, len(rank)))
