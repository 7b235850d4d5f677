"""A fake VyOS session on a socket pair, for the driver's dialogue tests (no SSH, no lab).

The texts it prints are VyOS's, constructed from the sources named beside each (the lab router is the
witness that runs them over real SSH; this fake only lets a unit test choose one exact dialogue).
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from typing import Any

from napalm_edgekit_vyos.connection import EdgekitVyOSSSH

PROMPT = "vyos@r1# "
# vyos-1x python/vyos/config_mgmt.py commit_confirm() (1.4, action reboot) through ask_yes_no()
QUESTION_14 = (
    "\ncommit-confirm will automatically reboot in {m} minutes unless changes\nare confirmed.\n\nProceed ? [Y/n] "
)
# vyos-1x (current, T5976) with `system config-management commit-confirm action reload`
QUESTION_14_RELOAD = (
    "\ncommit-confirm will automatically reload previous config in {m} minutes\nunless changes are confirmed.\n"
    "Proceed ? [Y/n] "
)
# vyatta-cfg scripts/vyatta-config-mgmt.pl (equuleus): print + IO::Prompt
QUESTION_13 = "commit confirm will be automatically reboot in {m} minutes unless confirmed\nProceed? [confirm]"

# A step answers one line typed by the client: it returns what the router prints and, optionally, a
# follow-up step for the next line (a question waits for its answer).
Step = Callable[[str], "tuple[str, Step | None]"]


class FakeRouter:
    """Config-mode session: every line gets its echo; ``handlers`` map a command to a step."""

    def __init__(self, handlers: dict[str, Step]) -> None:
        self.client, self.server = socket.socketpair()
        self.handlers = handlers
        self.received: list[str] = []
        self.pending: Step | None = None
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        buffer = ""
        while True:
            try:
                data = self.server.recv(4096)
            except OSError:
                return
            if not data:
                return
            buffer += data.decode()
            while "\n" in buffer or "\x03" in buffer:
                if "\x03" in buffer and ("\n" not in buffer or buffer.index("\x03") < buffer.index("\n")):
                    line, buffer = "\x03", buffer[buffer.index("\x03") + 1 :]
                else:
                    line, buffer = buffer.split("\n", 1)
                self.received.append(line)
                self._answer(line)

    def _answer(self, line: str) -> None:
        if self.pending is not None:
            step, self.pending = self.pending, None
            out, self.pending = step(line)
            self.server.sendall(out.encode())
            return
        echo = "" if line == "\x03" else line + "\n"
        handler = self.handlers.get(line)
        if handler is None:
            self.server.sendall(f"{echo}[edit]\n{PROMPT}".encode())
            return
        out, self.pending = handler(line)
        self.server.sendall((echo + out).encode())

    def close(self) -> None:
        self.client.close()
        self.server.close()


class FakeConnection(EdgekitVyOSSSH):
    """The real connection class on the fake's socket (netmiko's SSH set-up skipped)."""

    def __init__(self, router: FakeRouter, **_: Any) -> None:  # noqa: D107 - no netmiko connect
        self.base_prompt = "vyos@r1"
        self.in_config_mode = True
        self.remote_conn = router.client
        self.session_log = None
        self.host = "r1"

    def write_channel(self, out_data: str) -> None:
        self.remote_conn.sendall(out_data.encode())


def done(text: str = "") -> tuple[str, None]:
    return f"{text}[edit]\n{PROMPT}", None


def ask(question: str, on_yes: str, on_no: str = "commit-confirm canceled\n") -> Step:
    """A command that prints ``question`` and waits: y/Enter gives ``on_yes``, Ctrl-C or n ``on_no``."""

    def first(_: str) -> tuple[str, Step | None]:
        def answer(line: str) -> tuple[str, Step | None]:
            if line.strip().lower() in ("", "y", "yes"):
                return done(on_yes)
            return done(("^C\n" if line == "\x03" else "") + on_no)

        return question, answer

    return first


def once(first: str, then: str = "No confirm pending\n") -> Step:
    """A command whose answer changes after its first use, as `confirm` does on the router (it stops the
    timer; any later `confirm` answers "No confirm pending": vyos-1x config_mgmt.py confirm(), 1.3
    vyatta-config-mgmt.pl --action=confirm)."""
    used: list[bool] = []

    def step(_: str) -> tuple[str, Step | None]:
        text = then if used else first
        used.append(True)
        return done(text)

    return step
