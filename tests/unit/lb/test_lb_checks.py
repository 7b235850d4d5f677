"""lb.* verdicts on captured output, and the JUnit writer."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from ipaddress import IPv4Address
from pathlib import Path

from checks import lb as lbchecks
from checks.parsers import haproxy_stat
from checks.verdict import errored, failed, passed
from tasks.core.report import write_junit
from tests.conftest import FIXTURES

VIP = IPv4Address("203.0.113.10")
# The capture's backend and server names (a lab run with other names than edgekit renders).
CAPTURE = (FIXTURES / "outputs" / "haproxy-show-stat.csv").read_text()
IP_ADDR = """1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever
2: eth0    inet 203.0.113.8/28 brd 203.0.113.15 scope global eth0\\       valid_lft forever preferred_lft forever
2: eth0    inet 203.0.113.10/32 scope global eth0\\       valid_lft forever preferred_lft forever
"""


def test_ipv4_addresses() -> None:
    assert lbchecks.ipv4_addresses(IP_ADDR) == {
        IPv4Address("127.0.0.1"),
        IPv4Address("203.0.113.8"),
        IPv4Address("203.0.113.10"),
    }
    # .100 is not .10
    assert VIP not in lbchecks.ipv4_addresses("2: eth0    inet 203.0.113.100/28 scope global eth0")


def test_vip_exactly_one() -> None:
    assert lbchecks.check_vip("prd", VIP, {"lb1": True, "lb2": False}, {}).ok
    both = lbchecks.check_vip("prd", VIP, {"lb1": True, "lb2": True}, {})
    assert both.status == "fail" and both.reason == "held by 2 LBs at once: lb1, lb2"
    neither = lbchecks.check_vip("prd", VIP, {"lb1": False, "lb2": False}, {})
    assert neither.status == "fail" and neither.reason == "held by no LB"
    unknown = lbchecks.check_vip("prd", VIP, {"lb1": True}, {"lb2": "connection refused"})
    assert unknown.status == "fail" and "lb2: connection refused" in unknown.reason
    assert both.host == "vip 203.0.113.10"


def test_backends_all_up_on_the_capture() -> None:
    rows = haproxy_stat.parse(CAPTURE)
    result = lbchecks.check_backends("lb1", "prd", rows, ["n1", "n2", "n3"], backend="k8s_apiserver_nodes")
    assert result.ok and result.reason == "3/3 apiservers UP"


def test_backends_name_each_down_and_missing_server() -> None:
    text = CAPTURE.replace(",n2,0,0,0,1,,2,1464,3982,,0,,0,0,0,0,UP,", ",n2,0,0,0,1,,2,1464,3982,,0,,0,0,0,0,DOWN,")
    text = text.replace("L4OK,,0,,,,,,,,,,,0,0,,,,,11,", "L4CON,,0,,,,,,,,,,,0,0,,,,,11,", 1)
    rows = haproxy_stat.parse(text)
    result = lbchecks.check_backends("lb1", "prd", rows, ["n1", "n2", "n3", "n4"], backend="k8s_apiserver_nodes")
    assert result.status == "fail"
    assert result.reason.startswith("n2 DOWN")
    assert "n4 missing" in result.reason and "n1" not in result.reason and "n3" not in result.reason


def test_backends_wrong_backend_name() -> None:
    rows = haproxy_stat.parse(CAPTURE)
    result = lbchecks.check_backends("lb1", "prd", rows, ["m1"])
    assert result.status == "fail" and "no backend 'apiserverbackend'" in result.reason


def test_services_and_config() -> None:
    assert lbchecks.check_services("lb1", "prd", {"haproxy": True, "keepalived": True}).ok
    down = lbchecks.check_services("lb1", "prd", {"haproxy": True, "keepalived": False}, holds_vip=False)
    assert down.status == "fail" and down.reason.startswith("not running: keepalived") and "degraded" in down.reason
    assert lbchecks.check_config("lb1", "prd", []).ok
    assert "haproxy.cfg" in lbchecks.check_config("lb1", "prd", ["/etc/haproxy/haproxy.cfg"]).reason


def test_healthz_verdicts() -> None:
    url = "https://203.0.113.10:6443/healthz"
    assert lbchecks.check_healthz("prd", VIP, url, 200, "ok").ok
    assert lbchecks.check_healthz("prd", VIP, url, 500, "[-]etcd failed").status == "fail"
    refused = lbchecks.check_healthz("prd", VIP, url, None, "[Errno 111] Connection refused")
    assert refused.status == "fail" and "Connection refused" in refused.reason


def test_fetch_healthz_unreachable_loopback_port() -> None:
    status, body = lbchecks.fetch_healthz("https://127.0.0.1:1/healthz", timeout=1)
    assert status is None and body


def test_junit_one_testcase_per_host_and_check(tmp_path: Path) -> None:
    results = [
        passed("lb.backends", "lb1", "prd", "3/3 apiservers UP"),
        failed("lb.backends", "lb2", "prd", "m2 DOWN (Layer4 connection problem)"),
        errored("lb.config", "lb2", "prd", "cannot read <file>"),
        passed("lb.vip", "vip 203.0.113.10", "prd", "held by lb1 only"),
    ]
    path = tmp_path / "junit.xml"
    write_junit(results, str(path))
    root = ET.parse(path).getroot()
    assert root.tag == "testsuites" and root.get("tests") == "4"
    assert root.get("failures") == "1" and root.get("errors") == "1"
    cases = root.findall("./testsuite/testcase")
    assert [c.get("classname") for c in cases] == ["prd.lb1", "prd.lb2", "prd.lb2", "prd.vip 203.0.113.10"]
    assert cases[1].find("failure") is not None and cases[1].find("failure").get("message").startswith("m2 DOWN")  # type: ignore[union-attr]
    assert cases[2].find("error") is not None
    assert {s.get("name") for s in root.findall("testsuite")} == {"lb.backends", "lb.config", "lb.vip"}


def test_a_server_not_checked_yet_is_not_counted_up() -> None:
    # A freshly reloaded HAProxy shows each server UP with check_status INI until its first check (HAProxy
    # doc/management.txt, show stat check_status "INI -> initializing"; "* " marks a check in progress).
    # Constructed from the capture: n2's L4OK turned into "* INI".
    head, _, rest = CAPTURE.partition(",n2,")
    text = head + ",n2," + rest.replace("L4OK", "* INI", 1)
    result = lbchecks.check_backends(
        "lb1", "prd", haproxy_stat.parse(text), ["n1", "n2", "n3"], backend="k8s_apiserver_nodes"
    )
    assert result.status == "fail" and result.reason == "n2 UP (first health check pending)"
    assert result.items == {"n1": True, "n2": None, "n3": True} and result.details["up"] == 2
