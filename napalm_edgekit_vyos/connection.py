"""A netmiko VyOS connection that reads up to the prompt instead of waiting for silence.

netmiko's stock ``vyos`` driver waits about 2 s for output to go quiet at every mode change, commit
and save (vyos-cli.md: ~29 s for one small change). VyOS prints its prompt as soon as a command is
done, so reading to the prompt pattern is both correct and fast. The class also refuses to drop
uncommitted changes silently on exit (the stock driver sends ``exit discard``).
"""

from __future__ import annotations

import re
from typing import Any

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

    # -- prompts ---------------------------------------------------------------------------------

    @property
    def op_prompt(self) -> str:
        return re.escape(self.base_prompt) + r":\S*\$ ?$"

    @property
    def config_prompt(self) -> str:
        return re.escape(self.base_prompt) + r"# ?$"

    @property
    def any_prompt(self) -> str:
        return re.escape(self.base_prompt) + r"(?::\S*\$|#) ?$"

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

    # -- commands --------------------------------------------------------------------------------

    def run(self, command: str, read_timeout: float = 30.0, check: bool = False) -> str:
        """Send one command and read to the prompt of the current mode."""
        output = self.send_command(
            command,
            expect_string=self.config_prompt if self.in_config_mode else self.op_prompt,
            read_timeout=read_timeout,
            strip_prompt=True,
            strip_command=True,
        )
        assert isinstance(output, str)
        if check and any(marker in output for marker in ERROR_MARKERS):
            raise CommandError(command, output)
        return output

    def check_config_mode(self, check_string: str = "#", pattern: str = "", force_regex: bool = False) -> bool:
        return self.in_config_mode

    def config_mode(self, config_command: str = "configure", pattern: str = "", re_flags: int = 0) -> str:
        if self.in_config_mode:
            return ""
        output = self.send_command(config_command, expect_string=self.config_prompt, read_timeout=30)
        self.in_config_mode = True
        return str(output)

    def exit_config_mode(self, exit_config: str = "exit", pattern: str = "") -> str:
        """Leave config mode; uncommitted changes are an error, never dropped silently."""
        if not self.in_config_mode:
            return ""
        output = str(self.send_command(exit_config, expect_string=self.any_prompt, read_timeout=30))
        if "Cannot exit" in output:
            raise CommandError(exit_config, output)
        self.in_config_mode = False
        return output

    def discard_and_exit(self) -> str:
        if not self.in_config_mode:
            return ""
        output = str(self.send_command("exit discard", expect_string=self.op_prompt, read_timeout=30))
        self.in_config_mode = False
        return output

    def send_config_set(self, config_commands: Any = None, exit_config_mode: bool = False, **kwargs: Any) -> str:
        """Each line is read to the prompt and checked: the first error stops and raises."""
        commands = [config_commands] if isinstance(config_commands, str) else list(config_commands or [])
        output = self.config_mode()
        for command in commands:
            output += self.run(command, check=True)
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
        output = str(
            self.send_command(command, expect_string=r"\[confirm\]|" + self.config_prompt, read_timeout=read_timeout)
        )
        if "[confirm]" in output:
            output += self.run("y", read_timeout=read_timeout)
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
