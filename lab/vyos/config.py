"""The configuration tree: set/delete against the schema, and VyOS's three text forms.

A tree is nested dicts. Tag nodes map each user-given name to its subtree; leaves map each value to
an empty dict (multi leaves keep insertion order); flags and empty presence nodes are empty dicts.
"""

from __future__ import annotations

import copy
import ipaddress
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass

from .schema import Node

Tree = dict[str, "Tree"]


class PathError(Exception):
    """A set/delete that VyOS refuses; ``lines`` are its message lines (without `Set failed`)."""

    def __init__(self, *lines: str) -> None:
        super().__init__("\n".join(lines))
        self.lines = list(lines)


def _natural_key(name: str) -> tuple:
    try:
        ip = ipaddress.ip_network(name, strict=False)
        return (0, ip.version, int(ip.network_address), ip.prefixlen, name)
    except ValueError:
        pass
    parts = re.split(r"(\d+)", name)
    return (1, tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts if p != ""))


def ordered(tree: Tree, spec: Node) -> list[str]:
    """VyOS order: node children alphabetically, tag names naturally, multi values as set."""
    if spec.kind == "leaf":
        return list(tree)
    if spec.kind == "tag":
        return sorted(tree, key=_natural_key)
    return sorted(tree)


# ---------------------------------------------------------------- path walking


@dataclass
class Step:
    """One resolved element of a path: the schema of what sits below ``keys``."""

    keys: list[str]
    spec: Node


def resolve(schema: Node, tokens: list[str], for_delete: bool = False) -> tuple[list[str], Node, str | None]:
    """Check ``tokens`` against the schema.

    Returns (keys of the node, its schema, value) where value is the leaf value (None when the path
    ends at a node). Raises PathError with VyOS's message for unknown paths and bad values.
    """
    spec = schema
    keys: list[str] = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if spec.kind in ("node",):
            child = spec.children.get(tok)
            if child is None:
                raise PathError(_text(schema, "error.path-invalid", path=" ".join(tokens[: i + 1])))
            keys.append(tok)
            spec = child
            i += 1
            if spec.kind == "tag":
                if i == len(tokens):
                    if for_delete:
                        return keys, spec, None
                    raise PathError(_text(schema, "error.requires-value", path=" ".join(tokens)))
                name = tokens[i]
                err = spec.check(name) if spec.check else None
                if err:
                    raise PathError(_value_message(spec, err, name), _text(schema, "error.value-validation-failed"))
                keys.append(name)
                spec = Node("node", spec.children)  # the named entry behaves as a plain container
                i += 1
            elif spec.kind == "leaf":
                if i == len(tokens):
                    if for_delete:
                        return keys, spec, None
                    raise PathError(_text(schema, "error.requires-value", path=" ".join(tokens)))
                if i + 1 != len(tokens):
                    raise PathError(_text(schema, "error.path-invalid", path=" ".join(tokens[: i + 2])))
                value = tokens[i]
                err = spec.check(value) if spec.check else None
                if err and not for_delete:
                    raise PathError(_value_message(spec, err, value), _text(schema, "error.value-validation-failed"))
                return keys, spec, value
            elif spec.kind == "flag":
                if i != len(tokens):
                    raise PathError(_text(schema, "error.path-invalid", path=" ".join(tokens[: i + 1])))
                return keys, spec, None
        else:  # pragma: no cover - the loop only ever sits on containers
            raise PathError(_text(schema, "error.path-invalid", path=" ".join(tokens[: i + 1])))
    return keys, spec, None


def _text(schema: Node, key: str, **fields: object) -> str:
    """The ledger's text for the schema's dialect (lab/vyos/ledger, ERRORS)."""
    from lab.vyos.ledger import text

    return text(schema.version or "1.4", key, **fields)


def _value_message(spec: Node, err: str, value: str) -> str:
    """VyOS's message for a refused value: the ledger's for that node (constraintErrorMessage, a node.def
    syntax message or `Invalid value`), else the lab's own check message."""
    if spec.message is None:
        return err
    return spec.message.replace("{value}", value)


def schema_at(schema: Node, keys: list[str]) -> Node:
    """The schema of the container reached by ``keys`` (tag names included)."""
    spec = schema
    i = 0
    while i < len(keys):
        spec = spec.children[keys[i]]
        i += 1
        if spec.kind == "tag" and i < len(keys):
            spec = Node("node", spec.children)
            i += 1
    return spec


def _get(tree: Tree, keys: list[str]) -> Tree | None:
    cur: Tree | None = tree
    for k in keys:
        if cur is None or k not in cur:
            return None
        cur = cur[k]
    return cur


def exists(tree: Tree, keys: list[str]) -> bool:
    return _get(tree, keys) is not None


def value(tree: Tree, *keys: str) -> str | None:
    """The (first) value of a leaf, or None."""
    sub = _get(tree, list(keys))
    return next(iter(sub)) if sub else None


def values(tree: Tree, *keys: str) -> list[str]:
    sub = _get(tree, list(keys))
    return list(sub) if sub else []


def sub(tree: Tree, *keys: str) -> Tree:
    return _get(tree, list(keys)) or {}


def has(tree: Tree, *keys: str) -> bool:
    return _get(tree, list(keys)) is not None


def set_path(tree: Tree, schema: Node, tokens: list[str]) -> list[str]:
    """Apply one `set`; returns informational lines (e.g. 'already exists')."""
    keys, spec, val = resolve(schema, tokens)
    cur = tree
    for k in keys:
        cur = cur.setdefault(k, {})
    if spec.kind == "leaf":
        assert val is not None
        if val in cur:
            return [_text(schema, "error.already-exists", path=" ".join(tokens))] if spec.multi else []
        if not spec.multi:
            cur.clear()
        cur[val] = {}
    return []


def delete_path(tree: Tree, schema: Node, tokens: list[str]) -> None:
    keys, spec, val = resolve(schema, tokens, for_delete=True)
    parent = _get(tree, keys[:-1]) if keys else None
    target = _get(tree, keys)
    if parent is None or target is None or (val is not None and val not in target):
        raise PathError(_text(schema, "error.nothing-to-delete"))
    if val is not None and spec.kind == "leaf":
        del target[val]
        if not target:
            del parent[keys[-1]]
    else:
        del parent[keys[-1]]
    _prune(tree, schema, keys[:-1])


def _prune(tree: Tree, schema: Node, keys: list[str]) -> None:
    """Remove containers left empty by a delete, unless an empty one means something."""
    while keys:
        target = _get(tree, keys)
        spec = schema_at(schema, keys)
        if target is None or target or spec.presence:
            return
        is_tag_entry = len(keys) >= 2 and schema_at(schema, keys[:-1]).kind == "tag"
        if is_tag_entry:
            return  # `neighbor X` stays as an (empty) entry like on VyOS
        parent = _get(tree, keys[:-1])
        assert parent is not None
        del parent[keys[-1]]
        keys = keys[:-1]


# ---------------------------------------------------------------- text forms


def _quote_set(v: str) -> str:
    return "'" + v.replace("'", "'\\''") + "'"


def set_commands(tree: Tree, schema: Node) -> list[str]:
    """`show configuration commands`: tag names bare, values single-quoted."""
    out: list[str] = []

    def walk(t: Tree, spec: Node, path: list[str]) -> None:
        if spec.kind == "flag" or (spec.kind == "node" and not t):
            out.append("set " + " ".join(path))
            return
        for k in ordered(t, spec):
            if spec.kind == "leaf":
                out.append("set " + " ".join(path) + " " + _quote_set(k))
            elif spec.kind == "tag":
                walk(t[k], Node("node", spec.children, presence=True), path + [k])
            else:
                walk(t[k], spec.children[k], path + [k])

    for k in ordered(tree, schema):
        walk(tree[k], schema.children[k], [k])
    return out


_BARE = re.compile(r"^[A-Za-z0-9._/:@+=,-]+$")


def _quote_boot(v: str) -> str:
    return v if _BARE.match(v) else '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'


@dataclass
class Entry:
    """One printable element of the curly form: ``label {`` block, or a single line."""

    label: str
    tree: Tree | None  # None: a single line (leaf value or flag)
    spec: Node | None


# vyatta-cfg src/cnode/cnode-algorithm.cpp _print_value_str() (equuleus, 1.3.x tags, sagitta, 1.4.0-epa2,
# current: the same code): with `--show-hide-secrets`, the value of a node whose name ends in one of these is
# printed as 16 asterisks (no quotes). Op-mode `show configuration` and `show configuration all` pass the flag
# (vyos-1x op-mode-definitions/show-configuration.xml.in, 1.3.8, 1.4.0, current, "<!-- no admin check -->": every
# user, whatever their group); `show configuration commands` (`showCfg --show-active-only |
# vyos-config-to-commands`), config-mode `show` (vyatta-cfg functions/interpreter/vyatta-cfg-run
# vyatta_config_show: `showCfg` without it) and `show | commands` print values in clear.
SECRET_SUFFIXES = ("passphrase", "password", "pre-shared-secret", "key")
HIDDEN = "****************"


def hidden(name: str) -> bool:
    """Whether ``--show-hide-secrets`` masks the values of leaf ``name`` (``private-key``, ``public-key``, ...)."""
    return name.endswith(SECRET_SUFFIXES)


def entries(tree: Tree, spec: Node, hide_secrets: bool = False) -> Iterator[Entry]:
    for k in ordered(tree, spec):
        child = spec.children[k]
        if child.kind == "leaf":
            for v in tree[k]:
                shown = HIDDEN if hide_secrets and hidden(k) else _quote_boot(v)
                yield Entry(f"{k} {shown}", None, None)
        elif child.kind == "flag":
            yield Entry(k, None, None)
        elif child.kind == "tag":
            inner = Node("node", child.children, presence=True)
            for name in ordered(tree[k], child):
                yield Entry(f"{k} {_quote_boot(name)}", tree[k][name], inner)
        else:
            yield Entry(k, tree[k], child)


def render_entry(e: Entry, indent: int, hide_secrets: bool = False) -> list[str]:
    pad = "    " * indent
    if e.tree is None:
        return [pad + e.label]
    assert e.spec is not None
    lines = [pad + e.label + " {"]
    for c in entries(e.tree, e.spec, hide_secrets):
        lines += render_entry(c, indent + 1, hide_secrets)
    lines.append(pad + "}")
    return lines


def curly(tree: Tree, spec: Node, indent: int = 0, hide_secrets: bool = False) -> list[str]:
    """`show configuration` (``hide_secrets``) / config.boot body and config-mode `show` (in clear)."""
    lines: list[str] = []
    for e in entries(tree, spec, hide_secrets):
        lines += render_entry(e, indent, hide_secrets)
    return lines


def diff(old: Tree, new: Tree, spec: Node, path: list[str] | None = None) -> list[str]:
    """`compare`, VyOS 1.4 style: a `[path]` header, then `+`/`-` lines of what changed below it."""
    path = path or []
    out: list[str] = []
    here: list[str] = []
    old_e = {e.label: e for e in entries(old, spec)}
    new_e = {e.label: e for e in entries(new, spec)}
    nested: list[str] = []
    for label in sorted(set(old_e) | set(new_e), key=_label_key):
        o, n = old_e.get(label), new_e.get(label)
        if o and not n:
            here += ["- " + line for line in render_entry(o, 0)]
        elif n and not o:
            here += ["+ " + line for line in render_entry(n, 0)]
        elif o and n and o.tree is not None and n.tree is not None:
            assert n.spec is not None
            nested += diff(o.tree, n.tree, n.spec, path + label.split(" ", 1))
    if here:
        out.append("[" + " ".join(path) + "]")
        out += here
    return out + nested


def _label_key(label: str) -> tuple:
    key = label.split(" ", 1)
    return (key[0], _natural_key(key[1]) if len(key) > 1 else ())


# ---------------------------------------------------------------- parsing


def split_command(line: str) -> list[str]:
    return shlex.split(line)


def parse_set_lines(lines: list[str]) -> list[list[str]]:
    """Set-command lines (``set a b 'c'``) to token lists; blank lines and comments skipped."""
    out = []
    for line in lines:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        toks = split_command(line)
        if toks[0] != "set":
            raise PathError(f"not a set command: {line}")
        out.append(toks[1:])
    return out


def parse_boot(text: str) -> list[list[str]]:
    """config.boot (curly) text to set paths. Also accepts a file of set commands."""
    body = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    lines = [ln for ln in body.splitlines() if ln.strip() and not ln.strip().startswith("//")]
    if lines and lines[0].strip().startswith("set "):
        return parse_set_lines(lines)
    stack: list[list[str]] = [[]]
    opened_empty: list[bool] = []
    paths: list[list[str]] = []
    for raw in lines:
        line = raw.strip()
        if line == "}":
            path = stack.pop()
            if opened_empty.pop():
                paths.append(path)
            continue
        opens = line.endswith("{")
        toks = shlex.split(line[:-1] if opens else line)
        if opened_empty:
            opened_empty[-1] = False
        if opens:
            stack.append(stack[-1] + toks)
            opened_empty.append(True)
        else:
            paths.append(stack[-1] + toks)
    if len(stack) != 1:
        raise PathError("unbalanced braces in configuration file")
    return paths


def build(schema: Node, paths: list[list[str]]) -> Tree:
    tree: Tree = {}
    for p in paths:
        set_path(tree, schema, p)
    return tree


def clone(tree: Tree) -> Tree:
    return copy.deepcopy(tree)
