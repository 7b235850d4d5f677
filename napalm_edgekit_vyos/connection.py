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
from typing import Any

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


class CommandError(Exception):
    """The router answered a command with one of VyOS's error messages."""

    def __init__(self, command: str, output: str) -> None:
        self.command = command
        self.output = output
        lines = [line.strip() for line in output.splitlines() if line.strip() and line.strip() != "[edit]"]
        detail = "; ".join(lines[-3:]) if lines else "no output"
        super().__init__(f"{command!r} failed: {detail}")


class EdgekitVyOSSSH(VyOSSSH):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.in_config_mode = False
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

    def _read_until(self, body: str, timeout: float, count: int = 1) -> str:
        """Read until the prompt ``body`` has appeared ``count`` times and the output ends with it."""
        prompt = re.compile(body)
        at_end = re.compile(f"(?:{body})\\s*\\Z")
        channel = self.remote_conn
        buffer = ""
        deadline = time.monotonic() + timeout
        while True:
            text = buffer.replace("\r", "")
            if at_end.search(text) and len(prompt.findall(text)) >= count:
                return text
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ReadTimeout(f"{self.host}: no prompt after {timeout:.0f} s; last output: {text[-200:]!r}")
            ready, _, _ = select.select([channel], [], [], min(remaining, 1.0))
            if ready:
                data = channel.recv(65536)
                if not data:
                    raise ReadTimeout(f"{self.host}: the session closed; last output: {text[-200:]!r}")
                chunk = data.decode("utf-8", "replace")
                if self.session_log:
                    self.session_log.write(chunk)
                buffer += chunk

    def _exchange(self, commands: list[str], body: str, timeout: float) -> list[str]:
        """Send lines in one write and read one prompt per line; return each line's output.

        Splitting at the prompts attributes output to commands. Where a device echoes typed-ahead lines
        early (a shell between commands), the attribution is approximate; error detection is not, as it
        reads every part."""
        self.write_channel("".join(f"{c}\n" for c in commands))
        text = self._read_until(body, timeout * max(1, len(commands)), count=len(commands))
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
        self.config_mode()
        command = f'commit comment "{comment}"' if comment else "commit"
        return self.run(command, read_timeout=read_timeout, check=True)

    def commit_confirm(self, minutes: int, comment: str = "", read_timeout: float = 120.0) -> str:
        """``commit-confirm N``: the router restores the previous config unless ``confirm`` follows in time."""
        self.config_mode()
        command = f"commit-confirm {minutes}" + (f' comment "{comment}"' if comment else "")
        self.write_channel(command + "\n")
        output = self._read_until(rf"(?:\[confirm\]|{self.config_body})", read_timeout)
        if re.search(r"\[confirm\]\s*\Z", output):  # VyOS asks `Proceed? [confirm]` first
            output += "\n" + self.run("y", read_timeout=read_timeout)
        if any(marker in output for marker in ERROR_MARKERS):
            raise CommandError(command, output)
        return output

    def save_config(self, cmd: str = "save", confirm: bool = False, confirm_response: str = "") -> str:
        self.config_mode()
        output = self.run(cmd, read_timeout=60)
        if "Done" not in output:
            raise CommandError(cmd, output)
        return output

    def cleanup(self, command: str = "exit") -> None:
        if self.in_config_mode:
            self.discard_and_exit()
        super().cleanup(command=command)
