"""After an error that follows commit-confirm's answer (a confirm may be pending: issue 22 item 3) the driver
never reads from that session again: the commit's own late output would be taken for the next command's
answer. It drops the session, keeps the timer it recorded, and a restore on a fresh session puts the previous
config back and stops the timer (proven by a second `confirm`). Dialogues: tests/unit/vyos_fake.py."""

from __future__ import annotations

import pytest
from napalm.base.exceptions import CommitError

from napalm_edgekit_vyos.driver import VyOSDriver
from tests.unit.vyos_fake import QUESTION_13, QUESTION_14, FakeConnection, FakeRouter, Step, done, once

PREVIOUS = ["set system host-name 'r1'", "set interfaces ethernet eth1 description 'old'"]
OP_PROMPT = "vyos@r1:~$ "
CHANGED = ["set system host-name 'r1'", "set interfaces ethernet eth1 description 'new'"]


def slow_commit_after_yes(question: str) -> Step:
    """commit-confirm's question; after the answer nothing comes back in time (a slow commit)."""

    def first(_: str) -> tuple[str, Step | None]:
        return question, lambda _: ("", None)

    return first


@pytest.mark.parametrize("question", [QUESTION_14, QUESTION_13], ids=["1.4", "1.3"])
def test_an_error_after_the_answer_drops_the_session_and_keeps_the_timer(question: str) -> None:
    router = FakeRouter({"commit-confirm 5": slow_commit_after_yes(question.format(m=5))})
    conn = FakeConnection(router)
    driver = VyOSDriver("r1", "vyos")
    driver.device = conn
    original = conn.commit_confirm
    conn.commit_confirm = lambda minutes, comment="", read_timeout=120.0: original(minutes, comment, 1.0)  # type: ignore[method-assign]
    driver.remember_running(PREVIOUS)
    try:
        with pytest.raises(CommitError, match="timer may be running"):
            driver.commit_config(revert_in=300)
        assert driver.device is None, "the session whose reads are in doubt was kept"
        assert driver.has_pending_commit() and driver.pending_fires_at is not None
        # nothing was read back on it: no `discard`, no `exit discard` (only netmiko's bare `exit` may follow)
        assert [line for line in router.received if line not in ("exit",)] == ["commit-confirm 5", "y"]
    finally:
        router.close()


def test_the_restore_after_it_runs_on_a_fresh_session_and_stops_the_timer() -> None:
    """The commit did go through before the timeout: the fresh session sees the change, takes it out by the
    inverse change, and stops the timer (the second `confirm` answers "No confirm pending")."""
    state = {"running": list(CHANGED)}

    def commit(_: str) -> tuple[str, None]:
        state["running"] = list(PREVIOUS)
        return done()

    fresh = FakeRouter(
        {
            "run show configuration commands": lambda _: done("\n".join(state["running"]) + "\n"),
            'commit comment "edgekit: restore previous configuration"': commit,
            "compare": lambda _: done("No changes between working and active configurations.\n"),
            "compare 0": lambda _: done("No changes between working and revision 0 configurations.\n"),
            "confirm": once("Reboot timer stopped\n"),
            "exit": lambda _: (OP_PROMPT, None),
            "show configuration commands": lambda _: ("\n".join(state["running"]) + f"\n{OP_PROMPT}", None),
        }
    )
    driver = VyOSDriver("r1", "vyos")
    driver._pending_confirm_until = float("inf")
    driver.pending_fires_at = 1.0
    try:
        driver.device = FakeConnection(fresh)  # what open() gives after drop_session()
        driver.restore(PREVIOUS)
        assert not driver.has_pending_commit() and driver.pending_fires_at is None
        sent = fresh.received
        assert "set interfaces ethernet eth1 description 'old'" in sent
        assert sent.count("confirm") == 2  # stopped, and proven stopped
    finally:
        fresh.close()


def test_drop_session_survives_a_session_that_is_already_gone() -> None:
    router = FakeRouter({})
    conn = FakeConnection(router)
    router.close()
    driver = VyOSDriver("r1", "vyos")
    driver.device = conn
    driver.drop_session()
    assert driver.device is None
    driver.drop_session()  # twice is harmless
