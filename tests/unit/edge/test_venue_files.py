"""The venue stanza files of `edge deploy`: whether the venue needs the new one (changed keys or endpoint)."""

from __future__ import annotations

from pathlib import Path

import pytest

from inventory.errors import InputError
from tasks.edge.venue_files import compare_stanza, stanza_fields, venue_change, venue_dir, write_stanza

# The form tasks.router.venue.venue_stanza renders (constructed values).
STANZA = """# dev: router k8s-router-1-dev (venue side of wg0; the venue's tunnel address is one of 172.16.100.6/32)
[Peer]
PublicKey = kty1l0C0h+UU9ibwZ6TcCdPUoUqJxWn7tMSEhdPVdDg=
Endpoint = 203.0.113.20:51820
AllowedIPs = 172.16.100.4/30, 198.51.100.144/28
PersistentKeepalive = 25
"""


def test_fields_of_a_stanza() -> None:
    assert stanza_fields(STANZA) == {
        "PublicKey": "kty1l0C0h+UU9ibwZ6TcCdPUoUqJxWn7tMSEhdPVdDg=",
        "Endpoint": "203.0.113.20:51820",
        "AllowedIPs": "172.16.100.4/30, 198.51.100.144/28",
        "PersistentKeepalive": "25",
    }


def test_no_previous_file_is_needed() -> None:
    change = venue_change("dev", "venue/dev.conf", None, STANZA)
    assert change.needed and change.text() == "venue needs venue/dev.conf: new stanza (no previous file)"


def test_same_stanza_needs_nothing_even_with_another_comment_or_spacing() -> None:
    other = STANZA.replace("# dev: router", "# dev:  the router").replace("AllowedIPs = ", "AllowedIPs =   ")
    change = venue_change("dev", "venue/dev.conf", STANZA, other)
    assert not change.needed and change.text() == "venue: nothing to do (venue/dev.conf unchanged)"


def test_changed_key_and_endpoint_are_named() -> None:
    new = STANZA.replace("kty1l0C0h", "AAAAAAAAA").replace("203.0.113.20:51820", "203.0.113.21:51820")
    change = venue_change("dev", "venue/dev.conf", STANZA, new)
    assert change.needed
    assert change.changes == [
        "PublicKey changed (the router's key)",
        "Endpoint 203.0.113.20:51820 -> 203.0.113.21:51820",
    ]


def test_added_pool_and_removed_keepalive() -> None:
    new = STANZA.replace("198.51.100.144/28", "198.51.100.144/28, 198.51.100.160/28").replace(
        "PersistentKeepalive = 25\n", ""
    )
    change = venue_change("dev", "venue/dev.conf", STANZA, new)
    assert change.changes == [
        "AllowedIPs 172.16.100.4/30, 198.51.100.144/28 -> 172.16.100.4/30, 198.51.100.144/28, 198.51.100.160/28",
        "PersistentKeepalive removed (was 25)",
    ]


def test_write_only_when_changed(tmp_path: Path) -> None:
    first = write_stanza(tmp_path, "dev", STANZA)
    assert first.needed and (tmp_path / "dev.conf").read_text() == STANZA
    mtime = (tmp_path / "dev.conf").stat().st_mtime_ns
    second = write_stanza(tmp_path, "dev", STANZA)
    assert not second.needed and (tmp_path / "dev.conf").stat().st_mtime_ns == mtime
    assert not list(tmp_path.glob("*.tmp"))


def test_plan_compares_without_writing(tmp_path: Path) -> None:
    change = compare_stanza(tmp_path, "dev", STANZA)
    assert change is not None and change.needed and not (tmp_path / "dev.conf").exists()
    assert compare_stanza(None, "dev", STANZA) is None


def test_venue_dir_is_created_and_a_file_is_refused(tmp_path: Path) -> None:
    assert venue_dir(str(tmp_path / "a" / "venue")).is_dir()
    (tmp_path / "file").write_text("x")
    with pytest.raises(InputError, match="--venue-dir .*file: not a directory"):
        venue_dir(str(tmp_path / "file"))
