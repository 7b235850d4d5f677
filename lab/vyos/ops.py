"""Op mode as VyOS has it: a shell (vbash) with VyOS's op commands, pipes, and the op commands'
own formats. Everything here is cited beside it; the lab never shapes it after a client.

- Op mode is bash: vyatta-op functions/interpreter/vyatta-op-run (equuleus) makes each top-level op
  word (and its prefixes) a bash alias of ``_vyatta_op_run``; any other word is an ordinary command.
  The lab runs those in the router's namespaces as user nobody, with its own PATH, in a home
  directory under the state dir.
- Pipes: vyatta-op etc/bash_completion.d/vyatta-op ("pipe" functions: count, match, no-match,
  no-more, strip-private, commands, json); anything else after ``|`` is a shell command (grep, awk...).
"""

from __future__ import annotations

import asyncio
import grp
import ipaddress
import os
import re
import time
from pathlib import Path

from .ledger import text

# Top-level op words: vyos-1x op-mode-definitions/*.xml.in top nodes (1.4.0 and equuleus) plus the
# templates of vyatta-op (equuleus: add clear clone copy delete generate install monitor release rename
# set show). A line starting with another word is a shell command.
OP_WORDS = frozenset(
    "add clear clone configure connect copy delete disconnect force format generate install monitor ping "
    "poweroff reboot release rename renew reset restart set show telnet traceroute update wake-on-lan".split()
)

# The lab's own restricted PATH for shell commands.
SHELL_PATH = "/usr/bin:/bin:/usr/sbin:/sbin"
NOBODY = 65534

# vyatta-op etc/bash_completion.d/vyatta-op (equuleus and sagitta): the bash pipe functions.
PIPE_FUNCTIONS = (
    'count () { wc -l; }; match () { grep -E -e "$1"; }; no-match () { grep -E -v -e "$1"; }; no-more () { cat; }; '
)


def split_pipes(line: str) -> list[str]:
    """Split a command line at the ``|`` that are not inside quotes (bash's pipeline)."""
    out: list[str] = []
    cur: list[str] = []
    quote = ""
    i = 0
    while i < len(line):
        ch = line[i]
        if quote:
            if ch == quote:
                quote = ""
            elif ch == "\\" and quote == '"' and i + 1 < len(line):
                cur.append(ch)
                i += 1
                ch = line[i]
        elif ch in "'\"":
            quote = ch
        elif ch == "\\" and i + 1 < len(line):
            cur.append(ch)
            i += 1
            ch = line[i]
        elif ch == "|" and i + 1 < len(line) and line[i + 1] == "|":  # bash's `||`
            cur.append("||")
            i += 2
            continue
        elif ch == "|":
            out.append("".join(cur))
            cur = []
            i += 1
            continue
        cur.append(ch)
        i += 1
    out.append("".join(cur))
    return out


def home_dir(state: Path) -> Path:
    """The op-mode user's home (cwd of shell commands): writable by nobody, under the router's state."""
    home = state / "home" / "vyos"
    if not home.exists():
        home.mkdir(parents=True)
        os.chown(home, NOBODY, NOBODY)
        os.chown(home.parent, 0, 0)
    return home


def lab_bin(state: Path) -> Path:
    """The op-mode user's `vtysh` reaches the router's own FRR: VyOS puts its users in group frrvty (vyos-1x
    sagitta src/conf_mode/system_login.py `--groups frr,frrvty,...`; equuleus system-login.py `-G frrvty,...`)
    so `vtysh -c ...` works from op mode. The lab's FRR keeps its sockets under the state dir, so a wrapper
    named vtysh, first in PATH, adds the router's --vty_socket/--config_dir."""
    d = state / "bin"
    wrapper = d / "vtysh"
    frr = state / "frr"
    text = f'#!/bin/sh\nexec /usr/bin/vtysh --vty_socket "{frr}/run" --config_dir "{frr}" "$@"\n'
    if not wrapper.exists() or wrapper.read_text() != text:
        d.mkdir(parents=True, exist_ok=True)
        wrapper.write_text(text)
        wrapper.chmod(0o755)
    return d


def frrvty_gid() -> list[int]:
    try:
        return [grp.getgrnam("frrvty").gr_gid]
    except KeyError:
        return []


async def run_shell(line: str, state: Path, stdin: str | None = None, interactive: bool = True) -> str:
    """Run ``line`` with bash as vbash does, in the router's namespaces, as nobody; stdout+stderr.

    bash reports a missing command as ``NAME: line 1: WORD: command not found`` for ``-c``; an
    interactive login shell (argv[0] ``-vbash``) prints ``-vbash: WORD: command not found`` (bash's
    message with the login shell's name, as seen on Vyatta/VyOS consoles), so the line prefix is
    rewritten for interactive sessions."""
    from . import rootfs

    home = home_dir(state)
    pipe = asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL
    out_ = asyncio.subprocess.PIPE
    if rootfs.ready(state):
        # The router's own root (lab/vyos/rootfs.py): the files `load` and `save` see, nothing else writable.
        # chroot(1) changes to / and execs by path, so bash cds home and execs itself as `vbash`.
        env = {"PATH": f"{rootfs.LAB_BIN}:{SHELL_PATH}", "HOME": rootfs.HOME, "USER": "vyos", "LOGNAME": "vyos"}
        env["LANG"] = "C.UTF-8"
        groups = ",".join(str(g) for g in frrvty_gid())
        argv = ["/usr/sbin/chroot", f"--userspec={NOBODY}:{NOBODY}"] + ([f"--groups={groups}"] if groups else [])
        argv += [str(rootfs.root_dir(state)), "/bin/bash", "-c", f'cd {rootfs.HOME} && exec -a vbash /bin/bash -c "$1"']
        argv += ["vbash", PIPE_FUNCTIONS + line]
        p = await asyncio.create_subprocess_exec(
            *argv, stdin=pipe, stdout=out_, stderr=asyncio.subprocess.STDOUT, cwd="/", env=env
        )
    else:
        path = f"{lab_bin(state)}:{SHELL_PATH}"
        env = {"PATH": path, "HOME": str(home), "USER": "vyos", "LOGNAME": "vyos", "LANG": "C.UTF-8"}
        p = await asyncio.create_subprocess_exec(
            "vbash",
            "-c",
            PIPE_FUNCTIONS + line,
            executable="/bin/bash",
            stdin=pipe,
            stdout=out_,
            stderr=asyncio.subprocess.STDOUT,
            cwd=str(home),
            env=env,
            user=NOBODY,
            group=NOBODY,
            extra_groups=frrvty_gid(),
        )
    out, _ = await p.communicate(stdin.encode() if stdin is not None else None)
    text = out.decode(errors="replace")
    if interactive:
        text = re.sub(r"^vbash: line \d+: ", "-vbash: ", text, flags=re.M)
    return text


# ---------------------------------------------------------------- strip-private

# vyos-1x src/helpers/strip-private.py (1.4.0), strict mode (the default of the `strip-private` pipe).
_IPV4 = re.compile(r"(\d{1,3}\.){2}(\d{1,3}\.\d{1,3})")
_IPV6 = re.compile(r"([0-9a-fA-F]{1,4}\:){2}([0-9a-fA-F:]+)")
_STRIP_RULES = [
    (re.compile(r"password \S+"), "password xxxxxx"),
    (re.compile(r"cisco-authentication \S+"), "cisco-authentication xxxxxx"),
    (re.compile(r"public-keys \S+"), "public-keys xxxx@xxx.xxx"),
    (re.compile(r"type \'ssh-(rsa|dss)\'"), "type ssh-xxx"),
    (re.compile(r" key \S+"), " key xxxxxx"),
    (re.compile(r" bucket \S+"), " bucket xxxxxx"),
    (re.compile(r" token \S+"), " token xxxxxx"),
    (re.compile(r"(shared-secret-key-file|ca-cert-file|cert-file|dh-file|key-file|client) (\S+)"), r"\1 xxxxxx"),
    (re.compile(r"pre-shared-secret \S+"), "pre-shared-secret xxxxxx"),
    (re.compile(r"secret \S+"), "secret xxxxxx"),
    (re.compile(r"md5-key \S+"), "md5-key xxxxxx"),
    (re.compile(r"private-key \S+"), "private-key xxxxxx"),
    (re.compile(r"([0-9a-fA-F]{2}\:){5}([0-9a-fA-F]{2}((\:{0,1})){3})"), r"xx:xx:xx:xx:xx:\2"),
    (re.compile(r"(host-name|domain-name|domain-search|url) \S+"), r"\1 xxxxxx"),
    (re.compile(r"(user|username|user-id) \S+"), r"\1 xxxxxx"),
    (re.compile(r"(full-name) [ -_A-Z a-z]+"), r"\1 xxxxxx"),
    (re.compile(r"(shared-network-name|static-mapping) \S+"), r"\1 xxxxxx"),
    (re.compile(r" (peer|remote-host|local-host|server) ([\w-]+\.)+[\w-]+"), r" \1 xxxxx.tld"),
    (re.compile(r"(bgp|remote-as) (\d+)"), r"\1 XXXXXX"),
    (re.compile(r"(altitude|datum|latitude|longitude|ca-value|country-code) (\S+)"), r"\1 xxxxxx"),
    (re.compile(r"(location) \S+"), r"\1 xxxxxx"),
]


def _ip_match(m: re.Match[str], subst: str) -> str:
    try:
        ipaddress.ip_interface(m.group(0))  # netaddr IPNetwork(result) in the original
    except ValueError:
        return m.group(0)
    return m.expand(subst)


def strip_private(text: str) -> str:
    out = []
    for line in text.splitlines(keepends=True):
        line = _IPV6.sub(lambda m: _ip_match(m, r"xxxx:xxxx:\2"), line)
        line = _IPV4.sub(lambda m: _ip_match(m, r"xxx.xxx.\2"), line)
        for rx, subst in _STRIP_RULES:
            line = rx.sub(subst, line)
        out.append(line)
    return "".join(out)


# ---------------------------------------------------------------- tables


def tabulate_simple(rows: list[list[str]], headers: list[str], right: frozenset[int] = frozenset()) -> str:
    """python-tabulate's default "simple" format for string cells (what vyos-1x's op scripts print):
    a column is as wide as its widest cell and at least its header plus MIN_PADDING (2); cells are
    left-aligned, two spaces apart, a dashed rule under the headers; multi-line cells take several
    lines; every row is rstripped (_build_simple_row). Columns in `right` hold integers: tabulate's
    numalign "decimal" right-aligns them and their header (_align_header pads left)."""
    widths = [len(h) + 2 for h in headers]
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], *(len(x) for x in (cell or "").split("\n")))

    def line(cells: list[str]) -> str:
        return "  ".join(
            c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    out = [line(headers), line(["-" * w for w in widths])]
    for row in rows:
        parts = [(c or "").split("\n") for c in row]
        for k in range(max(len(p) for p in parts)):
            out.append(line([p[k] if k < len(p) else "" for p in parts]))
    return "\n".join(out)


def tabulate_plain(rows: list[list[object]]) -> str:
    """python-tabulate ``tabulate(rows, tablefmt="plain")`` without headers: short rows are padded with
    missing values (None -> ""), a column whose values are all int (or None) is right-aligned, others are
    left-aligned, columns two spaces apart, no minimum padding without headers, each line rstripped."""
    n = max(len(r) for r in rows)
    cells = [[("" if c is None else str(c)) for c in r] + [""] * (n - len(r)) for r in rows]
    numeric = [all(isinstance(r[i], int) or r[i] is None for r in rows if i < len(r)) for i in range(n)]
    widths = [max(len(r[i]) for r in cells) for i in range(n)]
    return "\n".join(
        "  ".join(
            c.rjust(w) if numeric[i] else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True))
        ).rstrip()
        for r in cells
    )


def commit_log_text(version: str, revisions: list[tuple[float, str, str, str]]) -> str:
    """`show system commit` (ledger OP_MODE): revisions are (time, user, via, comment), newest first.
    1.3: vyatta-config-mgmt ConfigMgmt.pm cm_commit_get_log, `%-2s  %s by %s via %s` and `    COMMENT`;
    1.4: vyos-1x config_mgmt.py format_log_data, tabulate plain, then print()."""
    stamp = [time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t)) for t, _, _, _ in revisions]
    if version == "1.3":
        out = []
        for n, ((_, user, via, comment), ts) in enumerate(zip(revisions, stamp, strict=True)):
            out.append(text(version, "show.system-commit.line", n=str(n), time=ts, user=user, via=via))
            if comment and comment != "commit":
                out.append(text(version, "show.system-commit.comment", comment=comment))
        return "".join(line + "\n" for line in out)
    rows: list[list[object]] = []
    for n, ((_, user, via, comment), ts) in enumerate(zip(revisions, stamp, strict=True)):
        rows.append([n, ts, f"by {user}", f"via {via}"])
        if (comment or "commit") != "commit":
            rows.append([None, comment])
    return (tabulate_plain(rows) if rows else "") + "\n"


def tabulate_plain_right(rows: list[list[str]]) -> str:
    """tabulate(..., stralign="right", numalign="right", tablefmt="plain")."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) for r in rows)


# ---------------------------------------------------------------- op commands


def version_text(version: str, train: str) -> str:
    """1.4: vyos-1x src/op_mode/version.py (1.4.0) template, rendered and stripped, then print(); 1.5/rolling:
    the same file on `current` (adds the Secure Boot line);
    1.3: src/op_mode/show_version.py (equuleus), whose template starts and ends with a newline.
    On a VM the serial may be empty; the UUID line follows it."""
    fields = [
        f"Version:          VyOS {version}",
        f"Release train:    {train}",
    ]
    if not version.startswith("1.3"):
        fields.append("Release flavor:   generic")  # 1.4's and current's templates have the flavor line
    fields += [
        "",
        # values are the lab's own (it is not VyOS); the fields are the template's
        "Built by:         edgekit lab (VyOS-compatible, not VyOS)",
        "Built on:         Mon 01 Jan 2024 00:00 UTC",
        "Build UUID:       00000000-0000-0000-0000-000000000000",
        "Build commit ID:  0000000000000",
        "",
        "Architecture:     x86_64",
        "Boot via:         installed image",
        "System type:      KVM guest",
        # vyos-1x current src/op_mode/version.py (rolling): `Secure Boot:` after System type; "n/a (BIOS)" when
        # not is_uefi_system()
        *(["Secure Boot:      n/a (BIOS)"] if "rolling" in version else []),
        "",
        "Hardware vendor:  edgekit",
        "Hardware model:   namespace lab",
        "Hardware S/N:     ",
        "Hardware UUID:    00000000-0000-0000-0000-000000000000",
        "",
        "Copyright:        VyOS maintainers and contributors",
    ]
    body = "\n".join(fields)
    # ledger OP_MODE show.version: 1.3 keeps the template's leading newline and (jinja2 dropping the final
    # newline) has no trailing blank line; 1.4 strips both
    return text(version[:3], "show.version", body=body)


def seconds_to_human(s: int, separator: str = "") -> str:
    """vyos-1x python/vyos/utils/convert.py seconds_to_human() (1.4.0)."""
    year, week, day, hour = 60 * 60 * 24 * 365.25, 60 * 60 * 24 * 7, 60 * 60 * 24, 60 * 60
    result = []
    years = s // year
    if years > 0:
        result.append(f"{int(years)}y")
        s = int(s % year)
    for unit, name in ((week, "w"), (day, "d"), (hour, "h"), (60, "m")):
        n = s // unit
        if n > 0:
            result.append(f"{n}{name}")
            s = s % unit
    if s > 0:
        result.append(f"{s}s")
    return separator.join(result)


def uptime_text_14() -> str:
    """vyos-1x src/op_mode/uptime.py (1.4.0): uptime and load averages per core, then print()."""
    seconds = int(float(Path("/proc/uptime").read_text().split()[0]))
    loads = [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]
    cores = os.cpu_count() or 1
    out = f"Uptime: {seconds_to_human(seconds, separator=' ')}\n\n"
    out += "Load averages:\n"
    out += f"1  minute:   {loads[0] / cores * 100:.01f}%\n"
    out += f"5  minutes:  {loads[1] / cores * 100:.01f}%\n"
    out += f"15 minutes:  {loads[2] / cores * 100:.01f}%\n"
    return out + "\n"


def interfaces_summary(links: dict[str, dict]) -> str:
    """The fixed-width table: vyos-1x src/op_mode/interfaces.py _format_show_summary() (1.4.0; the 1.3
    show_interfaces.py run_show_intf_brief() is the same). format1 pads the state to 4 columns, so a row
    without a description keeps its trailing spaces (ntc-templates' vyatta_vyos_show_interfaces needs
    them)."""
    format1 = text("1.4", "show.interfaces.summary-format")  # the same on 1.3 (ledger OP_MODE)
    format2 = "%-16s %s"
    out = [
        "Codes: S - State, L - Link, u - Up, D - Down, A - Admin Down",
        format1 % ("Interface", "IP Address", "S/L", "Description"),
        format1 % ("---------", "----------", "---", "-----------"),
    ]
    for name, link in sorted(links.items()):
        flags = link.get("flags", [])
        admin = ["u"] if "UP" in flags else ["A"]
        operstate = str(link.get("operstate", "")).lower()
        oper = ["u"] if operstate in ("up", "unknown") else ["D"]
        addrs = [
            f"{a['local']}/{a['prefixlen']}" for a in link.get("addr_info", []) if not a["local"].startswith("fe80::")
        ] or ["-"]
        descs = [link["ifalias"]] if link.get("ifalias") else []
        ifname = [name]
        while ifname or oper or admin or addrs or descs:
            i = ifname.pop(0) if ifname else ""
            a = addrs.pop(0) if addrs else ""
            d = descs.pop(0) if descs else ""
            s = [admin.pop(0)] if admin else []
            ln = [oper.pop(0)] if oper else []
            if len(a) < 33:
                out.append(format1 % (i, a, "/".join(s + ln), d))
            else:
                out.append(format2 % (i, a))
                out.append(format1 % ("", "", "/".join(s + ln), d))
    return "\n".join(out) + "\n"


def split_text(text: str, used: int = 0, columns: int = 80) -> list[str]:
    """vyos-1x src/op_mode/interfaces.py _split_text() (1.4.0): words joined into lines shorter than the
    terminal width; without a tty (`tty -s` fails, as in an exec request) the width is 80."""
    desc_len = columns - used
    out: list[str] = []
    line = ""
    for word in text.split():
        if len(line) + len(word) < desc_len:
            line = f"{line} {word}"
            continue
        if line:
            out.append(line[1:])
            line = f" {word}"
        else:
            line = f"{line} {word}"
    out.append(line[1:])
    return out


def interfaces_extended(links: dict[str, dict]) -> str:
    """1.4's plain `show interfaces`: vyos-1x op-mode-definitions/show-interfaces.xml.in (tag 1.4.0) runs
    `interfaces.py show_summary_extended` since commit 2f3987416 (T5749, which swapped it with `show
    interfaces summary`; bd873274d, T5747, had added the table). _format_show_summary_extended() prints
    the Codes line, then tabulate(table_data, headers) ("simple"): Interface, IP Address (one per line,
    fe80:: left out, `-` when none), MAC (`n/a` for names starting tun/wg: is_interface_has_mac()), VRF
    (the vrf master, else `default`), MTU (an int: right-aligned), S/L, Description (_split_text() lines).
    Data as _get_summary_data(): Interface.get_mac/get_mtu/get_vrf read `ip -json -detail link`."""
    rows = []
    for name, link in sorted(links.items()):
        oper = "u" if str(link.get("operstate", "")).lower() in ("up", "unknown") else "D"
        admin = "u" if "UP" in link.get("flags", []) else "A"
        addrs = [
            f"{a['local']}/{a['prefixlen']}" for a in link.get("addr_info", []) if not a["local"].startswith("fe80::")
        ] or ["-"]
        mac = link.get("address") if not name.startswith(("tun", "wg")) else "n/a"
        vrf = link.get("master") if link.get("linkinfo", {}).get("info_slave_kind") == "vrf" else None
        mtu = link.get("mtu")
        description = "\n".join(split_text(link.get("ifalias", "") or "", 0))
        rows.append(
            [
                name,
                "\n".join(addrs),
                mac or "n/a",
                vrf or "default",
                str(mtu) if mtu else "n/a",
                f"{admin}/{oper}",
                description,
            ]
        )
    headers = ["Interface", "IP Address", "MAC", "VRF", "MTU", "S/L", "Description"]
    # tabulate right-aligns the MTU column only while every cell is a number (else it is a string column)
    right = frozenset({4}) if all(r[4].isdigit() for r in rows) else frozenset()
    codes = "Codes: S - State, L - Link, u - Up, D - Down, A - Admin Down\n"
    return codes + tabulate_simple(rows, headers, right) + "\n"


def interface_detail(name: str, ip_text: str, description: str) -> str:
    """`show interfaces ethernet ethN`: vyos-1x src/op_mode/interfaces.py _format_show_data() (1.4.0;
    1.3 show_interfaces.py run_show_intf()): `ip addr show` without its index, the description, a blank
    line and the counters (_format_stats(): tabulate plain, right-aligned, indented by 4)."""
    out = re.sub(r"^\d+:\s+", "", ip_text).rstrip("\n") + "\n"
    if description:
        out += f"    Description: {description}\n"
    stats_dir = Path("/sys/class/net") / name / "statistics"

    def stat(k: str) -> str:
        try:
            return (stats_dir / k).read_text().strip()
        except OSError:
            return "0"

    names = {
        "rx": ["bytes", "packets", "errors", "dropped", "overrun", "mcast"],
        "tx": ["bytes", "packets", "errors", "dropped", "carrier", "collisions"],
    }
    keys = {
        "rx": ["rx_bytes", "rx_packets", "rx_errors", "rx_dropped", "rx_over_errors", "multicast"],
        "tx": ["tx_bytes", "tx_packets", "tx_errors", "tx_dropped", "tx_carrier_errors", "collisions"],
    }
    rows: list[list[str]] = []
    for rtx in ("rx", "tx"):
        rows.append([f"{rtx.upper()}:", *names[rtx]])
        rows.append(["", *[stat(k) for k in keys[rtx]]])
    table = tabulate_plain_right(rows)
    out += "\n" + "    " + table.replace("\n", "\n    ") + "\n"
    return out


def arp_14(neighbors: list[dict]) -> str:
    """`show arp` 1.4: vyos-1x src/op_mode/neighbor.py (1.4.0; ledger OP_MODE show.arp): tabulate of
    `ip --family inet --json neighbor list`, then print()."""
    rows = []
    for e in neighbors:
        rows.append([e["dst"], e.get("dev", ""), e.get("lladdr", ""), ", ".join(e.get("state", []))])
    return tabulate_simple(rows, ["Address", "Interface", "Link layer address", "State"]) + "\n"


def _size_alternative(n: int) -> str:
    """hurry.filesize size(n, system=alternative), as vyos-1x current python/vyos/ifconfig/wireguard.py calls it:
    1024-based, the integer part only, " bytes"/" byte" below 1 KB."""
    for factor, suffix in ((1024**5, " PB"), (1024**4, " TB"), (1024**3, " GB"), (1024**2, " MB"), (1024, " KB")):
        if n >= factor:
            return f"{int(n / factor)}{suffix}"
    return f"{n} byte" if n == 1 else f"{n} bytes"


def wireguard_summary(ifname: str, running: dict, dump: str, release: str, now: float | None = None) -> str:
    """1.5/rolling `show interfaces wireguard IF summary`: vyos-1x current src/op_mode/interfaces_wireguard.py
    show_summary() -> python/vyos/ifconfig/wireguard.py WireGuardOperational.show_interface() over `wg show all
    dump`, printed by vyos.opmode.run (print() adds a newline). Not configured: its UnconfiguredSubsystem text."""
    from datetime import timedelta

    from .config import _natural_key, sub, value, values
    from .ledger import text

    cfg = sub(running, "interfaces", "wireguard").get(ifname)
    if cfg is None:
        return text(release, "wireguard.summary_unconfigured", ifname=ifname) + "\n"
    now = time.time() if now is None else now
    device: dict = {}
    peers: dict[str, list[str]] = {}
    for line in dump.splitlines():
        items = line.split("\t")
        if not line or items[0] != ifname:
            continue
        if len(items) == 5:
            device = {"public_key": items[2], "listen_port": int(items[3])}
        elif len(items) == 9:
            peers[items[1]] = items
    answer = f"interface: {ifname}\n"
    if value(cfg, "description"):
        answer += f"  description: {value(cfg, 'description')}\n"
    if values(cfg, "address"):
        answer += f"  address: {', '.join(values(cfg, 'address'))}\n"
    answer += f"  public key: {device.get('public_key')}\n"
    answer += "  private key: (hidden)\n"
    answer += f"  listening port: {device.get('listen_port')}\n"
    answer += "\n"
    # c.list_effective_nodes(['peer']): the tag's names in the config's (natural) order
    for peer, pc in sorted(sub(cfg, "peer").items(), key=lambda kv: _natural_key(kv[0])):
        if not peers:
            continue
        pubkey = value(pc, "public-key")
        if pubkey in peers:
            _dev, _pub, _psk, endpoint, allowed, handshake, rx, tx, keepalive = peers[pubkey]
            answer += f"  peer: {peer}\n"
            answer += f"    public key: {pubkey}\n"
            latest = None if handshake == "0" else int(handshake)
            if latest is not None and latest > 0:
                answer += f"    latest handshake: {timedelta(seconds=int(now - latest))}\n"
                answer += f"    status: {'active' if now - latest < 60 * 5 else 'inactive'}\n"
            if endpoint != "(none)":
                answer += f"    endpoint: {endpoint}\n"
            allowed_ips = [] if allowed == "(none)" else allowed.split("\t")
            answer += f"    allowed ips: {','.join(allowed_ips).replace(',', ', ')}\n"
            if int(rx) > 0 or int(tx) > 0:
                answer += f"    transfer: {_size_alternative(int(rx))} received, {_size_alternative(int(tx))} sent\n"
            if keepalive != "off":
                answer += f"    persistent keepalive: every {keepalive} seconds\n"
        answer += "\n"
    return answer + "\n"
