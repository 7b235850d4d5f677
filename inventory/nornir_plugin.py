"""Nornir inventory plugin ``TFStateInventory``: Terraform state + Kubernetes + the site file.

Registered under the ``nornir.plugins.inventory`` entry point (pyproject), so::

    InitNornir(inventory={"plugin": "TFStateInventory",
                          "options": {"states": ["prd=s3://tf/terraform.tfstate?workspace=prd"],
                                      "site": "site.yaml", "kubeconfig": "~/.kube/config"}})

Hosts are Terraform servers (name = the server's ``name``), hostname = management address, groups
``cluster_<name>`` and ``role_<role>``, platform ``vyos`` for routers and ``linux`` for the rest; masters
and nodes carry ``data["managed"] = False`` (data for the router, never connected to).

Passwords: ``Host.password`` stays ``None`` in the inventory, so ``Inventory.dict()``, ``repr`` and any
printing never contain one. Hosts are ``EdgekitHost``, which keeps the site file's ``SecretRef`` and
resolves it only inside ``get_connection_parameters`` (i.e. when netmiko/napalm open a connection);
the resolved value is handed to the connection plugin and not stored on the host.
"""

from __future__ import annotations

import os
from typing import Any

from nornir.core.inventory import (
    ConnectionOptions,
    Defaults,
    Group,
    Groups,
    Host,
    Hosts,
    Inventory,
    ParentGroups,
)

from inventory import ssh
from inventory.build import HostFacts, InventorySources, LoadResult, load
from inventory.kube import KubeFacts
from inventory.model import Cluster, Credentials
from inventory.secrets import K8sSecretReader, SecretRef

NAPALM_PLATFORM = "edgekit_vyos"


class EdgekitHost(Host):
    """A Nornir host whose password is a reference, resolved only when a connection opens.

    ``cluster_model`` and ``kube_facts``: the host's cluster (``inventory.model.Cluster``) and what Kubernetes
    said about it, for edgekit's Nornir tasks (``tasks.library``); attributes, not ``data``, so the host's
    data and ``Inventory.dict()`` are as documented in inventory/README.md.
    """

    __slots__ = ("cluster_model", "kube_facts", "password_ref", "secret_reader")

    def __init__(
        self,
        *args: Any,
        password_ref: SecretRef | None = None,
        secret_reader: K8sSecretReader | None = None,
        cluster_model: Cluster | None = None,
        kube_facts: KubeFacts | None = None,
        **kwargs: Any,
    ) -> None:
        self.cluster_model = cluster_model
        self.kube_facts = kube_facts
        self.password_ref = password_ref
        self.secret_reader = secret_reader
        super().__init__(*args, **kwargs)

    def get_connection_parameters(self, connection: str | None = None) -> ConnectionOptions:
        params = super().get_connection_parameters(connection)
        if params.password is None and self.password_ref is not None:
            secret = self.password_ref.resolve(self.secret_reader, field=f"{self.name}.credentials.password")
            params.password = secret.get_secret_value()
        return params


def _split(value: str | list[str] | tuple[str, ...] | None) -> list[str]:
    if value is None:
        return []
    items = [value] if isinstance(value, str) else list(value)
    return [s.strip() for item in items for s in item.split(",") if s.strip()]


def _ssh_extras(creds: Credentials | None) -> dict[str, Any]:
    """Netmiko ConnectHandler arguments for key and known_hosts (also passed as napalm optional_args).

    Host keys are always checked: against the site file's ``known_hosts_file``, else the user's
    ``~/.ssh/known_hosts``; an unknown host is refused (``--accept-new-host-keys`` records its key before the
    connection opens: ``inventory.ssh.accept_new_host_key``).
    """
    extras: dict[str, Any] = {}
    if creds is not None and creds.ssh_key_file:
        extras.update(use_keys=True, key_file=os.path.expanduser(creds.ssh_key_file))
    known_hosts = ssh.known_hosts_path(creds.known_hosts_file if creds is not None else None)
    extras.update(ssh.netmiko_host_key_args(known_hosts))
    return extras


def connection_options(facts: HostFacts, accept_new_host_keys: bool = False) -> dict[str, ConnectionOptions]:
    extras = _ssh_extras(facts.credentials)
    if facts.role == "router":
        model = facts.data.get("model", {}).get("router") or {}
        dialect = model.get("dialect", "auto")
        optional = {**extras, "dialect": dialect, "inventory_name": facts.name}
        if accept_new_host_keys:
            optional["accept_new_host_keys"] = True
        return {
            "netmiko": ConnectionOptions(platform="vyos", extras={"device_type": "vyos", **extras}),
            "napalm": ConnectionOptions(platform=NAPALM_PLATFORM, extras={"optional_args": optional}),
        }
    if facts.role == "lb":
        return {"netmiko": ConnectionOptions(platform="linux", extras={"device_type": "linux", **extras})}
    return {}


def to_inventory(result: LoadResult, accept_new_host_keys: bool = False) -> Inventory:
    """Nornir hosts from a loaded inventory; ``accept_new_host_keys``: record unknown hosts' keys on first
    use instead of refusing them (changed keys are refused either way)."""
    groups = Groups()
    for cluster in result.site.ordered_clusters():
        groups[f"cluster_{cluster.name}"] = Group(
            name=f"cluster_{cluster.name}", data={"cluster": cluster.name, "order": cluster.order}
        )
    for role in ("router", "lb", "master", "node"):
        if any(h.role == role for h in result.hosts):
            groups[f"role_{role}"] = Group(name=f"role_{role}", data={"role": role})
    defaults = Defaults()
    readers: dict[str, K8sSecretReader | None] = {}
    hosts = Hosts()
    clusters = {c.name: c for c in result.site.ordered_clusters()}
    for facts in result.hosts:
        if facts.cluster not in readers:
            readers[facts.cluster] = result.secret_reader(facts.cluster)
        creds = facts.credentials if facts.managed else None
        data = {
            "cluster": facts.cluster,
            "role": facts.role,
            "managed": facts.managed,
            "tainted": facts.tainted,
            "terraform_address": facts.terraform_address,
            "addresses": {str(k): str(v) for k, v in facts.addresses.items()},
            "password_ref": creds.password.describe() if creds and creds.password else None,
            # What the LB connections need to name the file in errors and to record a new key.
            "ssh": {
                "known_hosts": ssh.known_hosts_path(creds.known_hosts_file if creds else None),
                "accept_new_host_keys": accept_new_host_keys,
            }
            if creds
            else None,
            **facts.data,
        }
        hosts[facts.name] = EdgekitHost(
            name=facts.name,
            hostname=facts.hostname,
            port=creds.port if creds else None,
            username=creds.username if creds else None,
            password=None,
            platform=facts.platform,
            groups=ParentGroups([groups[f"cluster_{facts.cluster}"], groups[f"role_{facts.role}"]]),
            data=data,
            connection_options=connection_options(facts, accept_new_host_keys) if facts.managed else {},
            defaults=defaults,
            password_ref=creds.password if creds else None,
            secret_reader=readers[facts.cluster],
            cluster_model=clusters.get(facts.cluster),
            kube_facts=result.kube_facts.get(facts.cluster),
        )
    return Inventory(hosts=hosts, groups=groups, defaults=defaults)


class TFStateInventory:
    """``TFStateInventory(states=..., site=..., kubeconfig=..., clusters=..., require_k8s=...).load()``.

    ``states`` and ``clusters`` take a list or one comma-separated string. After ``load()``,
    ``self.result`` holds the ``LoadResult`` (site model, warnings, disagreements).
    """

    def __init__(
        self,
        states: str | list[str] | None = None,
        site: str | None = None,
        kubeconfig: str | None = None,
        clusters: str | list[str] | None = None,
        require_k8s: bool = False,
        sources: InventorySources | None = None,
    ) -> None:
        self.sources = sources or InventorySources(
            states=_split(states),
            site=site or None,
            kubeconfig=kubeconfig or None,
            clusters=_split(clusters),
            require_k8s=require_k8s,
        )
        self.result: LoadResult | None = None

    def load(self) -> Inventory:
        self.result = load(self.sources)
        return to_inventory(self.result)
