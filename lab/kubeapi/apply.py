"""Server-side apply and field ownership (managedFields), as the Kubernetes API server does it (pure).

Sources (kubernetes.io "Server-Side Apply"; kubernetes/kubernetes staging/src/k8s.io/apimachinery/pkg/util/
managedfields/internal: conflict.go, stripmeta.go, manager identifiers in fieldmanager; sigs.k8s.io/
structured-merge-diff merge/update.go):

- Apply (PATCH ``application/apply-patch+yaml``, ``fieldManager`` required): the fields of the applied
  config become the manager's set (operation ``Apply``). A field another manager owns with a *different*
  value is a conflict (409) unless ``force=true``, which moves ownership to the applier. Equal values are
  shared. Fields the manager applied before and leaves out now are removed from the object unless another
  manager still owns them.
- Update (POST, PUT, merge/strategic/JSON patch; ``fieldManager`` defaults to the user agent's prefix up to
  the first ``/``): the updater owns every field whose value it changed (operation ``Update``, keyed by
  apiVersion); the others lose those fields.
- stripmeta.go: ``apiVersion``, ``kind``, ``metadata.name``/``namespace``/``creationTimestamp``/``selfLink``/
  ``uid``/``generation``/``managedFields``/``resourceVersion`` are never owned. ``status`` is owned only
  through the status subresource, which the stand-in does not serve, so it is left out too.
- Conflict texts: conflict.go (``Apply failed with 1 conflict: conflict with "kubectl-edit" using
  metallb.io/v1beta2: .spec.holdTime``; ``printManager`` names an Update manager with its apiVersion: the
  identifier leaves the time out, fieldmanager BuildManagerIdentifier).

Deviation, named: lists are atomic (one field). That is what the metallb.io CRDs declare (no
``x-kubernetes-list-type``: addresses, ipAddressPools, nodeSelectors); the built-in kinds' keyed lists
(a Service's ports) are treated as atomic as well.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

Path_ = tuple[str, ...]
STRIPPED_META = {"name", "namespace", "creationTimestamp", "selfLink", "uid", "generation", "managedFields"}
STRIPPED_META |= {"resourceVersion", "clusterName"}


class ApplyConflict(Exception):
    def __init__(self, causes: list[dict[str, str]], message: str) -> None:
        super().__init__(message)
        self.causes = causes
        self.message = message


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def leaves(obj: dict[str, Any]) -> dict[Path_, Any]:
    """The owned fields of an object: path -> value (maps recurse; scalars, lists and empty maps are leaves)."""
    out: dict[Path_, Any] = {}

    def walk(node: Any, path: Path_) -> None:
        if isinstance(node, dict) and node:
            for k, v in node.items():
                walk(v, (*path, str(k)))
        else:
            out[path] = node

    for key, value in obj.items():
        if key in ("apiVersion", "kind", "status"):
            continue
        if key == "metadata" and isinstance(value, dict):
            for mk, mv in value.items():
                if mk not in STRIPPED_META:
                    walk(mv, ("metadata", mk))
            continue
        walk(value, (key,))
    return out


def path_string(path: Path_) -> str:
    """fieldpath.Path.String(): ``.spec.peerAddress``."""
    return "".join(f".{p}" for p in path)


def to_fields_v1(paths: set[Path_]) -> dict[str, Any]:
    root: dict[str, Any] = {}
    for path in sorted(paths):
        node = root
        for part in path:
            node = node.setdefault(f"f:{part}", {})
    return root


def from_fields_v1(fields: dict[str, Any]) -> set[Path_]:
    out: set[Path_] = set()

    def walk(node: dict[str, Any], path: Path_) -> None:
        children = {k: v for k, v in node.items() if k.startswith("f:")}
        if not children and path:
            out.add(path)
        for k, v in children.items():
            walk(v or {}, (*path, k[2:]))

    walk(fields or {}, ())
    return out


def _get(obj: Any, path: Path_) -> Any:
    for part in path:
        if not isinstance(obj, dict) or part not in obj:
            return _MISSING
        obj = obj[part]
    return obj


_MISSING = object()


def _set(obj: dict[str, Any], path: Path_, value: Any) -> None:
    for part in path[:-1]:
        nxt = obj.get(part)
        if not isinstance(nxt, dict):
            nxt = obj[part] = {}
        obj = nxt
    obj[path[-1]] = copy.deepcopy(value)


def _delete(obj: dict[str, Any], path: Path_) -> None:
    trail = []
    node: Any = obj
    for part in path[:-1]:
        if not isinstance(node, dict) or part not in node:
            return
        trail.append((node, part))
        node = node[part]
    if isinstance(node, dict):
        node.pop(path[-1], None)
    for parent, part in reversed(trail):  # drop maps the removal left empty
        if parent[part] == {}:
            del parent[part]


def manager_key(entry: dict[str, Any]) -> str:
    """fieldmanager BuildManagerIdentifier: the entry without fields and time; Apply entries without apiVersion."""
    ident: dict[str, Any] = {"manager": entry.get("manager", ""), "operation": entry.get("operation", "")}
    if entry.get("operation") != "Apply":
        ident["apiVersion"] = entry.get("apiVersion", "")
    if entry.get("subresource"):
        ident["subresource"] = entry["subresource"]
    return json.dumps(ident, sort_keys=True)


def print_manager(entry: dict[str, Any]) -> str:
    """conflict.go printManager (the identifier has no time, so Update managers print 'using APIVERSION')."""
    text = json.dumps(entry.get("manager", ""))
    if entry.get("subresource"):
        text += f" with subresource {json.dumps(entry['subresource'])}"
    if entry.get("operation") == "Update":
        return f"{text} using {entry.get('apiVersion', '')}"
    return text


def conflict_message(conflicts: list[tuple[dict[str, Any], Path_]]) -> str:
    """conflict.go getConflictMessage."""
    if len(conflicts) == 1:
        entry, path = conflicts[0]
        return f"Apply failed with 1 conflict: conflict with {print_manager(entry)}: {path_string(path)}"
    by_manager: dict[str, list[Path_]] = {}
    entries: dict[str, dict[str, Any]] = {}
    for entry, path in conflicts:
        key = manager_key(entry)
        by_manager.setdefault(key, []).append(path)
        entries[key] = entry
    lines = []
    for key in sorted(by_manager):
        lines.append(f"conflicts with {print_manager(entries[key])}:")
        lines += [f"- {path_string(p)}" for p in by_manager[key]]
    return f"Apply failed with {len(conflicts)} conflicts: " + "\n".join(lines)


def _managers(obj: dict[str, Any] | None) -> list[dict[str, Any]]:
    if not obj:
        return []
    return [dict(e) for e in obj.get("metadata", {}).get("managedFields") or []]


def _entry(manager: str, operation: str, api_version: str, paths: set[Path_], time: str) -> dict[str, Any]:
    return {
        "manager": manager,
        "operation": operation,
        "apiVersion": api_version,
        "time": time,
        "fieldsType": "FieldsV1",
        "fieldsV1": to_fields_v1(paths),
    }


def _finish(
    live: dict[str, Any] | None,
    new: dict[str, Any],
    entries: list[tuple[dict[str, Any], set[Path_]]],
    touched: str,
) -> tuple[dict[str, Any], bool]:
    """Write the managed fields into ``new``; return (object, changed). ``touched``: the key whose time is bumped."""
    out = []
    stamp = now()
    for entry, paths in entries:
        if not paths:
            continue
        old = next((e for e in _managers(live) if manager_key(e) == manager_key(entry)), None)
        unchanged = old is not None and from_fields_v1(old.get("fieldsV1") or {}) == paths
        time = old.get("time", stamp) if unchanged and old is not None else stamp
        if manager_key(entry) == touched and not unchanged:
            time = stamp
        out.append(_entry(entry["manager"], entry["operation"], entry.get("apiVersion", ""), paths, time))
    new.setdefault("metadata", {})["managedFields"] = out
    if live is None:
        return new, True
    before = {k: v for k, v in live.items() if k != "metadata"}
    after = {k: v for k, v in new.items() if k != "metadata"}
    meta_b = {k: v for k, v in live.get("metadata", {}).items() if k != "managedFields"}
    meta_a = {k: v for k, v in new.get("metadata", {}).items() if k != "managedFields"}
    fields_b = [(manager_key(e), from_fields_v1(e.get("fieldsV1") or {})) for e in _managers(live)]
    fields_a = [(manager_key(e), from_fields_v1(e.get("fieldsV1") or {})) for e in out]
    changed = before != after or meta_b != meta_a or sorted(fields_b, key=str) != sorted(fields_a, key=str)
    if not changed:
        return live, False
    return new, True


def apply(
    live: dict[str, Any] | None, applied: dict[str, Any], manager: str, force: bool
) -> tuple[dict[str, Any], bool]:
    """Server-side apply of ``applied`` by ``manager`` onto ``live`` (None: create). Returns (object, changed).

    Raises ApplyConflict (HTTP 409) when another manager owns a field the config sets to another value."""
    want = leaves(applied)
    mine_key = manager_key({"manager": manager, "operation": "Apply"})
    current = live or {}
    have = leaves(current) if live else {}
    entries = [(e, from_fields_v1(e.get("fieldsV1") or {})) for e in _managers(live)]
    previous: set[Path_] = next((p for e, p in entries if manager_key(e) == mine_key), set())
    conflicts: list[tuple[dict[str, Any], Path_]] = []
    for entry, paths in entries:
        if manager_key(entry) == mine_key:
            continue
        for path in sorted(paths & set(want)):
            if have.get(path, _MISSING) != want[path]:
                conflicts.append((entry, path))
    if conflicts and not force:
        causes = [
            {"reason": "FieldManagerConflict", "message": f"conflict with {print_manager(e)}", "field": path_string(p)}
            for e, p in conflicts
        ]
        raise ApplyConflict(causes, conflict_message(conflicts))
    new = copy.deepcopy(current) if live else {"apiVersion": applied.get("apiVersion"), "kind": applied.get("kind")}
    new["apiVersion"] = applied.get("apiVersion", new.get("apiVersion"))
    meta = new.setdefault("metadata", {})
    for key in ("name", "namespace"):
        if key in applied.get("metadata", {}):
            meta.setdefault(key, applied["metadata"][key])
    others: set[Path_] = set()
    out_entries: list[tuple[dict[str, Any], set[Path_]]] = []
    forced = {p for _, p in conflicts}
    for entry, paths in entries:
        if manager_key(entry) == mine_key:
            continue
        kept = paths - forced
        others |= kept
        out_entries.append((entry, kept))
    for path in previous - set(want) - others:
        _delete(new, path)
    for path, value in want.items():
        _set(new, path, value)
    out_entries.append(({"manager": manager, "operation": "Apply", "apiVersion": applied.get("apiVersion")}, set(want)))
    return _finish(live, new, out_entries, mine_key)


def update(
    live: dict[str, Any] | None, new: dict[str, Any], manager: str, api_version: str
) -> tuple[dict[str, Any], bool]:
    """An Update (create, replace, patch) by ``manager``: it owns what it changed; others lose those fields."""
    before = leaves(live) if live else {}
    after = leaves(new)
    changed = {p for p, v in after.items() if before.get(p, _MISSING) != v}
    removed = set(before) - set(after)
    key = manager_key({"manager": manager, "operation": "Update", "apiVersion": api_version})
    entries = [(e, from_fields_v1(e.get("fieldsV1") or {})) for e in _managers(live)]
    out_entries: list[tuple[dict[str, Any], set[Path_]]] = []
    mine: set[Path_] = set()
    for entry, paths in entries:
        if manager_key(entry) == key:
            mine = paths
            continue
        # A changed field also takes its sub-fields from their owners (an atomic value replaces a map).
        kept = {p for p in paths if not any(p[: len(c)] == c for c in changed | removed)}
        out_entries.append((entry, kept))
    mine = {p for p in mine if p not in removed and p in after} | changed
    out_entries.append(({"manager": manager, "operation": "Update", "apiVersion": api_version}, mine))
    new = copy.deepcopy(new)
    return _finish(live, new, out_entries, key)


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = copy.deepcopy(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge_patch(out.get(k), v)
    return out


def json_patch(target: dict[str, Any], ops: list[dict[str, Any]]) -> dict[str, Any]:
    """RFC 6902 (add, remove, replace, test); raises ValueError on a path that does not resolve."""
    doc = copy.deepcopy(target)
    for op in ops:
        parts = [p.replace("~1", "/").replace("~0", "~") for p in str(op.get("path", "")).split("/")[1:]]
        if not parts:
            raise ValueError("empty path")
        parent: Any = doc
        for p in parts[:-1]:
            parent = parent[int(p)] if isinstance(parent, list) else parent[p]
        last = parts[-1]
        kind = op.get("op")
        if kind == "test":
            cur = parent[int(last)] if isinstance(parent, list) else parent.get(last, _MISSING)
            if cur != op.get("value"):
                raise ValueError(f"test failed at {op.get('path')}")
        elif kind in ("add", "replace"):
            if isinstance(parent, list):
                idx = len(parent) if last == "-" else int(last)
                if kind == "add":
                    parent.insert(idx, op.get("value"))
                else:
                    parent[idx] = op.get("value")
            else:
                if kind == "replace" and last not in parent:
                    raise ValueError(f"replace of a missing path {op.get('path')}")
                parent[last] = op.get("value")
        elif kind == "remove":
            if isinstance(parent, list):
                del parent[int(last)]
            elif last in parent:
                del parent[last]
            else:
                raise ValueError(f"remove of a missing path {op.get('path')}")
        else:
            raise ValueError(f"unsupported op {kind!r}")
    return doc
