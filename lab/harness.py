"""A lab of its own (a prefix, a state dir), driven through `python -m lab` like a user would: the
harness of the lab tests and the benchmarks.

edgekit itself only ever runs inside the lab's operator namespace (`lab exec`), never from the root
namespace, which has no route to the lab and must not send to lab addresses.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


@dataclass
class LabRun:
    prefix: str
    state_dir: Path
    extra_env: dict[str, str] = field(default_factory=dict)
    # What cannot change while a lab is up: `lab env` and the hosts' management addresses (status).
    # Filled on first use, dropped by up/down; health (status, host) is always asked afresh.
    _env_cache: dict[str, str] | None = field(default=None, init=False, repr=False, compare=False)
    _address_cache: dict[str, str] = field(default_factory=dict, init=False, repr=False, compare=False)

    @classmethod
    def create(cls, prefix: str, **extra_env: str) -> LabRun:
        # Two checkouts running lab tests at once would share namespace names: EDGEKIT_TEST_NS (three
        # letters) replaces the tests' "ekt" lead so each checkout gets names of its own.
        lead = os.environ.get("EDGEKIT_TEST_NS", "")
        if lead and prefix.startswith("ekt"):
            prefix = lead[:3] + prefix[3:]
        # FRR runs as user frr inside the state dir: it and its parents must be searchable by others.
        state = Path(tempfile.mkdtemp(prefix=f"{prefix}-", dir="/tmp"))
        state.chmod(0o755)
        return cls(prefix, state, extra_env)

    @property
    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "EDGEKIT_LAB_PREFIX": self.prefix,
            "EDGEKIT_LAB_STATE": str(self.state_dir),
            "PYTHONPATH": str(REPO),
            **self.extra_env,
        }

    def lab(
        self, *args: str, check: bool = True, timeout: float = 120, cwd: Path | None = None
    ) -> subprocess.CompletedProcess[str]:
        changes = bool(args) and args[0] in ("up", "down")  # whichever way it is called (bench, tests)
        if changes:
            self.forget()
        try:
            proc = subprocess.run(
                [sys.executable, "-m", "lab", *args],
                cwd=cwd or REPO,
                env=self.env,
                capture_output=True,
                text=True,
                timeout=timeout,
            )
        finally:
            if changes:
                self.forget()
        if check and proc.returncode != 0:
            raise RuntimeError(f"lab {' '.join(args)} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}")
        return proc

    def forget(self) -> None:
        """Drop the cached env and addresses (a lab brought up or down may have other hosts)."""
        self._env_cache = None
        self._address_cache = {}

    def up(self, *args: str, timeout: float = 180) -> str:
        return self.lab("up", *args, timeout=timeout).stdout

    def down(self) -> None:
        self.lab("down", check=False, timeout=60)

    def edgekit(
        self, *args: str, module: str = "tasks.router", timeout: float = 180
    ) -> subprocess.CompletedProcess[str]:
        """An edgekit command in the operator namespace (exit code not checked)."""
        return self.lab("exec", "--", sys.executable, "-m", module, *args, check=False, timeout=timeout)

    def edgekit_json(self, *args: str, module: str = "tasks.router") -> tuple[int, dict[str, Any], str]:
        """Run with ``--json FILE``; returns (exit code, report, combined output)."""
        report = self.state_dir / f"report-{os.getpid()}-{len(args)}.json"
        report.unlink(missing_ok=True)
        proc = self.edgekit(*args, "--json", str(report), module=module)
        data = json.loads(report.read_text()) if report.exists() else {}
        return proc.returncode, data, proc.stdout + proc.stderr

    def status(self) -> list[dict[str, Any]]:
        return json.loads(self.lab("status", "--json").stdout)

    def host(self, name: str) -> dict[str, Any]:
        return next(h for h in self.status() if h["name"] == name)

    def ns(self, host: str) -> str:
        return f"{self.prefix}-{host}"

    def sh(self, host: str, command: str, check: bool = True, timeout: float = 30) -> subprocess.CompletedProcess[str]:
        """A shell command inside a lab host's namespace."""
        proc = subprocess.run(
            ["ip", "netns", "exec", self.ns(host), "sh", "-c", command],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and proc.returncode != 0:
            raise RuntimeError(f"{host}: {command} exited {proc.returncode}: {proc.stdout}{proc.stderr}")
        return proc

    def router_address(self, cluster: str) -> str:
        return self.address(f"{cluster}-router")

    def address(self, host: str) -> str:
        """A lab host's management address: status lists "IFNAME ADDRESS/PREFIX", and it is eth0's.

        Addresses do not change during a lab's life: one `lab status` fills them for every host."""
        if host not in self._address_cache:
            for h in self.status():
                eth0 = [a.split()[1].split("/")[0] for a in h.get("addresses", []) if a.startswith("eth0 ")]
                if eth0:
                    self._address_cache[h["name"]] = eth0[0]
        if host not in self._address_cache:
            raise KeyError(f"lab {self.prefix}: no eth0 address for host {host!r} in `lab status`")
        return self._address_cache[host]

    def lab_env(self) -> dict[str, str]:
        """`lab env` as a dict, asked once per lab life (a copy: callers may change it)."""
        if self._env_cache is None:
            out: dict[str, str] = {}
            for line in self.lab("env").stdout.splitlines():
                if line.startswith("export ") and "=" in line:
                    key, value = line[len("export ") :].split("=", 1)
                    out[key] = shlex.split(value)[0] if value else ""
            self._env_cache = out
        return dict(self._env_cache)

    def vyos(self, cluster: str, *commands: str, timeout: float = 60) -> str:
        """VyOS CLI lines over a plain interactive ssh session from the operator namespace."""
        env = self.lab_env()
        script = "\n".join([*commands, "exit", "exit", ""])
        ssh = [
            "ssh",
            "-tt",
            "-i",
            env["EDGEKIT_SSH_KEY"],
            "-o",
            f"UserKnownHostsFile={env['EDGEKIT_KNOWN_HOSTS']}",
            "-o",
            "StrictHostKeyChecking=yes",
            "-o",
            "BatchMode=yes",
            f"vyos@{self.router_address(cluster)}",
        ]
        proc = subprocess.run(
            ["ip", "netns", "exec", f"{self.prefix}-op", *ssh],
            input=script,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        return proc.stdout

    def show(self, cluster: str, command: str) -> str:
        """One op-mode command's output (exec request, no terminal)."""
        return self.ssh(f"vyos@{self.router_address(cluster)}", command).stdout

    def ssh(self, target: str, command: str) -> subprocess.CompletedProcess[str]:
        """``ssh target command`` from the operator namespace with the lab's key and known_hosts."""
        env = self.lab_env()
        return subprocess.run(
            [
                "ip",
                "netns",
                "exec",
                f"{self.prefix}-op",
                "ssh",
                "-i",
                env["EDGEKIT_SSH_KEY"],
                "-o",
                f"UserKnownHostsFile={env['EDGEKIT_KNOWN_HOSTS']}",
                "-o",
                "BatchMode=yes",
                target,
                command,
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )

    def running_config(self, cluster: str) -> list[str]:
        return sorted(
            line.strip() for line in self.show(cluster, "show configuration commands").splitlines() if line.strip()
        )
