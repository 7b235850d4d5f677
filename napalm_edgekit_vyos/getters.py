"""Parsed show output -> NAPALM's getter structures (pure functions, so they are tested on captures).

The parsing is ``checks.parsers`` (TTP templates that read FRR 7 / VyOS 1.3 and FRR 8+ / VyOS 1.4+
output alike); this module only maps the typed results onto NAPALM's dictionaries.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from checks.parsers import bgp_summary, interfaces, route
from checks.parsers.models import BgpSummary, RouteEntry

VERSION = re.compile(r"^Version:\s*VyOS\s+(\S+)", re.MULTILINE)
MODEL = re.compile(r"^Hardware model:\s*(.*)$", re.MULTILINE)
SERIAL = re.compile(r"^Hardware S/N:\s*(.*)$", re.MULTILINE)
# FRR's Up/Down column: "00:00:11", "01w2d03h", "1d02h03m", "never".
_UPTIME_PARTS = re.compile(r"(\d+)([ywdhms])")
_UNIT = {"y": 31536000, "w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}


def uptime_seconds(text: str) -> int:
    """FRR's peer up/down time in seconds; -1 when it says "never" or cannot be read."""
    text = text.strip()
    if re.fullmatch(r"\d+:\d\d:\d\d", text):
        hours, minutes, seconds = (int(x) for x in text.split(":"))
        return hours * 3600 + minutes * 60 + seconds
    parts = _UPTIME_PARTS.findall(text)
    if not parts:
        return -1
    return sum(int(n) * _UNIT[u] for n, u in parts)


def facts(show_version: str, show_interfaces: str, hostname: str) -> dict[str, Any]:
    version = VERSION.search(show_version)
    model = MODEL.search(show_version)
    serial = SERIAL.search(show_version)
    return {
        "uptime": -1.0,  # `show version` carries no uptime; NAPALM's value for "unknown"
        "vendor": "VyOS",
        "os_version": version.group(1) if version else "",
        "serial_number": serial.group(1).strip() if serial else "",
        "model": model.group(1).strip() if model else "",
        "hostname": hostname,
        "fqdn": hostname,
        "interface_list": [i.name for i in interfaces.parse(show_interfaces)],
    }


def bgp_neighbors(summary: BgpSummary) -> dict[str, Any]:
    peers: dict[str, Any] = {}
    for peer in summary.peers:
        received = peer.prefixes_received if peer.prefixes_received is not None else -1
        peers[peer.address] = {
            "local_as": summary.local_as or 0,
            "remote_as": peer.remote_as,
            "remote_id": "",
            "is_up": peer.established,
            "is_enabled": not peer.state.startswith("Idle (Admin"),
            "description": peer.description or "",
            "uptime": uptime_seconds(peer.up_down) if peer.established else -1,
            "address_family": {
                "ipv4": {
                    "received_prefixes": received,
                    "accepted_prefixes": received,
                    "sent_prefixes": peer.prefixes_sent if peer.prefixes_sent is not None else -1,
                }
            },
        }
    return {"global": {"router_id": summary.router_id or "", "peers": peers}}


def bgp_neighbors_from_text(text: str) -> dict[str, Any]:
    return bgp_neighbors(bgp_summary.parse(text))


def interfaces_ip(show_interfaces: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for interface in interfaces.parse(show_interfaces):
        families: dict[str, Any] = {}
        for address in interface.addresses:
            ip = ipaddress.ip_interface(address)
            family = "ipv4" if ip.version == 4 else "ipv6"
            families.setdefault(family, {})[str(ip.ip)] = {"prefix_length": ip.network.prefixlen}
        if families:
            out[interface.name] = families
    return out


def route_to(entries: list[RouteEntry], protocol: str = "") -> dict[str, list[dict[str, Any]]]:
    """One NAPALM next hop per route next hop; a recursive one (a BGP next hop reached through another
    route) takes its interface and FIB state from the resolving lines FRR prints under it."""
    out: dict[str, list[dict[str, Any]]] = {}
    for entry in entries:
        if protocol and entry.protocol != protocol:
            continue
        hops = list(entry.nexthops)
        for index, nexthop in enumerate(hops):
            if nexthop.resolver:
                continue
            resolvers = []
            if nexthop.recursive:
                for following in hops[index + 1 :]:
                    if not following.resolver:
                        break
                    resolvers.append(following)
            interface = nexthop.interface or next((r.interface for r in resolvers if r.interface), None)
            selected = nexthop.fib or any(r.fib for r in resolvers)
            out.setdefault(entry.prefix, []).append(
                {
                    "protocol": entry.protocol,
                    "current_active": entry.selected and nexthop.active,
                    "last_active": entry.selected,
                    "age": uptime_seconds(entry.uptime) if entry.uptime else -1,
                    "next_hop": nexthop.address or "",
                    "outgoing_interface": interface or "",
                    "selected_next_hop": selected,
                    "preference": entry.distance,
                    "inactive_reason": "" if nexthop.active else "inactive",
                    "routing_table": "default",
                    "protocol_attributes": {"metric": entry.metric},
                }
            )
    return out


def route_to_from_text(text: str, protocol: str = "") -> dict[str, list[dict[str, Any]]]:
    return route_to(route.parse(text), protocol)
