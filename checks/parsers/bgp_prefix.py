"""``show ip bgp <prefix>`` from FRR / VyOS: every path with its flags (best, multipath, valid)."""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError

from checks.parsers import ParseError, _ttp
from checks.parsers.models import BgpPath, BgpPrefix

COMMAND = "show ip bgp <prefix>"
TEMPLATE = "bgp_prefix"
_NOT_FOUND = "Network not in table"
_FROM_LINE = re.compile(r"^    \S+.* from \S+ \(")


def parse(text: str) -> BgpPrefix | None:
    """The prefix and its paths; None when the prefix is not in the BGP table."""
    if "BGP routing table entry for" not in text:
        if _NOT_FOUND in text or not text.strip() or text.strip() == "{\n}":
            return None
        raise ParseError(COMMAND, "no 'BGP routing table entry for' line", text)
    result = _ttp.run(TEMPLATE, text)
    entry = _ttp.rows(result.get("entry"))
    try:
        paths = [_path(row) for row in _ttp.rows(result.get("paths"))]
        prefix = BgpPrefix(prefix=entry[0]["prefix"], version=entry[0].get("version"), paths=paths)
    except (ValidationError, ValueError, KeyError, IndexError) as exc:
        raise ParseError(COMMAND, f"bad field ({str(exc).splitlines()[0]})", text) from None
    # Each path has one "NEXTHOP from PEER (ROUTER-ID)" line (bgpd/bgp_route.c route_vty_out_detail): a path
    # block the template did not read is an error, not a path less.
    hop_lines = [line for line in text.splitlines() if _FROM_LINE.match(line)]
    if len(hop_lines) != len(paths):
        parsed = {(p.nexthop, p.from_address) for p in paths}
        missed = next(
            (h for h in hop_lines if tuple(h.split()[0:3:2]) not in parsed), hop_lines[0] if hop_lines else ""
        )
        raise ParseError(COMMAND, f"{len(hop_lines)} paths, {len(paths)} understood; not understood", missed)
    return prefix


def _path(row: dict[str, Any]) -> BgpPath:
    as_path = row["as_path"].partition(", (")[0].strip()
    left, _, right = row["hop"].partition(" from ")
    nexthop = left.split(" ", 1)[0]
    peer, _, router = right.partition(" (")
    if peer.endswith(")") and "(" in peer:  # hostname(address) with bgp default show-hostname
        peer = peer[:-1].split("(", 1)[1]
    if nexthop.endswith(")") and "(" in nexthop:
        nexthop = nexthop[:-1].split("(", 1)[1]
    attrs: dict[str, Any] = {}
    flags: set[str] = set()
    best_reason = None
    for part in row.get("attrs", "").split(", "):
        name, _, value = part.partition(" ")
        if name in ("metric", "localpref", "weight") and value.isdigit():
            attrs[name] = int(value)
        elif name == "best":
            flags.add("best")
            best_reason = value.strip("()") or None
        elif part:
            flags.add(part)
    return BgpPath(
        nexthop=nexthop,
        from_address=peer,
        router_id=router.split(")", 1)[0] or None,
        as_path=as_path,
        origin=row.get("origin"),
        metric=attrs.get("metric"),
        localpref=attrs.get("localpref"),
        valid="valid" in flags,
        best="best" in flags,
        multipath="multipath" in flags,
        external="external" in flags,
        accessible="(inaccessible)" not in left,
        best_reason=best_reason,
        communities=row.get("communities", "").split(),
        large_communities=row.get("large_communities", "").split(),
    )
