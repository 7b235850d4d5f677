"""The lab router's 1.4 `show interfaces` table (vyos-1x interfaces.py _format_show_summary_extended) against
real VyOS output: byte for byte against the example in the message of vyos-1x commit bd873274d (T5747, the
commit that added the table), and read the same by edgekit's parser as the vyos-documentation capture
tests/fixtures/parsers/vyos/show_interfaces-15-doc-gowin.txt (its descriptions were edited into the docs
after the table was printed: its Description column is narrower than its cells, so it is no byte reference).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from checks.parsers import interfaces
from lab.vyos import ops
from tests.unit.fixture_text import load

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "parsers" / "vyos" / "show_interfaces-15-doc-gowin.txt"


def _link(mac: str, alias: str, up: bool = True, addrs: list[tuple[str, int]] | None = None) -> dict[str, Any]:
    return {
        "flags": ["BROADCAST", "MULTICAST", *(["UP"] if up else [])],
        "operstate": "DOWN",
        "address": mac,
        "mtu": 1500,
        "addr_info": [{"local": a, "prefixlen": n} for a, n in addrs or []],
        **({"ifalias": alias} if alias else {}),
    }


def test_extended_table_matches_real_capture() -> None:
    links = {
        "eth0": _link("00:f0:cb:00:00:99", "Intel I226-V - Front eth2"),
        "eth1": _link("00:f0:cb:00:00:9a", "Intel I226-V - Front eth1"),
        "eth2": _link("00:f0:cb:00:00:9b", "Intel I210 - Front eth4"),
        "eth3": _link("00:f0:cb:00:00:9c", "Intel I210 - Front eth3"),
        "eth4": _link("00:f0:cb:00:00:9d", "Intel I210 - Front POE"),
        "eth5": _link("00:02:c9:00:00:30", "Mellanox ConnectX-3 - SFP2"),
        "eth6": _link("00:02:c9:00:00:31", "Mellanox ConnectX-3 - SFP1"),
        "lo": {
            "flags": ["LOOPBACK", "UP", "LOWER_UP"],
            "operstate": "UNKNOWN",
            "address": "00:00:00:00:00:00",
            "mtu": 65536,
            "addr_info": [{"local": "127.0.0.1", "prefixlen": 8}, {"local": "::1", "prefixlen": 128}],
        },
        "wwan0": _link("d2:39:76:8e:05:12", "", up=False),
    }
    text = ops.interfaces_extended(links)
    assert interfaces.parse(text) == interfaces.parse(load(FIXTURE))
    # MAC, VRF and MTU columns as printed there: two spaces apart, the MTU right-aligned under its header
    assert "  MAC                VRF        MTU  S/L    Description\n" in text
    assert "  00:00:00:00:00:00  default  65536  u/u\n" in text
    assert "  d2:39:76:8e:05:12  default   1500  A/D\n" in text


# vyos-1x commit bd873274d (Nov 2023) message: `run show interfaces summary` on the author's router, the table
# that T5749 (2f3987416) made plain `show interfaces` before the 1.4.0 tag
BD873274D = """\
Codes: S - State, L - Link, u - Up, D - Down, A - Admin Down
Interface    IP Address         MAC                VRF        MTU  S/L    Description
-----------  -----------------  -----------------  -------  -----  -----  -------------
dum0         203.0.113.1/32     96:44:ad:c5:a1:a5  default   1500  u/u
eth0         192.168.122.14/24  52:54:00:f1:fd:77  default   1500  u/u    WAN
eth1         192.0.2.1/24       52:54:00:04:33:2b  foo       1500  u/u    LAN-eth1
eth2         -                  52:54:00:40:2e:af  default   1504  u/u    LAN-eth2
eth3         -                  52:54:00:09:a4:b4  default   1500  A/D
"""


def test_extended_table_byte_for_byte() -> None:
    def link(mac: str, mtu: int, addr: str | None, alias: str = "", up: bool = True, vrf: str = "") -> dict[str, Any]:
        return {
            "flags": ["UP"] if up else [],
            "operstate": "UP" if up else "DOWN",
            "address": mac,
            "mtu": mtu,
            "addr_info": [{"local": addr.split("/")[0], "prefixlen": int(addr.split("/")[1])}] if addr else [],
            **({"ifalias": alias} if alias else {}),
            **({"master": vrf, "linkinfo": {"info_slave_kind": "vrf"}} if vrf else {}),
        }

    links = {
        "dum0": link("96:44:ad:c5:a1:a5", 1500, "203.0.113.1/32"),
        "eth0": link("52:54:00:f1:fd:77", 1500, "192.168.122.14/24", "WAN"),
        "eth1": link("52:54:00:04:33:2b", 1500, "192.0.2.1/24", "LAN-eth1", vrf="foo"),
        "eth2": link("52:54:00:40:2e:af", 1504, None, "LAN-eth2"),
        "eth3": link("52:54:00:09:a4:b4", 1500, None, up=False),
    }
    assert ops.interfaces_extended(links) == BD873274D


def test_extended_table_wireguard_vrf_and_long_description() -> None:
    links = {
        "eth1": {
            "flags": ["UP"],
            "operstate": "UP",
            "address": "52:54:00:04:33:2b",
            "mtu": 1500,
            "master": "foo",
            "linkinfo": {"info_slave_kind": "vrf"},
            "addr_info": [{"local": "192.0.2.1", "prefixlen": 24}, {"local": "fe80::1", "prefixlen": 64}],
            "ifalias": " ".join(["word"] * 20),
        },
        "wg0": {"flags": ["UP"], "operstate": "UNKNOWN", "mtu": 1420, "addr_info": [], "ifalias": "venue"},
    }
    text = ops.interfaces_extended(links)
    parsed = {i.name: i for i in interfaces.parse(text)}
    assert parsed["eth1"].vrf == "foo" and parsed["eth1"].addresses == ["192.0.2.1/24"]
    assert parsed["eth1"].description == " ".join(["word"] * 20)  # wrapped by _split_text at 80, joined again
    assert len([line for line in text.splitlines() if line.startswith(" ") and "word" in line]) == 1
    assert parsed["wg0"].mac is None and parsed["wg0"].mtu == 1420 and parsed["wg0"].vrf == "default"
