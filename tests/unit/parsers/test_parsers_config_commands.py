"""VyOS show configuration commands: set lines, quoting, tree round trip."""

from __future__ import annotations

from pathlib import Path

import pytest

from checks.parsers import ParseError, config_commands
from checks.parsers.models import ConfigCommand

VYOS = Path(__file__).resolve().parents[2] / "fixtures" / "parsers" / "vyos"
CAPTURE = VYOS / "show_configuration_commands-14.txt"


def test_paths_and_values() -> None:
    commands = config_commands.parse(CAPTURE.read_text())
    assert commands[0] == ConfigCommand(path=("interfaces", "ethernet", "eth0", "address"), value="203.0.113.10/24")
    assert commands[1].value == "uplink to provider"
    assert ConfigCommand(path=("interfaces", "ethernet", "eth1", "ip", "enable-proxy-arp")) in commands
    assert ConfigCommand(path=("interfaces", "ethernet", "eth2")) in commands
    banner = next(c for c in commands if c.path[-1] == "pre-login")
    assert banner.value == "Authorised use only: it's logged"
    listen = next(c for c in commands if "listen" in c.path)
    assert listen.path[-2:] == ("192.168.100.0/24", "peer-group") and listen.value == "metallb"


def test_tree_and_back_is_the_same_text() -> None:
    text = CAPTURE.read_text()
    tree = config_commands.to_tree(config_commands.parse(text))
    eth1 = tree["interfaces"]["ethernet"]["eth1"]
    assert eth1["address"] == ["192.168.100.1/24", "198.51.100.1/32"]
    assert eth1["ip"] == {"enable-proxy-arp": {}} and tree["interfaces"]["ethernet"]["eth2"] == {}
    assert tree["protocols"]["bgp"]["system-as"] == "65020"
    assert config_commands.render(config_commands.from_tree(tree)) == text


def test_vyos13_asn_in_path() -> None:
    text = "set protocols bgp 65020 neighbor 192.168.100.21 remote-as '65021'\n"
    tree = config_commands.to_tree(config_commands.parse(text))
    assert tree["protocols"]["bgp"]["65020"]["neighbor"]["192.168.100.21"]["remote-as"] == "65021"


def test_empty_value_and_empty_output() -> None:
    (command,) = config_commands.parse("set system login banner post-login ''\n")
    assert command.value == ""
    assert config_commands.parse("") == []


@pytest.mark.parametrize("text", ["Invalid command: show configuration comands\n", "set\n", "  Set failed\n"])
def test_not_set_lines(text: str) -> None:
    with pytest.raises(ParseError, match="show configuration commands"):
        config_commands.parse(text)
