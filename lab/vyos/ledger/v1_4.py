"""VyOS 1.4 (sagitta): vyos-1x and vyatta-cfg at sagitta / 1.4.x tags.

Sections: config lifecycle; op mode and show; errors; BGP; WireGuard; secrets; commit-confirm action.
Each entry cites its source beside it (repo, release tag, path)."""

from __future__ import annotations

from lab.vyos.ledger import Entry, Ledger, Source  # noqa: F401

# -- config lifecycle: save, compare, compare saved, commit, commit-confirm, confirm, rollback, load, exit,
#    discard, the commit-confirm wall broadcasts ----------------------------------------------------------
LIFECYCLE: list[Entry] = [
    # save: vyatta-cfg-run hands over to vyos-save-config.py, which writes the file and prints nothing.
    Entry(
        "save.done",
        "",
        Source("vyos/vyatta-cfg", "1.4.0-epa2", "functions/interpreter/vyatta-cfg-run", "vyatta_config_save"),
        evidence=('local save_cmd="${vyos_libexec_dir}/vyos-save-config.py"', "unmarkSessionUnsaved"),
        note="vyos-1x 1.4.0 src/helpers/vyos-save-config.py prints only on failure (sys.exit(e), 'failed to "
        "write JSON file'); a successful save prints nothing at all",
        sources=(Source("vyos/vyos-1x", "1.4.0", "src/helpers/vyos-save-config.py"),),
    ),
    Entry(
        "save.uncommitted",
        "Warning: you have uncommitted changes that will not be saved.\n\n",
        Source("vyos/vyatta-cfg", "1.4.0-epa2", "functions/interpreter/vyatta-cfg-run", "vyatta_config_save"),
        evidence=(
            "Warning: you have uncommitted changes that will not be saved.",
            "vyatta_cli_shell_api sessionChanged",
        ),
        note="echo -e of a text that ends in \\n: the warning and a blank line, then the save goes on",
    ),
    Entry(
        "commit.nothing",
        "No configuration changes to commit\n",
        Source("vyos/vyatta-cfg", "1.4.0-epa2", "functions/interpreter/vyatta-cfg-run", "vyatta_config_commit"),
        evidence=('echo "No configuration changes to commit"',),
        note="also the first check of vyatta_config_commit-confirm, before config-mgmt runs (no timer)",
    ),
    Entry(
        "commit_confirm.unsaved",
        "\nYou should save previous commits before commit-confirm !\n",
        Source("vyos/vyos-1x", "1.4.0", "python/vyos/config_mgmt.py", "ConfigMgmt.commit_confirm"),
        evidence=("You should save previous commits before commit-confirm !", "if unsaved_commits():"),
        note="put in front of the question",
    ),
    Entry(
        "commit_confirm.question",
        "\ncommit-confirm will automatically reboot in {minutes} minutes unless changes\nare confirmed.\n\nProceed ?",
        Source("vyos/vyos-1x", "1.4.0", "python/vyos/config_mgmt.py", "ConfigMgmt.commit_confirm"),
        evidence=(
            "commit-confirm will automatically reboot in {minutes} minutes unless changes",
            "are confirmed.",
            "Proceed ?",
            "ask_yes_no(prompt_str, default=True)",
        ),
        note="an f-string in triple quotes: a newline first, a blank line before 'Proceed ?'; vyos.utils.io "
        "ask_yes_no(default=True) writes it followed by ' [Y/n] '; Enter = yes, Ctrl-C = no",
        sources=(Source("vyos/vyos-1x", "1.4.0", "python/vyos/utils/io.py", "ask_yes_no"),),
    ),
    Entry(
        "commit_confirm.initialized",
        "Initialized commit-confirm; {minutes} minutes to confirm before reboot\n",
        Source("vyos/vyos-1x", "1.4.0", "python/vyos/config_mgmt.py", "ConfigMgmt.commit_confirm"),
        evidence=("msg = f'Initialized commit-confirm; {minutes} minutes to confirm before reboot'",),
        note="printed by config-mgmt after the systemd timer is started and before vyatta_config_commit runs "
        "(vyatta-cfg-run vyatta_config_commit-confirm): a failing commit leaves the timer running",
    ),
    Entry(
        "commit_confirm.canceled",
        "commit-confirm canceled\n",
        Source("vyos/vyos-1x", "1.4.0", "python/vyos/config_mgmt.py", "ConfigMgmt.commit_confirm"),
        evidence=("msg = 'commit-confirm canceled'",),
        note="rc 1: nothing is committed",
    ),
    Entry(
        "commit_confirm.another_pending",
        "Another confirm is pending\n",
        Source("vyos/vyos-1x", "1.4.0", "python/vyos/config_mgmt.py", "ConfigMgmt.commit_confirm"),
        evidence=("msg = 'Another confirm is pending'", "return msg, 1"),
        note="rc 1: vyatta-cfg-run commits only when config-mgmt returns 0",
    ),
    Entry(
        "confirm.stopped",
        "Reboot timer stopped\n",
        Source("vyos/vyos-1x", "1.4.0", "python/vyos/config_mgmt.py", "ConfigMgmt.confirm"),
        evidence=("msg = 'Reboot timer stopped'", "sudo pkill -f commit-confirm-notify.py"),
        note="also logs the commit-confirm's commit (kept aside in /tmp/commit-rev-entry until now): only then "
        "is it in `show system commit`",
    ),
    Entry(
        "confirm.none",
        "No confirm pending\n",
        Source("vyos/vyos-1x", "1.4.0", "python/vyos/config_mgmt.py", "ConfigMgmt.confirm"),
        evidence=("msg = 'No confirm pending'",),
        note="rc 0; commit-confirm.timer is inactive: what proves that no timer is pending",
    ),
    Entry(
        "wall.countdown",
        "[commit-confirm] System is going to reboot in {interval} minute{s} to rollback the last commit.\n"
        "Confirm your changes to cancel the reboot.",
        Source("vyos/vyos-1x", "1.4.0", "src/helpers/commit-confirm-notify.py", "notify"),
        evidence=(
            "intervals = [1, 5, 15, 60]",
            "System is going to reboot in",
            "Confirm your changes to cancel the reboot.",
            'os.system("wall -n " + message)',
            "intervals.remove(minutes)",
        ),
        note="started by config_mgmt.py commit_confirm() (sudo -b ... commit-confirm-notify.py N), killed by "
        "confirm: wall -n N-I minutes after the start for each I in 60, 15, 5, 1 with I < N (I == N dropped; "
        "none for N=1). util-linux 2.38 term-utils/wall.c makemsg() (Debian bookworm, as VyOS 1.4) frames "
        "the text with a line of 79 spaces before and after and writes it to every logged-in tty, wherever "
        "the session's output is at that moment",
        sources=(Source("vyos/vyos-1x", "1.4.0", "python/vyos/config_mgmt.py", "ConfigMgmt.commit_confirm"),),
    ),
    Entry(
        "rollback.args",
        "Error: must include a revision # to rollback to\n",
        Source("vyos/vyatta-cfg", "1.4.0-epa2", "functions/interpreter/vyatta-cfg-run", "vyatta_config_rollback"),
        evidence=('echo "Error: must include a revision # to rollback to"',),
        note="the same for rollback-soft (vyatta_config_rollback-soft)",
    ),
    Entry(
        "rollback.invalid",
        "Invalid revision number {rev}: must be 0 < rev < {count}\n",
        Source("vyos/vyos-1x", "1.4.0", "python/vyos/config_mgmt.py", "ConfigMgmt.rollback"),
        evidence=("msg = f'Invalid revision number {rev}: must be 0 < rev < {self.num_revisions}'",),
        note="rc 1 (0 <= rev < count is accepted, whatever the text says); rollback_soft() says the same",
    ),
    Entry(
        "rollback.question",
        "Proceed with reboot ?",
        Source("vyos/vyos-1x", "1.4.0", "python/vyos/config_mgmt.py", "ConfigMgmt.rollback"),
        evidence=("prompt_str = 'Proceed with reboot ?'",),
        note="through ask_yes_no(default=True): ' [Y/n] ' follows",
    ),
    Entry(
        "rollback.canceled",
        "Canceling rollback\n",
        Source("vyos/vyos-1x", "1.4.0", "python/vyos/config_mgmt.py", "ConfigMgmt.rollback"),
        evidence=("msg = 'Canceling rollback'",),
    ),
    Entry(
        "rollback_soft.applied",
        'Rollback diff has been applied.\nUse "compare" to review the changes or "commit" to apply them.\n',
        Source("vyos/vyos-1x", "1.4.0", "python/vyos/config_mgmt.py", "ConfigMgmt.rollback_soft"),
        evidence=(
            "print('Rollback diff has been applied.')",
            """print('Use "compare" to review the changes or "commit" to apply them.')""",
        ),
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


LEDGER = Ledger("1.4", *LIFECYCLE, *OP_MODE, *ERRORS, *BGP, *WIREGUARD, *SECRETS, *CONFIRM_ACTION)
