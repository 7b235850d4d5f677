"""A netmiko VyOS connection that reads up to the prompt instead of waiting for silence.

netmiko's stock ``vyos`` driver waits about 2 s for output to go quiet at every mode change, commit
and save (vyos-cli.md: ~29 s for one small change), and even its pattern reads poll with sleeps. VyOS
prints its prompt as soon as a command is done, so this class waits on the SSH channel itself (select)
and returns the moment the prompt arrives; config lines go out in one write and come back as one
prompt each. It also refuses to drop uncommitted changes silently on exit (the stock driver sends
``exit discard``).
"""

from __future__ import annotations

import re
import select
import time
from dataclasses import dataclass
from typing import Any, Literal, Protocol, cast

from netmiko.exceptions import ReadTimeout
from netmiko.vyos.vyos_ssh import VyOSSSH

ERROR_MARKERS = (
    "Set failed",
    "Delete failed",
    "Commit failed",
    "Failed to generate committed config",
    "Invalid command:",
    "is not valid",
)
# Any VyOS prompt, before the base prompt is known: `user@host:~$ ` (op) or `user@host# ` (config).
ANY_PROMPT = r"[\w.-]+@[\w.-]+(?::\S*\$|#) ?$"

# A question the router waits on that edgekit has no answer for: output that stops in the middle of a
# line ending like a question (`?`, `]`, `)`, `:`, `>`) for this long is an error naming the text, not
# a read timeout minutes later.
PROMPT_STALL = 2.0
QUESTION_TAIL = re.compile(r"[?\]):>]\s*\Z")

# commit-confirm's question, per dialect (shared/reference/vyos-cli.md, "commit-confirm"):
# 1.4+: vyos-1x python/vyos/config_mgmt.py commit_confirm() asks through vyos.utils.io.ask_yes_no(),
#       which writes "Proceed ? [Y/n] " (default yes).
# 1.3:  vyatta-cfg scripts/vyatta-config-mgmt.pl (equuleus) asks IO::Prompt "Proceed? [confirm]" with
#       default "y" (shown by some builds as a trailing "[y]").
CONFIRM_QUESTIONS = (
    re.compile(r"Proceed \?\s*\[Y/n\]\s*\Z"),
    re.compile(r"Proceed\?\s*\[confirm\](?:\s*\[y\])?\s*\Z"),
)
# "commit-confirm will automatically reboot in 5 minutes unless changes" (1.4), "... reload previous
# config in 5 minutes" (1.4 with `system config-management commit-confirm action reload`), "commit
# confirm will be automatically reboot in 5 minutes unless confirmed" (1.3).
CONFIRM_ACTION_RE = re.compile(r"automatically (reboot|reload)")
# 1.4+ after yes: "Initialized commit-confirm; 5 minutes to confirm before reboot|reload".
INITIALIZED_RE = re.compile(r"Initialized commit-confirm; (\d+) minutes to confirm before (reboot|reload)")
ANOTHER_PENDING = "Another confirm is pending"
UNSAVED_WARNING = "You should save previous commits before commit-confirm !"
NOTHING_TO_COMMIT = "No configuration changes to commit"
# vyatta-op etc/bash_completion.d/vyatta-op `commands ()` (equuleus, sagitta, current): `show | commands`
# refuses a session with uncommitted changes with this text (rc 0): an error, never a config.
COMMANDS_PIPE_REFUSAL = "You have uncommited changes, please commit them before using the commands pipe"
# What proves a step is the router's state read afterwards (docs/driver-steps.md), never a success text:
# `save` prints nothing on 1.4+ (vyos-1x src/helpers/vyos-save-config.py) and `Saving configuration to
# '...'...` / `Done` on 1.3 (vyatta-cfg equuleus scripts/vyatta-save-config.pl). Its failures print:
SAVE_FAILURES = (
    "Invalid URL",  # 1.3 vyatta-save-config.pl: "Invalid URL protocol [p]", "Invalid URL [f]"
    "aborting save!",  # 1.3: "File exists and is not a Vyatta configuration file, aborting save!"
    "Can not open file",  # 1.3: die "Can not open file '...': ..."
    "failed to write JSON file",  # 1.4+ vyos-save-config.py
    "Permission denied",
    "No such file or directory",
)
# The commit-confirm countdown on 1.4+ (vyos-1x src/helpers/commit-confirm-notify.py, started by
# config_mgmt.py commit_confirm() with `sudo -b`): `wall -n "[commit-confirm] ..."` 60, 15, 5 and 1 minute
# before the timer fires (those not after it; not the one equal to the timer's length); rolling also walls
# "[commit-confirm] Reverting to previous config now" (config_mgmt.py revert_soft()). wall(1) (util-linux
# 2.38 term-utils/wall.c makemsg(), Debian bookworm as in VyOS 1.4) frames the message with lines of 79
# spaces and writes it to every logged-in tty, so it can land anywhere in a command's output, even inside
# the prompt. It is cut out before anything is read from the output.
WALL_BROADCAST = re.compile(
    r" {79}\n(?:Broadcast message from [^\n]*\n {79}\n)?\[commit-confirm\][^\n]*\n(?:[^\n]*\n){0,4}? {79}\n"
)


class _Channel(Protocol):
    """What the prompt reader needs of the session's channel (paramiko's Channel; a socket in the unit tests)."""

    def recv(self, nbytes: int) -> bytes: ...

    def fileno(self) -> int: ...


NO_CONFIRM_PENDING = "No confirm pending"
# vyos-1x config_mgmt.py confirm(): "Reboot timer stopped" / "Reload timer stopped"; 1.3 prints nothing.
TIMER_STOPPED_RE = re.compile(r"(Reboot|Reload) timer stopped")
CONFIRM_REFUSALS = ("commit-confirm canceled", "commit-revisions is not configured", "unable to schedule reboot")


class CommandError(Exception):
    """The router answered a command with one of VyOS's error messages."""

    def __init__(self, command: str, output: str) -> None:
        self.command = command
        self.output = output
        lines = [line.strip() for line in output.splitlines() if line.strip() and line.strip() != "[edit]"]
        detail = "; ".join(lines[-3:]) if lines else "no output"
        super().__init__(f"{command!r} failed: {detail}")


class UnknownPrompt(CommandError):
    """The router asked a question edgekit has no answer for (it was cancelled with Ctrl-C)."""

    def __init__(self, command: str, question: str, output: str) -> None:
        self.question = question
        CommandError.__init__(self, command, output)
        self.args = (f"{command!r} stopped at a question edgekit does not know: {question!r} (cancelled with Ctrl-C)",)


class ConfirmPending(CommandError):
    """``commit-confirm`` answered ``Another confirm is pending``: someone else's change waits for its
    ``confirm``. VyOS 1.4 commits nothing then; 1.3 commits anyway, under the other change's timer
    (``committed``)."""

    def __init__(self, command: str, output: str, committed: bool) -> None:
        self.committed = committed
        CommandError.__init__(self, command, output)
        what = "it committed the change anyway, under that timer" if committed else "nothing was committed"
        self.args = (
            f"{command!r}: the router answered {ANOTHER_PENDING!r} (another change waits for its confirm); {what}",
        )


class CommitConfirmFailed(CommandError):
    """The commit under commit-confirm failed; ``timer_started`` says whether the router's timer runs."""

    def __init__(self, command: str, output: str, timer_started: bool) -> None:
        self.timer_started = timer_started
        CommandError.__init__(self, command, output)


class ConfirmMaybePending(CommitConfirmFailed):
    """Something went wrong after commit-confirm's question was answered (a read timeout, a closed
    session, a question edgekit does not know, a commit that did not take): the router's timer may run
    (VyOS starts it right after the answer, before the commit), so whoever called must restore or confirm."""

    def __init__(self, command: str, cause: str, output: str = "") -> None:
        CommitConfirmFailed.__init__(self, command, output, timer_started=True)
        self.args = (
            f"{command!r} failed after its question was answered ({cause}): a commit-confirm timer may be running",
        )


@dataclass
class ConfirmOutcome:
    """What the router said to ``commit-confirm``."""

    output: str
    minutes: int
    action: Literal["reboot", "reload"] | None  # what the timer does, as the router announced it
    nothing_to_commit: bool = False  # "No configuration changes to commit": no commit, no timer
    unsaved_warning: bool = False  # "You should save previous commits before commit-confirm !"


class EdgekitVyOSSSH(VyOSSSH):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.in_config_mode = False
        self.answered = False  # whether the last read answered a question (commit-confirm's: a timer runs)
        super().__init__(*args, **kwargs)

    # -- prompts (regex bodies without anchors; the properties with `$` serve netmiko's own calls) --

    @property
    def op_body(self) -> str:
        return re.escape(self.base_prompt) + r":\S*\$ ?"

    @property
    def config_body(self) -> str:
        return re.escape(self.base_prompt) + r"# ?"

    @property
    def any_body(self) -> str:
        return re.escape(self.base_prompt) + r"(?::\S*\$|#) ?"

    @property
    def op_prompt(self) -> str:
        return self.op_body + "$"

    @property
    def config_prompt(self) -> str:
        return self.config_body + "$"

    @property
    def any_prompt(self) -> str:
        return self.any_body + "$"

    def _try_session_preparation(self, force_data: bool = True) -> None:
        """netmiko's own sends a newline and sleeps 0.1 s so that there is something to read; VyOS's shell
        prints its prompt at login unasked, and ``session_preparation`` reads up to it (bounded): no newline
        (whose extra prompt would be read as the next command's end), no sleep."""
        try:
            self.session_preparation()
        except Exception:
            self.disconnect()
            raise

    def session_preparation(self) -> None:
        banner = self.read_until_pattern(pattern=ANY_PROMPT, read_timeout=20)
        last = banner.strip().splitlines()[-1].strip()
        self.base_prompt = re.split(r":\S*\$|#", last)[0]
        self.in_config_mode = last.endswith("#")
        self.run("set terminal width 512")
        self.run("set terminal length 0")

    def set_base_prompt(self, *args: Any, **kwargs: Any) -> str:  # the prompt is read at login
        return self.base_prompt

    def find_prompt(self, *args: Any, **kwargs: Any) -> str:
        return self.base_prompt + ("# " if self.in_config_mode else ":~$ ")

    # -- channel I/O -----------------------------------------------------------------------------

    def _read_until(
        self,
        body: str,
        timeout: float,
        count: int = 1,
        command: str = "",
        answers: tuple[tuple[re.Pattern[str], str], ...] = (),
    ) -> str:
        """Read until the prompt ``body`` has appeared ``count`` times and the output ends with it.

        A question in ``answers`` (pattern at the end of the output) is answered once with its reply.
        Output that stalls for PROMPT_STALL seconds on a line that ends like a question and is not the
        prompt is a question nobody answers: it is cancelled with Ctrl-C and raised as UnknownPrompt."""
        prompt = re.compile(body)
        at_end = re.compile(f"(?:{body})\\s*\\Z")
        channel = cast(_Channel, self.remote_conn)  # an SSH channel once connected (netmiko types it loosely)
        buffer = ""
        answered_at = 0  # answers are looked for in the output after the last one given
        deadline = time.monotonic() + timeout
        last_data = time.monotonic()
        while True:
            text = WALL_BROADCAST.sub("", buffer.replace("\r", ""))
            if at_end.search(text) and len(prompt.findall(text)) >= count:
                return text
            for pattern, reply in answers:
                if pattern.search(text, answered_at):
                    self.write_channel(reply + "\n")
                    self.answered = True
                    answered_at = len(text)
                    last_data = time.monotonic()
                    break
            tail = text.rsplit("\n", 1)[-1]
            if (
                tail.strip()
                and QUESTION_TAIL.search(tail)
                and not prompt.search(tail)
                and time.monotonic() - last_data >= PROMPT_STALL
            ):
                self._cancel_question(body)
                raise UnknownPrompt(command or "(command)", tail.strip(), text)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ReadTimeout(f"{self.host}: no prompt after {timeout:.0f} s; last output: {text[-200:]!r}")
            ready, _, _ = select.select([channel], [], [], min(remaining, 0.25))
            if ready:
                data = channel.recv(65536)
                if not data:
                    raise ReadTimeout(f"{self.host}: the session closed; last output: {text[-200:]!r}")
                chunk = data.decode("utf-8", "replace")
                if self.session_log:
                    self.session_log.write(chunk)
                buffer += chunk
                last_data = time.monotonic()

    def _cancel_question(self, body: str) -> None:
        """Ctrl-C at a question: VyOS's ask_yes_no() takes it as no, a Perl prompt dies; the prompt follows.
        Read (briefly) up to it so the session stays usable; a session that never comes back is closed."""
        self.write_channel("\x03")
        try:
            self._read_until(body, 10.0, command="Ctrl-C")
        except (ReadTimeout, UnknownPrompt):
            self.write_channel("\n")

    def _exchange(self, commands: list[str], body: str, timeout: float) -> list[str]:
        """Send lines in one write and read one prompt per line; return each line's output.

        Splitting at the prompts attributes output to commands. Where a device echoes typed-ahead lines
        early (a shell between commands), the attribution is approximate; error detection is not, as it
        reads every part."""
        self.write_channel("".join(f"{c}\n" for c in commands))
        text = self._read_until(body, timeout * max(1, len(commands)), count=len(commands), command=commands[0])
        parts = re.split(body, text)
        outputs = []
        for command, part in zip(commands, parts, strict=False):
            lines = part.strip("\n").split("\n")
            if lines and lines[0].strip() == command.strip():
                lines = lines[1:]  # the echo
            outputs.append("\n".join(lines).strip("\n"))
        return outputs + [""] * (len(commands) - len(outputs))

    # -- commands --------------------------------------------------------------------------------

    def run(self, command: str, read_timeout: float = 30.0, check: bool = False) -> str:
        """Send one command and read to the prompt of the current mode."""
        body = self.config_body if self.in_config_mode else self.op_body
        output = self._exchange([command], body, read_timeout)[0]
        if check and any(marker in output for marker in ERROR_MARKERS):
            raise CommandError(command, output)
        if self.in_config_mode:  # VyOS ends every config-mode answer with `[edit]`: not part of it
            output = "\n".join(line for line in output.split("\n") if line.strip() != "[edit]").strip("\n")
        return output

    def check_config_mode(self, check_string: str = "#", pattern: str = "", force_regex: bool = False) -> bool:
        return self.in_config_mode

    def config_mode(self, config_command: str = "configure", pattern: str = "", re_flags: int = 0) -> str:
        if self.in_config_mode:
            return ""
        output = self._exchange([config_command], self.config_body, 30)[0]
        self.in_config_mode = True
        return output

    def exit_config_mode(self, exit_config: str = "exit", pattern: str = "") -> str:
        """Leave config mode; uncommitted changes are an error, never dropped silently."""
        if not self.in_config_mode:
            return ""
        output = self._exchange([exit_config], self.any_body, 30)[0]
        if "Cannot exit" in output:
            raise CommandError(exit_config, output)
        self.in_config_mode = False
        return output

    def discard_and_exit(self) -> str:
        if not self.in_config_mode:
            return ""
        output = self._exchange(["exit discard"], self.op_body, 30)[0]
        self.in_config_mode = False
        return output

    def send_config_set(self, config_commands: Any = None, exit_config_mode: bool = False, **kwargs: Any) -> str:
        """All lines in one write, one prompt back for each; any error line raises naming its command."""
        commands = [config_commands] if isinstance(config_commands, str) else list(config_commands or [])
        output = self.config_mode()
        if commands:
            outputs = self._exchange(commands, self.config_body, 30)
            for command, result in zip(commands, outputs, strict=True):
                if any(marker in result for marker in ERROR_MARKERS):
                    raise CommandError(command, result)
            output += "\n".join(outputs)
        if exit_config_mode:
            output += self.exit_config_mode()
        return output

    def commit(self, comment: str = "", read_timeout: float = 120.0, delay_factor: float | None = None) -> str:
        """``commit``, proven by the router's state: afterwards ``compare`` shows nothing, and where the
        router keeps a commit log (``commit-revisions``) its newest revision, ``show system commit``'s
        entry 0, is the running config (``compare 0`` shows nothing). Error markers fail it at once; no
        success text is looked for (VyOS prints none)."""
        self.config_mode()
        command = f'commit comment "{comment}"' if comment else "commit"
        output = self.run(command, read_timeout=read_timeout, check=True)
        if NOTHING_TO_COMMIT in output:
            return output
        if self.session_changed():
            raise CommandError(command, output + "\n(`compare` still shows changes after the commit)")
        if not self.in_revision_log():
            raise CommandError(command, output + "\n(revision 0 of `show system commit` is not the running config)")
        return output

    def commit_log(self) -> str:
        """``show system commit`` (both dialects; nothing without ``commit-revisions``)."""
        output = self.run("run show system commit" if self.in_config_mode else "show system commit")
        return "" if "Invalid command" in output else output.strip()

    def in_revision_log(self) -> bool:
        """Whether the running config is revision 0 of the commit log: ``compare 0`` (vyos-1x config_mgmt.py
        compare(rev1=0): "No changes between working and revision 0 configurations."; 1.3 vyatta-config-mgmt.pl
        --action=diff, no full stop). True as well where there is no log ("Invalid revision ...")."""
        output = self.run("compare 0").strip()
        return not output or output.startswith(("No changes between", "Invalid revision"))

    def compare_saved(self) -> str:
        """``compare saved``: "" when running == saved (1.3 prints nothing; 1.4+ "No changes between working
        and saved configurations." and a blank line: vyos-1x python/vyos/config_mgmt.py compare() / run())."""
        entered = not self.in_config_mode
        self.config_mode()
        output = self.run("compare saved").strip()
        if entered:
            self.exit_config_mode()
        return "" if output.startswith("No changes between") else output

    def commit_confirm(self, minutes: int, comment: str = "", read_timeout: float = 120.0) -> ConfirmOutcome:
        """``commit-confirm N``: the router reboots into its saved config (or, with ``action reload``,
        reloads the previous revision in place) unless ``confirm`` follows within N minutes.

        Answers the question of either dialect with ``y``. The timer runs from that answer on (vyatta-cfg
        functions/interpreter/vyatta-cfg-run ``vyatta_config_commit-confirm``: config-mgmt starts it, then
        the commit runs), so any failure after it (read timeout, closed session, unknown question, a commit
        that did not take) is ConfirmMaybePending. Proof of the commit: ``compare`` is empty afterwards."""
        self.config_mode()
        command = f"commit-confirm {minutes}" + (f' comment "{comment}"' if comment else "")
        self.answered = False
        try:
            self.write_channel(command + "\n")
            text = self._read_until(self.config_body, read_timeout, command=command, answers=_yes(CONFIRM_QUESTIONS))
        except Exception as exc:
            if self.answered:
                raise ConfirmMaybePending(command, f"{type(exc).__name__}: {exc}") from exc
            raise
        output = self._strip_answer(text, command)
        action_match = INITIALIZED_RE.search(output)
        action: Literal["reboot", "reload"] | None = None
        if action_match:
            action = action_match.group(2)  # type: ignore[assignment]
        elif question := CONFIRM_ACTION_RE.search(output):
            action = question.group(1)  # type: ignore[assignment]
        asked = self.answered or re.search(r"Proceed ?\?", output) is not None  # the timer is set after yes
        if ANOTHER_PENDING in output:
            # 1.4: rc 1, nothing committed; 1.3: the Perl script exits 0 and the commit runs anyway.
            raise ConfirmPending(command, output, committed=not self.session_changed())
        if NOTHING_TO_COMMIT in output:  # checked before any timer is set (vyatta-cfg-run, both dialects)
            return ConfirmOutcome(output, minutes, None, nothing_to_commit=True)
        if any(refusal in output for refusal in CONFIRM_REFUSALS):
            raise CommandError(command, output)
        if any(marker in output for marker in ERROR_MARKERS):
            raise CommitConfirmFailed(command, output, timer_started=asked or action_match is not None)
        try:
            changed = self.session_changed()
        except Exception as exc:
            raise ConfirmMaybePending(command, f"{type(exc).__name__}: {exc}", output) from exc
        if changed:
            if asked:
                raise ConfirmMaybePending(command, "`compare` still shows the change: it was not committed", output)
            raise CommandError(command, output + "\n(`compare` still shows the change: nothing was committed)")
        return ConfirmOutcome(output, minutes, action, unsaved_warning=UNSAVED_WARNING in output)

    def _strip_answer(self, text: str, command: str) -> str:
        """Output of one command read with _read_until: without its echo, the final prompt and [edit]."""
        body = re.compile(self.config_body + r"\s*\Z")
        text = body.sub("", text)
        lines = text.strip("\n").split("\n")
        if lines and lines[0].strip() == command.strip():
            lines = lines[1:]
        return "\n".join(line for line in lines if line.strip() != "[edit]").strip("\n")

    def session_changed(self) -> bool:
        """Whether this session's candidate differs from the running config (``compare`` says so: "No
        changes between working and active configurations" (1.3), with a full stop (1.4+))."""
        output = self.run("compare").strip()
        return bool(output) and not output.startswith("No changes between")

    def confirm(self) -> str:
        """``confirm``: stop the commit-confirm timer. Returns "stopped" or "none" ("No confirm pending": no
        timer ran, or it already fired). "stopped" is proven, not read from a success text (1.4 prints
        "Reboot|Reload timer stopped", 1.3 nothing): a second ``confirm`` must answer "No confirm pending"
        (vyos-1x config_mgmt.py confirm(): the commit-confirm.timer is inactive; 1.3 vyatta-config-mgmt.pl
        --action=confirm: the confirm job file is gone)."""
        self.config_mode()
        output = self.run("confirm", check=True)
        if NO_CONFIRM_PENDING in output:
            return "none"
        again = self.run("confirm", check=True)
        if NO_CONFIRM_PENDING not in again:
            raise CommandError("confirm", f"{output}\n{again}\n(a second `confirm` did not say {NO_CONFIRM_PENDING!r})")
        return "stopped"

    def save_config(self, cmd: str = "save", confirm: bool = False, confirm_response: str = "") -> str:
        """``save``, proven by ``compare saved`` showing nothing afterwards. Its own words are not relied
        on: 1.4+ prints nothing on success, 1.3 ``Saving configuration to '...'...`` / ``Done``; only the
        failure texts of both scripts fail it at once. (``save FILE`` is checked by those texts only.)"""
        self.config_mode()
        output = self.run(cmd, read_timeout=60)
        if any(text in output for text in SAVE_FAILURES + ERROR_MARKERS):
            raise CommandError(cmd, output)
        if cmd.strip() == "save":
            left = self.compare_saved()
            if left:
                raise CommandError(cmd, f"{output}\n(after save, `compare saved` still shows: {left.splitlines()[0]})")
        return output

    def cleanup(self, command: str = "exit") -> None:
        if self.in_config_mode:
            self.discard_and_exit()
        super().cleanup(command=command)


def _yes(questions: tuple[re.Pattern[str], ...]) -> tuple[tuple[re.Pattern[str], str], ...]:
    return tuple((q, "y") for q in questions)
