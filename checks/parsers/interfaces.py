"""VyOS ``show interfaces``: name, addresses, admin/link state (S/L), description, and (1.4+) MAC, VRF, MTU.

Two layouts, both printed by vyos-1x ``src/op_mode``:

- VyOS 1.3 (``show_interfaces.py`` ``run_show_intf_brief``; 1.4+ keeps it as ``show interfaces summary``,
  ``interfaces.py`` ``_format_show_summary``) and the Perl-era 1.2: ``'%-16s %-33s %-4s %s'`` (Interface, IP
  Address, S/L, Description). Further addresses and the further lines of a long description (cut at the
  terminal width by ``_split_text``) go on the following lines in their own columns; an address of 33
  characters or more stands alone after the name (``'%-16s %s'``) and S/L + description follow on the
  next line.
- VyOS 1.4 and later (``interfaces.py`` ``_format_show_summary_extended``, the default of ``show
  interfaces`` since vyos-1x commit bd873274d, T5747): a ``tabulate`` table with the columns Interface, IP
  Address, MAC, VRF, MTU, S/L, Description; a cell with several lines (addresses, a wrapped description)
  continues on the next lines in its column, the others blank.

No TTP template: both are fixed-column tables whose cells may continue on further lines, and the column
boundaries are given by the ``----`` line under the heading. TTP matches whole lines against patterns and
cannot attach a continuation fragment to the column it stands in, which a wrapped description needs. Every
line is read by its column positions; a line that does not fit them is a ParseError naming it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pydantic import ValidationError

from checks.parsers import ParseError
from checks.parsers.models import Interface

COMMAND = "show interfaces"
_ADMIN = {"u": "up", "A": "admin-down", "D": "down"}
_LINK = {"u": "up", "D": "down", "A": "down"}
_STATE = re.compile(r"[uAD]/[uAD]")
_ADDRESS = re.compile(r"[0-9a-fA-F:.]+(?:/\d+)?")
_MAC = re.compile(r"(?:[0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}|n/a")
# '%-16s %-33s %-4s %s': the columns of the VyOS 1.3 layout
_NAME_END, _ADDR_START, _ADDR_END, _STATE_START, _DESC_START = 16, 17, 50, 51, 56


@dataclass
class _Row:
    name: str
    addresses: list[str] = field(default_factory=list)
    state: str = ""
    description: list[str] = field(default_factory=list)
    mac: str | None = None
    vrf: str | None = None
    mtu: int | None = None


def parse(text: str) -> list[Interface]:
    lines = text.split("\n")
    heading = next((i for i, line in enumerate(lines) if line.startswith("Interface") and "S/L" in line), None)
    if heading is None or heading + 1 >= len(lines) or not lines[heading + 1].startswith("---"):
        raise ParseError(COMMAND, "no 'Interface ... S/L' heading with its '---' line", text)
    body = [line.rstrip() for line in lines[heading + 2 :]]
    if "MAC" in lines[heading]:
        rows = _tabulated(lines[heading], lines[heading + 1], body)
    else:
        rows = _fixed(body)
    try:
        return [_interface(row) for row in rows]
    except (ValidationError, ValueError, KeyError) as exc:
        raise ParseError(COMMAND, f"bad field ({str(exc).splitlines()[0]})", text) from None


def _fixed(body: list[str]) -> list[_Row]:
    """The '%-16s %-33s %-4s %s' layout (VyOS 1.2, 1.3; ``show interfaces summary`` in 1.4+)."""
    rows: list[_Row] = []
    for line in body:
        if not line.strip():
            continue
        name = line[:_NAME_END].strip()
        if name:
            if line[_NAME_END] != " ":
                raise ParseError(COMMAND, "an interface name wider than its column", line)
            rows.append(_Row(name))
        elif not rows:
            raise ParseError(COMMAND, "a continuation line before any interface", line)
        row = rows[-1]
        rest = line[_ADDR_START:]
        first = rest.split(" ", 1)[0]
        if len(first) >= _ADDR_END - _ADDR_START and not rest[len(first) :].strip():
            _address(row, first, line)  # an address too long for its column: alone on the line
            continue
        address = line[_ADDR_START:_ADDR_END].strip()
        state = line[_STATE_START : _DESC_START - 1].strip()
        description = line[_DESC_START:].strip()
        if line[_ADDR_END:_STATE_START].strip() or line[_DESC_START - 1 : _DESC_START].strip():
            raise ParseError(COMMAND, "a line whose fields do not stand in their columns", line)
        if address:
            _address(row, address, line)
        if state:
            if not _STATE.fullmatch(state) or row.state:
                raise ParseError(COMMAND, f"an S/L value {state!r} that is not the interface's one state", line)
            row.state = state
        if description:
            row.description.append(description)
    return rows


def _tabulated(heading: str, rule: str, body: list[str]) -> list[_Row]:
    """The tabulate layout of VyOS 1.4+: columns as wide as their '----' runs, two spaces apart."""
    spans = [(m.start(), m.end()) for m in re.finditer(r"-+", rule)]
    names = [heading[start:end].strip() if i + 1 < len(spans) else heading[start:].strip() for i, (start, end) in
             enumerate(spans)]  # fmt: skip
    expected = ["Interface", "IP Address", "MAC", "VRF", "MTU", "S/L", "Description"]
    if names != expected:
        raise ParseError(COMMAND, f"columns {names} where VyOS prints {expected}", heading)
    rows: list[_Row] = []
    for line in body:
        if not line.strip():
            continue
        gaps = "".join(line[end : spans[i + 1][0]] for i, (_, end) in enumerate(spans[:-1]))
        if gaps.strip():
            raise ParseError(COMMAND, "a line whose fields do not stand in their columns", line)
        cells = [line[start:end].strip() for start, end in spans[:-1]] + [line[spans[-1][0] :].strip()]
        name, address, mac, vrf, mtu, state, description = cells
        if name:
            if not (_MAC.fullmatch(mac) and vrf and (mtu.isdigit() or mtu == "n/a") and _STATE.fullmatch(state)):
                raise ParseError(COMMAND, "an interface row without MAC, VRF, MTU and S/L", line)
            rows.append(_Row(name, mac=mac, vrf=vrf, mtu=int(mtu) if mtu.isdigit() else None, state=state))
        elif not rows or mac or vrf or mtu or state:
            raise ParseError(COMMAND, "a continuation line that is not an address or description", line)
        if address:
            _address(rows[-1], address, line)
        if description:
            rows[-1].description.append(description)
    return rows


def _address(row: _Row, address: str, line: str) -> None:
    if address == "-":
        return
    if not _ADDRESS.fullmatch(address):
        raise ParseError(COMMAND, f"{address!r} is not an address", line)
    row.addresses.append(address)


def _interface(row: _Row) -> Interface:
    if not row.state:
        raise ValueError(f"{row.name}: no S/L state")
    admin, _, link = row.state.partition("/")
    return Interface(
        name=row.name,
        addresses=row.addresses,
        admin_state=_ADMIN[admin],
        link_state=_LINK[link],
        description=" ".join(row.description) or None,
        mac=None if row.mac in (None, "n/a") else row.mac,
        vrf=row.vrf,
        mtu=row.mtu,
    )
