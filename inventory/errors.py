"""Errors that name the bad input. Each maps to a CLI exit code."""

from __future__ import annotations


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
