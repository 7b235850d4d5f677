"""commit-confirm, confirm, rollback and the reboot of the lab router, per dialect, over real SSH.

Texts and semantics: vyos-1x python/vyos/config_mgmt.py (1.4; sagitta without, current with
`system config-management commit-confirm action`, T5976) and vyatta-config-mgmt
scripts/vyatta-config-mgmt.pl (1.3, equuleus); shared/reference/vyos-cli.md.

Namespaces (prefix ``ektcf``): a 1.5/rolling router that knows `commit-confirm action` (A), a 1.4 router that
does not (N), a 1.3 router (O) and one peer namespace wired to all three. The peer runs plain FRR
(AS 65021, advertising 198.51.100.10/32) and is where clients connect from. One commit-confirm
"minute" is MINUTE seconds; a reboot keeps a router down for BOOT seconds.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from lab.vyos import RouterSpec, start_router, stop_router
from lab.vyos.frr import stop_pidfile
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
    wait_until,
)

pytestmark = pytest.mark.lab

TAG = f"{os.environ.get('EDGEKIT_TEST_NS', 'ekt')[:3]}cf{os.getpid() % 100000}"
RA, RN, RO, PEER = f"{TAG}a", f"{TAG}n", f"{TAG}o", f"{TAG}p"
IP = {RA: "10.93.0.1", RN: "10.94.0.1", RO: "10.95.0.1"}
PEER_IP = {RA: "10.93.0.2", RN: "10.94.0.2", RO: "10.95.0.2"}
PASSWORD = LAB_PASSWORD
MINUTE = "2"  # seconds per commit-confirm minute
BOOT = "2"  # seconds a reboot keeps the router down
ROUTE = "198.51.100.10"
# Long enough to answer and confirm on a busy 2-core machine (30 lab minutes = 60 s).
LONG = 30


def peer_bgp() -> str:
    lines = ["frr defaults traditional", "router bgp 65021", " bgp router-id 10.93.0.2", " no bgp ebgp-requires-policy"]
    lines.append(" timers bgp 1 3")
    for r in (RA, RN, RO):
        lines += [f" neighbor {IP[r]} remote-as 65020", f" neighbor {IP[r]} timers connect 1"]
    lines += [" address-family ipv4 unicast", f"  network {ROUTE}/32", " exit-address-family", "!", ""]
    return "\n".join(lines)


def boot_config(ns: str, version: str) -> list[str]:
    """eth1, BGP to the peer, and commit-revisions as VyOS's default config.boot has it."""
    ip, peer = IP[ns], PEER_IP[ns]
    bgp = "protocols bgp 65020" if version == "1.3" else "protocols bgp"
    lines = [
        f"set interfaces ethernet eth1 address '{ip}/24'",
        "set system config-management commit-revisions '100'",
        f"set {bgp} neighbor {peer} remote-as '65021'",
        f"set {bgp} neighbor {peer} address-family ipv4-unicast",
        f"set {bgp} timers holdtime '3'",
        f"set {bgp} timers keepalive '1'",
    ]
    if version != "1.3":
        lines.append("set protocols bgp system-as '65020'")
    return lines


class Lab:
    def __init__(self, base: Path) -> None:
        self.base = base
        self.specs = {
            RA: RouterSpec("r-action", RA, base / "ra", "1.5", password=PASSWORD, boot_config=boot_config(RA, "1.5")),
            RN: RouterSpec("r-noaction", RN, base / "rn", "1.4", password=PASSWORD, boot_config=boot_config(RN, "1.4")),
            RO: RouterSpec("r-old", RO, base / "ro", "1.3", password=PASSWORD, boot_config=boot_config(RO, "1.3")),
        }
        self.peer_frr = base / "peer-frr"


@pytest.fixture(scope="module")
def lab(request: pytest.FixtureRequest) -> Iterator[Lab]:
    base = Path(tempfile.mkdtemp(prefix=f"{TAG}-", dir="/tmp"))
    os.chmod(base, 0o755)
    lab = Lab(base)
    saved_env = {k: os.environ.get(k) for k in ("EDGEKIT_LAB_MINUTE_SECONDS", "EDGEKIT_LAB_BOOT_SECONDS")}
    os.environ["EDGEKIT_LAB_MINUTE_SECONDS"] = MINUTE
    os.environ["EDGEKIT_LAB_BOOT_SECONDS"] = BOOT

    def teardown() -> None:
        for spec in lab.specs.values():
            stop_router(spec.state_dir)
        for f in (lab.peer_frr / "run").glob("*.pid"):
            stop_pidfile(f)
        for ns in (RA, RN, RO, PEER):
            del_netns(ns)
        shutil.rmtree(base, ignore_errors=True)
        for k, v in saved_env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v

    request.addfinalizer(teardown)
    for ns in (RA, RN, RO, PEER):
        sh("ip", "netns", "add", ns)
    for i, r in enumerate((RA, RN, RO)):
        veth(r, "eth1", PEER, f"eth{i}", f"{TAG}x{i}", f"{TAG}y{i}")
        nsx(PEER, "ip", "addr", "add", f"{PEER_IP[r]}/24", "dev", f"eth{i}")
    nsx(PEER, "ip", "link", "set", "lo", "up")
    nsx(PEER, "ip", "addr", "add", f"{ROUTE}/32", "dev", "lo")
    frr_peer(PEER, lab.peer_frr, peer_bgp())
    for spec in lab.specs.values():
        start_router(spec)
    for r in (RA, RN, RO):
        wait_until(lambda r=r: has_route(r), timeout=30)
    yield lab


# ---------------------------------------------------------------- helpers


def has_route(ns: str) -> bool:
    return ROUTE in nsx(ns, "ip", "route", "show", f"{ROUTE}/32", check=False)


def alias(ns: str) -> str:
    out = nsx(ns, "ip", "-o", "link", "show", "eth1")
    m = re.search(r"alias (.*)$", out.strip())
    return m.group(1) if m else ""


def ssh_answers(ns: str) -> bool:
    try:
        s = connect_in_netns(PEER, IP[ns], timeout=1.0)
    except OSError:
        return False
    s.close()
    return True


def ask(sh_: Shell, line: str, until: str) -> str:
    """Send a command that asks a question; returns everything up to the end of the question."""
    sh_.chan.send(line + "\n")
    return sh_.read(re.compile(re.escape(until) + r"$"))


def answer(sh_: Shell, text: str) -> str:
    sh_.chan.send(text + "\n")
    out = sh_.read()
    return Shell.PROMPT.sub("", out.split("\n", 1)[1] if "\n" in out else "")


def cut(sh_: Shell) -> None:
    """Cut the TCP connection under the session: no clean SSH close."""
    sh_.sock.shutdown(socket.SHUT_RDWR)
    sh_.close()


class HeldBoot:
    """Keeps a router in its boot (run/hold-boot) so the test can look at it while it is down."""

    def __init__(self, lab: Lab, ns: str) -> None:
        self.file = lab.specs[ns].state_dir / "run" / "hold-boot"

    def __enter__(self) -> HeldBoot:
        self.file.write_text("")
        return self

    def __exit__(self, *exc: object) -> None:
        self.file.unlink(missing_ok=True)


def wait_reboot(ns: str) -> None:
    """The router goes down (no SSH, no route from BGP) and comes back; bounded polls."""
    wait_until(lambda: not ssh_answers(ns), timeout=30)
    wait_until(lambda: ssh_answers(ns), timeout=60)


def history(ns: str) -> str:
    s = Shell(IP[ns], ns=PEER)
    try:
        return s.cmd("show system commit")
    finally:
        s.close()


# ---------------------------------------------------------------- 1.4 (sagitta: no action node)


def test_14_dialogue_yes_no_pending_confirm(lab: Lab) -> None:
    s = Shell(IP[RN], ns=PEER)
    try:
        s.cmd("configure")
        s.cmd("set interfaces ethernet eth1 description 'cc-one'")
        q = (
            f"\ncommit-confirm will automatically reboot in {LONG} minutes unless changes\n"
            "are confirmed.\n\nProceed ? [Y/n] "
        )
        out = ask(s, f"commit-confirm {LONG}", "Proceed ? [Y/n] ")
        assert out.endswith(q), out
        assert "You should save" not in out  # nothing unsaved yet
        s.chan.send("maybe\n")
        out = s.read(re.compile(r"Proceed \? \[Y/n\] $"))
        assert "Please respond with yes/y or no/n\n" + q in out
        assert answer(s, "n") == "commit-confirm canceled\n[edit]\n"
        assert alias(RN) == ""
        ask(s, f"commit-confirm {LONG}", "Proceed ? [Y/n] ")
        assert answer(s, "y") == f"Initialized commit-confirm; {LONG} minutes to confirm before reboot\n[edit]\n"
        assert alias(RN) == "cc-one"
        # not in the history until confirmed (IN_COMMIT_CONFIRM)
        before = s.cmd("run show system commit")
        # a second one while the timer runs: refused, nothing committed
        s.cmd("set interfaces ethernet eth1 description 'cc-two'")
        assert s.cmd("commit-confirm 5") == "Another confirm is pending\n[edit]\n"
        assert alias(RN) == "cc-one"
        assert s.cmd("confirm") == "Reboot timer stopped\n[edit]\n"
        after = s.cmd("run show system commit")
        assert len(after.splitlines()) == len(before.splitlines()) + 1
        assert s.cmd("confirm") == "No confirm pending\n[edit]\n"
        # unsaved commits: the warning comes first
        assert s.cmd("commit") == "[edit]\n"  # cc-two
        s.cmd("set interfaces ethernet eth1 description 'cc-three'")
        out = ask(s, f"commit-confirm {LONG}", "Proceed ? [Y/n] ")
        assert out.split("\n", 1)[1].startswith("\nYou should save previous commits before commit-confirm !\n\n")
        assert answer(s, "n") == "commit-confirm canceled\n[edit]\n"
        # this release has no `commit-confirm action`
        out = s.cmd("set system config-management commit-confirm action reload")
        assert "Configuration path: [system config-management commit-confirm] is not valid" in out
        assert "Set failed" in out
        s.cmd("exit discard")
    finally:
        s.close()


def test_14_expiry_reboots_into_saved_config(lab: Lab) -> None:
    s = Shell(IP[RN], ns=PEER)
    s.cmd("configure")
    s.cmd("set interfaces ethernet eth1 description 'unsaved'")
    assert s.cmd("commit") == "[edit]\n"
    s.cmd("set interfaces ethernet eth1 description 'unconfirmed'")
    ask(s, "commit-confirm 1", "Proceed ? [Y/n] ")
    assert "1 minutes to confirm before reboot" in answer(s, "")  # Enter = yes
    assert alias(RN) == "unconfirmed"
    with HeldBoot(lab, RN):
        cut(s)
        # the timer lives in the router: the box goes down (no SSH, no BGP route, no address, no carrier)
        wait_until(lambda: not ssh_answers(RN), timeout=30)
        wait_until(lambda: not has_route(RN), timeout=10)
        wait_until(lambda: IP[RN] not in nsx(RN, "ip", "-o", "addr", "show", "dev", "eth1"), timeout=10)
        wait_until(lambda: "LOWER_UP" not in nsx(PEER, "ip", "-o", "link", "show", "eth1"), timeout=10)
        wait_until(lambda: "Established" not in peer_vtysh(lab.peer_frr, f"show bgp neighbor {IP[RN]}"), timeout=10)
    # and comes back with config.boot: neither the unsaved commit nor the unconfirmed one
    wait_until(lambda: ssh_answers(RN), timeout=60)
    wait_until(lambda: has_route(RN), timeout=30)
    assert alias(RN) == ""
    s2 = Shell(IP[RN], ns=PEER)
    try:
        cmds = s2.cmd("show configuration commands")
        assert "unsaved" not in cmds and "unconfirmed" not in cmds
        assert f"neighbor {PEER_IP[RN]} remote-as '65021'" in cmds
        # the boot commit differs from the last logged revision ('unsaved'): a fresh entry
        assert re.match(r"0\s+\S+ \S+\s+by root\s+via vyos-boot-config-loader\n", s2.cmd("show system commit"))
        s2.cmd("configure")
        assert s2.cmd("confirm") == "No confirm pending\n[edit]\n"
        s2.cmd("exit")
    finally:
        s2.close()


def test_14_session_cut_at_the_question_commits_nothing(lab: Lab) -> None:
    s = Shell(IP[RN], ns=PEER)
    s.cmd("configure")
    s.cmd("set interfaces ethernet eth1 description 'never'")
    ask(s, f"commit-confirm {LONG}", "Proceed ? [Y/n] ")
    cut(s)
    s2 = Shell(IP[RN], ns=PEER)
    try:
        assert "never" not in s2.cmd("show configuration commands")
        s2.cmd("configure")
        assert s2.cmd("confirm") == "No confirm pending\n[edit]\n"
        s2.cmd("exit")
    finally:
        s2.close()


def test_14_rollback_reboots_and_rollback_soft_loads(lab: Lab) -> None:
    s = Shell(IP[RN], ns=PEER)
    s.cmd("configure")
    s.cmd("set interfaces ethernet eth1 description 'rev-a'")
    s.cmd("commit")
    s.cmd("set interfaces ethernet eth1 description 'rev-b'")
    s.cmd("commit")
    n = len([ln for ln in s.cmd("run show system commit").splitlines() if re.match(r"\d+\s", ln)])
    assert s.cmd(f"rollback {n}") == f"Invalid revision number {n}: must be 0 < rev < {n}\n[edit]\n"
    assert s.cmd("rollback") == "Error: must include a revision # to rollback to\n[edit]\n"
    # rollback-soft: revision 1 ('rev-a') into the session, nothing committed
    out = s.cmd("rollback-soft 1")
    assert out == (
        'Rollback diff has been applied.\nUse "compare" to review the changes or "commit" to apply them.\n[edit]\n'
    )
    assert "description rev-a" in s.cmd("compare")
    assert alias(RN) == "rev-b"
    s.cmd("discard")
    assert ask(s, "rollback 1", "Proceed with reboot ? [Y/n] ").endswith("\nProceed with reboot ? [Y/n] ")
    assert answer(s, "n") == "Canceling rollback\n[edit]\n"
    ask(s, "rollback 1", "Proceed with reboot ? [Y/n] ")
    s.chan.send("y\n")
    wait_reboot(RN)
    wait_until(lambda: alias(RN) == "rev-a", timeout=30)
    s.close()


# ---------------------------------------------------------------- 1.5/rolling with `commit-confirm action` (T5976)


def test_14_action_reload_reverts_in_place(lab: Lab) -> None:
    pid = (lab.specs[RA].state_dir / "run" / "daemon.pid").read_text()
    s = Shell(IP[RA], ns=PEER)
    try:
        s.cmd("configure")
        # default action (reboot): vyos-1x current's text, no blank line before the question
        s.cmd("set interfaces ethernet eth1 description 'reboot-q'")
        out = ask(s, f"commit-confirm {LONG}", "Proceed ? [Y/n] ")
        assert out.endswith(
            f"\ncommit-confirm will automatically reboot in {LONG} minutes unless changes\nare confirmed.\n"
            "Proceed ? [Y/n] "
        )
        assert answer(s, "no") == "commit-confirm canceled\n[edit]\n"
        s.cmd("discard")
        assert s.cmd("set system config-management commit-confirm action reload") == "[edit]\n"
        assert "Set failed" in s.cmd("set system config-management commit-confirm action restart")
        assert s.cmd("commit") == "[edit]\n"  # unsaved from here on: reload does not warn
        s.cmd("set interfaces ethernet eth1 description 'reload-me'")
        out = ask(s, "commit-confirm 1", "Proceed ? [Y/n] ")
        assert out.endswith(
            "\ncommit-confirm will automatically reload previous config in 1 minutes\n"
            "unless changes are confirmed.\nProceed ? [Y/n] "
        )
        assert "You should save" not in out
        assert answer(s, "y") == "Initialized commit-confirm; 1 minutes to confirm before reload\n[edit]\n"
        assert alias(RA) == "reload-me"
        # reverted in place: the same session goes on, the daemon never restarted, BGP stays
        # (the commit of the revert takes a moment: wait for its end, the running config)
        wait_until(lambda: "reload-me" not in s.cmd("run show configuration commands"), timeout=30)
        assert alias(RA) == ""
        assert has_route(RA)
        assert (lab.specs[RA].state_dir / "run" / "daemon.pid").read_text() == pid
        s.cmd("set interfaces ethernet eth1 description 'kept'")
        ask(s, f"commit-confirm {LONG}", "Proceed ? [Y/n] ")
        answer(s, "y")
        assert s.cmd("confirm") == "Reload timer stopped\n[edit]\n"
        assert alias(RA) == "kept"
        s.cmd("delete system config-management commit-confirm")
        s.cmd("commit")
        s.cmd("exit")
    finally:
        s.close()


# ---------------------------------------------------------------- 1.3


def test_13_dialogue_pending_confirm_and_expiry(lab: Lab) -> None:
    s = Shell(IP[RO], ns=PEER)
    s.cmd("configure")
    s.cmd("set interfaces ethernet eth1 description 'old-one'")
    q = f"commit confirm will be automatically reboot in {LONG} minutes unless confirmed\nProceed? [confirm][y] "
    assert ask(s, f"commit-confirm {LONG}", "[confirm][y] ").endswith("\n" + q)
    assert answer(s, "n") == "commit-confirm canceled\n[edit]\n"
    ask(s, f"commit-confirm {LONG}", "[confirm][y] ")
    assert answer(s, "y") == "[edit]\n"  # 1.3 says nothing more: the commit ran
    assert alias(RO) == "old-one"
    assert "via cli" in s.cmd("run show system commit").splitlines()[0]  # logged at once on 1.3
    # another one while pending: the message, then a plain commit all the same
    s.cmd("set interfaces ethernet eth1 description 'old-two'")
    assert s.cmd("commit-confirm 5") == "Another confirm is pending\n[edit]\n"
    assert alias(RO) == "old-two"
    assert s.cmd("confirm") == "[edit]\n"
    assert s.cmd("confirm") == "No confirm pending\n[edit]\n"
    assert s.cmd("compare") == "No changes between working and active configurations\n[edit]\n"
    assert s.cmd("compare saved") != "[edit]\n"  # old-two is not saved
    s.cmd("save")
    assert s.cmd("compare saved") == "[edit]\n"  # 1.3: a bare showConfig diff prints nothing
    # expiry: reboot into the config.boot copied at commit-confirm
    s.cmd("set interfaces ethernet eth1 description 'old-three'")
    ask(s, "commit-confirm 1", "[confirm][y] ")
    answer(s, "")
    assert alias(RO) == "old-three"
    s.close()
    with HeldBoot(lab, RO):
        wait_until(lambda: not ssh_answers(RO), timeout=30)
        wait_until(lambda: not has_route(RO), timeout=10)
    wait_until(lambda: ssh_answers(RO), timeout=60)
    wait_until(lambda: has_route(RO), timeout=30)
    assert alias(RO) == "old-two"
    assert re.match(r"0\s+\S+ \S+ by root via other\n", history(RO))


def test_13_rollback_reboots(lab: Lab) -> None:
    s = Shell(IP[RO], ns=PEER)
    s.cmd("configure")
    s.cmd("set interfaces ethernet eth1 description 'r13-a'")
    s.cmd("commit")
    assert s.cmd("rollback 999") == "Invalid revision [999]\n[edit]\n"
    assert "Invalid command" in s.cmd("rollback-soft 1")  # 1.3 has no rollback-soft
    assert ask(s, "rollback 1", "[confirm][y] ").endswith("\nProceed with reboot? [confirm][y] ")
    assert answer(s, "n") == "Cancelling rollback\n[edit]\n"
    ask(s, "rollback 1", "[confirm][y] ")
    s.chan.send("y\n")
    wait_reboot(RO)
    wait_until(lambda: alias(RO) == "old-two", timeout=30)
    s.close()
