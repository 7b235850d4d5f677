"""The lab router's firewall subset without a kernel: schema per dialect, commit checks and the nftables text
(sources cited in lab/vyos/firewall.py). The packets themselves are in tests/lab/vyos/test_vyos_bfd_firewall.py."""

from __future__ import annotations

import subprocess

import pytest

from lab.vyos import config as C
from lab.vyos import firewall as FW
from lab.vyos.schema import build_schema

POLICY_14 = [
    "set firewall group network-group VENUE-POOLS network '198.51.100.0/24'",
    "set firewall ipv4 forward filter rule 100 action 'drop'",
    "set firewall ipv4 forward filter rule 100 destination group network-group 'VENUE-POOLS'",
    "set firewall ipv4 forward filter rule 100 inbound-interface name '!wg0'",
]
POLICY_13 = [
    "set firewall group network-group VENUE-POOLS network '198.51.100.0/24'",
    "set firewall name VENUE-ONLY default-action 'accept'",
    "set firewall name VENUE-ONLY rule 10 action 'drop'",
    "set firewall name VENUE-ONLY rule 10 destination group network-group 'VENUE-POOLS'",
    "set interfaces ethernet eth2 firewall in name 'VENUE-ONLY'",
]


def tree(version: str, lines: list[str]) -> C.Tree:
    return C.build(build_schema(version), C.parse_set_lines(lines))


def refused(version: str, line: str) -> list[str]:
    with pytest.raises(C.PathError) as e:
        tree(version, [line])
    return e.value.lines


def test_each_dialect_refuses_the_other() -> None:
    tree("1.4", POLICY_14)
    tree("1.3", POLICY_13)
    for line in POLICY_13[1:]:
        assert refused("1.4", line)[0].endswith("is not valid"), line
    for line in POLICY_14[1:]:
        assert refused("1.3", line)[0].endswith("is not valid"), line
    # 1.3 rules have no inbound-interface
    assert refused("1.3", "set firewall name X rule 10 inbound-interface name 'wg0'")[0].endswith("is not valid")


def test_value_checks() -> None:
    assert refused("1.3", "set firewall name X rule 10 action 'jump'") == [
        "action must be one of drop, reject or accept",
        "Value validation failed",
    ]
    assert refused("1.3", "set firewall name X default-action 'return'")[0] == (
        "default-action must be drop, reject or accept"
    )
    assert refused("1.3", "set firewall name X rule 0 action 'drop'")[0] == (
        "firewall rule number must be between 1 and 999999"
    )
    assert (
        refused("1.3", "set firewall name VYATTA_X_HOOK default-action 'drop'")[0] == "VYATTA_X_HOOK is a reserved name"
    )
    assert refused("1.4", "set firewall ipv4 forward filter rule 1000000 action 'drop'")[0] == (
        "Firewall rule number must be between 1 and 999999"
    )
    # the forward filter's default-action is drop|accept (default-action-base-chains.xml.i)
    assert refused("1.4", "set firewall ipv4 forward filter default-action 'reject'")
    tree("1.4", ["set firewall ipv4 name X default-action 'reject'"])
    assert refused("1.4", "set firewall group network-group 'a b' network '10.0.0.0/8'")[0] == (
        "Name of firewall group can only contain alphanumeric letters, hyphen, underscores and dot"
    )
    assert refused("1.4", "set firewall group network-group G network '10.0.0.1/8'")[0] == "Invalid IPv4 prefix"
    assert refused("1.4", "set firewall ipv4 forward filter rule 1 destination address '10.0.0.300'")
    tree("1.4", ["set firewall ipv4 forward filter rule 1 destination address '!10.0.0.1-10.0.0.9'"])


def test_verify_14() -> None:
    def errors(extra: list[str]) -> list[tuple[str, str]]:
        return FW.verify(tree("1.4", extra), {}, "1.4")

    assert errors(POLICY_14) == []
    assert errors(POLICY_14[2:]) == [("firewall", "Rule action must be defined")]
    assert errors(POLICY_14[1:]) == [("firewall", 'Invalid network-group "VENUE-POOLS" on firewall rule')]
    jump = ["set firewall ipv4 forward filter rule 1 action 'jump'"]
    assert errors(jump) == [("firewall", "Action set to jump, but no jump-target specified")]
    assert errors(jump + ["set firewall ipv4 forward filter rule 1 jump-target 'X'"]) == [
        ("firewall", "Invalid jump-target. Firewall name X does not exist on the system")
    ]
    assert errors(
        ["set firewall ipv4 name X rule 1 action 'accept'", "set firewall ipv4 name X rule 1 jump-target 'X'"]
    ) == [("firewall", "jump-target defined, but action jump needed and it is not defined")]
    assert errors(
        [
            "set firewall ipv4 name X rule 1 action 'accept'",
            "set firewall ipv4 name X rule 1 inbound-interface name 'wg0'",
            "set firewall ipv4 name X rule 1 inbound-interface group 'T'",
        ]
    ) == [("firewall", "Cannot specify both interface group and interface name for inbound_interface")]


def test_verify_13() -> None:
    assert FW.verify(tree("1.3", POLICY_13), {}, "1.3") == []
    errs = FW.verify(tree("1.3", POLICY_13[1:2] + POLICY_13[3:]), {}, "1.3")
    assert errs == [
        (
            "firewall name VENUE-ONLY rule 10 destination group network-group",
            "Group [VENUE-POOLS] has not been defined",
        ),
        ("firewall name VENUE-ONLY rule 10", 'Configuration error: "action" must be defined in rule 10'),
    ]
    running = tree("1.3", POLICY_13)
    errs = FW.verify(tree("1.3", [POLICY_13[0], POLICY_13[-1]]), running, "1.3")
    assert errs == [
        ("interfaces ethernet eth2 firewall in name", 'Configuration error: Rule set "VENUE-ONLY" is not configured'),
        ("firewall name VENUE-ONLY", 'Configuration error: Cannot delete rule set "VENUE-ONLY" (still in use)'),
    ]


def test_render_14_as_nftables_j2() -> None:
    text = FW.render(tree("1.4", POLICY_14), "1.4")
    assert text.splitlines()[:5] == [
        "table ip vyos_filter {",
        "    chain VYOS_FORWARD_filter {",
        "        type filter hook forward priority filter; policy accept;",
        '        ip daddr  @N_VENUE-POOLS iifname != {wg0} counter drop comment "ipv4-FWD-filter-100"',
        '        counter accept comment "FWD-filter default-action accept"',
    ]
    assert "    set N_VENUE-POOLS {" in text and "        elements = { 198.51.100.0/24 }" in text
    assert FW.render(tree("1.4", []), "1.4") == ""


def test_render_13_as_vyatta_firewall_chains() -> None:
    text = FW.render(tree("1.3", POLICY_13), "1.3")
    assert '        iifname "eth2" counter jump VENUE-ONLY' in text
    assert '        ip daddr @VENUE-POOLS counter drop comment "VENUE-ONLY-10"' in text
    # `accept` is RETURN in 1.3 (vyatta-firewall.pl %policy_hash)
    assert '        counter return comment "VENUE-ONLY-1000000 default-action accept"' in text
    # no default-action: drop
    bare = FW.render(tree("1.3", ["set firewall name X rule 1 action 'accept'"]), "1.3")
    assert 'counter drop comment "X-1000000 default-action drop"' in bare


@pytest.mark.root
@pytest.mark.programs("nft")
def test_nft_takes_both_texts() -> None:
    for version, lines in (("1.4", POLICY_14), ("1.3", POLICY_13)):
        text = FW.script(FW.render(tree(version, lines), version), version)
        p = subprocess.run(["nft", "-c", "-f", "-"], input=text, capture_output=True, text=True, timeout=30)
        assert p.returncode == 0, p.stderr
