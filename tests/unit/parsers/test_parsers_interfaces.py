"""VyOS show interfaces: the Perl-era layout (ntc-templates) and the vyos-1x 1.4 layout."""

from __future__ import annotations

from pathlib import Path

import pytest

from checks.parsers import ParseError, interfaces
from tests.unit.fixture_text import load

VYOS = Path(__file__).resolve().parents[2] / "fixtures" / "parsers" / "vyos"


def test_vyos14_layout_long_ipv6_and_states() -> None:
    result = {i.name: i for i in interfaces.parse((VYOS / "show_interfaces-14-rendered.txt").read_text())}
    assert list(result) == ["eth0", "eth1", "eth2", "eth3", "lo", "wg0"]
    assert result["eth1"].addresses == ["192.168.100.1/24", "198.51.100.1/32"]
    assert result["eth1"].description == "k8s-nodes proxy-arp"
    eth2 = result["eth2"]
    assert (eth2.admin_state, eth2.link_state, eth2.addresses) == ("admin-down", "down", [])
    eth3 = result["eth3"]
    assert eth3.addresses == ["2001:db8:ffff:1234:5678:9abc:def0:1/64", "10.5.0.1/24"]
    assert (eth3.admin_state, eth3.link_state, eth3.description) == ("up", "down", "long v6")
    assert result["lo"].description is None


def test_ntc_templates_capture() -> None:
    result = {i.name: i for i in interfaces.parse((VYOS / "show_interfaces-ntc-templates.txt").read_text())}
    assert len(result) == 12
    assert result["lo"].addresses == ["127.0.0.1/8", "172.18.255.110/32", "::1/128"]
    assert result["eth1.269"].addresses == ["172.18.32.14/28", "123.123.123.123/32"]
    assert result["vtun1"].description == "OpenVPN-TUNNEL1" and result["eth0"].addresses == []


def test_not_show_interfaces() -> None:
    with pytest.raises(ParseError, match="show interfaces"):
        interfaces.parse("Invalid command: show interfacs\n")


GOWIN = "show_interfaces-15-doc-gowin.txt"


def test_vyos14_tabulate_layout_with_mac_vrf_mtu() -> None:
    # vyos-documentation capture (source in the fixture's header): was parsed to [] before
    result = {i.name: i for i in interfaces.parse(load(VYOS / "show_interfaces-15-doc-gowin.txt"))}
    assert list(result) == ["eth0", "eth1", "eth2", "eth3", "eth4", "eth5", "eth6", "lo", "wwan0"]
    eth0 = result["eth0"]
    assert (eth0.mac, eth0.vrf, eth0.mtu, eth0.admin_state, eth0.link_state) == (
        "00:f0:cb:00:00:99",
        "default",
        1500,
        "up",
        "down",
    )
    assert eth0.description == "Intel I226-V - Front eth2" and eth0.addresses == []
    assert result["lo"].addresses == ["127.0.0.1/8", "::1/128"] and result["lo"].mtu == 65536
    assert result["wwan0"].admin_state == "admin-down" and result["wwan0"].description is None


LONG = "uplink to the provider's aggregation switch in rack B7, port 24 (contract 2024-118, circuit id AB-4711-X)"


WRAPPED = ["show_interfaces-14-wrapped-constructed.txt", "show_interfaces-13-wrapped-constructed.txt"]


@pytest.mark.parametrize("name", WRAPPED)
def test_a_wrapped_description_is_read_whole(name: str) -> None:
    result = {i.name: i for i in interfaces.parse(load(VYOS / name))}
    assert result["eth0"].description == LONG
    assert result["eth0"].addresses == ["203.0.113.10/24", "2001:db8:203::10/64"]
    assert result["eth1"].description == "k8s-nodes proxy-arp"
    if "eth3" in result:  # the 1.3 layout: a long address alone, then S/L and the description
        assert result["eth3"].addresses == ["2001:db8:ffff:1234:5678:9abc:def0:1/64", "10.5.0.1/24"]
        assert (result["eth3"].link_state, result["eth3"].description) == ("down", LONG)
    else:
        assert (result["wg0"].mac, result["wg0"].mtu) == (None, 1420)  # MAC "n/a"


@pytest.mark.parametrize(
    ("name", "old", "new"),
    [
        (GOWIN, "default   1500  u/D    Intel I226-V - Front eth2", "default   1500  up     x"),
        (GOWIN, "00:f0:cb:00:00:99", "00:f0:cb:00:0099  "),
        (WRAPPED[1], "A/D  ", "A-D  "),
        (WRAPPED[1], "                 198.51.100.1/32", "                 not-an-address"),
    ],
)
def test_a_line_that_does_not_fit_the_columns_is_an_error_naming_it(name: str, old: str, new: str) -> None:
    text = load(VYOS / name)
    assert old in text
    with pytest.raises(ParseError, match="show interfaces") as info:
        interfaces.parse(text.replace(old, new, 1))
    assert new.strip().split()[0] in str(info.value) or "eth" in str(info.value)


def test_vyos14_columns_must_be_the_ones_vyos_prints() -> None:
    text = load(VYOS / "show_interfaces-15-doc-gowin.txt").replace("VRF        MTU", "Zone       MTU")
    with pytest.raises(ParseError, match="columns"):
        interfaces.parse(text)


def test_vyos_documentation_fixed_layout_with_multiword_description() -> None:
    result = {i.name: i for i in interfaces.parse(load(VYOS / "show_interfaces-13-doc-bonding.txt"))}
    assert [(i.name, i.addresses, i.description) for i in result.values()] == [
        ("bond0", [], "my-sw1 int 23 and 24"),
        ("bond0.10", ["192.168.0.1/24"], "office-net"),
        ("bond0.100", ["10.10.10.1/24"], "management-net"),
    ]
