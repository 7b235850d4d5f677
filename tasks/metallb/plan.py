"""MetalLB plan (read only): what the cluster holds against the render, over the fields edgekit manages
(``metallb_plan``: ``MetalLBPlan``), the router's BGPPeer taken over or refused (``adopt_or_refuse_peers``), the
fields other managers left on it that MetalLB would refuse beside edgekit's (``foreign_removals``), the password
Secret MetalLB would refuse (``check_password_secret``), and the order of the change: stale objects that would
conflict with the new ones are deleted first (``MetalLBPlan.first``), the others after.
"""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass, field
from typing import Any

from nornir.core.task import Result, Task

from checks import metallb as checks
from checks.config_diff import MASK
from inventory.errors import EdgekitError
from inventory.secrets import K8sSecretReader
from tasks.metallb.kube import ClusterAPI, Refused
from tasks.metallb.render import APPLY_ORDER, FIELD_MANAGER, RenderedMetalLB, metallb_render

BASIC_AUTH = "kubernetes.io/basic-auth"
# The BGPPeer's duration fields (api/v1beta2 BGPPeerSpec: metav1.Duration, Go time.ParseDuration text).
DURATIONS = ("holdTime", "keepaliveTime", "connectTime")
_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_UNIT = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def duration_seconds(text: Any) -> float | None:
    """A Go duration (``1m30s``, ``90s``, ``1.5m``, ``0``) in seconds; None when it is not one."""
    if not isinstance(text, str):
        return None
    value = text.strip()
    if value in ("0", "+0", "-0"):
        return 0.0
    sign = -1.0 if value.startswith("-") else 1.0
    value = value.lstrip("+-")
    parts = _DURATION_PART.findall(value)
    if not parts or "".join(n + u for n, u in parts) != value:
        return None
    return sign * sum(float(n) * _UNIT[u] for n, u in parts)


@dataclass
class Removal:
    """A field another manager set on an object edgekit manages, that MetalLB refuses beside edgekit's fields:
    removed (JSON merge patch) before edgekit's apply, ``reason`` said in the plan."""

    obj: dict[str, Any]
    path: tuple[str, ...]
    reason: str
    value: Any = None  # what the cluster held (to put back if the apply is undone)


@dataclass
class MetalLBPlan:
    cluster: str
    rendered: RenderedMetalLB
    diffs: list[checks.ObjectDiff]  # one per rendered object (same order), then one per stale object
    stale: list[dict[str, Any]] = field(default_factory=list)  # edgekit's objects no longer rendered (deleted after)
    live: dict[str, dict[str, Any] | None] = field(default_factory=dict)  # object name -> what the cluster held
    notes: list[str] = field(default_factory=list)  # e.g. the router's BGPPeer taken over under its own name
    first: list[dict[str, Any]] = field(default_factory=list)  # stale objects deleted BEFORE the applies (conflicts)
    removals: list[Removal] = field(default_factory=list)

    @property
    def object_diffs(self) -> list[checks.ObjectDiff]:
        return self.diffs[: len(self.rendered.objects)]

    @property
    def lines(self) -> list[str]:
        """In the order the deploy runs them: conflicting stale objects deleted first, then the applies (in
        dependency order), then the other stale objects deleted."""
        first = {checks.object_name(o) for o in self.first}
        deletes = self.diffs[len(self.rendered.objects) :]
        return [
            *checks.plan_lines(d for d in deletes if d.name in first),
            *checks.plan_lines(self.object_diffs),
            *checks.plan_lines(d for d in deletes if d.name not in first),
        ]

    def __bool__(self) -> bool:
        return any(self.diffs)


def _name(kind: str, obj: dict[str, Any]) -> tuple[str, str, str]:
    meta = obj.get("metadata") or {}
    return (kind, str(meta.get("namespace", "")), str(meta.get("name", "")))


class DuplicatePeer(EdgekitError):
    """Another BGPPeer (not edgekit's) peers with the router's address: MetalLB refuses two peers for one address."""


def adopt_or_refuse_peers(rendered: RenderedMetalLB, api: ClusterAPI, explicit_name: bool) -> str | None:
    """The router's BGPPeer is known by its address: without a site ``metallb.peer_name``, the cluster's one
    BGPPeer for that address is taken over under its own name (the rendered object is renamed, and the venue
    pools' BGPAdvertisements name it; fields another manager owns are conflicts until ``--force-conflicts``), and
    the note says so. A second BGPPeer for the address next to edgekit's would break MetalLB's whole configuration
    (it rejects duplicate peers): ``DuplicatePeer``."""
    if rendered.form != "crds":
        return None
    ours = next((o for o in rendered.objects if o.get("kind") == "BGPPeer"), None)
    if ours is None:
        return None
    address = (ours.get("spec") or {}).get("peerAddress")
    ns = ours["metadata"]["namespace"]
    others = [
        p
        for p in api.list_peers()
        if (p.get("metadata") or {}).get("name") != ours["metadata"]["name"]
        and (p.get("spec") or {}).get("peerAddress") == address
    ]
    mine = api.read("BGPPeer", ours["metadata"]["name"], ns) is not None
    if not others:
        return None
    if explicit_name and all(_edgekits(p) for p in others):
        return None  # edgekit's own under the site's previous peer_name: stale, deleted first (conflicting_stale)
    names = [str((p.get("metadata") or {}).get("name")) for p in others]
    if not explicit_name and not mine and len(others) == 1:
        old = ours["metadata"]["name"]
        ours["metadata"]["name"] = names[0]
        for adv in rendered.objects:
            peers = (adv.get("spec") or {}).get("peers") if adv.get("kind") == "BGPAdvertisement" else None
            if peers:
                adv["spec"]["peers"] = [names[0] if p == old else p for p in peers]
        return f"BGPPeer {ns}/{names[0]} peers with {address}: edgekit takes it over"
    raise DuplicatePeer(
        f"BGPPeer {ns}/{names[0]} (not edgekit's) also peers with {address}, and MetalLB accepts one peer "
        f"per address: take it over with the site file's metallb.peer_name: {names[0]}, or delete it"
    )


def _edgekits(obj: dict[str, Any]) -> bool:
    labels = (obj.get("metadata") or {}).get("labels") or {}
    return labels.get("app.kubernetes.io/managed-by") == "edgekit"


def same_durations(rendered: dict[str, Any], live: dict[str, Any] | None) -> None:
    """A BGPPeer duration the cluster holds in another spelling (``1m30s`` for ``90s``) is the same value: the
    rendered object takes the cluster's text, so the plan shows no change (and an apply would not alter it)."""
    if live is None or rendered.get("kind") != "BGPPeer":
        return
    want, have = rendered.get("spec") or {}, live.get("spec") or {}
    for key in DURATIONS:
        if key in want and key in have and want[key] != have[key]:
            a, b = duration_seconds(want[key]), duration_seconds(have[key])
            if a is not None and a == b:
                want[key] = have[key]


def foreign_removals(rendered: RenderedMetalLB, obj: dict[str, Any], live: dict[str, Any] | None) -> list[Removal]:
    """Fields of the live BGPPeer that edgekit does not render and MetalLB would refuse beside what it renders:

    - inline ``password`` beside edgekit's ``passwordSecret`` (a peer converted by MetalLB's configmaptocrs):
      metallb/metallb v0.14.9 internal/config/config.go peerFromCR "can not have both password and secret ref
      set in peer config" (the controller refuses the whole config; the webhook does not see it, it clears
      passwordSecret first: internal/config/validator.go resetTransientErrorsFields);
    - ``keepaliveTime`` when edgekit renders none (MetalLB then derives holdTime/3, what the router runs) and the
      left one is not that: above the hold time it is refused (parseTimers "invalid keepaliveTime %q, must be lower
      than holdTime %q"), below it the two ends disagree; in native mode any keepaliveTime is refused
      (internal/config/validation.go DiscardFRROnly "peer %s has keepalive-time set on native bgp mode");
    - ``bfdProfile`` in native mode (DiscardFRROnly "peer %s has bfd-profile set on native bgp mode").
    Removed by a merge patch before edgekit's apply; the plan says so."""
    if live is None or obj.get("kind") != "BGPPeer":
        return []
    want, have = obj.get("spec") or {}, live.get("spec") or {}
    out: list[Removal] = []
    if "passwordSecret" in want and have.get("password"):
        out.append(
            Removal(
                obj, ("spec", "password"), "MetalLB refuses an inline password beside passwordSecret", have["password"]
            )
        )
    if "keepaliveTime" not in want and "keepaliveTime" in have:
        hold = duration_seconds(want.get("holdTime"))
        keep = duration_seconds(have.get("keepaliveTime"))
        if rendered.mode == "native":
            out.append(
                Removal(obj, ("spec", "keepaliveTime"), "native BGP mode refuses keepaliveTime", have["keepaliveTime"])
            )
        elif hold is None or keep is None or abs(keep - hold / 3) > 1e-9:
            out.append(
                Removal(
                    obj,
                    ("spec", "keepaliveTime"),
                    f"MetalLB derives holdTime/3 = {hold / 3 if hold else 0:g}s, the router's keepalive",
                    have["keepaliveTime"],
                )
            )
    if rendered.mode == "native" and "bfdProfile" not in want and have.get("bfdProfile"):
        out.append(Removal(obj, ("spec", "bfdProfile"), "native BGP mode refuses bfdProfile", have["bfdProfile"]))
    return out


def check_password_secret(rendered: RenderedMetalLB, api: ClusterAPI) -> None:
    """The Secret the BGPPeer's ``passwordSecret`` names must be ``kubernetes.io/basic-auth`` with key
    ``password`` (metallb/metallb v0.14.9 internal/config/config.go passwordFromSecretForPeer: "secret type mismatch
    on %q/%q, type %q is expected", "password not specified in the secret %q/%q"; MetalLB's controller refuses the
    whole configuration, which no apply sees). Checked before anything is applied: ``Refused``."""
    peer = next((o for o in rendered.objects if o.get("kind") == "BGPPeer"), None)
    ref = ((peer or {}).get("spec") or {}).get("passwordSecret") or {}
    if not ref.get("name"):
        return
    name, ns = str(ref["name"]), str(ref.get("namespace") or peer["metadata"]["namespace"])  # type: ignore[index]
    ours = next((o for o in rendered.objects if o.get("kind") == "Secret" and o["metadata"]["name"] == name), None)
    live = api.read("Secret", name, ns)
    what = f"Secret {ns}/{name}"
    if ours is not None:
        if live is not None and live.get("type", "Opaque") != BASIC_AUTH:
            raise Refused(
                what,
                f"has type {live.get('type', 'Opaque')}, MetalLB needs {BASIC_AUTH} and a Secret's type cannot be "
                "changed: delete it, the next deploy recreates it",
            )
        return
    if live is None:
        raise Refused(what, "not found: the BGPPeer's passwordSecret names it (MetalLB refuses the config)")
    if live.get("type", "Opaque") != BASIC_AUTH:
        raise Refused(
            what,
            f"has type {live.get('type', 'Opaque')}: MetalLB refuses a password Secret that is not {BASIC_AUTH} "
            f"(recreate it with `kubectl create secret generic {name} -n {ns} --type={BASIC_AUTH} "
            "--from-literal=password=...`)",
        )
    if "password" not in (live.get("data") or {}) and "password" not in (live.get("stringData") or {}):
        raise Refused(what, "has no key password: MetalLB reads the BGP password from that key")


def _addresses(obj: dict[str, Any]) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    out: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
    for raw in (obj.get("spec") or {}).get("addresses") or []:
        text = str(raw).strip()
        try:
            if "-" in text:
                first, last = (ipaddress.ip_address(p.strip()) for p in text.split("-", 1))
                out.extend(ipaddress.summarize_address_range(first, last))
            else:
                out.append(ipaddress.ip_network(text, strict=False))
        except (ValueError, TypeError):
            continue
    return out


def conflicting_stale(rendered: RenderedMetalLB, stale: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The stale objects MetalLB would refuse the new ones beside, so deleted first (in reverse dependency order):
    a pool whose addresses overlap a rendered pool's (the IPAddressPool webhook: "CIDR %q in pool %q overlaps with
    already defined CIDR %q", internal/config/config.go poolsFor), its BGPAdvertisements, and a BGPPeer for the
    rendered peer's address (a renamed peer)."""
    new_nets = [n for o in rendered.objects if o.get("kind") == "IPAddressPool" for n in _addresses(o)]
    peer = next((o for o in rendered.objects if o.get("kind") == "BGPPeer"), None)
    address = ((peer or {}).get("spec") or {}).get("peerAddress")
    out = []
    for obj in stale:
        kind = obj.get("kind")
        if kind == "IPAddressPool" and any(
            a.version == b.version and a.overlaps(b) for a in _addresses(obj) for b in new_nets
        ):
            out.append(obj)
        elif kind == "BGPPeer" and address and (obj.get("spec") or {}).get("peerAddress") == address:
            out.append(obj)
    gone = {(o.get("metadata") or {}).get("name") for o in out if o.get("kind") == "IPAddressPool"}
    for obj in stale:
        if obj.get("kind") == "BGPAdvertisement" and gone & set((obj.get("spec") or {}).get("ipAddressPools") or []):
            out.append(obj)
    return sorted(out, key=lambda o: -APPLY_ORDER.index(str(o.get("kind"))) if o.get("kind") in APPLY_ORDER else 0)


def plan_cluster(rendered: RenderedMetalLB, api: ClusterAPI) -> MetalLBPlan:
    """Read each rendered object (and edgekit's labelled ones) and diff over the managed fields. The router's
    BGPPeer: see ``adopt_or_refuse_peers``, ``foreign_removals``; its password Secret: ``check_password_secret``."""
    note = adopt_or_refuse_peers(rendered, api, rendered.peer_name_explicit)
    if rendered.form == "crds":
        check_password_secret(rendered, api)
    diffs: list[checks.ObjectDiff] = []
    live_by_name: dict[str, dict[str, Any] | None] = {}
    removals: list[Removal] = []
    wanted = set()
    for obj in rendered.objects:
        kind, ns, name = _name(str(obj["kind"]), obj)
        wanted.add((kind, ns, name))
        live = api.read(kind, name, ns)
        live_by_name[checks.object_name(obj)] = live
        same_durations(obj, live)
        d = checks.diff_object(obj, live, FIELD_MANAGER, rendered.secrets)
        for r in foreign_removals(rendered, obj, live):
            removals.append(r)
            shown = MASK if r.path[-1] == "password" else json.dumps(checks.get_path(live, r.path))
            d.changes.append((".".join(r.path), shown, f"(removed: {r.reason})"))
        diffs.append(d)
    stale = [o for o in api.list_managed(rendered.form) if _name(str(o.get("kind")), o) not in wanted]
    first = conflicting_stale(rendered, stale)
    later = sorted(
        (o for o in stale if o not in first),
        key=lambda o: -APPLY_ORDER.index(str(o.get("kind"))) if o.get("kind") in APPLY_ORDER else 0,
    )
    diffs.extend(checks.ObjectDiff(checks.object_name(o), delete=True) for o in [*first, *later])
    notes = [*([note] if note else []), *rendered.notes]
    if first:
        notes.append(
            "deleted first (MetalLB refuses them beside the new objects): "
            + ", ".join(checks.object_name(o) for o in first)
        )
    return MetalLBPlan(rendered.cluster, rendered, diffs, later, live_by_name, notes, first, removals)


def metallb_plan(
    task: Task, api: ClusterAPI, rendered: RenderedMetalLB | None = None, k8s_reader: K8sSecretReader | None = None
) -> Result:
    """What ``metallb_apply`` would change (read only). ``result``: MetalLBPlan; ``diff``: its lines."""
    if rendered is None:
        rendered = task.run(task=metallb_render, api=api, k8s_reader=k8s_reader, severity_level=10).result
    assert rendered is not None
    plan = plan_cluster(rendered, api)
    return Result(host=task.host, result=plan, changed=bool(plan), diff="\n".join(plan.lines))
