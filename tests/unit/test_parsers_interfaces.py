"""VyOS show interfaces: the Perl-era layout (ntc-templates) and the vyos-1x 1.4 layout."""

from __future__ import annotations

from pathlib import Path

import pytest

from checks.parsers import ParseError, interfaces

VYOS = Path(__file__).resolve().parent.parent / "fixtures" / "parsers" / "vyos"


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
