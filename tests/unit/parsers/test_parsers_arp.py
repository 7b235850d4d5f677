"""show arp: VyOS 1.3 (arp -e -n) and 1.4+ (neighbor.py tabulate); sources in the fixtures' headers."""

from __future__ import annotations

from pathlib import Path

import pytest

from checks.parsers import ParseError, arp
from tests.unit.fixture_text import load

VYOS = Path(__file__).resolve().parents[2] / "fixtures" / "parsers" / "vyos"


def test_vyos13_arp_e_with_incomplete_entries() -> None:
    entries = arp.parse(load(VYOS / "show_arp-13-ntc-templates.txt"))
    assert len(entries) == 6
    assert (entries[0].ip, entries[0].mac, entries[0].interface, entries[0].state) == (
        "10.123.254.20",
        "9c:8e:99:fa:15:0a",
        "eth1.1230",
        "C",
    )
    assert [(e.ip, e.mac) for e in entries if e.state == "incomplete"] == [
        ("123.12.120.218", None),
        ("123.12.120.219", None),
    ]


def test_vyos14_neighbor_table() -> None:
    entries = arp.parse(load(VYOS / "show_arp-14-rendered.txt"))
    assert [(e.ip, e.interface, e.mac, e.state) for e in entries] == [
        ("192.168.100.99", "eth1", None, "INCOMPLETE"),
        ("192.168.100.50", "eth1", "52:54:00:aa:bb:cc", "PERMANENT"),
        ("192.168.100.21", "eth1", "12:69:b0:70:68:37", "REACHABLE"),
    ]


@pytest.mark.parametrize(
    ("name", "old", "new"),
    [
        ("show_arp-13-ntc-templates.txt", "11:22:33:aa:02:90", "11:22:33:aa:02"),
        ("show_arp-14-rendered.txt", "52:54:00:aa:bb:cc", "not-a-mac-address"),
    ],
)
def test_a_row_not_understood_is_an_error_naming_it(name: str, old: str, new: str) -> None:
    with pytest.raises(ParseError, match=new):
        arp.parse(load(VYOS / name).replace(old, new))


def test_empty_table_and_not_arp() -> None:
    assert arp.parse("") == []
    with pytest.raises(ParseError, match="show arp"):
        arp.parse("\n  Invalid command: [show arp]\n")
