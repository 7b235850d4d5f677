"""show version and show system uptime: VyOS 1.3, 1.4, 1.5 (sources in the fixtures' headers)."""

from __future__ import annotations

from pathlib import Path

import pytest

from checks.parsers import ParseError, system
from tests.unit.fixture_text import load

VYOS = Path(__file__).resolve().parents[2] / "fixtures" / "parsers" / "vyos"


@pytest.mark.parametrize(
    ("name", "version", "serial", "model"),
    [
        (
            "show_version-13-doc-vmware.txt",
            "1.3.0-rc4",
            "VMware-42 33 79 fe 73 64 2d 62-d5 62 ab 99 5a 3e d9 6d",
            "VMware Virtual Platform",
        ),
        ("show_version-14-doc-empty-serial.txt", "1.4-rolling-202106270801", None, "Standard PC (i440FX + PIIX, 1996)"),
        ("show_version-15-doc-secure-boot.txt", "1.5-secureboot", None, "Standard PC (i440FX + PIIX, 1996)"),
    ],
)
def test_version_and_an_empty_serial(name: str, version: str, serial: str | None, model: str) -> None:
    parsed = system.parse_version(load(VYOS / name))
    assert (parsed.version, parsed.serial_number, parsed.hardware_model) == (version, serial, model)
    assert parsed.hardware_uuid and "Hardware" not in (parsed.serial_number or "")


def test_version_line_of_another_shape_is_an_error_naming_it() -> None:
    text = load(VYOS / "show_version-15-doc-secure-boot.txt").replace(
        "Boot via:         installed image", "installed image"
    )
    with pytest.raises(ParseError, match="installed image"):
        system.parse_version(text)
    with pytest.raises(ParseError, match="Version: VyOS"):
        system.parse_version("Hardware model:   KVM\n")


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        (" 22:18:15 up 11 min,  0 user,  load average: 2.59, 2.35, 1.26", 660),
        (" 22:18:15 up 3 days,  4:05,  1 user,  load average: 0.00, 0.01, 0.05", 3 * 86400 + 4 * 3600 + 5 * 60),
        ("10:00:00 up 1 day, 5 min,  2 users,  load average: 0.00, 0.00, 0.00", 86400 + 300),
        (" 09:00:00 up  4:05,  0 user,  load average: 0.00, 0.00, 0.00", 4 * 3600 + 300),
        ("Uptime: 1w 4d 23h 52m 45s\n\nLoad averages:\n", 1036365),
        ("Uptime: 1w4d18h35m59s\n", 7 * 86400 + 4 * 86400 + 18 * 3600 + 35 * 60 + 59),  # early 1.4 rolling
        ("Uptime: 1y 2d\n", 31557600 + 2 * 86400),
    ],
)
def test_uptime_layouts(text: str, seconds: int) -> None:
    assert system.parse_uptime(text) == float(seconds)


@pytest.mark.parametrize("path", sorted(VYOS.glob("show_system_uptime-*.txt")), ids=lambda p: p.name)
def test_uptime_fixtures(path: Path) -> None:
    assert system.parse_uptime(load(path)) > 0


@pytest.mark.parametrize("text", ["Uptime: about a week\n", "  Invalid command: [show system uptime]\n", ""])
def test_uptime_not_understood_is_an_error(text: str) -> None:
    with pytest.raises(ParseError, match="show system uptime"):
        system.parse_uptime(text)
