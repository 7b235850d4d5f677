"""MetalLB plan (read only): what the cluster holds against the render, over the fields edgekit manages
(``metallb_plan``: ``MetalLBPlan``), and the router's BGPPeer taken over or refused (``adopt_or_refuse_peers``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from nornir.core.task import Result, Task

from checks import metallb as checks
from inventory.errors import EdgekitError
from inventory.secrets import K8sSecretReader
from tasks.metallb.kube import ClusterAPI
from tasks.metallb.render import FIELD_MANAGER, RenderedMetalLB, metallb_render


@dataclass
class MetalLBPlan:
    cluster: str
    rendered: RenderedMetalLB
    diffs: list[checks.ObjectDiff]
    stale: list[dict[str, Any]] = field(default_factory=list)  # edgekit's objects no longer rendered
    live: dict[str, dict[str, Any] | None] = field(default_factory=dict)  # object name -> what the cluster held
    notes: list[str] = field(default_factory=list)  # e.g. the router's BGPPeer taken over under its own name

    @property
    def lines(self) -> list[str]:
        return checks.plan_lines(self.diffs)

    def __bool__(self) -> bool:
        return any(self.diffs)


def _name(kind: str, obj: dict[str, Any]) -> tuple[str, str, str]:
    meta = obj.get("metadata") or {}
    return (kind, str(meta.get("namespace", "")), str(meta.get("name", "")))


class DuplicatePeer(EdgekitError):
    """Another BGPPeer (not edgekit's) peers with the router's address: MetalLB refuses two peers for one address."""


def adopt_or_refuse_peers(rendered: RenderedMetalLB, api: ClusterAPI, explicit_name: bool) -> str | None:
    """The router's BGPPeer is known by its address: without a site ``metallb.peer_name``, the cluster's one
    BGPPeer for that address is taken over under its own name (the rendered object is renamed; fields another
    manager owns are conflicts until ``--force-conflicts``), and the note says so. A second BGPPeer for the address
    next to edgekit's would break MetalLB's whole configuration (it rejects duplicate peers): ``DuplicatePeer``."""
    if rendered.form != "crds":
        return None
    ours = next((o for o in rendered.objects if o.get("kind") == "BGPPeer"), None)
    if ours is None:
        return None
    address = (ours.get("spec") or {}).get("peerAddress")
    others = [
        p
        for p in api.list_peers()
        if (p.get("metadata") or {}).get("name") != ours["metadata"]["name"]
        and (p.get("spec") or {}).get("peerAddress") == address
    ]
    mine = api.read("BGPPeer", ours["metadata"]["name"], ours["metadata"]["namespace"]) is not None
    if not others:
        return None
    names = [str((p.get("metadata") or {}).get("name")) for p in others]
    if not explicit_name and not mine and len(others) == 1:
        ours["metadata"]["name"] = names[0]
        return f"BGPPeer metallb-system/{names[0]} peers with {address}: edgekit takes it over"
    raise DuplicatePeer(
        f"BGPPeer metallb-system/{names[0]} (not edgekit's) also peers with {address}, and MetalLB accepts one peer "
        f"per address: take it over with the site file's metallb.peer_name: {names[0]}, or delete it"
    )


def plan_cluster(rendered: RenderedMetalLB, api: ClusterAPI) -> MetalLBPlan:
    """Read each rendered object (and edgekit's labelled ones) and diff over the managed fields. The router's
    BGPPeer: see ``adopt_or_refuse_peers``."""
    note = adopt_or_refuse_peers(rendered, api, rendered.peer_name_explicit)
    diffs: list[checks.ObjectDiff] = []
    live_by_name: dict[str, dict[str, Any] | None] = {}
    wanted = set()
    for obj in rendered.objects:
        kind, ns, name = _name(str(obj["kind"]), obj)
        wanted.add((kind, ns, name))
        live = api.read(kind, name, ns)
        live_by_name[checks.object_name(obj)] = live
        diffs.append(checks.diff_object(obj, live, FIELD_MANAGER, rendered.secrets))
    stale = [o for o in api.list_managed(rendered.form) if _name(str(o.get("kind")), o) not in wanted]
    diffs.extend(checks.ObjectDiff(checks.object_name(o), delete=True) for o in stale)
    return MetalLBPlan(rendered.cluster, rendered, diffs, stale, live_by_name, [note] if note else [])


def metallb_plan(
    task: Task, api: ClusterAPI, rendered: RenderedMetalLB | None = None, k8s_reader: K8sSecretReader | None = None
) -> Result:
    """What ``metallb_apply`` would change (read only). ``result``: MetalLBPlan; ``diff``: its lines."""
    if rendered is None:
        rendered = task.run(task=metallb_render, api=api, k8s_reader=k8s_reader, severity_level=10).result
    assert rendered is not None
    plan = plan_cluster(rendered, api)
    return Result(host=task.host, result=plan, changed=bool(plan), diff="\n".join(plan.lines))
