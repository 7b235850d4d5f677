"""SSH host keys and connection errors, shared by the router driver and the LB connections.

Host keys are always checked. The site file's ``credentials.known_hosts_file`` names the file; without one
edgekit uses the user's ``~/.ssh/known_hosts`` (as ``ssh`` does), strictly: a host whose key is not in it
is refused with a one-line error that says how to add it. ``--accept-new-host-keys`` accepts a host that is
not in the file yet and records its key there (OpenSSH's ``StrictHostKeyChecking=accept-new``); a key that
differs from the recorded one is refused either way (paramiko raises ``BadHostKeyException`` before any
policy is asked).

``connection_error`` turns what netmiko/paramiko raise (netmiko wraps paramiko's exception in a multi-line
text, the cause only in ``__context__``) into one line naming host, address and cause.
"""

from __future__ import annotations

import base64
import errno
import fcntl
import hashlib
import os
import socket
import sys
import threading
from pathlib import Path
from typing import Any

DEFAULT_KNOWN_HOSTS = "~/.ssh/known_hosts"
ACCEPT_NEW_OPTION = "--accept-new-host-keys"

_RECORD_LOCK = threading.Lock()


def known_hosts_path(configured: str | None) -> str:
    """The known_hosts file to check against: the site file's, else the user's (``~`` expanded)."""
    return os.path.expanduser(configured or DEFAULT_KNOWN_HOSTS)


def netmiko_host_key_args(known_hosts: str) -> dict[str, Any]:
    """Netmiko ConnectHandler arguments: keys from ``known_hosts`` only, unknown hosts refused (RejectPolicy).

    Always strict, also with ``--accept-new-host-keys``: paramiko's AutoAddPolicy would rewrite the whole
    file from each connection's own copy (parallel connections lose each other's entries); instead
    ``accept_new_host_key`` records an unknown host's key before the strict connection opens.
    """
    return {"ssh_strict": True, "system_host_keys": False, "alt_host_keys": True, "alt_key_file": known_hosts}


def host_spec(address: str, port: int) -> str:
    """How known_hosts and ``ssh-keygen -R`` name a host: ``addr`` on port 22, else ``[addr]:port``."""
    return address if int(port) == 22 else f"[{address}]:{port}"


def fingerprint(key: Any) -> str:
    """OpenSSH's ``SHA256:...`` fingerprint of a paramiko key."""
    digest = hashlib.sha256(key.asbytes()).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


def record_host_key(known_hosts: str, address: str, port: int, key: Any) -> bool:
    """Append ``key`` for ``address:port`` to ``known_hosts`` unless an entry for that host exists.

    Returns True when it was added. A recorded key is never replaced (a changed key was refused before).
    Threads and concurrent edgekit runs take a lock, so two first connections never write twice.
    """
    import paramiko

    path = Path(known_hosts)
    spec = host_spec(address, port)
    with _RECORD_LOCK:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        with open(path, "a+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                # Read under the lock (through paramiko's own parser), so no other writer adds the host meanwhile.
                if paramiko.HostKeys(str(path)).lookup(spec) is not None:
                    return False
                handle.seek(0, os.SEEK_END)
                handle.write(f"{spec} {key.get_name()} {key.get_base64()}\n")
                handle.flush()
                return True
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


def accept_new_host_key(host: str, address: str, port: int, known_hosts: str, timeout: float = 10.0) -> bool:
    """``--accept-new-host-keys``, before the real (strict) connection: when ``known_hosts`` has no key for
    the host, fetch the host's key (an SSH key exchange, no login) and record it, saying so on stderr (as
    ssh's "Permanently added"). A host already known is left alone: a changed key is then refused by the
    strict connection. Returns True when a key was recorded; a host that cannot be reached records nothing
    (the connection that follows reports why)."""
    import paramiko

    spec = host_spec(address, port)
    if Path(known_hosts).is_file() and paramiko.HostKeys(known_hosts).lookup(spec) is not None:
        return False
    try:
        sock = socket.create_connection((address, port), timeout=timeout)
    except OSError:
        return False
    transport = paramiko.Transport(sock)
    try:
        transport.start_client(timeout=timeout)
        key = transport.get_remote_server_key()
    except (paramiko.SSHException, OSError, EOFError):
        return False
    finally:
        transport.close()
    if not record_host_key(known_hosts, address, port, key):
        return False
    sys.stderr.write(
        f"warning: {host} ({address}:{port}): new host key {key.get_name()} {fingerprint(key)} accepted and "
        f"recorded in {known_hosts} ({ACCEPT_NEW_OPTION})\n"
    )
    return True


def _chain(exc: BaseException) -> list[BaseException]:
    """The exception and everything behind it (``__cause__``, else ``__context__``)."""
    out: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in out:
        out.append(current)
        current = current.__cause__ or current.__context__
    return out


def _first_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[0] if lines else ""


def describe_cause(exc: BaseException, address: str, port: int, known_hosts: str | None) -> str:
    """What went wrong, in words an operator can act on (no key material beyond fingerprints)."""
    import paramiko

    chain = _chain(exc)
    spec = host_spec(address, port)
    for cause in chain:
        if isinstance(cause, paramiko.BadHostKeyException):
            where = known_hosts or "known_hosts"
            return (
                f"host key mismatch: the host offers {cause.key.get_name()} {fingerprint(cause.key)} but {where} "
                f"has {cause.expected_key.get_name()} {fingerprint(cause.expected_key)} (refused; if the host was "
                f"rebuilt, check its new key, then remove the old one: ssh-keygen -R '{spec}' -f {where})"
            )
    for cause in chain:
        if isinstance(cause, paramiko.SSHException) and "not found in known_hosts" in str(cause):
            where = known_hosts or "known_hosts"
            return (
                f"unknown host key: {spec} is not in {where} (refused; check the host's key fingerprint and add it: "
                f"ssh-keyscan -p {port} {address} >> {where}, or connect once with {ACCEPT_NEW_OPTION})"
            )
    for cause in reversed(chain):  # the innermost: netmiko's own exception subclasses paramiko's
        if isinstance(cause, paramiko.AuthenticationException):
            detail = _first_line(str(cause)) or type(cause).__name__
            return f"authentication failed ({detail}): check the user, key file and password in the site file"
    for cause in list(chain):
        if isinstance(cause, paramiko.ssh_exception.NoValidConnectionsError) and cause.errors:
            chain.extend(cause.errors.values())  # one socket error per address tried
    for cause in chain:
        if isinstance(cause, paramiko.ssh_exception.NoValidConnectionsError):
            continue
        if isinstance(cause, socket.timeout | TimeoutError):
            return f"TCP connection to port {port} timed out"
        if isinstance(cause, ConnectionRefusedError) or getattr(cause, "errno", None) == errno.ECONNREFUSED:
            return f"TCP connection to port {port} refused (is sshd running?)"
        if isinstance(cause, socket.gaierror):
            return f"cannot resolve {address}: {cause.strerror or cause}"
        if isinstance(cause, OSError) and cause.strerror:
            return f"TCP connection to port {port} failed: {cause.strerror}"
    for cause in chain:
        if isinstance(cause, paramiko.SSHException) and type(cause).__module__.startswith("paramiko"):
            return f"SSH: {_first_line(str(cause)) or type(cause).__name__}"
    # netmiko's own texts start with a banner line ("A paramiko SSHException occurred ..."): the last
    # non-empty line that is not part of its advice is the cause.
    text = " ".join(line.strip() for line in str(exc).splitlines() if line.strip())
    return text[:300] or type(exc).__name__


def connection_error(host: str, address: str, port: int, exc: BaseException, known_hosts: str | None = None) -> str:
    """``HOST (ADDRESS:PORT): cannot connect: CAUSE`` on one line."""
    return f"{host} ({address}:{port}): cannot connect: {describe_cause(exc, address, port, known_hosts)}"
