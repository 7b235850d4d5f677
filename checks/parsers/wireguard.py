"""WireGuard status: ``wg show`` (VyOS 1.3 and 1.4 ``show interfaces wireguard wg0 summary``), VyOS's own report
(1.5/rolling ``show interfaces wireguard wg0 summary``), ``wg show IF dump`` and ``wg show IF latest-handshakes``.

The 1.5 report is vyos-1x ``current`` python/vyos/ifconfig/wireguard.py ``WireGuardOperational.show_interface()``
(T4833, called by src/op_mode/interfaces_wireguard.py ``show_summary``): ``interface:``, indented ``public key:``,
``private key: (hidden)``, ``listening port:``, then per configured peer ``  peer: NAME`` with 4-space-indented
``public key:``, ``latest handshake: H:MM:SS`` (a ``datetime.timedelta``: ``1 day, 0:00:03``), ``status:``,
``endpoint:``, ``allowed ips:``, ``transfer: N KB received, N bytes sent`` (hurry.filesize ``alternative``:
1024-based, whole units) and ``persistent keepalive: every N seconds``. ``parse`` reads both.

``wg show`` rounds transfer counters ("1.05 KiB") and gives handshake ages in words; ``dump`` gives exact
bytes and epoch seconds, so a check that needs exact values should prefer it.
"""

from __future__ import annotations

import re
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
    """Every interface in the output (``wg show`` lists all, ``wg show wg0`` one, or VyOS 1.5's report); no
    interface: empty list."""
    if not text.startswith("interface: ") and "\ninterface: " not in text:
        if not text.strip():
            return []
        raise ParseError(COMMAND, "no 'interface:' line", text)
    if _REPORT_MARK.search(text):
        return parse_report(text)
    rows = _ttp.rows(_ttp.run(TEMPLATE, text).get("interfaces"))
    try:
        return [_interface(row) for row in rows]
    except (ValidationError, ValueError, KeyError) as exc:
        raise ParseError(COMMAND, f"bad field ({str(exc).splitlines()[0]})", text) from None


# Only VyOS's report indents its peer lines (wg prints `peer: KEY` at the margin). Without peers both read alike.
_REPORT_MARK = re.compile(r"^  peer: ", re.MULTILINE)
_TIMEDELTA = re.compile(r"^(?:(\d+) days?, )?(\d+):(\d{2}):(\d{2})$")
_REPORT_UNITS = {"byte": 1, "bytes": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3, "TB": 1024**4, "PB": 1024**5}


def parse_report(text: str) -> list[WireguardInterface]:
    """VyOS 1.5's ``show interfaces wireguard IF summary`` (see the module doc). Sizes there are whole units
    (``1 KB`` is 1024-2047 bytes): the counters are lower bounds."""
    interfaces: list[dict[str, Any]] = []
    peer: dict[str, Any] | None = None
    for line in text.splitlines():
        if not line.strip():
            continue
        key, sep, val = line.strip().partition(": ")
        if not sep and line.strip().endswith(":"):
            key, val = line.strip()[:-1], ""
        indent = len(line) - len(line.lstrip(" "))
        if indent == 0 and key == "interface":
            interfaces.append({"name": val, "peers": []})
            peer = None
            continue
        if not interfaces:
            raise ParseError(COMMAND, "a line before 'interface:'", line)
        iface = interfaces[-1]
        try:
            if indent == 2 and key == "peer":
                peer = {"public_key": ""}
                iface["peers"].append(peer)
            elif indent == 2 and key == "public key":
                iface["public_key"] = None if val == "None" else val
            elif indent == 2 and key == "listening port":
                iface["listen_port"] = None if val == "None" else int(val)
            elif indent == 4 and peer is not None:
                if key == "public key":
                    peer["public_key"] = val
                elif key == "latest handshake":
                    peer["latest_handshake_seconds"] = timedelta_seconds(val)
                elif key == "endpoint":
                    peer["endpoint"] = val
                elif key == "allowed ips":
                    peer["allowed_ips"] = [a for a in val.split(", ") if a]
                elif key == "transfer":
                    rx, _, tx = val.removesuffix(" sent").partition(" received, ")
                    peer["transfer_rx"], peer["transfer_tx"] = report_bytes(rx), report_bytes(tx)
                elif key == "persistent keepalive":
                    peer["keepalive"] = int(val.removeprefix("every ").removesuffix(" seconds"))
        except (ValueError, KeyError) as exc:
            raise ParseError(COMMAND, f"bad field ({exc})", line) from None
    try:
        out = []
        for i in interfaces:
            peers = [WireguardPeer(**p) for p in i.pop("peers")]
            out.append(WireguardInterface(**i, peers=peers))
        return out
    except ValidationError as exc:
        raise ParseError(COMMAND, f"bad field ({str(exc).splitlines()[0]})", text) from None


def timedelta_seconds(text: str) -> int:
    """``str(datetime.timedelta)``: "0:00:03", "1 day, 2:03:04", "3 days, 0:00:00" -> seconds."""
    match = _TIMEDELTA.match(text.strip())
    if not match:
        raise ValueError(f"not a duration: {text!r}")
    days, hours, minutes, seconds = (int(g or 0) for g in match.groups())
    return days * 86400 + hours * 3600 + minutes * 60 + seconds


def report_bytes(text: str) -> int:
    """hurry.filesize ``alternative`` sizes: "988 bytes", "1 byte", "12 KB" -> bytes (whole units)."""
    number, _, unit = text.strip().partition(" ")
    return int(number) * _REPORT_UNITS[unit]


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
