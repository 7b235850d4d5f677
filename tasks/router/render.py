"""Render a router's managed configuration (set lines) from the site model.

The Jinja2 templates under ``templates/vyos/`` hold the text, one per feature (the rows of
``tasks.router.features``); this module computes what they need (the dialect, resolved secrets, derived values)
and renders them, either directly or as a Nornir task through nornir-jinja2's ``template_file``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from nornir.core.task import Result, Task
from nornir_jinja2.plugins.tasks import template_file

from checks.config_diff import ManagedScope
from inventory.errors import MissingFact
from inventory.model import Cluster, Router
from inventory.secrets import K8sSecretReader
from tasks.router.dialect import VENUE_GROUP, VENUE_RULESET, Dialect
from tasks.router.features import FEATURES
from tasks.router.values import check_router_values, quote
from templates import JINJA_ENV, TEMPLATES

MIN_MAXIMUM_PATHS = 8
# `{{ value|vq }}`: every value the router templates type into vbash, single-quoted (tasks/router/values.py)
JINJA_ENV.filters["vq"] = quote


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
    # Every value as this release takes it through vbash, before anything is rendered or any device touched.
    check_router_values(
        cluster,
        dialect,
        bgp_password.get_secret_value() if bgp_password else None,
        wg_private_key.get_secret_value() if wg_private_key else None,
    )
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
        # the venue rule's place (router.venue_firewall): edgekit's own 1.3 ruleset unless merged into the router's
        "venue_ruleset": router.venue_firewall.ruleset or VENUE_RULESET,
        "venue_own_ruleset": router.venue_firewall.ruleset in (None, VENUE_RULESET),
        "venue_rule": router.venue_firewall.rule,
    }
    return context, secrets


def split_lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def render_router_config(
    cluster: Cluster, dialect: Dialect, k8s_reader: K8sSecretReader | None = None
) -> RenderedConfig:
    """The router's intended managed config: the template of every enabled feature (``tasks.router.features``)."""
    context, secrets = template_context(cluster, dialect, k8s_reader)
    texts = [JINJA_ENV.get_template(template).render(host=None, **context) for template in feature_templates(cluster)]
    return RenderedConfig(split_lines("\n".join(texts)), secrets)


def feature_templates(cluster: Cluster) -> list[str]:
    """The templates of the features enabled for ``cluster``, in render order."""
    return [f.template for f in FEATURES if f.template is not None and f.enabled(cluster)]


def render_router_task(
    task: Task, cluster: Cluster, dialect: Dialect, k8s_reader: K8sSecretReader | None = None
) -> Result:
    """Nornir task: the router's intended managed config as a RenderedConfig (one ``template_file`` subtask per
    enabled feature)."""
    context, secrets = template_context(cluster, dialect, k8s_reader)
    texts = [
        task.run(
            task=template_file,
            template=template,
            path=str(TEMPLATES),
            jinja_env=JINJA_ENV,
            severity_level=10,
            **context,
        ).result
        for template in feature_templates(cluster)
    ]
    return Result(host=task.host, result=RenderedConfig(split_lines("\n".join(texts)), secrets))


def managed_scope(cluster: Cluster, dialect: Dialect) -> ManagedScope:
    """The parts of a router's config edgekit owns (what each feature of ``tasks.router.features`` owns, also
    when it is not enabled, so its lines are deleted); everything else is left alone."""
    require_router(cluster)
    owned = [f.owned(cluster, dialect) for f in FEATURES]
    return ManagedScope([p for o in owned for p in o.prefixes], [q for o in owned for q in o.predicates])
