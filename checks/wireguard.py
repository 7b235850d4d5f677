"""wireguard.handshake and wireguard.reachable: the tunnel to the contest venue is alive and carries traffic.

- ``wireguard.handshake``: the venue peer (matched by its public key) shook hands less than ``max_age``
  seconds ago. WireGuard re-handshakes every 2 minutes while packets flow (persistent keepalive keeps
  them flowing), so an older handshake means the other end stopped answering.
- ``wireguard.reachable``: a venue address answers ``ping`` from the router through the tunnel.
"""

from __future__ import annotations

import re
from ipaddress import IPv4Address

from checks.defaults import DEFAULT_MAX_AGE
from checks.parsers.models import WireguardInterface
from checks.verdict import CheckResult, failed, passed
from inventory.model import Cluster, WireGuard

HANDSHAKE = "wireguard.handshake"
REACHABLE = "wireguard.reachable"
IDS = (
    HANDSHAKE,
    REACHABLE,
)  # the check ids this module judges

PING_COUNT = 2
_STATS = re.compile(r"(\d+) packets transmitted, (\d+) (?:packets )?received")
_RTT = re.compile(r"= [\d.]+/([\d.]+)/")


def probe_address(wg: WireGuard) -> IPv4Address | None:
    """``probe_address``, else the first host of the first venue network (None: nothing to ping)."""
    if wg.probe_address is not None:
        return wg.probe_address
    for network in wg.venue_networks:
        return next(network.hosts(), network.network_address)
    return None


def ping_command(address: IPv4Address | str) -> str:
    return f"ping {address} count {PING_COUNT}"


def check_handshake(
    host: str, cluster: Cluster, interface: WireguardInterface | None, max_age: int = DEFAULT_MAX_AGE
) -> CheckResult:
    wg = cluster.wireguard
    assert wg is not None
    subject = wg.interface
    if interface is None:
        return failed(HANDSHAKE, host, cluster.name, f"no interface {wg.interface}", subject)
    peer = interface.peer(wg.peer_public_key)
    if peer is None:
        return failed(
            HANDSHAKE,
            host,
            cluster.name,
            f"{wg.interface} has no peer with the venue's key {wg.peer_public_key[:8]}...",
            subject,
        )
    age = peer.latest_handshake_seconds
    # For metrics: seconds since the latest handshake (None: never), and the limit it was judged against.
    details = {"peer": wg.peer_name, "age_seconds": age, "max_age_seconds": max_age}
    if age is None:
        reason = f"{wg.peer_name}: never shook hands"
        return failed(HANDSHAKE, host, cluster.name, reason, subject, details)
    if age > max_age:
        reason = f"{wg.peer_name}: latest handshake {_age(age)} ago (limit {max_age} s)"
        return failed(HANDSHAKE, host, cluster.name, reason, subject, details)
    reason = f"{wg.peer_name}: handshake {_age(age)} ago"
    return passed(HANDSHAKE, host, cluster.name, reason, subject, details)


def check_reachable(host: str, cluster: Cluster, address: IPv4Address, output: str) -> CheckResult:
    wg = cluster.wireguard
    assert wg is not None
    subject = str(address)
    stats = _STATS.search(output)
    if stats is None:
        first = next((line.strip() for line in output.splitlines() if line.strip()), "no output")
        return failed(REACHABLE, host, cluster.name, f"ping {address}: {first[:100]}", subject)
    sent, received = int(stats.group(1)), int(stats.group(2))
    if received == 0:
        return failed(
            REACHABLE,
            host,
            cluster.name,
            f"{address} (venue) did not answer through {wg.interface}: 0/{sent} replies",
            subject,
        )
    rtt = _RTT.search(output)
    avg = f", avg {rtt.group(1)} ms" if rtt else ""
    return passed(REACHABLE, host, cluster.name, f"{address}: {received}/{sent} replies{avg}", subject)


def _age(seconds: int) -> str:
    if seconds < 120:
        return f"{seconds} s"
    minutes, rest = divmod(seconds, 60)
    return f"{minutes} min {rest} s"
