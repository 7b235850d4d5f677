"""The Nornir projection: the JSON-able slice of the site model each host carries (``data["model"]``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from inventory.hosts import HostFacts
from inventory.model import Cluster


def _dump(model: BaseModel | None) -> Any:
    return None if model is None else model.model_dump(mode="json")


@dataclass
class ByName:
    """A cluster's masters, nodes and speakers by name: one lookup per host instead of a scan (10,000 servers)."""

    masters: dict[str, Any]
    nodes: dict[str, Any]
    speakers: dict[str, Any]

    @classmethod
    def of(cls, cluster: Cluster) -> ByName:
        def first(items: list[Any]) -> dict[str, Any]:
            out: dict[str, Any] = {}
            for item in items:
                out.setdefault(item.name, item)  # the first one wins, as the scan did
            return out

        return cls(first(cluster.masters), first(cluster.nodes), first(cluster.speakers))


def host_slice(cluster: Cluster, host: HostFacts, by_name: ByName | None = None) -> dict[str, Any]:
    """The part of the site model one host needs, JSON-able; SecretRefs appear as references only."""
    if by_name is None:
        by_name = ByName.of(cluster)
    base: dict[str, Any] = {"cluster": cluster.name, "order": cluster.order}
    if host.role == "router":
        router = cluster.router if cluster.router and cluster.router.name == host.name else None
        return {
            **base,
            "refused": list(cluster.refused),
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
