"""WireGuard status: ``wg show`` (VyOS 1.4 ``show interfaces wireguard wg0 summary``), ``wg show IF dump``
and ``wg show IF latest-handshakes``.

``wg show`` rounds transfer counters ("1.05 KiB") and gives handshake ages in words; ``dump`` gives exact
bytes and epoch seconds, so a check that needs exact values should prefer it.
"""

from __future__ import annotations

import time
from typing import Any

from pydantic import ValidationError

from checks.parsers import ParseError, _ttp
from checks.parsers.models import WireguardInterface, WireguardPeer

COMMAND = "wg show"
DUMP_COMMAND = "wg show dump"
TEMPLATE = "wireguard"

_UNITS = {"B": 1, "KiB": 1024, "MiB": 1024**2, "GiB": 1024**3, "TiB": 1024**4}
_SECONDS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400, "year": 365 * 86400}


def parse(text: str) -> list[WireguardInterface]:
    """Every interface in the output (``wg show`` lists all, ``wg show wg0`` one); no interface: empty list."""
    if not text.startswith("interface: ") and "\ninterface: " not in text:
        if not text.strip():
            return []
        raise ParseError(COMMAND, "no 'interface:' line", text)
    rows = _ttp.rows(_ttp.run(TEMPLATE, text).get("interfaces"))
    try:
        return [_interface(row) for row in rows]
    except (ValidationError, ValueError, KeyError) as exc:
        raise ParseError(COMMAND, f"bad field ({str(exc).splitlines()[0]})", text) from None


def parse_interface(text: str) -> WireguardInterface:
    """Output of ``wg show IF`` (exactly one interface)."""
    interfaces = parse(text)
    if len(interfaces) != 1:
        raise ParseError(COMMAND, f"expected one interface, found {len(interfaces)}", text)
    return interfaces[0]


def _interface(row: dict[str, Any]) -> WireguardInterface:
    return WireguardInterface(
        name=row["name"],
        public_key=row.get("public_key"),
        listen_port=row.get("listen_port"),
        fwmark=row.get("fwmark"),
        peers=[_peer(p) for p in _ttp.rows(row.get("peers"))],
    )


def _peer(row: dict[str, Any]) -> WireguardPeer:
    allowed = row.get("allowed_ips", "(none)")
    return WireguardPeer(
        public_key=row["public_key"],
        endpoint=row.get("endpoint"),
        allowed_ips=[] if allowed == "(none)" else allowed.split(", "),
        latest_handshake_seconds=handshake_age(row.get("handshake")),
        transfer_rx=size_bytes(row.get("rx", "0 B")),
        transfer_tx=size_bytes(row.get("tx", "0 B")),
        keepalive=row.get("keepalive"),
        preshared_key="preshared_key" in row,
    )


def handshake_age(text: str | None) -> int | None:
    """ "3 seconds ago", "1 minute, 5 seconds ago", "Now" -> seconds; None/"Never"/"(none)" -> None."""
    if text is None or text.strip().lower() in ("never", "(none)", "0", ""):
        return None
    text = text.strip().removesuffix(" ago")
    if text == "Now":
        return 0
    total = 0
    for part in text.split(", "):
        count, _, unit = part.partition(" ")
        total += int(count) * _SECONDS[unit.removesuffix("s")]
    return total


def size_bytes(text: str) -> int:
    """wg's rounded sizes: "988 B", "1.05 KiB", "12.40 MiB" -> bytes."""
    number, _, unit = text.strip().partition(" ")
    return round(float(number) * _UNITS[unit])


def parse_dump(text: str, now: float | None = None, name: str = "") -> list[WireguardInterface]:
    """``wg show IF dump`` (pass ``name``) or ``wg show all dump`` (names in the first column).

    Tab-separated, exact byte counters, handshakes as epoch seconds: ``now`` (default the current time)
    turns them into ages. The interface line carries the private key, which is dropped unread.
    """
    now = time.time() if now is None else now
    interfaces: list[dict[str, Any]] = []
    for line in text.splitlines():
        if not line.strip():
            continue
        fields = line.split("\t")
        ifname = fields.pop(0) if len(fields) in (5, 9) else name
        if len(fields) == 4:
            _private, public, port, fwmark = fields
            fw = None if fwmark == "off" else fwmark
            interfaces.append({"name": ifname, "public_key": public, "listen_port": port, "fwmark": fw, "peers": []})
        elif len(fields) == 8 and interfaces:
            public, psk, endpoint, allowed, handshake, rx, tx, keepalive = fields
            epoch = int(handshake)
            interfaces[-1]["peers"].append(
                WireguardPeer(
                    public_key=public,
                    endpoint=None if endpoint == "(none)" else endpoint,
                    allowed_ips=[] if allowed == "(none)" else allowed.split(","),
                    latest_handshake_seconds=max(0, int(now) - epoch) if epoch else None,
                    transfer_rx=rx,
                    transfer_tx=tx,
                    keepalive=None if keepalive == "off" else keepalive,
                    preshared_key=psk != "(none)",
                )
            )
        else:
            raise ParseError(DUMP_COMMAND, f"unexpected line with {len(fields)} fields", line)
    try:
        return [WireguardInterface(**i) for i in interfaces]
    except ValidationError as exc:
        raise ParseError(DUMP_COMMAND, f"bad field ({str(exc).splitlines()[0]})", text) from None


def parse_latest_handshakes(text: str, now: float | None = None) -> dict[str, int | None]:
    """``wg show IF latest-handshakes``: public key -> seconds since the handshake (None: never)."""
    now = time.time() if now is None else now
    ages: dict[str, int | None] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        key, sep, epoch = line.rpartition("\t")
        if not sep or not epoch.strip().isdigit():
            raise ParseError("wg show latest-handshakes", "expected 'KEY<tab>EPOCH'", line)
        value = int(epoch)
        ages[key.split("\t")[-1]] = max(0, int(now) - value) if value else None
    return ages
