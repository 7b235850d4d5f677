"""`plan`/`deploy` stop on bad input before any device is touched, with exit 2 and a one-line error."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tasks.router import main
from tests.conftest import FIXTURES

SAMPLE = FIXTURES / "samples" / "prd.tfstate"


class Listener:
    """A TCP port on loopback that counts connection attempts (the 'router')."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.accepted += 1
            conn.close()

    def close(self) -> None:
        self.stop.set()
        self.thread.join()
        self.sock.close()


@pytest.fixture
def router_port() -> Iterator[Listener]:
    listener = Listener()
    yield listener
    listener.close()


def site_file(tmp_path: Path, port: int, **cluster: object) -> Path:
    site = {
        "defaults": {
            "router": {
                "management_address": "127.0.0.1",
                "node_address": "192.168.100.1/24",
                "credentials": {"username": "vyos", "port": port},
            }
        },
        "clusters": {"prd": cluster},
    }
    path = tmp_path / "site.yaml"
    path.write_text(yaml.safe_dump(site))
    return path


def test_missing_secret_fails_before_any_connection(
    tmp_path: Path, router_port: Listener, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("EDGEKIT_TEST_ABSENT", raising=False)
    site = site_file(
        tmp_path,
        router_port.port,
        wireguard={
            "address": "172.16.100.1/30",
            "private_key": {"env": "EDGEKIT_TEST_ABSENT"},
            "peer_public_key": "VCFgSmpLXoTRmNpgEQn69w7SVTktFD6r0hVbO+EmcHY=",
            "endpoint": "198.18.0.2:51820",
            "allowed_ips": ["10.88.0.0/24"],
        },
    )
    code = main(["deploy", "--state", str(SAMPLE), "--site", str(site)])
    err = capsys.readouterr().err
    assert code == 2
    assert "EDGEKIT_TEST_ABSENT" in err and "wireguard.private_key" in err
    assert router_port.accepted == 0


def test_malformed_state_is_exit_2_naming_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "broken.tfstate"
    bad.write_text("{not json")
    code = main(["plan", "--state", str(bad)])
    err = capsys.readouterr().err
    assert code == 2
    assert "broken.tfstate" in err
    assert len([line for line in err.splitlines() if line.startswith("error:")]) == 1


def test_unknown_cluster_selection_is_an_input_error(tmp_path: Path, router_port: Listener) -> None:
    site = site_file(tmp_path, router_port.port)
    assert main(["plan", "--state", str(SAMPLE), "--site", str(site), "--cluster", "nosuch"]) == 2
    assert router_port.accepted == 0


def test_render_offline_prints_the_intent_with_secrets_masked(
    tmp_path: Path, router_port: Listener, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EDGEKIT_TEST_BGP", "bgp-secret-value")
    site = site_file(tmp_path, router_port.port, router={"bgp": {"password": {"env": "EDGEKIT_TEST_BGP"}}})
    code = main(["render", "--state", str(SAMPLE), "--site", str(site), "--vyos", "1.4"])
    out = capsys.readouterr().out
    assert code == 0
    assert "set protocols bgp system-as '65020'" in out
    assert "password '********'" in out
    assert "bgp-secret-value" not in out
    assert router_port.accepted == 0


def test_edgekit_program_reaches_the_lb_and_edge_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "broken.tfstate"
    bad.write_text("{not json")
    for argv in (["lb", "plan"], ["edge", "verify"]):
        assert main([*argv, "--state", str(bad)]) == 2
        assert "broken.tfstate" in capsys.readouterr().err
