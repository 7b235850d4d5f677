"""The parser models built from FRR's own JSON (``vtysh -c '... json'``) of the same commands.

Used to check the text parsers against FRR (the two must agree field by field), and usable wherever a
device gives JSON (FRR's vtysh does; VyOS op mode passes ``json`` through to vtysh for these commands).
"""

from __future__ import annotations

from typing import Any

from checks.parsers.models import (
    BfdPeer,
    BfdPeers,
    BfdTimers,
    BgpPath,
    BgpPeer,
    BgpPrefix,
    BgpSummary,
    NextHop,
    RouteEntry,
)

# get_afi_safi_str(afi, safi, true) -> get_afi_safi_str(afi, safi, false) (FRRouting/frr bgpd/bgp_vty.c)
FAMILIES = {
    "ipv4Unicast": "IPv4 Unicast",
    "ipv4Multicast": "IPv4 Multicast",
    "ipv4LabeledUnicast": "IPv4 labeled-unicast",
    "ipv4Vpn": "IPv4 VPN",
    "ipv4Flowspec": "IPv4 Flowspec",
    "ipv6Unicast": "IPv6 Unicast",
    "ipv6Multicast": "IPv6 Multicast",
    "ipv6LabeledUnicast": "IPv6 labeled-unicast",
    "ipv6Vpn": "IPv6 VPN",
    "ipv6Flowspec": "IPv6 Flowspec",
    "l2VpnEvpn": "L2VPN EVPN",
}


def bgp_summary(data: dict[str, Any], afi_safi: str = "ipv4Unicast") -> BgpSummary:
    """``show ip bgp summary json``: {"ipv4Unicast": {...}} (FRR 8+) or the inner object itself."""
    af = data.get(afi_safi, data)
    family = FAMILIES.get(afi_safi) if afi_safi in data else None
    if not af or "routerId" not in af:
        return BgpSummary(router_id=None, local_as=None, layout="empty", afi_safi=FAMILIES.get(afi_safi))
    peers = []
    for address, p in af.get("peers", {}).items():
        established = p.get("state") == "Established"
        policy = p.get("peerState") == "Policy"
        peers.append(
            BgpPeer(
                address=address,
                hostname=p.get("hostname"),
                remote_as=p["remoteAs"],
                version=p.get("version", 4),
                msg_rcvd=p["msgRcvd"],
                msg_sent=p["msgSent"],
                table_version=p.get("tableVersion", 0),
                inq=p.get("inq", 0),
                outq=p.get("outq", 0),
                up_down=p["peerUptime"],
                state=p["state"],
                prefixes_received=p.get("pfxRcd") if established else None,
                prefixes_sent=p.get("pfxSnt"),
                description=p.get("desc"),
                dynamic=bool(p.get("dynamicPeer")),
                policy_blocked=policy,
            )
        )
    return BgpSummary(
        router_id=af["routerId"],
        local_as=af["as"],
        vrf=af.get("vrfName"),
        vrf_id=af.get("vrfId"),
        table_version=af.get("tableVersion"),
        peers=peers,
        total_neighbors=af.get("totalPeers"),
        dynamic_neighbors=af.get("dynamicPeers") or None,
        dynamic_limit=None,  # not in the JSON
        layout="frr8",
        afi_safi=family,
    )


def bgp_summary_all(data: dict[str, Any]) -> list[BgpSummary]:
    """``show bgp summary json``: one summary per address family key, in FRR's order."""
    return [bgp_summary(data, key) for key in data if key in FAMILIES]


def route(data: dict[str, Any]) -> list[RouteEntry]:
    """``show ip route PREFIX json`` (or ``show ip route json``): {"prefix": [entry, ...], ...}."""
    return [_route(entry) for entries in data.values() for entry in entries]


def _route(entry: dict[str, Any]) -> RouteEntry:
    nexthops = [
        NextHop(
            address=n.get("ip"),
            interface=n.get("interfaceName"),
            active=bool(n.get("active")),
            fib=bool(n.get("fib")),
            weight=n.get("weight"),
            directly_connected=bool(n.get("directlyConnected")),
            blackhole=bool(n.get("unreachable") or n.get("blackhole")),
            recursive=bool(n.get("recursive")),
            resolver=bool(n.get("resolver")),
        )
        for n in entry.get("nexthops", [])
    ]
    return RouteEntry(
        prefix=entry["prefix"],
        protocol=entry["protocol"],
        distance=entry.get("distance", 0),
        metric=entry.get("metric", 0),
        selected=bool(entry.get("selected")),
        fib=bool(entry.get("installed")),
        uptime=entry.get("uptime"),
        nexthops=nexthops,
    )


def bgp_prefix(data: dict[str, Any]) -> BgpPrefix | None:
    """``show ip bgp PREFIX json``; ``{}`` (not in the table) gives None."""
    if not data or "prefix" not in data:
        return None
    paths = []
    for p in data.get("paths", []):
        hop = (p.get("nexthops") or [{}])[0]
        peer = p.get("peer", {})
        best = p.get("bestpath", {})
        paths.append(
            BgpPath(
                nexthop=hop.get("ip", ""),
                from_address=peer.get("peerId", ""),
                router_id=peer.get("routerId"),
                as_path=p.get("aspath", {}).get("string") or "Local",
                origin=p.get("origin"),
                metric=p.get("metric"),
                localpref=p.get("locPrf"),
                valid=bool(p.get("valid")),
                best=bool(best.get("overall")),
                multipath=bool(p.get("multipath")),
                external=peer.get("type") == "external",
                accessible=bool(hop.get("accessible", True)),
                best_reason=best.get("selectionReason"),
                communities=(p.get("community") or {}).get("string", "").split(),
                large_communities=(p.get("largeCommunity") or {}).get("string", "").split(),
            )
        )
    return BgpPrefix(prefix=data["prefix"], version=data.get("version"), paths=paths)


def bfd_peers(data: list[dict[str, Any]] | dict[str, Any]) -> BfdPeers:
    """``show bfd peers json``: a list of sessions (bfdd/bfdd_vty.c __display_peer_json); one session's JSON
    (``show bfd peer X json``) is an object."""
    sessions = [data] if isinstance(data, dict) else data
    return BfdPeers(peers=[_bfd_peer(s) for s in sessions])


def _bfd_peer(s: dict[str, Any]) -> BfdPeer:
    return BfdPeer(
        peer=s["peer"],
        local_address=s.get("local"),
        vrf=s.get("vrf"),
        interface=s.get("interface"),
        multihop=bool(s.get("multihop")),
        id=s["id"],
        remote_id=s["remote-id"],
        passive=bool(s.get("passive-mode")),
        status=s["status"],
        uptime=s.get("uptime"),
        downtime=s.get("downtime"),
        diagnostic=s["diagnostic"],
        remote_diagnostic=s["remote-diagnostic"],
        rtt_min=s.get("rtt-min"),
        rtt_avg=s.get("rtt-avg"),
        rtt_max=s.get("rtt-max"),
        local=BfdTimers(
            detect_multiplier=s["detect-multiplier"],
            receive_interval=s["receive-interval"],
            transmit_interval=s["transmit-interval"],
            echo_receive_interval=s.get("echo-receive-interval", 0),
            echo_transmit_interval=s.get("echo-transmit-interval", 0),
        ),
        remote=BfdTimers(
            detect_multiplier=s["remote-detect-multiplier"],
            receive_interval=s["remote-receive-interval"],
            transmit_interval=s["remote-transmit-interval"],
            echo_receive_interval=s.get("remote-echo-receive-interval", 0),
        ),
    )
