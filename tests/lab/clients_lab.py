"""A lab for the third-party client witnesses (tests/lab/test_clients_*.py): a 1.4 router (A), a 1.3 router (O)
and a client namespace wired to both, where the unmodified clients run (`ip netns exec`: their sockets are
opened there). Each module builds its own (namespace prefix ``<EDGEKIT_TEST_NS><code><pid>``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from lab.vyos import RouterSpec, start_router, stop_router
from tests.lab.helpers import Shell

from .helpers import del_netns, nsx, sh, veth

PASSWORD = "lab-pass"
VERSIONS = ("1.4", "1.3")


@dataclass
class Router:
    version: str
    ns: str
    ip: str
    name: str
    spec: RouterSpec

    @property
    def config_boot(self) -> Path:
        return Path(self.spec.state_dir) / "config" / "config.boot"


class ClientsLab:
    def __init__(self, code: str) -> None:
        tag = f"{os.environ.get('EDGEKIT_TEST_NS', 'ekt')[:3]}{code}{os.getpid() % 100000}"
        self.tag = tag
        self.client = f"{tag}c"
        self.base = Path(tempfile.mkdtemp(prefix=f"{tag}-", dir="/tmp"))
        os.chmod(self.base, 0o755)
        self.routers: dict[str, Router] = {}
        for i, version in enumerate(VERSIONS):
            ns = f"{tag}{'ao'[i]}"
            ip = f"10.{96 + i}.0.1"
            name = f"edge-{'ao'[i]}"
            boot = [
                f"set interfaces ethernet eth1 address '{ip}/24'",
                "set interfaces ethernet eth1 description 'to-clients'",
                "set system config-management commit-revisions '100'",
            ]
            spec = RouterSpec(name, ns, self.base / f"r{'ao'[i]}", version, password=PASSWORD, boot_config=boot)
            self.routers[version] = Router(version, ns, ip, name, spec)

    def client_ip(self, r: Router) -> str:
        return r.ip.rsplit(".", 1)[0] + ".2"

    def up(self) -> None:
        sh("ip", "netns", "add", self.client)
        for i, r in enumerate(self.routers.values()):
            sh("ip", "netns", "add", r.ns)
            veth(r.ns, "eth1", self.client, f"eth{i}", f"{self.tag}x{i}", f"{self.tag}y{i}")
            nsx(self.client, "ip", "addr", "add", f"{self.client_ip(r)}/24", "dev", f"eth{i}")
        nsx(self.client, "ip", "link", "set", "lo", "up")
        for r in self.routers.values():
            start_router(r.spec)

    def down(self) -> None:
        for r in self.routers.values():
            stop_router(r.spec.state_dir)
        for r in self.routers.values():
            del_netns(r.ns)
        del_netns(self.client)
        shutil.rmtree(self.base, ignore_errors=True)

    def shell(self, r: Router) -> Shell:
        return Shell(r.ip, ns=self.client)

    def run_in_client(
        self, argv: list[str], timeout: float = 300, env: dict[str, str] | None = None, cwd: Path | None = None
    ) -> subprocess.CompletedProcess[str]:
        """A client program in the client namespace (bounded: a client that hangs fails the test)."""
        return subprocess.run(
            ["ip", "netns", "exec", self.client, *argv],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            cwd=cwd,
        )

    def python(self, script: str, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        path = self.base / "client.py"
        path.write_text(script)
        return self.run_in_client([sys.executable, str(path), *args], timeout=timeout)


def clients_lab(code: str) -> Iterator[ClientsLab]:
    lab = ClientsLab(code)
    try:
        lab.up()
        yield lab
    finally:
        lab.down()
