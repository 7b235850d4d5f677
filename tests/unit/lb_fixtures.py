"""Site-model clusters and a fake LB host for the API load balancer tests (no SSH, no root)."""

from __future__ import annotations

import re
import shlex
import subprocess
import tempfile
from pathlib import Path

from inventory.model import ApiLB, Cluster, Credentials, LoadBalancer, Master
from tasks.lb.validate import haproxy_local_copy, keepalived_local_copy, local_interface

VRRP_ENV = "EDGEKIT_TEST_VRRP_PASS"
VRRP_PASS = "Xq7tP2mZ"
LB1, LB2 = "k8s-lb-1-server-prd", "k8s-lb-2-server-prd"
MASTERS = [f"k8s-master-{i}-server-prd" for i in (1, 2, 3)]


def cluster(
    priorities: tuple[int, int] = (150, 101),
    frontend_port: int = 6443,
    apiserver_port: int = 6443,
    interface: str = "eth0",
) -> Cluster:
    top = max(priorities)
    return Cluster(
        name="prd",
        masters=[
            Master(name=name, address=f"203.0.113.{5 + i}", apiserver_port=apiserver_port)  # type: ignore[arg-type]
            for i, name in enumerate(MASTERS)
        ],
        api_lb=ApiLB(
            vip="203.0.113.10",  # type: ignore[arg-type]
            frontend_port=frontend_port,
            auth_pass={"env": VRRP_ENV},  # type: ignore[arg-type]
            lbs=[
                LoadBalancer(
                    name=name,
                    address=f"203.0.113.{8 + i}",  # type: ignore[arg-type]
                    management_address=f"203.0.113.{8 + i}",
                    interface=interface,
                    priority=prio,
                    state="MASTER" if prio == top else "BACKUP",
                    credentials=Credentials(username="root"),
                )
                for i, (name, prio) in enumerate(zip((LB1, LB2), priorities, strict=True))
            ],
        ),
    )


class FakeLB:
    """An LB host in memory: files, services, and the shell commands ``tasks.lb.apply`` sends.

    Validation commands run the real programs on a local copy (the same rewrites as local validation),
    so an invalid file fails here as it would on the host. ``fail_reload`` makes ``systemctl
    reload-or-restart`` of those services fail (as a port conflict at start would).
    """

    def __init__(self, files: dict[str, tuple[str, int]] | None = None, active: set[str] | None = None) -> None:
        self.files: dict[str, tuple[str, int]] = dict(files or {})
        self.active: set[str] = set(active or ())
        self.fail_reload: set[str] = set()
        self.reloads: list[str] = []
        self.commands: list[str] = []
        self.writes: list[str] = []
        self.interface_exists = True

    # Remote protocol
    def read(self, path: str) -> tuple[str, int] | None:
        return self.files.get(path)

    def write(self, path: str, content: str, mode: int) -> None:
        self.writes.append(path)
        self.files[path] = (content, mode)

    def run(self, command: str, timeout: float = 60.0) -> tuple[int, str]:
        self.commands.append(command)
        sed = re.match(r"^sed '[^']*' (\S+) > (\S+) && keepalived -t -f \S+; rc=\$\?; rm -f \S+; exit \$rc$", command)
        if sed:
            return self._keepalived_t(self.files[sed.group(1)][0], sed.group(1))
        rc, out = 0, ""
        for part in re.split(r"\s*;\s*", command):
            for i, simple in enumerate(re.split(r"\s*&&\s*", part)):
                if i and rc != 0:
                    break
                rc, out = self._simple(shlex.split(simple))
        return rc, out

    # Commands
    def _simple(self, argv: list[str]) -> tuple[int, str]:
        match argv:
            case ["systemctl", "is-active", "--quiet", service]:
                return (0 if service in self.active else 3), ""
            case ["systemctl", "reload-or-restart", service]:
                self.reloads.append(service)
                if service in self.fail_reload:
                    return 1, f"Job for {service}.service failed because the control process exited with error code."
                self.active.add(service)
                return 0, ""
            case ["haproxy", "-c", "-f", path]:
                with tempfile.TemporaryDirectory() as tmp:
                    cfg = Path(tmp) / "haproxy.cfg"
                    cfg.write_text(haproxy_local_copy(self.files[path][0], Path(tmp)))
                    proc = subprocess.run(["haproxy", "-c", "-f", str(cfg)], capture_output=True, text=True)
                    return proc.returncode, (proc.stdout + proc.stderr).replace(str(cfg), path)
            case ["keepalived", "-t", "-f", path]:
                return self._keepalived_t(self.files[path][0], path)
            case ["sh", "-n", path]:
                proc = subprocess.run(["sh", "-n"], input=self.files[path][0], capture_output=True, text=True)
                return proc.returncode, proc.stderr
            case ["rm", "-f", *paths]:
                for p in paths:
                    self.files.pop(p, None)
                return 0, ""
            case ["cp", "-p", src, dst]:
                if src not in self.files:
                    return 1, f"cp: cannot stat '{src}': No such file or directory"
                self.files[dst] = self.files[src]
                return 0, ""
            case ["mv", "-f", src, dst]:
                if src not in self.files:
                    return 1, f"mv: cannot stat '{src}': No such file or directory"
                self.files[dst] = self.files.pop(src)
                return 0, ""
        raise AssertionError(f"FakeLB: unexpected command {argv}")

    def _keepalived_t(self, content: str, path: str) -> tuple[int, str]:
        if not self.interface_exists:
            return 5, f"({path}: Line 20) WARNING - interface for vrrp_instance VI_1 doesn't exist"
        with tempfile.TemporaryDirectory() as tmp:
            script = Path(tmp) / "check.sh"
            script.write_text("#!/bin/sh\nexit 0\n")
            script.chmod(0o755)
            conf = Path(tmp) / "keepalived.conf"
            conf.write_text(keepalived_local_copy(content, script, local_interface()))
            proc = subprocess.run(["keepalived", "-t", "-f", str(conf)], capture_output=True, text=True)
            return proc.returncode, (proc.stdout + proc.stderr).replace(str(conf), path)
