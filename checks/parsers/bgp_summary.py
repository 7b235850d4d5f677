"""``show ip bgp summary`` / ``show bgp summary`` from FRR 7, 8, 9, 10 (VyOS 1.3, 1.4, 1.5).

The output is one block per address family ("IPv4 Unicast Summary ...", "IPv6 Unicast Summary ...");
``parse_all`` reads every block, ``parse`` the one family a check asks for (IPv4 Unicast by default).

A neighbor row is read by the TTP template up to its Up/Down column; the rest is decoded here against the
column heading (FRRouting/frr bgpd/bgp_vty.c, bgp_show_summary()):

- State/PfxRcd: the number of prefixes received, ``(Policy)`` (ebgp-requires-policy and no inbound policy)
  or ``NoNeg`` (the family was not negotiated) for an Established peer; else the FSM state: Idle, Connect,
  Active, OpenSent, OpenConfirm, Clearing, Deleted, ``Idle (Admin)``, ``Idle (PfxCt)``;
- PfxSnt (FRR 7.4+): a number, ``(Policy)`` or ``NoNeg``;
- Desc (FRR 8+): the rest of the line, ``N/A`` when there is none (an empty description leaves only the
  space FRR prints before it).

A row that does not decode is a ParseError naming the row: never a guess.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError

from checks.parsers import ParseError, _ttp
from checks.parsers.models import BgpPeer, BgpSummary

COMMAND = "show ip bgp summary"
TEMPLATE = "bgp_summary"
IPV4_UNICAST = "IPv4 Unicast"

# FRR 7 pads the Neighbor column to 16 characters; a longer name (a "*" dynamic address like
# *192.168.100.100, a hostname(address)) ends the line and the row goes on under 16 spaces.
_WRAPPED = re.compile(r"^(\*?\S+)\n {16}(?=\d)", re.MULTILINE)
_EMPTY = ("No BGP neighbors found", "BGP instance not found", "No BGP process is configured")
# "\n%s Summary:\n" (FRR 7, 10) or "\n%s Summary (%s):\n" (FRR 8, 9; "VRF default"), %s from get_afi_safi_str().
_HEADING = re.compile(
    r"^(?P<family>[A-Za-z0-9-]+ [A-Za-z0-9-]+) Summary(?: \((?:VRF )?(?P<vrf>[^)]*)\))?:[ \t]*$", re.MULTILINE
)
_NO_NEIGHBOR = re.compile(r"^No (?P<family>.+) neighbor is configured", re.M)
# bgp_status_msg[] plus the two Idle reasons bgp_show_summary() prints itself.
_STATES = "Idle \\(Admin\\)|Idle \\(PfxCt\\)|Idle|Connect|Active|OpenSent|OpenConfirm|Established|Clearing|Deleted"
_RECEIVED = rf"(?P<received>\d+|\(Policy\)|NoNeg|{_STATES})"
_SENT = r"(?P<sent>\d+|\(Policy\)|NoNeg)"


def parse(text: str, family: str = IPV4_UNICAST) -> BgpSummary:
    """The summary of one address family (``show ip bgp summary`` prints IPv4 Unicast, FRR 7's without a
    heading). No neighbors (or no BGP instance, or no block for that family) is an empty summary."""
    blocks = parse_all(text)
    for summary in blocks:
        if summary.afi_safi in (family, None):
            return summary
    return BgpSummary(router_id=None, local_as=None, layout="empty", afi_safi=family)


def parse_all(text: str) -> list[BgpSummary]:
    """Every address family block in the output, in order; a family without neighbors gives no block."""
    if "BGP router identifier" not in text:
        if any(message in text for message in _EMPTY) or _NO_NEIGHBOR.search(text):
            return []
        raise ParseError(COMMAND, "no 'BGP router identifier' line", text)
    headings = list(_HEADING.finditer(text))
    blocks: list[tuple[str | None, str | None, str]] = []
    if not headings or text[: headings[0].start()].strip():
        end = headings[0].start() if headings else len(text)
        blocks.append((None, None, text[:end]))
    for index, heading in enumerate(headings):
        end = headings[index + 1].start() if index + 1 < len(headings) else len(text)
        blocks.append((heading["family"], heading["vrf"], text[heading.end() : end]))
    summaries = []
    for family, vrf, block in blocks:
        if "BGP router identifier" in block:
            summaries.append(_block(block, family, vrf))
        elif block.strip() and not _NO_NEIGHBOR.search(block):
            raise ParseError(COMMAND, f"a {family or 'summary'} block without 'BGP router identifier'", block)
    return summaries


def _block(text: str, family: str | None, vrf: str | None) -> BgpSummary:
    if "\n                " in text:
        text = _WRAPPED.sub(r"\1 ", text)
    result = _ttp.run(TEMPLATE, text)
    info: dict[str, Any] = {}
    for row in _ttp.rows(result.get("info")):
        info.update(row)
    header = info.get("header", "")
    if "LocalAS" in header:
        raise ParseError(COMMAND, "the 'wide' layout (LocalAS column) is not read", text)
    layout = "frr8" if " Desc" in header else "frr7"
    columns = (" PfxSnt" in header, " Desc" in header)
    rows = _ttp.rows(result.get("peers"))
    try:
        peers = [_peer(row, *columns) for row in rows]
        summary = BgpSummary(
            router_id=info.get("router_id"),
            local_as=_asn(info["local_as"]) if "local_as" in info else None,
            vrf=info.get("vrf") or vrf,
            vrf_id=info.get("vrf_id"),
            table_version=info.get("table_version"),
            peers=peers,
            total_neighbors=info.get("total_neighbors"),
            dynamic_neighbors=info.get("dynamic_neighbors"),
            dynamic_limit=info.get("dynamic_limit"),
            layout=layout,
            afi_safi=family,
        )
    except (ValidationError, ValueError) as exc:
        raise ParseError(COMMAND, f"bad field ({str(exc).splitlines()[0]})", text) from None
    lines = _table_rows(text)
    if len(lines) != len(peers):
        understood = {row["address"] for row in rows}
        missed = next((line for line in lines if line.split()[0] not in understood), lines[0] if lines else "")
        raise ParseError(COMMAND, f"{len(lines)} neighbor rows, {len(peers)} understood; not understood", missed)
    return summary


def _table_rows(text: str) -> list[str]:
    """Non-empty lines between the column heading and the blank line after the table (no regex per line).

    FRR's "Total number of neighbors" is no check: FRR 7 can count a neighbor it does not list.
    """
    start = text.find("\nNeighbor ")
    if start < 0:
        return []
    start = text.find("\n", start + 1)
    end = text.find("\n\n", start)
    block = text[start + 1 : end if end >= 0 else len(text)]
    return [line for line in block.split("\n") if line.strip() and not line.startswith("Total number of neighbors")]


def _peer(row: dict[str, str], has_sent: bool, has_desc: bool) -> BgpPeer:
    address = row["address"]
    dynamic = address.startswith("*")
    if dynamic:
        address = address[1:]
    hostname = None
    if address.endswith(")") and "(" in address:  # "n1(10.77.0.11)" with bgp default show-hostname
        hostname, address = address[:-1].split("(", 1)
    rest = row["rest"].strip()
    pattern = "^" + _RECEIVED + (rf" +{_SENT}" if has_sent else "") + ("(?: +(?P<desc>.+))?" if has_desc else "") + "$"
    match = re.match(pattern, rest)
    if match is None:
        line = f"{row['address']} ... {row['up_down']} {rest}"
        raise ParseError(COMMAND, "a neighbor row whose State/PfxRcd, PfxSnt and Desc do not decode", line)
    state = match["received"]
    received: int | None = None
    policy = False
    if state.isdigit():
        received, state = int(state), "Established"
    elif state == "(Policy)":
        received, state, policy = 0, "Established", True
    elif state == "NoNeg":
        state = "Established"
    sent: int | None = None
    if has_sent:
        if match["sent"] == "(Policy)":
            sent, policy = 0, True
        elif match["sent"] != "NoNeg":
            sent = int(match["sent"])
    description = match["desc"] or None if has_desc else None
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
