"""Every driver step is proven by the router's state, never by a success text (docs/driver-steps.md).

Against the fake session of tests/unit/vyos_fake.py (texts constructed from the VyOS sources named there
and in the lab's ledger, lab/vyos/ledger LIFECYCLE): 1.4+'s silent `save`, 1.3's `Done`, a save or commit
the router's state contradicts, a confirm that left a timer, a failure after commit-confirm's question was
answered (a confirm may be pending: issue 22 item 3), a commit-confirm wall broadcast inside the output,
and the commands pipe's refusal."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from napalm.base.exceptions import CommandErrorException, CommitError

from napalm_edgekit_vyos import connection as C
from napalm_edgekit_vyos.driver import VyOSDriver
from tests.unit.vyos_fake import PROMPT, QUESTION_13, QUESTION_14, FakeConnection, FakeRouter, Step, ask, done, once

NO_SAVED_DIFF_14 = "No changes between working and saved configurations.\n\n"  # config_mgmt.py compare() + print
SAVE_13 = "Saving configuration to '/config/config.boot'...\nDone\n"  # vyatta-save-config.pl (equuleus)
INITIALIZED = "Initialized commit-confirm; 5 minutes to confirm before reboot\n"
# vyos-1x 1.4.0 src/helpers/commit-confirm-notify.py through wall -n (util-linux wall.c makemsg framing)
WALL = (
    " " * 79
    + "\n[commit-confirm] System is going to reboot in 1 minute to rollback the last commit.\n"
    + "Confirm your changes to cancel the reboot.\n"
    + " " * 79
    + "\n"
)


def _const(text: str) -> Step:
    return lambda _: done(text)


@pytest.fixture
def session(request: pytest.FixtureRequest) -> Iterator[tuple[FakeRouter, FakeConnection]]:
    router = FakeRouter(request.param)
    yield router, FakeConnection(router)
    router.close()


def driver_on(conn: FakeConnection) -> VyOSDriver:
    driver = VyOSDriver("r1", "vyos")
    driver.device = conn
    return driver


# -- save ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "session",
    [
        {"save": _const(""), "compare saved": _const(NO_SAVED_DIFF_14)},  # 1.4+: prints nothing
        {"save": _const(SAVE_13), "compare saved": _const("")},  # 1.3: Done; compare saved prints nothing
    ],
    indirect=True,
    ids=["1.4-silent", "1.3-done"],
)
def test_save_is_proven_by_compare_saved_not_by_done(session: tuple[FakeRouter, FakeConnection]) -> None:
    router, conn = session
    conn.save_config()
    assert router.received == ["save", "compare saved"]


@pytest.mark.parametrize(
    "session",
    [{"save": _const(SAVE_13), "compare saved": _const("[edit system]\n+host-name r2\n")}],
    indirect=True,
)
def test_a_save_that_left_a_difference_fails_even_after_done(session: tuple[FakeRouter, FakeConnection]) -> None:
    with pytest.raises(C.CommandError, match="compare saved"):
        session[1].save_config()


@pytest.mark.parametrize(
    "session", [{"save": _const("File exists and is not a Vyatta configuration file, aborting save!\n")}], indirect=True
)
def test_a_save_failure_text_fails_at_once(session: tuple[FakeRouter, FakeConnection]) -> None:
    router, conn = session
    with pytest.raises(C.CommandError, match="aborting save"):
        conn.save_config()
    assert router.received == ["save"]


# -- commit ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "session",
    [{"commit": _const(""), "compare": _const("No changes between working and active configurations.\n\n")}],
    indirect=True,
)
def test_a_silent_commit_is_proven_by_compare_and_revision_0(session: tuple[FakeRouter, FakeConnection]) -> None:
    router, conn = session
    conn.commit()
    assert router.received == ["commit", "compare", "compare 0"]


@pytest.mark.parametrize(
    "session", [{"commit": _const(""), "compare": _const("[edit system]\n+host-name r2\n")}], indirect=True
)
def test_a_commit_that_left_the_candidate_fails(session: tuple[FakeRouter, FakeConnection]) -> None:
    with pytest.raises(C.CommandError, match="still shows changes"):
        session[1].commit()


@pytest.mark.parametrize(
    "session",
    [{"commit": _const(""), "compare 0": _const("[edit system]\n-host-name r1\n+host-name r2\n")}],
    indirect=True,
)
def test_a_commit_missing_from_the_revision_log_fails(session: tuple[FakeRouter, FakeConnection]) -> None:
    with pytest.raises(C.CommandError, match="revision 0"):
        session[1].commit()


# -- confirm ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "session", [{"confirm": once(""), "save": _const(""), "compare saved": _const("")}], indirect=True
)
def test_confirm_commit_proves_no_timer_and_a_saved_config(session: tuple[FakeRouter, FakeConnection]) -> None:
    router, conn = session
    driver = driver_on(conn)
    driver._pending_confirm_until = float("inf")
    conn.in_config_mode = True
    driver.confirm_commit()
    assert router.received[:4] == ["confirm", "confirm", "save", "compare saved"]
    assert not driver.has_pending_commit()


# -- a confirm may be pending (issue 22 item 3) -------------------------------------------------------------


def silent_after_yes(question: str) -> Step:
    """commit-confirm's question; after the answer the router says nothing more (a hung commit)."""

    def first(_: str) -> tuple[str, Step | None]:
        return question, lambda _: ("", None)

    return first


def second_question_after_yes(question: str) -> Step:
    """After the answer, a question edgekit does not know."""

    def first(_: str) -> tuple[str, Step | None]:
        return question, lambda _: ("Really overwrite? [y/N] ", None)

    return first


@pytest.mark.parametrize(
    "session",
    [
        {"commit-confirm 5": silent_after_yes(QUESTION_14.format(m=5))},
        {"commit-confirm 5": silent_after_yes(QUESTION_13.format(m=5))},
    ],
    indirect=True,
    ids=["1.4", "1.3"],
)
def test_a_read_timeout_after_the_answer_means_a_confirm_may_be_pending(
    session: tuple[FakeRouter, FakeConnection],
) -> None:
    router, conn = session
    with pytest.raises(C.ConfirmMaybePending, match="timer may be running") as caught:
        conn.commit_confirm(5, read_timeout=1.0)
    assert caught.value.timer_started
    assert router.received == ["commit-confirm 5", "y"]


@pytest.mark.parametrize(
    "session", [{"commit-confirm 5": second_question_after_yes(QUESTION_14.format(m=5))}], indirect=True
)
def test_an_unknown_prompt_after_the_answer_means_a_confirm_may_be_pending(
    session: tuple[FakeRouter, FakeConnection],
) -> None:
    with pytest.raises(C.ConfirmMaybePending, match="UnknownPrompt"):
        session[1].commit_confirm(5, read_timeout=20.0)


@pytest.mark.parametrize("session", [{"commit-confirm 5": silent_after_yes(QUESTION_14.format(m=5))}], indirect=True)
def test_the_driver_records_the_pending_confirm_so_deploy_restores(session: tuple[FakeRouter, FakeConnection]) -> None:
    _, conn = session
    driver = driver_on(conn)
    driver.remember_running(["set system host-name 'r1'"])
    original = conn.commit_confirm
    conn.commit_confirm = lambda minutes, comment="", read_timeout=120.0: original(minutes, comment, 1.0)  # type: ignore[method-assign]
    with pytest.raises(CommitError, match="timer may be running"):
        driver.commit_config(revert_in=300)
    assert driver.has_pending_commit() and driver.pending_fires_at is not None


@pytest.mark.parametrize(
    "session",
    [{"commit-confirm 5": ask(QUESTION_14.format(m=5), INITIALIZED), "compare": _const("[edit]\n+x\n")}],
    indirect=True,
)
def test_a_commit_confirm_whose_change_is_still_in_the_candidate_is_pending_not_ok(
    session: tuple[FakeRouter, FakeConnection],
) -> None:
    with pytest.raises(C.ConfirmMaybePending, match="not committed"):
        session[1].commit_confirm(5)


# -- wall broadcasts ---------------------------------------------------------------------------------------


def with_wall(text: str, cut: int) -> Step:
    """Output ``text`` then the prompt, with the wall broadcast landing ``cut`` characters into it."""

    def step(_: str) -> tuple[str, Step | None]:
        whole = f"{text}[edit]\n{PROMPT}"
        return whole[:cut] + WALL + whole[cut:], None

    return step


@pytest.mark.parametrize("cut", [0, 5, 12, 19, 29], ids=["before", "in-line", "at-edit", "in-prompt", "end-less-one"])
def test_a_wall_broadcast_anywhere_in_the_output_is_cut_out(cut: int) -> None:
    text = "set system host-name 'r1'\n"
    router = FakeRouter({"show | commands": with_wall(text, cut)})
    try:
        conn = FakeConnection(router)
        assert conn.run("show | commands") == text.strip("\n")
    finally:
        router.close()


def test_a_wall_broadcast_after_the_prompt_does_not_hang_the_next_command() -> None:
    router = FakeRouter({"confirm": lambda _: (f"Reboot timer stopped\n[edit]\n{PROMPT}{WALL}", None)})
    try:
        conn = FakeConnection(router)
        conn.in_config_mode = True
        out = conn._exchange(["confirm"], conn.config_body, 5)[0]
        assert "Reboot timer stopped" in out and "[commit-confirm]" not in out
    finally:
        router.close()


# -- the commands pipe's refusal ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "session",
    [{"show | commands": _const("You have uncommited changes, please commit them before using the commands pipe\n")}],
    indirect=True,
)
def test_the_commands_pipe_refusal_is_an_error_not_a_candidate(session: tuple[FakeRouter, FakeConnection]) -> None:
    driver = driver_on(session[1])
    with pytest.raises(CommandErrorException, match="uncommited changes"):
        driver.get_config(retrieve="candidate")


# -- edgekit's own unsaved commit (a deploy cut between confirm and save) --------------------------------------

DIFF = "[edit interfaces ethernet eth1]\n-description 'old'\n+description 'new'\n"
REV0 = "No changes between working and revision 0 configurations.\n\n"  # vyos-1x config_mgmt.py compare(rev1=0)
LOG = (
    "0   2026-12-06 19:00:01 by vyos via cli\n    edgekit deploy\n"
    "1   2026-12-06 18:59:00 by vyos via cli\n    operator change\n"
)


@pytest.mark.parametrize(
    ("session", "own"),
    [
        (
            {
                "compare saved": _const(DIFF),
                "compare 0": _const(REV0),
                "compare 1": _const(DIFF),
                "run show system commit": _const(LOG),
            },
            True,
        ),
        (
            {
                "compare saved": _const(DIFF),
                "compare 0": _const(REV0),
                "compare 1": _const("+other\n"),
                "run show system commit": _const(LOG),
            },
            False,
        ),
        (
            {
                "compare saved": _const(DIFF),
                "compare 0": _const(DIFF),
                "compare 1": _const(DIFF),
                "run show system commit": _const(LOG),
            },
            False,
        ),
        (
            {
                "compare saved": _const(DIFF),
                "compare 0": _const(REV0),
                "compare 1": _const(DIFF),
                "run show system commit": _const(LOG.replace("edgekit deploy", "by hand")),
            },
            False,
        ),
    ],
    indirect=["session"],
    ids=["own", "saved-is-not-revision-1", "running-is-not-revision-0", "someone-elses-comment"],
)
def test_own_unsaved_commit_is_read_from_the_commit_log(session: tuple[FakeRouter, FakeConnection], own: bool) -> None:
    _, conn = session
    conn.in_config_mode = True
    assert driver_on(conn).unsaved_is_own_commit() is own
