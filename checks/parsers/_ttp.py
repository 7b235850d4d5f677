"""Run the TTP templates in ``ttp/``: one parser object per template and thread, reused between calls."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from ttp import ttp

TEMPLATES = Path(__file__).resolve().parent / "ttp"
_local = threading.local()


def template_text(name: str) -> str:
    return (TEMPLATES / f"{name}.ttp").read_text()


def run(name: str, text: str) -> dict[str, Any]:
    """Parse ``text`` with ``ttp/<name>.ttp``; the template's top-level results as one dict.

    Building a TTP parser compiles the template (about 10 ms), so each thread keeps one per template.
    The text is passed with a leading newline: TTP takes a string naming an existing file or directory as a
    path, which a newline keeps any show output from doing.
    """
    parsers: dict[str, ttp] = getattr(_local, "parsers", None) or {}
    _local.parsers = parsers
    parser = parsers.get(name)
    if parser is None:
        parser = parsers[name] = ttp(template=template_text(name), log_level="ERROR")
    parser.clear_result()
    parser.clear_input()
    parser.add_input("\n" + text + "\n")
    parser.parse(one=True)
    results = parser.result()
    merged: dict[str, Any] = {}
    for item in results[0] if results else []:
        if isinstance(item, dict):
            merged.update(item)
    return merged


def rows(value: Any) -> list[dict[str, Any]]:
    """TTP gives a dict for one match and a list for several: always a list."""
    if value is None:
        return []
    if isinstance(value, dict):
        return [value]
    return list(value)
