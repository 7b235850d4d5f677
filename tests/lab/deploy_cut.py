"""edgekit's router CLI, cut at one step of deploy: it prints ``CUT-AT-<STEP>`` at that moment and then
waits forever, so a lab test can SIGKILL it there (to the router: an SSH session that drops, as when a
laptop dies or a network goes; nothing VyOS would not see). Everything else is edgekit's own code.

    EDGEKIT_TEST_CUT=commit-confirm|confirm|save python -m tests.lab.deploy_cut deploy --cluster prd ...

- ``commit-confirm``: right after commit-confirm was answered and committed (at the gate, like
  bench/_stuck_gate.py): the router's timer runs, nothing confirmed.
- ``confirm``: right after ``confirm`` stopped the timer, before ``save`` is sent.
- ``save``: ``save`` is sent and the session is cut while the router runs it.
"""

from __future__ import annotations

import os
import sys
import threading
from typing import Any

from napalm_edgekit_vyos.connection import EdgekitVyOSSSH
from tasks.router import apply, main

STEP = os.environ.get("EDGEKIT_TEST_CUT", "")


def _cut(step: str) -> None:
    print(f"CUT-AT-{step.upper()}", file=sys.stderr, flush=True)
    threading.Event().wait()


def _at_gate(*args: Any, **kwargs: Any) -> list[Any]:
    _cut("commit-confirm")
    return []


_confirm = EdgekitVyOSSSH.confirm


def _after_confirm(self: EdgekitVyOSSSH) -> str:
    answer = _confirm(self)
    _cut("confirm")
    return answer


def _during_save(self: EdgekitVyOSSSH, cmd: str = "save", confirm: bool = False, confirm_response: str = "") -> str:
    self.write_channel(cmd + "\n")
    _cut("save")
    return ""


if __name__ == "__main__":
    if STEP == "commit-confirm":
        apply.gate = _at_gate  # type: ignore[assignment]
    elif STEP == "confirm":
        EdgekitVyOSSSH.confirm = _after_confirm  # type: ignore[method-assign]
    elif STEP == "save":
        EdgekitVyOSSSH.save_config = _during_save  # type: ignore[method-assign]
    else:
        sys.exit(f"EDGEKIT_TEST_CUT must be commit-confirm, confirm or save, not {STEP!r}")
    sys.exit(main(sys.argv[1:]))
