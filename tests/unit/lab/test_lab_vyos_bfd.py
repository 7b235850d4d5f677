"""The lab router's BFD subset without a kernel: schema per dialect, commit checks, FRR rendering and the
line diff that keeps untouched sessions (sources cited in lab/vyos/schema.py, router.py and frr.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from lab.vyos import config as C
from lab.vyos.frr import plan, render
from lab.vyos.router import Router
from lab.vyos.schema import build_schema


def tree(version: str, lines: list[str]) -> C.Tree:
    return C.build(build_schema(version), C.parse_set_lines(lines))


def refused(version: str, line: str) -> list[str]:
    with pytest.raises(C.PathError) as e:
        tree(version, [line])
    return e.value.lines


def router(tmp_path: Path, version: str, running: list[str] | None = None) -> Router:
    r = Router({"name": "r", "version": version, "state_dir": str(tmp_path)})
    r.running = tree(version, running or [])
    return r


def test_schema_per_dialect() -> None:
    ok14 = [
        "set protocols bfd profile fast interval receive '300'",
        "set protocols bfd profile fast passive",
        "set protocols bfd peer 10.0.0.2 profile 'fast'",
        "set protocols bfd peer 10.0.0.2 source address '10.0.0.1'",
        "set protocols bfd peer 10.0.0.2 interval multiplier '3'",
        "set protocols bgp neighbor 10.0.0.2 bfd profile 'fast'",
        "set protocols bgp peer-group speakers bfd check-control-plane-failure",
    ]
    t = tree("1.4", ok14)
    assert C.set_commands(t, build_schema("1.4"))[0] == "set protocols bfd peer 10.0.0.2 interval multiplier '3'"
    tree("1.3", ["set protocols bfd peer 10.0.0.2 interval transmit '300'", "set protocols bgp 65020 neighbor X bfd"])
    # 1.3 has no profiles, no passive, no `bfd profile` under BGP, and a peer-group `bfd` has no children
    assert refused("1.3", "set protocols bfd profile fast interval receive '300'")[0].endswith("is not valid")
    assert refused("1.3", "set protocols bfd peer 10.0.0.2 passive")[0].endswith("is not valid")
    assert refused("1.3", "set protocols bgp 65020 neighbor 10.0.0.2 bfd profile 'x'")[0].endswith("is not valid")
    assert refused("1.3", "set protocols bgp 65020 peer-group g bfd check-control-plane-failure")
    # ranges of include/bfd/common.xml.i / protocols-bfd.xml.in, which have no constraintErrorMessage: VyOS says
    # `Invalid value` (vyos-1x scripts/build-command-templates; ledger ERRORS error.invalid-value)
    assert refused("1.4", "set protocols bfd peer 10.0.0.2 interval receive '5'") == [
        "Invalid value",
        "Value validation failed",
    ]
    assert refused("1.4", "set protocols bfd peer 10.0.0.2 interval multiplier '1'")[0] == "Invalid value"
    assert refused("1.3", "set protocols bfd peer 10.0.0.2 interval multiplier '1'")[0] == "Invalid value"
    assert refused("1.4", "set protocols bfd peer foo interval multiplier '3'")[1] == "Value validation failed"
    assert refused("1.4", "set protocols bfd profile 'a b' passive")[1] == "Value validation failed"


def test_render_14_profile_peer_and_neighbor() -> None:
    t = tree(
        "1.4",
        [
            "set protocols bfd profile fast interval receive '100'",
            "set protocols bfd peer 10.0.0.2 profile 'fast'",
            "set protocols bfd peer 10.0.0.2 source address '10.0.0.1'",
            "set protocols bgp system-as '65020'",
            "set protocols bgp neighbor 10.0.0.2 remote-as '65021'",
            "set protocols bgp neighbor 10.0.0.2 bfd profile 'fast'",
        ],
    )
    lines = render(t, "1.4")
    assert lines[:12] == [
        (("bfd",), ""),
        (("bfd", "profile fast"), ""),
        (("bfd", "profile fast"), "detect-multiplier 3"),
        (("bfd", "profile fast"), "receive-interval 100"),
        (("bfd", "profile fast"), "transmit-interval 300"),
        (("bfd", "profile fast"), "no shutdown"),
        (("bfd", "peer 10.0.0.2 local-address 10.0.0.1"), ""),
        (("bfd", "peer 10.0.0.2 local-address 10.0.0.1"), "detect-multiplier 3"),
        (("bfd", "peer 10.0.0.2 local-address 10.0.0.1"), "receive-interval 300"),
        (("bfd", "peer 10.0.0.2 local-address 10.0.0.1"), "transmit-interval 300"),
        (("bfd", "peer 10.0.0.2 local-address 10.0.0.1"), "profile fast"),
        (("bfd", "peer 10.0.0.2 local-address 10.0.0.1"), "no shutdown"),
    ]
    bgp = [ln for c, ln in lines if c == ("router bgp 65020",)]
    assert "neighbor 10.0.0.2 bfd" in bgp and "neighbor 10.0.0.2 bfd profile fast" in bgp


def test_render_13_peer_and_neighbor() -> None:
    t = tree(
        "1.3",
        [
            "set protocols bfd peer 10.0.0.2 interval multiplier '5'",
            "set protocols bfd peer 10.0.0.2 shutdown",
            "set protocols bgp 65020 neighbor 10.0.0.2 remote-as '65021'",
            "set protocols bgp 65020 neighbor 10.0.0.2 bfd",
        ],
    )
    lines = render(t, "1.3")
    peer = [ln for c, ln in lines if c == ("bfd", "peer 10.0.0.2")]
    assert peer == ["", "detect-multiplier 5", "receive-interval 300", "transmit-interval 300", "shutdown"]
    assert (("router bgp 65020",), "neighbor 10.0.0.2 bfd") in lines


def test_plan_keeps_sessions_and_removes_cleanly() -> None:
    base = [
        "set protocols bgp system-as '65020'",
        "set protocols bgp neighbor 10.0.0.2 remote-as '65021'",
    ]
    bfd = ["set protocols bfd peer 10.0.0.2 interval receive '300'", "set protocols bgp neighbor 10.0.0.2 bfd"]
    none = render(tree("1.4", base), "1.4")
    one = render(tree("1.4", base + bfd), "1.4")
    faster = render(tree("1.4", base + bfd[1:] + ["set protocols bfd peer 10.0.0.2 interval receive '100'"]), "1.4")
    # a changed interval: the peer is changed in place, never removed
    steps = plan(one, faster)
    assert steps == [
        (("bfd", "peer 10.0.0.2"), "no receive-interval 300"),
        (("bfd", "peer 10.0.0.2"), "receive-interval 100"),
    ]
    # removing BFD: the neighbor's `bfd` goes first, then the peer, then the bfd node
    steps = plan(one, none)
    assert steps is not None
    assert steps[-3:] == [
        (("router bgp 65020",), "no neighbor 10.0.0.2 bfd"),
        (("bfd",), "no peer 10.0.0.2"),
        ((), "no bfd"),
    ]
    # adding it: the peer before the neighbor that uses it
    steps = plan(none, one)
    assert (
        steps is not None
        and steps[0] == (("bfd",), "")
        and steps[-1] == (("router bgp 65020",), "neighbor 10.0.0.2 bfd")
    )


def test_commit_checks_13(tmp_path: Path) -> None:
    r = router(tmp_path, "1.3")
    cand = tree(
        "1.3",
        [
            "set protocols bgp 65020 neighbor 10.0.0.2 remote-as '65021'",
            "set protocols bgp 65020 neighbor 10.0.0.2 bfd",
        ],
    )
    assert (
        "protocols bgp 65020 neighbor 10.0.0.2 bfd",
        "BFD peer need to be configured for using BFD protocol",
    ) in r.verify(cand)
    group = tree(
        "1.3",
        [
            "set protocols bgp 65020 peer-group speakers remote-as '65021'",
            "set protocols bgp 65020 peer-group speakers bfd",
            "set protocols bgp 65020 neighbor 10.0.0.2 peer-group 'speakers'",
        ],
    )
    assert r.verify(group) == [
        (
            "protocols bgp 65020 peer-group speakers bfd",
            "BFD peers need to be configured for all neighbors in peer-group speakers before enabling for BGP",
        )
    ]
    both = ["set protocols bfd peer 10.0.0.2", "set protocols bgp 65020 neighbor 10.0.0.2 remote-as '65021'"]
    r.running = tree("1.3", both + ["set protocols bgp 65020 neighbor 10.0.0.2 bfd"])
    assert r.verify(tree("1.3", both[1:] + ["set protocols bgp 65020 neighbor 10.0.0.2 bfd"])) == [
        ("protocols bfd", "Cannot delete BFD peer 10.0.0.2: it is used in BGP configuration"),
        ("protocols bgp 65020 neighbor 10.0.0.2 bfd", "BFD peer need to be configured for using BFD protocol"),
    ]
    assert r.verify(tree("1.3", both[1:])) == []
    assert r.verify(tree("1.3", ["set protocols bfd peer 10.0.0.2 multihop"])) == [
        ("protocols bfd", "Multihop require source address")
    ]


def test_commit_checks_14(tmp_path: Path) -> None:
    r = router(tmp_path, "1.4")
    # 1.4 BGP asks bfdd for a session itself: `neighbor X bfd` needs no `protocols bfd peer`
    lone = ["set protocols bgp system-as '65020'", "set protocols bgp neighbor 10.0.0.2 remote-as '65021'"]
    assert r.verify(tree("1.4", lone + ["set protocols bgp neighbor 10.0.0.2 bfd"])) == []
    assert r.verify(tree("1.4", ["set protocols bfd peer 10.0.0.2 profile 'nope'"])) == [
        ("protocols bfd", 'BFD profile "nope" does not exist!')
    ]
    assert r.verify(tree("1.4", ["set protocols bfd peer 2001:db8::2"])) == [
        ("protocols bfd", "BFD IPv6 peers require explicit local address setting")
    ]
    assert r.verify(
        tree(
            "1.4", ["set protocols bfd peer 10.0.0.2 multihop", "set protocols bfd peer 10.0.0.2 source interface eth1"]
        )
    ) == [
        ("protocols bfd", "BFD multihop require source address"),
        ("protocols bfd", "BFD multihop and source interface cannot be used together"),
    ]


def test_plan_13_renders_every_peer_again() -> None:
    """equuleus bfd.frr.tmpl: `no peer` for every effective peer, then every new peer, on any BFD change."""
    a = ["set protocols bfd peer 10.0.0.2 interval receive '300'", "set protocols bfd peer 10.0.0.3"]
    b = ["set protocols bfd peer 10.0.0.2 interval receive '100'", "set protocols bfd peer 10.0.0.3"]
    steps = plan(render(tree("1.3", a), "1.3"), render(tree("1.3", b), "1.3"), "1.3")
    assert steps is not None
    assert steps[:2] == [(("bfd",), "no peer 10.0.0.2"), (("bfd",), "no peer 10.0.0.3")]
    assert (("bfd", "peer 10.0.0.3"), "receive-interval 300") in steps
    assert (("bfd", "peer 10.0.0.2"), "receive-interval 100") in steps
    # nothing changed in BFD: nothing sent to bfdd
    same = render(tree("1.3", a), "1.3")
    assert plan(same, same, "1.3") == []
