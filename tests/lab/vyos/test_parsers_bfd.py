"""Live check of the ``show bfd peers`` text parser against FRR's own JSON of the same state.

As root, builds four namespaces (``ektpsb<pid>r1``, ``...n1``, ``...n2``, ``...n3``) and runs zebra + bgpd +
bfdd (FRR 8.4) in each. r1 (AS 65020) is configured the way templates/vyos/bfd.j2 makes VyOS configure FRR:
``bfd`` / ``peer ADDRESS`` with receive/transmit interval and multiplier, and ``neighbor ADDRESS bfd``; the
speakers run bfdd as MetalLB's FRR mode does for a BGPPeer with a BFDProfile. Then:

- n1 (10.77.1.11) BFD up (300 ms x 3);
- n2 (10.77.2.12) up at first, then its bfdd is killed: r1's session goes down on detection-time expiry
  ("control detection time expired") and bgpd drops the neighbor with it, long before the 9 s hold time;
- n3 (10.77.3.13) runs no bfdd (a speaker whose MetalLB BGPPeer has no BFD profile): r1's session stays down
  while BGP is Established -- "BFD down, BGP up" (bgpd acts only on an up -> down change of a session);
- 10.77.2.99 configured on r1 with other timers and shut down there (``shutdown``): admin down;
- 10.77.1.99: a configured peer that never answers (down).

For each state the text parse is compared to the JSON field by field. Run as a script to save the captures
used by the unit tests::

    python -m tests.lab.vyos.test_parsers_bfd tests/fixtures/parsers/frr84-bfd
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from checks.parsers import bfd_peers, frr_json
from checks.parsers.models import diff
from tests.lab.helpers import FrrLab, save_capture


def _speaker(address: str, router: str) -> dict[str, str]:
    return {
        "bgpd": f"""\
router bgp 65021
 bgp router-id {address}
 no bgp ebgp-requires-policy
 timers bgp 3 9
 neighbor {router} remote-as 65020
 neighbor {router} timers connect 1
 neighbor {router} bfd
 !
 address-family ipv4 unicast
  network 198.51.100.10/32
 exit-address-family
!
""",
        "bfdd": f"""\
bfd
 peer {router}
  receive-interval 300
  transmit-interval 300
  detect-multiplier 3
 exit
 !
exit
!
""",
    }


CONFIGS: dict[str, dict[str, str]] = {
    "r1": {
        "bgpd": """\
router bgp 65020
 bgp router-id 10.77.0.1
 no bgp ebgp-requires-policy
 timers bgp 3 9
 neighbor 10.77.1.11 remote-as 65021
 neighbor 10.77.1.11 timers connect 1
 neighbor 10.77.1.11 bfd
 neighbor 10.77.2.12 remote-as 65021
 neighbor 10.77.2.12 timers connect 1
 neighbor 10.77.2.12 bfd
 neighbor 10.77.3.13 remote-as 65021
 neighbor 10.77.3.13 timers connect 1
 neighbor 10.77.3.13 bfd
 !
 address-family ipv4 unicast
  maximum-paths 8
 exit-address-family
!
""",
        "bfdd": """\
bfd
 peer 10.77.1.11
  receive-interval 300
  transmit-interval 300
  detect-multiplier 3
 exit
 !
 peer 10.77.2.12
  receive-interval 300
  transmit-interval 300
  detect-multiplier 3
 exit
 !
 peer 10.77.3.13
  receive-interval 300
  transmit-interval 300
  detect-multiplier 3
 exit
 !
 peer 10.77.2.99
  receive-interval 200
  transmit-interval 250
  detect-multiplier 4
  shutdown
 exit
 !
 peer 10.77.1.99
 exit
 !
exit
!
""",
    },
    "n1": _speaker("10.77.1.11", "10.77.1.1"),
    "n2": _speaker("10.77.2.12", "10.77.2.1"),
    "n3": _speaker("10.77.3.13", "10.77.3.1"),
}
LINKS = (
    ("eth1", "10.77.1.1/24", "n1", "10.77.1.11/24"),
    ("eth2", "10.77.2.1/24", "n2", "10.77.2.12/24"),
    ("eth3", "10.77.3.1/24", "n3", "10.77.3.13/24"),
)
ADVERTISED = {"n1": ["198.51.100.10/32"], "n2": ["198.51.100.10/32"], "n3": ["198.51.100.10/32"]}


class BfdLab(FrrLab):
    """FrrLab with bfdd: each node's config is per daemon."""

    def __init__(self) -> None:
        super().__init__({n: "" for n in CONFIGS}, LINKS, ADVERTISED, tag="b")

    def daemon_configs(self, node: str, config: Any) -> dict[str, str]:
        daemons = [d for d in ("zebra", "bgpd", "bfdd") if d != "bfdd" or node != "n3"]  # n3: a speaker without BFD
        return {daemon: CONFIGS[node].get(daemon, "") for daemon in daemons}

    def peers(self) -> dict[str, dict[str, Any]]:
        return {p["peer"]: p for p in json.loads(self.vtysh("r1", "show bfd peers json") or "[]")}

    def statuses(self) -> dict[str, str]:
        return {peer: p["status"] for peer, p in self.peers().items()}

    def bgp_state(self, address: str) -> str:
        data = json.loads(self.vtysh("r1", "show ip bgp summary json") or "{}")
        return str(data.get("ipv4Unicast", {}).get("peers", {}).get(address, {}).get("state", ""))

    def stable_bfd(self) -> tuple[str, Any]:
        return self.stable("show bfd peers", tries=50)


def agree(text: str, data: Any) -> None:
    parsed, expected = bfd_peers.parse(text), frr_json.bfd_peers(data)
    assert [p.peer for p in parsed.peers] == [p.peer for p in expected.peers], (parsed, expected)
    problems = diff(parsed, expected)
    assert not problems, "show bfd peers: text and JSON disagree:\n" + "\n".join(problems)


def all_up(lab: BfdLab) -> bool:
    s = lab.statuses()
    bgp = [lab.bgp_state(a) for a in ("10.77.1.11", "10.77.2.12", "10.77.3.13")]
    return s.get("10.77.1.11") == "up" and s.get("10.77.2.12") == "up" and bgp == ["Established"] * 3


@pytest.fixture(scope="module")
def lab() -> Iterator[BfdLab]:
    frr = BfdLab()
    try:
        frr.start()
        frr.wait(lambda: all_up(frr), timeout=30)
        yield frr
    finally:
        frr.close()


@pytest.mark.lab
@pytest.mark.programs("vtysh")
def test_text_parse_agrees_with_frr_json_with_every_state(lab: BfdLab) -> None:
    text, data = lab.stable_bfd()
    agree(text, data)
    states = {p.peer: p.status for p in bfd_peers.parse(text).peers}
    assert states["10.77.1.11"] == "up" and states["10.77.2.12"] == "up"
    assert states["10.77.2.99"] == "shutdown" and states["10.77.1.99"] == "down"
    # BFD down, BGP up: a speaker without BFD keeps its BGP session (and its next hop until the hold time)
    assert states["10.77.3.13"] == "down" and lab.bgp_state("10.77.3.13") == "Established"


@pytest.mark.lab
@pytest.mark.programs("vtysh")
def test_a_dead_speaker_is_bfd_down_while_bgp_is_still_up(lab: BfdLab) -> None:
    lab.stop("n2", "bfdd")
    lab.wait(lambda: lab.statuses().get("10.77.2.12") == "down", timeout=10)
    text, data = lab.stable_bfd()
    agree(text, data)
    peer = bfd_peers.parse(text).peer("10.77.2.12")
    assert peer is not None and peer.status == "down" and peer.diagnostic == "control detection time expired"


def capture(outdir: Path) -> None:
    """Save text + JSON of `show bfd peers` (every peer state, then n2 down) for the unit tests."""
    outdir.mkdir(parents=True, exist_ok=True)
    frr = BfdLab()
    try:
        frr.start()
        frr.wait(lambda: all_up(frr), timeout=30)
        text, data = frr.stable_bfd()
        agree(text, data)
        state = "n1, n2 up; n3 runs no bfdd (BGP Established); 10.77.2.99 shut down on r1; 10.77.1.99 never answers"
        _save(outdir / "r1-bfd_peers", text, data, state)
        frr.stop("n2", "bfdd")
        frr.wait(lambda: frr.statuses().get("10.77.2.12") == "down", timeout=10)
        bgp = frr.bgp_state("10.77.2.12")
        text, data = frr.stable_bfd()
        agree(text, data)
        _save(outdir / "r1-bfd_peers-n2_down", text, data, f"n2's bfdd killed; its BGP session was {bgp} then")
    finally:
        frr.close()


def _save(stem: Path, text: str, data: Any, state: str) -> None:
    head = (
        "## source: FRR 8.4.4 `show bfd peers` on r1, captured with "
        "`python -m tests.lab.vyos.test_parsers_bfd tests/fixtures/parsers/frr84-bfd` (bfdd in namespaces)\n"
        f"## state: {state}\n"
    )
    save_capture(stem, text, data, head=head)


if __name__ == "__main__":
    capture(Path(sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures/parsers/frr84-bfd"))
