"""Fixture files that name their source in their first lines.

A fixture starts with one or more header lines beginning ``## `` (no show output this project reads starts a
line that way); the header says ``source:`` (where the text was captured or published) or ``constructed``
(and why). ``load`` returns the text after the header, exactly as the device printed it.
"""

from __future__ import annotations

from pathlib import Path

HEADER = "## "


def header(path: Path) -> list[str]:
    lines = path.read_text().split("\n")
    return [line[len(HEADER) :] for line in _head(lines)]


def load(path: Path) -> str:
    lines = path.read_text().split("\n")
    head = _head(lines)
    if not any("source:" in line or "constructed" in line for line in head):
        raise AssertionError(f"{path}: no '## source: ...' or '## constructed ...' header")
    return "\n".join(lines[len(head) :])


def _head(lines: list[str]) -> list[str]:
    count = 0
    while count < len(lines) and lines[count].startswith(HEADER):
        count += 1
    return lines[:count]
