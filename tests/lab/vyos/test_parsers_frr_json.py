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

    python -m tests.lab.vyos.test_parsers_frr_json tests/fixtures/parsers/frr84
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from checks.parsers import bgp_prefix, bgp_summary
from tests.lab.helpers import FrrLab, save_capture
from tests.unit.parsers.test_parsers_frr_json import agree

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


def bgp_ready(frr: FrrLab) -> bool:
    """r1 (of CONFIGS): three sessions Established and 198.51.100.10/32 in the FIB over all three."""
    data = json.loads(frr.vtysh("r1", "show ip bgp summary json") or "{}")
    peers = data.get("ipv4Unicast", {}).get("peers", {})
    established = [p for p in peers.values() if p.get("state") == "Established"]
    if len(established) < 3:
        return False
    rib = json.loads(frr.vtysh("r1", "show ip route 198.51.100.10/32 json") or "{}")
    entries = rib.get("198.51.100.10/32", [])
    return bool(entries) and len([n for n in entries[0].get("nexthops", []) if n.get("fib")]) == 3


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
    frr = FrrLab(CONFIGS, LINKS, ADVERTISED)
    try:
        frr.start()
        frr.wait(lambda: bgp_ready(frr))
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
    frr = FrrLab(CONFIGS, LINKS, ADVERTISED)
    try:
        frr.start()
        frr.wait(lambda: bgp_ready(frr))
        time.sleep(1.5)  # let the Active peer settle in Active/Connect and counters move on
        for command in commands():
            text, data = frr.stable(command)
            agree(command, text, data)
            stem = command.replace("show ", "").replace(" ", "_").replace("/", "_")
            save_capture(outdir / f"r1-{stem}", text, data, command=command)
        for node in ("n2", "n3"):
            text, data = frr.stable("show ip bgp summary", node)
            agree("show ip bgp summary", text, data)
            save_capture(outdir / f"{node}-ip_bgp_summary", text, data, command="show ip bgp summary")
        text, data = frr.stable("show ip route")
        agree("show ip route", text, data)
        save_capture(outdir / "r1-ip_route", text, data, command="show ip route")
    finally:
        frr.close()
    frr = FrrLab(FAMILY_CONFIGS, FAMILY_LINKS, FAMILY_ADVERTISED, tag="f")
    try:
        frr.start()
        frr.wait(lambda: families_ready(frr))
        text, data = frr.stable("show bgp summary")
        agree("show bgp summary", text, data)
        save_capture(outdir / "r1-bgp_summary_families", text, data, command="show bgp summary")
    finally:
        frr.close()


if __name__ == "__main__":
    capture(Path(sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures/parsers/frr84"))
