"""Kubernetes discovery: the live speaker set, MetalLB's configuration and LoadBalancer services.

Read with the official ``kubernetes`` client from one kubeconfig context per cluster:

- nodes and their ``InternalIP``;
- MetalLB speaker pods, by the manifest labels ``app=metallb,component=speaker`` and the Helm label
  ``app.kubernetes.io/component=speaker`` (all namespaces), and which nodes run a Ready one;
- MetalLB configuration in both forms: the legacy ConfigMap ``metallb-system/config`` (key ``config``)
  and the CRDs (``bgppeers`` v1beta2, falling back to v1beta1; ``ipaddresspools`` and
  ``bgpadvertisements`` v1beta1). An API that does not serve the CRDs (404) simply has none;
- LoadBalancer Services with their ``status.loadBalancer.ingress`` IPs and ``externalTrafficPolicy``,
  and, from EndpointSlices (``discovery.k8s.io/v1``), the nodes holding a ready endpoint of each;
- Secrets, for ``SecretRef(k8s="namespace/name/key")`` (``secret_reader``).

Connection failures, timeouts and 401/403 raise ``SourceUnreachable``; a bad kubeconfig is ``InputError``.
"""

from __future__ import annotations

import base64
import re
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Network, summarize_address_range
from typing import Any

import yaml

from inventory.errors import InputError, SourceUnreachable
from inventory.lazy_import import lazy_packages
from inventory.model import MetalLBPeer, NodeSelector, Pool, SelectorRequirement, Service
from inventory.secrets import K8sSecretReader

METALLB_NS = "metallb-system"
SPEAKER_SELECTORS = ("app=metallb,component=speaker", "app.kubernetes.io/component=speaker")
TIMEOUT = (3.0, 10.0)  # connect, read

# The client's kubeconfig loader is not thread-safe: ``kube_config._create_temp_file_with_content`` caches a
# temp file's name per content before it writes the content, so a second thread loading a context with the
# same CA can be handed an empty CA file (SSLError NO_CERTIFICATE_OR_CRL_FOUND). Client configurations are
# therefore built one at a time (milliseconds each); only the API calls run in parallel.
_LOAD_LOCK = threading.Lock()


@dataclass
class KubeNode:
    name: str
    internal_ip: IPv4Address | None
    ready: bool
    speaker_ready: bool = False
    speaker_pod: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    network_unavailable: bool = False  # condition NetworkUnavailable True
    unschedulable: bool = False  # spec.unschedulable (kubectl cordon)
    speaker_version: str = ""  # the speaker pod's image tag (v0.13.12), "" when unknown
    ignore_exclude_lb: bool = False  # the speaker runs with --ignore-exclude-lb


@dataclass
class KubeFacts:
    """What one cluster's API says."""

    context: str
    server: str
    nodes: list[KubeNode] = field(default_factory=list)
    metallb_source: str | None = None  # "configmap" | "crds" | None (no MetalLB config found)
    metallb_namespace: str = METALLB_NS  # where the speaker pods run (Helm installs anywhere), else metallb-system
    crds_served: bool = False  # the API serves metallb.io IPAddressPools (MetalLB >= 0.13: the CRs are its config)
    peers: list[MetalLBPeer] = field(default_factory=list)
    pools: list[Pool] = field(default_factory=list)
    services: list[Service] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def speaker_nodes(self) -> list[KubeNode]:
        return [n for n in self.nodes if n.speaker_ready]


def list_contexts(kubeconfig: str) -> tuple[list[str], str | None]:
    """Context names in a kubeconfig and its current context."""
    _lazy_client()
    from kubernetes import config

    try:
        contexts, current = config.list_kube_config_contexts(config_file=kubeconfig)
    except config.ConfigException as exc:
        raise InputError(f"not a usable kubeconfig: {exc}", source=kubeconfig) from None
    except OSError as exc:
        raise InputError(f"cannot read kubeconfig: {exc.strerror}", source=kubeconfig) from None
    except yaml.YAMLError:
        raise InputError("not valid YAML", source=kubeconfig) from None
    except (TypeError, AttributeError, KeyError, ValueError) as exc:
        raise InputError(f"not a kubeconfig ({type(exc).__name__}: {exc})", source=kubeconfig) from None
    return [c["name"] for c in contexts or []], (current or {}).get("name")


def api_client(kubeconfig: str, context: str) -> Any:
    _lazy_client()
    from kubernetes import client, config

    cfg = client.Configuration()
    try:
        with _LOAD_LOCK:
            config.load_kube_config(
                config_file=kubeconfig, context=context, client_configuration=cfg, persist_config=False
            )
    except config.ConfigException as exc:
        raise InputError(f"context {context!r}: {exc}", source=kubeconfig) from None
    cfg.retries = 0
    return client.ApiClient(configuration=cfg)


def _unreachable(exc: Exception, what: str) -> Exception:
    _lazy_client()
    from kubernetes.client.exceptions import ApiException

    if isinstance(exc, ApiException):
        if exc.status in (401, 403):
            return SourceUnreachable(f"{what}: access denied (HTTP {exc.status})")
        return SourceUnreachable(f"{what}: HTTP {exc.status} {exc.reason}")
    reason = getattr(exc, "reason", None) or exc
    m = re.search(r"\[Errno -?\d+\] [^'\")]+|timed out|CERTIFICATE_VERIFY_FAILED[^'\")]*", str(reason))
    short = m.group(0) if m else f"{type(reason).__name__}: {str(reason)[:200]}"
    return SourceUnreachable(f"{what}: cannot reach the Kubernetes API: {short}")


def _call(fn: Any, what: str, *args: Any, missing_ok: bool = False, **kwargs: Any) -> Any:
    """Call a client method; 404 -> None when ``missing_ok``; connection problems -> SourceUnreachable.

    A call ``discover`` started ahead (``_prefetch``) is taken from there: the same request, the same errors."""
    _lazy_client()
    from kubernetes.client.exceptions import ApiException

    started = getattr(_PREFETCHED, "calls", {}).pop(_call_key(fn, args, kwargs), None)
    try:
        if started is not None:
            return started.result()
        return fn(*args, _request_timeout=TIMEOUT, **kwargs)
    except ApiException as exc:
        if exc.status == 404 and missing_ok:
            return None
        raise _unreachable(exc, what) from None
    except Exception as exc:  # urllib3 MaxRetryError, ProtocolError, SSLError, timeouts ...
        raise _unreachable(exc, what) from None


def _lazy_client() -> None:
    """The Kubernetes client without its eager package imports (every API and model): ``inventory.lazy_import``."""
    lazy_packages("kubernetes", "kubernetes.client", "kubernetes.client.api", "kubernetes.client.models")


# The reads of one discover, started at once (each is a round trip to the API server; in sequence they add up).
_PREFETCHED = threading.local()


def _call_key(fn: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...]:
    return (getattr(fn, "__name__", fn), args, tuple(sorted(kwargs.items())))


@contextmanager
def _prefetch(calls: list[tuple[Any, tuple[Any, ...], dict[str, Any]]]) -> Iterator[None]:
    """Start ``calls`` (fn, args, kwargs) in parallel; ``_call`` with the same fn and arguments in this thread
    takes its answer (or its exception) from there. Calls not taken are left to finish on their own."""
    pool = ThreadPoolExecutor(max_workers=len(calls), thread_name_prefix="kube-read")
    _PREFETCHED.calls = {
        _call_key(fn, args, kwargs): pool.submit(fn, *args, _request_timeout=TIMEOUT, **kwargs)
        for fn, args, kwargs in calls
    }
    try:
        yield
    finally:
        _PREFETCHED.calls = {}
        pool.shutdown(wait=False, cancel_futures=True)


def discover(kubeconfig: str, context: str) -> KubeFacts:
    _lazy_client()
    from kubernetes import client

    api = api_client(kubeconfig, context)
    what = f"kubeconfig {kubeconfig} context {context} ({api.configuration.host})"
    facts = KubeFacts(context=context, server=api.configuration.host)
    try:
        core = client.CoreV1Api(api)
        custom = client.CustomObjectsApi(api)
        discovery = client.DiscoveryV1Api(api)
        crd = custom.list_namespaced_custom_object
        reads: list[tuple[Any, tuple[Any, ...], dict[str, Any]]] = [
            (core.list_node, (), {}),
            *((core.list_pod_for_all_namespaces, (), {"label_selector": s}) for s in SPEAKER_SELECTORS),
            (core.read_namespaced_config_map, ("config", METALLB_NS), {}),
            (crd, ("metallb.io", "v1beta2", METALLB_NS, "bgppeers"), {}),
            (crd, ("metallb.io", "v1beta1", METALLB_NS, "ipaddresspools"), {}),
            (crd, ("metallb.io", "v1beta1", METALLB_NS, "bgpadvertisements"), {}),
            (discovery.list_endpoint_slice_for_all_namespaces, (), {}),
            (core.list_service_for_all_namespaces, (), {}),
        ]
        with _prefetch(reads):
            _discover(facts, core, custom, discovery, what)
    finally:
        api.close()
    return facts


def _discover(facts: KubeFacts, core: Any, custom: Any, discovery: Any, what: str) -> None:
    """Nodes and their speaker pods, MetalLB's configuration, LoadBalancer services (one cluster)."""
    for node in _call(core.list_node, what).items:
        ip = None
        for addr in node.status.addresses or [] if node.status else []:
            if addr.type == "InternalIP":
                try:
                    ip = IPv4Address(addr.address)
                    break
                except ValueError:
                    continue  # an IPv6 InternalIP: keep looking for the IPv4 one
        conditions = node.status.conditions or [] if node.status else []
        ready = any(c.type == "Ready" and c.status == "True" for c in conditions)
        labels = dict(node.metadata.labels or {})
        if ip is None:
            # Without one, edgekit can only use the node's tfstate address (or skip its speaker).
            facts.warnings.append(f"node {node.metadata.name} has no IPv4 InternalIP in status.addresses")
        facts.nodes.append(
            KubeNode(
                name=node.metadata.name,
                internal_ip=ip,
                ready=ready,
                labels=labels,
                # What MetalLB's speaker looks at before it announces (inventory.speakers.withheld).
                network_unavailable=any(c.type == "NetworkUnavailable" and c.status == "True" for c in conditions),
                unschedulable=bool(node.spec is not None and node.spec.unschedulable),
            )
        )
    by_name = {n.name: n for n in facts.nodes}

    seen: set[str] = set()
    seen_ns: set[str] = set()
    for selector in SPEAKER_SELECTORS:
        for pod in _call(core.list_pod_for_all_namespaces, what, label_selector=selector).items:
            uid = f"{pod.metadata.namespace}/{pod.metadata.name}"
            if uid in seen:
                continue
            seen.add(uid)
            node_name = pod.spec.node_name if pod.spec else None
            ready = (pod.status is not None and pod.status.phase == "Running") and any(
                c.type == "Ready" and c.status == "True" for c in (pod.status.conditions or [])
            )
            kn = by_name.get(node_name or "")
            if kn is None:
                if node_name:
                    facts.warnings.append(f"speaker pod {uid} runs on unknown node {node_name}")
                continue
            if pod.metadata.namespace and facts.metallb_namespace == METALLB_NS and not seen_ns:
                facts.metallb_namespace = pod.metadata.namespace  # MetalLB's namespace: where its speakers run
            seen_ns.add(pod.metadata.namespace or "")
            if ready or kn.speaker_pod is None:
                kn.speaker_version, kn.ignore_exclude_lb = _speaker_container(pod)
            if ready:
                kn.speaker_ready = True
                kn.speaker_pod = uid
            elif kn.speaker_pod is None:
                kn.speaker_pod = uid

    _metallb(facts, core, custom, what)
    _services(facts, core, discovery, what)


def _speaker_container(pod: Any) -> tuple[str, bool]:
    """(image tag, runs with --ignore-exclude-lb) of a speaker pod's ``speaker`` container (else its first)."""
    containers = list(pod.spec.containers or []) if pod.spec else []
    c = next((c for c in containers if c.name == "speaker"), containers[0] if containers else None)
    if c is None:
        return "", False
    image = str(c.image or "")
    tag = image.rsplit(":", 1)[1] if ":" in image.rsplit("/", 1)[-1] else ""
    args = [*(c.args or []), *(c.command or [])]
    return tag, any(a in ("--ignore-exclude-lb", "--ignore-exclude-lb=true") for a in args)


def _metallb(facts: KubeFacts, core: Any, custom: Any, what: str) -> None:
    """MetalLB's configuration in its namespace. Where the API serves the metallb.io CRDs (MetalLB >= 0.13) the
    CRs are the whole configuration, even with none of them: a leftover legacy ConfigMap is not read there
    (metallb/metallb v0.13.12 and v0.14.9 read only the CRs: internal/k8s/controllers config_controller.go), only
    warned about."""
    ns = facts.metallb_namespace
    list_crs = custom.list_namespaced_custom_object
    pools = _call(list_crs, what, "metallb.io", "v1beta1", ns, "ipaddresspools", missing_ok=True)
    facts.crds_served = pools is not None
    cm = _call(core.read_namespaced_config_map, what, "config", ns, missing_ok=True)
    has_cm = cm is not None and bool(cm.data) and bool(cm.data.get("config"))
    if not facts.crds_served:
        if has_cm:
            facts.metallb_source = "configmap"
            _from_configmap(facts, cm.data["config"])
        return
    peers_v2 = _call(list_crs, what, "metallb.io", "v1beta2", ns, "bgppeers", missing_ok=True)
    if peers_v2 is None:
        peers_v2 = _call(list_crs, what, "metallb.io", "v1beta1", ns, "bgppeers", missing_ok=True)
    advs = _call(list_crs, what, "metallb.io", "v1beta1", ns, "bgpadvertisements", missing_ok=True)
    if has_cm:
        facts.warnings.append(
            f"MetalLB: configmap {ns}/config is a leftover (this MetalLB reads only its CRDs): ignored"
        )
    crd_items = [*(peers_v2 or {}).get("items", []), *(pools or {}).get("items", [])]
    if crd_items:
        facts.metallb_source = "crds"
        _from_crds(
            facts, (peers_v2 or {}).get("items", []), (pools or {}).get("items", []), (advs or {}).get("items", [])
        )


# Label syntax as Kubernetes validates it (kubernetes/apimachinery pkg/util/validation/validation.go:
# IsQualifiedName — an optional DNS-1123 subdomain prefix (<= 253) and "/", then a name of <= 63 characters matching
# qualifiedNameFmt; IsValidLabelValue — <= 63 characters, empty or matching the same format; and
# pkg/apis/meta/v1/validation/validation.go ValidateLabelSelectorRequirement: In/NotIn need values,
# Exists/DoesNotExist take none).
_QUALIFIED = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_FORMAT = "alphanumeric characters, '-', '_' or '.', starting and ending with an alphanumeric character"


def label_key_error(key: str) -> str:
    """Why ``key`` is not a label key Kubernetes accepts ("" when it is)."""
    prefix, slash, name = key.rpartition("/")
    if slash and (not prefix or len(prefix) > 253 or not _DNS1123_SUBDOMAIN.match(prefix)):
        return f"label key {key!r}: prefix part must be a lower case DNS-1123 subdomain of at most 253 characters"
    if not name:
        return f"label key {key!r}: name part must be non-empty"
    if len(name) > 63:
        return f"label key {key!r}: name part must be no more than 63 characters"
    if not _QUALIFIED.match(name):
        return f"label key {key!r}: name part must consist of {_FORMAT}"
    return ""


def label_value_error(key: str, value: str) -> str:
    """Why ``value`` is not a label value Kubernetes accepts ("" when it is)."""
    if len(value) > 63:
        return f"label {key}={value!r}: a value must be no more than 63 characters"
    if value and not _QUALIFIED.match(value):
        return f"label {key}={value!r}: a value must be empty or consist of {_FORMAT}"
    return ""


def selector_errors(selector: NodeSelector) -> list[tuple[str, str]]:
    """(path under the selector, reason) for each part of a label selector Kubernetes would refuse."""
    out: list[tuple[str, str]] = []
    for key, value in selector.match_labels.items():
        why = label_key_error(key) or label_value_error(key, value)
        if why:
            out.append((f"match_labels.{key}", why))
    for i, req in enumerate(selector.match_expressions):
        why = label_key_error(req.key)
        if not why and req.operator in ("In", "NotIn") and not req.values:
            why = f"key {req.key!r}: values must be non-empty when operator is {req.operator}"
        if not why and req.operator in ("Exists", "DoesNotExist") and req.values:
            why = f"key {req.key!r}: values must be empty when operator is {req.operator}"
        for value in req.values if not why else []:
            why = why or label_value_error(req.key, value)
        if why:
            out.append((f"match_expressions[{i}]", why))
    return out


def _int(value: Any, where: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise InputError(f"{value!r} is not a number", source="kubernetes", path=where) from None


def _networks(addresses: list[Any], where: str) -> list[IPv4Network]:
    out: list[IPv4Network] = []
    for i, raw in enumerate(addresses or []):
        text = str(raw).strip()
        try:
            if "-" in text:
                first, last = (IPv4Address(p.strip()) for p in text.split("-", 1))
                out.extend(summarize_address_range(first, last))
            else:
                out.append(IPv4Network(text, strict=False))
        except ValueError:
            if ":" in text:
                continue  # IPv6 pool: not routed by this IPv4 edge
            raise InputError(
                f"{text!r} is not a CIDR or a-b range", source="kubernetes", path=f"{where}[{i}]"
            ) from None
    return out


def _selectors(raw: Any, labels_key: str, expressions_key: str) -> list[NodeSelector]:
    """MetalLB's peer node selectors (CRD: matchLabels/matchExpressions; ConfigMap: match-labels/...)."""
    out = []
    for item in raw or []:
        item = item or {}
        out.append(
            NodeSelector(
                match_labels={str(k): str(v) for k, v in (item.get(labels_key) or {}).items()},
                match_expressions=[
                    SelectorRequirement(
                        key=str(e.get("key")),
                        operator=e.get("operator"),
                        values=[str(v) for v in e.get("values") or []],
                    )
                    for e in item.get(expressions_key) or []
                ],
            )
        )
    return out


def _from_configmap(facts: KubeFacts, text: str) -> None:
    where = f"configmap {METALLB_NS}/config"
    try:
        doc = yaml.safe_load(text) or {}
    except yaml.YAMLError:
        raise InputError("key config is not valid YAML", source=where) from None
    for i, peer in enumerate(doc.get("peers") or []):
        try:
            facts.peers.append(
                MetalLBPeer(
                    name=f"peers[{i}]",
                    peer_address=IPv4Address(str(peer.get("peer-address"))),
                    peer_asn=_int(peer.get("peer-asn"), f"{where} peers[{i}].peer-asn"),
                    my_asn=_int(peer.get("my-asn"), f"{where} peers[{i}].my-asn"),
                    source="configmap",
                    node_selectors=_selectors(peer.get("node-selectors"), "match-labels", "match-expressions"),
                    bfd_profile=str(peer.get("bfd-profile") or ""),
                    ebgp_multihop=peer.get("ebgp-multihop") is True,  # internal/config/config.go (v0.12) peer
                )
            )
        except ValueError as exc:
            raise InputError(f"bad peer: {exc}", source=where, path=f"peers[{i}]") from None
    for i, pool in enumerate(doc.get("address-pools") or []):
        if pool.get("protocol", "bgp") != "bgp":
            continue
        facts.pools.append(
            Pool(
                name=str(pool.get("name", f"pool{i}")),
                addresses=_networks(pool.get("addresses"), f"address-pools[{i}]"),
                auto_assign=pool.get("auto-assign", True) is not False,
                avoid_buggy_ips=pool.get("avoid-buggy-ips") is True,
            )
        )


def _from_crds(facts: KubeFacts, peers: list[dict[str, Any]], pools: list[dict[str, Any]], advs: list[Any]) -> None:
    for obj in peers:
        spec = obj.get("spec") or {}
        name = (obj.get("metadata") or {}).get("name", "")
        # api/v1beta2 BGPPeerSpec: dynamicASN (v0.14.9+: "internal"/"external" instead of peerASN) and interface
        # (v0.15+: unnumbered BGP on an interface instead of peerAddress) have no address or ASN to compare.
        if spec.get("interface") and not spec.get("peerAddress"):
            facts.warnings.append(f"MetalLB: BGPPeer {name} peers on interface {spec['interface']}: not compared")
            continue
        if spec.get("dynamicASN") and not spec.get("peerASN"):
            facts.warnings.append(
                f"MetalLB: BGPPeer {name} has dynamicASN {spec['dynamicASN']} (peer ASN learnt from the session): "
                "its ASN is not compared with the router's"
            )
            spec = {**spec, "peerASN": None}
        dynamic = str(spec.get("dynamicASN") or "")
        try:
            facts.peers.append(
                MetalLBPeer(
                    name=name,
                    peer_address=IPv4Address(str(spec.get("peerAddress"))),
                    peer_asn=(
                        _int(spec.get("peerASN"), f"bgppeer {name} spec.peerASN")
                        if spec.get("peerASN") is not None
                        else _int(spec.get("myASN"), f"bgppeer {name} spec.myASN")  # dynamicASN: unknown
                    ),
                    my_asn=_int(spec.get("myASN"), f"bgppeer {name} spec.myASN"),
                    source="crds",
                    node_selectors=_selectors(spec.get("nodeSelectors"), "matchLabels", "matchExpressions"),
                    bfd_profile=str(spec.get("bfdProfile") or ""),
                    ebgp_multihop=spec.get("ebgpMultiHop") is True,  # api/v1beta2/bgppeer_types.go EBGPMultiHop
                    dynamic_asn=dynamic,
                )
            )
        except ValueError as exc:
            raise InputError(f"bad BGPPeer: {exc}", source=f"bgppeer {METALLB_NS}/{name}") from None
    advertised: set[str] | None = set()
    if not advs:
        if pools:
            facts.warnings.append("MetalLB: no BGPAdvertisement, so no pool is announced over BGP")
    for adv in advs:
        spec = adv.get("spec") or {}
        names = spec.get("ipAddressPools") or []
        selectors = spec.get("ipAddressPoolSelectors") or []
        if not names and not selectors:
            advertised = None  # every pool
            break
        assert advertised is not None
        advertised.update(names)
        # ipAddressPoolSelectors are label selectors (matchLabels AND matchExpressions, either alone).
        parsed = _selectors(selectors, "matchLabels", "matchExpressions")
        for pool in pools:
            labels = (pool.get("metadata") or {}).get("labels") or {}
            if any(sel.matches(labels) for sel in parsed):
                advertised.add(pool["metadata"]["name"])
    for pool in pools:
        name = (pool.get("metadata") or {}).get("name", "")
        if advertised is not None and name not in advertised:
            continue
        spec = dict(pool.get("spec") or {})
        addresses = _networks(spec.get("addresses") or [], f"ipaddresspool {name} spec.addresses")
        facts.pools.append(
            Pool(
                name=name,
                addresses=addresses,
                # api/v1beta1 IPAddressPoolSpec defaults: autoAssign true, avoidBuggyIPs false.
                auto_assign=spec.get("autoAssign", True) is not False,
                avoid_buggy_ips=spec.get("avoidBuggyIPs") is True,
                spec=spec,  # every field, re-rendered as is (tasks/metallb)
            )
        )


def _services(facts: KubeFacts, core: Any, discovery: Any, what: str) -> None:
    # The endpoints MetalLB counts (inventory.speakers.announce_rules): ready ones, and from v0.14.5 serving ones;
    # the version of the cluster's speakers (the newest rules when they name none).
    from inventory.speakers import announce_rules

    versions = sorted({n.speaker_version for n in facts.nodes if n.speaker_pod is not None})
    serving = announce_rules(versions[0] if len(versions) == 1 else "").serving
    if len(versions) > 1:
        facts.warnings.append(f"MetalLB speakers of several versions ({', '.join(v or '?' for v in versions)})")
    ready_nodes: dict[tuple[str, str], set[str]] = {}
    with_endpoints: set[tuple[str, str]] = set()
    slices = _call(discovery.list_endpoint_slice_for_all_namespaces, what, missing_ok=True)
    for es in slices.items if slices is not None else []:
        svc = (es.metadata.labels or {}).get("kubernetes.io/service-name")
        if not svc:
            continue
        key = (es.metadata.namespace, svc)
        for ep in es.endpoints or []:
            cond = ep.conditions
            counts = cond is None or cond.ready is None or cond.ready or (serving and cond.serving is True)
            if counts:
                with_endpoints.add(key)
            if counts and ep.node_name:
                ready_nodes.setdefault(key, set()).add(ep.node_name)
    for svc in _call(core.list_service_for_all_namespaces, what).items:
        if svc.spec is None or svc.spec.type != "LoadBalancer":
            continue
        ips: list[IPv4Address] = []
        ingress = svc.status.load_balancer.ingress if svc.status and svc.status.load_balancer else None
        for ing in ingress or []:
            try:
                if ing.ip:
                    ips.append(IPv4Address(ing.ip))
            except ValueError:
                continue
        ns, name = svc.metadata.namespace, svc.metadata.name
        if not ips:
            facts.warnings.append(f"service {ns}/{name}: LoadBalancer without an assigned IP (pending)")
            continue
        policy = svc.spec.external_traffic_policy or "Cluster"
        facts.services.append(
            Service(
                namespace=ns,
                name=name,
                ips=ips,
                external_traffic_policy="Local" if policy == "Local" else "Cluster",
                endpoint_nodes=sorted(ready_nodes.get((ns, name), set())),
                has_endpoints=(ns, name) in with_endpoints if slices is not None else None,
            )
        )


def secret_reader(kubeconfig: str, context: str) -> K8sSecretReader:
    """A reader for ``SecretRef(k8s=...)``: resolves one key of one Secret when called (never cached)."""

    def read(namespace: str, name: str, key: str) -> str:
        _lazy_client()
        from kubernetes import client

        from inventory.errors import MissingFact

        api = api_client(kubeconfig, context)
        try:
            secret = _call(
                client.CoreV1Api(api).read_namespaced_secret, f"context {context}", name, namespace, missing_ok=True
            )
        finally:
            api.close()
        if secret is None:
            raise MissingFact(f"Kubernetes secret {namespace}/{name} not found", path=f"k8s:{namespace}/{name}/{key}")
        value = (secret.data or {}).get(key)
        if value is None:
            raise MissingFact(f"Kubernetes secret {namespace}/{name} has no key {key}", path=f"k8s:{namespace}/{name}")
        return base64.b64decode(value).decode().strip()

    return read
