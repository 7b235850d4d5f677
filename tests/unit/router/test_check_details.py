"""The ``details`` each check records for metrics (new field of the check results, nothing else changed):
the numbers behind the verdict, on the same fixtures as the verdict tests."""

from __future__ import annotations

from checks import bgp, compliance, ecmp, wireguard
from checks import lb as lbchecks
from checks.config_diff import ManagedScope
from checks.parsers import bgp_summary, haproxy_stat, route
from checks.parsers import wireguard as wg_parser
from checks.verdict import errored, passed
from tests.unit.lb.test_lb_checks import CAPTURE, VIP
from tests.unit.router.test_checks_verify import PARSERS, ROUTE_3, SUMMARY_3, WEB, down_node1, lab_cluster


def test_bgp_sessions_expected_and_established() -> None:
    c = lab_cluster()
    assert bgp.check_peers("r", c, bgp_summary.parse(SUMMARY_3)).details == {"expected": 3, "established": 3}
    active = SUMMARY_3.replace(
        "00:00:38            2        2 \n203.0.113.12", "00:00:09       Active        0 \n203.0.113.12", 1
    )
    c, down = down_node1(c)
    # node1's speaker is not Ready: still expected (MetalLB placed it), not Established.
    assert bgp.check_peers("r", c, bgp_summary.parse(active), down).details == {"expected": 3, "established": 2}


def test_ecmp_nexthops_against_expected() -> None:
    c = lab_cluster()
    ok = ecmp.check_route("r", c, WEB, "198.51.100.1", ecmp.selected_route(route.parse(ROUTE_3)))
    assert ok.details == {"service": "default/web", "ip": "198.51.100.1", "expected": 3, "nexthops": 3}
    two = "\n".join(line for line in ROUTE_3.splitlines() if "203.0.113.11" not in line) + "\n"
    c, down = down_node1(c)
    degraded = ecmp.check_route("r", c, WEB, "198.51.100.1", ecmp.selected_route(route.parse(two)), down)
    assert (degraded.details["nexthops"], degraded.details["expected"]) == (2, 3)
    none = ecmp.check_route("r", c, WEB, "198.51.100.1", None, down)
    assert (none.details["nexthops"], none.details["expected"]) == (0, 3)
    entry = ecmp.selected_route(route.parse(ROUTE_3))
    assert entry is not None
    # Selected by FRR but not in the kernel: not counted.
    not_in_fib = entry.model_copy(update={"nexthops": [n.model_copy(update={"fib": False}) for n in entry.nexthops]})
    assert ecmp.check_route("r", lab_cluster(), WEB, "198.51.100.1", not_in_fib).details["nexthops"] == 0


def test_wireguard_handshake_age() -> None:
    iface = wg_parser.parse_interface((PARSERS / "wireguard" / "wg-show-two-peers.txt").read_text())
    c = lab_cluster()
    wg = c.wireguard
    assert wg is not None
    fresh = c.model_copy(update={"wireguard": wg.model_copy(update={"peer_public_key": iface.peers[0].public_key})})
    assert wireguard.check_handshake("r", fresh, iface).details == {
        "peer": "venue",
        "age_seconds": 2,
        "max_age_seconds": wireguard.DEFAULT_MAX_AGE,
    }
    never = c.model_copy(update={"wireguard": wg.model_copy(update={"peer_public_key": iface.peers[1].public_key})})
    assert wireguard.check_handshake("r", never, iface).details["age_seconds"] is None
    assert wireguard.check_handshake("r", c, None).details == {}  # no interface: no age to tell


def test_vip_holders_and_backends_up() -> None:
    both = lbchecks.check_vip("prd", VIP, {"lb1": True, "lb2": True}, {})
    assert both.details == {"vip": str(VIP), "holders": ["lb1", "lb2"], "answered": ["lb1", "lb2"], "unknown": []}
    one = lbchecks.check_vip("prd", VIP, {"lb1": True}, {"lb2": "refused"})
    assert one.details["holders"] == ["lb1"] and one.details["unknown"] == ["lb2"]
    text = CAPTURE.replace(",n2,0,0,0,1,,2,1464,3982,,0,,0,0,0,0,UP,", ",n2,0,0,0,1,,2,1464,3982,,0,,0,0,0,0,DOWN,")
    rows = haproxy_stat.parse(text)
    result = lbchecks.check_backends("lb1", "prd", rows, ["n1", "n2", "n3", "n4"], backend="k8s_apiserver_nodes")
    assert result.details == {"backend": "k8s_apiserver_nodes", "expected": 4, "up": 2}


def test_compliance_drift_counts() -> None:
    c = lab_cluster()
    scope = ManagedScope(prefixes=(("protocols", "bgp"),))
    found = compliance.drift(["set protocols bgp 1 x"], ["set protocols bgp 1 y", "set protocols bgp 1 z"], scope)
    assert compliance.check_config("r", c, found).details == {"extra": 1, "missing": 2}


def test_details_default_empty_and_in_the_json_dump() -> None:
    assert errored("bgp.peers", "r", "prd", "ssh: timed out").details == {}
    dumped = passed("x.y", "r", "prd", "ok", details={"n": 1}).model_dump()
    assert dumped["details"] == {"n": 1}
    assert set(dumped) == {"check", "host", "cluster", "status", "reason", "subject", "details"}


def test_results_stay_hashable() -> None:
    a = passed("x.y", "r", "prd", "ok", details={"n": 1})
    b = passed("x.y", "r", "prd", "ok", details={"n": 1})
    assert a == b and len({a, b}) == 1
    assert a != passed("x.y", "r", "prd", "ok", details={"n": 2})
