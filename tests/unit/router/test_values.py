"""Values VyOS cannot take are refused per dialect before any device is touched; the rest is quoted so that vbash
reads exactly the value meant (issue 22 items 4-6; rules and sources in tasks/router/values.py and dialect.py)."""

from __future__ import annotations

import re
import shlex
import string
from pathlib import Path

import pytest

from inventory.errors import InputError
from inventory.model import Cluster, Pool, Speaker
from tasks.router import main
from tasks.router.dialect import DIALECTS
from tasks.router.plan import FirewallInTheWay, refuse_firewall_in_the_way
from tasks.router.render import render_router_config
from tasks.router.values import PASSWORD_MAX, UNSAFE, quote
from tests.unit.router.test_cli_router import SAMPLE, Listener, router_port, site_file  # noqa: F401
from tests.unit.router_fixtures import ROUTER_WG_KEY, cluster

ALL = sorted(DIALECTS)
PW_ENV = "EDGEKIT_TEST_BGP_PW"
# Every character the site file allows in a BGP password (inventory/README.md): printable ASCII but ' ? " \
ALLOWED = "".join(ch for ch in string.printable if 0x21 <= ord(ch) <= 0x7E and ch not in "'?\"\\")


@pytest.fixture(autouse=True)
def wg_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EDGEKIT_TEST_WG_KEY", ROUTER_WG_KEY)


def with_router(c: Cluster, **changes: object) -> Cluster:
    assert c.router is not None
    return c.model_copy(update={"router": c.router.model_copy(update=changes)})


def with_bgp(c: Cluster, **changes: object) -> Cluster:
    assert c.router is not None
    return with_router(c, bgp=c.router.bgp.model_copy(update=changes))


def with_wireguard(c: Cluster, **changes: object) -> Cluster:
    assert c.wireguard is not None
    return c.model_copy(update={"wireguard": c.wireguard.model_copy(update=changes)})


def test_allowed_set_is_the_printable_ascii_less_four() -> None:
    assert len(ALLOWED) == 94 - 4 and not set(ALLOWED) & set(UNSAFE)


@pytest.mark.parametrize("version", ALL)
def test_a_password_of_every_allowed_character_renders_as_one_exact_vbash_word(
    version: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 90 allowed characters, in two passwords of at most 80 (the limit on every release)
    for password in (ALLOWED[:PASSWORD_MAX], ALLOWED[PASSWORD_MAX - 10 :]):
        monkeypatch.setenv(PW_ENV, password)
        rendered = render_router_config(cluster(password_env=PW_ENV), DIALECTS[version])
        lines = [line for line in rendered.lines if " password " in line]
        assert len(lines) == 3 and rendered.secrets[0] == password
        for line in lines:
            words = shlex.split(line)  # what bash makes of the line
            assert words[-2:] == ["password", password]


@pytest.mark.parametrize("version", ALL)
@pytest.mark.parametrize(
    ("password", "rule"),
    [
        ("it's", "single quote"),
        ("what?now", "completes on it"),
        ('say"hi', "double quote"),
        ("back\\slash", "backslash"),
        ("two words", "whitespace"),
        ("tab\there", "control character"),
        ("caf\u00e9", "outside printable ASCII"),
        ("x" * 81, "at most 80"),
    ],
)
def test_bad_password_is_refused_naming_the_input_never_the_value(
    version: str, password: str, rule: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PW_ENV, password)
    with pytest.raises(InputError) as caught:
        render_router_config(cluster(password_env=PW_ENV), DIALECTS[version])
    text = str(caught.value)
    assert text.startswith(f"clusters.prd.router.bgp.password (env:{PW_ENV}): ")
    assert rule in text and "\n" not in text
    assert password not in text


def test_81_characters_cite_13s_own_refusal_and_the_common_limit_elsewhere(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PW_ENV, "x" * 81)
    with pytest.raises(InputError, match="Password must be 80 characters or less"):
        render_router_config(cluster(password_env=PW_ENV), DIALECTS["1.3"])
    with pytest.raises(InputError, match=r"VyOS 1\.3 refuses more.*this router: 1\.4"):
        render_router_config(cluster(password_env=PW_ENV), DIALECTS["1.4"])


@pytest.mark.parametrize(("version", "refused"), [("1.3", True), ("1.4", False), ("1.5", False)])
def test_holdtime_3_is_refused_on_13_only(version: str, refused: bool) -> None:
    c = with_bgp(cluster(), holdtime=3, keepalive=1)
    if refused:
        with pytest.raises(
            InputError, match=r"clusters\.prd\.router\.bgp\.holdtime: holdtime 3: VyOS 1\.3 takes 0 or 4"
        ):
            render_router_config(c, DIALECTS[version])
    else:
        lines = render_router_config(c, DIALECTS[version]).lines
        assert "set protocols bgp timers holdtime '3'" in lines


@pytest.mark.parametrize("version", ALL)
def test_holdtime_4_passes_everywhere(version: str) -> None:
    render_router_config(with_bgp(cluster(), holdtime=4, keepalive=1), DIALECTS[version])


@pytest.mark.parametrize(("length", "ok"), [(0, {"1.4", "1.5"}), (255, set(ALL)), (256, {"1.3"}), (257, set())])
def test_description_length_per_dialect(length: int, ok: set[str]) -> None:
    c = with_router(cluster(), description="d" * length)
    for version in ALL:
        if version in ok:
            render_router_config(c, DIALECTS[version])
        else:
            with pytest.raises(InputError, match=rf"clusters\.prd\.router\.description: .*VyOS {version} takes"):
                render_router_config(c, DIALECTS[version])


@pytest.mark.parametrize("version", ALL)
@pytest.mark.parametrize("bad", ["node's", "nodes?", 'the "nodes"', "a\\b", "two\nlines"])
def test_description_vbash_cannot_carry_is_refused(version: str, bad: str) -> None:
    with pytest.raises(InputError, match=r"^clusters\.prd\.router\.description: .*a description with"):
        render_router_config(with_router(cluster(), description=bad), DIALECTS[version])


def test_description_with_spaces_and_punctuation_is_quoted_exactly() -> None:
    text = "k8s nodes (prd) & friends; $HOME `x` #1 | !"
    lines = render_router_config(with_router(cluster(), description=text), DIALECTS["1.4"]).lines
    line = next(line for line in lines if line.startswith("set interfaces ethernet eth1 description"))
    assert shlex.split(line) == ["set", "interfaces", "ethernet", "eth1", "description", text]


@pytest.mark.parametrize("version", ALL)
def test_speaker_name_from_kubernetes_is_checked_as_a_description(version: str) -> None:
    c = cluster()
    bad = Speaker(name="node'1", address=c.speakers[0].address)
    c = c.model_copy(update={"speakers": [bad, *c.speakers[1:]]})
    with pytest.raises(InputError, match=r"^clusters\.prd\.speakers\[0\]\.name: "):
        render_router_config(c, DIALECTS[version])


@pytest.mark.parametrize("version", ALL)
@pytest.mark.parametrize("bad", ["the venue", "venue'", "-venue", "v" * 101, ""])
def test_wireguard_peer_name_is_refused_per_dialect(version: str, bad: str) -> None:
    with pytest.raises(InputError, match=r"^clusters\.prd\.wireguard\.peer_name: .*WireGuard peer name"):
        render_router_config(with_wireguard(cluster(), peer_name=bad), DIALECTS[version])


def test_keypair_name_matters_on_13_only() -> None:
    c = with_wireguard(cluster(), key_name="my key")
    with pytest.raises(InputError, match=r"^clusters\.prd\.wireguard\.key_name: .*keypair name"):
        render_router_config(c, DIALECTS["1.3"])
    render_router_config(c, DIALECTS["1.4"])  # 1.4 takes the key itself, not a name


@pytest.mark.parametrize("version", ["1.4", "1.5"])
def test_private_key_that_is_no_wireguard_key_is_refused_without_printing_it(
    version: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EDGEKIT_TEST_WG_KEY", "not-a-key'?")
    with pytest.raises(InputError) as caught:
        render_router_config(cluster(), DIALECTS[version])
    assert str(caught.value).startswith("clusters.prd.wireguard.private_key (env:EDGEKIT_TEST_WG_KEY): not a WireGuard")
    assert "not-a-key" not in str(caught.value)


@pytest.mark.parametrize("version", ALL)
@pytest.mark.parametrize("field", ["public_interface", "node_interface"])
def test_interface_names_vyos_does_not_have_are_refused(version: str, field: str) -> None:
    with pytest.raises(InputError, match=rf"^clusters\.prd\.router\.{field}: 'eth 1': not a VyOS ethernet"):
        render_router_config(with_router(cluster(), **{field: "eth 1"}), DIALECTS[version])


@pytest.mark.parametrize("version", ALL)
def test_every_rendered_line_is_whole_words_for_bash(version: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PW_ENV, ALLOWED[:PASSWORD_MAX])
    venue = Pool(name="venue", addresses=["198.51.100.128/28"], scope="venue")  # type: ignore[list-item]
    c = cluster(password_env=PW_ENV)
    c = c.model_copy(update={"pools": [*c.pools, venue]})
    for line in render_router_config(c, DIALECTS[version]).lines:
        words = shlex.split(line)
        # bash reads the words edgekit meant: only whole single-quoted values, the rest plain path words
        assert words[0] == "set" and " ".join(words) == line.replace("'", "")
        head, _, last = line.partition(" '")
        assert all(re.fullmatch(r"[A-Za-z0-9_./:-]+", w) for w in head.split()), line
        assert not last or (last.endswith("'") and last.count("'") == 1), line


def test_quote_filter_single_quotes_and_refuses_what_it_cannot_hold() -> None:
    assert quote(65020) == "'65020'" and quote("a b$c") == "'a b$c'"
    with pytest.raises(ValueError):
        quote("it's")


def test_deploy_with_a_bad_password_is_exit_2_before_any_connection(
    tmp_path: Path,
    router_port: Listener,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(PW_ENV, "secret?x")
    site = site_file(tmp_path, router_port.port, router={"dialect": "1.3", "bgp": {"password": {"env": PW_ENV}}})
    code = main(["deploy", "--state", str(SAMPLE), "--site", str(site)])
    err = capsys.readouterr().err
    assert code == 2
    assert f"router.bgp.password (env:{PW_ENV})" in err and "secret?x" not in err
    assert router_port.accepted == 0


def test_deploy_with_holdtime_3_on_a_13_router_is_exit_2_before_any_connection(
    tmp_path: Path,
    router_port: Listener,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    site = site_file(tmp_path, router_port.port, router={"dialect": "1.3", "bgp": {"holdtime": 3, "keepalive": 1}})
    code = main(["deploy", "--state", str(SAMPLE), "--site", str(site)])
    assert code == 2
    assert "router.bgp.holdtime: holdtime 3: VyOS 1.3 takes 0 or 4-65535" in capsys.readouterr().err
    assert router_port.accepted == 0


# --- item 5: the venue firewall never silently replaces the router's own -------------------------------------


def venue_cluster() -> Cluster:
    c = cluster()
    venue = Pool(name="venue", addresses=["198.51.100.128/28"], scope="venue")  # type: ignore[list-item]
    return c.model_copy(update={"pools": [*c.pools, venue]})


def test_13_refuses_when_another_ruleset_is_attached_where_edgekit_attaches() -> None:
    running = [
        "set firewall name WAN_IN default-action 'drop'",
        "set interfaces ethernet eth0 firewall in name 'WAN_IN'",
    ]
    with pytest.raises(FirewallInTheWay, match=r"eth0 firewall in name holds the router's own ruleset 'WAN_IN'"):
        refuse_firewall_in_the_way(venue_cluster(), DIALECTS["1.3"], running)


def test_13_own_attachment_or_none_or_no_venue_pools_pass() -> None:
    own = ["set interfaces ethernet eth0 firewall in name 'EDGEKIT-VENUE-ONLY'"]
    refuse_firewall_in_the_way(venue_cluster(), DIALECTS["1.3"], own)
    refuse_firewall_in_the_way(venue_cluster(), DIALECTS["1.3"], ["set interfaces ethernet eth2 firewall in name 'X'"])
    wan = ["set interfaces ethernet eth0 firewall in name 'WAN_IN'"]
    refuse_firewall_in_the_way(cluster(), DIALECTS["1.3"], wan)  # no venue pools: no venue firewall


@pytest.mark.parametrize("version", ["1.4", "1.5"])
def test_14_refuses_a_rule_10_that_is_not_edgekits(version: str) -> None:
    running = [
        "set firewall ipv4 forward filter rule 10 action 'accept'",
        "set firewall ipv4 forward filter rule 10 description 'operator: allow mgmt'",
    ]
    with pytest.raises(FirewallInTheWay, match=r"firewall ipv4 forward filter rule 10 exists and is not edgekit's"):
        refuse_firewall_in_the_way(venue_cluster(), DIALECTS[version], running)
    with pytest.raises(FirewallInTheWay):  # no description at all: not edgekit's either
        refuse_firewall_in_the_way(venue_cluster(), DIALECTS[version], running[:1])


@pytest.mark.parametrize("version", ["1.4", "1.5"])
def test_14_edgekits_own_rule_10_and_other_rules_pass(version: str) -> None:
    own = [
        "set firewall ipv4 forward filter rule 10 action 'drop'",
        "set firewall ipv4 forward filter rule 10 description 'edgekit: venue pools only through wg0'",
        "set firewall ipv4 forward filter rule 20 action 'accept'",
    ]
    refuse_firewall_in_the_way(venue_cluster(), DIALECTS[version], own)
    refuse_firewall_in_the_way(venue_cluster(), DIALECTS[version], own[2:])


# --- router.venue_firewall: the rule's number, and 1.3's merge into the router's own ruleset ---------------------


def venue_with(**fw: object) -> Cluster:
    c = venue_cluster()
    assert c.router is not None
    return with_router(c, venue_firewall=c.router.venue_firewall.model_copy(update=fw))


def test_13_merge_puts_only_edgekits_rule_into_the_routers_ruleset() -> None:
    lines = render_router_config(venue_with(ruleset="WAN_IN"), DIALECTS["1.3"]).lines
    fw = [line for line in lines if "firewall" in line]
    assert "set firewall name WAN_IN rule 10 action 'drop'" in fw
    assert "set interfaces ethernet eth0 firewall in name 'WAN_IN'" in fw
    assert not any("EDGEKIT-VENUE-ONLY" in line or "default-action" in line for line in fw), fw


def test_13_merge_owns_only_its_rule_and_drops_its_own_ruleset() -> None:
    from checks.config_diff import diff
    from tasks.router.render import managed_scope

    c = venue_with(ruleset="WAN_IN")
    running = [
        "set firewall name WAN_IN default-action 'drop'",
        "set firewall name WAN_IN rule 20 action 'accept'",
        "set firewall name EDGEKIT-VENUE-ONLY default-action 'accept'",
        "set interfaces ethernet eth0 firewall in name 'WAN_IN'",
    ]
    change = diff(running, render_router_config(c, DIALECTS["1.3"]).lines, managed_scope(c, DIALECTS["1.3"]))
    assert "delete firewall name EDGEKIT-VENUE-ONLY" in change.commands
    assert not any("WAN_IN rule 20" in cmd or "WAN_IN default-action" in cmd for cmd in change.commands)
    refuse_firewall_in_the_way(c, DIALECTS["1.3"], running)  # WAN_IN is where the setting says


def test_13_merge_refuses_a_ruleset_the_router_lacks_and_a_foreign_rule_number() -> None:
    with pytest.raises(FirewallInTheWay, match=r"venue_firewall\.ruleset 'WAN_IN': the router has no such ruleset"):
        refuse_firewall_in_the_way(venue_with(ruleset="WAN_IN"), DIALECTS["1.3"], [])
    theirs = ["set firewall name WAN_IN rule 10 action 'accept'"]
    with pytest.raises(FirewallInTheWay, match=r"firewall name WAN_IN rule 10 exists and is not edgekit's"):
        refuse_firewall_in_the_way(venue_with(ruleset="WAN_IN"), DIALECTS["1.3"], theirs)
    refuse_firewall_in_the_way(venue_with(ruleset="WAN_IN", rule=15), DIALECTS["1.3"], theirs)


@pytest.mark.parametrize("version", ["1.4", "1.5"])
def test_14_rule_number_moves_edgekits_rule_and_ruleset_is_refused(version: str) -> None:
    c = venue_with(rule=5)
    lines = render_router_config(c, DIALECTS[version]).lines
    assert "set firewall ipv4 forward filter rule 5 action 'drop'" in lines
    theirs = ["set firewall ipv4 forward filter rule 10 action 'accept'"]
    refuse_firewall_in_the_way(c, DIALECTS[version], theirs)  # rule 10 is the router's, edgekit's is 5
    merged = venue_with(ruleset="WAN_IN")
    assert merged.router is not None
    explicit = with_router(merged, dialect=version)
    with pytest.raises(InputError, match=r"^clusters\.prd\.router\.venue_firewall\.ruleset: 'WAN_IN': VyOS"):
        render_router_config(explicit, DIALECTS[version])  # router.dialect set: before connecting
    render_router_config(merged, DIALECTS[version])  # `auto`: the input check's guess (1.4) does not refuse it
    with pytest.raises(InputError, match=r"venue_firewall\.ruleset: 'WAN_IN': VyOS"):
        refuse_firewall_in_the_way(merged, DIALECTS[version], [])  # the plan does, once the router said 1.4+


def test_venue_firewall_from_the_site_file_is_validated_naming_the_path(tmp_path: Path) -> None:
    from inventory.build import InventorySources, load

    site = site_file(tmp_path, 22, router={"venue_firewall": {"ruleset": "WAN IN"}})
    with pytest.raises(InputError, match=r"clusters\.prd\.router\.venue_firewall\.ruleset"):
        load(InventorySources(states=[str(SAMPLE)], site=str(site)))
    site = site_file(tmp_path, 22, router={"venue_firewall": {"ruleset": "WAN_IN", "rule": 7}})
    router = load(InventorySources(states=[str(SAMPLE)], site=str(site))).site.clusters["prd"].router
    assert router is not None and router.venue_firewall.ruleset == "WAN_IN" and router.venue_firewall.rule == 7
