"""``show bfd peers`` from FRR bfdd (VyOS 1.3 and 1.4+ ``show bfd peers``).

Every session with its status, diagnostics and both sides' timers. Cross-checked field by field against
``vtysh -c 'show bfd peers json'`` (``checks.parsers.frr_json.bfd_peers``) on real captures.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError

from checks.parsers import ParseError, _ttp
from checks.parsers.models import BfdPeer, BfdPeers, BfdTimers

COMMAND = "show bfd peers"
TEMPLATE = "bfd_peers"
_PEER_LINE = re.compile(r"^\s+peer \S+")
# bfdd/bfd.c integer2timestr: MINUTES 60, HOURS 60 min, DAYS 24 h, MONTHS 30 days, YEARS 12 months.
_UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400, "month": 30 * 86400, "year": 360 * 86400}
_TIME_PART = re.compile(r"^(\d+) (second|minute|hour|day|month|year)\(s\)$")


def parse(text: str) -> BfdPeers:
    """Every BFD session; no session at all is an empty list ("BFD Peers:" and nothing after it)."""
    if "BFD Peer" not in text:
        raise ParseError(COMMAND, "no 'BFD Peers:' heading", text)
    # bfdd indents with tabs, which TTP does not skip as leading whitespace: match the stripped lines.
    result = _ttp.run(TEMPLATE, "\n".join(line.strip() for line in text.splitlines()))
    rows = _ttp.rows(result.get("peers"))
    try:
        peers = [_peer(row) for row in rows]
    except (ValidationError, ValueError, KeyError) as exc:
        raise ParseError(COMMAND, f"bad field ({str(exc).splitlines()[0]})", text) from None
    # Each session has one "peer ..." line (bfdd_vty.c _display_peer_header): a block the template did not
    # read is an error, not a session less.
    lines = [line for line in text.splitlines() if _PEER_LINE.match(line)]
    if len(lines) != len(peers):
        seen = {p.peer for p in peers}
        missed = next((line for line in lines if line.split()[1] not in seen), lines[0] if lines else "")
        raise ParseError(COMMAND, f"{len(lines)} sessions, {len(peers)} understood; not understood", missed)
    return BfdPeers(peers=peers)


def seconds(value: str) -> int:
    """``1 day(s), 2 hour(s), 3 second(s)`` -> seconds."""
    total = 0
    for part in value.split(", "):
        match = _TIME_PART.match(part.strip())
        if not match:
            raise ValueError(f"not a bfdd duration: {value!r}")
        total += int(match.group(1)) * _UNITS[match.group(2)]
    return total


def _interval(value: str | None) -> int | None:
    if value is None:
        return None
    if value == "disabled":
        return 0
    if not value.endswith("ms") or not value[:-2].isdigit():
        raise ValueError(f"not an interval: {value!r}")
    return int(value[:-2])


def _timers(row: Any) -> BfdTimers:
    if isinstance(row, list):  # two blocks under one heading: not this command's layout
        raise ValueError("a timer block appears twice")
    echo_rx, echo_tx = row.get("echo_receive_interval"), row.get("echo_transmit_interval")
    if echo_rx is None and echo_tx is not None:
        # FRR 7.x: the block's only echo line, "Echo transmission interval", prints required_min_echo
        # (FRRouting/frr frr-7.5.1 bfdd/bfdd_vty.c _display_peer), which 8.x+ calls "Echo receive interval"
        echo_rx, echo_tx = echo_tx, None
    return BfdTimers(
        detect_multiplier=int(row["detect_multiplier"]),
        receive_interval=_interval(row["receive_interval"]),
        transmit_interval=_interval(row.get("transmit_interval")),
        echo_receive_interval=_interval(echo_rx) or 0,
        echo_transmit_interval=_interval(echo_tx),
    )


def _peer(row: dict[str, Any]) -> BfdPeer:
    attrs: dict[str, str] = {}
    multihop = False
    words = row.get("attrs", "").split()
    i = 0
    while i < len(words):
        if words[i] == "multihop":
            multihop = True
            i += 1
        elif words[i] in ("local-address", "vrf", "interface") and i + 1 < len(words):
            attrs[words[i]] = words[i + 1]
            i += 2
        else:
            raise ValueError(f"unknown peer attribute {words[i]!r}")
    return BfdPeer(
        peer=row["peer"],
        local_address=attrs.get("local-address"),
        vrf=attrs.get("vrf"),
        interface=attrs.get("interface"),
        multihop=multihop,
        id=int(row["id"]),
        remote_id=int(row["remote_id"]),
        passive=row.get("mode") == "Passive",
        status=row["status"],
        uptime=seconds(row["uptime"]) if "uptime" in row else None,
        downtime=seconds(row["downtime"]) if "downtime" in row else None,
        diagnostic=row["diagnostic"],
        remote_diagnostic=row["remote_diagnostic"],
        rtt_min=int(row["rtt_min"]) if "rtt_min" in row else None,
        rtt_avg=int(row["rtt_avg"]) if "rtt_avg" in row else None,
        rtt_max=int(row["rtt_max"]) if "rtt_max" in row else None,
        local=_timers(row["local"]),
        remote=_timers(row["remote"]),
    )
