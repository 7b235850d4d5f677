"""VyOS 1.5 / rolling: vyos-1x current. Only what differs from 1.4 is listed; the rest is 1.4's.

Sections: config lifecycle; op mode and show; errors; BGP; WireGuard; secrets; commit-confirm action.
Each entry cites its source beside it (repo, release tag, path)."""

from __future__ import annotations

from lab.vyos.ledger import Entry, Ledger, Source, v1_4  # noqa: F401

# -- config lifecycle: save, compare, compare saved, commit, commit-confirm, confirm, rollback, load, exit,
#    discard, the commit-confirm wall broadcasts ----------------------------------------------------------
LIFECYCLE: list[Entry] = [
    # rolling (T5976, PR 4128): `system config-management commit-confirm action` chooses a reboot or an
    # in-place reload; the reboot question loses its blank line; the countdown has its own words.
    Entry(
        "commit_confirm.question",
        "\ncommit-confirm will automatically reboot in {minutes} minutes unless changes\nare confirmed.\nProceed ?",
        Source("vyos/vyos-1x", "current", "python/vyos/config_mgmt.py", "ConfigMgmt.commit_confirm"),
        evidence=(
            "commit-confirm will automatically reboot in {minutes} minutes unless changes",
            "if self.reboot_unconfirmed and unsaved_commits():",
        ),
        note="the unsaved-commits warning (1.4's commit_confirm.unsaved) only when the action is reboot",
    ),
    Entry(
        "commit_confirm.question_reload",
        "\ncommit-confirm will automatically reload previous config in {minutes} minutes\n"
        "unless changes are confirmed.\nProceed ?",
        Source("vyos/vyos-1x", "current", "python/vyos/config_mgmt.py", "ConfigMgmt.commit_confirm"),
        evidence=("commit-confirm will automatically reload previous config in {minutes} minutes",),
    ),
    Entry(
        "commit_confirm.initialized_reload",
        "Initialized commit-confirm; {minutes} minutes to confirm before reload\n",
        Source("vyos/vyos-1x", "current", "python/vyos/config_mgmt.py", "ConfigMgmt.commit_confirm"),
        evidence=("msg = f'Initialized commit-confirm; {minutes} minutes to confirm before reload'",),
    ),
    Entry(
        "confirm.stopped_reload",
        "Reload timer stopped\n",
        Source("vyos/vyos-1x", "current", "python/vyos/config_mgmt.py", "ConfigMgmt.confirm"),
        evidence=("msg = 'Reload timer stopped'",),
    ),
    Entry(
        "wall.countdown",
        "[commit-confirm] System will reboot in {interval} minute{s}\nto rollback the last commit.\n"
        "Confirm your changes to cancel the reboot.",
        Source("vyos/vyos-1x", "current", "src/helpers/commit-confirm-notify.py", "notify"),
        evidence=("System will reboot in", "Confirm your changes to cancel the reboot.", "intervals = [1, 5, 15, 60]"),
        note="commit_confirm() passes --reboot when the action is reboot; schedule and wall framing as 1.4's",
    ),
    Entry(
        "wall.countdown_reload",
        "[commit-confirm] System will reload previous config in {interval} minute{s}\nto rollback the last commit.\n"
        "Confirm your changes to cancel the reload.",
        Source("vyos/vyos-1x", "current", "src/helpers/commit-confirm-notify.py", "notify"),
        evidence=("System will reload previous config in", "Confirm your changes to cancel the reload."),
    ),
    Entry(
        "wall.revert_soft",
        "[commit-confirm] Reverting to previous config now",
        Source("vyos/vyos-1x", "current", "python/vyos/config_mgmt.py", "ConfigMgmt.revert_soft"),
        evidence=("message = '[commit-confirm] Reverting to previous config now'", "os.system('wall -n ' + message)"),
        note="when the reload timer fires, before revision 0 is loaded and committed",
    ),
]


# -- op mode and show: prompts, show version, show system commit, show ip route summary|forward|cache, ... --
OP_MODE: list[Entry] = [
]


# -- errors: Invalid value, the first ConfigError of a conf-mode script, set/commit failures ----------------
ERRORS: list[Entry] = [
]


# -- BGP: paths, parameters, error texts -------------------------------------------------------------------
BGP: list[Entry] = [
]


# -- WireGuard: keys, peers, errors, what a peer change does to the interface, op-mode reports --------------
WIREGUARD: list[Entry] = [
]


# -- secrets: which show commands mask which values ---------------------------------------------------------
SECRETS: list[Entry] = [
]


# -- commit-confirm action: whether the node exists, what expiry does --------------------------------------
CONFIRM_ACTION: list[Entry] = [
]


LEDGER = Ledger("1.5", *LIFECYCLE, *OP_MODE, *ERRORS, *BGP, *WIREGUARD, *SECRETS, *CONFIRM_ACTION, base=v1_4.LEDGER)
