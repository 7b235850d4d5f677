"""``show ip bgp summary`` (FRR 7 / VyOS 1.3 and FRR 8+ / VyOS 1.4+ layouts, dynamic neighbors included)."""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError

from checks.parsers import ParseError, _ttp
from checks.parsers.models import BgpPeer, BgpSummary

COMMAND = "show ip bgp summary"
TEMPLATE = "bgp_summary"

# FRR 7 pads the Neighbor column to 16 characters; a longer name (a "*" dynamic address like
# *192.168.100.100, a hostname(address)) ends the line and the row goes on under 16 spaces.
_WRAPPED = re.compile(r"^(\*?\S+)\n {16}(?=\d)", re.MULTILINE)
_EMPTY = ("No BGP neighbors found", "BGP instance not found", "No BGP process is configured")


def parse(text: str) -> BgpSummary:
    """Parse one address family's summary. No neighbors (or no BGP instance) is an empty summary."""
    if "BGP router identifier" not in text:
        if any(message in text for message in _EMPTY):
            return BgpSummary(router_id=None, local_as=None, layout="empty")
        raise ParseError(COMMAND, "no 'BGP router identifier' line", text)
    if "\n                " in text:
        text = _WRAPPED.sub(r"\1 ", text)
    result = _ttp.run(TEMPLATE, text)
    info: dict[str, Any] = {}
    for row in _ttp.rows(result.get("info")):
        info.update(row)
    layout = "frr8" if " Desc" in info.get("header", "") else "frr7"
    try:
        peers = [_peer(row) for row in _ttp.rows(result.get("peers"))]
        summary = BgpSummary(
            router_id=info.get("router_id"),
            local_as=_asn(info["local_as"]) if "local_as" in info else None,
            vrf=info.get("vrf"),
            vrf_id=info.get("vrf_id"),
            table_version=info.get("table_version"),
            peers=peers,
            total_neighbors=info.get("total_neighbors"),
            dynamic_neighbors=info.get("dynamic_neighbors"),
            dynamic_limit=info.get("dynamic_limit"),
            layout=layout,
        )
    except (ValidationError, ValueError) as exc:
        raise ParseError(COMMAND, f"bad field ({str(exc).splitlines()[0]})", text) from None
    rows = _table_rows(text)
    if rows != len(peers):
        raise ParseError(COMMAND, f"{rows} neighbor rows, {len(peers)} understood", text)
    return summary


def _table_rows(text: str) -> int:
    """Non-empty lines between the column heading and the blank line after the table (no regex per line).

    FRR's "Total number of neighbors" is no check: FRR 7 can count a neighbor it does not list.
    """
    start = text.find("\nNeighbor ")
    if start < 0:
        return 0
    start = text.find("\n", start + 1)
    end = text.find("\n\n", start)
    block = text[start + 1 : end if end >= 0 else len(text)]
    return sum(1 for line in block.split("\n") if line.strip())


def _peer(row: dict[str, str]) -> BgpPeer:
    address = row["address"]
    dynamic = address.startswith("*")
    if dynamic:
        address = address[1:]
    hostname = None
    if address.endswith(")") and "(" in address:  # "n1(10.77.0.11)" with bgp default show-hostname
        hostname, address = address[:-1].split("(", 1)
    state = row["state_pfx"]
    received: int | None = None
    policy = False
    if state.isdigit():
        received, state = int(state), "Established"
    elif state == "(Policy)":
        received, state, policy = 0, "Established", True
    sent: int | None = None
    if "pfx_snt" in row:
        if row["pfx_snt"] == "(Policy)":
            sent, policy = 0, True
        else:
            sent = int(row["pfx_snt"])
    description = row.get("desc")
    return BgpPeer(
        address=address,
        hostname=hostname,
        remote_as=_asn(row["remote_as"]),
        version=row["version"],
        msg_rcvd=row["msg_rcvd"],
        msg_sent=row["msg_sent"],
        table_version=row["table_version"],
        inq=row["inq"],
        outq=row["outq"],
        up_down=row["up_down"],
        state=state,
        prefixes_received=received,
        prefixes_sent=sent,
        description=None if description in (None, "N/A") else description,
        dynamic=dynamic,
        policy_blocked=policy,
    )


def _asn(value: str | int) -> int:
    """An AS number, also in asdot notation (``1.10`` = 65546)."""
    if isinstance(value, int):
        return value
    high, dot, low = value.partition(".")
    return int(high) * 65536 + int(low) if dot else int(value)
