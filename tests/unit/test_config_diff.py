"""The change between running and intended touches only the managed scope and is minimal."""

from __future__ import annotations

import pytest

from checks.config_diff import ConfigTree, ManagedScope, diff, mask_line

RUNNING = """\
set interfaces ethernet eth0 address '203.0.113.4/28'
set interfaces ethernet eth0 hw-id '00:11:22:33:44:55'
set protocols static route 0.0.0.0/0 next-hop 203.0.113.1
set protocols bgp system-as '65020'
set protocols bgp neighbor 203.0.113.11 remote-as '65021'
set protocols bgp neighbor 203.0.113.11 address-family ipv4-unicast
set protocols bgp neighbor 203.0.113.14 remote-as '65021'
set protocols bgp neighbor 203.0.113.14 address-family ipv4-unicast
set protocols bgp neighbor 203.0.113.14 password 'old-secret'
set system host-name 'r1'
""".splitlines()

SCOPE = ManagedScope([("protocols", "bgp"), ("interfaces", "ethernet", "eth0", "ip", "enable-proxy-arp")])


def test_identical_managed_config_is_no_change() -> None:
    intended = [line for line in RUNNING if "protocols bgp" in line]
    assert not diff(RUNNING, intended, SCOPE)


def test_removed_neighbor_is_deleted_whole_and_unmanaged_lines_survive() -> None:
    intended = [line for line in RUNNING if "protocols bgp" in line and "203.0.113.14" not in line]
    change = diff(RUNNING, intended, SCOPE)
    assert change.deletes == ["delete protocols bgp neighbor 203.0.113.14"]
    assert change.sets == []


def test_changed_value_is_replaced_and_new_leaf_added() -> None:
    intended = [
        "set protocols bgp system-as '65020'",
        "set protocols bgp neighbor 203.0.113.11 remote-as '65022'",
        "set protocols bgp neighbor 203.0.113.11 address-family ipv4-unicast",
        "set interfaces ethernet eth0 ip enable-proxy-arp",
    ]
    change = diff(RUNNING, intended, SCOPE)
    assert "delete protocols bgp neighbor 203.0.113.11 remote-as '65021'" in change.deletes
    assert "set protocols bgp neighbor 203.0.113.11 remote-as '65022'" in change.sets
    assert "set interfaces ethernet eth0 ip enable-proxy-arp" in change.sets
    assert not any("host-name" in c or "next-hop" in c or "hw-id" in c for c in change.commands)


def test_quoting_differences_are_not_changes() -> None:
    intended = ["set protocols bgp system-as 65020"]
    running = ["set protocols bgp system-as '65020'"]
    assert not diff(running, intended, ManagedScope([("protocols", "bgp")]))


def test_intended_line_outside_scope_is_a_bug_not_a_silent_push() -> None:
    with pytest.raises(ValueError, match="outside the managed scope"):
        diff(RUNNING, ["set system host-name 'x'"], SCOPE)


def test_secret_values_are_masked_by_leaf_and_by_value() -> None:
    assert mask_line("set protocols bgp neighbor 1.2.3.4 password 'old-secret'") == (
        "set protocols bgp neighbor 1.2.3.4 password '********'"
    )
    assert mask_line("set interfaces wireguard wg0 private-key 'abc='") == (
        "set interfaces wireguard wg0 private-key '********'"
    )
    assert mask_line("anything abc= here", ["abc="]) == "anything ******** here"


def test_tree_keys_paths_with_values_last_and_knows_which_are_values() -> None:
    tree = ConfigTree(["set a b 'c d'", "set a e", "delete x"])
    assert tree.paths == {("a", "b", "c d"), ("a", "e")}
    assert tree.valued(("a", "b", "c d")) and not tree.valued(("a", "e"))


def test_secret_leaf_values_are_masked_inside_error_text_too() -> None:
    error = "'set protocols bgp neighbor 1.2.3.4 password 'old-pw'' failed: Set failed"
    assert mask_line(error) == "'set protocols bgp neighbor 1.2.3.4 password '********'' failed: Set failed"
