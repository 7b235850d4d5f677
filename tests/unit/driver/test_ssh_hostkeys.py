"""Host-key policy and one-line connection errors (inventory.ssh), on real paramiko/netmiko exceptions."""

from __future__ import annotations

import os
from pathlib import Path

import paramiko
import pytest
from netmiko.exceptions import NetmikoAuthenticationException, NetmikoTimeoutException

from inventory import ssh
from inventory.build import HostFacts
from inventory.model import Credentials
from inventory.nornir_plugin import _ssh_extras, connection_options

ADDR = "203.0.113.8"
HOST = "k8s-lb-1-server-prd"


@pytest.fixture(scope="module")
def keys() -> tuple[paramiko.PKey, paramiko.PKey]:
    return paramiko.RSAKey.generate(1024), paramiko.RSAKey.generate(1024)


def netmiko_wrapped(cause: BaseException) -> BaseException:
    """What netmiko raises: its own multi-line text, the paramiko exception only as the context."""
    try:
        try:
            raise cause
        except paramiko.ssh_exception.AuthenticationException as exc:
            raise NetmikoAuthenticationException(f"Authentication to device failed.\n\n{exc}")  # noqa: B904
        except paramiko.SSHException as exc:
            raise NetmikoTimeoutException(  # noqa: B904
                f"\nA paramiko SSHException occurred during connection creation:\n\n{exc}\n\n"
            )
        except OSError:
            raise NetmikoTimeoutException(  # noqa: B904
                "TCP connection to device failed.\n\nCommon causes of this problem are:\n"
                f"1. Incorrect hostname or IP address.\n\nDevice settings: linux {ADDR}:22\n\n"
            )
    except (NetmikoTimeoutException, NetmikoAuthenticationException) as wrapped:
        assert wrapped.__context__ is cause
        return wrapped
    raise AssertionError("not reached")


def test_changed_host_key_names_host_address_both_fingerprints_in_one_line(
    keys: tuple[paramiko.PKey, paramiko.PKey],
) -> None:
    got, expected = keys
    exc = netmiko_wrapped(paramiko.BadHostKeyException(ADDR, got, expected))
    text = ssh.connection_error(HOST, ADDR, 22, exc, "/root/.ssh/known_hosts")
    assert "\n" not in text
    assert text.startswith(f"{HOST} ({ADDR}:22): cannot connect: host key mismatch: ")
    assert ssh.fingerprint(got) in text and ssh.fingerprint(expected) in text
    assert got.get_base64() not in text and expected.get_base64()[:40] not in text  # fingerprints, not keys
    assert f"ssh-keygen -R '{ADDR}' -f /root/.ssh/known_hosts" in text
    assert "A paramiko SSHException" not in text


def test_unknown_host_says_how_to_add_it(keys: tuple[paramiko.PKey, paramiko.PKey]) -> None:
    exc = netmiko_wrapped(paramiko.SSHException(f"Server '[{ADDR}]:2222' not found in known_hosts"))
    text = ssh.connection_error(HOST, ADDR, 2222, exc, "/home/op/.ssh/known_hosts")
    assert "\n" not in text
    assert text.startswith(f"{HOST} ({ADDR}:2222): cannot connect: unknown host key: [{ADDR}]:2222 is not in ")
    assert f"ssh-keyscan -p 2222 {ADDR} >> /home/op/.ssh/known_hosts" in text
    assert "--accept-new-host-keys" in text


def test_refused_timeout_and_authentication_are_named() -> None:
    refused = paramiko.ssh_exception.NoValidConnectionsError({(ADDR, 22): ConnectionRefusedError(111, "refused")})
    text = ssh.connection_error(HOST, ADDR, 22, netmiko_wrapped(refused))
    assert text == f"{HOST} ({ADDR}:22): cannot connect: TCP connection to port 22 refused (is sshd running?)"
    timeout = ssh.connection_error(HOST, ADDR, 22, netmiko_wrapped(TimeoutError("timed out")))
    assert timeout.endswith("TCP connection to port 22 timed out")
    auth = ssh.connection_error(HOST, ADDR, 22, netmiko_wrapped(paramiko.AuthenticationException("Bad key")))
    assert auth.endswith("authentication failed (Bad key): check the user, key file and password in the site file")


def router_facts() -> HostFacts:
    return HostFacts(
        name="k8s-router-1-prd",
        cluster="prd",
        role="router",
        platform="vyos",
        hostname="203.0.113.4",
        addresses={},
        credentials=Credentials(username="vyos"),
    )


def test_default_is_the_users_known_hosts_strictly() -> None:
    extras = _ssh_extras(Credentials(username="root", ssh_key_file="~/.ssh/edgekit"))
    assert extras["ssh_strict"] is True and extras["system_host_keys"] is False
    assert extras["alt_host_keys"] is True
    assert extras["alt_key_file"] == os.path.expanduser("~/.ssh/known_hosts")
    assert extras["key_file"] == os.path.expanduser("~/.ssh/edgekit")
    assert _ssh_extras(None)["ssh_strict"] is True  # no credentials at all: still checked
    named = _ssh_extras(Credentials(username="root", known_hosts_file="/etc/edgekit/known_hosts"))
    assert named["alt_key_file"] == "/etc/edgekit/known_hosts" and named["ssh_strict"] is True
    # Accepting new keys records them before connecting: the connection itself stays strict.
    router = connection_options(router_facts(), accept_new_host_keys=True)
    optional = router["napalm"].extras["optional_args"]
    assert optional["ssh_strict"] is True and optional["accept_new_host_keys"] is True
    assert optional["inventory_name"] == "k8s-router-1-prd"


def test_netmiko_refuses_an_unknown_host_with_these_arguments(tmp_path: Path) -> None:
    """The arguments make netmiko's paramiko client use RejectPolicy and only the named file's keys."""
    from netmiko.base_connection import BaseConnection

    known = tmp_path / "known_hosts"
    known.write_text(f"{ADDR} ssh-rsa {paramiko.RSAKey.generate(1024).get_base64()}\n")
    conn = BaseConnection.__new__(BaseConnection)
    args = ssh.netmiko_host_key_args(str(known))
    conn.system_host_keys, conn.alt_host_keys, conn.alt_key_file = (
        args["system_host_keys"],
        args["alt_host_keys"],
        args["alt_key_file"],
    )
    conn.key_policy = paramiko.RejectPolicy() if args["ssh_strict"] else paramiko.AutoAddPolicy()
    client = conn._build_ssh_client()
    assert isinstance(client._policy, paramiko.RejectPolicy)
    assert client.get_host_keys().lookup(ADDR) is not None


def test_record_host_key_adds_once_and_never_replaces(
    tmp_path: Path, keys: tuple[paramiko.PKey, paramiko.PKey]
) -> None:
    first, other = keys
    known = tmp_path / "ssh" / "known_hosts"
    assert ssh.record_host_key(str(known), ADDR, 22, first) is True
    assert ssh.record_host_key(str(known), ADDR, 22, first) is False
    assert ssh.record_host_key(str(known), ADDR, 22, other) is False  # a host already known keeps its key
    assert ssh.record_host_key(str(known), ADDR, 2222, other) is True
    loaded = paramiko.HostKeys(str(known))
    assert loaded.lookup(ADDR)["ssh-rsa"] == first
    assert loaded.lookup(f"[{ADDR}]:2222")["ssh-rsa"] == other
    assert (known.parent.stat().st_mode & 0o777) == 0o700


class KeyServer:
    """A paramiko SSH server on loopback that only completes the key exchange (enough to show its key)."""

    def __init__(self, key: paramiko.PKey) -> None:
        import socket
        import threading

        self.key = key
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self) -> None:
        while True:
            try:
                sock, _ = self.listener.accept()
            except OSError:
                return
            transport = paramiko.Transport(sock)
            transport.add_server_key(self.key)
            try:
                transport.start_server(server=paramiko.ServerInterface())
                # Stay up until the client hangs up (as sshd does): closing right after our side of the key
                # exchange could cut the client off before it has read our NEWKEYS.
                transport.join(timeout=30)
            except (paramiko.SSHException, EOFError, OSError):
                pass
            finally:
                transport.close()

    def close(self) -> None:
        import socket

        self.listener.shutdown(socket.SHUT_RDWR)  # wakes accept(): the port stops answering
        self.listener.close()
        self.thread.join(timeout=10)
        assert not self.thread.is_alive()


def test_accept_new_records_an_unknown_hosts_key_once_and_never_a_changed_one(
    tmp_path: Path, keys: tuple[paramiko.PKey, paramiko.PKey], capsys: pytest.CaptureFixture[str]
) -> None:
    first, other = keys
    known = tmp_path / "known_hosts"
    server = KeyServer(first)
    try:
        assert ssh.accept_new_host_key("lb", "127.0.0.1", server.port, str(known), timeout=30) is True
        warning = capsys.readouterr().err
        assert warning.startswith(
            f"warning: lb (127.0.0.1:{server.port}): new host key ssh-rsa {ssh.fingerprint(first)}"
        )
        assert paramiko.HostKeys(str(known)).lookup(f"[127.0.0.1]:{server.port}")["ssh-rsa"] == first
        assert ssh.accept_new_host_key("lb", "127.0.0.1", server.port, str(known), timeout=5) is False
    finally:
        server.close()
    changed = KeyServer(other)
    try:
        known.write_text(known.read_text().replace(f":{server.port}", f":{changed.port}"))
        assert ssh.accept_new_host_key("lb", "127.0.0.1", changed.port, str(known), timeout=5) is False
        assert paramiko.HostKeys(str(known)).lookup(f"[127.0.0.1]:{changed.port}")["ssh-rsa"] == first
    finally:
        changed.close()
    # Nothing listening: nothing recorded (the strict connection that follows says why).
    assert ssh.accept_new_host_key("lb", "127.0.0.1", server.port, str(tmp_path / "other"), timeout=2) is False
    assert not (tmp_path / "other").exists()
