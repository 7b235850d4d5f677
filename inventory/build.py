"""Build the resolved site model and the host list from Terraform state, Kubernetes and the site file.

``load(InventorySources(...)) -> LoadResult`` is the one entry point (the Nornir plugin and every CLI
subcommand use it). Rules, in the order they apply:

Cluster name of a state
    the ``CLUSTER=`` prefix of the source; else the workspace its location names (S3 ``env:/<ws>/<key>``
    or ``?workspace=<ws>``); else the state's ``show_workspaces`` output; else the common ``-<ws>`` suffix
    of its server names; else ``default``. Two states naming one cluster are an error.

Roles
    ``clusters.<c>.hosts.<server>.role`` in the site file; else the first matching rule of the site file's
    ``role_rules`` (``name`` regex searched in the server name, and all ``tags`` present); else the
    built-in rules ``^k8s-router-\\d+-`` router, ``^k8s-lb-\\d+-`` lb, ``^k8s-master-\\d+-`` master,
    ``^k8s-node-\\d+-`` node. A server no rule matches is skipped with a warning.

Addresses
    NIC 0: the server's ``ip_address`` / ``netmask`` (Sakura Cloud sets them from NIC 0), unless the site
    file gives ``hosts.<server>.addresses["0"]``. NIC i > 0, first found wins:
    1. the site file: ``hosts.<server>.addresses["<i>"]`` (and for the router's node-side NIC,
       ``router.node_address``);
    2. a Terraform output named by ``address_outputs["<role>:<i>"]`` (default ``router:1`` ->
       ``k8s_router_internal_ipaddress``); a string output serves the role's only host, a list output
       the role's hosts in index order. An output the site file names but the state lacks is an error;
    3. ``network_interface[i].user_ip_address`` (display-only in the provider, so last).
    Addresses from 2 and 3 carry no prefix length: the router's node-side address then gets /24 with a
    warning (give ``router.node_address`` as address/prefix to silence it); other hosts' NICs get /24.
    Management address (what edgekit connects to): ``hosts.<server>.management_address``, for the router
    also ``router.management_address``; else NIC 0's address.

Speakers
    With a kubeconfig: the nodes running a Ready MetalLB speaker pod that the router's MetalLB peer selects
    (its node selectors), at their InternalIP, ASN from MetalLB's ``my-asn`` / ``myASN`` (else site
    ``speaker_asn``, default 65021). When the API is
    unreachable (or there is no kubeconfig): every tfstate node, with a warning; with ``require_k8s`` the
    unreachable API is an error (exit 3) instead.

Pools
    Kubernetes MetalLB config; else the site file's ``metallb.pools``; else the output
    ``metallb_address_range`` (or ``external_address_range``); else ``sakuracloud_subnet`` resources whose
    next hop is the router.

Facts a feature needs but nobody provides are recorded in ``Cluster.missing`` (field path -> reason);
``Cluster.require("wireguard")`` raises ``MissingFact`` naming the field. Other bad input raises
``InputError`` naming the file and the JSON/YAML path.
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Interface
from typing import Any

from pydantic import BaseModel, ValidationError

from inventory import kube, sources, tfstate
from inventory.errors import InputError, SourceUnreachable, from_validation
from inventory.model import (
    BGP,
    ApiLB,
    Cluster,
    Credentials,
    LoadBalancer,
    Master,
    MetalLBPeer,
    Node,
    Pool,
    Role,
    Router,
    Site,
    Speaker,
    WireGuard,
)
from inventory.secrets import K8sSecretReader
from inventory.sitefile import ClusterFile, RoleRule, SiteFile, load_site_file

DEFAULT_ROLE_RULES: tuple[RoleRule, ...] = (
    RoleRule(role="router", name=r"^k8s-router-\d+-"),
    RoleRule(role="lb", name=r"^k8s-lb-\d+-"),
    RoleRule(role="master", name=r"^k8s-master-\d+-"),
    RoleRule(role="node", name=r"^k8s-node-\d+-"),
)
DEFAULT_ADDRESS_OUTPUTS: dict[str, str] = {"router:1": "k8s_router_internal_ipaddress"}
POOL_OUTPUTS = ("metallb_address_range", "external_address_range")
DEFAULT_ROLLOUT = ["dev", "wsp", "prd"]
DEFAULT_SPEAKER_ASN = 65021
DEFAULT_ROUTER_ASN = 65020
DEFAULT_LB_PRIORITIES = (150, 101)
DEFAULT_USERNAMES: dict[str, str] = {"router": "vyos", "lb": "ubuntu"}
DEFAULT_PREFIX = 24
PLATFORMS: dict[str, str] = {"router": "vyos", "lb": "linux", "master": "linux", "node": "linux"}


@dataclass
class InventorySources:
    """Where the inventory comes from (what ``tasks.options.CommonOptions.sources()`` returns)."""

    states: list[str] = field(default_factory=list)
    site: str | None = None
    kubeconfig: str | None = None
    clusters: list[str] = field(default_factory=list)
    require_k8s: bool = False


@dataclass
class HostFacts:
    """One Terraform server with its role and addresses; ``data`` is what the Nornir host carries."""

    name: str
    cluster: str
    role: Role
    platform: str
    hostname: str  # management address
    addresses: dict[int, IPv4Interface]  # NIC index -> address/prefix
    tainted: bool = False
    managed: bool = True  # routers and LBs are configured over SSH; masters and nodes are data only
    tags: list[str] = field(default_factory=list)
    terraform_address: str = ""
    credentials: Credentials | None = None
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def management_address(self) -> str:
        return self.hostname


@dataclass
class LoadResult:
    site: Site
    hosts: list[HostFacts]
    warnings: list[str] = field(default_factory=list)
    disagreements: list[str] = field(default_factory=list)
    sitefile: SiteFile = field(default_factory=SiteFile)
    states: dict[str, tfstate.State] = field(default_factory=dict)  # cluster -> its state
    kube_contexts: dict[str, str] = field(default_factory=dict)  # cluster -> kubeconfig context used
    kubeconfig: str | None = None
    # What each cluster's Kubernetes API said (absent when not read): verify compares it with tfstate.
    kube_facts: dict[str, kube.KubeFacts] = field(default_factory=dict)

    def host(self, name: str) -> HostFacts:
        for h in self.hosts:
            if h.name == name:
                return h
        raise KeyError(name)

    def secret_reader(self, cluster: str) -> K8sSecretReader | None:
        """Reads ``SecretRef(k8s=...)`` from that cluster's API (None without a kubeconfig)."""
        if not self.kubeconfig:
            return None
        context = self.kube_contexts.get(cluster, cluster)
        return kube.secret_reader(self.kubeconfig, context)


# ---------------------------------------------------------------------------------------------------------------


@dataclass
class _Loaded:
    cluster: str
    state: tfstate.State
    source: str


def load(src: InventorySources) -> LoadResult:
    if not src.states:
        raise InputError("no Terraform state given: pass --state PATH|URL or set EDGEKIT_STATE")
    sitefile = load_site_file(src.site) if src.site else SiteFile()
    site_label = src.site or "site file"
    rules = _role_rules(sitefile, site_label)

    loaded: dict[str, _Loaded] = {}
    # Backends answer in parallel (network-bound); parsing and every check stay in the given order.
    with ThreadPoolExecutor(max_workers=FETCH_WORKERS) as pool:
        fetched = list(pool.map(_fetch_or_error, src.states))
    for source, docs in zip(src.states, fetched, strict=True):
        if isinstance(docs, BaseException):
            raise docs
        for doc in docs:
            state = tfstate.loads(doc.text, doc.label)
            name = _cluster_name(doc, state)
            if not state.servers:
                path = "values.root_module" if state.format == "show-json" else "resources"
                raise InputError("no sakuracloud_server resources (managed) in the state", source=doc.label, path=path)
            if name in loaded:
                raise InputError(
                    f"cluster {name!r} also comes from {loaded[name].state.source}; name one with CLUSTER=SOURCE",
                    source=doc.label,
                )
            loaded[name] = _Loaded(cluster=name, state=state, source=source)
    for want in src.clusters:
        if want not in loaded:
            raise InputError(f"no state for cluster {want!r} (have: {', '.join(sorted(loaded))})", path="--cluster")
    if src.clusters:
        loaded = {k: v for k, v in loaded.items() if k in src.clusters}

    result = LoadResult(site=Site(clusters={}), hosts=[], sitefile=sitefile, kubeconfig=src.kubeconfig)
    rollout = sitefile.rollout or DEFAULT_ROLLOUT
    contexts: list[str] = []
    current: str | None = None
    if src.kubeconfig:
        contexts, current = kube.list_contexts(src.kubeconfig)
    elif src.require_k8s:
        raise InputError("--require-k8s needs a kubeconfig (--kubeconfig or $KUBECONFIG)")

    discovered = _discover_all(src, loaded, sitefile, contexts, current)
    clusters: dict[str, Cluster] = {}
    seen_names: dict[str, str] = {}
    for name in sorted(loaded, key=lambda n: (rollout.index(n) if n in rollout else len(rollout), n)):
        item = loaded[name]
        builder = _ClusterBuilder(
            name=name,
            state=item.state,
            sitefile=sitefile,
            site_label=site_label,
            rules=rules,
            order=rollout.index(name) if name in rollout else len(rollout),
        )
        builder.collect_hosts()
        for h in builder.hosts:
            if h.name in seen_names:
                raise InputError(f"host {h.name!r} is also in cluster {seen_names[h.name]}", source=item.state.source)
            seen_names[h.name] = name
        facts = None
        context = _kube_context(name, sitefile, contexts, current, len(loaded))
        if src.kubeconfig:
            if context not in contexts:
                message = f"{name}: no context {context!r} in kubeconfig {src.kubeconfig}"
                if src.require_k8s:
                    raise InputError(message, source=src.kubeconfig)
                builder.warn(message + "; using tfstate nodes as speakers")
            else:
                result.kube_contexts[name] = context
                found = discovered[name]
                if isinstance(found, SourceUnreachable):
                    if src.require_k8s:
                        raise found
                    builder.warn(f"{name}: Kubernetes unreachable ({found}); using tfstate nodes as speakers")
                elif isinstance(found, BaseException):
                    raise found
                else:
                    facts = found
        else:
            builder.warn(f"{name}: no kubeconfig; using tfstate nodes as speakers")
        cluster = builder.build(facts)
        if facts is not None:
            result.kube_facts[name] = facts
        clusters[name] = cluster
        result.hosts.extend(builder.hosts)
        result.states[name] = item.state
        result.warnings.extend(cluster.warnings)
        result.disagreements.extend(f"{name}: {d}" for d in cluster.disagreements)

    result.site = Site(clusters=clusters, rollout=rollout)
    by_name = {name: _ByName.of(c) for name, c in result.site.clusters.items()}
    for h in result.hosts:
        h.data["model"] = host_slice(result.site.clusters[h.cluster], h, by_name[h.cluster])
    return result


FETCH_WORKERS = 16


def _fetch_or_error(source: str) -> list[sources.Fetched] | BaseException:
    try:
        return sources.fetch(source)
    except Exception as exc:  # re-raised in source order by load()
        return exc


def _kube_context(name: str, sitefile: SiteFile, contexts: list[str], current: str | None, clusters: int) -> str:
    """The kubeconfig context of a cluster: the site file's kube_context, else the cluster's name; with a
    single cluster and no such context, the kubeconfig's current one."""
    explicit = sitefile.cluster(name).kube_context
    context = explicit or name
    if context not in contexts and clusters == 1 and current and not explicit:
        return current
    return context


def _discover_all(
    src: InventorySources, loaded: dict[str, _Loaded], sitefile: SiteFile, contexts: list[str], current: str | None
) -> dict[str, kube.KubeFacts | BaseException | None]:
    """Every cluster's Kubernetes facts, read in parallel (each is ~9 API round trips)."""
    if not src.kubeconfig:
        return {name: None for name in loaded}
    kubeconfig = src.kubeconfig

    def one(name: str) -> kube.KubeFacts | BaseException | None:
        context = _kube_context(name, sitefile, contexts, current, len(loaded))
        if context not in contexts:
            return None
        try:
            return kube.discover(kubeconfig, context)
        except Exception as exc:  # handled per cluster, in rollout order, by load()
            return exc

    names = list(loaded)
    with ThreadPoolExecutor(max_workers=FETCH_WORKERS) as pool:
        return dict(zip(names, pool.map(one, names), strict=True))


def _cluster_name(doc: sources.Fetched, state: tfstate.State) -> str:
    if doc.workspace:
        return doc.workspace
    out = state.output("show_workspaces")
    if out is not None and isinstance(out.plain(), str) and out.plain():
        return str(out.plain())
    suffixes = {s.name.rsplit("-", 1)[-1] for s in state.servers if "-" in s.name}
    if len(suffixes) == 1 and all("-" in s.name for s in state.servers):
        return suffixes.pop()
    return "default"


def _role_rules(sitefile: SiteFile, label: str) -> list[tuple[re.Pattern[str] | None, RoleRule]]:
    out: list[tuple[re.Pattern[str] | None, RoleRule]] = []
    for i, rule in enumerate(sitefile.role_rules or []):
        try:
            pattern = re.compile(rule.name) if rule.name else None
        except re.error as exc:
            raise InputError(
                f"{rule.name!r} is not a valid regular expression: {exc}", source=label, path=f"role_rules[{i}].name"
            ) from None
        if pattern is None and not rule.tags:
            raise InputError("a role rule needs a name regex or tags", source=label, path=f"role_rules[{i}]")
        out.append((pattern, rule))
    out.extend((re.compile(r.name or ""), r) for r in DEFAULT_ROLE_RULES)
    return out


def _site_path(sitefile: SiteFile, cluster: str, dotted: str) -> str:
    """Where a site fact lives: ``clusters.<c>.<dotted>`` if the cluster sets it, else ``defaults.<dotted>``."""
    node: Any = sitefile.clusters.get(cluster)
    for part in dotted.split("."):
        if node is None:
            break
        node = node.get(part) if isinstance(node, dict) else getattr(node, part, None)
    return f"clusters.{cluster}.{dotted}" if node is not None else f"defaults.{dotted}"


def _dump(model: BaseModel | None) -> Any:
    return None if model is None else model.model_dump(mode="json")


@dataclass
class _ByName:
    """A cluster's masters, nodes and speakers by name: one lookup per host instead of a scan (10,000 servers)."""

    masters: dict[str, Any]
    nodes: dict[str, Any]
    speakers: dict[str, Any]

    @classmethod
    def of(cls, cluster: Cluster) -> _ByName:
        def first(items: list[Any]) -> dict[str, Any]:
            out: dict[str, Any] = {}
            for item in items:
                out.setdefault(item.name, item)  # the first one wins, as the scan did
            return out

        return cls(first(cluster.masters), first(cluster.nodes), first(cluster.speakers))


def host_slice(cluster: Cluster, host: HostFacts, by_name: _ByName | None = None) -> dict[str, Any]:
    """The part of the site model one host needs, JSON-able; SecretRefs appear as references only."""
    if by_name is None:
        by_name = _ByName.of(cluster)
    base: dict[str, Any] = {"cluster": cluster.name, "order": cluster.order}
    if host.role == "router":
        router = cluster.router if cluster.router and cluster.router.name == host.name else None
        return {
            **base,
            "router": _dump(router),
            "node_subnet": cluster.node_subnet,
            "gateway": str(cluster.gateway) if cluster.gateway else None,
            "speakers": [_dump(s) for s in cluster.speakers],
            "speakers_source": cluster.speakers_source,
            "nodes": [_dump(n) for n in cluster.nodes],
            "masters": [_dump(m) for m in cluster.masters],
            "pools": [_dump(p) for p in cluster.pools],
            "services": [_dump(s) for s in cluster.services],
            "wireguard": _dump(cluster.wireguard),
            "metallb_peers": [_dump(p) for p in cluster.metallb_peers],
            "missing": dict(cluster.missing),
        }
    if host.role == "lb":
        api_lb = cluster.api_lb
        me = next((lb for lb in api_lb.lbs if lb.name == host.name), None) if api_lb else None
        peers = [lb for lb in api_lb.lbs if lb.name != host.name] if api_lb else []
        return {
            **base,
            "lb": _dump(me),
            "peer": _dump(peers[0]) if peers else None,
            "api_lb": _dump(api_lb),
            "masters": [_dump(m) for m in cluster.masters],
            "missing": {k: v for k, v in cluster.missing.items() if k.startswith("api_lb")},
        }
    if host.role == "master":
        return {**base, "master": _dump(by_name.masters.get(host.name))}
    node = by_name.nodes.get(host.name)
    speaker = by_name.speakers.get(host.name)
    return {**base, "node": _dump(node), "speaker": _dump(speaker)}


class _ClusterBuilder:
    def __init__(
        self,
        *,
        name: str,
        state: tfstate.State,
        sitefile: SiteFile,
        site_label: str,
        rules: list[tuple[re.Pattern[str] | None, RoleRule]],
        order: int,
    ) -> None:
        self.name = name
        self.state = state
        self.sitefile = sitefile
        self.site_label = site_label
        self.rules = rules
        self.order = order
        self.cf: ClusterFile = sitefile.cluster(name)
        self.hosts: list[HostFacts] = []
        self.servers: dict[str, tfstate.Server] = {}
        self.warnings: list[str] = []
        self.disagreements: list[str] = []
        self.missing: dict[str, str] = {}

    def warn(self, message: str) -> None:
        self.warnings.append(message)

    # -- hosts -------------------------------------------------------------------------------------------------

    def _role(self, server: tfstate.Server) -> Role | None:
        override = (self.cf.hosts or {}).get(server.name)
        if override is not None and override.role:
            return override.role
        for pattern, rule in self.rules:
            if pattern is not None and not pattern.search(server.name):
                continue
            if rule.tags and not set(rule.tags) <= set(server.tags):
                continue
            return rule.role
        return None

    def collect_hosts(self) -> None:
        by_role: dict[str, list[tfstate.Server]] = {}
        for server in self.state.servers:
            role = self._role(server)
            if role is None:
                self.warn(f"{self.name}: server {server.name} ({server.address}) matches no role rule; skipped")
                continue
            if server.name in self.servers:
                raise InputError(f"two servers named {server.name!r}", source=self.state.source, path=server.path)
            self.servers[server.name] = server
            by_role.setdefault(role, []).append(server)
        for role in by_role:
            by_role[role].sort(key=lambda s: (s.resource, _index_key(s.index), s.name))
        overrides = self.cf.hosts or {}
        unknown = sorted(set(overrides) - {s.name for s in self.state.servers})
        for name in unknown:
            self.warn(f"{self.name}: site file names host {name!r}, which is not in the state")

        used: dict[IPv4Address, tuple[str, str]] = {}
        for role, servers in by_role.items():
            for ordinal, server in enumerate(servers):
                addresses = self._addresses(server, role, ordinal, len(servers))
                for nic, iface in addresses.items():
                    if iface.ip in used:
                        other, _ = used[iface.ip]
                        raise InputError(
                            f"{iface.ip} is the address of both {other} and {server.name}",
                            source=self.state.source,
                            path=f"{server.attr_path}.ip_address"
                            if nic == 0
                            else f"{server.attr_path}.network_interface[{nic}]",
                        )
                    used[iface.ip] = (server.name, role)
                override = overrides.get(server.name)
                mgmt = override.management_address if override and override.management_address else None
                if role == "router" and not mgmt and self.cf.router and self.cf.router.management_address:
                    mgmt = self.cf.router.management_address
                if not mgmt:
                    mgmt = str(addresses[0].ip)
                if server.tainted:
                    self.warn(f"{self.name}: {server.name} ({server.address}) is tainted: Terraform will replace it")
                self.hosts.append(
                    HostFacts(
                        name=server.name,
                        cluster=self.name,
                        role=role,  # type: ignore[arg-type]
                        platform=PLATFORMS[role],
                        hostname=mgmt,
                        addresses=addresses,
                        tainted=server.tainted,
                        managed=role in ("router", "lb"),
                        tags=list(server.tags),
                        terraform_address=server.address,
                    )
                )
        order = {"router": 0, "lb": 1, "master": 2, "node": 3}
        self.hosts.sort(key=lambda h: (order[h.role], h.name))

    def _addresses(self, server: tfstate.Server, role: str, ordinal: int, count: int) -> dict[int, IPv4Interface]:
        override = (self.cf.hosts or {}).get(server.name)
        given = dict((override.addresses or {}) if override else {})
        out: dict[int, IPv4Interface] = {}
        for key, iface in given.items():
            if not key.isdigit():
                raise InputError(
                    f"NIC index {key!r} is not a number",
                    source=self.site_label,
                    path=_site_path(self.sitefile, self.name, f"hosts.{server.name}.addresses.{key}"),
                )
            out[int(key)] = iface
        if 0 not in out:
            if server.ip_address is None:
                raise InputError(
                    f"server {server.name} has no NIC 0 address (set hosts.{server.name}.addresses.0 in the site file)",
                    source=self.state.source,
                    path=f"{server.attr_path}.ip_address",
                )
            out[0] = IPv4Interface(f"{server.ip_address}/{server.netmask or DEFAULT_PREFIX}")
        node_nic = _nic_index(
            self.cf.router.node_interface if self.cf.router and self.cf.router.node_interface else "eth1"
        )
        if role == "router" and self.cf.router and self.cf.router.node_address and node_nic not in out:
            out[node_nic] = self.cf.router.node_address
        outputs = dict(DEFAULT_ADDRESS_OUTPUTS)
        explicit = self.cf.address_outputs or {}
        outputs.update(explicit)
        for nic in range(1, max(len(server.nics), node_nic + 1 if role == "router" else 0)):
            if nic in out:
                continue
            key = f"{role}:{nic}"
            ip: IPv4Address | None = None
            out_name = outputs.get(key)
            if out_name:
                output = self.state.output(out_name)
                if output is None:
                    if key in explicit:
                        raise InputError(
                            f"output {out_name!r} is not in {self.state.source}",
                            source=self.site_label,
                            path=_site_path(self.sitefile, self.name, f"address_outputs.{key}"),
                        )
                else:
                    ip = self._from_output(output, ordinal, count, role)
            if ip is None and nic < len(server.nics):
                ip = server.nics[nic].user_ip_address
            if ip is None:
                continue
            if role == "router" and nic == node_nic:
                self.warn(
                    f"{self.name}: router {server.name} node-side address {ip} has no prefix length; "
                    f"assuming /{DEFAULT_PREFIX} (set router.node_address in the site file)"
                )
            out[nic] = IPv4Interface(f"{ip}/{DEFAULT_PREFIX}")
        return dict(sorted(out.items()))

    def _from_output(self, output: tfstate.Output, ordinal: int, count: int, role: str) -> IPv4Address | None:
        value = output.plain()
        path = output.path
        if isinstance(value, list):
            if ordinal >= len(value):
                raise InputError(
                    f"list has {len(value)} entries but there are {count} {role} servers",
                    source=self.state.source,
                    path=path,
                )
            value, path = value[ordinal], f"{path}[{ordinal}]"
        elif count > 1:
            raise InputError(
                f"a single value, but there are {count} {role} servers (use a list output)",
                source=self.state.source,
                path=path,
            )
        if value in (None, ""):
            return None
        try:
            return IPv4Address(str(value).split("/")[0])
        except ValueError:
            shown = "********" if output.sensitive else repr(value)
            raise InputError(f"{shown} is not a valid IPv4 address", source=self.state.source, path=path) from None

    # -- model -------------------------------------------------------------------------------------------------

    def _validate(self, cls: type[BaseModel], site_path: str, **kwargs: Any) -> Any:
        try:
            return cls(**kwargs)
        except ValidationError as exc:
            raise from_validation(exc, source=self.site_label, prefix=site_path.split(".")) from None

    def _credentials(self, role: str) -> Credentials:
        section = self.cf.router if role == "router" else self.cf.lb
        creds = section.credentials if section and section.credentials else None
        values = creds.model_dump(exclude_none=True) if creds else {}
        values.setdefault("username", DEFAULT_USERNAMES[role])
        if creds is not None and creds.password is not None:
            values["password"] = creds.password
        return self._validate(
            Credentials,
            _site_path(self.sitefile, self.name, f"{'router' if role == 'router' else 'lb'}.credentials"),
            **values,
        )

    def build(self, facts: kube.KubeFacts | None) -> Cluster:
        cf = self.cf
        hosts = {r: [h for h in self.hosts if h.role == r] for r in ("router", "lb", "master", "node")}
        nic = _nic_index(cf.router.node_interface if cf.router and cf.router.node_interface else "eth1")
        gateway = next((self.servers[h.name].gateway for h in self.hosts if self.servers[h.name].gateway), None)

        # Router
        routers: list[Router] = []
        router_asn = cf.router.asn if cf.router and cf.router.asn else DEFAULT_ROUTER_ASN
        bgp_values = cf.router.bgp.model_dump(exclude_none=True) if cf.router and cf.router.bgp else {}
        if cf.router and cf.router.bgp and cf.router.bgp.password is not None:
            bgp_values["password"] = cf.router.bgp.password
        bgp = self._validate(BGP, _site_path(self.sitefile, self.name, "router.bgp"), asn=router_asn, **bgp_values)
        if not hosts["router"]:
            self.missing["router"] = f"no server in the state has the router role ({self.state.source})"
        if len(hosts["router"]) > 1:
            self.warn(f"{self.name}: {len(hosts['router'])} routers; the model's router is {hosts['router'][0].name}")
        for h in hosts["router"]:
            h.credentials = self._credentials("router")
            node_address = h.addresses.get(nic)
            if node_address is None:
                self.missing["router.node_address"] = (
                    f"router {h.name} has no node-side address (NIC {nic}): set router.node_address in the site "
                    "file or publish it as the Terraform output k8s_router_internal_ipaddress"
                )
                continue
            rf = cf.router
            routers.append(
                self._validate(
                    Router,
                    _site_path(self.sitefile, self.name, "router"),
                    name=h.name,
                    management_address=h.hostname,
                    dialect=(rf.dialect if rf and rf.dialect else "auto"),
                    public_interface=(rf.public_interface if rf and rf.public_interface else "eth0"),
                    public_address=(rf.public_address if rf and rf.public_address else h.addresses[0]),
                    node_interface=(rf.node_interface if rf and rf.node_interface else f"eth{nic}"),
                    node_address=node_address,
                    description=(rf.description if rf and rf.description else "k8s-nodes"),
                    bgp=bgp,
                    credentials=h.credentials,
                    revert_in_place=(rf.revert_in_place if rf and rf.revert_in_place is not None else True),
                )
            )
        router = routers[0] if routers else None

        # Nodes and masters (tfstate)
        apiserver_port = cf.apiserver_port or 6443
        masters = [
            Master(
                name=h.name,
                address=h.addresses[0].ip,
                internal_address=h.addresses[1].ip if 1 in h.addresses else None,
                apiserver_port=apiserver_port,
                tainted=h.tainted,
            )
            for h in hosts["master"]
        ]
        nodes = [
            Node(
                name=h.name,
                address=h.addresses[0].ip,
                internal_address=h.addresses[1].ip if 1 in h.addresses else None,
                tainted=h.tainted,
            )
            for h in hosts["node"]
        ]

        # Kubernetes
        speaker_asn = cf.speaker_asn or DEFAULT_SPEAKER_ASN
        speakers: list[Speaker] = []
        peers: list[MetalLBPeer] = []
        pools: list[Pool] = []
        services = []
        router_ips = {router.public_address.ip, router.node_address.ip} if router else set()
        if facts is not None:
            self.warnings.extend(f"{self.name}: {w}" for w in facts.warnings)
            peers = list(facts.peers)
            pools = list(facts.pools)
            services = list(facts.services)
            my_peers = [p for p in peers if p.peer_address in router_ips]
            my_peer = my_peers[0] if my_peers else (peers[0] if peers else None)
            if my_peer is not None:
                speaker_asn = my_peer.my_asn
                if cf.speaker_asn and cf.speaker_asn != my_peer.my_asn:
                    self.disagreements.append(
                        f"MetalLB my-asn {my_peer.my_asn} differs from the site file's speaker_asn {cf.speaker_asn}"
                    )
            for p in peers:
                if router and p.peer_address not in router_ips:
                    self.disagreements.append(
                        f"MetalLB peer {p.name or '?'} has peer address {p.peer_address}, which is not the router "
                        f"({router.public_address.ip})"
                    )
                if p.peer_asn != router_asn:
                    self.disagreements.append(
                        f"MetalLB peer {p.name or '?'} expects router ASN {p.peer_asn}, the site model has {router_asn}"
                    )
            if facts.metallb_source is None:
                self.warn(f"{self.name}: no MetalLB configuration found in Kubernetes")
            by_addr = {n.address: n for n in nodes}
            by_name = {n.name: n for n in nodes}
            matched: set[str] = set()
            for kn in facts.nodes:
                tn = by_name.get(kn.name) or (by_addr.get(kn.internal_ip) if kn.internal_ip else None)
                if tn is None:
                    if kn.name in {m.name for m in masters} or (kn.internal_ip in {m.address for m in masters}):
                        continue  # a control-plane node
                    self.disagreements.append(f"node {kn.name} ({kn.internal_ip}) is in Kubernetes but not in tfstate")
                    if kn.internal_ip is not None:
                        nodes.append(Node(name=kn.name, address=kn.internal_ip, source="kubernetes"))
                else:
                    matched.add(tn.name)
                    if kn.internal_ip is not None and kn.internal_ip != tn.address:
                        self.disagreements.append(
                            f"node {kn.name}: InternalIP {kn.internal_ip} but tfstate address {tn.address}"
                        )
                    idx = nodes.index(tn)
                    nodes[idx] = tn.model_copy(update={"source": "tfstate+kubernetes"})
                if kn.speaker_ready and my_peers and not any(p.selects(kn.labels) for p in my_peers):
                    continue  # the peer's nodeSelectors leave this node's speaker out: it never peers here
                if kn.speaker_ready:
                    address = kn.internal_ip or (tn.address if tn else None)
                    if address is None:
                        self.warn(f"{self.name}: node {kn.name} runs a speaker but has no IPv4 InternalIP; skipped")
                        continue
                    speakers.append(Speaker(name=tn.name if tn else kn.name, address=address, asn=speaker_asn))
            for n in nodes:
                if n.source == "tfstate" and n.name not in matched:
                    self.disagreements.append(f"node {n.name} ({n.address}) is in tfstate but not in Kubernetes")
            speakers_source = "kubernetes"
            if not speakers:
                self.warn(f"{self.name}: no node runs a Ready MetalLB speaker: the router will have no BGP neighbors")
        else:
            speakers = [Speaker(name=n.name, address=n.address, asn=speaker_asn) for n in nodes]
            speakers_source = "tfstate"

        site_pools = self._site_pools()
        if pools:
            if site_pools and {tuple(p.addresses) for p in site_pools} != {tuple(p.addresses) for p in pools}:
                self.disagreements.append(
                    "MetalLB pools in Kubernetes ("
                    + ", ".join(str(a) for p in pools for a in p.addresses)
                    + ") differ from the site file's ("
                    + ", ".join(str(a) for p in site_pools for a in p.addresses)
                    + ")"
                )
        else:
            pools = site_pools or self._tfstate_pools(router)
        if not pools:
            self.missing["pools"] = "no MetalLB pool: not in Kubernetes, the site file (metallb.pools) or tfstate"

        # node subnet
        node_subnet = cf.node_subnet or "auto"
        if node_subnet == "auto":
            if router and nodes and all(n.address in router.node_address.network for n in nodes):
                node_subnet = "private"
            else:
                node_subnet = "proxy-arp"

        cluster = Cluster(
            name=self.name,
            order=self.order,
            router=router,
            speakers=speakers,
            nodes=nodes,
            masters=masters,
            pools=pools,
            services=services,
            wireguard=self._wireguard(),
            api_lb=self._api_lb(hosts["lb"]),
            node_subnet=node_subnet,  # type: ignore[arg-type]
            missing=self.missing,
            warnings=self.warnings,
            gateway=gateway,
            speakers_source=speakers_source,  # type: ignore[arg-type]
            metallb_peers=peers,
            disagreements=self.disagreements,
        )
        return cluster

    def _site_pools(self) -> list[Pool]:
        if not self.cf.metallb or not self.cf.metallb.pools:
            return []
        out = []
        for i, p in enumerate(self.cf.metallb.pools):
            try:
                nets = kube._networks(p.addresses, "addresses")
            except InputError:
                raise InputError(
                    "addresses must be CIDRs or a-b ranges",
                    source=self.site_label,
                    path=_site_path(self.sitefile, self.name, "metallb.pools") + f"[{i}].addresses",
                ) from None
            out.append(Pool(name=p.name, addresses=nets))
        return out

    def _tfstate_pools(self, router: Router | None) -> list[Pool]:
        for name in POOL_OUTPUTS:
            output = self.state.output(name)
            if output is None:
                continue
            values = output.plain()
            values = values if isinstance(values, list) else [values]
            try:
                nets = kube._networks(values, name)
            except InputError:
                raise InputError("not a CIDR or a-b range", source=self.state.source, path=output.path) from None
            return [Pool(name=name, addresses=nets)]
        subnets = [s for s in self.state.subnets if router is None or s.next_hop in (None, router.public_address.ip)]
        if subnets:
            return [Pool(name="routed", addresses=[s.network for s in subnets])]
        return []

    def _wireguard(self) -> WireGuard | None:
        wf = self.cf.wireguard
        if wf is None:
            self.missing["wireguard"] = (
                f"no wireguard section for cluster {self.name} in the site file (clusters.{self.name}.wireguard "
                "or defaults.wireguard)"
            )
            return None
        required = ["address", "private_key", "peer_public_key", "endpoint", "allowed_ips"]
        absent = [f for f in required if getattr(wf, f) is None]
        for f in absent:
            self.missing[f"wireguard.{f}"] = f"wireguard.{f} is not set in the site file"
        if absent:
            return None
        assert wf.endpoint is not None
        host, _, port = wf.endpoint.rpartition(":")
        epath = _site_path(self.sitefile, self.name, "wireguard.endpoint")
        try:
            endpoint = IPv4Address(host)
            endpoint_port = int(port)
        except ValueError:
            raise InputError(f"{wf.endpoint!r} is not ADDRESS:PORT", source=self.site_label, path=epath) from None
        values = wf.model_dump(exclude_none=True, exclude={"endpoint", "private_key"})
        return self._validate(
            WireGuard,
            _site_path(self.sitefile, self.name, "wireguard"),
            private_key=wf.private_key,
            endpoint_address=endpoint,
            endpoint_port=endpoint_port,
            **values,
        )

    def _api_lb(self, lbs: list[HostFacts]) -> ApiLB | None:
        lf = self.cf.lb
        vip: IPv4Address | None = lf.vip if lf and lf.vip else None
        if vip is None:
            out = self.state.output("vip_address")
            if out is not None and out.plain():
                try:
                    vip = IPv4Address(str(out.plain()))
                except ValueError:
                    raise InputError(
                        f"{out.shown()!r} is not a valid IPv4 address", source=self.state.source, path=out.path
                    ) from None
        if vip is None:
            self.missing["api_lb.vip"] = "no API VIP: set lb.vip in the site file or the Terraform output vip_address"
        if lf is None or lf.auth_pass is None:
            self.missing["api_lb.auth_pass"] = "no VRRP auth secret reference: set lb.auth_pass in the site file"
        if len(lbs) != 2:
            self.missing["api_lb.lbs"] = f"an API LB pair needs 2 lb servers, the state has {len(lbs)}"
        if vip is None or len(lbs) != 2:
            for h in lbs:
                h.credentials = self._credentials("lb")
            return None
        priorities = list(lf.priorities) if lf and lf.priorities else list(DEFAULT_LB_PRIORITIES)
        ppath = _site_path(self.sitefile, self.name, "lb.priorities")
        if len(priorities) != 2 or priorities[0] == priorities[1]:
            raise InputError("give two different priorities (first LB, second LB)", source=self.site_label, path=ppath)
        ordered = sorted(lbs, key=lambda h: h.name)
        top = max(priorities)
        members = []
        for h, prio in zip(ordered, priorities, strict=True):
            h.credentials = self._credentials("lb")
            members.append(
                LoadBalancer(
                    name=h.name,
                    address=h.addresses[0].ip,
                    management_address=h.hostname,
                    interface=(lf.interface if lf and lf.interface else "eth0"),
                    priority=prio,
                    state="MASTER" if prio == top else "BACKUP",
                    credentials=h.credentials,
                )
            )
        values: dict[str, Any] = {"vip": vip, "lbs": members}
        if lf is not None:
            if lf.frontend_port:
                values["frontend_port"] = lf.frontend_port
            if lf.virtual_router_id:
                values["virtual_router_id"] = lf.virtual_router_id
            if lf.auth_pass is not None:
                values["auth_pass"] = lf.auth_pass
        return self._validate(ApiLB, _site_path(self.sitefile, self.name, "lb"), **values)


def _index_key(index: int | str | None) -> tuple[int, int | str]:
    if isinstance(index, int):
        return (0, index)
    if isinstance(index, str):
        return (1, index)
    return (-1, 0)


def _nic_index(interface: str) -> int:
    m = re.fullmatch(r"eth(\d+)", interface)
    return int(m.group(1)) if m else 1


__all__ = [
    "DEFAULT_ROLE_RULES",
    "HostFacts",
    "InventorySources",
    "LoadResult",
    "host_slice",
    "load",
]
