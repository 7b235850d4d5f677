"""The NAPALM driver's getters on captured output: FRR 7 to 10, VyOS 1.3 to 1.5.

Every implemented getter is checked with ``napalm.base.test.helpers.test_model`` against ``napalm.base.models``
on every fixture of its command (the lists below), the way NAPALM's own driver test suite does it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from napalm.base import models
from napalm.base.exceptions import CommandErrorException
from napalm.base.test.helpers import test_model as conforms

from checks.parsers import ParseError, bgp_prefix, bgp_summary, route
from napalm_edgekit_vyos import getters
from napalm_edgekit_vyos.connection import ERROR_MARKERS, CommandError
from napalm_edgekit_vyos.driver import VyOSDriver
from tests.conftest import FIXTURES
from tests.unit.fixture_text import load

OUT = FIXTURES / "outputs"
FRR7 = FIXTURES / "parsers" / "frr7"
VYOS = FIXTURES / "parsers" / "vyos"
DOC = FIXTURES / "parsers" / "frr-doc"
FRR84 = FIXTURES / "parsers" / "frr84"


def text(path: Path) -> str:
    """A fixture's show output: without its '## source' header where it has one."""
    return load(path) if path.read_text().startswith("## ") else path.read_text()


SHOW_INTERFACES = sorted(VYOS.glob("show_interfaces-*.txt"))
SHOW_VERSION = sorted(VYOS.glob("show_version-*.txt"))
SHOW_UPTIME = sorted(VYOS.glob("show_system_uptime-*.txt"))
SHOW_ARP = sorted(VYOS.glob("show_arp-*.txt"))
SUMMARIES = [
    OUT / "frr-r1-show_ip_bgp_summary.txt",
    *sorted(FRR84.glob("*bgp_summary*.txt")),
    *sorted(FRR7.glob("*.txt")),
    *[p for p in sorted(DOC.glob("*.txt")) if "summary" in p.name or "policy" in p.name or "version" in p.name],
]
ROUTES = [OUT / "frr-r1-show_ip_route_198.51.100.10.txt", *sorted(FRR84.glob("r1-ip_route_*.txt"))]
ROUTES.append(FIXTURES / "parsers" / "lab" / "show_ip_route_recursive_onlink.txt")


def name(path: Path) -> str:
    return path.name


def test_bgp_neighbors_frr8() -> None:
    result = getters.bgp_neighbors_from_text((OUT / "frr-r1-show_ip_bgp_summary.txt").read_text())
    assert result["global"]["router_id"] == "10.77.0.1"
    peers = result["global"]["peers"]
    assert sorted(peers) == ["10.77.0.11", "10.77.0.12", "10.77.0.13"]
    peer = peers["10.77.0.11"]
    assert (peer["local_as"], peer["remote_as"], peer["is_up"], peer["uptime"]) == (65020, 65021, True, 11)
    assert peer["address_family"]["ipv4"] == {"received_prefixes": 1, "accepted_prefixes": 1, "sent_prefixes": 1}


def test_bgp_neighbors_frr7_has_no_sent_column() -> None:
    result = getters.bgp_neighbors_from_text((FRR7 / "ntc-templates-vyos13.txt").read_text())
    peers = result["global"]["peers"]
    assert peers, "no peers parsed from the FRR 7 layout"
    assert all(p["address_family"]["ipv4"]["sent_prefixes"] == -1 for p in peers.values())


def test_down_peer_is_not_up_and_has_no_uptime() -> None:
    summary = (FIXTURES / "parsers" / "frr84" / "r1-ip_bgp_summary.txt").read_text()
    peers = getters.bgp_neighbors_from_text(summary)["global"]["peers"]
    down = [p for p in peers.values() if not p["is_up"]]
    assert down and all(p["uptime"] == -1 and p["address_family"]["ipv4"]["received_prefixes"] == -1 for p in down)
    assert any(not p["is_enabled"] for p in down)  # the Idle (Admin) one


def test_route_to_lists_every_ecmp_next_hop() -> None:
    result = getters.route_to_from_text((OUT / "frr-r1-show_ip_route_198.51.100.10.txt").read_text())
    hops = result["198.51.100.10/32"]
    assert [h["next_hop"] for h in hops] == ["10.77.0.11", "10.77.0.12", "10.77.0.13"]
    assert all(h["protocol"] == "bgp" and h["preference"] == 20 and h["current_active"] for h in hops)
    assert getters.route_to_from_text((OUT / "frr-r1-show_ip_route_198.51.100.10.txt").read_text(), "static") == {}


def test_interfaces_ip_and_facts_from_vyos_show_interfaces() -> None:
    text = (VYOS / "show_interfaces-14-rendered.txt").read_text()
    ips = getters.interfaces_ip(text)
    assert ips["eth1"]["ipv4"] == {"192.168.100.1": {"prefix_length": 24}, "198.51.100.1": {"prefix_length": 32}}
    assert ips["eth3"]["ipv6"] == {"2001:db8:ffff:1234:5678:9abc:def0:1": {"prefix_length": 64}}
    assert "eth2" not in ips  # no address
    facts = getters.facts("Version:          VyOS 1.4.0\nHardware model:   KVM\n", text, "r1", "Uptime: 5m 3s\n")
    assert facts["vendor"] == "VyOS" and facts["os_version"] == "1.4.0" and facts["model"] == "KVM"
    assert facts["interface_list"] == ["eth0", "eth1", "eth2", "eth3", "lo", "wg0"] and facts["uptime"] == 303.0


@pytest.mark.parametrize(
    ("text", "seconds"), [("00:01:05", 65), ("1d02h03m", 93780), ("01w2d03h", 788400), ("never", -1)]
)
def test_frr_uptime_formats(text: str, seconds: int) -> None:
    assert getters.uptime_seconds(text) == seconds


def test_route_to_folds_recursive_next_hops_into_one_each() -> None:
    # Captured from the lab router (FRR 8.4) with disable-connected-check: each BGP next hop is
    # "(recursive)" and resolved onlink through eth1 on the line below it.
    text = (FIXTURES / "parsers" / "lab" / "show_ip_route_recursive_onlink.txt").read_text()
    hops = getters.route_to_from_text(text)["198.51.100.1/32"]
    assert [(h["next_hop"], h["outgoing_interface"], h["selected_next_hop"]) for h in hops] == [
        ("203.0.113.11", "eth1", True),
        ("203.0.113.12", "eth1", True),
        ("203.0.113.13", "eth1", True),
    ]


# --- test_model on every fixture ---------------------------------------------------------------------------


@pytest.mark.parametrize("version", SHOW_VERSION, ids=name)
@pytest.mark.parametrize("uptime", SHOW_UPTIME, ids=name)
def test_facts_conform_on_every_version_and_uptime_layout(version: Path, uptime: Path) -> None:
    facts = getters.facts(text(version), text(SHOW_INTERFACES[0]), "r1", text(uptime))
    assert conforms(models.FactsDict, facts)
    assert facts["uptime"] > 0 and facts["os_version"] and facts["model"]


def test_facts_empty_serial_is_empty_not_the_next_line() -> None:
    for path in SHOW_VERSION:
        facts = getters.facts(text(path), text(SHOW_INTERFACES[0]), "r1")
        assert "UUID" not in facts["serial_number"] and "Hardware" not in facts["serial_number"]
    vm = getters.facts(text(VYOS / "show_version-15-doc-secure-boot.txt"), text(SHOW_INTERFACES[0]), "r1")
    assert (vm["serial_number"], vm["os_version"], vm["uptime"]) == ("", "1.5-secureboot", -1.0)
    vmware = getters.facts(text(VYOS / "show_version-13-doc-vmware.txt"), text(SHOW_INTERFACES[0]), "r1")
    assert vmware["serial_number"] == "VMware-42 33 79 fe 73 64 2d 62-d5 62 ab 99 5a 3e d9 6d"


def test_uptime_of_both_layouts() -> None:
    assert getters.facts(text(SHOW_VERSION[0]), text(SHOW_INTERFACES[0]), "r", text(SHOW_UPTIME[0]))["uptime"] == 660.0
    rendered = text(VYOS / "show_system_uptime-14-rendered.txt")
    assert getters.facts(text(SHOW_VERSION[0]), text(SHOW_INTERFACES[0]), "r", rendered)["uptime"] == 1036365.0


@pytest.mark.parametrize("path", SHOW_INTERFACES, ids=name)
def test_interfaces_and_interfaces_ip_conform(path: Path) -> None:
    detail = getters.interfaces_detail(text(path))
    assert detail and all(conforms(models.InterfaceDict, value) for value in detail.values())
    for families in getters.interfaces_ip(text(path)).values():
        assert set(families) <= {"ipv4", "ipv6"}
        assert all(conforms(models.InterfacesIPDictEntry, e) for f in families.values() for e in f.values())


def test_interfaces_1_4_layout_has_mac_and_mtu_1_3_has_unknowns() -> None:
    gowin = getters.interfaces_detail(text(VYOS / "show_interfaces-15-doc-gowin.txt"))
    assert gowin["eth0"] == {
        "is_up": False,
        "is_enabled": True,
        "description": "Intel I226-V - Front eth2",
        "last_flapped": -1.0,
        "speed": -1.0,
        "mtu": 1500,
        "mac_address": "00:F0:CB:00:00:99",
    }
    assert gowin["wwan0"]["is_enabled"] is False and gowin["lo"]["is_up"] is True
    old = getters.interfaces_detail(text(VYOS / "show_interfaces-ntc-templates.txt"))
    assert (old["eth0"]["mtu"], old["eth0"]["mac_address"], old["eth0"]["is_up"]) == (-1, "", True)


@pytest.mark.parametrize("path", SHOW_ARP, ids=name)
def test_arp_table_conforms_and_leaves_out_unresolved(path: Path) -> None:
    table = getters.arp_table(text(path))
    assert table and all(conforms(models.ARPTableDict, entry) for entry in table)
    assert all(entry["mac"] for entry in table)


def test_arp_table_entries() -> None:
    assert getters.arp_table(text(VYOS / "show_arp-13-ntc-templates.txt"))[0] == {
        "interface": "eth1.1230",
        "mac": "9C:8E:99:FA:15:0A",
        "ip": "10.123.254.20",
        "age": -1.0,
    }
    assert [e["ip"] for e in getters.arp_table(text(VYOS / "show_arp-14-rendered.txt"))] == [
        "192.168.100.50",
        "192.168.100.21",
    ]


@pytest.mark.parametrize("path", SUMMARIES, ids=name)
def test_bgp_neighbors_conform(path: Path) -> None:
    # as napalm.base.test.getters.test_get_bgp_neighbors does it (the TypedDicts with Dict[...] members
    # cannot be checked by test_model; PeerDict and AFDict are their flat twins)
    result = getters.bgp_neighbors_from_text(text(path))
    assert list(result) == ["global"] and isinstance(result["global"]["router_id"], str)
    assert set(result["global"]) == {"router_id", "peers"} and result["global"]["peers"]
    for peer in result["global"]["peers"].values():
        assert conforms(models.PeerDict, peer)
        assert peer["address_family"]
        assert all(conforms(models.AFDict, af) for af in peer["address_family"].values())


def test_bgp_neighbors_policy_row_is_up_with_its_prefixes() -> None:
    peers = getters.bgp_neighbors_from_text(text(DOC / "frr91-policy.txt"))["global"]["peers"]
    assert peers["192.168.0.2"]["is_up"] and peers["192.168.0.2"]["uptime"] == 189
    assert peers["192.168.0.2"]["address_family"] == {
        "ipv4": {"received_prefixes": 5, "accepted_prefixes": 5, "sent_prefixes": 0}
    }
    # FRR lists fe80:1::2222 in its IPv4 Unicast table (an IPv6 session carrying IPv4): that is its family
    assert list(peers["fe80:1::2222"]["address_family"]) == ["ipv4"]


def test_bgp_neighbors_each_family_under_its_own_key() -> None:
    peers = getters.bgp_neighbors_from_text(text(FRR84 / "r1-bgp_summary_families.txt"))["global"]["peers"]
    assert peers["10.77.1.11"]["address_family"] == {
        "ipv4": {"received_prefixes": 2, "accepted_prefixes": 2, "sent_prefixes": 0}
    }
    assert peers["2001:db8:1::11"]["address_family"] == {
        "ipv6": {"received_prefixes": 1, "accepted_prefixes": 1, "sent_prefixes": 1}
    }
    assert peers["2001:db8:1::11"]["description"] == "n1 over IPv6"


@pytest.mark.parametrize("path", ROUTES, ids=name)
def test_route_to_conforms(path: Path) -> None:
    result = getters.route_to_from_text(text(path))
    assert result and all(conforms(models.RouteDict, hop) for hops in result.values() for hop in hops)


def test_route_to_bgp_next_hops_carry_the_documented_attributes() -> None:
    entries = route.parse((FRR84 / "r1-ip_route_198.51.100.10_32.txt").read_text())
    paths = {"198.51.100.10/32": bgp_prefix.parse((FRR84 / "r1-ip_bgp_198.51.100.10_32.txt").read_text())}
    summary = bgp_summary.parse((FRR84 / "r1-ip_bgp_summary.txt").read_text())
    hops = getters.route_to(entries, "", paths, summary)["198.51.100.10/32"]
    assert all(conforms(models.RouteDict, hop) for hop in hops)
    by_hop = {h["next_hop"]: h["protocol_attributes"] for h in hops}
    assert by_hop["10.77.1.11"] == {
        "local_as": 65020,
        "remote_as": 65021,
        "peer_id": "10.77.1.11",
        "remote_address": "10.77.1.11",
        "as_path": "65021",
        "communities": [],
        "local_preference": -1,
        "metric": 0,
    }
    assert by_hop["192.168.100.100"]["remote_as"] == 65021  # the dynamic neighbor, found without its "*"
    static = getters.route_to(route.parse((FRR84 / "r1-ip_route_10.99.0.0_16.txt").read_text()), "", paths, summary)
    assert [h["protocol_attributes"] for h in static["10.99.0.0/16"]] == [{"metric": 0}]


# --- the driver on a scripted connection ---------------------------------------------------------------------


class ScriptedConnection:
    """Answers each command from a dict, like EdgekitVyOSSSH does (check=True raises on VyOS's errors)."""

    def __init__(self, answers: dict[str, str], config_mode: bool = False) -> None:
        self.answers = answers
        self.in_config_mode = config_mode
        self.base_prompt = "vyos@r1"
        self.sent: list[str] = []

    def run(self, command: str, read_timeout: float = 30.0, check: bool = False) -> str:
        self.sent.append(command)
        output = self.answers.get(command.removeprefix("run "), f"\n  Invalid command: [{command}]\n")
        if check and any(marker in output for marker in ERROR_MARKERS):
            raise CommandError(command, output)
        return output

    def config_mode(self) -> str:
        self.in_config_mode = True
        return ""

    def exit_config_mode(self) -> str:
        self.in_config_mode = False
        return ""


def driver(answers: dict[str, str], config_mode: bool = False) -> tuple[VyOSDriver, ScriptedConnection]:
    conn = ScriptedConnection(answers, config_mode)
    d = VyOSDriver("r1", "vyos")
    d.device = conn  # type: ignore[assignment]
    return d, conn


def test_driver_facts_uptime_and_empty_serial() -> None:
    answers = {
        "show version": text(VYOS / "show_version-14-doc-empty-serial.txt"),
        "show interfaces": text(VYOS / "show_interfaces-15-doc-gowin.txt"),
        "show system uptime": text(VYOS / "show_system_uptime-14-rendered.txt"),
    }
    facts = driver(answers)[0].get_facts()
    assert conforms(models.FactsDict, facts)
    assert (facts["serial_number"], facts["uptime"], facts["hostname"]) == ("", 1036365.0, "r1")
    del answers["show system uptime"]  # a device without the command: NAPALM's "unknown"
    assert driver(answers)[0].get_facts()["uptime"] == -1.0


def test_driver_bgp_neighbors_reads_every_family() -> None:
    d, conn = driver({"show bgp summary": text(FRR84 / "r1-bgp_summary_families.txt")})
    peers = d.get_bgp_neighbors()["global"]["peers"]
    assert conn.sent == ["show bgp summary"] and sorted(peers) == ["10.77.1.11", "2001:db8:1::11"]


def test_driver_route_to_asks_the_bgp_table_for_bgp_routes() -> None:
    d, conn = driver(
        {
            "show ip route 198.51.100.20": (FRR84 / "r1-ip_route_198.51.100.20_32.txt").read_text(),
            "show ip bgp 198.51.100.20/32": (FRR84 / "r1-ip_bgp_198.51.100.20_32.txt").read_text(),
            "show ip bgp summary": (FRR84 / "r1-ip_bgp_summary.txt").read_text(),
        }
    )
    hops = d.get_route_to("198.51.100.20")["198.51.100.20/32"]
    assert [(h["next_hop"], h["protocol_attributes"]["as_path"]) for h in hops] == [("10.77.1.11", "65021")]
    assert conn.sent[1:] == ["show ip bgp 198.51.100.20/32", "show ip bgp summary"]


def test_driver_interfaces_and_arp() -> None:
    d, _ = driver({"show interfaces": text(SHOW_INTERFACES[0]), "show arp": text(SHOW_ARP[0])})
    assert all(conforms(models.InterfaceDict, v) for v in d.get_interfaces().values())
    assert all(conforms(models.ARPTableDict, v) for v in d.get_arp_table())


def test_driver_get_config_candidate_in_config_mode_is_the_candidate() -> None:
    running = text(VYOS / "show_configuration_commands-14.txt")
    candidate = running + "set interfaces ethernet eth1 description 'pending'\n"
    answers = {"show configuration commands": running, "show | commands": candidate, "compare saved": ""}
    d, _ = driver(answers, config_mode=True)
    result: dict[str, Any] = d.get_config(retrieve="candidate")
    assert conforms(models.ConfigDict, result) and result["candidate"] == candidate


def test_driver_get_config_candidate_error_is_raised_not_returned() -> None:
    answers = {"show configuration commands": "set system host-name 'r1'\n", "compare saved": ""}
    answers["show | commands"] = "\n  Configuration path: [| commands] is not valid\n"
    d, _ = driver(answers, config_mode=True)
    with pytest.raises(CommandErrorException, match="is not valid"):
        d.get_config(retrieve="candidate")


def test_a_getter_on_output_it_cannot_read_raises_parse_error() -> None:
    d, _ = driver({"show interfaces": "Interface  IP\nsomething else\n"})
    with pytest.raises(ParseError, match="show interfaces"):
        d.get_interfaces()
