"""Live check of the FRR show-output parsers against FRR's own JSON of the same state.

As root, builds four namespaces (``ektps<pid>r1``, ``...n1``, ``...n2``, ``...n3``), runs zebra + bgpd +
staticd (FRR 8.4) in each and waits for this state on r1 (AS 65020):

- n1 (10.77.1.11, AS 65021, with a description), n2 (10.77.2.12) and n3 (192.168.100.100, a dynamic
  neighbor from ``bgp listen range``) Established; n1..n3 all advertise 198.51.100.10/32 (3-way multipath),
  n1 alone advertises 198.51.100.20/32 (one next hop);
- 10.77.1.99 configured but absent (Active/Connect), 10.77.2.99 shut down (Idle (Admin));
- a static blackhole 198.51.100.0/28 distance 254 and a static route 10.99.0.0/16 via n1.

n2 keeps FRR's default ``ebgp-requires-policy`` with an outbound route-map only, so its summary shows
``(Policy)`` for the received prefixes.

Then for each command the text parse is compared to the JSON field by field. Run as a script to save the
captures used by the unit tests::

    python -m tests.lab.test_parsers_frr_json tests/fixtures/parsers/frr84
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from checks.parsers import bgp_prefix, bgp_summary
from tests.unit.test_parsers_frr_json import agree

FRR = Path("/usr/lib/frr")
DAEMONS = ("zebra", "staticd", "bgpd")

BASE = """\
frr defaults traditional
hostname {name}
log file {dir}/{daemon}.log
!
"""

CONFIGS = {
    "r1": """\
ip route 198.51.100.0/28 blackhole 254
ip route 10.99.0.0/16 10.77.1.11
!
router bgp 65020
 bgp router-id 10.77.0.1
 no bgp ebgp-requires-policy
 timers bgp 1 3
 neighbor spk peer-group
 neighbor spk remote-as 65021
 neighbor spk timers connect 1
 bgp listen range 192.168.100.0/24 peer-group spk
 neighbor 10.77.1.11 remote-as 65021
 neighbor 10.77.1.11 description k8s node n1 (metallb)
 neighbor 10.77.1.11 timers connect 1
 neighbor 10.77.2.12 remote-as 65021
 neighbor 10.77.2.12 timers connect 1
 neighbor 10.77.1.99 remote-as 65021
 neighbor 10.77.1.99 timers connect 1
 neighbor 10.77.2.99 remote-as 65022
 neighbor 10.77.2.99 shutdown
 !
 address-family ipv4 unicast
  maximum-paths 8
 exit-address-family
!
""",
    "n1": """\
router bgp 65021
 bgp router-id 10.77.1.11
 no bgp ebgp-requires-policy
 timers bgp 1 3
 neighbor 10.77.1.1 remote-as 65020
 neighbor 10.77.1.1 timers connect 1
 !
 address-family ipv4 unicast
  network 198.51.100.10/32
  network 198.51.100.20/32
 exit-address-family
!
""",
    "n2": """\
route-map ALL permit 10
!
router bgp 65021
 bgp router-id 10.77.2.12
 timers bgp 1 3
 neighbor 10.77.2.1 remote-as 65020
 neighbor 10.77.2.1 timers connect 1
 !
 address-family ipv4 unicast
  network 198.51.100.10/32
  neighbor 10.77.2.1 route-map ALL out
 exit-address-family
!
""",
    "n3": """\
router bgp 65021
 bgp router-id 192.168.100.100
 no bgp ebgp-requires-policy
 timers bgp 1 3
 neighbor 192.168.100.1 remote-as 65020
 neighbor 192.168.100.1 timers connect 1
 !
 address-family ipv4 unicast
  network 198.51.100.10/32
 exit-address-family
!
""",
}

# (r1 interface, r1 address, speaker, speaker address)
LINKS = (
    ("eth1", "10.77.1.1/24", "n1", "10.77.1.11/24"),
    ("eth2", "10.77.2.1/24", "n2", "10.77.2.12/24"),
    ("eth3", "192.168.100.1/24", "n3", "192.168.100.100/24"),
)
ADVERTISED = {"n1": ["198.51.100.10/32", "198.51.100.20/32"], "n2": ["198.51.100.10/32"], "n3": ["198.51.100.10/32"]}

# A second, smaller lab for `show bgp summary` with two address families: r1 has an IPv4 session to n1
# (inbound route-map only, so FRR's default ebgp-requires-policy prints "(Policy)" under PfxSnt next to a
# prefix count, the row of the FRR documentation) and an IPv6 session activated in IPv6 Unicast only.
FAMILY_CONFIGS = {
    "r1": """\
route-map ALL permit 10
!
router bgp 65020
 bgp router-id 10.77.0.1
 timers bgp 1 3
 neighbor 10.77.1.11 remote-as 65021
 neighbor 10.77.1.11 timers connect 1
 neighbor 2001:db8:1::11 remote-as 65021
 neighbor 2001:db8:1::11 description n1 over IPv6
 neighbor 2001:db8:1::11 timers connect 1
 !
 address-family ipv4 unicast
  neighbor 10.77.1.11 route-map ALL in
  no neighbor 2001:db8:1::11 activate
 exit-address-family
 !
 address-family ipv6 unicast
  neighbor 2001:db8:1::11 activate
  neighbor 2001:db8:1::11 route-map ALL in
  neighbor 2001:db8:1::11 route-map ALL out
 exit-address-family
!
""",
    "n1": """\
router bgp 65021
 bgp router-id 10.77.1.11
 no bgp ebgp-requires-policy
 timers bgp 1 3
 neighbor 10.77.1.1 remote-as 65020
 neighbor 10.77.1.1 timers connect 1
 neighbor 2001:db8:1::1 remote-as 65020
 neighbor 2001:db8:1::1 timers connect 1
 !
 address-family ipv4 unicast
  network 198.51.100.10/32
  network 198.51.100.20/32
  no neighbor 2001:db8:1::1 activate
 exit-address-family
 !
 address-family ipv6 unicast
  neighbor 2001:db8:1::1 activate
  network 2001:db8:100::10/128
 exit-address-family
!
""",
}
FAMILY_LINKS = (("eth1", "10.77.1.1/24,2001:db8:1::1/64", "n1", "10.77.1.11/24,2001:db8:1::11/64"),)
FAMILY_ADVERTISED = {"n1": ["198.51.100.10/32", "198.51.100.20/32", "2001:db8:100::10/128"]}

PREFIXES = ("198.51.100.10/32", "198.51.100.20/32", "198.51.100.0/28", "10.99.0.0/16", "10.77.1.0/24")


def sh(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, check=check, capture_output=True, text=True)


class FrrLab:
    """Namespaces with FRR (by default the four above); ``close()`` removes everything it made, whatever
    state it is in."""

    def __init__(
        self,
        configs: dict[str, str] | None = None,
        links: tuple[tuple[str, ...], ...] = LINKS,
        advertised: dict[str, list[str]] | None = None,
        tag: str = "",
    ) -> None:
        self.configs = CONFIGS if configs is None else configs
        self.links = links
        self.advertised = ADVERTISED if advertised is None else advertised
        self.prefix = f"ektps{tag}{os.getpid() % 100000}"
        self.state = Path(tempfile.mkdtemp(prefix="ektps-frr-"))
        self.pids: list[int] = []
        self.namespaces: list[str] = []

    def ns(self, node: str) -> str:
        return f"{self.prefix}{node}"

    def dir(self, node: str) -> Path:
        return self.state / node

    def start(self) -> None:
        for node in self.configs:
            sh("ip", "netns", "add", self.ns(node))
            self.namespaces.append(self.ns(node))
            sh("ip", "-n", self.ns(node), "link", "set", "lo", "up")
        for index, (r1_if, r1_addrs, node, addrs) in enumerate(self.links):
            # Created in r1's namespace under temporary names, then one end moved: nothing in the root one.
            peer_tmp = f"ektpsv{index}"
            sh("ip", "-n", self.ns("r1"), "link", "add", r1_if, "type", "veth", "peer", "name", peer_tmp)
            sh("ip", "-n", self.ns("r1"), "link", "set", peer_tmp, "netns", self.ns(node))
            sh("ip", "-n", self.ns(node), "link", "set", peer_tmp, "name", "eth1")
            for ns, dev, address in [(self.ns("r1"), r1_if, a) for a in r1_addrs.split(",")] + [
                (self.ns(node), "eth1", a) for a in addrs.split(",")
            ]:
                # nodad: an IPv6 address is usable at once (no duplicate address detection to wait for)
                sh("ip", "-n", ns, "addr", "add", address, "dev", dev, *(["nodad"] if ":" in address else []))
            sh("ip", "-n", self.ns("r1"), "link", "set", r1_if, "up")
            sh("ip", "-n", self.ns(node), "link", "set", "eth1", "up")
        for node, prefixes in self.advertised.items():
            for prefix in prefixes:
                sh("ip", "-n", self.ns(node), "addr", "add", prefix, "dev", "lo")
        for node, config in self.configs.items():
            self._start_frr(node, config)

    def _start_frr(self, node: str, config: str) -> None:
        d = self.dir(node)
        (d / "run").mkdir(parents=True)
        (d / "vtysh.conf").write_text("no service integrated-vtysh-config\n")
        for daemon in DAEMONS:
            body = config if daemon != "zebra" else ""
            if daemon == "staticd":
                body = "".join(line + "\n" for line in config.splitlines() if line.startswith("ip route"))
            elif daemon == "bgpd":
                body = "".join(line + "\n" for line in config.splitlines() if not line.startswith("ip route"))
            (d / f"{daemon}.conf").write_text(BASE.format(name=node, dir=d, daemon=daemon) + body)
        sh("chown", "-R", "frr:frr", str(self.state))
        for daemon in DAEMONS:
            pidfile = d / "run" / f"{daemon}.pid"
            sh(
                "ip", "netns", "exec", self.ns(node), str(FRR / daemon),
                "-d", "-P", "0", "-u", "frr", "-g", "frr",
                "-z", str(d / "run" / "zserv.api"), "--vty_socket", str(d / "run"),
                "-f", str(d / f"{daemon}.conf"), "-i", str(pidfile),
            )  # fmt: skip
            for _ in range(100):
                if pidfile.exists() and pidfile.read_text().strip():
                    break
                time.sleep(0.02)
            self.pids.append(int(pidfile.read_text().strip()))

    def vtysh(self, node: str, command: str) -> str:
        d = str(self.dir(node))
        return sh("vtysh", "--vty_socket", f"{d}/run", "--config_dir", d, "-c", command).stdout

    def close(self) -> None:
        for pid in reversed(self.pids):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 3
        for pid in self.pids:
            while time.monotonic() < deadline and _alive(pid):
                time.sleep(0.02)
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        for name in self.namespaces:
            sh("ip", "netns", "del", name, check=False)
        shutil.rmtree(self.state, ignore_errors=True)

    def wait(self, ready: Callable[[], bool], timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if ready():
                return
            time.sleep(0.2)
        raise TimeoutError("FRR lab did not reach the expected state")

    def ready(self) -> bool:
        data = json.loads(self.vtysh("r1", "show ip bgp summary json") or "{}")
        peers = data.get("ipv4Unicast", {}).get("peers", {})
        established = [p for p in peers.values() if p.get("state") == "Established"]
        if len(established) < 3:
            return False
        rib = json.loads(self.vtysh("r1", "show ip route 198.51.100.10/32 json") or "{}")
        entries = rib.get("198.51.100.10/32", [])
        return bool(entries) and len([n for n in entries[0].get("nexthops", []) if n.get("fib")]) == 3

    def stable(self, command: str, node: str = "r1") -> tuple[str, Any]:
        """Text and JSON of one moment: keepalives tick every second, so retry until the text did not change."""
        for _ in range(30):
            text = self.vtysh(node, command)
            data = json.loads(self.vtysh(node, command + " json"))
            if self.vtysh(node, command) == text:
                return text, data
            time.sleep(0.05)
        raise RuntimeError(f"{command!r} did not stay still long enough to capture")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def families_ready(frr: FrrLab) -> bool:
    data = json.loads(frr.vtysh("r1", "show bgp summary json") or "{}")
    v4 = data.get("ipv4Unicast", {}).get("peers", {}).get("10.77.1.11", {})
    v6 = data.get("ipv6Unicast", {}).get("peers", {}).get("2001:db8:1::11", {})
    return v4.get("pfxRcd") == 2 and v6.get("pfxRcd") == 1


def commands() -> list[str]:
    bgp = ("198.51.100.10/32", "198.51.100.20/32", "10.99.0.0/16")  # multipath, one path, not in the table
    return ["show ip bgp summary", *(f"show ip route {p}" for p in PREFIXES), *(f"show ip bgp {p}" for p in bgp)]


@pytest.fixture(scope="module")
def lab() -> Iterator[FrrLab]:
    frr = FrrLab()
    try:
        frr.start()
        frr.wait(frr.ready)
        yield frr
    finally:
        frr.close()


@pytest.mark.lab
@pytest.mark.programs("vtysh")
@pytest.mark.parametrize("command", commands())
def test_text_parse_agrees_with_frr_json(lab: FrrLab, command: str) -> None:
    text, data = lab.stable(command)
    agree(command, text, data)


@pytest.mark.lab
@pytest.mark.programs("vtysh")
def test_lab_state_is_the_interesting_one(lab: FrrLab) -> None:
    summary = bgp_summary.parse(lab.vtysh("r1", "show ip bgp summary"))
    states = {p.address: p.state for p in summary.peers}
    assert [p.address for p in summary.peers if p.dynamic] == ["192.168.100.100"]
    assert states["10.77.2.99"] == "Idle (Admin)"
    assert states["10.77.1.99"] in {"Active", "Connect"}
    assert sum(s == "Established" for s in states.values()) == 3
    paths = bgp_prefix.parse(lab.vtysh("r1", "show ip bgp 198.51.100.10/32")).paths
    assert sum(p.best for p in paths) == 1 and sum(p.multipath for p in paths) == 3


@pytest.fixture(scope="module")
def family_lab() -> Iterator[FrrLab]:
    frr = FrrLab(FAMILY_CONFIGS, FAMILY_LINKS, FAMILY_ADVERTISED, tag="f")
    try:
        frr.start()
        frr.wait(lambda: families_ready(frr))
        yield frr
    finally:
        frr.close()


@pytest.mark.lab
@pytest.mark.programs("vtysh")
def test_every_address_family_of_show_bgp_summary_agrees_with_frr_json(family_lab: FrrLab) -> None:
    text, data = family_lab.stable("show bgp summary")
    agree("show bgp summary", text, data)
    v4, v6 = bgp_summary.parse_all(text)
    peer = v4.peer("10.77.1.11")
    assert peer is not None and (peer.state, peer.prefixes_received, peer.policy_blocked) == ("Established", 2, True)
    assert [p.address for p in v6.peers] == ["2001:db8:1::11"] and v6.peers[0].prefixes_received == 1


def capture(outdir: Path) -> None:
    """Save text + JSON of each command (and n2's view with ``(Policy)``) for the unit tests."""
    outdir.mkdir(parents=True, exist_ok=True)
    frr = FrrLab()
    try:
        frr.start()
        frr.wait(frr.ready)
        time.sleep(1.5)  # let the Active peer settle in Active/Connect and counters move on
        for command in commands():
            text, data = frr.stable(command)
            agree(command, text, data)
            stem = command.replace("show ", "").replace(" ", "_").replace("/", "_")
            _save(outdir / f"r1-{stem}", command, text, data)
        for node in ("n2", "n3"):
            text, data = frr.stable("show ip bgp summary", node)
            agree("show ip bgp summary", text, data)
            _save(outdir / f"{node}-ip_bgp_summary", "show ip bgp summary", text, data)
        text, data = frr.stable("show ip route")
        agree("show ip route", text, data)
        _save(outdir / "r1-ip_route", "show ip route", text, data)
    finally:
        frr.close()
    frr = FrrLab(FAMILY_CONFIGS, FAMILY_LINKS, FAMILY_ADVERTISED, tag="f")
    try:
        frr.start()
        frr.wait(lambda: families_ready(frr))
        text, data = frr.stable("show bgp summary")
        agree("show bgp summary", text, data)
        _save(outdir / "r1-bgp_summary_families", "show bgp summary", text, data)
    finally:
        frr.close()


def _save(stem: Path, command: str, text: str, data: Any) -> None:
    Path(f"{stem}.txt").write_text(text)
    Path(f"{stem}.json").write_text(json.dumps(data, indent=2) + "\n")
    Path(f"{stem}.cmd").write_text(command + "\n")


if __name__ == "__main__":
    capture(Path(sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures/parsers/frr84"))
