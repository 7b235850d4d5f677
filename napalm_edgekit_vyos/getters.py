"""Parsed show output -> NAPALM's getter structures (pure functions, so they are tested on captures).

The parsing is ``checks.parsers`` (FRR 7 to 10, VyOS 1.3 to 1.5 layouts; a row a parser does not understand
is a ParseError); this module only maps the typed results onto the dictionaries of ``napalm.base.models``.
NAPALM's "unknown" is -1 (uptime, age, last_flapped, speed, and MTU where the layout has none).
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from napalm.base.helpers import mac as napalm_mac

from checks.parsers import arp, bgp_summary, interfaces, route, system
from checks.parsers.models import BgpPath, BgpPrefix, BgpSummary, RouteEntry

# FRR's Up/Down column: "00:00:11", "01w2d03h", "1d02h03m", "never".
_UPTIME_PARTS = re.compile(r"(\d+)([ywdhms])")
_UNIT = {"y": 31536000, "w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}
# FRR's family heading -> NAPALM's address_family key ("show ip bgp summary" without a heading is IPv4 Unicast)
_FAMILIES = {None: "ipv4", "IPv4 Unicast": "ipv4", "IPv6 Unicast": "ipv6"}


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


def facts(show_version: str, show_interfaces: str, hostname: str, show_uptime: str | None = None) -> dict[str, Any]:
    """``show_uptime`` is ``show system uptime``; None when the device does not know the command (uptime -1)."""
    version = system.parse_version(show_version)
    return {
        "uptime": system.parse_uptime(show_uptime) if show_uptime is not None else -1.0,
        "vendor": "VyOS",
        "os_version": version.version,
        "serial_number": version.serial_number or "",
        "model": version.hardware_model or "",
        "hostname": hostname,
        "fqdn": hostname,
        "interface_list": [i.name for i in interfaces.parse(show_interfaces)],
    }


def interfaces_detail(show_interfaces: str) -> dict[str, Any]:
    """``get_interfaces``: state and description from ``show interfaces``; MAC and MTU where the layout has
    them (VyOS 1.4+), else "" and -1. VyOS prints neither speed nor flap time there: -1."""
    return {
        i.name: {
            "is_up": i.link_state == "up",
            "is_enabled": i.admin_state == "up",
            "description": i.description or "",
            "last_flapped": -1.0,
            "speed": -1.0,
            "mtu": i.mtu if i.mtu is not None else -1,
            "mac_address": napalm_mac(i.mac) if i.mac else "",
        }
        for i in interfaces.parse(show_interfaces)
    }


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


def arp_table(show_arp: str) -> list[dict[str, Any]]:
    """Resolved entries of ``show arp`` (an unresolved one has no MAC to report). VyOS prints no age: -1."""
    return [
        {"interface": e.interface, "mac": napalm_mac(e.mac), "ip": e.ip, "age": -1.0}
        for e in arp.parse(show_arp)
        if e.mac
    ]


def bgp_neighbors(summaries: list[BgpSummary]) -> dict[str, Any]:
    """Every address family block of ``show bgp summary``: a peer appears once, with one entry per family
    it is active in (keyed as FRR's heading says: "ipv4", "ipv6", else e.g. "l2vpn evpn")."""
    peers: dict[str, Any] = {}
    router_id = ""
    for summary in summaries:
        router_id = router_id or summary.router_id or ""
        family = _FAMILIES.get(summary.afi_safi, (summary.afi_safi or "").lower())
        for peer in summary.peers:
            received = peer.prefixes_received if peer.prefixes_received is not None else -1
            entry = peers.setdefault(
                peer.address,
                {
                    "local_as": summary.local_as or 0,
                    "remote_as": peer.remote_as,
                    "remote_id": "",
                    "is_up": peer.established,
                    "is_enabled": not peer.state.startswith("Idle (Admin"),
                    "description": peer.description or "",
                    "uptime": uptime_seconds(peer.up_down) if peer.established else -1,
                    "address_family": {},
                },
            )
            entry["address_family"][family] = {
                "received_prefixes": received,
                "accepted_prefixes": received,
                "sent_prefixes": peer.prefixes_sent if peer.prefixes_sent is not None else -1,
            }
    return {"global": {"router_id": router_id, "peers": peers}}


def bgp_neighbors_from_text(text: str) -> dict[str, Any]:
    """``show bgp summary`` (every family) or ``show ip bgp summary`` (IPv4 Unicast only)."""
    return bgp_neighbors(bgp_summary.parse_all(text))


def route_to(
    entries: list[RouteEntry],
    protocol: str = "",
    bgp: dict[str, BgpPrefix | None] | None = None,
    summary: BgpSummary | None = None,
) -> dict[str, list[dict[str, Any]]]:
    """One NAPALM next hop per route next hop; a recursive one (a BGP next hop reached through another
    route) takes its interface and FIB state from the resolving lines FRR prints under it.

    ``bgp`` (``show ip bgp PREFIX`` per BGP route) and ``summary`` (``show ip bgp summary``) give a BGP next
    hop the attributes NAPALM documents: local_as, remote_as, peer_id, as_path, communities,
    local_preference, metric, plus remote_address (the peer the path came from). A next hop whose path is
    not in the BGP table (it changed between the two commands) keeps only its metric."""
    out: dict[str, list[dict[str, Any]]] = {}
    for entry in entries:
        if protocol and entry.protocol != protocol:
            continue
        hops = list(entry.nexthops)
        prefix = (bgp or {}).get(entry.prefix) if entry.protocol == "bgp" else None
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
            attributes: dict[str, Any] = {"metric": entry.metric}
            path = _path_for(prefix, nexthop.address) if prefix else None
            if path is not None:
                attributes = _bgp_attributes(path, summary)
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
                    "protocol_attributes": attributes,
                }
            )
    return out


def _path_for(prefix: BgpPrefix, address: str | None) -> BgpPath | None:
    valid = [p for p in prefix.paths if p.valid]
    return next((p for p in valid if p.nexthop == address), None) or next(
        (p for p in valid if p.from_address == address), None
    )


def _bgp_attributes(path: BgpPath, summary: BgpSummary | None) -> dict[str, Any]:
    peer = summary.peer(path.from_address) if summary else None
    local_as = summary.local_as if summary and summary.local_as is not None else -1
    first_as = path.as_path.split(" ", 1)[0]
    if peer is not None:
        remote_as = peer.remote_as
    elif first_as.isdigit():
        remote_as = int(first_as)
    else:  # "Local": a path this router originates
        remote_as = local_as
    return {
        "local_as": local_as,
        "remote_as": remote_as,
        "peer_id": path.router_id or "",
        "remote_address": path.from_address,
        "as_path": path.as_path,
        "communities": list(path.communities),
        "local_preference": path.localpref if path.localpref is not None else -1,
        "metric": path.metric if path.metric is not None else -1,
    }


def route_to_from_text(text: str, protocol: str = "") -> dict[str, list[dict[str, Any]]]:
    return route_to(route.parse(text), protocol)
