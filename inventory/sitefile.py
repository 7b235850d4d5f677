"""The site file: the facts neither Terraform state nor Kubernetes holds (YAML).

Every field is optional; ``defaults`` applies to every cluster and ``clusters.<name>`` overrides it
(deep merge, cluster wins). Unknown keys are errors, so a typo names itself, and so is a key given twice
in one mapping (YAML would silently keep the second). Example::

    rollout: [dev, wsp, prd]
    defaults:
      speaker_asn: 65021
      router:
        asn: 65020
        credentials: {username: vyos, ssh_key_file: ~/.ssh/edgekit, password: {env: EDGEKIT_ROUTER_PASSWORD}}
      lb:
        credentials: {username: root, ssh_key_file: ~/.ssh/edgekit}
        auth_pass: {env: EDGEKIT_VRRP_PASS}
    clusters:
      prd:
        router: {node_address: 192.168.100.1/24}
        wireguard:
          address: 172.16.100.1/30
          private_key: {file: /etc/edgekit/prd-wg.key}
          peer_public_key: VCFgSmpLXoTRmNpgEQn69w7SVTktFD6r0hVbO+EmcHY=
          endpoint: 198.18.0.2:51820
          allowed_ips: [172.16.100.2/32, 10.88.0.0/24]
          venue_networks: [10.88.0.0/24]
        metallb:                       # what `tasks.metallb` renders (inventory/README.md, MetalLB intent)
          form: auto                   # crds | configmap | auto (ask the cluster)
          # namespace: metallb          # default: where its speaker pods run, else metallb-system
          pools:
            - {name: global-ip, addresses: [198.51.100.0/28]}
            - {name: venue-ip, addresses: [198.51.100.128/28], scope: venue, avoid_buggy_ips: true}
          node_selectors: [{match_labels: {edgekit.io/bgp: "true"}}]
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Interface, IPv4Network
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from inventory.errors import InputError, from_validation, json_path
from inventory.model import ASN, BfdInterval, BfdMultiplier, Dialect, Port
from inventory.secrets import SecretRef


class Partial(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CredentialsFile(Partial):
    username: str | None = None
    password: SecretRef | None = None
    ssh_key_file: str | None = None
    known_hosts_file: str | None = None
    port: Port | None = None


class BGPFile(Partial):
    keepalive: Annotated[int, Field(ge=1, le=65535)] | None = None
    holdtime: Annotated[int, Field(ge=3, le=65535)] | None = None
    password: SecretRef | None = None
    router_id: IPv4Address | None = None


class BFDFile(Partial):
    """``bfd``: BFD between the router and the speakers (on by default, 300 ms x 3)."""

    enabled: bool | None = None
    receive_interval: BfdInterval | None = None
    transmit_interval: BfdInterval | None = None
    multiplier: BfdMultiplier | None = None


class VenueFirewallFile(Partial):
    """``router.venue_firewall``: where the venue rule goes (inventory.model.VenueFirewall)."""

    ruleset: str | None = None
    rule: int | None = None


class RouterFile(Partial):
    asn: ASN | None = None
    dialect: Dialect | Literal["auto"] | None = None
    management_address: str | None = None
    public_interface: str | None = None
    public_address: IPv4Interface | None = None
    node_interface: str | None = None
    node_address: IPv4Interface | None = None
    description: str | None = None
    bgp: BGPFile | None = None
    credentials: CredentialsFile | None = None
    revert_in_place: bool | None = None
    venue_firewall: VenueFirewallFile | None = None


class WireGuardFile(Partial):
    interface: str | None = None
    address: IPv4Interface | None = None
    port: Port | None = None
    private_key: SecretRef | None = None
    key_name: str | None = None
    peer_name: str | None = None
    peer_public_key: str | None = None
    endpoint: str | None = None  # "address:port"
    allowed_ips: list[IPv4Network] | None = None
    keepalive: Annotated[int, Field(ge=0, le=65535)] | None = None
    venue_networks: list[IPv4Network] | None = None
    probe_address: IPv4Address | None = None  # verify pings it through the tunnel


class LBFile(Partial):
    vip: IPv4Address | None = None
    frontend_port: Port | None = None
    virtual_router_id: Annotated[int, Field(ge=1, le=255)] | None = None
    auth_pass: SecretRef | None = None
    interface: str | None = None
    # Priorities of the first and second LB (by name order); the first is MASTER.
    priorities: list[Annotated[int, Field(ge=1, le=254)]] | None = None
    credentials: CredentialsFile | None = None


class PoolFile(Partial):
    name: str
    addresses: list[str]  # CIDRs or "a-b" ranges, as MetalLB writes them
    # global: reachable from everywhere; venue: only through the WireGuard tunnel (router firewall), not
    # assigned unless a Service asks for it (auto_assign defaults to false for venue pools).
    scope: Literal["global", "venue"] = "global"
    auto_assign: bool | None = None
    avoid_buggy_ips: bool | None = None


class SelectorRequirementFile(Partial):
    key: str
    operator: Literal["In", "NotIn", "Exists", "DoesNotExist"]
    values: list[str] = []


class NodeSelectorFile(Partial):
    match_labels: dict[str, str] = {}
    match_expressions: list[SelectorRequirementFile] = []


class MetalLBFile(Partial):
    """MetalLB's intent for the cluster: what ``tasks.metallb`` renders and applies (the pools also serve the
    router when Kubernetes is unreachable, and are compared with Kubernetes when it is)."""

    pools: list[PoolFile] | None = None
    # crds: metallb.io objects; configmap: the legacy metallb-system/config; auto: CRDs when the cluster serves them.
    form: Literal["auto", "crds", "configmap"] | None = None
    # Which nodes' speakers peer with the router (none: every node), as BGPPeer nodeSelectors.
    node_selectors: list[NodeSelectorFile] | None = None
    # The BGPPeer's name (default: the cluster's one BGPPeer for the router's address, taken over; else edgekit-router).
    peer_name: str | None = None
    # MetalLB's namespace (default: where its speaker pods run, else metallb-system; Helm installs anywhere).
    namespace: str | None = None


class HostOverride(Partial):
    """Per-host facts keyed by Terraform server name (e.g. a second NIC's address)."""

    role: Literal["router", "lb", "master", "node"] | None = None
    addresses: dict[str, IPv4Interface] | None = None  # NIC index ("1") -> address/prefix
    management_address: str | None = None  # what edgekit connects to instead of NIC 0's address


class ClusterFile(Partial):
    speaker_asn: ASN | None = None
    node_subnet: Literal["auto", "proxy-arp", "private"] | None = None
    apiserver_port: Port | None = None
    kube_context: str | None = None
    router: RouterFile | None = None
    bfd: BFDFile | None = None
    wireguard: WireGuardFile | None = None
    lb: LBFile | None = None
    metallb: MetalLBFile | None = None
    hosts: dict[str, HostOverride] | None = None
    # Terraform outputs that hold NIC addresses, keyed "<role>:<nic>" (e.g. "router:1"). A string output
    # serves the first host of the role, a list output the role's hosts in index order. Naming an output
    # here that the state lacks is an error; the built-in default (router:1 ->
    # k8s_router_internal_ipaddress) is skipped silently when absent.
    address_outputs: dict[str, str] | None = None


class RoleRule(Partial):
    """A host whose name matches ``name`` (regex) and carries all ``tags`` gets ``role``."""

    role: Literal["router", "lb", "master", "node"]
    name: str | None = None
    tags: list[str] = []


class SiteFile(Partial):
    rollout: list[str] | None = None
    role_rules: list[RoleRule] | None = None
    defaults: ClusterFile = ClusterFile()
    clusters: dict[str, ClusterFile] = {}

    def cluster(self, name: str) -> ClusterFile:
        """``defaults`` deep-merged with ``clusters.<name>`` (the cluster wins)."""
        base = self.defaults.model_dump(exclude_none=True)
        over = self.clusters.get(name, ClusterFile()).model_dump(exclude_none=True)
        return ClusterFile.model_validate(deep_merge(base, over))


def deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def _load_unique(text: str, label: str) -> Any:
    """``yaml.safe_load``, but a key given twice in one mapping is an ``InputError`` (file, line, YAML path).

    PyYAML keeps the last of two equal keys, so a second ``clusters: prd:`` block would silently replace
    the first (and with it, say, its WireGuard section). Merge keys (``<<``) keep their YAML meaning.
    """
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _refuse_duplicates(node, [], label, set())
        return loader.construct_document(node)
    finally:
        loader.dispose()


def _refuse_duplicates(node: yaml.Node, path: list[Any], label: str, visited: set[int]) -> None:
    if id(node) in visited:  # an alias: its anchor was checked already (and may be recursive)
        return
    visited.add(id(node))
    if isinstance(node, yaml.MappingNode):
        seen: dict[Any, int] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                _refuse_duplicates(value_node, path, label, visited)
                continue
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if key is not None and key in seen:
                line = key_node.start_mark.line + 1
                raise InputError(
                    f"key {key!r} appears twice in one mapping (line {line}, first on line {seen[key]}): "
                    "YAML would keep only the second one",
                    source=label,
                    path=json_path([*path, key]),
                )
            if key is not None:
                seen[key] = key_node.start_mark.line + 1
            _refuse_duplicates(value_node, [*path, key if key is not None else "?"], label, visited)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _refuse_duplicates(item, [*path, i], label, visited)


def load_site_file(path: str | Path) -> SiteFile:
    """Read and validate a site file; any problem is one ``InputError`` naming the file and the YAML path."""
    path = Path(path)
    label = str(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise InputError(f"cannot read site file: {exc.strerror}", source=label) from None
    try:
        raw = _load_unique(text, label)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        raise InputError(f"not valid YAML{where}: {getattr(exc, 'problem', None) or exc}", source=label) from None
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise InputError(f"a site file is a mapping, got {type(raw).__name__}", source=label)
    try:
        return SiteFile.model_validate(raw)
    except ValidationError as exc:
        raise from_validation(exc, source=label) from None
