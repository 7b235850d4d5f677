"""API load balancers, remote access: run commands and move files on an LB over its Nornir SSH connection."""

from __future__ import annotations

from typing import Any, Protocol

from nornir.core.task import Task

from inventory import ssh
from inventory.errors import EdgekitError


class ConnectError(EdgekitError):
    """An LB could not be reached over SSH (the message names host, address and cause)."""


class Remote(Protocol):
    """What the engine needs of an LB: run a shell command, read and write files."""

    def run(self, command: str, timeout: float = 60.0) -> tuple[int, str]: ...

    def read(self, path: str) -> tuple[str, int] | None:
        """(content, permission bits) or None when the file does not exist."""
        ...

    def write(self, path: str, content: str, mode: int) -> None: ...


class SSHRemote:
    """Exec channels and SFTP on the SSH transport of the host's Nornir ``netmiko`` connection.

    Netmiko opens and authenticates the session with the inventory's options (key, known_hosts);
    commands then run in their own exec channels, which give exit codes and stderr without prompt
    parsing, and files move over SFTP on the same transport.
    """

    def __init__(self, transport: Any) -> None:
        self.transport = transport
        self._sftp: Any = None

    @classmethod
    def from_task(cls, task: Task) -> SSHRemote:
        return cls.from_host(task.host, task.nornir.config)

    @classmethod
    def from_host(cls, host: Any, config: Any) -> SSHRemote:
        """The host's Nornir ``netmiko`` connection (opened if needed); a failure to connect raises
        ``ConnectError`` naming host, address and cause in one line (``inventory.ssh``)."""
        settings = host.data.get("ssh") or {}
        known_hosts = settings.get("known_hosts")
        port = host.port or 22
        if "netmiko" not in host.connections and settings.get("accept_new_host_keys") and known_hosts:
            ssh.accept_new_host_key(host.name, str(host.hostname), port, known_hosts)
        try:
            conn = host.get_connection("netmiko", config)
        except Exception as exc:
            raise ConnectError(ssh.connection_error(host.name, str(host.hostname), port, exc, known_hosts)) from None
        return cls(conn.remote_conn.get_transport())

    @property
    def sftp(self) -> Any:
        if self._sftp is None:
            import paramiko

            self._sftp = paramiko.SFTPClient.from_transport(self.transport)
        return self._sftp

    def run(self, command: str, timeout: float = 60.0) -> tuple[int, str]:
        chan = self.transport.open_session(timeout=timeout)
        try:
            chan.settimeout(timeout)
            chan.set_combine_stderr(True)
            chan.exec_command(command)
            chunks = []
            while True:
                data = chan.recv(65536)
                if not data:
                    break
                chunks.append(data)
            rc = chan.recv_exit_status()
        finally:
            chan.close()
        return rc, b"".join(chunks).decode(errors="replace")

    def read(self, path: str) -> tuple[str, int] | None:
        try:
            with self.sftp.open(path, "r") as fh:
                content = fh.read().decode(errors="replace")
            mode = self.sftp.stat(path).st_mode & 0o7777
        except FileNotFoundError:
            return None
        except OSError as exc:
            if getattr(exc, "errno", None) == 2:
                return None
            raise
        return content, mode

    def write(self, path: str, content: str, mode: int) -> None:
        with self.sftp.open(path, "w") as fh:
            fh.write(content.encode())
        self.sftp.chmod(path, mode)

    def close(self) -> None:
        if self._sftp is not None:
            self._sftp.close()
            self._sftp = None


def service_active(remote: Remote, service: str) -> bool:
    rc, _ = remote.run(f"systemctl is-active --quiet {service}")
    return rc == 0


def first_lines(text: str) -> str:
    """A program's output in one cell: its first four non-empty lines joined with '; '."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return "; ".join(lines[:4])


class RemoteCommandFailed(Exception):
    """A command on the LB exited non-zero (the text names the step and the program's words)."""
