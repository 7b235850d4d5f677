"""The lab router's BFD and firewall subsets, both dialects, driven over SSH like a person at a terminal.

Namespaces (prefix ``ektbf`` + pid, or ``$EDGEKIT_TEST_NS`` + ``bf``): a 1.4 and a 1.3 router; one peer
wired to both that runs a real FRR (zebra, bgpd, bfdd) and holds the "service" addresses 198.51.100.10
(behind the 1.4 router) and 198.51.101.10 (behind the 1.3 router); one upstream host wired to both routers;
one venue per router that reaches the router through a WireGuard tunnel (wireguard-go) over its own link.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from lab.vyos import RouterSpec, start_router, stop_router
from lab.vyos.frr import stop_pid, stop_pidfile
from tests.lab.helpers import LAB_PASSWORD, Shell, del_netns, frr_peer, nsx, peer_vtysh, sh, veth, vtysh, wait_until

pytestmark = pytest.mark.lab

TAG = (os.environ.get("EDGEKIT_TEST_NS") or f"ekt{os.getpid() % 1000}")[:6] + "bf"
R14, R13, PEER, UP, VEN14, VEN13 = (f"{TAG}{x}" for x in ("a", "b", "p", "u", "v", "w"))
PASSWORD = LAB_PASSWORD


class Site:
    """One router's addresses: peer link, upstream link, venue underlay, tunnel, and the service behind it."""

    def __init__(self, n: int, version: str, ns: str, ven: str) -> None:
        self.version = version
        self.ns = ns
        self.ven = ven
        self.peer_link = (f"10.{n}.1.1", f"10.{n}.1.2")  # router eth1, peer
        self.up_link = (f"10.{n}.2.1", f"10.{n}.2.2")  # router eth2, upstream
        self.ven_link = (f"10.{n}.3.1", f"10.{n}.3.2")  # router eth3, venue underlay
        self.tunnel = (f"172.16.{n}.1", f"172.16.{n}.2")  # router wg0, venue wg
        self.service = "198.51.100.10" if version == "1.4" else "198.51.101.10"
        self.pool = "198.51.100.0/24" if version == "1.4" else "198.51.101.0/24"


S14 = Site(81, "1.4", R14, VEN14)
S13 = Site(82, "1.3", R13, VEN13)


def peer_bgpd(sites: list[Site]) -> str:
    out = "frr defaults traditional\nrouter bgp 65021\n bgp router-id 10.81.1.2\n no bgp ebgp-requires-policy\n"
    out += " timers bgp 1 3\n"
    for s in sites:
        out += f" neighbor {s.peer_link[0]} remote-as 65020\n neighbor {s.peer_link[0]} timers connect 1\n"
        out += f" neighbor {s.peer_link[0]} bfd\n"
    return out + "!\n"


def peer_bfdd(sites: list[Site]) -> str:
    out = "frr defaults traditional\nbfd\n"
    for s in sites:
        out += f" peer {s.peer_link[0]}\n  receive-interval 300\n  transmit-interval 300\n exit\n"
    return out + "exit\n!\n"


class Lab:
    def __init__(self, base: Path) -> None:
        self.base = base
        self.specs = {
            "1.4": RouterSpec(
                name="r14",
                netns=R14,
                state_dir=base / "r14",
                version="1.4",
                password=PASSWORD,
                boot_config=boot(S14),
            ),
            "1.3": RouterSpec(
                name="r13",
                netns=R13,
                state_dir=base / "r13",
                version="1.3",
                password=PASSWORD,
                boot_config=boot(S13),
            ),
        }
        self.peer_frr = base / "peer-frr"
        self.venue_pids: list[int] = []


def boot(s: Site) -> list[str]:
    return [
        f"set interfaces ethernet eth1 address '{s.peer_link[0]}/24'",
        f"set interfaces ethernet eth2 address '{s.up_link[0]}/24'",
        f"set interfaces ethernet eth3 address '{s.ven_link[0]}/24'",
        "set system config-management commit-revisions '100'",
        f"set protocols static route {s.pool} next-hop {s.peer_link[1]}",
    ]


def start_venue_wireguard(ns: str) -> int:
    """wireguard-go in ``ns`` with a private /run (its control socket is machine-wide otherwise), as the
    lab topology starts its venue; returns its PID."""
    p = subprocess.Popen(
        [
            "ip",
            "netns",
            "exec",
            ns,
            "unshare",
            "-m",
            "--propagation",
            "private",
            "sh",
            "-c",
            "mount -t tmpfs -o mode=0755 lab-run /run && exec wireguard-go -f wg0",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=dict(os.environ, LOG_LEVEL="error"),
        start_new_session=True,
    )
    wait_for(lambda: Path(f"/proc/{p.pid}/root/run/wireguard/wg0.sock").exists() or p.poll() is not None)
    assert p.poll() is None, "venue wireguard-go did not start"
    return p.pid


def venue_wg(pid: int, *args: str, input: str | None = None) -> str:
    return sh("nsenter", "-t", str(pid), "-m", "-n", "wg", *args, input=input)


@pytest.fixture(scope="module")
def lab(request: pytest.FixtureRequest) -> Iterator[Lab]:
    base = Path(tempfile.mkdtemp(prefix=f"{TAG}-", dir="/tmp"))
    os.chmod(base, 0o755)
    lab = Lab(base)

    def teardown() -> None:
        for spec in lab.specs.values():
            stop_router(spec.state_dir)
        for f in (lab.peer_frr / "run").glob("*.pid"):
            stop_pidfile(f)
        for pid in lab.venue_pids:
            stop_pid(pid)
        for ns in (R14, R13, PEER, UP, VEN14, VEN13):
            del_netns(ns)
        shutil.rmtree(base, ignore_errors=True)

    request.addfinalizer(teardown)
    for ns in (R14, R13, PEER, UP, VEN14, VEN13):
        sh("ip", "netns", "add", ns)
        nsx(ns, "ip", "link", "set", "lo", "up")
    for i, s in enumerate((S14, S13)):
        veth(s.ns, "eth1", PEER, f"eth{i}", f"{TAG}p{i}a", f"{TAG}p{i}b")
        veth(s.ns, "eth2", UP, f"eth{i}", f"{TAG}u{i}a", f"{TAG}u{i}b")
        veth(s.ns, "eth3", s.ven, "eth0", f"{TAG}v{i}a", f"{TAG}v{i}b")
        nsx(PEER, "ip", "addr", "add", f"{s.peer_link[1]}/24", "dev", f"eth{i}")
        nsx(PEER, "ip", "addr", "add", f"{s.service}/32", "dev", "lo")
        nsx(UP, "ip", "addr", "add", f"{s.up_link[1]}/24", "dev", f"eth{i}")
        nsx(UP, "ip", "route", "add", s.pool, "via", s.up_link[0])
        nsx(UP, "ip", "route", "add", f"{s.peer_link[0].rsplit('.', 1)[0]}.0/24", "via", s.up_link[0])
        nsx(s.ven, "ip", "addr", "add", f"{s.ven_link[1]}/24", "dev", "eth0")
        # the peer answers the upstream host and the venue's tunnel address through the router
        for net in (f"10.{s.up_link[0].split('.')[1]}.2.0/24", f"{s.tunnel[0].rsplit('.', 1)[0]}.0/24"):
            nsx(PEER, "ip", "route", "add", net, "via", s.peer_link[0])
    frr_peer(PEER, lab.peer_frr, peer_bgpd([S14, S13]), peer_bfdd([S14, S13]))
    for spec in lab.specs.values():
        start_router(spec)
    yield lab


# ---------------------------------------------------------------- a person at a terminal


def shell(s: Site) -> Shell:
    return Shell(s.up_link[0], UP)


def wait_for(fn: Callable[[], object], timeout: float = 20.0) -> object:
    return wait_until(fn, timeout, interval=0.1)


def router_vtysh(lab: Lab, s: Site, cmd: str) -> str:
    return vtysh(lab.specs[s.version].state_dir / "frr", cmd, timeout=60)


# ---------------------------------------------------------------- BFD


def bgp_prefix(s: Site) -> str:
    return "set protocols bgp" if s.version == "1.4" else "set protocols bgp 65020"


def peer_up(c: Shell, s: Site) -> bool:
    out = c.cmd(f"show bfd peer {s.peer_link[1]}")
    return f"peer {s.peer_link[1]} " in out and "Status: up" in out


def peer_down(c: Shell, s: Site) -> bool:
    return "Status: down" in c.cmd(f"show bfd peer {s.peer_link[1]}")


def block_bfd_at_peer(on: bool) -> None:
    """Drop BFD control packets (UDP 3784) at the peer: the sessions fail while the links stay up."""
    if on:
        nsx(PEER, "nft", "add table ip ekblock")
        nsx(PEER, "nft", "add chain ip ekblock in { type filter hook input priority 0 ; }")
        nsx(PEER, "nft", "add rule ip ekblock in udp dport 3784 drop")
    else:
        nsx(PEER, "nft", "delete table ip ekblock")


def check_bfd_op_mode(c: Shell, s: Site) -> None:
    """show-bfd.xml.in: the tree, its vtysh commands, and what it does not have."""
    peers = c.cmd("show bfd peers")
    assert "BFD Peers:" in peers and f"peer {s.peer_link[1]}" in peers
    # The session may still be settling: on 1.3 the commit just before re-sent every BFD peer (its template
    # answers any change under `protocols bfd` with `no peer` + `peer`), so an `up` read a moment ago can pass
    # through down/init once more before it stays up (the peer's bfdd then signals session down). Wait
    # (bounded) for the brief form to show it up.
    def brief_up() -> str:
        brief = c.cmd("show bfd peers brief")
        return brief if " up" in brief else ""

    brief = str(wait_for(brief_up))
    assert "Session count:" in brief and s.peer_link[1] in brief
    assert "Incomplete command: show bfd" in c.cmd("show bfd")
    assert "Incomplete command: show bfd peer" in c.cmd("show bfd peer")
    assert "Invalid command: show bfd peers [json]" in c.cmd("show bfd peers json")
    assert "Control packet input:" in c.cmd(f"show bfd peer {s.peer_link[1]} counters")
    assert c.cmd("show bfd peer 192.0.2.99").strip() == ""
    # VyOS's users are in group frrvty: vtysh runs from the op-mode shell, against the router's own bfdd
    # (bounded wait again: the same settling session can be read down here; what is checked is that the JSON
    # comes from the router's own bfdd and lists the peer up)
    def json_up() -> list[dict[str, object]]:
        data = json.loads(c.cmd("vtysh -c 'show bfd peers json'"))
        return data if any(p["peer"] == s.peer_link[1] and p["status"] == "up" for p in data) else []

    assert wait_for(json_up)


def test_bfd_14(lab: Lab) -> None:
    s = S14
    c = shell(s)
    try:
        c.cmd("configure")
        c.config(
            [
                "set protocols bfd profile fast interval receive '300'",
                "set protocols bfd profile fast interval transmit '300'",
                "set protocols bfd profile fast interval multiplier '3'",
                f"set protocols bfd peer {s.peer_link[1]} profile 'nope'",
                f"set protocols bfd peer {s.peer_link[1]} source address '{s.peer_link[0]}'",
                "set protocols bgp system-as '65020'",
                f"set protocols bgp neighbor {s.peer_link[1]} remote-as '65021'",
                f"set protocols bgp neighbor {s.peer_link[1]} timers connect '1'",
                f"set protocols bgp neighbor {s.peer_link[1]} bfd profile 'fast'",
            ]
        )
        out = c.cmd("commit")
        assert 'BFD profile "nope" does not exist!' in out and "Commit failed" in out
        c.config([f"set protocols bfd peer {s.peer_link[1]} profile 'fast'"])
        assert c.cmd("commit").strip() == "[edit]"
        frr = router_vtysh(lab, s, "show running-config")
        assert f"peer {s.peer_link[1]} local-address {s.peer_link[0]}" in frr and " profile fast" in frr
        assert f"neighbor {s.peer_link[1]} bfd profile fast" in frr
        # 1.3's syntax is not 1.4's
        assert "Set failed" in c.cmd("set protocols bfd peer 10.9.9.9 interval echo-interval 10")
        c.cmd("exit discard")
        wait_for(lambda: peer_up(c, s))
        check_bfd_op_mode(c, s)
        # a real failure: the peer stops answering, the router's bfdd sees it
        block_bfd_at_peer(True)
        try:
            wait_for(lambda: peer_down(c, s), timeout=10)
        finally:
            block_bfd_at_peer(False)
        wait_for(lambda: peer_up(c, s))
        # removing it leaves nothing in FRR
        c.cmd("configure")
        c.config(["delete protocols bfd", f"delete protocols bgp neighbor {s.peer_link[1]} bfd"])
        assert c.cmd("commit").strip() == "[edit]"
        c.cmd("exit")
        frr = router_vtysh(lab, s, "show running-config")
        assert "\nbfd" not in frr and " bfd" not in frr and "profile fast" not in frr
        assert f"peer {s.peer_link[1]}" not in c.cmd("show bfd peers")
        # 1.4: `neighbor X bfd` alone is enough, bgpd asks bfdd for the session
        c.cmd("configure")
        c.config([f"set protocols bgp neighbor {s.peer_link[1]} bfd"])
        assert c.cmd("commit").strip() == "[edit]"
        c.cmd("exit")
        wait_for(lambda: peer_up(c, s))
        c.cmd("configure")
        c.config([f"delete protocols bgp neighbor {s.peer_link[1]} bfd"])
        assert c.cmd("commit").strip() == "[edit]"
        c.cmd("exit")
        wait_for(lambda: f"peer {s.peer_link[1]}" not in c.cmd("show bfd peers"))
    finally:
        c.close()


def test_bfd_13(lab: Lab) -> None:
    s = S13
    c = shell(s)
    try:
        c.cmd("configure")
        assert "Set failed" in c.cmd("set protocols bfd profile fast interval receive '300'")
        assert "Set failed" in c.cmd(f"set protocols bgp 65020 neighbor {s.peer_link[1]} bfd profile 'fast'")
        c.config(
            [
                f"set protocols bgp 65020 neighbor {s.peer_link[1]} remote-as '65021'",
                f"set protocols bgp 65020 neighbor {s.peer_link[1]} timers connect '1'",
                f"set protocols bgp 65020 neighbor {s.peer_link[1]} bfd",
            ]
        )
        out = c.cmd("commit")
        assert "BFD peer need to be configured for using BFD protocol" in out and "Commit failed" in out
        c.config(
            [
                f"set protocols bfd peer {s.peer_link[1]} interval receive '300'",
                f"set protocols bfd peer {s.peer_link[1]} interval transmit '300'",
                f"set protocols bfd peer {s.peer_link[1]} interval multiplier '3'",
            ]
        )
        assert c.cmd("commit").strip() == "[edit]"
        assert f"set protocols bfd peer {s.peer_link[1]} interval multiplier '3'" in c.cmd(
            "run show configuration commands"
        )
        frr = router_vtysh(lab, s, "show running-config")
        assert f"neighbor {s.peer_link[1]} bfd" in frr and f" peer {s.peer_link[1]}" in frr
        # 1.3 protocols_bfd.py: a peer that BGP uses cannot go alone
        c.config([f"delete protocols bfd peer {s.peer_link[1]}"])
        out = c.cmd("commit")
        assert f"Cannot delete BFD peer {s.peer_link[1]}: it is used in BGP configuration" in out
        c.cmd("discard")
        c.cmd("exit")
        wait_for(lambda: peer_up(c, s))
        check_bfd_op_mode(c, s)
        assert "Invalid command: show bfd [static]" in c.cmd("show bfd static routes")
        c.cmd("configure")
        c.config([f"delete protocols bgp 65020 neighbor {s.peer_link[1]} bfd", "delete protocols bfd"])
        assert c.cmd("commit").strip() == "[edit]"
        c.cmd("exit")
        frr = router_vtysh(lab, s, "show running-config")
        assert "\nbfd" not in frr and " bfd" not in frr
        assert f"peer {s.peer_link[1]}" not in c.cmd("show bfd peers")
    finally:
        c.close()


def test_peer_sees_both_sessions_up_from_its_side(lab: Lab) -> None:
    """The other end is a plain FRR bfdd: its view agrees with the router's while a router holds a peer."""
    s = S14
    c = shell(s)
    try:
        c.cmd("configure")
        c.config([f"set protocols bfd peer {s.peer_link[1]} interval multiplier '5'"])
        assert c.cmd("commit").strip() == "[edit]"
        assert "Detect-multiplier: 5" in c.cmd(f"run show bfd peer {s.peer_link[1]}")

        def remote_multiplier_5() -> bool:
            out = peer_vtysh(lab.peer_frr, f"show bfd peer {s.peer_link[0]}")
            return "Status: up" in out and re.search(r"Remote timers:\s+Detect-multiplier: 5", out) is not None

        wait_for(remote_multiplier_5)
        c.config(["delete protocols bfd"])
        assert c.cmd("commit").strip() == "[edit]"
        c.cmd("exit")
    finally:
        c.close()


# ---------------------------------------------------------------- firewall


def ping(ns: str, dst: str, src: str | None = None) -> bool:
    """One real ICMP echo from ``ns`` (answered or not within 1 s)."""
    args = ["ip", "netns", "exec", ns, "ping", "-n", "-q", "-c", "1", "-W", "1"]
    args += ["-I", src] if src else []
    return subprocess.run([*args, dst], capture_output=True, timeout=10).returncode == 0


def tunnel_up(lab: Lab, c: Shell, s: Site) -> int:
    """The router's wg0 (its dialect's syntax) and the venue's end (wireguard-go, wg) with the pool behind the
    tunnel; returns the venue's wireguard-go PID once a ping crosses the tunnel."""
    pid = start_venue_wireguard(s.ven)
    lab.venue_pids.append(pid)
    ven_priv = sh("wg", "genkey").strip()
    ven_pub = sh("wg", "pubkey", input=ven_priv + "\n").strip()
    if s.version == "1.3":
        assert c.cmd("generate wireguard named-keypairs venue").strip() == ""
        router_pub = c.cmd("show wireguard keypairs pubkey venue").strip()
        key, peer_key = "private-key 'venue'", f"pubkey '{ven_pub}'"
    else:
        pair = c.cmd("generate pki wireguard key-pair")
        priv = re.search(r"Private key: (\S+)", pair)
        pub = re.search(r"Public key: (\S+)", pair)
        assert priv and pub, pair
        router_pub = pub.group(1)
        key, peer_key = f"private-key '{priv.group(1)}'", f"public-key '{ven_pub}'"
    c.cmd("configure")
    c.config(
        [
            f"set interfaces wireguard wg0 address '{s.tunnel[0]}/24'",
            "set interfaces wireguard wg0 port '51820'",
            f"set interfaces wireguard wg0 {key}",
            f"set interfaces wireguard wg0 peer venue {peer_key}",
            f"set interfaces wireguard wg0 peer venue allowed-ips '{s.tunnel[1]}/32'",
        ]
    )
    assert c.cmd("commit").strip() == "[edit]"
    c.cmd("exit")
    keyfile = lab.base / f"{s.ven}.key"
    keyfile.write_text(ven_priv + "\n")
    venue_wg(
        pid,
        "set",
        "wg0",
        "private-key",
        str(keyfile),
        "peer",
        router_pub,
        "endpoint",
        f"{s.ven_link[0]}:51820",
        "allowed-ips",
        f"{s.tunnel[0].rsplit('.', 1)[0]}.0/24,{s.pool}",
        "persistent-keepalive",
        "1",
    )
    nsx(s.ven, "ip", "addr", "add", f"{s.tunnel[1]}/24", "dev", "wg0")
    nsx(s.ven, "ip", "link", "set", "wg0", "up")
    nsx(s.ven, "ip", "route", "add", s.pool, "dev", "wg0")
    wait_for(lambda: ping(s.ven, s.tunnel[0]))
    return pid


def check_policy(s: Site) -> None:
    """The pool answers the venue through wg0 and nobody else; the rest of the peer still answers upstream."""
    wait_for(lambda: ping(s.ven, s.service))
    assert not ping(UP, s.service, s.up_link[1])
    assert ping(UP, s.peer_link[1], s.up_link[1])


@pytest.mark.programs("nft")
def test_firewall_14(lab: Lab) -> None:
    s = S14
    c = shell(s)
    try:
        tunnel_up(lab, c, s)
        assert ping(UP, s.service, s.up_link[1]) and ping(s.ven, s.service)  # no firewall yet: both reach it
        c.cmd("configure")
        # 1.3's syntax is not 1.4's
        assert "Set failed" in c.cmd("set firewall name VENUE-ONLY default-action 'drop'")
        assert "Set failed" in c.cmd("set interfaces ethernet eth2 firewall in name 'VENUE-ONLY'")
        assert "Set failed" in c.cmd("set firewall ipv4 forward filter default-action 'reject'")
        # a rule without an action, then a group that does not exist: firewall.py verify_rule()
        c.config(
            [
                "set firewall ipv4 forward filter rule 100 destination group network-group 'VENUE-POOLS'",
                "set firewall ipv4 forward filter rule 100 inbound-interface name '!wg0'",
            ]
        )
        out = c.cmd("commit")
        assert "Rule action must be defined" in out and "Commit failed" in out
        c.config(["set firewall ipv4 forward filter rule 100 action 'drop'"])
        out = c.cmd("commit")
        assert 'Invalid network-group "VENUE-POOLS" on firewall rule' in out and "Commit failed" in out
        c.config([f"set firewall group network-group VENUE-POOLS network '{s.pool}'"])
        assert c.cmd("commit").strip() == "[edit]"
        ruleset = nsx(s.ns, "nft", "list", "table", "ip", "vyos_filter")
        assert "chain VYOS_FORWARD_filter" in ruleset and 'comment "ipv4-FWD-filter-100"' in ruleset
        check_policy(s)
        # show firewall (1.4.0 src/op_mode/firewall.py): the rule's counters count the upstream's dropped echo
        shown = c.cmd("run show firewall")
        assert shown.startswith("Rulesets Information\n") and 'ipv4 Firewall "forward filter"' in shown, shown
        assert re.search(r"^100\s+drop\s+all\s+[1-9]\d*\s+\d+\s+ip daddr @N_VENUE-POOLS iifname", shown, re.M), shown
        assert re.search(r"^default\s+accept\s+all\s+\d+\s+\d+$", shown, re.M), shown
        # the same policy through a named chain and `jump`
        c.config(
            [
                "delete firewall ipv4 forward filter rule 100",
                "set firewall ipv4 forward filter rule 10 action 'jump'",
                "set firewall ipv4 forward filter rule 10 jump-target 'VENUE-ONLY'",
                "set firewall ipv4 forward filter rule 10 destination group network-group 'VENUE-POOLS'",
                "set firewall ipv4 name VENUE-ONLY rule 10 action 'accept'",
                "set firewall ipv4 name VENUE-ONLY rule 10 inbound-interface name 'wg0'",
            ]
        )
        out = c.cmd("commit")  # default-action of a named chain is drop
        assert out.strip() == "[edit]", out
        assert "chain NAME_VENUE-ONLY" in nsx(s.ns, "nft", "list", "table", "ip", "vyos_filter")
        check_policy(s)
        c.config(["delete firewall"])
        assert c.cmd("commit").strip() == "[edit]"
        c.cmd("exit")
        assert "vyos_filter" not in nsx(s.ns, "nft", "list", "tables")
        assert ping(UP, s.service, s.up_link[1])
    finally:
        c.close()


@pytest.mark.programs("nft")
def test_firewall_13(lab: Lab) -> None:
    s = S13
    c = shell(s)
    try:
        tunnel_up(lab, c, s)
        assert ping(UP, s.service, s.up_link[1]) and ping(s.ven, s.service)
        c.cmd("configure")
        assert "Set failed" in c.cmd("set firewall ipv4 forward filter rule 100 action 'drop'")
        assert "Set failed" in c.cmd("set firewall name VENUE-ONLY rule 10 inbound-interface name 'wg0'")
        out = c.cmd("set firewall name VENUE-ONLY rule 10 action 'jump'")
        assert "action must be one of drop, reject or accept" in out and "Set failed" in out
        c.config(
            [
                "set firewall name VENUE-ONLY default-action 'accept'",
                "set firewall name VENUE-ONLY rule 10 destination group network-group 'VENUE-POOLS'",
                "set interfaces ethernet eth2 firewall in name 'VENUE-ONLY'",
                "set interfaces ethernet eth3 firewall in name 'NOPE'",
            ]
        )
        out = c.cmd("commit")
        assert "Group [VENUE-POOLS] has not been defined" in out
        assert 'Configuration error: "action" must be defined in rule 10' in out
        assert 'Configuration error: Rule set "NOPE" is not configured' in out and "Commit failed" in out
        c.config(
            [
                f"set firewall group network-group VENUE-POOLS network '{s.pool}'",
                "set firewall name VENUE-ONLY rule 10 action 'drop'",
                "set interfaces ethernet eth3 firewall in name 'VENUE-ONLY'",
            ]
        )
        assert c.cmd("commit").strip() == "[edit]"
        assert 'comment "VENUE-ONLY-10"' in nsx(s.ns, "nft", "list", "table", "ip", "filter")
        check_policy(s)
        # a rule set in use cannot go alone
        c.config(["delete firewall name VENUE-ONLY"])
        out = c.cmd("commit")
        assert 'Configuration error: Cannot delete rule set "VENUE-ONLY" (still in use)' in out
        c.cmd("discard")
        c.config(
            ["delete firewall", "delete interfaces ethernet eth2 firewall", "delete interfaces ethernet eth3 firewall"]
        )
        assert c.cmd("commit").strip() == "[edit]"
        c.cmd("exit")
        assert "table ip filter" not in nsx(s.ns, "nft", "list", "tables")
        assert ping(UP, s.service, s.up_link[1])
    finally:
        c.close()
