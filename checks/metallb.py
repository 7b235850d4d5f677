"""metallb.config and private.reachability: MetalLB's objects in the cluster against the rendered ones, and a
venue-scoped service answering to the tunnel's address.

The comparison covers the fields edgekit manages only: every leaf edgekit renders (lists are atomic, as in
MetalLB's CRDs, which declare no list keys), and the leaves the object's ``managedFields`` say the ``edgekit``
field manager owns but the render no longer has (a server-side apply would remove them). Fields other
managers own and edgekit does not render (defaults, status, other tools' annotations) are not compared.
Secret values are masked in every line.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from checks.config_diff import MASK
from checks.verdict import CheckResult, failed, passed

CONFIG = "metallb.config"
PRIVATE = "private.reachability"
IDS = (
    CONFIG,
    PRIVATE,
)  # the check ids this module judges

Path = tuple[str, ...]
SHOWN_IN_REASON = 3
_UNSET = object()


def object_name(obj: dict[str, Any]) -> str:
    meta = obj.get("metadata") or {}
    return f"{obj.get('kind')} {meta.get('namespace')}/{meta.get('name')}"


def leaves(value: Any, prefix: Path = ()) -> dict[Path, Any]:
    """Leaf paths of a rendered object: mappings recurse, anything else (lists included) is a leaf."""
    if isinstance(value, dict) and value:
        out: dict[Path, Any] = {}
        for key, sub in value.items():
            out.update(leaves(sub, (*prefix, str(key))))
        return out
    return {prefix: value}


def managed_leaves(rendered: dict[str, Any]) -> dict[Path, Any]:
    """The leaves edgekit sets on an object (apiVersion and kind name it; they are not compared)."""
    return {p: v for p, v in leaves(rendered).items() if p and p[0] not in ("apiVersion", "kind")}


def owned_paths(live: dict[str, Any], manager: str) -> set[Path]:
    """The leaves ``manager`` owns by apply, from the object's ``metadata.managedFields`` (fieldsV1)."""
    out: set[Path] = set()
    for entry in (live.get("metadata") or {}).get("managedFields") or []:
        if entry.get("manager") != manager or entry.get("operation") != "Apply":
            continue
        _walk_fields(entry.get("fieldsV1") or {}, (), out)
    return out


def _walk_fields(node: dict[str, Any], prefix: Path, out: set[Path]) -> None:
    children = [k for k in node if k.startswith("f:")]
    if not children or any(not k.startswith(("f:", ".")) for k in node):
        # A leaf, or a list with keyed items (k:/v:/i:): edgekit treats the whole value as one field.
        if prefix:
            out.add(prefix)
        return
    for key in children:
        _walk_fields(node[key] or {}, (*prefix, key[2:]), out)


def get_path(obj: Any, path: Path) -> Any:
    for part in path:
        if not isinstance(obj, dict) or part not in obj:
            return _UNSET
        obj = obj[part]
    return obj


@dataclass
class ObjectDiff:
    """How one object differs: ``new`` (absent in the cluster), ``delete`` (edgekit's, no longer rendered), or
    changed leaves as (path, live value, wanted value) — ``None`` wanted: edgekit owns it but stopped rendering."""

    name: str
    new: bool = False
    delete: bool = False
    changes: list[tuple[str, Any, Any]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return self.new or self.delete or bool(self.changes)


def _show(value: Any, secrets: Sequence[str]) -> str:
    if value is _UNSET:
        return "(unset)"
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    for secret in secrets:
        if secret:
            text = text.replace(secret, MASK)
    return text


def diff_object(
    rendered: dict[str, Any], live: dict[str, Any] | None, manager: str = "edgekit", secrets: Sequence[str] = ()
) -> ObjectDiff:
    """``live`` (None: absent) against ``rendered``, over the managed fields only."""
    out = ObjectDiff(object_name(rendered))
    if live is None:
        out.new = True
        return out
    want = managed_leaves(rendered)
    for path, value in want.items():
        have = get_path(live, path)
        if have != value:
            out.changes.append((".".join(path), _show(have, secrets), _show(value, secrets)))
    for path in sorted(owned_paths(live, manager)):
        if path in want or path[0] in ("apiVersion", "kind") or any(path[: len(p)] == p for p in want):
            continue
        if any(p[: len(path)] == path for p in want):
            continue  # a parent of a rendered leaf
        have = get_path(live, path)
        if have is not _UNSET:
            out.changes.append((".".join(path), _show(have, secrets), "(removed: edgekit no longer sets it)"))
    return out


def plan_lines(diffs: Iterable[ObjectDiff]) -> list[str]:
    """The change as lines: ``+ KIND ns/name`` to create, ``- KIND ns/name`` to delete, ``~ KIND ns/name path:
    live -> wanted`` per changed field; multi-line values (the legacy ConfigMap's config) as a line diff."""
    import difflib

    lines: list[str] = []
    for d in diffs:
        if d.new:
            lines.append(f"+ {d.name}")
        elif d.delete:
            lines.append(f"- {d.name}")
        for path, have, want in d.changes:
            if "\n" in have or "\n" in want:
                lines.append(f"~ {d.name} {path}:")
                for line in difflib.unified_diff(
                    have.splitlines(), want.splitlines(), "cluster", "edgekit", n=0, lineterm=""
                ):
                    if not line.startswith(("---", "+++", "@@")):
                        lines.append(f"    {line}")
            else:
                lines.append(f"~ {d.name} {path}: {have} -> {want}")
    return lines


def check_config(cluster: str, diffs: Sequence[ObjectDiff], host: str = "metallb") -> CheckResult:
    """metallb.config: the cluster holds exactly what edgekit renders (managed fields)."""
    differing = [d for d in diffs if d]
    lines = plan_lines(differing)
    details = {"objects": len(diffs), "differing": len(differing)}
    if not lines:
        return passed(CONFIG, host, cluster, f"{len(diffs)} MetalLB object(s) as rendered", details=details)
    shown = "; ".join(lines[:SHOWN_IN_REASON]) + (
        f"; ... {len(lines) - SHOWN_IN_REASON} more" if len(lines) > SHOWN_IN_REASON else ""
    )
    return failed(CONFIG, host, cluster, shown, details=details)


def check_private(host: str, cluster: str, subject: str, source: str, ping_output: str) -> CheckResult:
    """private.reachability from the router's ping (sourced from its tunnel address) to a venue-scoped IP."""
    from checks.wireguard import _STATS

    stats = _STATS.search(ping_output)
    if stats is None:
        first = next((line.strip() for line in ping_output.splitlines() if line.strip()), "no output")
        return failed(PRIVATE, host, cluster, f"ping from {source}: {first[:100]}", subject)
    sent, received = int(stats.group(1)), int(stats.group(2))
    if received:
        reason = f"{received}/{sent} replies to {source} (the router's tunnel address)"
        return passed(PRIVATE, host, cluster, reason, subject)
    return failed(PRIVATE, host, cluster, f"0/{sent} replies to {source} (the router's tunnel address)", subject)
