"""The ``show bfd peers`` text parser agrees with FRR's own JSON of the same state, field by field.

The captures in tests/fixtures/parsers/frr84-bfd/ were made by tests/lab/vyos/test_parsers_bfd.py (run as a script)
from FRR 8.4.4 bfdd in namespaces; each ``*.txt`` and its ``*.json`` were taken within the same second.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from checks.parsers import ParseError, bfd_peers, frr_json
from checks.parsers.models import diff
from tests.unit.fixture_text import load

CAPTURES = Path(__file__).resolve().parents[2] / "fixtures" / "parsers" / "frr84-bfd"


@pytest.mark.parametrize("stem", ["r1-bfd_peers", "r1-bfd_peers-n2_down"])
def test_text_parse_agrees_with_frr_json(stem: str) -> None:
    parsed = bfd_peers.parse(load(CAPTURES / f"{stem}.txt"))
    expected = frr_json.bfd_peers(json.loads((CAPTURES / f"{stem}.json").read_text()))
    assert len(parsed.peers) == 5
    assert not diff(parsed, expected), "\n".join(diff(parsed, expected))


def test_every_state_is_read() -> None:
    up = bfd_peers.parse(load(CAPTURES / "r1-bfd_peers.txt"))
    assert {p.peer: p.status for p in up.peers} == {
        "10.77.1.99": "down",
        "10.77.1.11": "up",
        "10.77.2.99": "shutdown",
        "10.77.3.13": "down",  # the speaker runs no bfdd; its BGP session was Established
        "10.77.2.12": "up",
    }
    shut = up.peer("10.77.2.99")
    assert shut is not None and (shut.local.receive_interval, shut.local.transmit_interval) == (200, 250)
    assert shut.local.detect_multiplier == 4 and shut.uptime is None and shut.downtime is None
    silent = up.peer("10.77.1.99")
    assert silent is not None and silent.remote_id == 0 and silent.remote.echo_receive_interval == 0
    down = bfd_peers.parse(load(CAPTURES / "r1-bfd_peers-n2_down.txt")).peer("10.77.2.12")
    assert down is not None and not down.up and down.diagnostic == "control detection time expired"


def _block(header: str, time_line: str = "\t\tUptime: 1 second(s)") -> str:
    text = load(CAPTURES / "r1-bfd_peers.txt")
    start = text.index("\tpeer 10.77.1.11")
    end = text.index("\n\n", start)
    block = text[start:end].replace("\tpeer 10.77.1.11 vrf default", header)
    block = "\n".join(time_line if line.startswith("\t\tUptime:") else line for line in block.split("\n"))
    return "BFD Peers:\n" + block + "\n\n"


def test_header_attributes_and_long_uptimes() -> None:
    # constructed from the real block above: the header options of bfdd_vty.c _display_peer_header and an
    # integer2timestr duration of more than a day (no lab session runs that long).
    text = _block(
        "\tpeer 10.77.1.11 multihop local-address 10.77.1.1 vrf red interface eth1",
        "\t\tUptime: 2 day(s), 3 hour(s), 4 minute(s), 5 second(s)",
    )
    peer = bfd_peers.parse(text).peers[0]
    assert (peer.multihop, peer.local_address, peer.vrf, peer.interface) == (True, "10.77.1.1", "red", "eth1")
    assert peer.uptime == 2 * 86400 + 3 * 3600 + 4 * 60 + 5


@pytest.mark.parametrize(
    "text",
    [
        "% Unknown command: show bfd peers",
        "BFD Peers:\n\tpeer 10.0.0.1 vrf default\n\t\tID: x\n",
        "",
    ],
)
def test_other_text_is_a_parse_error(text: str) -> None:
    with pytest.raises(ParseError):
        bfd_peers.parse(text)


def test_no_session_is_an_empty_list() -> None:
    assert bfd_peers.parse("BFD Peers:\n\n").peers == []


def test_an_unknown_header_word_is_an_error_not_a_guess() -> None:
    with pytest.raises(ParseError, match="not understood|bad field"):
        bfd_peers.parse(_block("\tpeer 10.77.1.11 vrf default color blue"))
