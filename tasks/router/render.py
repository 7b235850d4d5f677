"""Render a router's managed configuration (set lines) from the site model.

The Jinja2 templates under ``templates/vyos/`` hold the text, one per feature; this module computes
what they need (the dialect, resolved secrets, derived values) and renders them, either directly or
as a Nornir task through nornir-jinja2's ``template_file``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from nornir.core.task import Result, Task
from nornir_jinja2.plugins.tasks import template_file

from checks.config_diff import ConfigPath, ManagedScope
from inventory.errors import MissingFact
from inventory.model import Cluster, Router
from inventory.secrets import K8sSecretReader
from tasks.router.dialect import VENUE_GROUP, VENUE_RULE, VENUE_RULESET, Dialect
from templates import JINJA_ENV, TEMPLATES

ROUTER_TEMPLATE = "vyos/router.j2"
MIN_MAXIMUM_PATHS = 8


@dataclass
class RenderedConfig:
    """Set lines for the managed subtrees, and the secret values in them (to mask in any output)."""

    lines: list[str]
    secrets: list[str] = field(default_factory=list)


class RenderCache:
    """One render per router and VyOS version in a run: the input check before any device is touched, the
    plan and comply all take the intent from here (secrets are resolved once, Kubernetes read once)."""

    def __init__(self) -> None:
        self._rendered: dict[tuple[str, str], RenderedConfig] = {}
        self._lock = threading.Lock()

    def get(self, cluster: Cluster, dialect: Dialect, k8s_reader: K8sSecretReader | None = None) -> RenderedConfig:
        """The intent of ``cluster``'s router for ``dialect``, rendered on first use."""
        key = (cluster.name, dialect.version)
        with self._lock:
            found = self._rendered.get(key)
        if found is None:  # one thread per router: no two renders of one key at once
            found = render_router_config(cluster, dialect, k8s_reader)
            with self._lock:
                self._rendered[key] = found
        return found

    def __len__(self) -> int:
        return len(self._rendered)


def require_router(cluster: Cluster) -> Router:
    if cluster.router is None:
        raise MissingFact(f"cluster {cluster.name} has no router", path=f"clusters.{cluster.name}.router")
    return cluster.router


def template_context(
    cluster: Cluster, dialect: Dialect, k8s_reader: K8sSecretReader | None = None
) -> tuple[dict[str, Any], list[str]]:
    """The variables the router templates read, and the secret values among them."""
    router = require_router(cluster)
    cluster.raise_refused()  # a live fact the router cannot be configured for: nothing is rendered
    for name, reason in cluster.missing.items():
        if name.startswith(("router", "speakers", "pools")):
            raise MissingFact(reason, path=f"clusters.{cluster.name}.{name}")
    if cluster.venue_pools and cluster.wireguard is None:
        # Without the tunnel there is no firewall rule either: the venue pools would answer the internet.
        names = ", ".join(p.name for p in cluster.venue_pools)
        cluster.require("wireguard")
        raise MissingFact(
            f"venue-scoped pools ({names}) need the WireGuard tunnel", path=f"clusters.{cluster.name}.wireguard"
        )
    secrets: list[str] = []
    bgp_password = None
    if router.bgp.password is not None:
        bgp_password = router.bgp.password.resolve(k8s_reader, field=f"clusters.{cluster.name}.router.bgp.password")
        secrets.append(bgp_password.get_secret_value())
    wg_private_key = None
    if cluster.wireguard is not None and not dialect.wireguard_named_keys:
        wg_private_key = cluster.wireguard.private_key.resolve(
            k8s_reader, field=f"clusters.{cluster.name}.wireguard.private_key"
        )
        secrets.append(wg_private_key.get_secret_value())
    context = {
        "cluster": cluster,
        "router": router,
        "d": dialect,
        "router_id": router.bgp.router_id or router.public_address.ip,
        "maximum_paths": max(MIN_MAXIMUM_PATHS, len(cluster.speakers)),
        # Identical AS paths are enough for multipath; only mixed speaker ASNs need the relax knob.
        "multipath_relax": len(cluster.speaker_asns) > 1,
        "bgp_password": bgp_password.get_secret_value() if bgp_password else None,
        "wg_private_key": wg_private_key.get_secret_value() if wg_private_key else None,
        "venue_group": VENUE_GROUP,
        "venue_ruleset": VENUE_RULESET,
        "venue_rule": VENUE_RULE,
    }
    return context, secrets


def split_lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def render_router_config(
    cluster: Cluster, dialect: Dialect, k8s_reader: K8sSecretReader | None = None
) -> RenderedConfig:
    context, secrets = template_context(cluster, dialect, k8s_reader)
    text = JINJA_ENV.get_template(ROUTER_TEMPLATE).render(host=None, **context)
    return RenderedConfig(split_lines(text), secrets)


def render_router_task(
    task: Task, cluster: Cluster, dialect: Dialect, k8s_reader: K8sSecretReader | None = None
) -> Result:
    """Nornir task: the router's intended managed config as a RenderedConfig."""
    context, secrets = template_context(cluster, dialect, k8s_reader)
    text = task.run(
        task=template_file,
        template=ROUTER_TEMPLATE,
        path=str(TEMPLATES),
        jinja_env=JINJA_ENV,
        severity_level=10,
        **context,
    ).result
    return Result(host=task.host, result=RenderedConfig(split_lines(text), secrets))


def managed_scope(cluster: Cluster, dialect: Dialect) -> ManagedScope:
    """The parts of a router's config edgekit owns; everything else is left alone.

    BGP and BFD belong to edgekit whole (the router peers only with MetalLB). Of the interfaces only the
    leaves the templates write. Static routes are recognised by shape: blackholes (the MetalLB ranges)
    and routes through the node-side or tunnel interface (node host routes, venue networks), so a
    route whose node or network left the model is deleted while the default route stays.
    """
    router = require_router(cluster)
    node_if, public_if = router.node_interface, router.public_interface
    prefixes: list[ConfigPath] = [
        ("protocols", "bgp"),
        ("protocols", "bfd"),  # like BGP, edgekit's whole: its peers are the speakers (templates/vyos/bfd.j2)
        ("system", "ip", "multipath", "layer4-hashing"),
        ("interfaces", "ethernet", node_if, "address"),
        ("interfaces", "ethernet", node_if, "description"),
        ("interfaces", "ethernet", node_if, "ip", "enable-proxy-arp"),
        ("interfaces", "ethernet", public_if, "ip", "enable-proxy-arp"),
    ]
    # The venue firewall (firewall.j2): edgekit's group and rule, and on 1.3 its ruleset and where it is attached
    # (only that attachment: another ruleset on an interface is the operator's).
    prefixes.append(("firewall", "group", "network-group", VENUE_GROUP))
    if dialect.firewall_base_chains:
        prefixes.append(tuple(dialect.firewall_rule(VENUE_RULE).split()))
    else:
        prefixes.append(("firewall", "name", VENUE_RULESET))
    attachments = {("interfaces", "ethernet", i, "firewall", "in", "name", VENUE_RULESET) for i in (node_if, public_if)}
    route_interfaces = {node_if}
    if cluster.wireguard is not None:
        prefixes.append(("interfaces", "wireguard", cluster.wireguard.interface))
        route_interfaces.add(cluster.wireguard.interface)

    def owned_firewall_attachment(path: ConfigPath) -> bool:
        return path in attachments

    def owned_static_route(path: ConfigPath) -> bool:
        if path[:3] == ("protocols", "static", "route") and len(path) >= 5:
            if path[4] == "blackhole":
                return True
            return len(path) >= 6 and path[4] == "interface" and path[5] in route_interfaces
        if path[:3] == ("protocols", "static", "interface-route") and len(path) >= 6:
            return path[4] == "next-hop-interface" and path[5] in route_interfaces
        return False

    return ManagedScope(prefixes, [owned_static_route, owned_firewall_attachment])
