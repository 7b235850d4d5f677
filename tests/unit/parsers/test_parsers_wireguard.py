"""wg show / dump / latest-handshakes: the reference capture and captures from wireguard-go here."""

from __future__ import annotations

from pathlib import Path

import pytest

from checks.parsers import ParseError, wireguard

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
WG = FIXTURES / "parsers" / "wireguard"
NOW = int((WG / "wg-capture-epoch.txt").read_text())


def reference_sections() -> list[str]:
    """The reference file holds several commands, each after a '# command' line."""
    text = (FIXTURES / "outputs" / "wireguard-wg-show.txt").read_text()
    return [part.split("\n", 1)[1] for part in text.split("\n# ") if "\ninterface: " in "\n" + part]


def test_reference_router_side() -> None:
    (wg0,) = wireguard.parse(reference_sections()[0])
    assert (wg0.name, wg0.listen_port, wg0.public_key) == ("wg0", 51820, "uoLxjbhtIX9cQY/cOapGYKUx+dymDKS+lGqg5GRCxxs=")
    (peer,) = wg0.peers
    assert peer.endpoint == "10.99.0.2:51821" and peer.allowed_ips == ["172.16.100.2/32", "10.88.0.0/24"]
    assert (peer.latest_handshake_seconds, peer.transfer_rx, peer.transfer_tx) == (3, 1075, 988)
    assert peer.keepalive is None


def test_reference_venue_side_keepalive() -> None:
    wg0 = wireguard.parse_interface(reference_sections()[1])
    assert wg0.listen_port == 51821 and wg0.peers[0].keepalive == 5 and wg0.peers[0].transfer_tx == 1075


def test_two_peers_one_never_handshaken() -> None:
    wg = wireguard.parse_interface((WG / "wg-show-two-peers.txt").read_text())
    done, never = wg.peers
    assert done.latest_handshake_seconds == 2 and done.preshared_key
    assert never.latest_handshake_seconds is None and never.transfer_rx == 0 and never.keepalive == 25
    assert wg.peer(never.public_key) is never


def test_dump_agrees_with_show() -> None:
    shown = wireguard.parse_interface((WG / "wg-show-two-peers.txt").read_text())
    (dumped,) = wireguard.parse_dump((WG / "wg-dump.txt").read_text(), now=NOW, name="ektpswg0")
    assert dumped == shown  # counters below 1 KiB are exact in both


def test_all_dump_and_latest_handshakes() -> None:
    interfaces = wireguard.parse_dump((WG / "wg-show-all-dump.txt").read_text(), now=NOW)
    assert [(i.name, len(i.peers)) for i in interfaces] == [("ektpswg0", 2), ("ektpswg1", 1)]
    ages = wireguard.parse_latest_handshakes((WG / "wg-latest-handshakes.txt").read_text(), now=NOW)
    assert sorted(ages.values(), key=str) == [2, None]
    ref = (FIXTURES / "outputs" / "wireguard-wg-show.txt").read_text()
    line = ref.split("latest-handshakes\n", 1)[1].split("\n", 1)[0]
    assert list(wireguard.parse_latest_handshakes(line, now=1795694402).values()) == [3]


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("3 seconds ago", 3),
        ("1 second ago", 1),
        ("1 minute, 5 seconds ago", 65),
        ("2 hours, 1 minute, 1 second ago", 7261),
        ("1 day, 3 seconds ago", 86403),
        ("1 year, 2 days ago", 365 * 86400 + 2 * 86400),
        ("Now", 0),
        ("Never", None),
        (None, None),
    ],
)
def test_handshake_ages(text: str | None, seconds: int | None) -> None:
    assert wireguard.handshake_age(text) == seconds


def test_sizes() -> None:
    assert [wireguard.size_bytes(t) for t in ("988 B", "1.05 KiB", "2.00 MiB", "1.50 GiB")] == [
        988,
        1075,
        2 * 1024**2,
        round(1.5 * 1024**3),
    ]


def test_not_wg_output_raises_and_empty_is_no_interface() -> None:
    assert wireguard.parse("") == []
    with pytest.raises(ParseError, match="wg show"):
        wireguard.parse("Unable to access interface: No such device\n")
    with pytest.raises(ParseError, match="wg show"):
        wireguard.parse_dump("garbage line\n")


def test_vyos_15_report_reads_like_wg_show() -> None:
    """1.5/rolling's own report (constructed from vyos-1x current show_interface()): the same peers, by key."""
    from tests.unit.fixture_text import load

    (wg0,) = wireguard.parse(load(WG / "vyos-15-summary-constructed.txt"))
    assert (wg0.name, wg0.listen_port, wg0.public_key) == ("wg0", 51820, "s/rm29kCEC2QHT3QqicBfIYQTwQwMzpgvAR2tN0qskY=")
    venue = wg0.peer("DG5Wr9lCEt4Dk4SuL9EScBvKNcsSUrotdrNp6mCfYUU=")
    backup = wg0.peer("2Ifu/ATft41h49J2XT/g0TG3EHOzshZ8NEYpgfRaT2I=")
    assert venue is not None and backup is not None
    assert venue.latest_handshake_seconds == 3 and venue.allowed_ips == ["172.16.100.2/32", "10.88.0.0/24"]
    assert (venue.endpoint, venue.transfer_rx, venue.transfer_tx) == ("10.99.0.2:51821", 180, 92)
    assert backup.latest_handshake_seconds is None and backup.keepalive == 25 and backup.transfer_tx == 148
    # the same peers as wg's own output of the same interface
    shown = wireguard.parse_interface((WG / "wg-show-two-peers.txt").read_text())
    assert {p.public_key for p in shown.peers} == {p.public_key for p in wg0.peers}


@pytest.mark.parametrize(
    ("text", "seconds"), [("0:00:03", 3), ("1:02:03", 3723), ("1 day, 0:00:03", 86403), ("3 days, 2:00:00", 266400)]
)
def test_report_handshake_is_a_timedelta(text: str, seconds: int) -> None:
    assert wireguard.timedelta_seconds(text) == seconds


def test_report_sizes_are_whole_units() -> None:
    assert [wireguard.report_bytes(t) for t in ("0 bytes", "1 byte", "988 bytes", "1 KB", "12 MB")] == [
        0,
        1,
        988,
        1024,
        12 * 1024**2,
    ]


def test_report_with_a_bad_field_raises() -> None:
    with pytest.raises(ParseError, match="wg show"):
        wireguard.parse("interface: wg0\n  public key: X\n\n  peer: venue\n    latest handshake: soon\n")
