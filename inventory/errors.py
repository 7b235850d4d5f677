"""Errors that name the bad input. Each maps to a CLI exit code."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class EdgekitError(Exception):
    """Base class: a one-line message that names the input at fault."""

    exit_code = 1


class InputError(EdgekitError):
    """Bad input: malformed state, unknown role, bad ASN or key, duplicate address (exit 2)."""

    exit_code = 2

    def __init__(self, message: str, *, source: str | None = None, path: str | None = None) -> None:
        self.source = source
        self.path = path
        where = ""
        if source:
            where = source + (f" at {path}" if path else "")
        elif path:
            where = path
        super().__init__(f"{where}: {message}" if where else message)


class SourceUnreachable(EdgekitError):
    """A state backend, Kubernetes API or other source could not be reached (exit 3)."""

    exit_code = 3


class MissingFact(InputError):
    """A feature needs a fact that neither tfstate, Kubernetes nor the site file provides."""


def json_path(parts: Sequence[Any]) -> str:
    """``("resources", 6, "instances", 1, "ip_address")`` -> ``resources[6].instances[1].ip_address``."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def from_validation(exc: Any, *, source: str | None, prefix: Sequence[Any] = ()) -> InputError:
    """The first error of a pydantic ``ValidationError`` as a one-line ``InputError`` naming file and path."""
    first = exc.errors(include_url=False)[0]
    loc = [p for p in first.get("loc", ()) if not (isinstance(p, str) and p.startswith("function-"))]
    message = str(first.get("msg", "invalid value"))
    if first.get("type") == "extra_forbidden":
        message = "unknown key"
    elif "input" in first and first.get("type") not in ("missing",) and not isinstance(first["input"], dict | list):
        message = f"{first['input']!r}: {message}"
    return InputError(message, source=source, path=json_path([*prefix, *loc]) or None)
