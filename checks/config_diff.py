"""Compare a VyOS router's running configuration with the intended one, within the managed subtrees.

Both sides are set lines (``show configuration commands`` on the device, rendered templates for the
intent). The result is the change that turns running into intended: ``delete`` lines first (collapsed
to the highest node that holds nothing else), then ``set`` lines. Lines outside the managed scope are
never touched, so what edgekit does not own survives every deploy.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from checks.parsers import config_commands

ConfigPath = tuple[str, ...]
ScopePredicate = Callable[[ConfigPath], bool]

# Leaves whose values are secrets: masked in every plan, diff and report whatever the value.
SECRET_LEAVES = frozenset({"password", "private-key", "pre-shared-key", "preshared-key", "auth_pass"})
MASK = "********"

# What VyOS prints instead of a secret: vyatta-cfg src/cnode/cnode-algorithm.cpp _print_value_str() (equuleus,
# sagitta, current), with `--show-hide-secrets`, prints the value of any node whose name ends in passphrase,
# password, pre-shared-secret or key (private-key, public-key, pubkey, ...) as 16 asterisks. Op-mode
# `show configuration [all]` passes that flag; `show configuration commands`, which edgekit reads, does not. A
# masked value is no value: it is never compared, never deleted by value and never written back.
VYOS_HIDDEN = "****************"
VYOS_SECRET_SUFFIXES = ("passphrase", "password", "pre-shared-secret", "key")


def hidden(path: ConfigPath) -> bool:
    """Whether a (valued) path ends in a value VyOS masked."""
    return len(path) >= 2 and path[-1].strip("'\"") == VYOS_HIDDEN and path[-2].endswith(VYOS_SECRET_SUFFIXES)


_SUFFIXES = "|".join(map(re.escape, VYOS_SECRET_SUFFIXES))
_HIDDEN_VALUE = re.compile(r"(?:^|\s)\S*(?:" + _SUFFIXES + r")\s+'?" + re.escape(VYOS_HIDDEN) + r"'?(?:\s|$)")


def has_hidden_value(line: str) -> bool:
    """Whether a set line carries a masked value: such a line must never be sent to a router."""
    return _HIDDEN_VALUE.search(line) is not None


def quote(token: str) -> str:
    return "'" + token.replace("'", "'\\''") + "'"


def format_path(verb: str, path: ConfigPath, valued: bool) -> str:
    """A command line in VyOS's own style: node names bare, the value (if any) single-quoted."""
    if valued:
        return " ".join((verb, *path[:-1], quote(path[-1])))
    return " ".join((verb, *path))


@dataclass
class ConfigChange:
    """What turns running into intended; empty when they agree."""

    deletes: list[str] = field(default_factory=list)
    sets: list[str] = field(default_factory=list)
    # intended nodes whose running value came masked (VYOS_HIDDEN), as paths: not compared, nothing set for them
    uncompared: list[str] = field(default_factory=list)

    @property
    def commands(self) -> list[str]:
        return [*self.deletes, *self.sets]

    def __bool__(self) -> bool:
        return bool(self.deletes or self.sets)


class ManagedScope:
    """Which running lines edgekit owns: paths under any of ``prefixes``, or accepted by ``predicates``."""

    def __init__(self, prefixes: Iterable[ConfigPath] = (), predicates: Iterable[ScopePredicate] = ()) -> None:
        self.prefixes = tuple(prefixes)
        self.predicates = tuple(predicates)

    def __contains__(self, path: ConfigPath) -> bool:
        return any(path[: len(p)] == p for p in self.prefixes) or any(pred(path) for pred in self.predicates)


class ConfigTree:
    """The set lines of one side, keyed by path (value last), with the original text of each line."""

    def __init__(self, lines: Sequence[str]) -> None:
        self.text: dict[ConfigPath, str] = {}
        self._valued: set[ConfigPath] = set()
        set_lines = [line.strip() for line in lines if line.strip().startswith("set ")]
        for line, command in zip(set_lines, config_commands.parse("\n".join(set_lines)), strict=True):
            path = command.path if command.value is None else (*command.path, command.value)
            if command.value is not None:
                self._valued.add(path)
            self.text.setdefault(path, line)

    @property
    def paths(self) -> set[ConfigPath]:
        return set(self.text)

    def valued(self, path: ConfigPath) -> bool:
        """Whether the last token is a value (quoted in VyOS output) rather than a node name."""
        return path in self._valued


def diff(running: Sequence[str], intended: Sequence[str], scope: ManagedScope) -> ConfigChange:
    """The change that makes the managed part of ``running`` equal ``intended``."""
    have = ConfigTree(running)
    want = ConfigTree(intended)
    outside = [p for p in want.paths if p not in scope]
    if outside:
        raise ValueError(f"intended line outside the managed scope: {want.text[sorted(outside)[0]]}")
    managed = {p for p in have.paths if p in scope}
    change = ConfigChange()
    masked = {p[:-1]: p for p in managed if have.valued(p) and hidden(p)}
    # A masked running value stands for whatever the router holds: an intended value at that node is not a
    # change (it cannot be compared); with no intended value at that node the leaf is stale and is deleted by
    # its node path (never by the masked value).
    wanted_nodes = {p[:-1] for p in want.paths if want.valued(p)}
    stale = {p for p in managed - want.paths if not (p in masked.values() and p[:-1] in wanted_nodes)}
    change.uncompared = [" ".join(node) for node in sorted(masked) if node in wanted_nodes]
    deleted: set[ConfigPath] = set()
    for path in sorted(stale):
        if any(path[: len(d)] == d for d in deleted):
            continue
        node = _highest_deletable(path, have.paths, want.paths, stale)
        deleted.add(node)
        if node == path and hidden(path):
            change.deletes.append(format_path("delete", path[:-1], False))
        elif node == path:
            change.deletes.append(format_path("delete", path, have.valued(path)))
        else:
            change.deletes.append(format_path("delete", node, False))
    for path, line in want.text.items():
        if path not in have.paths and not (want.valued(path) and path[:-1] in masked):
            change.sets.append(line)
    return change


def _highest_deletable(
    path: ConfigPath, running: set[ConfigPath], intended: set[ConfigPath], stale: set[ConfigPath]
) -> ConfigPath:
    """The shortest prefix of ``path`` (2 tokens at least) under which every running line is stale
    and no intended line lives: deleting it removes nothing edgekit should keep."""
    for length in range(2, len(path) + 1):
        node = path[:length]
        if any(p[:length] == node for p in intended):
            continue
        if all(p in stale for p in running if p[:length] == node):
            return node
    return path


# A secret leaf and its quoted value, wherever it stands (a config line, or an error quoting one).
_SECRET_VALUE = re.compile(r"\b(?P<leaf>" + "|".join(map(re.escape, SECRET_LEAVES)) + r") '[^']*'")


def mask_line(line: str, secrets: Iterable[str] = ()) -> str:
    """The text with secret leaves' values and any known secret value replaced by the mask."""
    line = _SECRET_VALUE.sub(lambda m: f"{m.group('leaf')} '{MASK}'", line)
    for secret in secrets:
        if secret:
            line = line.replace(secret, MASK)
    return line
