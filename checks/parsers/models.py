"""Typed results of the show-output parsers (one model family per command).

All models are frozen pydantic models; numbers arrive as text from TTP and pydantic converts them. The same
models are built from FRR's JSON (``checks.parsers.frr_json``) so that a parse of the text can be compared
with FRR's own view of the same state field by field (``diff``).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# --- show ip bgp summary -------------------------------------------------------------------------------------


class BgpPeer(_Model):
    """One row of ``show ip bgp summary``.

    ``state`` is "Established" when State/PfxRcd holds a number (or FRR's ``(Policy)``), else the text state
    ("Active", "Connect", "Idle", "Idle (Admin)", "OpenSent", ...). ``prefixes_received``/``prefixes_sent`` are
    None where the output has no number: not established (received), or the FRR 7 layout without PfxSnt.
    ``(Policy)`` (eBGP peer without an in/out policy while ``ebgp-requires-policy`` is on) counts as 0 and sets
    ``policy_blocked``; so does ``(Policy)`` under PfxSnt (nothing sent: ``prefixes_sent`` 0). ``NoNeg`` (the
    family was not negotiated) is Established with no count. ``description`` is None for FRR's ``N/A``; FRR
    prints only the first words of a long description (up to 20 characters).
    """

    address: str  # IP address, or the interface name of an unnumbered peer
    hostname: str | None = None  # only when FRR prints "host(address)" (bgp default show-hostname)
    remote_as: int
    version: int = 4
    msg_rcvd: int
    msg_sent: int
    table_version: int = 0
    inq: int = 0
    outq: int = 0
    up_down: str
    state: str
    prefixes_received: int | None = None
    prefixes_sent: int | None = None
    description: str | None = None
    dynamic: bool = False
    policy_blocked: bool = False

    @property
    def established(self) -> bool:
        return self.state == "Established"


class BgpSummary(_Model):
    router_id: str | None
    local_as: int | None
    vrf: str | None = None  # FRR 8+ names it in the heading; FRR 7 only gives vrf_id
    vrf_id: int | None = None
    table_version: int | None = None
    peers: list[BgpPeer] = []
    total_neighbors: int | None = None
    dynamic_neighbors: int | None = None
    dynamic_limit: int | None = None
    layout: Literal["frr7", "frr8", "empty"] = "frr8"
    # The block's heading, as FRR prints it: "IPv4 Unicast", "IPv6 Unicast", "L2VPN EVPN"; None where the
    # output has no heading (FRR 7 before 7.2 printed none for `show ip bgp summary`).
    afi_safi: str | None = None

    def peer(self, address: str) -> BgpPeer | None:
        return next((p for p in self.peers if p.address == address), None)


# --- show ip route [<prefix>] --------------------------------------------------------------------------------


class NextHop(_Model):
    address: str | None = None  # None for a directly connected or blackhole next hop
    interface: str | None = None
    active: bool = True
    fib: bool = False
    weight: int | None = None
    directly_connected: bool = False
    blackhole: bool = False  # "unreachable (blackhole)" and the ICMP reject kinds
    recursive: bool = False
    resolver: bool = False  # a next hop that resolves the recursive one above it


class RouteEntry(_Model):
    prefix: str
    protocol: str  # FRR's route type name: "bgp", "static", "connected", "kernel", "ospf", ...
    distance: int
    metric: int
    selected: bool
    fib: bool  # installed in the kernel (some next hop is a FIB next hop)
    uptime: str | None = None
    nexthops: list[NextHop] = []

    @property
    def fib_nexthops(self) -> list[NextHop]:
        return [n for n in self.nexthops if n.fib and not n.recursive]


# --- show ip bgp <prefix> ------------------------------------------------------------------------------------


class BgpPath(_Model):
    nexthop: str
    from_address: str  # the peer the path came from (0.0.0.0 for a local path)
    router_id: str | None = None
    as_path: str  # "65021", "65021 65030", "Local"
    origin: str | None = None  # IGP, EGP, incomplete
    metric: int | None = None
    localpref: int | None = None
    valid: bool = False
    best: bool = False
    multipath: bool = False
    external: bool = False
    accessible: bool = True  # False when FRR marks the next hop "(inaccessible)"
    best_reason: str | None = None
    communities: list[str] = []  # "65001:12", "no-export", or an alias FRR prints in their place
    large_communities: list[str] = []


class BgpPrefix(_Model):
    prefix: str
    version: int | None = None
    paths: list[BgpPath] = []

    @property
    def best(self) -> BgpPath | None:
        return next((p for p in self.paths if p.best), None)

    @property
    def multipath_nexthops(self) -> list[str]:
        return [p.nexthop for p in self.paths if p.valid and (p.multipath or p.best)]


# --- VyOS show interfaces ------------------------------------------------------------------------------------


class Interface(_Model):
    name: str
    addresses: list[str] = []
    admin_state: Literal["up", "down", "admin-down"]  # S column: u, D, A
    link_state: Literal["up", "down"]  # L column: u, D
    description: str | None = None  # the lines of a wrapped description joined with one space
    mac: str | None = None  # VyOS 1.4+ only (MAC column; None for "n/a")
    vrf: str | None = None  # VyOS 1.4+ only
    mtu: int | None = None  # VyOS 1.4+ only


# --- show arp, show version --------------------------------------------------------------------------------


class ArpEntry(_Model):
    ip: str
    interface: str
    mac: str | None = None  # None while unresolved (1.3 "(incomplete)", 1.4 INCOMPLETE/FAILED)
    state: str  # 1.4+: the kernel's NUD state (REACHABLE, STALE, PERMANENT, ...); 1.3: arp's flags (C, CM, ...)


class Version(_Model):
    version: str  # "1.4.0", "1.3.0-rc4", "1.5-secureboot" (without "VyOS ")
    release_train: str | None = None
    system_type: str | None = None
    hardware_vendor: str | None = None
    hardware_model: str | None = None
    serial_number: str | None = None  # None when VyOS prints nothing after "Hardware S/N:"
    hardware_uuid: str | None = None


# --- show configuration commands -----------------------------------------------------------------------------


class ConfigCommand(_Model):
    """``set interfaces ethernet eth1 address '192.168.100.1/24'`` -> path + value (None for a valueless node)."""

    path: tuple[str, ...]
    value: str | None = None


# --- WireGuard (wg show) -------------------------------------------------------------------------------------


class WireguardPeer(_Model):
    public_key: str
    endpoint: str | None = None
    allowed_ips: list[str] = []
    latest_handshake_seconds: int | None = None  # seconds before the capture; None: never
    transfer_rx: int = 0  # bytes; from `wg show` these are rounded (1.05 KiB), from `dump` exact
    transfer_tx: int = 0
    keepalive: int | None = None  # persistent keepalive interval in seconds
    preshared_key: bool = False


class WireguardInterface(_Model):
    name: str
    public_key: str | None = None
    listen_port: int | None = None
    fwmark: str | None = None
    peers: list[WireguardPeer] = []

    def peer(self, public_key: str) -> WireguardPeer | None:
        return next((p for p in self.peers if p.public_key == public_key), None)


# --- HAProxy show stat ---------------------------------------------------------------------------------------


class HaproxyServer(_Model):
    """One row of ``show stat``: a frontend, a backend, or a server (``server`` = svname)."""

    proxy: str
    server: str  # FRONTEND, BACKEND or the server name
    kind: Literal["frontend", "backend", "server", "listener"]
    status: str  # UP, DOWN, OPEN, MAINT, "UP 1/2", no check, ...
    check_status: str | None = None  # L4OK, L4CON, L7STS, ...
    check_desc: str | None = None
    address: str | None = None
    weight: int | None = None
    active_servers: int | None = None  # act: for a backend, servers up; for a server, 1 if active
    backup_servers: int | None = None
    sessions_current: int = 0
    sessions_total: int = 0
    check_failures: int | None = None
    downtime: int | None = None  # seconds
    last_change: int | None = None  # seconds since the last status change
    mode: str | None = None
    fields: dict[str, str] = {}  # every non-empty column, by HAProxy's name

    @property
    def up(self) -> bool:
        return self.status.startswith("UP") or self.status == "OPEN"


def diff(left: BaseModel, right: BaseModel, path: str = "") -> list[str]:
    """Differences between two models, one line each (``peers[1].state: 'Active' != 'Connect'``)."""
    out: list[str] = []
    _diff(left.model_dump(), right.model_dump(), path or type(left).__name__, out)
    return out


def _diff(left: object, right: object, path: str, out: list[str]) -> None:
    if isinstance(left, dict) and isinstance(right, dict):
        for key in sorted(set(left) | set(right), key=str):
            _diff(left.get(key), right.get(key), f"{path}.{key}", out)
    elif isinstance(left, list | tuple) and isinstance(right, list | tuple) and len(left) == len(right):
        for index, (a, b) in enumerate(zip(left, right, strict=True)):
            _diff(a, b, f"{path}[{index}]", out)
    elif left != right:
        out.append(f"{path}: {left!r} != {right!r}")


# --- FRR show bfd peers --------------------------------------------------------------------------------------


class BfdTimers(_Model):
    """One side's timers of a BFD session, in ms (FRR prints an interval of 0 as ``disabled``)."""

    detect_multiplier: int
    receive_interval: int
    transmit_interval: int | None = None  # the remote side's block has no echo transmit line
    echo_receive_interval: int = 0
    echo_transmit_interval: int | None = None


class BfdPeer(_Model):
    """One session of ``show bfd peers`` (FRR bfdd, what VyOS's op mode prints).

    ``status`` is FRR's state2str: ``up``, ``down``, ``init`` or ``shutdown`` (admin down on this side);
    ``uptime``/``downtime`` in seconds (one of them, or neither for a shut-down session)."""

    peer: str
    local_address: str | None = None
    vrf: str | None = None
    interface: str | None = None
    multihop: bool = False
    id: int
    remote_id: int
    passive: bool = False
    status: str
    uptime: int | None = None
    downtime: int | None = None
    diagnostic: str
    remote_diagnostic: str
    rtt_min: int | None = None  # usec, FRR 8.2+
    rtt_avg: int | None = None
    rtt_max: int | None = None
    local: BfdTimers
    remote: BfdTimers

    @property
    def up(self) -> bool:
        return self.status == "up"


class BfdPeers(_Model):
    peers: list[BfdPeer] = []

    def peer(self, address: str) -> BfdPeer | None:
        return next((p for p in self.peers if p.peer == address), None)
