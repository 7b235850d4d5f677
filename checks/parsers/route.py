"""``show ip route <prefix>`` (detail) and ``show ip route`` (table) from FRR / VyOS."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import ValidationError

from checks.parsers import ParseError, _ttp
from checks.parsers.models import NextHop, RouteEntry

T = TypeVar("T")
COMMAND = "show ip route <prefix>"
TABLE_COMMAND = "show ip route"
TEMPLATE = "route"

# zebra_route_char() -> zebra_route_string()
PROTOCOLS = {
    "K": "kernel",
    "C": "connected",
    "L": "local",
    "S": "static",
    "R": "rip",
    "O": "ospf",
    "I": "isis",
    "B": "bgp",
    "E": "eigrp",
    "N": "nhrp",
    "T": "table",
    "v": "vnc",
    "V": "vnc-direct",
    "A": "babel",
    "D": "sharp",
    "F": "pbr",
    "f": "openfabric",
}
_NOT_FOUND = "Network not in table"
_FLAG_WORDS = {"inactive", "onlink", "linkdown", "(recursive)", "(duplicate nexthop removed)"}
# what show_nexthop_detail_helper prints after the address, comma-separated (zebra/zebra_vty.c)
_HOP_KEYWORDS = {"via", "weight", "src", "rmapsrc", "mtu", "label", "backup"}

# The lines zebra prints (FRRouting/frr zebra/zebra_vty.c vty_show_ip_route_detail, show_nexthop_detail_helper,
# zebra_show_ip_route_opaque; the same from FRR 7.5 to 10.4). A next hop line must be one the template reads;
# any other line is a ParseError naming it.
_HOP = re.compile(r"^  [*qrtob ] +(?:[0-9a-fA-F:.]+(?:,| |$)|directly connected|unreachable)")
_DETAIL_OTHER = re.compile(
    r"^(?:Routing entry for |  Known via |  Last update |  (?:Installed |Received )?Nexthop Group ID: \d+$"
    r"|    Opaque Data: |    [A-Za-z][A-Za-z -]*?\s*: |    b)"
)
_TABLE_ROUTE = re.compile(r"^[A-Za-z](?:\[\d+\])?[ >][ *qrtob] [0-9a-fA-F:.]+/\d+ ")
_TABLE_HOP = re.compile(r"^  [*qrtob ] +(?:via |is directly connected|unreachable)")
_TABLE_OTHER = re.compile(r"^(?:Codes: |       |IPv[46] unicast VRF )")


def parse(text: str) -> list[RouteEntry]:
    """All route entries for the prefix (zebra may hold several, e.g. bgp and static); none: empty list."""
    if "Routing entry for" not in text:
        if _NOT_FOUND in text:
            return []
        raise ParseError(COMMAND, "no 'Routing entry for' line", text)
    entries = _ttp.rows(_ttp.run(TEMPLATE, text).get("entries"))
    try:
        result = [_entry(row) for row in entries]
    except (ValidationError, ValueError, KeyError) as exc:
        raise ParseError(COMMAND, f"bad field ({str(exc).splitlines()[0]})", text) from None
    _every_line_read(text, sum(len(e.nexthops) for e in result), _HOP, _DETAIL_OTHER, COMMAND)
    return result


def parse_table(text: str) -> list[RouteEntry]:
    """Every route of ``show ip route`` (the codes legend is skipped); an empty table is an empty list."""
    if "> - selected route" not in text and "Codes:" not in text:
        if not text.strip():
            return []
        raise ParseError(TABLE_COMMAND, "no 'Codes:' legend", text)
    rows = _ttp.rows(_ttp.run(TEMPLATE, text).get("routes"))
    try:
        result = [_table_route(row) for row in rows]
    except (ValidationError, ValueError, KeyError) as exc:
        raise ParseError(TABLE_COMMAND, f"bad field ({str(exc).splitlines()[0]})", text) from None
    hops = sum(len(r.nexthops) for r in result)
    _every_line_read(
        text, hops, re.compile(f"{_TABLE_ROUTE.pattern}|{_TABLE_HOP.pattern}"), _TABLE_OTHER, TABLE_COMMAND
    )
    return result


def _every_line_read(text: str, hops: int, hop: re.Pattern[str], other: re.Pattern[str], command: str) -> None:
    """Each non-blank line is a next hop line (as many as were read) or one of the other lines zebra prints."""
    hop_lines = []
    for line in text.splitlines():
        if not line.strip():
            continue
        if hop.match(line):
            hop_lines.append(line)
        elif not other.match(line):
            raise ParseError(command, "a line that is neither a route, a next hop nor a line zebra prints", line)
    if len(hop_lines) != hops:
        raise ParseError(
            command, f"{len(hop_lines)} next hop lines, {hops} understood", hop_lines[0] if hop_lines else ""
        )


def _entry(row: dict[str, Any]) -> RouteEntry:
    flags = row.get("flags", "")
    nexthops = [_hop_or_error(_detail_hop, r["hop"], COMMAND) for r in _ttp.rows(row.get("nexthops"))]
    return RouteEntry(
        prefix=row["prefix"],
        protocol=row["protocol"],
        distance=row["distance"],
        metric=row["metric"],
        selected=", best" in flags,
        fib=any(n.fib for n in nexthops),
        uptime=row.get("uptime"),
        nexthops=nexthops,
    )


def _hop_or_error(decode: Callable[[str], T], text: str, command: str) -> T:
    try:
        return decode(text)
    except (ValidationError, ValueError, KeyError) as exc:
        raise ParseError(command, f"a next hop that does not decode ({str(exc).splitlines()[0]})", text) from None


def _detail_hop(hop: str) -> NextHop:
    """``* 10.77.1.11, via eth1, weight 1`` / ``* directly connected, eth1`` / ``* unreachable (blackhole)``."""
    status, rest = hop[0], hop[1:]
    resolver = rest.startswith("   ")
    parts = rest.strip().split(", ")
    words = _words(parts)
    first = parts[0]
    hop_kw: dict[str, Any] = {}
    if first == "directly connected":
        hop_kw["directly_connected"] = True
        hop_kw["interface"] = parts[1] if len(parts) > 1 else None
    elif first.startswith("unreachable"):
        hop_kw["blackhole"] = True
    else:
        hop_kw["address"] = str(ipaddress.ip_address(first))  # ValueError (a ParseError) if it is not one
        for part in parts[1:]:
            if part.startswith("via "):
                hop_kw["interface"] = part[4:]
            elif part.split(" ", 1)[0] not in _HOP_KEYWORDS:
                raise ValueError(f"next hop part {part!r}")
    for part in parts[1:]:
        if part.startswith("weight "):
            hop_kw["weight"] = part[7:]
    return NextHop(
        fib=status == "*",
        active="inactive" not in words,
        recursive="(recursive)" in words,
        resolver=resolver,
        **hop_kw,
    )


def _words(parts: list[str]) -> set[str]:
    """Strip trailing flag words ("inactive", "onlink", ...) off the parts in place; return the words seen."""
    seen: set[str] = set()
    for index, part in enumerate(parts):
        tokens = part.split(" ")
        while len(tokens) > 1 and tokens[-1] in _FLAG_WORDS:
            seen.add(tokens.pop())
        parts[index] = " ".join(tokens)
    return seen


def _table_route(row: dict[str, Any]) -> RouteEntry:
    codes, rest = row["codes"], row["rest"]
    distance = metric = 0
    if rest.startswith("["):
        close = rest.index("]")
        distance_text, _, metric_text = rest[1:close].partition("/")
        distance, metric = int(distance_text), int(metric_text)
        rest = rest[close + 1 :].lstrip()
    first, uptime = _hop_or_error(lambda t: _table_hop(codes[-1], t), rest, TABLE_COMMAND)
    nexthops = [first]
    for more in _ttp.rows(row.get("more")):
        hop, _ = _hop_or_error(lambda t: _table_hop(t[0], t[1:].strip()), more["hop"], TABLE_COMMAND)
        nexthops.append(hop)
    return RouteEntry(
        prefix=row["prefix"],
        protocol=PROTOCOLS.get(codes[0], codes[0]),
        distance=distance,
        metric=metric,
        selected=codes[-2] == ">",
        fib=any(n.fib for n in nexthops),
        uptime=uptime,
        nexthops=nexthops,
    )


def _table_hop(status: str, text: str) -> tuple[NextHop, str | None]:
    """``via 10.77.1.11, eth1, weight 1, 00:00:02`` / ``is directly connected, eth1, 00:00:05``."""
    parts = text.split(", ")
    uptime = parts.pop() if len(parts) > 1 and parts[-1][:1].isdigit() else None
    words = _words(parts)
    first = parts[0]
    hop_kw: dict[str, Any] = {}
    if first.startswith("is directly connected") or first == "directly connected":
        hop_kw["directly_connected"] = True
        hop_kw["interface"] = parts[1] if len(parts) > 1 else None
    elif first.startswith("unreachable"):
        hop_kw["blackhole"] = True
    else:
        hop_kw["address"] = str(ipaddress.ip_address(first.removeprefix("via ")))
        if len(parts) > 1 and not parts[1].startswith("weight "):
            hop_kw["interface"] = parts[1]
    for part in parts[1:]:
        if part.startswith("weight "):
            hop_kw["weight"] = part[7:]
    hop = NextHop(
        fib=status == "*",
        active="inactive" not in words,
        recursive="(recursive)" in words,
        **hop_kw,
    )
    return hop, uptime
