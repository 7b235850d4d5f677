"""show system commit, both layouts. Constructed: rendered with the lab's renderer of the sources' formats (lab/vyos/
ops.commit_log_text, ledger OP_MODE show.system-commit*: vyatta-config-mgmt equuleus cm_commit_get_log; vyos-1x
1.4.0 / current format_log_data); no real capture of either was found."""

from __future__ import annotations

import pytest

from checks.parsers import ParseError, commit_log
from lab.vyos.ops import commit_log_text

T = 1_700_000_000.0
REVS = [(T, "vyos", "cli", "edgekit: bgp"), (T - 60, "vyos", "cli", ""), (T - 120, "root", "init", "commit")]


@pytest.mark.parametrize("version", ["1.3", "1.4"])
def test_both_layouts(version: str) -> None:
    revs = commit_log.parse(commit_log_text(version, REVS * 4))
    assert [r.number for r in revs] == list(range(12))
    assert (revs[0].user, revs[0].via, revs[0].comment) == ("vyos", "cli", "edgekit: bgp")
    assert revs[1].comment == "" and revs[2].comment == "" and revs[11].via == "init"


def test_14_literal_and_not_configured_prefix() -> None:
    text = (
        "commit-revisions is not configured;\ncommit log is empty or stale:\n\n"
        "0  2024-05-01 10:00:00  by vyos  via cli\n   deploy\n1  2024-05-01 09:00:00  by root  via init\n"
    )
    revs = commit_log.parse(text)
    assert [(r.number, r.time, r.comment) for r in revs] == [
        (0, "2024-05-01 10:00:00", "deploy"),
        (1, "2024-05-01 09:00:00", ""),
    ]
    assert commit_log.parse("") == []


@pytest.mark.parametrize(
    "text",
    ["Invalid command: show system [commit]", "0 2024-05-01 by vyos via cli", "1  2024-05-01 10:00:00 by vyos via cli"],
)
def test_other_text_is_an_error(text: str) -> None:
    with pytest.raises(ParseError):
        commit_log.parse(text)
