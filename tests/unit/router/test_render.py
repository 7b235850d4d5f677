"""The router templates render the managed config of topology.md, per dialect."""

from __future__ import annotations

import pytest

from inventory.errors import MissingFact
from tasks.router.dialect import DIALECTS, detect, dialect_for
from tasks.router.render import render_router_config
from tests.unit.router_fixtures import ROUTER_WG_KEY, VENUE_PUBLIC_KEY, cluster


@pytest.fixture(autouse=True)
def wg_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EDGEKIT_TEST_WG_KEY", ROUTER_WG_KEY)


def test_14_bgp_sets_system_as_and_one_neighbor_per_speaker() -> None:
    lines = render_router_config(cluster(), DIALECTS["1.4"]).lines
    assert "set protocols bgp system-as '65020'" in lines
    for i in (1, 2, 3):
        assert f"set protocols bgp neighbor 203.0.113.1{i} remote-as '65021'" in lines
        # BFD is on by default: the proxy-ARP layout's session is eBGP multihop (Cluster.bfd_multihop)
        assert f"set protocols bgp neighbor 203.0.113.1{i} ebgp-multihop '2'" in lines
        assert f"set protocols bgp neighbor 203.0.113.1{i} update-source '203.0.113.4'" in lines
    assert not any("disable-connected-check" in line for line in lines)
    assert "set protocols bgp address-family ipv4-unicast maximum-paths ebgp '8'" in lines
    assert not any("multipath-relax" in line for line in lines)
    assert "set protocols static route 198.51.100.0/28 blackhole distance '254'" in lines
    assert "set system ip multipath layer4-hashing" in lines


def test_13_puts_asn_in_every_bgp_path() -> None:
    lines = render_router_config(cluster(), DIALECTS["1.3"]).lines
    bgp = [line for line in lines if line.startswith("set protocols bgp")]
    assert bgp and all(line.startswith("set protocols bgp 65020 ") for line in bgp)
    assert not any("system-as" in line for line in lines)


def test_maximum_paths_covers_all_speakers_and_mixed_asns_relax_multipath() -> None:
    c = cluster(speakers=10, asns=[65021] * 9 + [65031])
    lines = render_router_config(c, DIALECTS["1.4"]).lines
    assert "set protocols bgp address-family ipv4-unicast maximum-paths ebgp '10'" in lines
    assert "set protocols bgp parameters bestpath as-path multipath-relax" in lines


def test_proxy_arp_topology_adds_host_routes_and_public_proxy_arp() -> None:
    lines = render_router_config(cluster(), DIALECTS["1.4"]).lines
    assert "set interfaces ethernet eth1 ip enable-proxy-arp" in lines
    assert "set interfaces ethernet eth0 ip enable-proxy-arp" in lines
    assert "set protocols static route 203.0.113.11/32 interface eth1" in lines
    lines13 = render_router_config(cluster(), DIALECTS["1.3"]).lines
    assert "set protocols static interface-route 203.0.113.11/32 next-hop-interface eth1" in lines13


def test_private_node_subnet_needs_none_of_the_proxy_arp_knobs() -> None:
    lines = render_router_config(cluster(node_subnet="private"), DIALECTS["1.4"]).lines
    assert "set interfaces ethernet eth1 ip enable-proxy-arp" in lines
    assert not any("eth0 ip enable-proxy-arp" in line for line in lines)
    assert not any("disable-connected-check" in line or "update-source" in line for line in lines)
    assert not any("/32 interface eth1" in line for line in lines)


def test_wireguard_14_takes_the_key_and_13_the_keypair_name() -> None:
    rendered = render_router_config(cluster(), DIALECTS["1.4"])
    assert f"set interfaces wireguard wg0 private-key '{ROUTER_WG_KEY}'" in rendered.lines
    assert f"set interfaces wireguard wg0 peer venue public-key '{VENUE_PUBLIC_KEY}'" in rendered.lines
    assert "set protocols static route 10.88.0.0/24 interface wg0" in rendered.lines
    assert rendered.secrets == [ROUTER_WG_KEY]
    rendered13 = render_router_config(cluster(), DIALECTS["1.3"])
    assert "set interfaces wireguard wg0 private-key 'venue'" in rendered13.lines
    assert f"set interfaces wireguard wg0 peer venue pubkey '{VENUE_PUBLIC_KEY}'" in rendered13.lines
    assert rendered13.secrets == []


def test_missing_secret_is_an_error_naming_the_field(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EDGEKIT_TEST_WG_KEY")
    with pytest.raises(MissingFact, match=r"clusters\.prd\.wireguard\.private_key.*EDGEKIT_TEST_WG_KEY"):
        render_router_config(cluster(), DIALECTS["1.4"])


def test_bgp_password_is_rendered_and_reported_as_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EDGEKIT_TEST_BGP_PW", "s3cret-pw")
    rendered = render_router_config(cluster(password_env="EDGEKIT_TEST_BGP_PW", wireguard=False), DIALECTS["1.4"])
    assert "set protocols bgp neighbor 203.0.113.11 password 's3cret-pw'" in rendered.lines
    assert rendered.secrets == ["s3cret-pw"]


def test_dialect_detection_from_show_version() -> None:
    assert detect("Version:          VyOS 1.4.0\nRelease train:    sagitta\n").version == "1.4"
    assert detect("Version:          VyOS 1.3.8\n").version == "1.3"
    assert dialect_for("1.5").version == "1.5" and dialect_for("1.6").version == "1.5"
    rolling = detect("Version:          VyOS 1.5-rolling-202410210017\nRelease train:    current\n")
    assert rolling.version == "1.5" and rolling.knows_confirm_action and not rolling.asn_in_path
    assert not dialect_for("1.4").knows_confirm_action and dialect_for("1.4").revert_in_place  # probed
    with pytest.raises(Exception, match="names no VyOS version"):
        detect("Linux debian 6.1")


@pytest.mark.parametrize("version", ["1.3", "1.4", "1.5"])
def test_rendered_config_lies_inside_the_managed_scope_and_keeps_foreign_routes(version: str) -> None:
    from checks.config_diff import diff
    from tasks.router.render import managed_scope

    c = cluster()
    rendered = render_router_config(c, DIALECTS[version]).lines
    running = [
        "set protocols static route 0.0.0.0/0 next-hop 203.0.113.1",
        "set protocols static route 203.0.113.99/32 interface eth1",  # a node that left the model
        "set system host-name 'r1'",
    ]
    change = diff(running, rendered, managed_scope(c, DIALECTS[version]))
    assert "delete protocols static route 203.0.113.99/32" in change.deletes
    assert not any("0.0.0.0/0" in line or "host-name" in line for line in change.commands)
    assert len(change.sets) == len(rendered)
