"""NAPALM driver for VyOS 1.3 and 1.4+ (platform ``edgekit_vyos``), netmiko underneath.

Config lifecycle: ``load_merge_candidate`` takes set/delete lines, ``compare_config`` is VyOS's
``compare``, ``commit_config(revert_in=S)`` is ``commit-confirm``: unless ``confirm_commit`` follows in
time the router **reboots into its saved config** (1.3, 1.4 by default) or, with 1.4's
``system config-management commit-confirm action reload``, reloads the previous revision in place
(``last_confirm.action`` says which the router announced). ``rollback``/``restore`` apply the inverse
change in place and stop the timer.
Getters parse show output with the TTP parsers in ``checks.parsers`` (FRR 7 and FRR 8+ layouts).
"""

from __future__ import annotations

import math
import re
import time
from typing import Any, Literal

from napalm.base.base import NetworkDriver
from napalm.base.exceptions import (
    CommandErrorException,
    CommitError,
    ConnectionException,
    MergeConfigException,
    ReplaceConfigException,
)
from netmiko.exceptions import NetmikoAuthenticationException, NetmikoTimeoutException
from paramiko.ssh_exception import SSHException

from checks.config_diff import ManagedScope, diff
from checks.parsers import bgp_prefix, bgp_summary, route
from inventory import ssh
from napalm_edgekit_vyos import getters
from napalm_edgekit_vyos.connection import (
    COMMANDS_PIPE_REFUSAL,
    CommandError,
    CommitConfirmFailed,
    ConfirmMaybePending,
    ConfirmOutcome,
    ConfirmPending,
    EdgekitVyOSSSH,
)

WHOLE_CONFIG = ManagedScope(predicates=[lambda path: True])
# vyos-1x interface-definitions/system_config-management.xml.in (T5976): 1.4 releases that carry it
# revert an unconfirmed commit-confirm in place instead of rebooting.
CONFIRM_ACTION_PATH = "system config-management commit-confirm action"


class TimerFired(CommitError):
    """``confirm`` answered ``No confirm pending``: the router's timer already ran out and reverted."""


class VyOSDriver(NetworkDriver):
    platform = "edgekit_vyos"

    def __init__(
        self,
        hostname: str,
        username: str,
        password: str | None = None,
        timeout: int = 60,
        optional_args: dict[str, Any] | None = None,
    ) -> None:
        self.hostname = hostname
        self.username = username
        self.password = password
        self.timeout = timeout
        self.optional_args = dict(optional_args or {})
        self.device: EdgekitVyOSSSH | None = None
        self._candidate_loaded = False
        self._pending_confirm_until: float | None = None
        # Wall-clock time the router's timer fires, and what it does then (for reports and Ctrl-C).
        self.pending_fires_at: float | None = None
        self.last_confirm: ConfirmOutcome | None = None
        # The running config before our last commit: what rollback() restores.
        self._previous_config: list[str] | None = None
        self._remembered: list[str] | None = None

    # -- session ---------------------------------------------------------------------------------

    def open(self) -> None:
        """Connect. Host keys are always checked, against ``alt_key_file`` (default ``~/.ssh/known_hosts``);
        an unknown host is refused unless ``accept_new_host_keys`` (then its key is recorded there), a
        changed key always. Errors are one line: host, address and cause (``inventory.ssh``)."""
        args = self.optional_args
        port = int(args.get("port", 22))
        known_hosts = ssh.known_hosts_path(args.get("alt_key_file") or None)
        name = args.get("inventory_name") or self.hostname
        if args.get("accept_new_host_keys", False):
            ssh.accept_new_host_key(name, self.hostname, port, known_hosts, float(args.get("conn_timeout", 10)))
        try:
            self.device = EdgekitVyOSSSH(
                host=self.hostname,
                username=self.username,
                password=self.password,
                port=port,
                # netmiko's own argument names, as the Nornir inventory passes them
                key_file=args.get("key_file"),
                use_keys=bool(args.get("key_file")),
                allow_agent=False,
                **ssh.netmiko_host_key_args(known_hosts),
                conn_timeout=float(args.get("conn_timeout", 10)),
                timeout=self.timeout,
                fast_cli=True,
                sock=args.get("sock"),  # an already connected socket (tests reach a namespace this way)
            )
        except (NetmikoTimeoutException, NetmikoAuthenticationException, OSError, SSHException) as exc:
            raise ConnectionException(ssh.connection_error(name, self.hostname, port, exc, known_hosts)) from exc

    def close(self) -> None:
        if self.device is not None:
            try:
                self.device.disconnect()
            finally:
                self.device = None

    def drop_session(self) -> None:
        """Close the session without a dialogue (its reads can no longer be trusted): no ``exit discard``
        is read back; the router drops the session's uncommitted candidate with the session. ``open()``
        starts a fresh one; what the driver knows of a pending timer stays."""
        device, self.device = self.device, None
        if device is None:
            return
        device.in_config_mode = False  # netmiko's cleanup then only writes `exit`
        try:
            device.disconnect()
        except Exception:  # the session is gone either way
            pass

    def has_session(self) -> bool:
        """Whether a session is open (``drop_session``/``close`` end it; nothing is sent to ask)."""
        return self.device is not None

    def is_alive(self) -> dict[str, bool]:
        return {"is_alive": bool(self.device and self.device.is_alive())}

    @property
    def conn(self) -> EdgekitVyOSSSH:
        if self.device is None:
            raise ConnectionException(f"{self.hostname}: not connected (call open() first)")
        return self.device

    def cli(self, commands: list[str], encoding: str = "text") -> dict[str, str]:
        self.conn.exit_config_mode()
        return {command: self.conn.run(command) for command in commands}

    # -- getters (show output parsed by checks.parsers) --------------------------------------------

    def get_facts(self) -> dict[str, Any]:
        return getters.facts(
            self.show("show version"),
            self.show("show interfaces"),
            self.conn.base_prompt.split("@")[-1],
            self._show_if_known("show system uptime"),
        )

    def get_bgp_neighbors(self) -> dict[str, Any]:
        return getters.bgp_neighbors_from_text(self.show("show bgp summary"))  # every address family

    def get_interfaces_ip(self) -> dict[str, Any]:
        return getters.interfaces_ip(self.show("show interfaces"))

    def get_route_to(self, destination: str = "", protocol: str = "", longer: bool = False) -> dict[str, Any]:
        if not destination or longer:
            raise NotImplementedError("get_route_to needs one destination (longer=False)")
        return self._route_to(destination, protocol)

    def show(self, command: str) -> str:
        """An op-mode command's output (from config mode through ``run``)."""
        if self.conn.in_config_mode:
            return self.conn.run(f"run {command}")
        return self.conn.run(command)

    # -- config lifecycle ------------------------------------------------------------------------

    def get_config(
        self, retrieve: str = "all", full: bool = False, sanitized: bool = False, format: str = "text"
    ) -> dict[str, str]:
        running = self.show("show configuration commands")
        result = {"running": "", "candidate": "", "startup": ""}
        if retrieve in ("all", "running"):
            result["running"] = running
        if retrieve in ("all", "candidate"):
            result["candidate"] = self._candidate() if self.conn.in_config_mode else running
        if retrieve in ("all", "startup"):
            result["startup"] = running if not self.compare_saved() else ""
        return result

    def compare_saved(self) -> str:
        """Differences between running and the saved config (empty when saved: 1.3 prints nothing, 1.4
        "No changes between working and saved configurations."); leaves the mode as it was."""
        return self.conn.compare_saved()

    def load_merge_candidate(self, filename: str | None = None, config: str | list[str] | None = None) -> None:
        if filename:
            with open(filename) as handle:
                config = handle.read()
        lines = config.splitlines() if isinstance(config, str) else list(config or [])
        lines = [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]
        try:
            self.conn.send_config_set(lines)
        except CommandError as exc:
            self.discard_config()
            raise MergeConfigException(str(exc)) from exc
        self._candidate_loaded = True

    def load_replace_candidate(self, filename: str | None = None, config: str | None = None) -> None:
        raise ReplaceConfigException("replace is not supported: edgekit merges the managed subtrees only")

    def compare_config(self) -> str:
        if not self.conn.in_config_mode:
            return ""
        return self.conn.run("compare").strip()

    def discard_config(self) -> None:
        if self.conn.in_config_mode:
            self.conn.run("discard")
            self.conn.exit_config_mode()
        self._candidate_loaded = False

    def commit_config(self, message: str = "", revert_in: int | None = None) -> None:
        """Commit; with ``revert_in`` seconds the router reverts by itself unless confirmed (VyOS counts
        minutes, so the time is rounded up to whole minutes). ``last_confirm`` holds what the router said;
        ``last_confirm.nothing_to_commit`` means it committed nothing (and set no timer)."""
        # A caller that has just read the running config hands it over (remember_running): one read less.
        previous, self._remembered = self._remembered, None
        self._previous_config = (
            previous if previous is not None else self.show("show configuration commands").splitlines()
        )
        self.last_confirm = None
        try:
            if revert_in:
                minutes = max(1, math.ceil(revert_in / 60))
                started = time.time()
                try:
                    outcome = self.conn.commit_confirm(minutes, comment=message)
                except CommitConfirmFailed as exc:
                    if exc.timer_started:  # the timer runs: rollback()/restore() must stop it
                        self._pending_confirm_until = time.monotonic() + minutes * 60
                        self.pending_fires_at = started + minutes * 60
                    raise
                self.last_confirm = outcome
                if not outcome.nothing_to_commit:
                    self._pending_confirm_until = time.monotonic() + minutes * 60
                    self.pending_fires_at = started + minutes * 60
            else:
                self.conn.commit(comment=message)
                self.conn.save_config()
            self.conn.exit_config_mode()
        except ConfirmPending as exc:
            if not exc.committed:
                self.discard_config()
            raise CommitError(str(exc)) from exc
        except ConfirmMaybePending as exc:
            # A read that timed out, a closed session, a cancelled question: the commit's own output may
            # still arrive on this session, and a later read would take it for its answer. What follows
            # (restore, confirm) runs on a fresh session; the timer this driver recorded stays recorded.
            self.drop_session()
            raise CommitError(str(exc)) from exc
        except CommandError as exc:
            if self.conn.in_config_mode:
                try:
                    self.conn.run("discard")
                except Exception:  # a broken session: the error below says what matters
                    pass
            raise CommitError(str(exc)) from exc
        self._candidate_loaded = False

    def remember_running(self, lines: list[str]) -> None:
        """The running config the caller has just read: what rollback() restores, without reading it again."""
        self._remembered = list(lines)

    def has_pending_commit(self) -> bool:
        return self._pending_confirm_until is not None and time.monotonic() < self._pending_confirm_until

    def confirm_commit(self) -> None:
        """``confirm`` then ``save``. ``No confirm pending`` means the timer already fired (the change is
        gone: rebooted or reloaded): TimerFired, and nothing is saved."""
        if self._pending_confirm_until is None:
            raise CommitError(f"{self.hostname}: no commit is waiting for confirmation")
        try:
            answer = self.conn.confirm()
            if answer == "none":
                self._clear_pending()
                self.conn.exit_config_mode()
                raise TimerFired(
                    f"{self.hostname}: 'confirm' answered 'No confirm pending': the commit-confirm timer had "
                    "already fired and the router reverted the change"
                )
            self.conn.save_config()
            self.conn.exit_config_mode()
        except CommandError as exc:
            raise CommitError(str(exc)) from exc
        self._clear_pending()

    def _clear_pending(self) -> None:
        self._pending_confirm_until = None
        self.pending_fires_at = None

    def rollback(self) -> None:
        """Restore the config from before the last commit, in place, by the inverse change, and save it
        (like commit_config, so the router is not left with unsaved commits a later reboot would drop)."""
        if self._previous_config is None:
            raise CommitError(f"{self.hostname}: nothing to roll back")
        self.restore(self._previous_config)
        self.save()

    def restore(self, previous: list[str], stop_timer: bool = True) -> None:
        """Make the whole running config equal ``previous`` again (inverse change, commit), then stop
        our commit-confirm timer (``stop_timer=False`` leaves a timer that is someone else's alone).
        Proven by reading the running config afterwards: it must equal ``previous``."""
        current = self.show("show configuration commands").splitlines()
        commands = diff(current, previous, WHOLE_CONFIG).commands
        if commands:
            try:
                self.conn.send_config_set(commands)
                self.conn.commit(comment="edgekit: restore previous configuration")
            except CommandError as exc:
                self.discard_config()
                raise CommitError(str(exc)) from exc
        if stop_timer and self._pending_confirm_until is not None:
            # The restored config is the one the timer would bring back: stop the timer now (proven:
            # a second `confirm` answers "No confirm pending").
            try:
                self.conn.confirm()
            except CommandError as exc:
                raise CommitError(str(exc)) from exc
            self._clear_pending()
        self.conn.exit_config_mode()
        now = self.show("show configuration commands").splitlines()
        if _set_lines(now) != _set_lines(previous):
            left = diff(now, previous, WHOLE_CONFIG).commands
            raise CommitError(
                f"{self.hostname}: after the restore the running config still differs from the previous one "
                f"({len(left)} line(s), first: {left[0] if left else '?'})"
            )

    # -- safety checks before commit-confirm ------------------------------------------------------

    def unsaved_commits(self) -> str:
        """What ``compare saved`` shows before any change is loaded ("" when running == saved): commits
        a commit-confirm reboot would lose (or a change that waits for someone's confirm)."""
        if self._candidate_loaded:
            raise CommitError(f"{self.hostname}: unsaved_commits() must run before a candidate is loaded")
        return self.compare_saved()

    def unsaved_is_own_commit(self, marker: str = "edgekit") -> bool:
        """Whether what ``compare saved`` shows is exactly edgekit's own last commit, left unsaved by a
        deploy cut between its ``confirm`` and its ``save`` (or during the save). Read from the router's
        commit log, never assumed: revision 0 of ``show system commit`` is the running config (``compare
        0`` shows nothing) and carries a comment starting with ``marker``, and the saved config is revision
        1 (``compare 1`` shows what ``compare saved`` shows). Anything else (no log, someone else's commit,
        a pending commit-confirm, whose commit 1.4+ logs only at ``confirm``) is False."""
        entered = not self.conn.in_config_mode
        self.conn.config_mode()
        try:
            saved = self.conn.run("compare saved").strip()
            if not saved or saved.startswith("No changes between"):
                return False
            if not self.conn.run("compare 0").strip().startswith("No changes between"):
                return False
            if self.conn.run("compare 1").strip() != saved:
                return False
            return _revision_comment(self.conn.commit_log(), 0).startswith(marker)
        finally:
            if entered:
                self.conn.exit_config_mode()

    def save(self) -> None:
        """``save`` (running -> config.boot), leaving the mode as it was."""
        entered = not self.conn.in_config_mode
        try:
            self.conn.save_config()
        except CommandError as exc:
            raise CommitError(str(exc)) from exc
        if entered:
            self.conn.exit_config_mode()

    def confirm_action(self) -> Literal["reload", "reboot"]:
        """What the router's commit-confirm timer does now, from the running config."""
        running = self.show("show configuration commands")
        return "reload" if f"set {CONFIRM_ACTION_PATH} 'reload'" in running else "reboot"

    def supports_confirm_action(self) -> bool:
        """Whether this router knows ``system config-management commit-confirm action`` (a candidate-only
        probe: set, look at the answer, discard; the running config is not touched)."""
        entered = not self.conn.in_config_mode
        self.conn.config_mode()
        try:
            output = self.conn.run(f"set {CONFIRM_ACTION_PATH} reload")
            return "is not valid" not in output and "Set failed" not in output
        finally:
            self.conn.run("discard")
            if entered:
                self.conn.exit_config_mode()

    def set_confirm_action_reload(self) -> None:
        """Commit and save ``action reload`` (only on a router with no unsaved commits)."""
        try:
            self.conn.send_config_set([f"set {CONFIRM_ACTION_PATH} reload"])
            self.conn.commit(comment="edgekit: commit-confirm reverts in place")
            self.conn.save_config()
            self.conn.exit_config_mode()
        except CommandError as exc:
            self.discard_config()
            raise CommitError(str(exc)) from exc

    # -- more getters (parsers in checks.parsers, NAPALM structures in getters) -------------------

    def get_interfaces(self) -> dict[str, Any]:
        return getters.interfaces_detail(self.show("show interfaces"))

    def get_arp_table(self, vrf: str = "") -> list[dict[str, Any]]:
        if vrf:
            raise NotImplementedError("get_arp_table reads the default VRF only (VyOS: show arp)")
        return getters.arp_table(self.show("show arp"))

    def _route_to(self, destination: str, protocol: str) -> dict[str, Any]:
        """``show ip[v6] route DEST``; for its BGP routes also ``show ip bgp PREFIX`` (``show bgp ipv6 PREFIX``)
        and the summary, for the path attributes NAPALM documents (as_path, communities, remote_as, ...)."""
        v6 = ":" in destination
        entries = route.parse(self.show(f"show {'ipv6' if v6 else 'ip'} route {destination}"))
        wanted = [e for e in entries if e.protocol == "bgp" and protocol in ("", "bgp")]
        bgp = "show bgp ipv6" if v6 else "show ip bgp"
        paths = {e.prefix: bgp_prefix.parse(self.show(f"{bgp} {e.prefix}")) for e in wanted}
        summary = None
        if wanted:
            summary = bgp_summary.parse(self.show(f"{bgp} summary"), "IPv6 Unicast" if v6 else "IPv4 Unicast")
        return getters.route_to(entries, protocol, paths, summary)

    def _candidate(self) -> str:
        """The candidate config in config mode as set lines (``show | commands``); a device that answers with
        an error raises it instead of handing the error text back as a config. vyatta-op's ``commands``
        pipe (etc/bash_completion.d/vyatta-op) refuses a session with uncommitted changes: that is an error."""
        try:
            output = self.conn.run("show | commands", check=True)
        except CommandError as exc:
            raise CommandErrorException(str(exc)) from exc
        if COMMANDS_PIPE_REFUSAL in output:
            raise CommandErrorException(f"{self.hostname}: 'show | commands' refused: {COMMANDS_PIPE_REFUSAL}")
        return output

    def _show_if_known(self, command: str) -> str | None:
        """An op-mode command's output, or None when the device does not know it (VyOS: "Invalid command")."""
        output = self.show(command)
        return None if "Invalid command:" in output else output


def _set_lines(lines: list[str]) -> list[str]:
    """A config's set lines, order-free (for comparing two reads of ``show configuration commands``)."""
    return sorted(line.strip() for line in lines if line.strip().startswith("set "))


def _revision_comment(log: str, number: int) -> str:
    """The comment of revision ``number`` in ``show system commit`` (the indented line(s) under its entry:
    1.4 vyos-1x config_mgmt.py format_log_data(), 1.3 vyatta-config-mgmt); "" when it has none."""
    entry = re.compile(r"^\s*(\d+)\s+\d{4}-\d\d-\d\d")
    comment: list[str] = []
    inside = False
    for line in log.splitlines():
        m = entry.match(line)
        if m:
            if inside:
                break
            inside = int(m.group(1)) == number
            continue
        if inside and line.strip():
            comment.append(line.strip())
    return " ".join(comment)
