"""VyOS ``show configuration commands``: set lines -> (path, value), and set lines <-> a nested tree.

No TTP template: each line is ``set`` followed by words, the last one a single-quoted value (which may hold
spaces, or an escaped quote as ``'\\''``) when the node has a value. TTP's patterns match fixed line shapes,
not a variable-length list of words, so a single tokenising regex (compiled once, C speed) does the work.

Tree form: every path word is a dict key; a leaf holds its value as a string, a list of strings when the
node has several values (``address``), or ``{}`` for a valueless node (``ip enable-proxy-arp``).
"""

from __future__ import annotations

import re
from typing import Any

from checks.parsers import ParseError
from checks.parsers.models import ConfigCommand

COMMAND = "show configuration commands"
Tree = dict[str, Any]

_TOKEN = re.compile(r"'((?:[^']|'\\'')*)'|(\S+)")


def parse(text: str) -> list[ConfigCommand]:
    """Every set line in order; blank lines are skipped, any other line is an error."""
    commands: list[ConfigCommand] = []
    for line in text.splitlines():
        if not line.strip():
            continue
        if not line.startswith("set "):
            raise ParseError(COMMAND, "a line that is not a 'set' command", line)
        tokens = _TOKEN.findall(line[4:])
        value = None
        if tokens and tokens[-1][1] == "" and line.rstrip().endswith("'"):
            value = tokens.pop()[0].replace("'\\''", "'")
        path = tuple(word or quoted.replace("'\\''", "'") for quoted, word in tokens)
        if not path:
            raise ParseError(COMMAND, "a 'set' line without a path", line)
        commands.append(ConfigCommand(path=path, value=value))
    return commands


def to_tree(commands: list[ConfigCommand]) -> Tree:
    tree: Tree = {}
    for command in commands:
        node = tree
        for word in command.path[:-1]:
            child = node.setdefault(word, {})
            if not isinstance(child, dict):
                raise ValueError(f"{' '.join(command.path)}: {word} is a leaf with a value")
            node = child
        leaf = command.path[-1]
        if command.value is None:
            node.setdefault(leaf, {})
        elif leaf not in node or node[leaf] == {}:
            node[leaf] = command.value
        elif isinstance(node[leaf], list):
            node[leaf].append(command.value)
        elif isinstance(node[leaf], str):
            node[leaf] = [node[leaf], command.value]
        else:
            raise ValueError(f"{' '.join(command.path)}: has both children and a value")
    return tree


def from_tree(tree: Tree) -> list[ConfigCommand]:
    commands: list[ConfigCommand] = []
    _walk(tree, (), commands)
    return commands


def _walk(node: Tree, path: tuple[str, ...], out: list[ConfigCommand]) -> None:
    for key, value in node.items():
        here = (*path, key)
        if isinstance(value, dict):
            if value:
                _walk(value, here, out)
            else:
                out.append(ConfigCommand(path=here))
        elif isinstance(value, list):
            out.extend(ConfigCommand(path=here, value=v) for v in value)
        else:
            out.append(ConfigCommand(path=here, value=str(value)))


def render(commands: list[ConfigCommand]) -> str:
    """Set lines as VyOS prints them (values single-quoted)."""
    lines = []
    for command in commands:
        words = " ".join(_word(w) for w in command.path)
        lines.append(f"set {words}" + ("" if command.value is None else f" {_quote(command.value)}"))
    return "\n".join(lines) + ("\n" if lines else "")


def _quote(value: str) -> str:
    return "'" + value.replace("'", "'\\''") + "'"


def _word(word: str) -> str:
    return _quote(word) if not word or any(c.isspace() or c == "'" for c in word) else word
