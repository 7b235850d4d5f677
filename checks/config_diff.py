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
    stale = managed - want.paths
    change = ConfigChange()
    deleted: set[ConfigPath] = set()
    for path in sorted(stale):
        if any(path[: len(d)] == d for d in deleted):
            continue
        node = _highest_deletable(path, have.paths, want.paths, stale)
        deleted.add(node)
        if node == path:
            change.deletes.append(format_path("delete", path, have.valued(path)))
        else:
            change.deletes.append(format_path("delete", node, False))
    for path, line in want.text.items():
        if path not in have.paths:
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
