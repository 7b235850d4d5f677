"""edgekit's router CLI, cut at one step of deploy: it prints ``CUT-AT-<STEP>`` at that moment and then
waits forever, so a lab test can SIGKILL it there (to the router: an SSH session that drops, as when a
laptop dies or a network goes; nothing VyOS would not see). Everything else is edgekit's own code.

    EDGEKIT_TEST_CUT=commit-confirm|confirm|save|action|restore python -m tests.lab.deploy_cut deploy ...

- ``commit-confirm``: right after commit-confirm was answered and committed (at the gate, like
  bench/_stuck_gate.py): the router's timer runs, nothing confirmed.
- ``confirm``: right after ``confirm`` stopped the timer, before ``save`` is sent.
- ``save``: ``save`` is sent and the session is cut while the router runs it.
- ``action``: right after edgekit committed ``system config-management commit-confirm action reload``,
  before its ``save``.
- ``restore``: right after the restore's inverse change was committed, before ``confirm`` stops the timer
  (the deploy must be one that restores: a failing gate).

And one that is not a cut but an error edgekit lives through (``EDGEKIT_TEST_FAULT=after-answer``): the
read of commit-confirm's output fails right after its question was answered (as a read timeout does
when the commit takes longer than the read allows); the router goes on with the commit as it would.
"""

from __future__ import annotations

import os
import sys
import threading
from typing import Any

from netmiko.exceptions import ReadTimeout

from napalm_edgekit_vyos.connection import EdgekitVyOSSSH
from napalm_edgekit_vyos.driver import VyOSDriver
from tasks.router import apply, main

STEP = os.environ.get("EDGEKIT_TEST_CUT", "")
FAULT = os.environ.get("EDGEKIT_TEST_FAULT", "")


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


_set_action = VyOSDriver.set_confirm_action_reload


def _action_then_cut(self: VyOSDriver) -> None:
    def cut_at_save(conn: EdgekitVyOSSSH, *args: Any, **kwargs: Any) -> str:
        _cut("action")
        return ""

    EdgekitVyOSSSH.save_config = cut_at_save  # type: ignore[method-assign,assignment]
    _set_action(self)


_commit = EdgekitVyOSSSH.commit


def _restore_then_cut(self: EdgekitVyOSSSH, comment: str = "", *args: Any, **kwargs: Any) -> str:
    output = _commit(self, comment, *args, **kwargs)
    if comment.startswith("edgekit: restore"):
        _cut("restore")
    return output


_write_channel = EdgekitVyOSSSH.write_channel


def _fail_after_answer(self: EdgekitVyOSSSH, out_data: str) -> None:
    """The answer to commit-confirm's question goes out; the read that follows it fails."""
    _write_channel(self, out_data)
    if out_data == "y\n" and not getattr(self, "_faulted", False):
        self._faulted = True  # type: ignore[attr-defined]
        self.answered = True
        print("FAULT-AFTER-ANSWER", file=sys.stderr, flush=True)
        raise ReadTimeout(f"{self.host}: no prompt after 120 s (the test's fault after the answer)")


if __name__ == "__main__":
    if FAULT == "after-answer":
        EdgekitVyOSSSH.write_channel = _fail_after_answer  # type: ignore[method-assign,assignment]
        sys.exit(main(sys.argv[1:]))
    if STEP == "commit-confirm":
        apply.gate = _at_gate  # type: ignore[assignment]
    elif STEP == "confirm":
        EdgekitVyOSSSH.confirm = _after_confirm  # type: ignore[method-assign]
    elif STEP == "save":
        EdgekitVyOSSSH.save_config = _during_save  # type: ignore[method-assign]
    elif STEP == "action":
        VyOSDriver.set_confirm_action_reload = _action_then_cut  # type: ignore[method-assign]
    elif STEP == "restore":
        EdgekitVyOSSSH.commit = _restore_then_cut  # type: ignore[method-assign]
    else:
        sys.exit(f"EDGEKIT_TEST_CUT must be commit-confirm, confirm, save, action or restore, not {STEP!r}")
    sys.exit(main(sys.argv[1:]))
