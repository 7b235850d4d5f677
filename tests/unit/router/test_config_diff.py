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


# VyOS `show configuration` (op mode) prints these values masked (vyatta-cfg cnode-algorithm.cpp
# _print_value_str); a masked value must never look like a change, nor be deleted or written back by value.
MASKED = """\
set interfaces wireguard wg0 private-key '****************'
set interfaces wireguard wg0 peer venue public-key '****************'
set interfaces wireguard wg0 peer venue allowed-ips '172.16.100.2/32'
set interfaces wireguard wg0 peer old public-key '****************'
set interfaces wireguard wg0 peer old allowed-ips '172.16.100.9/32'
""".splitlines()
WG_INTENDED = """\
set interfaces wireguard wg0 private-key 'yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk='
set interfaces wireguard wg0 peer venue public-key 'DG5Wr9lCEt4Dk4SuL9EScBvKNcsSUrotdrNp6mCfYUU='
set interfaces wireguard wg0 peer venue allowed-ips '172.16.100.2/32'
""".splitlines()


def test_masked_values_are_not_compared_and_never_deleted_or_set_by_value() -> None:
    from checks.config_diff import VYOS_HIDDEN, has_hidden_value

    change = diff(MASKED, WG_INTENDED, ManagedScope([("interfaces", "wireguard")]))
    assert change.sets == []  # the key is not re-set on every deploy
    assert change.deletes == ["delete interfaces wireguard wg0 peer old"]
    assert change.uncompared == [
        "interfaces wireguard wg0 peer venue public-key",
        "interfaces wireguard wg0 private-key",
    ]
    assert not any(VYOS_HIDDEN in c for c in change.commands)
    assert has_hidden_value(MASKED[0]) and not has_hidden_value(WG_INTENDED[0])
    assert not has_hidden_value("set interfaces wireguard wg0 description '****************'")  # not a secret leaf


def test_a_masked_leaf_the_intent_lacks_is_deleted_by_its_node() -> None:
    running = [*MASKED[:3], "set protocols bgp neighbor 10.0.0.1 password '****************'"]
    change = diff(running, WG_INTENDED, ManagedScope([("interfaces", "wireguard"), ("protocols", "bgp")]))
    assert change.deletes == ["delete protocols bgp"]  # collapsed to the highest node holding nothing else
    running = [*MASKED[:3], "set interfaces wireguard wg0 peer venue preshared-key '****************'"]
    change = diff(running, WG_INTENDED, ManagedScope([("interfaces", "wireguard")]))
    assert change.deletes == ["delete interfaces wireguard wg0 peer venue preshared-key"] and not change.sets


def test_compliance_does_not_count_masked_values_as_drift() -> None:
    from checks.compliance import drift

    found = drift(MASKED[:3], WG_INTENDED, ManagedScope([("interfaces", "wireguard")]))
    assert not found and len(found.uncompared) == 2


def test_plan_notes_masked_values_and_the_tunnel_per_version() -> None:
    from tasks.router.dialect import DIALECTS
    from tasks.router.plan import change_notes

    change = diff(
        MASKED[:3],
        WG_INTENDED + ["set interfaces wireguard wg0 peer venue persistent-keepalive '25'"],
        ManagedScope([("interfaces", "wireguard")]),
    )
    for version in ("1.4", "1.5"):
        notes = change_notes(change, DIALECTS[version], MASKED[:3])
        assert any("cannot compare 2 masked value(s)" in n for n in notes)
        assert any(
            f"the tunnel wg0 DROPS: a peer change makes VyOS {version} remove and re-create wg0" in n for n in notes
        )
    notes = change_notes(change, DIALECTS["1.3"], MASKED[:3])
    assert not any("DROPS" in n for n in change_notes(change, DIALECTS["1.4"], []))  # a new wg0: nothing drops
    assert any("wg0: the changed peer is removed and re-added" in n for n in notes)
    assert (
        change_notes(diff([], ["set protocols bgp system-as '1'"], ManagedScope([("protocols",)])), DIALECTS["1.4"], [])
        == []
    )
