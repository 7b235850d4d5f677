"""The driver's commit-confirm dialogue against a fake session: both dialects' questions are answered,
every message is recognised, and a question nobody knows is a fast, clear error (not a read timeout)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from napalm_edgekit_vyos import connection as C
from tests.unit.vyos_fake import (
    QUESTION_13,
    QUESTION_14,
    QUESTION_14_RELOAD,
    FakeConnection,
    FakeRouter,
    Step,
    ask,
    done,
    once,
)


@pytest.fixture
def session(request: pytest.FixtureRequest) -> Iterator[tuple[FakeRouter, FakeConnection]]:
    router = FakeRouter(request.param)
    yield router, FakeConnection(router)
    router.close()


def handlers(**steps: Step) -> dict[str, Step]:
    return {name.replace("_", " "): step for name, step in steps.items()}


def _const(text: str) -> Step:
    return lambda _: done(text)


CC14 = {
    "commit-confirm 5": ask(QUESTION_14.format(m=5), "Initialized commit-confirm; 5 minutes to confirm before reboot\n")
}
CC14_RELOAD = {
    "commit-confirm 5": ask(
        QUESTION_14_RELOAD.format(m=5), "Initialized commit-confirm; 5 minutes to confirm before reload\n"
    )
}
CC13 = {"commit-confirm 5": ask(QUESTION_13.format(m=5), "")}
CC13_DEFAULT_SHOWN = {"commit-confirm 5": ask(QUESTION_13.format(m=5) + "[y] ", "")}


@pytest.mark.parametrize(
    ("session", "action"),
    [(CC14, "reboot"), (CC14_RELOAD, "reload"), (CC13, "reboot"), (CC13_DEFAULT_SHOWN, "reboot")],
    indirect=["session"],
    ids=["1.4-reboot", "1.4-reload", "1.3", "1.3-default-shown"],
)
def test_both_dialogues_are_answered_yes_and_the_action_is_read(
    session: tuple[FakeRouter, FakeConnection], action: str
) -> None:
    router, conn = session
    outcome = conn.commit_confirm(5)
    assert router.received == ["commit-confirm 5", "y", "compare"]  # `compare` proves the commit
    assert outcome.action == action and outcome.minutes == 5 and not outcome.nothing_to_commit


UNSAVED = {
    "commit-confirm 5": ask(
        "\nYou should save previous commits before commit-confirm !\n" + QUESTION_14.format(m=5),
        "Initialized commit-confirm; 5 minutes to confirm before reboot\n",
    )
}


@pytest.mark.parametrize("session", [UNSAVED], indirect=True)
def test_the_unsaved_commits_warning_is_recognised(session: tuple[FakeRouter, FakeConnection]) -> None:
    assert session[1].commit_confirm(5).unsaved_warning


PENDING_14 = {"commit-confirm 5": _const("Another confirm is pending\n"), "compare": _const("[edit interfaces]\n+ x\n")}
# 1.3: vyatta-config-mgmt.pl prints it and exits 0, so vyatta-cfg-run commits anyway (compare is empty after).
PENDING_13 = {"commit-confirm 5": _const("Another confirm is pending\n"), "compare": _const("")}


@pytest.mark.parametrize(("session", "committed"), [(PENDING_14, False), (PENDING_13, True)], indirect=["session"])
def test_another_pending_confirm_is_its_own_error(session: tuple[FakeRouter, FakeConnection], committed: bool) -> None:
    with pytest.raises(C.ConfirmPending) as caught:
        session[1].commit_confirm(5)
    assert caught.value.committed is committed
    assert "Another confirm is pending" in str(caught.value)


@pytest.mark.parametrize(
    "session", [{"commit-confirm 5": _const("No configuration changes to commit\n")}], indirect=True
)
def test_nothing_to_commit_is_no_commit_and_no_timer(session: tuple[FakeRouter, FakeConnection]) -> None:
    outcome = session[1].commit_confirm(5)
    assert outcome.nothing_to_commit and outcome.action is None


FAILED = {
    "commit-confirm 5": ask(
        QUESTION_14.format(m=5),
        "Initialized commit-confirm; 5 minutes to confirm before reboot\n[protocols bgp]\nbad thing\n\nCommit failed\n",
    )
}


@pytest.mark.parametrize("session", [FAILED], indirect=True)
def test_a_failed_commit_after_the_timer_started_says_so(session: tuple[FakeRouter, FakeConnection]) -> None:
    with pytest.raises(C.CommitConfirmFailed) as caught:
        session[1].commit_confirm(5)
    assert caught.value.timer_started and "Commit failed" in str(caught.value)


@pytest.mark.parametrize(
    "session",
    [{"commit-confirm 5": _const("commit-revisions is not configured.\n\n")}],
    indirect=True,
)
def test_a_13_router_without_commit_revisions_refuses_clearly(session: tuple[FakeRouter, FakeConnection]) -> None:
    with pytest.raises(C.CommandError, match="commit-revisions is not configured"):
        session[1].commit_confirm(5)


UNKNOWN = {"commit-confirm 5": ask("\nThis will erase the universe. Continue? [yes/NO] ", "erased\n", "aborted\n")}


@pytest.mark.parametrize("session", [UNKNOWN], indirect=True)
def test_an_unknown_question_is_a_fast_clear_error_and_is_cancelled(session: tuple[FakeRouter, FakeConnection]) -> None:
    router, conn = session
    started = time.monotonic()
    with pytest.raises(C.UnknownPrompt) as caught:
        conn.commit_confirm(5, read_timeout=120)
    elapsed = time.monotonic() - started
    assert elapsed < C.PROMPT_STALL + 3, elapsed  # seconds, not the 120 s read timeout
    assert "Continue? [yes/NO]" in str(caught.value)
    assert router.received == ["commit-confirm 5", "\x03"]  # Ctrl-C, never a guessed answer
    assert conn.run("show") == ""  # the session is usable after it


@pytest.mark.parametrize(
    ("session", "answer"),
    [
        ({"confirm": once("Reboot timer stopped\n")}, "stopped"),
        ({"confirm": once("Reload timer stopped\n")}, "stopped"),
        ({"confirm": once("")}, "stopped"),  # 1.3 prints nothing
        ({"confirm": once("Something unheard of\n")}, "stopped"),  # proven by the second confirm, not by words
        ({"confirm": _const("No confirm pending\n")}, "none"),
    ],
    indirect=["session"],
)
def test_confirm_answers_are_recognised(session: tuple[FakeRouter, FakeConnection], answer: str) -> None:
    assert session[1].confirm() == answer


@pytest.mark.parametrize("session", [{"confirm": _const("Reboot timer stopped\n")}], indirect=True)
def test_a_timer_still_pending_after_confirm_is_an_error(session: tuple[FakeRouter, FakeConnection]) -> None:
    with pytest.raises(C.CommandError, match="No confirm pending"):
        session[1].confirm()
    assert session[0].received == ["confirm", "confirm"]
