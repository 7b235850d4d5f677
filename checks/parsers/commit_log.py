"""``show system commit``: the commit revisions, newest first, in both VyOS layouts.

- 1.3: vyatta-config-mgmt (equuleus) lib/Vyatta/ConfigMgmt.pm ``cm_commit_get_log``:
  ``sprintf("%-2s  %s by %s via %s\\n", N, TIME, USER, VIA)``, then ``"    COMMENT"`` when the comment is not
  the default ``commit``.
- 1.4 / rolling: vyos-1x (1.4.0, current) python/vyos/config_mgmt.py ``format_log_data``: rows
  ``[N, TIME, "by USER", "via VIA"]`` and ``[None, COMMENT]`` through ``tabulate(..., tablefmt="plain")``: the
  number right-aligned, two spaces between columns, the comment in the time column. Without
  ``system config-management commit-revisions`` src/op_mode/config_mgmt.py ``show_commit_log`` puts two lines
  before it (``commit-revisions is not configured;`` / ``commit log is empty or stale:``).

The lab's ledger (lab/vyos/ledger, OP_MODE ``show.system-commit*``) cites the same sources.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from checks.parsers import ParseError

COMMAND = "show system commit"
_REVISION = re.compile(r"^ *(\d+) {2,}(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) +by (\S+) +via (\S+)$")
_COMMENT = re.compile(r"^ {3,}(\S.*)$")
_NOT_CONFIGURED = ("commit-revisions is not configured;", "commit log is empty or stale:")


@dataclass(frozen=True)
class Revision:
    number: int
    time: str  # "YYYY-MM-DD HH:MM:SS", the router's local time
    user: str
    via: str
    comment: str = ""


def parse(text: str) -> list[Revision]:
    """Every revision, newest (0) first; an empty log is an empty list. Another line is a ParseError."""
    out: list[Revision] = []
    for line in text.splitlines():
        if not line.strip() or line.strip() in _NOT_CONFIGURED:
            continue
        m = _REVISION.match(line)
        if m:
            number = int(m.group(1))
            if number != len(out):
                raise ParseError(COMMAND, f"revision {number} where {len(out)} was expected", line)
            out.append(Revision(number, m.group(2), m.group(3), m.group(4)))
            continue
        c = _COMMENT.match(line)
        if c and out and not out[-1].comment:
            last = out[-1]
            out[-1] = Revision(last.number, last.time, last.user, last.via, c.group(1))
            continue
        raise ParseError(COMMAND, "a line that is neither a revision nor its comment", line)
    return out
