"""A BGP password of every character the site file allows (issue 22 item 4) goes through vbash, the router's config
and FRR, and through MetalLB's side, unchanged: TCP MD5 between the router and the speakers (the kernel checks
it) only lets the sessions up when both ends hold exactly the same password.

The site file allows 1-80 printable ASCII characters except ' ? " \\ (tasks/router/values.py): 90 characters, more
than one password holds, so prd (VyOS 1.4, MetalLB CRDs: the password in a basic-auth Secret) gets the first 80
and dev (VyOS 1.3, MetalLB's legacy ConfigMap: the value itself) the last 80. `metallb deploy` writes MetalLB's
end, `router deploy` the router's; its gate waits for every session Established.

Last (item 5): a 1.3 router whose own ruleset sits on `interfaces ethernet eth0 firewall in name` (one value there)
is refused by `deploy`, which changes nothing on it, instead of detaching the ruleset for edgekit's; with
`router.venue_firewall.ruleset` naming that ruleset, edgekit adds its rule to it and the venue service is still
refused from upstream while the router's own ruleset keeps its default action.
"""

from __future__ import annotations

import json
import string
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from tests.lab.helpers import host_vtysh, lab_site, own_lab, router_cli, router_running, wait_until, write_site
from tests.lab.labrun import LabRun

pytestmark = pytest.mark.lab

ALLOWED = "".join(ch for ch in string.printable if 0x21 <= ord(ch) <= 0x7E and ch not in "'?\"\\")
PASSWORDS = {"prd": ALLOWED[:80], "dev": ALLOWED[-80:]}
POOLS = {"prd": "198.51.100.0/28", "dev": "198.51.100.16/28"}
SITE = "site-password.yaml"


@pytest.fixture(scope="module")
def lab() -> Iterator[LabRun]:
    with own_lab(
        "ektpw", "--clusters", "prd,dev", "--metallb", "prd=none,dev=configmap", "--vyos", "prd=1.4,dev=1.3"
    ) as run:
        site = lab_site(run)
        for cluster, password in PASSWORDS.items():
            secret = run.state_dir / f"bgp-password-{cluster}"
            secret.write_text(password)
            secret.chmod(0o600)
            c = site["clusters"][cluster]
            c.setdefault("router", {}).setdefault("bgp", {})["password"] = {"file": str(secret)}
            c["metallb"] = {"pools": [{"name": "global-ip", "addresses": [POOLS[cluster]]}]}
        # dev (1.3) also gets a venue pool: edgekit's EDGEKIT-VENUE-ONLY on eth0/eth1 (the last test)
        site["clusters"]["dev"]["metallb"]["pools"].append(
            {"name": "venue-ip", "addresses": ["198.51.100.144/28"], "scope": "venue"}
        )
        write_site(run, SITE, site)
        yield run


def edgekit(lab: LabRun, module: str, *args: str) -> tuple[int, dict[str, Any], str]:
    return lab.edgekit_json(*args, "--site", str(lab.state_dir / SITE), module=module)


@pytest.fixture(scope="module")
def deployed(lab: LabRun) -> dict[str, Any]:
    code, _, out = edgekit(lab, "tasks.metallb", "deploy", "--force-conflicts")
    assert code == 0, out
    code, report, out = edgekit(lab, "tasks.router", "deploy")
    assert code == 0, out
    return report


def test_the_passwords_cover_every_allowed_character() -> None:
    assert set(PASSWORDS["prd"]) | set(PASSWORDS["dev"]) == set(ALLOWED)
    assert all(len(p) == 80 for p in PASSWORDS.values())


def test_deploy_passes_its_gate_and_never_prints_the_password(deployed: dict[str, Any]) -> None:
    hosts = {h["cluster"]: h for h in deployed["hosts"]}
    assert hosts["prd"]["dialect"] == "1.4" and hosts["dev"]["dialect"] == "1.3"
    for cluster, host in hosts.items():
        assert host["status"] == "changed", host
        assert any(" password '********'" in c for c in host["commands"])
        assert PASSWORDS[cluster] not in json.dumps(deployed)


@pytest.mark.parametrize("cluster", ["prd", "dev"])
def test_the_router_committed_exactly_the_password(lab: LabRun, deployed: dict[str, Any], cluster: str) -> None:
    password = PASSWORDS[cluster]
    lines = [line for line in router_running(lab, cluster) if " password " in line and "neighbor" in line]
    assert len(lines) == 3, lines
    # `show configuration commands` single-quotes the value; none of the allowed characters is escaped
    assert all(line.endswith(f" password '{password}'") for line in lines), lines
    frr = host_vtysh(lab, f"{cluster}-router", "show running-config")
    assert frr.count(f" password {password}\n") == 3, frr


@pytest.mark.parametrize("cluster", ["prd", "dev"])
def test_metallbs_speakers_hold_the_same_password_and_are_established(
    lab: LabRun, deployed: dict[str, Any], cluster: str
) -> None:
    password = PASSWORDS[cluster]
    router = lab.router_address(cluster)  # the speakers peer the router's public address (proxy-ARP layout)
    nodes = sorted(h["name"] for h in lab.status() if h["name"].startswith(f"{cluster}-node"))
    assert len(nodes) == 3, nodes
    for node in nodes:
        running = host_vtysh(lab, node, "show running-config")
        assert f"neighbor {router} password {password}\n" in running, running

        def established(node: str = node) -> bool:
            data = json.loads(host_vtysh(lab, node, f"show bgp neighbors {router} json") or "{}")
            return data.get(router, {}).get("bgpState") == "Established"

        wait_until(established, 60, f"{node}'s session with the router Established")


@pytest.mark.parametrize("cluster", ["prd", "dev"])
def test_a_second_deploy_changes_nothing(lab: LabRun, deployed: dict[str, Any], cluster: str) -> None:
    code, report, out = edgekit(lab, "tasks.router", "plan", "--cluster", cluster)
    assert code == 0, out
    assert [h["status"] for h in report["hosts"]] == ["unchanged"], out


def neighbor(lab: LabRun, cluster: str) -> tuple[str, str]:
    """(the BGP path of the router's dialect, one neighbor's address) from its running config."""
    line = next(line for line in router_running(lab, cluster) if " password " in line)
    words = line.split()
    at = words.index("neighbor")
    return " ".join(words[1:at]), words[at + 1]


def test_the_lab_14_router_refuses_whitespace_at_commit_as_vyos_does(lab: LabRun, deployed: dict[str, Any]) -> None:
    bgp, peer = neighbor(lab, "prd")
    out = router_cli(lab, "prd", "configure", f"set {bgp} neighbor {peer} password 'two words'", "commit", "discard")
    assert "Whitespace is not allowed in passwords!" in out, out


def test_the_lab_13_router_refuses_81_characters_at_set_as_vyos_does(lab: LabRun, deployed: dict[str, Any]) -> None:
    bgp, peer = neighbor(lab, "dev")
    out = router_cli(lab, "dev", "configure", f"set {bgp} neighbor {peer} password '{'x' * 81}'", "discard")
    assert "Password must be 80 characters or less" in out, out


@pytest.mark.parametrize("cluster", ["prd", "dev"])
def test_the_lab_shell_eats_a_question_mark_and_continues_an_open_quote(
    lab: LabRun, deployed: dict[str, Any], cluster: str
) -> None:
    out = router_cli(
        lab, cluster, "configure", "set interfaces ethernet eth1 description 'k8s?nodes'", "compare", "discard"
    )
    compared = out.split("compare", 1)[1]
    assert "k8snodes" in compared and "k8s?nodes" not in compared, out
    # an open quote: bash reads on at PS2 ("> "); the next line closes the word
    out = router_cli(lab, cluster, "configure", "set interfaces ethernet eth1 description 'open", "closed'", "discard")
    assert "# > " in out, out  # the config prompt, then PS2 (no echo of the typed lines)
    assert "Set failed" in out, out  # a description with a newline in it: refused (one command, two lines)


def traffic(lab: LabRun, ip: str, n: int, side: str) -> dict[str, int]:
    """Connections to a service IP from the internet side or the venue, counted per answering node."""
    proc = lab.lab("traffic", ip, "-n", str(n), "--from", side, "--json", timeout=n * 3 + 20)
    return dict(json.loads(proc.stdout))


VENUE_SERVICE = "198.51.100.145"  # dev's venue-scoped service (the lab's `scores`)


def test_13_router_with_its_own_ruleset_where_edgekit_attaches_is_refused_then_merged_by_the_setting(
    lab: LabRun, deployed: dict[str, Any]
) -> None:
    mine = "set interfaces ethernet eth0 firewall in name 'EDGEKIT-VENUE-ONLY'"
    assert mine in router_running(lab, "dev")
    wan_in = "set interfaces ethernet eth0 firewall in name 'WAN_IN'"
    try:
        out = router_cli(
            lab, "dev", "configure", "set firewall name WAN_IN default-action 'accept'", wan_in, "commit", "save"
        )
        before = router_running(lab, "dev")
        assert wan_in in before and mine not in before, out  # one ruleset per direction: WAN_IN replaced edgekit's
        code, report, out = edgekit(lab, "tasks.router", "deploy", "--cluster", "dev")
        assert code == 1, out
        [host] = report["hosts"]
        assert host["status"] == "failed", host
        assert "eth0 firewall in name holds the router's own ruleset 'WAN_IN'" in host["error"], host
        assert router_running(lab, "dev") == before  # nothing committed

        # the explicit setting: edgekit's rule goes into WAN_IN
        site = yaml.safe_load((lab.state_dir / SITE).read_text())
        site["clusters"]["dev"]["router"]["venue_firewall"] = {"ruleset": "WAN_IN"}
        merged = write_site(lab, "site-merge.yaml", site)
        code, report, out = lab.edgekit_json("deploy", "--cluster", "dev", "--site", str(merged))
        assert code == 0, out
        after = router_running(lab, "dev")
        assert "set firewall name WAN_IN rule 10 action 'drop'" in after, after
        assert "set firewall name WAN_IN default-action 'accept'" in after  # the router's, untouched
        assert not any("EDGEKIT-VENUE-ONLY" in line for line in after), after
        assert wan_in in after and "set interfaces ethernet eth1 firewall in name 'WAN_IN'" in after
        assert set(traffic(lab, VENUE_SERVICE, 3, "upstream")) == {"(error)"}  # the venue rule filters
        code, report, out = lab.edgekit_json("plan", "--cluster", "dev", "--site", str(merged))
        assert code == 0 and [h["status"] for h in report["hosts"]] == ["unchanged"], out
    finally:
        router_cli(
            lab,
            "dev",
            "configure",
            "delete interfaces ethernet eth0 firewall",
            "delete interfaces ethernet eth1 firewall",
            "delete firewall name WAN_IN",
            "commit",
            "save",
        )
    code, report, out = edgekit(lab, "tasks.router", "deploy", "--cluster", "dev")
    assert code == 0, out
    assert mine in router_running(lab, "dev")
