"""The lab's VyOS-compatible router, driven over real SSH by real clients.

Namespaces (prefix ``ektvy`` + pid, or ``$EDGEKIT_TEST_NS`` + ``vy`` + pid): a 1.4 router, a 1.3 router and
one peer namespace wired to both. The peer runs a plain FRR bgpd (AS 65021, advertising 198.51.100.10/32)
and is where clients connect from: sockets are opened inside it (``connect_in_netns``), so nothing is routed
via the root namespace.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import paramiko
import pytest

from lab.vyos import RouterSpec, start_router, stop_router
from lab.vyos.frr import pid_alive, stop_pidfile
from tests.lab.helpers import (
    LAB_PASSWORD,
    Shell,
    connect_in_netns,
    del_netns,
    frr_peer,
    nsx,
    peer_vtysh,
    sh,
    veth,
    vtysh,
    wait_until,
)

pytestmark = pytest.mark.lab

T = TypeVar("T")

TAG = f"{os.environ.get('EDGEKIT_TEST_NS', 'ekt')[:3]}vy{os.getpid() % 100000}"
R14, R13, PEER = f"{TAG}a", f"{TAG}b", f"{TAG}p"
R14_IP, R13_IP, PEER_IP14, PEER_IP13 = "10.91.0.1", "10.92.0.1", "10.91.0.2", "10.92.0.2"
PASSWORD = LAB_PASSWORD

PEER_BGP = f"""frr defaults traditional
router bgp 65021
 bgp router-id 10.91.0.2
 no bgp ebgp-requires-policy
 timers bgp 1 3
 neighbor {R14_IP} remote-as 65020
 neighbor {R14_IP} timers connect 1
 address-family ipv4 unicast
  network 198.51.100.10/32
 exit-address-family
!
"""


class Lab:
    def __init__(self, base: Path) -> None:
        self.base = base
        self.r14 = RouterSpec(
            name="k8s-router-1-prd",
            netns=R14,
            state_dir=base / "r14",
            version="1.4",
            password=PASSWORD,
            boot_config=[f"set interfaces ethernet eth1 address '{R14_IP}/24'"],
        )
        self.r13 = RouterSpec(
            name="old-router",
            netns=R13,
            state_dir=base / "r13",
            version="1.3",
            password=PASSWORD,
            boot_config=[f"set interfaces ethernet eth1 address '{R13_IP}/24'"],
        )
        self.peer_frr = base / "peer-frr"
        self.key = base / "id_ed25519"


@pytest.fixture(scope="module")
def lab(request: pytest.FixtureRequest) -> Iterator[Lab]:
    # FRR runs as user frr under the state dir, so it must be reachable (o+x) from /.
    base = Path(tempfile.mkdtemp(prefix=f"{TAG}-", dir="/tmp"))
    os.chmod(base, 0o755)
    lab = Lab(base)
    old_minute = os.environ.get("EDGEKIT_LAB_MINUTE_SECONDS")
    os.environ["EDGEKIT_LAB_MINUTE_SECONDS"] = "1"  # commit-confirm minutes become seconds

    def teardown() -> None:
        for spec in (lab.r14, lab.r13):
            stop_router(spec.state_dir)
        for f in (lab.peer_frr / "run").glob("*.pid"):
            stop_pidfile(f)
        for ns in (R14, R13, PEER):
            del_netns(ns)
        shutil.rmtree(base, ignore_errors=True)
        if old_minute is None:
            os.environ.pop("EDGEKIT_LAB_MINUTE_SECONDS", None)
        else:
            os.environ["EDGEKIT_LAB_MINUTE_SECONDS"] = old_minute

    request.addfinalizer(teardown)
    for ns in (R14, R13, PEER):
        sh("ip", "netns", "add", ns)
    veth(R14, "eth1", PEER, "eth0", f"{TAG}x0", f"{TAG}x1")
    veth(R13, "eth1", PEER, "eth1", f"{TAG}y0", f"{TAG}y1")
    nsx(PEER, "ip", "link", "set", "lo", "up")
    nsx(PEER, "ip", "addr", "add", f"{PEER_IP14}/24", "dev", "eth0")
    nsx(PEER, "ip", "addr", "add", f"{PEER_IP13}/24", "dev", "eth1")
    nsx(PEER, "ip", "addr", "add", "198.51.100.10/32", "dev", "lo")
    frr_peer(PEER, lab.peer_frr, PEER_BGP)
    sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(lab.key))
    lab.r14.authorized_keys = [Path(str(lab.key) + ".pub").read_text().strip()]
    t0 = time.monotonic()
    start_router(lab.r14)
    lab.start_seconds = time.monotonic() - t0  # type: ignore[attr-defined]
    start_router(lab.r13)
    yield lab


# ---------------------------------------------------------------- clients


def router_vtysh(spec: RouterSpec, cmd: str) -> str:
    return vtysh(spec.state_dir / "frr", cmd, timeout=60)


def wait_for(fn: Callable[[], T], timeout: float = 15.0) -> T:
    return wait_until(fn, timeout, interval=0.1)


# ---------------------------------------------------------------- tests


def test_netmiko_configures_bgp_and_the_router_routes(lab: Lab) -> None:
    from netmiko import ConnectHandler

    conn = ConnectHandler(
        device_type="vyos", host=R14_IP, username="vyos", password=PASSWORD, sock=connect_in_netns(PEER, R14_IP)
    )
    try:
        assert conn.find_prompt() == "vyos@k8s-router-1-prd:~$"
        assert "Version:          VyOS 1.4.0" in conn.send_command("show version")
        out = conn.send_config_set(
            [
                "set interfaces ethernet eth1 description 'k8s nodes'",
                "set interfaces ethernet eth1 ip enable-proxy-arp",
                "set protocols bgp system-as '65020'",
                "set protocols bgp parameters router-id '10.91.0.1'",
                f"set protocols bgp neighbor {PEER_IP14} remote-as '65021'",
                f"set protocols bgp neighbor {PEER_IP14} address-family ipv4-unicast",
                f"set protocols bgp neighbor {PEER_IP14} timers connect '1'",
                "set protocols bgp address-family ipv4-unicast maximum-paths ebgp '8'",
                "set protocols bgp timers keepalive '1'",
                "set protocols bgp timers holdtime '3'",
                "set protocols static route 198.51.100.0/28 blackhole distance '254'",
            ]
        )
        assert "failed" not in out
        assert "Commit failed" not in conn.commit(comment="bgp to the peer")
        conn.exit_config_mode()
        # 1.4's save prints nothing (vyos-1x src/helpers/vyos-save-config.py); netmiko's VyOSSSH.save_config()
        # wants `Done` and raises, though config.boot was written (lab/README.md, "Third-party clients")
        with pytest.raises(ValueError, match="Save failed"):
            conn.save_config()
        assert "No changes between working and saved configurations." in conn.send_config_set(["compare saved"])
        conn.exit_config_mode()
        cmds = conn.send_command("show configuration commands")
        assert f"set protocols bgp neighbor {PEER_IP14} remote-as '65021'" in cmds
        assert "set interfaces ethernet eth1 ip enable-proxy-arp" in cmds
        assert "set system host-name 'k8s-router-1-prd'" in cmds
        # FRR got VyOS's rendering, 1.4 style
        frr = router_vtysh(lab.r14, "show running-config")
        assert "router bgp 65020" in frr and "no bgp ebgp-requires-policy" in frr
        assert f"neighbor {PEER_IP14} remote-as 65021" in frr and "maximum-paths 8" in frr
        assert "ip route 198.51.100.0/28 blackhole 254" in frr
        # the session comes up and the learned route lands in the router's kernel
        wait_for(lambda: "198.51.100.10" in nsx(R14, "ip", "route", "show", "198.51.100.10/32"))
        summary = conn.send_command("show ip bgp summary")
        assert "IPv4 Unicast Summary (VRF default):" in summary and PEER_IP14 in summary
        assert "198.51.100.10/32" in conn.send_command("show ip bgp 198.51.100.10/32")
        assert "Routing entry for 198.51.100.10/32" in conn.send_command("show ip route 198.51.100.10")
        assert "BGP neighbor is " + PEER_IP14 in conn.send_command(f"show bgp neighbors {PEER_IP14}")
        assert nsx(R14, "cat", "/proc/sys/net/ipv4/conf/eth1/proxy_arp").strip() == "1"
        assert nsx(R14, "cat", "/proc/sys/net/ipv4/neigh/eth1/proxy_delay").strip() == "0"
        assert "k8s nodes" in conn.send_command("show interfaces")
        assert "bgp to the peer" in conn.send_command("show system commit")
    finally:
        conn.disconnect()
    # the peer sees the router's session too
    assert "Established" in peer_vtysh(lab.peer_frr, f"show bgp neighbors {R14_IP}")


def test_messages_and_bad_paths(lab: Lab) -> None:
    sh_ = Shell(R14_IP, PEER)
    try:
        assert sh_.cmd("configure").startswith("[edit]")
        out = sh_.cmd("set protocols bgp foo bar")
        assert "Configuration path: [protocols bgp foo] is not valid" in out and "Set failed" in out
        assert out.rstrip().endswith("[edit]")
        out = sh_.cmd("set interfaces ethernet eth1 address 10.91.0.9")
        assert "Set failed" in out  # no prefix length
        assert "Set failed" in sh_.cmd("set protocols bgp system-as 4294967295")
        assert "Set failed" in sh_.cmd("set protocols bgp system-as 0")
        assert "Set failed" in sh_.cmd("set interfaces wireguard wg0 private-key 'not-a-key'")
        # 1.3 syntax on a 1.4 router
        out = sh_.cmd(f"set protocols bgp 65020 neighbor {PEER_IP14} remote-as 65021")
        assert "[protocols bgp 65020] is not valid" in out and "Set failed" in out
        assert "Set failed" in sh_.cmd("set protocols static interface-route 10.0.0.0/8 next-hop-interface eth1")
        assert "Delete failed" in sh_.cmd("delete protocols bgp neighbor 10.9.9.9")
        assert "Delete failed" in sh_.cmd("delete system foo")
        # vyos-1x python/vyos/config_mgmt.py compare()
        # vyos-1x python/vyos/config_mgmt.py compare() + run()'s print(): a blank line before [edit]
        assert sh_.cmd("compare") == "No changes between working and active configurations.\n\n[edit]\n"
        # a neighbor without remote-as fails at commit and changes nothing
        assert sh_.cmd("set protocols bgp neighbor 10.91.0.77 description 'no as'").strip() == "[edit]"
        out = sh_.cmd("compare")
        assert "[protocols bgp]" in out and "+ neighbor 10.91.0.77 {" in out
        out = sh_.cmd("commit")
        assert "Commit failed" in out and 'Neighbor "10.91.0.77" remote-as must be set!' in out
        assert "10.91.0.77" not in router_vtysh(lab.r14, "show running-config")
        out = sh_.cmd("exit")
        assert "Cannot exit: configuration modified." in out and "exit discard" in out
        assert "Changes have been discarded" in sh_.cmd("discard")
        assert "No configuration changes to commit" in sh_.cmd("commit")
        # show of the candidate, run, commit comment, rollback
        assert "neighbor 10.91.0.2 {" in sh_.cmd("show protocols bgp")
        assert "VyOS 1.4.0" in sh_.cmd("run show version")
        sh_.cmd("set interfaces ethernet eth1 description 'second'")
        assert sh_.cmd('commit comment "desc change"').strip() == "[edit]"
        assert "+ description second" in sh_.cmd("compare saved") or "description" in sh_.cmd("compare saved")
        hist = sh_.cmd("run show system commit")
        # 1.4: vyos-1x config_mgmt.py format_log_data, tabulate(tablefmt="plain"): columns two spaces apart, the
        # comment in the time column (ledger v1_4 OP_MODE show.system-commit)
        assert re.search(r"^0  \d{4}-\d\d-\d\d \d\d:\d\d:\d\d  by vyos  via cli\n   desc change$", hist, re.M)
        # rollback-soft loads revision 1 into the session (rollback N reboots: test_vyos_confirm.py)
        out = sh_.cmd("rollback-soft 1")
        assert 'Rollback diff has been applied.\nUse "compare" to review the changes' in out
        assert "second" not in sh_.cmd("show interfaces ethernet eth1")
        assert "- description second" in sh_.cmd("compare")
        assert "Changes have been discarded" in sh_.cmd("discard")
        # load / merge of a saved file
        # load of the saved file (vyos-1x src/helpers/vyos-load-config.py)
        assert sh_.cmd("load /config/config.boot") == (
            "Loading configuration from '/config/config.boot'\n"
            "Load complete. Use 'commit' to make changes effective.\n[edit]\n"
        )
        # this session committed and did not save (vyatta-cfg-run really_exit)
        assert sh_.cmd("exit discard") == "Warning: configuration changes have not been saved.\nexit\n"
    finally:
        sh_.close()


def test_commit_failure_leaves_nothing_half_applied(lab: Lab) -> None:
    # Something else holds the WireGuard port: wireguard-go cannot bind, after eth1 was changed.
    blocker = subprocess.Popen(
        [
            "ip",
            "netns",
            "exec",
            R14,
            "python3",
            "-c",
            "import socket,time; s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.bind(('0.0.0.0',51820)); "
            "print('bound',flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    sh_ = Shell(R14_IP, PEER)
    try:
        assert blocker.stdout is not None and blocker.stdout.readline().strip() == "bound"
        key = sh_.cmd("generate pki wireguard key-pair")
        priv = re.search(r"Private key: (\S+)", key).group(1)  # type: ignore[union-attr]
        # the peer's key is another one: its own would be refused (`has the same public key as the interface`)
        other = sh_.cmd("generate pki wireguard key-pair")
        pub = re.search(r"Public key: (\S+)", other).group(1)  # type: ignore[union-attr]
        sh_.cmd("configure")
        for line in [
            "set interfaces ethernet eth1 address '10.91.5.1/24'",
            "set protocols static route 203.0.113.64/26 blackhole",
            "set interfaces wireguard wg0 address '172.16.100.1/30'",
            "set interfaces wireguard wg0 port '51820'",
            f"set interfaces wireguard wg0 private-key '{priv}'",
            f"set interfaces wireguard wg0 peer venue public-key '{pub}'",
            "set interfaces wireguard wg0 peer venue allowed-ips '10.10.0.0/16'",
        ]:
            assert "failed" not in sh_.cmd(line)
        out = sh_.cmd("commit")
        assert "Commit failed" in out and "wireguard" in out
        assert "10.91.5.1" not in nsx(R14, "ip", "addr", "show", "dev", "eth1")
        assert "203.0.113.64/26" not in router_vtysh(lab.r14, "show running-config")
        assert nsx(R14, "ip", "link", "show", "wg0", check=False) == ""
        assert not list((lab.r14.state_dir / "run").glob("wireguard-go.*.pid"))
        assert "10.91.5.1" not in sh_.cmd("run show configuration commands")
        # once the port is free the same commit goes through and the tunnel exists
        blocker.kill()
        blocker.wait()
        assert sh_.cmd("commit").strip() == "[edit]"
        assert "172.16.100.1/30" in nsx(R14, "ip", "addr", "show", "dev", "wg0")
        assert "listening port: 51820" in sh_.cmd("run show interfaces wireguard wg0 summary")
        sh_.cmd("delete interfaces wireguard wg0")
        sh_.cmd("delete interfaces ethernet eth1 address '10.91.5.1/24'")
        sh_.cmd("delete protocols static route 203.0.113.64/26")
        assert sh_.cmd("commit").strip() == "[edit]"
        assert nsx(R14, "ip", "link", "show", "wg0", check=False) == ""
    finally:
        sh_.close()
        if blocker.poll() is None:
            blocker.kill()
            blocker.wait()


def test_dialect_13(lab: Lab) -> None:
    s = Shell(R13_IP, PEER)
    try:
        assert "vyos@old-router:~$" in s.banner
        assert "Version:          VyOS 1.3.8" in s.cmd("show version")
        assert s.cmd("generate wireguard named-keypairs venue").strip() == ""
        # the peer's key: another keypair (the interface's own would be refused at commit)
        assert s.cmd("generate wireguard named-keypairs peer").strip() == ""
        pub = s.cmd("show wireguard keypairs pubkey peer").strip()
        assert len(pub) == 44
        s.cmd("configure")
        assert "Set failed" in s.cmd("set protocols bgp system-as 65020")
        assert "Set failed" in s.cmd(f"set interfaces wireguard wg0 peer venue public-key '{pub}'")
        assert "Set failed" in s.cmd("set protocols static route 10.10.0.0/16 interface wg0")
        for line in [
            "set protocols bgp 65020 parameters router-id '10.92.0.1'",
            f"set protocols bgp 65020 neighbor {PEER_IP13} remote-as '65021'",
            "set protocols bgp 65020 address-family ipv4-unicast maximum-paths ebgp '8'",
            "set interfaces wireguard wg0 address '172.16.100.1/30'",
            "set interfaces wireguard wg0 port '51830'",
            "set interfaces wireguard wg0 private-key 'venue'",
            f"set interfaces wireguard wg0 peer venue pubkey '{pub}'",
            "set interfaces wireguard wg0 peer venue allowed-ips '10.10.0.0/16'",
            "set protocols static interface-route 10.10.0.0/16 next-hop-interface wg0",
        ]:
            assert "failed" not in s.cmd(line), line
        assert s.cmd("commit").strip() == "[edit]"
        frr = router_vtysh(lab.r13, "show running-config")
        assert "router bgp 65020" in frr and "ip route 10.10.0.0/16 wg0" in frr
        assert "interface: wg0" in s.cmd("run show interfaces wireguard wg0 summary")
        assert "interface: wg0" in s.cmd("run show wireguard interfaces wg0 summary")
        assert "set protocols bgp 65020 neighbor 10.92.0.2 remote-as '65021'" in s.cmd(
            "run show configuration commands"
        )
        # an unknown keypair is refused at commit
        s.cmd("set interfaces wireguard wg0 private-key 'nope'")
        assert "Commit failed" in s.cmd("commit")
        s.cmd("exit discard")
    finally:
        s.close()


def test_interactive_ssh_with_key_and_exec(lab: Lab) -> None:
    base = [
        "ip",
        "netns",
        "exec",
        PEER,
        "ssh",
        "-i",
        str(lab.key),
        "-o",
        "StrictHostKeyChecking=no",
        "-o",
        "UserKnownHostsFile=/dev/null",
        "-o",
        "BatchMode=yes",
        "-o",
        "LogLevel=ERROR",
    ]
    out = subprocess.run([*base, f"vyos@{R14_IP}", "show version"], capture_output=True, text=True, timeout=30)
    assert "VyOS 1.4.0" in out.stdout, out.stderr
    script = "configure\nset system host-name 'renamed'\ncompare\nexit\nexit discard\nexit\n"
    out = subprocess.run([*base, "-tt", f"vyos@{R14_IP}"], input=script, capture_output=True, text=True, timeout=30)
    text = out.stdout.replace("\r\n", "\n")
    assert "vyos@k8s-router-1-prd# " in text and "+ host-name renamed" in text
    assert "Cannot exit: configuration modified." in text
    bad = subprocess.run(
        [
            "ip",
            "netns",
            "exec",
            PEER,
            "ssh",
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
            "-o",
            "BatchMode=yes",
            "-i",
            str(lab.key),
            f"intruder@{R14_IP}",
            "show version",
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert bad.returncode != 0
    with pytest.raises(paramiko.AuthenticationException):
        Shell(R14_IP, PEER, password="wrong")


def test_save_and_restart_comes_back_with_saved_config(lab: Lab) -> None:
    s = Shell(R14_IP, PEER)
    s.cmd("configure")
    s.cmd("set interfaces ethernet eth1 description 'saved one'")
    s.cmd("commit")
    # 1.4: vyatta-cfg sagitta vyatta_config_save runs vyos-1x vyos-save-config.py, which prints nothing
    assert s.cmd("save") == "[edit]\n"
    s.cmd("exit")
    s.close()
    boot = (lab.r14.state_dir / "config" / "config.boot").read_text()
    assert 'description "saved one"' in boot
    pids = [int(p.read_text()) for p in (lab.r14.state_dir / "frr" / "run").glob("*.pid")]
    pids.append(int((lab.r14.state_dir / "run" / "daemon.pid").read_text()))
    stop_router(lab.r14.state_dir)
    stop_router(lab.r14.state_dir)  # idempotent
    assert not any(pid_alive(p) for p in pids)
    start_router(lab.r14)  # fails by itself when SSH does not listen within its timeout
    s = Shell(R14_IP, PEER)
    try:
        cmds = s.cmd("show configuration commands")
        assert "set interfaces ethernet eth1 description 'saved one'" in cmds
        assert f"set protocols bgp neighbor {PEER_IP14} remote-as '65021'" in cmds
        wait_for(lambda: "198.51.100.10" in nsx(R14, "ip", "route", "show", "198.51.100.10/32"))
    finally:
        s.close()
