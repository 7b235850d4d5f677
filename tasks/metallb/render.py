"""Render MetalLB's configuration for one cluster from the site model (``Cluster.metallb``).

Two forms, as MetalLB documents them (templates/metallb/): ``crds`` — metallb.io IPAddressPool and
BGPAdvertisement (v1beta1) per pool and a BGPPeer (v1beta2) for the router, plus, when the router's BGP
password is not already a Secret MetalLB can read, a ``kubernetes.io/basic-auth`` Secret the BGPPeer's
``passwordSecret`` names; ``configmap`` — the legacy ConfigMap ``metallb-system/config`` (peers,
address-pools). The result is a list of Kubernetes objects (dicts) and the secret values in them, to mask.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import yaml
from nornir.core.task import Result, Task

from checks.config_diff import MASK
from inventory.errors import InputError, MissingFact
from inventory.model import DEFAULT_PEER_NAME, Cluster, MetalLBIntent, NodeSelector
from inventory.nornir_plugin import EdgekitHost
from inventory.secrets import K8sSecretReader
from tasks.router.plan import router_cluster
from templates import JINJA_ENV

if TYPE_CHECKING:
    from tasks.metallb.kube import ClusterAPI

NAMESPACE = "metallb-system"
FIELD_MANAGER = "edgekit"
MANAGED_BY = {"app.kubernetes.io/managed-by": "edgekit"}
PASSWORD_SECRET = "edgekit-bgp-password"  # the Secret edgekit writes when the password lives elsewhere
Form = Literal["crds", "configmap"]
# MetalLB's BGP implementation (the speaker's METALLB_BGP_TYPE: tasks.metallb.kube.speaker_mode_of).
SpeakerMode = Literal["frr", "frr-k8s", "native"]
# metadata.name of the metallb.io objects: a DNS-1123 subdomain (lower case, digits, '-', '.').
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")


@dataclass
class RenderedMetalLB:
    """The objects edgekit applies to one cluster (in apply order) and the secrets among their values."""

    cluster: str
    form: Form
    objects: list[dict[str, Any]]
    secrets: list[str] = field(default_factory=list)
    peer_name_explicit: bool = False  # the site file names the BGPPeer (else an existing one may be taken over)
    mode: SpeakerMode | None = None  # the speakers' BGP implementation when known (native: no BFD, no keepalive)
    notes: list[str] = field(default_factory=list)  # what the render left out and why (one line each)

    def keys(self) -> list[tuple[str, str, str]]:
        return [object_key(o) for o in self.objects]


def object_key(obj: dict[str, Any]) -> tuple[str, str, str]:
    """(apiVersion kind, namespace, name): how an object is named in plans and reports."""
    meta = obj.get("metadata") or {}
    return (f"{obj.get('apiVersion')} {obj.get('kind')}", str(meta.get("namespace", "")), str(meta.get("name", "")))


def require_metallb(cluster: Cluster) -> MetalLBIntent:
    cluster.raise_refused()
    cluster.require("router", "pools")
    if cluster.metallb is None:
        raise MissingFact(f"cluster {cluster.name} has no MetalLB intent", path=f"clusters.{cluster.name}.metallb")
    return cluster.metallb


def _selectors(selectors: list[NodeSelector], legacy: bool) -> list[dict[str, Any]]:
    out = []
    for sel in selectors:
        item: dict[str, Any] = {}
        if sel.match_labels:
            item["match-labels" if legacy else "matchLabels"] = dict(sel.match_labels)
        if sel.match_expressions:
            item["match-expressions" if legacy else "matchExpressions"] = [
                {"key": e.key, "operator": e.operator, **({"values": list(e.values)} if e.values else {})}
                for e in sel.match_expressions
            ]
        out.append(item)
    return out


def render_metallb(
    cluster: Cluster,
    form: Form,
    k8s_reader: K8sSecretReader | None = None,
    site_label: str = "site file",
    mode: SpeakerMode | None = None,
) -> RenderedMetalLB:
    """The MetalLB objects of ``cluster`` in ``form`` (``crds`` or ``configmap``); secrets resolved here.

    ``mode`` the speakers' BGP implementation (``ClusterAPI.speaker_mode``): ``native`` admits no BFDProfile, no
    peer ``bfdProfile`` and no ``keepaliveTime`` (metallb/metallb v0.13.12 and v0.14.9 internal/config/
    validation.go DiscardFRROnly: "peer %s has bfd-profile set on native bgp mode", "bfd profiles section set"),
    so they are left out and ``notes`` says why."""
    m = require_metallb(cluster)
    base = f"clusters.{cluster.name}.metallb"
    namespace = m.namespace
    if form == "crds":
        for i, pool in enumerate(m.pools):
            if not _NAME.match(pool.name) or len(pool.name) > 253:
                raise InputError(
                    f"pool name {pool.name!r} is not a Kubernetes object name (lower case letters, digits, '-', '.')",
                    source=site_label if m.pools_source == "site" else f"{m.pools_source} pools",
                    path=f"{base}.pools[{i}].name",
                )
        if m.peer_name is not None and not _NAME.match(m.peer_name):
            raise InputError(f"{m.peer_name!r} is not a Kubernetes object name", path=f"{base}.peer_name")
    if m.ebgp_multihop and m.my_asn == m.peer_asn:
        # metallb/metallb v0.14.9 internal/config/config.go peerFromCR: "invalid ebgp-multihop parameter set for an
        # ibgp peer" (v0.13.12 the same): MetalLB refuses the peer.
        raise InputError(
            f"cluster {cluster.name}: iBGP (speaker ASN {m.my_asn} = router ASN) with ebgpMultiHop (BFD in the "
            "proxy-ARP layout): MetalLB refuses it; give the speakers their own ASN (speaker_asn) or turn BFD off",
            source=site_label,
            path=f"clusters.{cluster.name}.speaker_asn",
        )
    notes: list[str] = []
    bfd = m.bfd
    keepalive = m.keepalive_time != m.hold_time // 3
    if mode == "native":
        if bfd is not None:
            notes.append(
                "MetalLB runs native BGP mode (no FRR): no BFDProfile and no bfdProfile on the BGPPeer "
                "(native mode refuses them); the router keeps BFD for other peers only if configured"
            )
            bfd = None
        if keepalive:
            notes.append(
                f"MetalLB runs native BGP mode: no keepaliveTime on the BGPPeer (native mode refuses it; "
                f"the speakers send keepalives every holdTime/3 = {m.hold_time // 3}s)"
            )
            keepalive = False
    secrets: list[str] = []
    password: str | None = None
    password_secret: str | None = None
    secret_data: dict[str, str] | None = None
    if m.password is not None:
        ref = m.password
        parts = ref.k8s.split("/") if ref.k8s else []
        if form == "crds" and parts and parts[0] == namespace and parts[2] == "password":
            password_secret = parts[1]  # MetalLB reads it as it is (basic-auth, key "password", its namespace)
        else:
            value = ref.resolve(k8s_reader, field=f"clusters.{cluster.name}.router.bgp.password").get_secret_value()
            password = value
            encoded = base64.b64encode(value.encode()).decode()
            secrets.extend([value, encoded])
            if form == "crds":
                password_secret = PASSWORD_SECRET
                secret_data = {"password": encoded}
    peer_name = m.peer_name or DEFAULT_PEER_NAME
    context = {
        "m": m,
        "bfd": bfd,
        "keepalive": keepalive,
        "peer_name": peer_name,
        "namespace": namespace,
        "labels": MANAGED_BY,
        "selectors": _selectors(m.node_selectors, legacy=form == "configmap"),
        "password": password,
        "password_secret": password_secret,
        "secret_data": secret_data,
    }
    template = "metallb/crds.yaml.j2" if form == "crds" else "metallb/configmap.yaml.j2"
    text = JINJA_ENV.get_template(template).render(**context)
    objects = sorted((o for o in yaml.safe_load_all(text) if o), key=apply_rank)
    return RenderedMetalLB(
        cluster=cluster.name,
        form=form,
        objects=objects,
        secrets=secrets,
        peer_name_explicit=m.peer_name is not None,
        mode=mode,
        notes=notes,
    )


# The order objects are applied in: what another object names first (the BGPPeer names its Secret and BFDProfile,
# a BGPAdvertisement its pools; MetalLB's controller refuses a config whose references do not resolve).
APPLY_ORDER = ("Secret", "BFDProfile", "IPAddressPool", "BGPAdvertisement", "BGPPeer", "ConfigMap")


def apply_rank(obj: dict[str, Any]) -> int:
    kind = str(obj.get("kind"))
    return APPLY_ORDER.index(kind) if kind in APPLY_ORDER else len(APPLY_ORDER)


def config_text(rendered: RenderedMetalLB) -> str:
    """The legacy ConfigMap's ``config`` key (configmap form)."""
    for obj in rendered.objects:
        if obj.get("kind") == "ConfigMap":
            return str((obj.get("data") or {}).get("config", ""))
    return ""


def resolve_form(cluster: Cluster, api: ClusterAPI | None, form: Form | None = None) -> Form:
    """The form to render: ``form`` if given, else the site's ``metallb.form``; ``auto`` asks the cluster."""
    if form is not None:
        return form
    wanted = cluster.metallb.form if cluster.metallb is not None else "auto"
    if wanted == "configmap" and api is not None and api.served_form() == "crds":
        # MetalLB >= 0.13 reads only its CRs (the CRDs are served): a ConfigMap would be ignored.
        raise InputError(
            f"cluster {cluster.name}: metallb.form is configmap but the cluster serves MetalLB's CRDs (MetalLB "
            ">= 0.13 ignores the ConfigMap): use form crds or auto",
            path=f"clusters.{cluster.name}.metallb.form",
        )
    if wanted != "auto":
        return wanted
    if api is None:
        raise InputError(
            f"cluster {cluster.name}: metallb.form is auto and no kubeconfig to ask the cluster: give --form or a "
            "kubeconfig",
            path=f"clusters.{cluster.name}.metallb.form",
        )
    return api.served_form()


class _BlockDumper(yaml.SafeDumper):
    """Multi-line strings (the legacy ConfigMap's config) as YAML literal blocks, as a person writes them."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_BlockDumper.add_representer(str, _str)


def masked_yaml(rendered: RenderedMetalLB) -> str:
    """The objects as a multi-document YAML stream (``kubectl apply -f`` reads it), secrets masked."""
    text = yaml.dump_all(rendered.objects, Dumper=_BlockDumper, sort_keys=False, default_flow_style=False)
    for secret in rendered.secrets:
        if secret:
            text = text.replace(secret, MASK)
    return text


def metallb_render(
    task: Task, api: ClusterAPI | None = None, form: Form | None = None, k8s_reader: K8sSecretReader | None = None
) -> Result:
    """The cluster's MetalLB objects (``result``: RenderedMetalLB, secrets listed in ``.secrets`` to mask)."""
    cluster = router_cluster(task.host)
    reader = k8s_reader or (task.host.secret_reader if isinstance(task.host, EdgekitHost) else None)
    mode = api.speaker_mode() if api is not None else None
    rendered = render_metallb(cluster, resolve_form(cluster, api, form), reader, mode=mode)
    return Result(host=task.host, result=rendered)
