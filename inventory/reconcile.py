"""Kubernetes reconciliation: which nodes' speakers peer with the router, MetalLB peers, pools and services,
what Kubernetes and tfstate disagree on, and the live facts that refuse a cluster's router."""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv4Network
from typing import Literal

from inventory import kube
from inventory.errors import InputError
from inventory.hosts import HostBuilder, HostFacts, site_path
from inventory.model import Master, MetalLBPeer, Node, Pool, Router, Service, Speaker
from inventory.secrets import MASK
from inventory.speakers import router_addresses, router_peers, speaker_nodes, withheld

POOL_OUTPUTS = ("metallb_address_range", "external_address_range")
DEFAULT_SPEAKER_ASN = 65021


@dataclass
class KubeView:
    """A cluster's speakers, nodes, MetalLB peers, pools and services once Kubernetes (if read) is reconciled
    with tfstate and the site file; ``refused`` lists the live facts its router cannot be configured for."""

    speakers: list[Speaker]
    speakers_source: Literal["kubernetes", "tfstate"]
    nodes: list[Node]
    peers: list[MetalLBPeer]
    pools: list[Pool]
    services: list[Service]
    refused: list[str]
    # Where ``pools`` came from (the precedence of inventory/README.md) and the speakers' ASN.
    pools_source: Literal["kubernetes", "site", "tfstate", "none"] = "none"
    speaker_asn: int = DEFAULT_SPEAKER_ASN
    site_pools: list[Pool] = field(default_factory=list)  # the site file's metallb.pools (the MetalLB intent)
    metallb_namespace: str | None = None  # where Kubernetes runs MetalLB's speakers (None: not read)


def reconcile(
    ctx: HostBuilder,
    facts: kube.KubeFacts | None,
    router: Router | None,
    router_asn: int,
    nodes: list[Node],
    masters: list[Master],
) -> KubeView:
    """Speakers, nodes, peers, pools and services of ``ctx``'s cluster (``facts``: what its API said, None
    when not read: every tfstate node is then a speaker). Warnings, disagreements and missing facts go to ``ctx``."""
    node_hosts = [h for h in ctx.hosts if h.role == "node"]
    speaker_asn = ctx.cf.speaker_asn or DEFAULT_SPEAKER_ASN
    speakers: list[Speaker] = []
    # Where each speaker's address comes from (source, path), for the error that refuses it.
    origins: dict[str, tuple[str, str]] = {}
    peers: list[MetalLBPeer] = []
    pools: list[Pool] = []
    services: list[Service] = []
    speakers_source: Literal["kubernetes", "tfstate"]
    router_ips = router_addresses(router)
    if facts is not None:
        ctx.warnings.extend(f"{ctx.name}: {w}" for w in facts.warnings)
        peers = list(facts.peers)
        pools = list(facts.pools)
        services = list(facts.services)
        my_peers = router_peers(peers, router)
        my_peer = my_peers[0] if my_peers else (peers[0] if peers else None)
        if my_peer is not None:
            speaker_asn = my_peer.my_asn
            if ctx.cf.speaker_asn and ctx.cf.speaker_asn != my_peer.my_asn:
                ctx.disagreements.append(
                    f"MetalLB my-asn {my_peer.my_asn} differs from the site file's speaker_asn {ctx.cf.speaker_asn}"
                )
        for p in peers:
            if router and p.peer_address not in router_ips:
                ctx.disagreements.append(
                    f"MetalLB peer {p.name or '?'} has peer address {p.peer_address}, which is not the router "
                    f"({router.public_address.ip})"
                )
            if p.peer_asn != router_asn and not p.dynamic_asn:
                ctx.disagreements.append(
                    f"MetalLB peer {p.name or '?'} expects router ASN {p.peer_asn}, the site model has {router_asn}"
                )
        if facts.metallb_source is None:
            ctx.warn(f"{ctx.name}: no MetalLB configuration found in Kubernetes")
        by_addr = {n.address: n for n in nodes}
        by_name = {n.name: n for n in nodes}
        matched: set[str] = set()
        # Each worker Kubernetes lists -> its tfstate node (None: not in tfstate); control-plane nodes are left out.
        workers: dict[str, Node | None] = {}
        for kn in facts.nodes:
            tn = by_name.get(kn.name) or (by_addr.get(kn.internal_ip) if kn.internal_ip else None)
            if tn is None:
                if kn.name in {m.name for m in masters} or (kn.internal_ip in {m.address for m in masters}):
                    continue  # a control-plane node
                ctx.disagreements.append(f"node {kn.name} ({kn.internal_ip}) is in Kubernetes but not in tfstate")
                if kn.internal_ip is not None:
                    nodes.append(Node(name=kn.name, address=kn.internal_ip, source="kubernetes"))
            else:
                matched.add(tn.name)
                if kn.internal_ip is not None and kn.internal_ip != tn.address:
                    ctx.disagreements.append(
                        f"node {kn.name}: InternalIP {kn.internal_ip} but tfstate address {tn.address}"
                    )
                idx = nodes.index(tn)
                nodes[idx] = tn.model_copy(update={"source": "tfstate+kubernetes"})
            workers[kn.name] = tn
        # The peers' nodeSelectors leave some speakers out: those never peer here (inventory.speakers).
        for kn in speaker_nodes(facts.nodes, peers, router):
            if kn.name not in workers:
                continue  # a control-plane node
            tn = workers[kn.name]
            address = kn.internal_ip or (tn.address if tn else None)
            if address is None:
                ctx.warn(f"{ctx.name}: node {kn.name} runs a speaker but has no IPv4 InternalIP; skipped")
                continue
            speakers.append(
                Speaker(name=tn.name if tn else kn.name, address=address, asn=speaker_asn, withheld=withheld(kn))
            )
            if kn.internal_ip is not None:
                origins[speakers[-1].name] = (
                    f"kubernetes context {facts.context}",
                    f"nodes/{kn.name}.status.addresses[InternalIP]",
                )
            elif tn is not None:
                origins[speakers[-1].name] = server_origin(ctx, tn.name)
        for n in nodes:
            if n.source == "tfstate" and n.name not in matched:
                ctx.disagreements.append(f"node {n.name} ({n.address}) is in tfstate but not in Kubernetes")
        speakers_source = "kubernetes"
        if not speakers:
            ctx.warn(f"{ctx.name}: no node runs a Ready MetalLB speaker: the router will have no BGP neighbors")
    else:
        speakers = [Speaker(name=n.name, address=n.address, asn=speaker_asn) for n in nodes]
        speakers_source = "tfstate"
    refused: list[str] = []
    if router is not None and facts is not None:
        # Only live speakers: the tfstate fallback is every node Terraform made, whatever its network.
        speakers, refused = reachable_speakers(ctx, router, speakers, origins)

    from_site = site_pools(ctx)
    pools_source: Literal["kubernetes", "site", "tfstate", "none"] = "none"
    for i, pool in enumerate(from_site):
        path = site_path(ctx.sitefile, ctx.name, "metallb.pools") + f"[{i}].addresses"
        conflict = pool_conflict(pool, router, node_hosts, nodes)
        if conflict:
            raise InputError(conflict, source=ctx.site_label, path=path)
    if pools:
        assert facts is not None
        pools_source = "kubernetes"
        # A pool's scope and MetalLB knobs are the site file's, matched by name (Kubernetes has no scope).
        site_by_name = {p.name: p for p in from_site}
        pools = [
            p.model_copy(update={"scope": site_by_name[p.name].scope}) if p.name in site_by_name else p for p in pools
        ]
        for pool in pools:
            conflict = pool_conflict(pool, router, node_hosts, nodes)
            if conflict:
                where = (
                    f"ipaddresspools/{pool.name}.spec.addresses"
                    if facts.metallb_source == "crds"
                    else f"configmap {kube.METALLB_NS}/config address-pools[name={pool.name}].addresses"
                )
                refused.append(str(InputError(conflict, source=f"kubernetes context {facts.context}", path=where)))

        if from_site and {tuple(p.addresses) for p in from_site} != {tuple(p.addresses) for p in pools}:
            ctx.disagreements.append(
                "MetalLB pools in Kubernetes ("
                + ", ".join(str(a) for p in pools for a in p.addresses)
                + ") differ from the site file's ("
                + ", ".join(str(a) for p in from_site for a in p.addresses)
                + ")"
            )
    elif from_site:
        pools = from_site
        pools_source = "site"
    else:
        found = tfstate_pools(ctx, router)
        for pool, source, path, sensitive in found:
            conflict = pool_conflict(pool, router, node_hosts, nodes, masked=sensitive)
            if conflict:
                raise InputError(conflict, source=source, path=path)
        if found:
            pools = [found[0][0].model_copy(update={"addresses": [n for f in found for n in f[0].addresses]})]
            pools_source = "tfstate"
    if not pools:
        ctx.missing["pools"] = "no MetalLB pool: not in Kubernetes, the site file (metallb.pools) or tfstate"

    return KubeView(
        speakers=speakers,
        speakers_source=speakers_source,
        nodes=nodes,
        peers=peers,
        pools=pools,
        services=services,
        refused=refused,
        pools_source=pools_source,
        speaker_asn=speaker_asn,
        site_pools=from_site,
        metallb_namespace=facts.metallb_namespace if facts is not None else None,
    )


def server_origin(ctx: HostBuilder, name: str) -> tuple[str, str]:
    server = ctx.servers.get(name)
    return (ctx.state.source, f"{server.attr_path}.ip_address" if server else "resources")


def reachable_speakers(
    ctx: HostBuilder, router: Router, speakers: list[Speaker], origins: dict[str, tuple[str, str]]
) -> tuple[list[Speaker], list[str]]:
    """The speakers inside a subnet the router has an address in, and one refusal line per other one.

    A speaker elsewhere could never peer with the router (there is no route to it but the /32 edgekit
    would invent), so its cluster's router is refused rather than configured with a dead neighbor.
    """
    reachable = [
        (router.public_address.network, router.public_interface),
        (router.node_address.network, router.node_interface),
    ]
    nets = ", ".join(f"{net} on {iface}" for net, iface in reachable)
    kept: list[Speaker] = []
    refused: list[str] = []
    for speaker in speakers:
        if any(speaker.address in net for net, _ in reachable):
            kept.append(speaker)
            continue
        source, path = origins.get(speaker.name, (f"cluster {ctx.name}", f"speakers.{speaker.name}"))
        reason = (
            f"speaker {speaker.name} at {speaker.address} is outside every subnet router {router.name} reaches "
            f"({nets}); cluster {ctx.name}'s router is refused"
        )
        refused.append(str(InputError(reason, source=source, path=path)))
    return kept, refused


def pool_conflict(
    pool: Pool, router: Router | None, node_hosts: list[HostFacts], nodes: list[Node], masked: bool = False
) -> str:
    """Why a MetalLB pool cannot be blackholed on the router ("" when it can): it overlaps the nodes'
    subnet or the router's node-side subnet, so its blackhole route would take the nodes' own addresses.
    ``masked``: the range comes from a sensitive output and is not quoted."""
    subnets: dict[IPv4Network, str] = {}
    if router is not None:
        subnets[router.node_address.network] = f"the router's node-side subnet ({router.node_interface})"
    for h in node_hosts:
        subnets.setdefault(h.addresses[0].network, f"the nodes' subnet (node {h.name} is {h.addresses[0]})")
    for net in pool.addresses:
        shown = MASK if masked else str(net)
        for subnet, what in subnets.items():
            if net.overlaps(subnet):
                return (
                    f"MetalLB pool {pool.name} range {shown} overlaps {subnet}, {what}: its blackhole route "
                    "would swallow the nodes' own addresses"
                )
        for node in nodes:
            if node.address in net:
                return (
                    f"MetalLB pool {pool.name} range {shown} contains node {node.name}'s address {node.address}: "
                    "its blackhole route would swallow it"
                )
    return ""


def site_pools(ctx: HostBuilder) -> list[Pool]:
    if not ctx.cf.metallb or not ctx.cf.metallb.pools:
        return []
    out: list[Pool] = []
    for i, p in enumerate(ctx.cf.metallb.pools):
        try:
            nets = kube._networks(p.addresses, "addresses")
        except InputError:
            raise InputError(
                "addresses must be CIDRs or a-b ranges",
                source=ctx.site_label,
                path=site_path(ctx.sitefile, ctx.name, "metallb.pools") + f"[{i}].addresses",
            ) from None
        names = [q.name for q in ctx.cf.metallb.pools[:i]]
        if p.name in names:
            raise InputError(
                f"pool name {p.name!r} is used twice (also metallb.pools[{names.index(p.name)}])",
                source=ctx.site_label,
                path=site_path(ctx.sitefile, ctx.name, "metallb.pools") + f"[{i}].name",
            )
        for j, q in enumerate(out):
            # MetalLB refuses overlapping pools: metallb/metallb v0.14.9 internal/config/config.go poolsFor:
            # "CIDR %q in pool %q overlaps with already defined CIDR %q" (the IPAddressPool webhook runs it).
            clash = next(((a, b) for a in nets for b in q.addresses if a.overlaps(b)), None)
            if clash is not None:
                raise InputError(
                    f"pool {p.name} ({clash[0]}) overlaps pool {q.name} ({clash[1]}, metallb.pools[{j}]): MetalLB "
                    "refuses overlapping pools",
                    source=ctx.site_label,
                    path=site_path(ctx.sitefile, ctx.name, "metallb.pools") + f"[{i}].addresses",
                )
        venue = p.scope == "venue"
        out.append(
            Pool(
                name=p.name,
                addresses=nets,
                scope=p.scope,
                # A venue pool is handed out only to a Service that asks for it (annotation or loadBalancerIP).
                auto_assign=p.auto_assign if p.auto_assign is not None else not venue,
                avoid_buggy_ips=bool(p.avoid_buggy_ips),
            )
        )
    return out


def tfstate_pools(ctx: HostBuilder, router: Router | None) -> list[tuple[Pool, str, str, bool]]:
    """Pools from Terraform outputs, else routed subnets, each with its source, JSON path and sensitivity."""
    for name in POOL_OUTPUTS:
        output = ctx.state.output(name)
        if output is None:
            continue
        values = output.plain()
        values = values if isinstance(values, list) else [values]
        try:
            nets = kube._networks(values, name)
        except InputError:
            raise InputError("not a CIDR or a-b range", source=ctx.state.source, path=output.path) from None
        return [(Pool(name=name, addresses=nets), ctx.state.source, output.path, output.sensitive)]
    subnets = [s for s in ctx.state.subnets if router is None or s.next_hop in (None, router.public_address.ip)]
    # One routed pool; each subnet is checked on its own so an error names its resource.
    return [(Pool(name="routed", addresses=[s.network]), ctx.state.source, s.path or s.address, False) for s in subnets]
