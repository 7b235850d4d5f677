"""Op mode as a shell, pipes, compare texts and the op commands clients send, on both dialects; and
unmodified third-party clients (netmiko's own `vyos` driver, a plain OpenSSH session) using them.

Namespaces (prefix ``<EDGEKIT_TEST_NS>cl``): a 1.4 router (A), a 1.3 router (O) and a client namespace
wired to both, where clients run (`ip netns exec`: their sockets are opened there).
Sources are cited in lab/vyos/ops.py and lab/vyos/cli.py beside the behaviour.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from lab.vyos import RouterSpec, start_router, stop_router
from tests.lab.helpers import LAB_PASSWORD, Shell, del_netns, nsx, sh, veth

pytestmark = pytest.mark.lab

TAG = f"{os.environ.get('EDGEKIT_TEST_NS', 'ekt')[:3]}cl{os.getpid() % 100000}"
RA, RO, CLIENT = f"{TAG}a", f"{TAG}o", f"{TAG}c"
IP = {RA: "10.96.0.1", RO: "10.97.0.1"}
CLIENT_IP = {RA: "10.96.0.2", RO: "10.97.0.2"}
PASSWORD = LAB_PASSWORD
NAME = {RA: "edge-a", RO: "edge-o"}


class Lab:
    def __init__(self, base: Path) -> None:
        self.base = base
        self.key = base / "id_ed25519"
        self.specs = {
            RA: RouterSpec(NAME[RA], RA, base / "ra", "1.4", password=PASSWORD, boot_config=self.boot(RA)),
            RO: RouterSpec(NAME[RO], RO, base / "ro", "1.3", password=PASSWORD, boot_config=self.boot(RO)),
        }

    @staticmethod
    def boot(ns: str) -> list[str]:
        return [
            f"set interfaces ethernet eth1 address '{IP[ns]}/24'",
            "set interfaces ethernet eth1 description 'to-clients'",
            "set system config-management commit-revisions '100'",
        ]


@pytest.fixture(scope="module")
def lab(request: pytest.FixtureRequest) -> Iterator[Lab]:
    base = Path(tempfile.mkdtemp(prefix=f"{TAG}-", dir="/tmp"))
    os.chmod(base, 0o755)
    lab = Lab(base)

    def teardown() -> None:
        for spec in lab.specs.values():
            stop_router(spec.state_dir)
        for ns in (RA, RO, CLIENT):
            del_netns(ns)
        shutil.rmtree(base, ignore_errors=True)

    request.addfinalizer(teardown)
    for ns in (RA, RO, CLIENT):
        sh("ip", "netns", "add", ns)
    for i, r in enumerate((RA, RO)):
        veth(r, "eth1", CLIENT, f"eth{i}", f"{TAG}x{i}", f"{TAG}y{i}")
        nsx(CLIENT, "ip", "addr", "add", f"{CLIENT_IP[r]}/24", "dev", f"eth{i}")
    nsx(CLIENT, "ip", "link", "set", "lo", "up")
    sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(lab.key))
    for spec in lab.specs.values():
        spec.authorized_keys = [Path(str(lab.key) + ".pub").read_text().strip()]
        start_router(spec)
    yield lab


def shell(ns: str) -> Shell:
    return Shell(IP[ns], ns=CLIENT)


# ---------------------------------------------------------------- op mode is a shell


@pytest.mark.parametrize("ns", [RA, RO], ids=["1.4", "1.3"])  # ids: RA, RO hold the pid, which differs per xdist worker
def test_op_mode_runs_shell_commands(lab: Lab, ns: str) -> None:
    s = shell(ns)
    try:
        assert re.fullmatch(r"\d+\.\d+ \d+\.\d+\n", s.cmd("cat /proc/uptime"))
        assert s.cmd("hostname") == f"{NAME[ns]}\n"  # the router's own UTS namespace
        assert s.cmd("show host name") == f"{NAME[ns]}\n"
        assert s.cmd("echo data > a.txt") == ""
        assert s.cmd("cp a.txt b.txt") == ""
        assert s.cmd("cat b.txt") == "data\n"
        assert s.cmd("cat /proc/uptime | awk '{print $1}'").strip().replace(".", "").isdigit()
        assert s.cmd("no-such-program --x") == "-vbash: no-such-program: command not found\n"
        # VyOS words keep VyOS's errors (vyatta-op-run)
        assert s.cmd("show foo bar") == "\n  Invalid command: show [foo]\n\n"
        assert s.cmd("show") == "\n  Incomplete command: show\n\n"
        # not root: the op user is unprivileged
        assert s.cmd("id -u") == "65534\n"
    finally:
        s.close()


def test_exec_request_runs_a_shell_command(lab: Lab) -> None:
    out = ssh(lab, RA, "cat /proc/uptime")
    assert re.fullmatch(r"\d+\.\d+ \d+\.\d+\n", out.stdout), out
    out = ssh(lab, RA, "no-such-program")
    assert "vbash: line 1: no-such-program: command not found" in out.stdout


# ---------------------------------------------------------------- pipes


@pytest.mark.parametrize("ns", [RA, RO], ids=["1.4", "1.3"])  # ids: RA, RO hold the pid, which differs per xdist worker
def test_pipes(lab: Lab, ns: str) -> None:
    s = shell(ns)
    try:
        cmds = s.cmd("show configuration commands")
        assert s.cmd("show configuration commands | match eth1") == "".join(
            ln + "\n" for ln in cmds.splitlines() if "eth1" in ln
        )
        assert s.cmd("show configuration commands | grep description") == (
            "set interfaces ethernet eth1 description 'to-clients'\n"
        )
        assert s.cmd("show configuration commands | no-match eth1 | count").strip() == str(
            len([ln for ln in cmds.splitlines() if "eth1" not in ln])
        )
        assert s.cmd("show configuration commands | no-more") == cmds
        stripped = s.cmd("show configuration | strip-private")
        assert "host-name xxxxxx" in stripped and f"xxx.xxx.{IP[ns].split('.', 2)[2]}/24" in stripped
        assert NAME[ns] not in stripped
        assert s.cmd("show configuration | commands") == "commands pipe is not supported in operational mode\n"
        s.cmd("configure")
        out = s.cmd("show | commands")
        assert out == cmds + "[edit]\n"
        assert s.cmd("show interfaces | commands") == (
            f"set ethernet eth1 address '{IP[ns]}/24'\nset ethernet eth1 description 'to-clients'\n[edit]\n"
        )
        assert s.cmd("run show configuration commands | match host-name") == (
            f"set system host-name '{NAME[ns]}'\n[edit]\n"
        )
        s.cmd("set interfaces ethernet eth1 mtu 1400")
        assert s.cmd("show | commands") == (
            "You have uncommited changes, please commit them before using the commands pipe\n[edit]\n"
        )
        s.cmd("exit discard")
    finally:
        s.close()


# ---------------------------------------------------------------- compare


def test_compare_texts_per_dialect(lab: Lab) -> None:
    a, o = shell(RA), shell(RO)
    try:
        for s in (a, o):
            s.cmd("configure")
        # vyos-1x config_mgmt.py compare() + run()'s print() of a text that ends in a newline (1.4: a blank line
        # before [edit]); vyatta-config-mgmt.pl --action=diff (1.3, no full stop, no blank line)
        assert a.cmd("compare") == "No changes between working and active configurations.\n\n[edit]\n"
        assert a.cmd("compare saved") == "No changes between working and saved configurations.\n\n[edit]\n"
        assert a.cmd("compare s") == "No changes between working and saved configurations.\n\n[edit]\n"
        assert a.cmd("compare 0") == "No changes between working and revision 0 configurations.\n\n[edit]\n"
        assert a.cmd("compare foo") == "No changes between working and active configurations.\n\n[edit]\n"
        assert o.cmd("compare foo") == "Invalid number [foo]\n[edit]\n"
        assert o.cmd("compare") == "No changes between working and active configurations\n[edit]\n"
        assert o.cmd("compare saved") == "[edit]\n"
        assert o.cmd("compare 0") == "No changes between working and revision 0 configurations\n[edit]\n"
        assert a.cmd("compare 99") == "Invalid revision number 99\n[edit]\n"
        assert o.cmd("compare 99") == "Invalid revision [99]\n[edit]\n"
        for s in (a, o):
            s.cmd("set interfaces ethernet eth1 mtu 1400")
            out = s.cmd("compare")
            assert "+ mtu 1400" in out
            # 1.4: the diff is print()ed too (a blank line after it); 1.3 prints it as it is
            assert out.endswith("+ mtu 1400\n\n[edit]\n" if s is a else "+ mtu 1400\n[edit]\n")
            # discard has no indent (vyatta-cfg cstore.cpp discardChanges)
            assert s.cmd("discard") == "Changes have been discarded\n[edit]\n"
            assert s.cmd("discard") == "No changes have been discarded\n[edit]\n"
            assert s.cmd("exit now") == "Invalid argument \"now\" for 'exit'\n[edit]\n"
            assert s.cmd("exit") == "exit\n"  # nothing committed in this session: no warning
    finally:
        a.close()
        o.close()


# ---------------------------------------------------------------- op commands clients send


def test_show_commands_14(lab: Lab) -> None:
    s = shell(RA)
    try:
        # `show interfaces summary`: src/op_mode/interfaces.py _format_show_summary(): trailing spaces kept
        table = s.cmd("show interfaces summary")
        assert "\neth1             " + f"{IP[RA]}/24".ljust(33) + " u/u  to-clients\n" in table
        assert "\nlo               127.0.0.1/8                       u/u  \n" in table  # trailing spaces
        # plain `show interfaces` on 1.4.0 (T5749): _format_show_summary_extended(), tabulate with MAC, VRF, MTU
        wide = s.cmd("show interfaces")
        assert re.match(
            r"Codes: S - State, L - Link, u - Up, D - Down, A - Admin Down\n"
            r"Interface    IP Address +MAC                VRF        MTU  S/L    Description\n",
            wide,
        )
        eth1 = r"\neth1 +" + re.escape(f"{IP[RA]}/24") + r" +[0-9a-f:]{17}  default   1500  u/u    to-clients\n"
        assert re.search(eth1, wide)
        assert re.search(r"\nlo +127\.0\.0\.1/8 +00:00:00:00:00:00  default  65536  u/u\n", wide)  # rstripped
        detail = s.cmd("show interfaces ethernet eth1")
        assert detail.startswith("eth1@") and f"inet {IP[RA]}/24" in detail
        assert "    Description: to-clients\n" in detail
        assert re.search(r"\n\n    RX:\s+bytes\s+packets\s+errors\s+dropped\s+overrun\s+mcast\n", detail)
        assert s.cmd("ping 10.96.0.2 count 1").count("1 received") == 1
        arp = s.cmd("show arp")
        # tabulate "simple": columns at least header + 2 wide, rows rstripped
        assert arp.startswith(
            "Address    Interface    Link layer address    State\n"
            "---------  -----------  --------------------  -------\n"
        )
        assert re.search(r"\n10\.96\.0\.2  eth1         [0-9a-f:]{17}     [A-Z]+\n", arp)
        assert s.cmd("show lldp neighbors") == "LLDP is not configured\n"
        up = s.cmd("show system uptime")
        assert re.match(r"Uptime: (\d+[ywdhms] ?)+\n\nLoad averages:\n1  minute:   \d+\.\d%\n", up)
        version = s.cmd("show version")
        assert version.startswith("Version:          VyOS 1.4.0\nRelease train:    sagitta\nRelease flavor:   ")
        assert "\nHardware S/N:     \nHardware UUID:    " in version
    finally:
        s.close()


def test_show_commands_13(lab: Lab) -> None:
    s = shell(RO)
    try:
        table = s.cmd("show interfaces")
        assert "\neth1             " + f"{IP[RO]}/24".ljust(33) + " u/u  to-clients\n" in table
        assert s.cmd("ping 10.97.0.2 count 1").count("1 received") == 1
        arp = s.cmd("show arp")  # /usr/sbin/arp -e -n
        assert arp.startswith("Address") and "HWtype" in arp and "10.97.0.2" in arp
        assert s.cmd("show lldp neighbors") == "Service LLDP is not configured\n"
        assert "load average" in s.cmd("show system uptime")  # `uptime`
        version = s.cmd("show version")
        assert version.startswith("\nVersion:          VyOS 1.3.8\nRelease train:    equuleus\n\nBuilt by:")
        # equuleus show_version.py: jinja2 drops the template's final newline, print() adds one: no trailing blank
        # line (ledger v1_3 OP_MODE show.version)
        assert version.endswith("Copyright:        VyOS maintainers and contributors\n")
        assert not version.endswith("\n\n")
    finally:
        s.close()


# ---------------------------------------------------------------- unmodified clients


NETMIKO = textwrap.dedent(
    """
    import json, sys
    from netmiko import ConnectHandler

    host, password, question = sys.argv[1], sys.argv[2], sys.argv[3]
    c = ConnectHandler(device_type="vyos", host=host, username="vyos", password=password)
    out = {}
    out["host"] = c.send_command("show host name")
    out["match"] = c.send_command("show configuration commands | match description")
    out["grep"] = c.send_command("show configuration commands | grep host-name")
    out["uptime"] = c.send_command("cat /proc/uptime")
    c.config_mode()
    c.send_config_set(["set interfaces ethernet eth1 description 'netmiko-cc'"], exit_config_mode=False)
    out["question"] = c.send_command("commit-confirm 30", expect_string=question)
    out["yes"] = c.send_command("y", expect_string=r"#")
    out["confirm"] = c.send_command("confirm", expect_string=r"#")
    out["compare"] = c.send_command("compare", expect_string=r"#")
    c.exit_config_mode()
    out["after"] = c.send_command("show configuration commands | match netmiko")
    c.disconnect()
    print(json.dumps(out))
    """
)


@pytest.mark.parametrize("ns", [RA, RO], ids=["1.4", "1.3"])  # ids: RA, RO hold the pid, which differs per xdist worker
def test_unmodified_netmiko_vyos_session(lab: Lab, ns: str) -> None:
    script = lab.base / "netmiko_client.py"
    script.write_text(NETMIKO)
    question = r"\[Y/n\]" if ns == RA else r"\[confirm\]\[y\]"
    p = subprocess.run(
        ["ip", "netns", "exec", CLIENT, sys.executable, str(script), IP[ns], PASSWORD, question],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert p.returncode == 0, p.stderr[-2000:]
    out = json.loads(p.stdout.strip().splitlines()[-1])
    assert out["host"].strip() == NAME[ns]
    assert "set interfaces ethernet eth1 description 'to-clients'" in out["match"]
    assert out["grep"].strip() == f"set system host-name '{NAME[ns]}'"
    assert re.fullmatch(r"\d+\.\d+ \d+\.\d+", out["uptime"].strip())
    if ns == RA:
        assert "commit-confirm will automatically reboot in 30 minutes unless changes" in out["question"]
        assert "Initialized commit-confirm; 30 minutes to confirm before reboot" in out["yes"]
        assert "Reboot timer stopped" in out["confirm"]
        assert "No changes between working and active configurations." in out["compare"]
    else:
        assert "commit confirm will be automatically reboot in 30 minutes unless confirmed" in out["question"]
        assert "No confirm pending" not in out["confirm"]
        assert "No changes between working and active configurations" in out["compare"]
    assert "netmiko-cc" in out["after"]
    s = shell(ns)
    try:
        s.cmd("configure")
        assert s.cmd("confirm") == "No confirm pending\n[edit]\n"
        s.cmd("set interfaces ethernet eth1 description 'to-clients'")
        s.cmd("commit")
        s.cmd("exit")
    finally:
        s.close()


def ssh(lab: Lab, ns: str, command: str | None = None, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """OpenSSH from the client namespace: an exec request, or (command None) an interactive -tt session."""
    argv = ["ip", "netns", "exec", CLIENT, "ssh", "-i", str(lab.key), "-o", "StrictHostKeyChecking=no"]
    argv += ["-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes", "-o", "LogLevel=ERROR"]
    argv += ["-tt", f"vyos@{IP[ns]}"] if command is None else [f"vyos@{IP[ns]}", command]
    return subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("ns", [RA, RO], ids=["1.4", "1.3"])  # ids: RA, RO hold the pid, which differs per xdist worker
def test_plain_ssh_session(lab: Lab, ns: str) -> None:
    script = "\n".join(
        [
            "show host name",
            "show configuration commands | match host-name",
            "cat /proc/uptime",
            "configure",
            "set interfaces ethernet eth1 description 'ssh-cc'",
            "commit-confirm 30",
            "y",
            "confirm",
            "confirm",
            "compare",
            "set interfaces ethernet eth1 description 'to-clients'",
            "commit",
            "exit",
            "exit",
            "",
        ]
    )
    out = ssh(lab, ns, stdin=script)
    text = out.stdout.replace("\r\n", "\n")
    # The whole script is typed ahead, so where the terminal's echo of it lands among the answers depends on
    # timing: each answer is checked as a line of its own (none of them is a line of the script).
    lines = [line.removeprefix(f"vyos@{NAME[ns]}# ").removeprefix(f"vyos@{NAME[ns]}:~$ ") for line in text.split("\n")]
    assert NAME[ns] in lines  # show host name
    assert f"set system host-name '{NAME[ns]}'" in lines  # | match
    assert any(re.fullmatch(r"\d+\.\d+ \d+\.\d+", line) for line in lines)  # cat /proc/uptime
    if ns == RA:
        assert "commit-confirm will automatically reboot in 30 minutes unless changes\nare confirmed.\n" in text
        assert "Initialized commit-confirm; 30 minutes to confirm before reboot" in text
        assert "Proceed ? [Y/n] " in text
        assert lines.count("Reboot timer stopped") == 1  # the first confirm
        assert "No changes between working and active configurations." in lines
    else:
        assert "commit confirm will be automatically reboot in 30 minutes unless confirmed" in lines
        assert "Proceed? [confirm][y] " in text  # yes: nothing more is printed, and confirm is silent
        assert "Reboot timer stopped" not in text
        assert "No changes between working and active configurations" in lines
    assert lines.count("No confirm pending") == 1  # the second confirm only
