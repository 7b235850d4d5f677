"""VyOS ``show interfaces``: name, addresses, admin/link state (S/L) and description per interface."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from checks.parsers import ParseError, _ttp
from checks.parsers.models import Interface

COMMAND = "show interfaces"
TEMPLATE = "interfaces"
_ADMIN = {"u": "up", "A": "admin-down", "D": "down"}
_LINK = {"u": "up", "D": "down", "A": "down"}


def parse(text: str) -> list[Interface]:
    if "S/L" not in text or "Interface" not in text:
        raise ParseError(COMMAND, "no 'Interface ... S/L' heading", text)
    rows = _ttp.rows(_ttp.run(TEMPLATE, text).get("interfaces"))
    try:
        return [_interface(row) for row in rows]
    except (ValidationError, ValueError, KeyError) as exc:
        raise ParseError(COMMAND, f"bad field ({str(exc).splitlines()[0]})", text) from None


def _interface(row: dict[str, Any]) -> Interface:
    addresses = [a.strip() for a in row.get("addresses", "").split("\n") if a.strip() not in ("", "-")]
    admin, _, link = row["state"].strip().partition("/")
    description = (row.get("description") or "").strip() or None
    return Interface(
        name=row["name"],
        addresses=addresses,
        admin_state=_ADMIN[admin],
        link_state=_LINK[link],
        description=description,
    )
