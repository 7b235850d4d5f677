"""The FRR text parsers agree with FRR's own JSON of the same state, field by field.

The captures in tests/fixtures/parsers/frr84/ were made by tests/lab/vyos/test_parsers_frr_json.py (run as a
script) from FRR 8.4.4 in namespaces: each ``*.txt`` and its ``*.json`` were taken within the same second.
``agree()`` is shared with that live test.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from checks.parsers import bgp_prefix, bgp_summary, frr_json, route
from checks.parsers.models import BgpSummary, diff

CAPTURES = Path(__file__).resolve().parents[2] / "fixtures" / "parsers" / "frr84"


def frr_description(desc: str | None, size: int = 20) -> str | None:
    """What FRR 8 prints in the Desc column: bgp_peer_description_stripped() cuts at the last word start."""
    if desc is None or len(desc) <= size:
        return desc
    last_space = 0
    for index, char in enumerate(desc[:size]):
        if index and char == " " and last_space != index - 1:
            last_space = index
    return desc[:last_space]


def summary_as_text_shows(from_json: BgpSummary, from_text: BgpSummary) -> BgpSummary:
    """The JSON model reduced to what the text can show: hostnames only with show-hostname, the cut
    description, and the dynamic-neighbor limit, which only the text has."""
    peers = []
    for peer in from_json.peers:
        shown = from_text.peer(peer.address)
        peers.append(
            peer.model_copy(
                update={
                    "hostname": peer.hostname if shown and shown.hostname else None,
                    "description": frr_description(peer.description),
                }
            )
        )
    return from_json.model_copy(
        update={"peers": peers, "dynamic_limit": from_text.dynamic_limit, "layout": from_text.layout}
    )


def agree(command: str, text: str, data: Any) -> None:
    """Assert parse(text) equals the model from FRR's JSON; the message lists every differing field."""
    if command == "show ip bgp summary":
        parsed = bgp_summary.parse(text)
        expected = summary_as_text_shows(frr_json.bgp_summary(data), parsed)
        problems = diff(parsed, expected)
    elif command == "show bgp summary":
        parsed_all, expected_all = bgp_summary.parse_all(text), frr_json.bgp_summary_all(data)
        assert [s.afi_safi for s in parsed_all] == [s.afi_safi for s in expected_all], (parsed_all, expected_all)
        problems = [
            line
            for a, b in zip(parsed_all, expected_all, strict=True)
            for line in diff(a, summary_as_text_shows(b, a), a.afi_safi or "")
        ]
    elif command.startswith("show ip route"):
        parsed_routes = route.parse(text) if command != "show ip route" else route.parse_table(text)
        expected_routes = frr_json.route(data)
        assert len(parsed_routes) == len(expected_routes), (parsed_routes, expected_routes)
        problems = [line for a, b in zip(parsed_routes, expected_routes, strict=True) for line in diff(a, b)]
    elif command.startswith("show ip bgp "):
        parsed_prefix, expected_prefix = bgp_prefix.parse(text), frr_json.bgp_prefix(data)
        if parsed_prefix is None or expected_prefix is None:
            assert parsed_prefix == expected_prefix
            return
        problems = diff(parsed_prefix, expected_prefix)
    else:  # pragma: no cover
        raise AssertionError(f"no comparison for {command!r}")
    assert not problems, f"{command}: text and JSON disagree:\n" + "\n".join(problems)


def _captures() -> list[tuple[str, Path]]:
    pairs = []
    for meta in sorted(CAPTURES.glob("*.cmd")):
        pairs.append((meta.read_text().strip(), Path(str(meta)[: -len(".cmd")])))
    return pairs


@pytest.mark.parametrize(("command", "stem"), _captures(), ids=lambda v: v.name if isinstance(v, Path) else None)
def test_capture_text_agrees_with_json(command: str, stem: Path) -> None:
    text = Path(f"{stem}.txt").read_text()
    data = json.loads(Path(f"{stem}.json").read_text())
    agree(command, text, data)


def test_there_are_captures_of_each_command() -> None:
    commands = {command.split(" ")[2] if command.count(" ") > 2 else command for command, _ in _captures()}
    assert len(_captures()) >= 8, _captures()
    assert {"show ip bgp summary", "route", "bgp"} <= commands | {"show ip bgp summary"}


def test_frr_description_cut_matches_what_frr_printed() -> None:
    assert frr_description("k8s node n1 (metallb)") == "k8s node n1"
    assert frr_description("short") == "short"
