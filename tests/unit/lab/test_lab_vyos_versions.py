"""The lab's router versions without namespaces: which release has `commit-confirm action` (T5976), what
`show configuration` masks (vyatta-cfg --show-hide-secrets), 1.5's WireGuard report, 1.3's default keypair."""

from __future__ import annotations

from pathlib import Path

import pytest

from lab.vyos import config as C
from lab.vyos import ops
from lab.vyos.ledger import text
from lab.vyos.schema import DIALECTS, build_schema
from tests.unit.fixture_text import load

WG = Path(__file__).resolve().parents[2] / "fixtures" / "parsers" / "wireguard"
ACTION = ["system", "config-management", "commit-confirm", "action", "reload"]


@pytest.mark.parametrize(("release", "has_node"), [("1.3", False), ("1.4", False), ("1.5", True)])
def test_only_rolling_has_the_commit_confirm_action_node(release: str, has_node: bool) -> None:
    schema = build_schema(release)
    tree: C.Tree = {}
    if has_node:
        C.set_path(tree, schema, ACTION)
        assert C.value(tree, *ACTION[:-1]) == "reload"
    else:
        with pytest.raises(C.PathError):
            C.set_path(tree, schema, ACTION)


def test_rolling_speaks_14() -> None:
    d = DIALECTS["1.5"]
    assert d.speaks == "1.4" and DIALECTS["1.4"].speaks == "1.4" and DIALECTS["1.3"].speaks == "1.3"
    assert "system-as" in build_schema("1.5").children["protocols"].children["bgp"].children
    shown = ops.version_text(d.version, d.train)
    assert "Version:          VyOS 1.5-rolling-" in shown and "Release train:    current" in shown
    assert "Secure Boot:" in shown and "Secure Boot:" not in ops.version_text("1.4.0", "sagitta")


WG_LINES = [
    "set interfaces wireguard wg0 address '172.16.100.1/30'",
    "set interfaces wireguard wg0 private-key 'yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk='",
    "set interfaces wireguard wg0 peer venue public-key 'DG5Wr9lCEt4Dk4SuL9EScBvKNcsSUrotdrNp6mCfYUU='",
    "set interfaces wireguard wg0 peer venue allowed-ips '172.16.100.2/32'",
    "set protocols bgp neighbor 192.168.100.11 password 'bgp-secret'",
    "set protocols bgp neighbor 192.168.100.11 remote-as '65021'",
    "set protocols bgp system-as '65020'",
]


def test_show_configuration_masks_what_ends_in_key_or_password_and_commands_do_not() -> None:
    schema = build_schema("1.4")
    tree = C.build(schema, C.parse_set_lines(WG_LINES))
    shown = "\n".join(C.curly(tree, schema, hide_secrets=True))
    assert "private-key ****************" in shown and "public-key ****************" in shown
    assert "password ****************" in shown and "bgp-secret" not in shown and "yAnz5" not in shown
    assert "remote-as 65021" in shown  # other values stay
    clear = "\n".join(C.curly(tree, schema))  # config-mode `show`, config.boot
    assert "bgp-secret" in clear and "yAnz5" in clear
    assert "set protocols bgp neighbor 192.168.100.11 password 'bgp-secret'" in C.set_commands(tree, schema)
    assert text("1.4", "secrets.hidden") == C.HIDDEN


def test_rolling_wireguard_report_is_the_sources_format() -> None:
    """ops.wireguard_summary over the dump of the captured two-peer interface gives the fixture written from
    vyos-1x current show_interface()."""
    lines = [
        "set interfaces wireguard wg0 address '172.16.100.1/30'",
        "set interfaces wireguard wg0 description 'venue'",
        "set interfaces wireguard wg0 peer venue public-key 'DG5Wr9lCEt4Dk4SuL9EScBvKNcsSUrotdrNp6mCfYUU='",
        "set interfaces wireguard wg0 peer backup public-key '2Ifu/ATft41h49J2XT/g0TG3EHOzshZ8NEYpgfRaT2I='",
    ]
    tree = C.build(build_schema("1.5"), C.parse_set_lines(lines))
    dump = "\n".join("wg0\t" + line for line in (WG / "wg-dump.txt").read_text().splitlines())
    now = int((WG / "wg-capture-epoch.txt").read_text()) + 1
    assert ops.wireguard_summary("wg0", tree, dump, "1.5", now=now) == load(WG / "vyos-15-summary-constructed.txt")
    assert ops.wireguard_summary("wg1", tree, dump, "1.5") == "WireGuard interface wg1 is not configured\n"


def test_wireguard_error_texts_per_version() -> None:
    assert text("1.4", "wireguard.private_key_missing") == "Wireguard private-key not defined"
    assert text("1.3", "wireguard.private_key_missing").startswith("Wireguard private-key not found! Execute:")
    assert text("1.5", "wireguard.peer_required") == "At least one Wireguard peer is required!"
    assert text("1.3", "wireguard.public_key_required", peer="v") == 'Wireguard public-key required for peer "v"!'
    assert text("1.5", "wireguard.duplicate_public_key", peer="v") == 'Duplicate public-key defined on peer "v"'
