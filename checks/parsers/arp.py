"""VyOS ``show arp``: the IPv4 neighbor table.

- VyOS 1.3 runs net-tools ``/usr/sbin/arp -e -n`` (vyos-1x ``op-mode-definitions/show-arp.xml.in``,
  equuleus): columns Address, HWtype, HWaddress, Flags Mask, Iface; an unresolved entry shows
  ``(incomplete)`` in place of HWtype and HWaddress.
- VyOS 1.4+ runs vyos-1x ``src/op_mode/neighbor.py show --family inet``: a ``tabulate`` table Address,
  Interface, Link layer address, State (the address is empty for an INCOMPLETE or FAILED entry).

No TTP template: the 1.4 table's columns are given by its ``----`` line and cells may be empty, which line
patterns cannot tell from a missing column; both layouts are read by one regex or by column, and a row that
fits neither is a ParseError naming it.
"""

from __future__ import annotations

import re

from pydantic import ValidationError

from checks.parsers import ParseError
from checks.parsers.models import ArpEntry

COMMAND = "show arp"
_NET_TOOLS = re.compile(
    r"^(?P<ip>\d+\.\d+\.\d+\.\d+)\s+(?:(?P<hwtype>\S+)\s+(?P<mac>(?:[0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2})\s+"
    r"(?P<flags>[CMPA]+)(?:\s+(?P<mask>\S+))?|\(incomplete\))\s+(?P<iface>\S+)$"
)
_MAC = re.compile(r"(?:[0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}")


def parse(text: str) -> list[ArpEntry]:
    lines = [line.rstrip() for line in text.splitlines()]
    if not any(line.strip() for line in lines):
        return []
    heading = next((i for i, line in enumerate(lines) if line.startswith("Address")), None)
    if heading is None:
        raise ParseError(COMMAND, "no 'Address ...' heading", text)
    try:
        if "HWaddress" in lines[heading]:
            return [_net_tools(line) for line in lines[heading + 1 :] if line.strip()]
        if "Link layer address" in lines[heading] and heading + 1 < len(lines):
            return _tabulated(lines[heading], lines[heading + 1], lines[heading + 2 :])
    except ValidationError as exc:
        raise ParseError(COMMAND, f"bad field ({str(exc).splitlines()[0]})", text) from None
    raise ParseError(COMMAND, "a heading that is neither arp -e's nor neighbor.py's", lines[heading])


def _net_tools(line: str) -> ArpEntry:
    match = _NET_TOOLS.match(line)
    if match is None:
        raise ParseError(COMMAND, "a row that is not 'ADDRESS ether MAC FLAGS IFACE' or '(incomplete)'", line)
    return ArpEntry(ip=match["ip"], interface=match["iface"], mac=match["mac"], state=match["flags"] or "incomplete")


def _tabulated(heading: str, rule: str, body: list[str]) -> list[ArpEntry]:
    spans = [(m.start(), m.end()) for m in re.finditer(r"-+", rule)]
    names = [heading[start:end].strip() for start, end in spans[:-1]] + [heading[spans[-1][0] :].strip()]
    if names != ["Address", "Interface", "Link layer address", "State"]:
        raise ParseError(
            COMMAND, f"columns {names} where VyOS prints Address, Interface, Link layer address, State", heading
        )
    entries = []
    for line in body:
        if not line.strip():
            continue
        gaps = "".join(line[end : spans[i + 1][0]] for i, (_, end) in enumerate(spans[:-1]))
        cells = [line[start:end].strip() for start, end in spans[:-1]] + [line[spans[-1][0] :].strip()]
        ip, interface, mac, state = cells
        if gaps.strip() or not ip or not interface or not state or (mac and not _MAC.fullmatch(mac)):
            raise ParseError(COMMAND, "a row that does not fit the Address/Interface/MAC/State columns", line)
        entries.append(ArpEntry(ip=ip, interface=interface, mac=mac or None, state=state))
    return entries
