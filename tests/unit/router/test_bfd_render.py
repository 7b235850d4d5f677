"""BFD on the router: one BFD peer per speaker with the site's timers, `bfd` on its neighbor, in both dialects;
stale peers and a switched-off BFD leave through the deploy diff; the site file's bfd section is validated."""

from __future__ import annotations

from pathlib import Path

import pytest

from checks.config_diff import diff
from inventory.errors import InputError
from inventory.model import BFD, BGP
from inventory.sitefile import load_site_file
from tasks.router.dialect import DIALECTS
from tasks.router.render import managed_scope, render_router_config
from tests.unit.router_fixtures import ROUTER_WG_KEY, cluster


@pytest.fixture(autouse=True)
def wg_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EDGEKIT_TEST_WG_KEY", ROUTER_WG_KEY)


def test_defaults_are_300ms_x3_on_and_metallb_bgp_timers() -> None:
    assert BFD() == BFD(enabled=True, receive_interval=300, transmit_interval=300, multiplier=3)
    assert BFD().detect_ms == 900
    assert (BGP().keepalive, BGP().holdtime) == (30, 90)


@pytest.mark.parametrize(("version", "bgp"), [("1.3", "protocols bgp 65020"), ("1.4", "protocols bgp")])
def test_a_bfd_peer_per_speaker_and_bfd_on_each_neighbor(version: str, bgp: str) -> None:
    c = cluster().model_copy(update={"bfd": BFD(receive_interval=200, transmit_interval=250, multiplier=4)})
    lines = render_router_config(c, DIALECTS[version]).lines
    for i in (1, 2, 3):
        peer = f"set protocols bfd peer 203.0.113.1{i}"
        assert f"{peer} interval receive '200'" in lines
        assert f"{peer} interval transmit '250'" in lines
        assert f"{peer} interval multiplier '4'" in lines
        assert f"set {bgp} neighbor 203.0.113.1{i} bfd" in lines
        # proxy-ARP: the speakers peer the public address, so BFD leaves from it (like BGP's update-source),
        # multihop, with the BGP session eBGP multihop (Cluster.bfd_multihop)
        assert f"{peer} source address '203.0.113.4'" in lines
        assert f"{peer} multihop" in lines
        assert f"set {bgp} neighbor 203.0.113.1{i} ebgp-multihop '2'" in lines
    assert sum(line.startswith("set protocols bfd peer") for line in lines) == 15
    assert f"set {bgp} timers holdtime '90'" in lines and f"set {bgp} timers keepalive '30'" in lines


@pytest.mark.parametrize("version", ["1.3", "1.4"])
def test_bfd_off_renders_nothing_and_the_diff_removes_it_cleanly(version: str) -> None:
    d = DIALECTS[version]
    on = cluster()
    running = render_router_config(on, d).lines + ["set protocols static route 0.0.0.0/0 next-hop 203.0.113.1"]
    off = on.model_copy(update={"bfd": BFD(enabled=False)})
    intended = render_router_config(off, d).lines
    assert not any("bfd" in line for line in intended)
    change = diff(running, intended, managed_scope(off, d))
    assert "delete protocols bfd" in change.deletes
    bgp = d.bgp_root(65020)
    for i in (1, 2, 3):
        assert f"delete {bgp} neighbor 203.0.113.1{i} bfd" in change.deletes
        # proxy-ARP: back from the multihop session BFD needed to the connected-check knob
        assert f"delete {bgp} neighbor 203.0.113.1{i} ebgp-multihop" in change.deletes
    assert change.sets == [f"set {bgp} neighbor 203.0.113.1{i} disable-connected-check" for i in (1, 2, 3)]
    assert not any("0.0.0.0/0" in line for line in change.commands)


@pytest.mark.parametrize("version", ["1.3", "1.4"])
def test_a_stale_bfd_peer_leaves_with_its_neighbor(version: str) -> None:
    d = DIALECTS[version]
    running = render_router_config(cluster(speakers=3), d).lines
    two = cluster(speakers=2)
    change = diff(running, render_router_config(two, d).lines, managed_scope(two, d))
    assert "delete protocols bfd peer 203.0.113.13" in change.deletes
    assert f"delete {d.bgp_root(65020)} neighbor 203.0.113.13" in change.deletes
    assert not change.sets


def test_bfd_peers_command_per_dialect() -> None:
    # vyos-1x op-mode-definitions/show-bfd.xml.in on both the equuleus and the sagitta branch
    assert DIALECTS["1.3"].bfd_peers_command == DIALECTS["1.4"].bfd_peers_command == "show bfd peers"


@pytest.mark.parametrize(
    ("section", "path", "why"),
    [
        ("bfd: {receive_interval: 5}", "clusters.prd.bfd.receive_interval", "greater than or equal to 10"),
        ("bfd: {transmit_interval: 60001}", "clusters.prd.bfd.transmit_interval", "less than or equal to 60000"),
        ("bfd: {multiplier: 1}", "clusters.prd.bfd.multiplier", "greater than or equal to 2"),
        ("bfd: {enabled: maybe}", "clusters.prd.bfd.enabled", "boolean"),
        ("bfd: {interval: 300}", "clusters.prd.bfd.interval", "unknown key"),
    ],
)
def test_bad_bfd_settings_are_one_line_errors_naming_the_yaml_path(
    tmp_path: Path, section: str, path: str, why: str
) -> None:
    site = tmp_path / "site.yaml"
    site.write_text(f"clusters:\n  prd:\n    {section}\n")
    with pytest.raises(InputError) as info:
        load_site_file(site)
    message = str(info.value)
    assert "\n" not in message and path in message and why in message


def test_site_file_bfd_section_merges_over_defaults(tmp_path: Path) -> None:
    site = tmp_path / "site.yaml"
    site.write_text("defaults:\n  bfd: {multiplier: 5}\nclusters:\n  prd:\n    bfd: {enabled: false}\n")
    merged = load_site_file(site).cluster("prd").bfd
    assert merged is not None and (merged.enabled, merged.multiplier) == (False, 5)


def test_private_node_subnet_needs_no_bfd_source() -> None:
    lines = render_router_config(cluster(node_subnet="private"), DIALECTS["1.4"]).lines
    assert "set protocols bfd peer 192.168.100.11 interval receive '300'" in lines
    assert not any("source address" in line for line in lines)
