"""The router's feature table: render, scope, verify and the gates iterate the same rows, and a poll reads each
show command once (constructed outputs: the parsers' own tests use real captures)."""

from __future__ import annotations

import pytest

from checks.config_diff import ConfigPath
from tasks.metallb.gate import gate_checks as metallb_gate_checks
from tasks.router.dialect import DIALECTS
from tasks.router.features import FEATURES
from tasks.router.gate import gate_checks
from tasks.router.render import managed_scope, render_router_config
from tests.unit.router.test_bfd_checks import SUMMARY
from tests.unit.router_fixtures import ROUTER_WG_KEY, cluster


class CountingRouter:
    """Answers ``show ip bgp summary`` (every speaker Established), nothing else, and counts what was sent."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    def show(self, command: str) -> str:
        self.sent.append(command)
        return SUMMARY if command == "show ip bgp summary" else ""


def test_every_feature_row_names_a_template_or_says_whose_lines_it_owns() -> None:
    names = [f.name for f in FEATURES]
    assert names == ["interfaces", "proxy-ARP", "BGP", "BFD", "WireGuard", "firewall", "static routes"]
    assert [f.name for f in FEATURES if f.template is None] == ["static routes"]


@pytest.mark.parametrize("version", ["1.3", "1.4"])
def test_every_rendered_line_is_owned_by_a_feature_row(version: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EDGEKIT_TEST_WG_KEY", ROUTER_WG_KEY)
    c, d = cluster(), DIALECTS[version]
    scope = managed_scope(c, d)
    for line in render_router_config(c, d).lines:
        words: ConfigPath = tuple(w.strip("'") for w in line.split()[1:])
        assert words in scope or words[:-1] in scope, line


def test_one_gate_poll_sends_each_show_command_once() -> None:
    router = CountingRouter()
    results = gate_checks(router, cluster(wireguard=False), "r1")
    assert results[0].check == "bgp.peers" and results[0].ok
    assert len(router.sent) == len(set(router.sent)) and "show ip bgp summary" in router.sent


def test_the_metallb_gate_reads_the_bgp_summary_once_per_poll() -> None:
    router = CountingRouter()
    results = metallb_gate_checks(router.show, cluster(wireguard=False), "r1")
    assert results is not None and results[0].check == "bgp.peers"  # the sessions exist: the router gate ran
    assert router.sent.count("show ip bgp summary") == 1
