"""napalm-vyos 0.2.1's get_bgp_neighbors() on real `show ip bgp summary` output of the FRR versions VyOS ships
(1.3: FRR 7.5, 1.4: FRR 9.1), beside the lab witness (tests/lab/clients/test_clients_napalm_vyos.py), whose routers run
Debian's FRR 8.4: the client's own bug (lab/README.md, "Third-party clients") holds for every one of them.

napalm_vyos/vyos.py get_bgp_neighbors() matches `router identifier ..., local AS number N` against line 0 of the
output only; FRR 7+ prints `IPv4 Unicast Summary...` there, so it returns {} before reading a single peer.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from types import ModuleType

import pytest

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "parsers"


def napalm_vyos() -> ModuleType:
    """The client (test extra); CI installs it, so there a missing one fails instead of skipping."""
    if os.environ.get("CI"):
        return importlib.import_module("napalm_vyos.vyos")
    return pytest.importorskip("napalm_vyos.vyos")


class Device:
    """netmiko stand-in: answers `show ip bgp summary` with a fixture (its `## ` source lines dropped)."""

    def __init__(self, summary: str) -> None:
        self.summary = summary
        self.sent: list[str] = []

    def send_command(self, command: str) -> str:
        self.sent.append(command)
        if command.startswith("show ip bgp neighbors "):
            peer = command.split()[-1]
            return f"BGP neighbor is {peer}\n  BGP version 4, remote router ID {peer}\n  1 accepted prefixes\n"
        assert command == "show ip bgp summary", command
        return self.summary


@pytest.mark.parametrize(
    "fixture",
    [
        "frr-doc/frr75-policy.txt",  # FRR 7.5.1's docs (VyOS 1.3 ships 7.5)
        "frr7/ntc-templates-vyos13.txt",  # FRR 7 of a VyOS 1.3-era router (networktocode/ntc-templates)
        "frr-doc/frr91-policy.txt",  # FRR 9.1.3's docs (VyOS 1.4 ships 9.1)
        "frr84/r1-ip_bgp_summary.txt",  # the lab's FRR 8.4
    ],
)
def test_get_bgp_neighbors_finds_nothing_on_frr7_and_later(fixture: str) -> None:
    mod = napalm_vyos()
    text = "".join(ln for ln in (FIXTURES / fixture).read_text().splitlines(True) if not ln.startswith("## "))
    assert "router identifier" in text and "Neighbor" in text  # the output has the router id and peers
    driver = mod.VyOSDriver.__new__(mod.VyOSDriver)
    driver.device = Device(text)
    assert driver.get_bgp_neighbors() == {}
    assert driver.device.sent == ["show ip bgp summary"]  # it gave up after the first line


# The layout the client was written for: the example in its own get_bgp_neighbors() docstring (constructed from
# napalm_vyos/vyos.py, quagga-era output, not a capture), with the blank line and prompt residue it slices off.
OLD_LAYOUT = """BGP router identifier 192.168.1.2, local AS number 64520
IPv4 Unicast - max multipaths: ebgp 1 ibgp 1
RIB entries 3, using 288 bytes of memory
Peers 3, using 13 KiB of memory

Neighbor        V    AS MsgRcvd MsgSent   TblVer  InQ OutQ Up/Down  State/PfxRcd
192.168.1.1     4 64519    7226    7189        0    0    0 4d23h40m        1
192.168.1.4     4 64522       0       0        0    0    0 never    Active

Total number of neighbors 2
"""


def test_control_the_old_layout_parses() -> None:
    """The same call on the layout it expects finds the peers: the empty results above are the FRR 7+ layout."""
    mod = napalm_vyos()
    driver = mod.VyOSDriver.__new__(mod.VyOSDriver)
    driver.device = Device(OLD_LAYOUT)
    result = driver.get_bgp_neighbors()
    assert result["global"]["router_id"] == "192.168.1.2"
    assert sorted(result["global"]["peers"]) == ["192.168.1.1", "192.168.1.4"]
