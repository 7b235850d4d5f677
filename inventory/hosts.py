"""Hosts from Terraform state: each server's role and addresses (the rules are in ``inventory.build``'s docstring)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Interface
from typing import Any

from inventory import tfstate
from inventory.errors import InputError
from inventory.model import ROLES, Credentials, Role
from inventory.sitefile import ClusterFile, RoleRule, SiteFile

DEFAULT_ROLE_RULES: tuple[RoleRule, ...] = (
    RoleRule(role="router", name=r"^k8s-router-\d+-"),
    RoleRule(role="lb", name=r"^k8s-lb-\d+-"),
    RoleRule(role="master", name=r"^k8s-master-\d+-"),
    RoleRule(role="node", name=r"^k8s-node-\d+-"),
)
DEFAULT_ADDRESS_OUTPUTS: dict[str, str] = {"router:1": "k8s_router_internal_ipaddress"}
DEFAULT_PREFIX = 24
PLATFORMS: dict[str, str] = {"router": "vyos", "lb": "linux", "master": "linux", "node": "linux"}


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


def role_rules(sitefile: SiteFile, label: str) -> list[tuple[re.Pattern[str] | None, RoleRule]]:
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


def site_path(sitefile: SiteFile, cluster: str, dotted: str) -> str:
    """Where a site fact lives: ``clusters.<c>.<dotted>`` if the cluster sets it, else ``defaults.<dotted>``."""
    node: Any = sitefile.clusters.get(cluster)
    for part in dotted.split("."):
        if node is None:
            break
        node = node.get(part) if isinstance(node, dict) else getattr(node, part, None)
    return f"clusters.{cluster}.{dotted}" if node is not None else f"defaults.{dotted}"


class HostBuilder:
    """One cluster's inputs (its state, its site file section) and what building it notes (warnings,
    disagreements, missing facts); ``collect_hosts()`` makes its hosts. ``cluster.ClusterBuilder`` goes on to
    the model."""

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

    def _check_address_outputs(self) -> None:
        """``address_outputs`` keys are ``<role>:<nic>`` with a known role and NIC 1 or up, and every output
        named exists in the state (checked whether or not a host of that role needs it)."""
        for key, out_name in (self.cf.address_outputs or {}).items():
            path = site_path(self.sitefile, self.name, f"address_outputs.{key}")
            role, _, nic = key.partition(":")
            if role not in ROLES:
                raise InputError(
                    f"unknown role {role!r} in {key!r} (the key is ROLE:NIC, ROLE one of {', '.join(ROLES)})",
                    source=self.site_label,
                    path=path,
                )
            if not nic.isdigit() or int(nic) < 1:
                raise InputError(
                    f"{key!r} names no NIC index 1 or up (the key is ROLE:NIC, e.g. router:1; NIC 0 is ip_address)",
                    source=self.site_label,
                    path=path,
                )
            if self.state.output(out_name) is None:
                raise InputError(
                    f"output {out_name!r} is not in {self.state.source}",
                    source=self.site_label,
                    path=path,
                )

    def collect_hosts(self) -> None:
        self._check_address_outputs()
        by_role: dict[Role, list[tfstate.Server]] = {}
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
            by_role[role].sort(key=lambda s: (s.resource, index_key(s.index), s.name))
        overrides = self.cf.hosts or {}
        unknown = sorted(set(overrides) - {s.name for s in self.state.servers})
        for name in unknown:
            self.warn(f"{self.name}: site file names host {name!r}, which is not in the state")

        used: dict[IPv4Address, tuple[str, Role]] = {}
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
                        role=role,
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
                    path=site_path(self.sitefile, self.name, f"hosts.{server.name}.addresses.{key}"),
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
        node_nic = nic_index(
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
                            path=site_path(self.sitefile, self.name, f"address_outputs.{key}"),
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


def index_key(index: int | str | None) -> tuple[int, int | str]:
    if isinstance(index, int):
        return (0, index)
    if isinstance(index, str):
        return (1, index)
    return (-1, 0)


def nic_index(interface: str) -> int:
    m = re.fullmatch(r"eth(\d+)", interface)
    return int(m.group(1)) if m else 1
