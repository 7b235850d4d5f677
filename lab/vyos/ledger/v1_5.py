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
    # compare, discard, exit, load (w21c)
    Entry(
        "compare.no_changes",
        "No changes between working and active configurations.\n\n",
        Source("vyos/vyos-1x", "current", "python/vyos/config_mgmt.py", "ConfigMgmt.compare(), run()"),
        evidence=("msg = 'No changes between working and active configurations.\\n'", "print(res)"),
        note="compare() returns the text with its newline and run() print()s it: a blank line follows, then [edit].",
        sources=(
            Source("vyos/vyatta-cfg", "current", "functions/interpreter/vyatta-cfg-run", "vyatta_config_compare"),
        ),
    ),
    Entry(
        "compare.no_changes_saved",
        "No changes between working and saved configurations.\n\n",
        Source("vyos/vyos-1x", "current", "python/vyos/config_mgmt.py", "ConfigMgmt.compare(saved=True), run()"),
        evidence=("msg = 'No changes between working and saved configurations.\\n'", "print(res)"),
        note="`compare saved` (any prefix of `saved`) runs `config-mgmt compare --saved`; the same blank line.",
        sources=(
            Source("vyos/vyatta-cfg", "current", "functions/interpreter/vyatta-cfg-run", "vyatta_config_compare"),
        ),
    ),
    Entry(
        "compare.no_changes_revision",
        "No changes between working and revision {rev} configurations.\n\n",
        Source("vyos/vyos-1x", "current", "python/vyos/config_mgmt.py", "ConfigMgmt.compare(rev1=N), run()"),
        evidence=("msg = f'No changes between working and revision {rev1} configurations.\\n'", "print(res)"),
    ),
    Entry(
        "compare.no_changes_revisions",
        "No changes between revisions {rev2} and {rev1} configurations.\n\n",
        Source("vyos/vyos-1x", "current", "python/vyos/config_mgmt.py", "ConfigMgmt.compare(rev1=N, rev2=M), run()"),
        evidence=(
            "msg = f'No changes between revisions {rev2} and {rev1} configurations.\\n'",
            "# compare older to newer",
        ),
        note="`compare N M` diffs revision M (older) against revision N.",
    ),
    Entry(
        "compare.invalid_revision",
        "Invalid revision number {rev}\n",
        Source("vyos/vyos-1x", "current", "python/vyos/config_mgmt.py", "ConfigMgmt.compare(), run()"),
        evidence=("return f'Invalid revision number {rev1}', 1",),
        note="no newline in the message: print() adds the only one. Words that are not numbers are dropped "
        "(wrap_compare), so `compare foo` is a plain `compare`.",
    ),
    Entry(
        "compare.after_diff",
        "\n",
        Source("vyos/vyos-1x", "current", "python/vyos/config_mgmt.py", "ConfigMgmt.compare(), run()"),
        evidence=("if out:", "msg = out", "print(res)"),
        note="the diff text (libvyosconfig show_diff: vyos/vyos1x-config master src/config_diff.ml marked_render, "
        "every rendered line with its newline) is print()ed: a blank line follows the diff too.",
    ),
    Entry(
        "discard.discarded",
        "Changes have been discarded\n",
        Source("vyos/vyatta-cfg", "current", "src/cstore/cstore.cpp", "Cstore::discardChanges"),
        evidence=('output_user("Changes have been discarded\\n");',),
        note="no indent (output_user is a plain printf to stdout).",
    ),
    Entry(
        "discard.nothing",
        "No changes have been discarded\n",
        Source("vyos/vyatta-cfg", "current", "src/cstore/cstore.cpp", "Cstore::discardChanges"),
        evidence=('output_user("No changes have been discarded\\n");',),
    ),
    Entry(
        "exit.modified",
        "Cannot exit: configuration modified.\nUse 'exit discard' to discard the changes and exit.\n",
        Source("vyos/vyatta-cfg", "current", "functions/interpreter/vyatta-cfg-run", "vyatta_config_exit"),
        evidence=(
            'echo "Cannot exit: configuration modified."',
            "echo \"Use 'exit discard' to discard the changes and exit.\"",
        ),
    ),
    Entry(
        "exit.invalid_argument",
        "Invalid argument \"{args}\" for 'exit'\n",
        Source("vyos/vyatta-cfg", "current", "functions/interpreter/vyatta-cfg-run", "vyatta_config_exit"),
        evidence=('echo "Invalid argument \\"$*\\" for \'exit\'"',),
        note="any prefix of `discard` is `discard` (get_prefix_filtered_list).",
    ),
    Entry(
        "exit.unsaved",
        "Warning: configuration changes have not been saved.\n",
        Source("vyos/vyatta-cfg", "current", "functions/interpreter/vyatta-cfg-run", "really_exit"),
        evidence=(
            "if vyatta_cli_shell_api sessionUnsaved; then",
            'echo "Warning: configuration changes have not been saved."',
        ),
        note="on `exit` and `exit discard`, when this session committed since its last `save` (the .unsaved marker "
        "is the session's own: commit-algorithm.cpp markSessionUnsaved, vyatta_config_save unmarkSessionUnsaved).",
    ),
    Entry(
        "exit.exit",
        "exit\n",
        Source("vyos/vyatta-cfg", "current", "functions/interpreter/vyatta-cfg-run", "really_exit"),
        evidence=("builtin exit 0",),
        note="the word is bash's own: the exit builtin of an interactive shell prints `exit`.",
    ),
    Entry(
        "load.modified",
        "Cannot load: configuration modified.\nCommit or discard the changes before loading a config file.\n",
        Source("vyos/vyatta-cfg", "current", "functions/interpreter/vyatta-cfg-run", "vyatta_config_load"),
        evidence=('echo "Cannot load: configuration modified."', "before loading a config file."),
    ),
    Entry(
        "merge.modified",
        "Cannot merge: configuration modified.\nCommit or discard the changes before merging a config file.\n",
        Source("vyos/vyatta-cfg", "current", "functions/interpreter/vyatta-cfg-run", "vyatta_config_merge"),
        evidence=('echo "Cannot merge: configuration modified."', "before merging a config file."),
    ),
    Entry(
        "load.loading",
        "Loading configuration from '{name}'\n",
        Source("vyos/vyos-1x", "current", "src/helpers/vyos-load-config.py"),
        evidence=("print(f\"Loading configuration from '{file_name}'\")",),
        note="printed once the file was read (a missing file stops before it).",
    ),
    Entry(
        "load.complete",
        "Load complete. Use 'commit' to make changes effective.\n",
        Source("vyos/vyos-1x", "current", "src/helpers/vyos-load-config.py"),
        evidence=("print(\"Load complete. Use 'commit' to make changes effective.\")",),
    ),
    Entry(
        "load.no_changes",
        "No configuration changes to commit.\n",
        Source("vyos/vyos-1x", "current", "src/helpers/vyos-load-config.py"),
        evidence=('print("No configuration changes to commit.")', "if config.session_changed():"),
        note="also merge's text (vyos-merge-config.py).",
    ),
    Entry(
        "load.no_such_file",
        "No such file '{name}'\n",
        Source("vyos/vyos-1x", "current", "src/helpers/vyos-load-config.py", "get_local_config"),
        evidence=(
            "sys.exit(f\"No such file '{filename}'\")",
            "elif os.path.isfile(os.path.join(configdir, filename)):",
        ),
        note="a relative name is looked up in the working directory first, then in /config.",
    ),
    Entry(
        "load.parse_failed",
        "\n",
        Source("vyos/vyos-1x", "current", "python/vyos/configsource.py", "ConfigSourceSession._run"),
        evidence=("p = subprocess.Popen(cmd, stdout=subprocess.PIPE)", "raise VyOSError()"),
        note="cli-shell-api loadFile prints `Failed to parse specified config file` (vyatta-cfg cstore.cpp loadFile) "
        "into _run's pipe; the VyOSError has no message and vyos-load-config.py sys.exit()s with it: one empty line. "
        "Paths of the file that fail validation are skipped (loadFile's `Set [...] failed` goes to the same pipe).",
        sources=(Source("vyos/vyatta-cfg", "current", "src/cstore/cstore.cpp", "Cstore::loadFile"),),
    ),
    Entry(
        "merge.complete",
        "Merge complete. Use 'commit' to make changes effective.\n",
        Source("vyos/vyos-1x", "current", "src/helpers/vyos-merge-config.py"),
        evidence=("print(\"Merge complete. Use 'commit' to make changes effective.\")",),
        note="merge prints no `Loading configuration` line; it adds the file's set commands the running config lacks.",
    ),
    Entry(
        "merge.usage",
        "Need config file name to merge.\nUsage: merge <config file> [config path]\n",
        Source("vyos/vyos-1x", "current", "src/helpers/vyos-merge-config.py"),
        evidence=('print("Need config file name to merge.")', 'print("Usage: merge <config file> [config path]")'),
    ),
    Entry(
        "merge.no_such_file",
        "[Errno 2] No such file or directory: '{canonical}'\n[Errno 2] No such file or directory: '{name}'\n",
        Source("vyos/vyos-1x", "current", "src/helpers/vyos-merge-config.py"),
        evidence=('canonical_path = "{0}/{1}".format(configdir, file_name)', "print(first_err)", "print(err)"),
        note="/config/NAME is tried first (also for an absolute NAME: `/config//var/tmp/x`), then NAME.",
    ),
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
ERRORS: list[Entry] = []


# -- BGP: paths, parameters, error texts -------------------------------------------------------------------
BGP: list[Entry] = []


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
SECRETS: list[Entry] = []


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
