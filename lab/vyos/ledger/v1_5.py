"""VyOS 1.5 / rolling: vyos-1x current. Only what differs from 1.4 is listed; the rest is 1.4's.

Sections: config lifecycle; op mode and show; errors; BGP; WireGuard; secrets; commit-confirm action.
Each entry cites its source beside it (repo, release tag, path)."""

from __future__ import annotations

from lab.vyos.ledger import Entry, Ledger, Source, v1_4  # noqa: F401

# -- config lifecycle: save, compare, compare saved, commit, commit-confirm, confirm, rollback, load, exit,
#    discard, the commit-confirm wall broadcasts ----------------------------------------------------------
LIFECYCLE: list[Entry] = [
]


# -- op mode and show: prompts, show version, show system commit, show ip route summary|forward|cache, ... --
OP_MODE: list[Entry] = [
    # The rest of 1.4's OP_MODE/ERRORS/BGP entries were audited at vyos-1x `current` too (their evidence is there
    # unchanged); only this one's source was reformatted, the output is the same tabulate "plain" table.
    Entry(
        "show.system-commit",
        "tabulate(rows, tablefmt='plain')",
        Source("vyos/vyos-1x", "current", "python/vyos/config_mgmt.py", "ConfigMgmt.format_log_data"),
        evidence=(
            """[l_no, time_str, f"by {l_val['user']}", f"via {l_val['commit_via']}"]""",
            "if l_val['commit_comment'] != 'commit':  # default comment",
            "res_l.append([None, l_val['commit_comment']])",
            "ret = tabulate(res_l, tablefmt='plain')",
        ),
        sources=(Source("vyos/vyos-1x", "current", "src/op_mode/config_mgmt.py", "show_commit_log"),),
        note="as 1.4: the number right-aligned, the comment in the time column, lines rstripped",
    ),
]


# -- errors: Invalid value, the first ConfigError of a conf-mode script, set/commit failures ----------------
ERRORS: list[Entry] = [
]


# -- BGP: paths, parameters, error texts -------------------------------------------------------------------
BGP: list[Entry] = [
]


# -- WireGuard: keys, peers, errors, what a peer change does to the interface, op-mode reports --------------
WIREGUARD: list[Entry] = [
    Entry(
        "wireguard.summary",
        "",
        Source("vyos/vyos-1x", "current", "op-mode-definitions/show-interfaces-wireguard.xml.in", "summary"),
        evidence=('interfaces_wireguard.py show_summary --intf-name="$4"',),
        note="VyOS's own report (T4833): python/vyos/ifconfig/wireguard.py show_interface(), lab/vyos/ops.py "
        "wireguard_summary; peers by name, handshake as a timedelta, sizes by hurry.filesize alternative",
        sources=(Source("vyos/vyos-1x", "current", "python/vyos/ifconfig/wireguard.py", "show_interface"),),
    ),
    Entry(
        "wireguard.summary_unconfigured",
        "WireGuard interface {ifname} is not configured",
        Source("vyos/vyos-1x", "current", "src/op_mode/interfaces_wireguard.py", "_verify"),
        evidence=("unconf_message = f'WireGuard interface {interface} is not configured'",),
        note="printed by the script's __main__ (print(e)), exit 1",
    ),
]


# -- secrets: which show commands mask which values ---------------------------------------------------------
SECRETS: list[Entry] = [
]


# -- commit-confirm action: whether the node exists, what expiry does --------------------------------------
CONFIRM_ACTION: list[Entry] = [
    Entry(
        "confirm_action.node",
        "",
        Source("vyos/vyos-1x", "current", "interface-definitions/system_config-management.xml.in", "commit-confirm"),
        evidence=(
            '<node name="commit-confirm">',
            "<regex>(reload|reboot)</regex>",
            "<defaultValue>reboot</defaultValue>",
        ),
        note="T5976, PR #4128 (2024-10): `system config-management commit-confirm action reload|reboot`, "
        "default reboot; reload reverts in place (config_mgmt.py revert_soft)",
    ),
]


LEDGER = Ledger("1.5", *LIFECYCLE, *OP_MODE, *ERRORS, *BGP, *WIREGUARD, *SECRETS, *CONFIRM_ACTION, base=v1_4.LEDGER)
