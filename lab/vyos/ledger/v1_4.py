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
    # compare, discard, exit, load (w21c)
    Entry(
        "compare.no_changes",
        "No changes between working and active configurations.\n\n",
        Source("vyos/vyos-1x", "1.4.0", "python/vyos/config_mgmt.py", "ConfigMgmt.compare(), run()"),
        evidence=("msg = 'No changes between working and active configurations.\\n'", "print(res)"),
        note="compare() returns the text with its newline and run() print()s it: a blank line follows, then [edit].",
        sources=(
            Source("vyos/vyatta-cfg", "sagitta", "functions/interpreter/vyatta-cfg-run", "vyatta_config_compare"),
        ),
    ),
    Entry(
        "compare.no_changes_saved",
        "No changes between working and saved configurations.\n\n",
        Source("vyos/vyos-1x", "1.4.0", "python/vyos/config_mgmt.py", "ConfigMgmt.compare(saved=True), run()"),
        evidence=("msg = 'No changes between working and saved configurations.\\n'", "print(res)"),
        note="`compare saved` (any prefix of `saved`) runs `config-mgmt compare --saved`; the same blank line.",
        sources=(
            Source("vyos/vyatta-cfg", "sagitta", "functions/interpreter/vyatta-cfg-run", "vyatta_config_compare"),
        ),
    ),
    Entry(
        "compare.no_changes_revision",
        "No changes between working and revision {rev} configurations.\n\n",
        Source("vyos/vyos-1x", "1.4.0", "python/vyos/config_mgmt.py", "ConfigMgmt.compare(rev1=N), run()"),
        evidence=("msg = f'No changes between working and revision {rev1} configurations.\\n'", "print(res)"),
    ),
    Entry(
        "compare.no_changes_revisions",
        "No changes between revisions {rev2} and {rev1} configurations.\n\n",
        Source("vyos/vyos-1x", "1.4.0", "python/vyos/config_mgmt.py", "ConfigMgmt.compare(rev1=N, rev2=M), run()"),
        evidence=(
            "msg = f'No changes between revisions {rev2} and {rev1} configurations.\\n'",
            "# compare older to newer",
        ),
        note="`compare N M` diffs revision M (older) against revision N.",
    ),
    Entry(
        "compare.invalid_revision",
        "Invalid revision number {rev}\n",
        Source("vyos/vyos-1x", "1.4.0", "python/vyos/config_mgmt.py", "ConfigMgmt.compare(), run()"),
        evidence=("return f'Invalid revision number {rev1}', 1",),
        note="no newline in the message: print() adds the only one. Words that are not numbers are dropped "
        "(wrap_compare), so `compare foo` is a plain `compare`.",
    ),
    Entry(
        "compare.after_diff",
        "\n",
        Source("vyos/vyos-1x", "1.4.0", "python/vyos/config_mgmt.py", "ConfigMgmt.compare(), run()"),
        evidence=("if out:", "msg = out", "print(res)"),
        note="the diff text (libvyosconfig show_diff: vyos/vyos1x-config sagitta src/config_diff.ml marked_render, "
        "every rendered line with its newline) is print()ed: a blank line follows the diff too.",
    ),
    Entry(
        "discard.discarded",
        "Changes have been discarded\n",
        Source("vyos/vyatta-cfg", "sagitta", "src/cstore/cstore.cpp", "Cstore::discardChanges"),
        evidence=('output_user("Changes have been discarded\\n");',),
        note="no indent (output_user is a plain printf to stdout).",
    ),
    Entry(
        "discard.nothing",
        "No changes have been discarded\n",
        Source("vyos/vyatta-cfg", "sagitta", "src/cstore/cstore.cpp", "Cstore::discardChanges"),
        evidence=('output_user("No changes have been discarded\\n");',),
    ),
    Entry(
        "exit.modified",
        "Cannot exit: configuration modified.\nUse 'exit discard' to discard the changes and exit.\n",
        Source("vyos/vyatta-cfg", "sagitta", "functions/interpreter/vyatta-cfg-run", "vyatta_config_exit"),
        evidence=(
            'echo "Cannot exit: configuration modified."',
            "echo \"Use 'exit discard' to discard the changes and exit.\"",
        ),
    ),
    Entry(
        "exit.invalid_argument",
        "Invalid argument \"{args}\" for 'exit'\n",
        Source("vyos/vyatta-cfg", "sagitta", "functions/interpreter/vyatta-cfg-run", "vyatta_config_exit"),
        evidence=('echo "Invalid argument \\"$*\\" for \'exit\'"',),
        note="any prefix of `discard` is `discard` (get_prefix_filtered_list).",
    ),
    Entry(
        "exit.unsaved",
        "Warning: configuration changes have not been saved.\n",
        Source("vyos/vyatta-cfg", "sagitta", "functions/interpreter/vyatta-cfg-run", "really_exit"),
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
        Source("vyos/vyatta-cfg", "sagitta", "functions/interpreter/vyatta-cfg-run", "really_exit"),
        evidence=("builtin exit 0",),
        note="the word is bash's own: the exit builtin of an interactive shell prints `exit`.",
    ),
    Entry(
        "load.modified",
        "Cannot load: configuration modified.\nCommit or discard the changes before loading a config file.\n",
        Source("vyos/vyatta-cfg", "sagitta", "functions/interpreter/vyatta-cfg-run", "vyatta_config_load"),
        evidence=('echo "Cannot load: configuration modified."', "before loading a config file."),
    ),
    Entry(
        "merge.modified",
        "Cannot merge: configuration modified.\nCommit or discard the changes before merging a config file.\n",
        Source("vyos/vyatta-cfg", "sagitta", "functions/interpreter/vyatta-cfg-run", "vyatta_config_merge"),
        evidence=('echo "Cannot merge: configuration modified."', "before merging a config file."),
    ),
    Entry(
        "load.loading",
        "Loading configuration from '{name}'\n",
        Source("vyos/vyos-1x", "1.4.0", "src/helpers/vyos-load-config.py"),
        evidence=("print(f\"Loading configuration from '{file_name}'\")",),
        note="printed once the file was read (a missing file stops before it).",
    ),
    Entry(
        "load.complete",
        "Load complete. Use 'commit' to make changes effective.\n",
        Source("vyos/vyos-1x", "1.4.0", "src/helpers/vyos-load-config.py"),
        evidence=("print(\"Load complete. Use 'commit' to make changes effective.\")",),
    ),
    Entry(
        "load.no_changes",
        "No configuration changes to commit.\n",
        Source("vyos/vyos-1x", "1.4.0", "src/helpers/vyos-load-config.py"),
        evidence=('print("No configuration changes to commit.")', "if config.session_changed():"),
        note="also merge's text (vyos-merge-config.py).",
    ),
    Entry(
        "load.no_such_file",
        "No such file '{name}'\n",
        Source("vyos/vyos-1x", "1.4.0", "src/helpers/vyos-load-config.py", "get_local_config"),
        evidence=(
            "sys.exit(f\"No such file '{filename}'\")",
            "elif os.path.isfile(os.path.join(configdir, filename)):",
        ),
        note="a relative name is looked up in the working directory first, then in /config.",
    ),
    Entry(
        "load.parse_failed",
        "\n",
        Source("vyos/vyos-1x", "1.4.0", "python/vyos/configsource.py", "ConfigSourceSession._run"),
        evidence=("p = subprocess.Popen(cmd, stdout=subprocess.PIPE)", "raise VyOSError()"),
        note="cli-shell-api loadFile prints `Failed to parse specified config file` (vyatta-cfg cstore.cpp loadFile) "
        "into _run's pipe; the VyOSError has no message and vyos-load-config.py sys.exit()s with it: one empty line. "
        "Paths of the file that fail validation are skipped (loadFile's `Set [...] failed` goes to the same pipe).",
        sources=(Source("vyos/vyatta-cfg", "sagitta", "src/cstore/cstore.cpp", "Cstore::loadFile"),),
    ),
    Entry(
        "merge.complete",
        "Merge complete. Use 'commit' to make changes effective.\n",
        Source("vyos/vyos-1x", "1.4.0", "src/helpers/vyos-merge-config.py"),
        evidence=("print(\"Merge complete. Use 'commit' to make changes effective.\")",),
        note="merge prints no `Loading configuration` line; it adds the file's set commands the running config lacks.",
    ),
    Entry(
        "merge.usage",
        "Need config file name to merge.\nUsage: merge <config file> [config path]\n",
        Source("vyos/vyos-1x", "1.4.0", "src/helpers/vyos-merge-config.py"),
        evidence=('print("Need config file name to merge.")', 'print("Usage: merge <config file> [config path]")'),
    ),
    Entry(
        "merge.no_such_file",
        "[Errno 2] No such file or directory: '{canonical}'\n[Errno 2] No such file or directory: '{name}'\n",
        Source("vyos/vyos-1x", "1.4.0", "src/helpers/vyos-merge-config.py"),
        evidence=('canonical_path = "{0}/{1}".format(configdir, file_name)', "print(first_err)", "print(err)"),
        note="/config/NAME is tried first (also for an absolute NAME: `/config//var/tmp/x`), then NAME.",
    ),
]


# -- op mode and show: prompts, show version, show system commit, show ip route summary|forward|cache, ... --
OP_MODE: list[Entry] = [
    Entry(
        "config.prompt",
        "{user}@{host}# ",
        Source("vyos/vyatta-cfg", "sagitta", "src/cstore/cstore.cpp", "Cstore::getEditResetEnv"),
        evidence=(r'return ("[edit" + lvl + "]\\n\\u@\\H${VRF:+(vrf:$VRF)}${NETNS:+(ns:$NETNS)}# ");',),
        note="no VRF/netns in the lab's sessions",
    ),
    Entry(
        "op.invalid",
        "\n  Invalid command: {head}[{word}]\n\n",
        Source("vyos/vyatta-op", "sagitta", "functions/interpreter/vyatta-op-run", "_vyatta_op_run"),
        evidence=(r'echo -ne "\n  Invalid command: ${args[@]} [$arg]\n\n" >&2',),
    ),
    Entry(
        "op.incomplete",
        "\n  Incomplete command: {words}\n\n",
        Source("vyos/vyatta-op", "sagitta", "functions/interpreter/vyatta-op-run", "_vyatta_op_run"),
        evidence=(r'echo -ne "\n  Incomplete command: ${args[@]}\n\n" >&2',),
    ),
    Entry(
        "op.pipe.commands",
        "commands pipe is not supported in operational mode\n",
        Source("vyos/vyatta-op", "sagitta", "etc/bash_completion.d/vyatta-op", "commands ()"),
        evidence=('echo "commands pipe is not supported in operational mode"',),
    ),
    Entry(
        "op.pipe.commands-uncommitted",
        "You have uncommited changes, please commit them before using the commands pipe\n",
        Source("vyos/vyatta-op", "sagitta", "etc/bash_completion.d/vyatta-op", "commands ()"),
        evidence=('echo "You have uncommited changes, please commit them before using the commands pipe"',),
    ),
    Entry(
        "op.pipe.json",
        "JSON pipe is not supported in operational mode\n",
        Source("vyos/vyatta-op", "sagitta", "etc/bash_completion.d/vyatta-op", "json ()"),
        evidence=('echo "JSON pipe is not supported in operational mode"',),
    ),
    Entry(
        "show.version",
        "{body}\n",
        Source("vyos/vyos-1x", "1.4.0", "src/op_mode/version.py", "version_output_tmpl, _get_formatted_output"),
        evidence=(
            'version_output_tmpl = """\nVersion:          VyOS {{version}}\nRelease train:    {{release_train}}\n'
            "Release flavor:   {{flavor}}\n",
            "return tmpl.render(version_data).strip()",
        ),
        note="rendered and stripped, then print(): no leading or trailing blank line",
    ),
    Entry(
        "show.system-commit",
        "tabulate(rows, tablefmt='plain')",
        Source("vyos/vyos-1x", "1.4.0", "python/vyos/config_mgmt.py", "ConfigMgmt.format_log_data"),
        evidence=(
            "res_l.append([l_no, time_str,\n"
            "                          f\"by {l['user']}\", f\"via {l['commit_via']}\"])",
            "if l['commit_comment'] != 'commit': # default comment",
            "res_l.append([None, l['commit_comment']])",
            'ret = tabulate(res_l, tablefmt="plain")',
        ),
        sources=(Source("vyos/vyos-1x", "1.4.0", "src/op_mode/config_mgmt.py", "show_commit_log"),),
        note="rows [n, time, 'by USER', 'via VIA'] and [None, COMMENT]: the number column right-aligned, the "
        "others left-aligned, two spaces apart, each line rstripped; a comment sits in the time column and "
        "widens it; ops.tabulate_plain renders it",
    ),
    Entry(
        "show.system-commit.unconfigured",
        "commit-revisions is not configured;\ncommit log is empty or stale:\n\n",
        Source("vyos/vyos-1x", "1.4.0", "src/op_mode/config_mgmt.py", "show_commit_log"),
        evidence=("msg = ('commit-revisions is not configured;\\n'", "'commit log is empty or stale:\\n\\n')"),
        note="prefixed when `system config-management commit-revisions` is not set",
    ),
    Entry(
        "show.lldp.unconfigured",
        "LLDP is not configured\n",
        Source("vyos/vyos-1x", "1.4.0", "src/op_mode/lldp.py", "unconf_message"),
        evidence=("unconf_message = 'LLDP is not configured'",),
    ),
    Entry(
        "show.ip-route.forward",
        "ip route list",
        Source("vyos/vyos-1x", "1.4.0", "op-mode-definitions/show-ip-route.xml.in", 'node "forward"'),
        evidence=(
            '<node name="forward">',
            "<command>ip route list</command>",
            "<command>ip -s route list $5</command>",
        ),
        note="a kernel command, not vtysh (`forward X`: `ip -s route list X`)",
    ),
    Entry(
        "show.ip-route.cache",
        "ip -s route list cache",
        Source("vyos/vyos-1x", "1.4.0", "op-mode-definitions/show-ip-route.xml.in", 'node "cache"'),
        evidence=("<command>ip -s route list cache</command>", "<command>ip -s route list cache $5</command>"),
    ),
    Entry(
        "show.ip-route.summary",
        "show ip route summary",
        Source("vyos/vyos-1x", "1.4.0", "op-mode-definitions/show-ip-route.xml.in", 'node "summary"'),
        evidence=("<command>${vyos_op_scripts_dir}/route.py show_summary --family inet</command>",),
        sources=(Source("vyos/vyos-1x", "1.4.0", "src/op_mode/route.py", "show_summary"),),
        note="route.py runs `vtysh -c 'show ip route  summary '` through cmd() (output stripped), then print(): "
        "FRR's text without leading/trailing blank lines; `summary table N` adds `table N`",
    ),
    Entry(
        "show.host-name",
        "/bin/hostname",
        Source("vyos/vyos-1x", "1.4.0", "op-mode-definitions/show-host.xml.in", 'node "name"'),
        evidence=("<command>/bin/hostname</command>",),
    ),
    Entry(
        "show.arp",
        "neighbor.py show --family inet",
        Source("vyos/vyos-1x", "1.4.0", "op-mode-definitions/show-arp.xml.in", 'node "arp"'),
        evidence=("<command>${vyos_op_scripts_dir}/neighbor.py show --family inet</command>",),
    ),
    Entry(
        "show.system-uptime",
        "uptime.py",
        Source("vyos/vyos-1x", "1.4.0", "op-mode-definitions/show-system.xml.in", 'node "uptime"'),
        evidence=("uptime.py",),
    ),
    Entry(
        "show.bfd.peer",
        'sed -n "/peer {addr} /,/^$/p"',
        Source("vyos/vyos-1x", "1.4.0", "op-mode-definitions/show-bfd.xml.in", 'tagNode "peer"'),
        evidence=('<command>vtysh -c "show bfd peers" | sed -n "/peer $4 /,/^$/p"</command>',),
        note="the `show bfd peers` block of that peer; nothing for an unknown one; no json node",
    ),
    Entry(
        "show.interfaces.summary-format",
        "%-16s %-33s %-4s %s",
        Source("vyos/vyos-1x", "1.4.0", "src/op_mode/interfaces.py", "_format_show_summary / run_show_intf_brief"),
        evidence=("format1 = '%-16s %-33s %-4s %s'",),
        note="the fixed-width table (1.3 `show interfaces`, 1.4 `show interfaces summary`); ops.interfaces_summary",
    ),
]


# -- errors: Invalid value, the first ConfigError of a conf-mode script, set/commit failures ----------------
ERRORS: list[Entry] = [
    Entry(
        "error.path-invalid",
        "Configuration path: [{path}] is not valid",
        Source("vyos/vyatta-cfg", "sagitta", "src/cstore/cstore.cpp", "Cstore::validateSetPath"),
        evidence=(r'string output = "Configuration path: ["+path_comps.to_string()+"] is not valid\n";',),
    ),
    Entry(
        "error.requires-value",
        "Configuration path: [{path}] requires a value",
        Source("vyos/vyatta-cfg", "sagitta", "src/cstore/cstore.cpp", "Cstore::validateSetPath"),
        evidence=(r'string output = "Configuration path: ["+path_comps.to_string()+"] requires a value\n";',),
    ),
    Entry(
        "error.already-exists",
        "Configuration path: [{path}] already exists",
        Source("vyos/vyatta-cfg", "sagitta", "src/cstore/cstore.cpp", "Cstore::setCfgPath"),
        evidence=(r'string userout = "Configuration path: ["+path_comps.to_string()+"] already exists\n";',),
    ),
    Entry(
        "error.nothing-to-delete",
        "Nothing to delete (the specified node does not exist)",
        Source("vyos/vyatta-cfg", "sagitta", "src/cstore/cstore.cpp", "Cstore::deleteCfgPath"),
        evidence=(r'output_user("Nothing to delete (the specified %s does not exist)\n",',),
    ),
    Entry(
        "error.value-validation-failed",
        "Value validation failed",
        Source("vyos/vyatta-cfg", "sagitta", "src/cstore/cstore.cpp", "Cstore::get_parsed_tmpl"),
        evidence=('error = "Value validation failed";',),
    ),
    Entry(
        "error.cmd-failed",
        "{cmd} failed",
        Source("vyos/vyatta-cfg", "sagitta", "functions/interpreter/vyatta-cfg-run", "vyatta_cli_shell_api"),
        evidence=("${cmd^} failed",),
    ),
    Entry(
        "error.invalid-value",
        "Invalid value",
        Source("vyos/vyos-1x", "1.4.0", "scripts/build-command-templates", "default_constraint_err_msg"),
        evidence=('default_constraint_err_msg = "Invalid value"', 'error_msg = p.find("constraintErrorMessage").text'),
        note="every constraint without a constraintErrorMessage: at 1.4.0 that is every node of the lab's BGP, "
        "static, BFD and SSH subset except `remote-as`, `description`, ethernet names and `mtu`, plus system "
        "host-name and ethernet `address` (read from interface-definitions with the includes expanded)",
    ),
    Entry(
        "error.commit.failed-section",
        "[[{section}]] failed",
        Source("vyos/vyatta-cfg", "sagitta", "src/commit/commit-algorithm.cpp", "commit::doCommit"),
        evidence=(r'OUTPUT_USER("[[%s]] failed\n",',),
        sources=(Source("vyos/vyos-1x", "1.4.0", "src/conf_mode/protocols_bgp.py", "__main__"),),
        note="a conf-mode script runs verify() and stops at its first ConfigError (`except ConfigError as e: "
        "print(e); exit(1)`): one message per failing section",
    ),
    Entry(
        "error.commit.failed",
        "Commit failed",
        Source("vyos/vyatta-cfg", "sagitta", "src/commit/commit-algorithm.cpp", "commit::doCommit"),
        evidence=(r'OUTPUT_USER("Commit failed\n");',),
    ),
    Entry(
        "error.interface-missing",
        'Interface "{ifname}" does not exist!',
        Source("vyos/vyos-1x", "1.4.0", "python/vyos/configverify.py", "verify_interface_exists"),
        evidence=("message = f'Interface \"{ifname}\" does not exist!'",),
    ),
    Entry(
        "value interfaces ethernet",
        "Invalid Ethernet interface name",
        Source("vyos/vyos-1x", "1.4.0", "interface-definitions/interfaces_ethernet.xml.in", 'tagNode "ethernet"'),
        evidence=("<constraintErrorMessage>Invalid Ethernet interface name</constraintErrorMessage>",),
    ),
    Entry(
        "value interfaces ethernet description",
        "Description too long (limit 255 characters)",
        Source("vyos/vyos-1x", "1.4.0", "interface-definitions/include/generic-description.xml.i"),
        evidence=("<constraintErrorMessage>Description too long (limit 255 characters)</constraintErrorMessage>",),
        note="255 on 1.4 (1.3: 256)",
    ),
    Entry(
        "value interfaces ethernet mtu",
        "MTU must be between 68 and 16000",
        Source("vyos/vyos-1x", "1.4.0", "interface-definitions/include/interface/mtu-68-16000.xml.i"),
        evidence=("<constraintErrorMessage>MTU must be between 68 and 16000</constraintErrorMessage>",),
    ),
    Entry(
        "value system config-management commit-revisions",
        "Number of revisions must be between 0 and 65535",
        Source("vyos/vyos-1x", "1.4.0", "interface-definitions/system_config-management.xml.in"),
        evidence=("<constraintErrorMessage>Number of revisions must be between 0 and 65535</constraintErrorMessage>",),
    ),
]


# -- BGP: paths, parameters, error texts -------------------------------------------------------------------
BGP: list[Entry] = [
    Entry(
        "bgp.render.instance",
        "no bgp ebgp-requires-policy",
        Source("vyos/vyos-1x", "1.4.0", "data/templates/frr/bgpd.frr.j2", "router bgp"),
        evidence=(
            "{% if parameters.ebgp_requires_policy is vyos_defined %}\n bgp ebgp-requires-policy\n{% else %}\n"
            " no bgp ebgp-requires-policy",
            " no bgp default ipv4-unicast\n",
            " no bgp network import-check\n",
        ),
        note="`bgp ebgp-requires-policy` only with `parameters ebgp-requires-policy`; `no bgp default "
        "ipv4-unicast` and `no bgp network import-check` always: a neighbor needs `address-family ipv4-unicast`",
    ),
    Entry(
        "bgp.error.password-whitespace",
        "Whitespace is not allowed in passwords!",
        Source("vyos/vyos-1x", "1.4.0", "src/conf_mode/protocols_bgp.py", "verify"),
        evidence=(
            "if 'password' in peer_config and ' ' in peer_config['password']:",
            "raise ConfigError('Whitespace is not allowed in passwords!')",
        ),
        note="a space only (the check is `' ' in`); at commit, not at set (the XML node has no constraint)",
    ),
    Entry(
        "bgp.error.system-as",
        "BGP system-as number must be defined!",
        Source("vyos/vyos-1x", "1.4.0", "src/conf_mode/protocols_bgp.py", "verify"),
        evidence=("raise ConfigError('BGP system-as number must be defined!')",),
    ),
    Entry(
        "bgp.error.peer-group-missing",
        'Specified peer-group "{pg}" for neighbor "{n}" does not exist!',
        Source("vyos/vyos-1x", "1.4.0", "src/conf_mode/protocols_bgp.py", "verify"),
        evidence=(
            "raise ConfigError(f'Specified peer-group \"{peer_group}\" for '",
            "f'neighbor \"{neighbor}\" does not exist!')",
        ),
    ),
    Entry(
        "bgp.error.remote-as",
        'Neighbor "{n}" remote-as must be set!',
        Source("vyos/vyos-1x", "1.4.0", "src/conf_mode/protocols_bgp.py", "verify"),
        evidence=("raise ConfigError(f'Neighbor \"{peer}\" remote-as must be set!')",),
    ),
    Entry(
        "bgp.error.remote-as-both",
        'Peer-group member "{n}" cannot override remote-as of peer-group "{pg}"!',
        Source("vyos/vyos-1x", "1.4.0", "src/conf_mode/protocols_bgp.py", "verify"),
        evidence=(
            'raise ConfigError(f\'Peer-group member "{peer}" cannot override remote-as of peer-group '
            '"{peer_group}"!\')',
        ),
    ),
    Entry(
        "bgp.error.listen-no-peer-group",
        'Listen range for prefix "{prefix}" has no peer group configured.',
        Source("vyos/vyos-1x", "1.4.0", "src/conf_mode/protocols_bgp.py", "verify"),
        evidence=("raise ConfigError(f'Listen range for prefix \"{prefix}\" has no peer group configured.')",),
    ),
    Entry(
        "bgp.error.listen-peer-group-missing",
        'Peer-group "{pg}" for listen range "{prefix}" does not exist!',
        Source("vyos/vyos-1x", "1.4.0", "src/conf_mode/protocols_bgp.py", "verify"),
        evidence=('raise ConfigError(f\'Peer-group "{peer_group}" for listen range "{prefix}" does not exist!\')',),
    ),
    Entry(
        "value protocols bgp neighbor remote-as",
        "Invalid AS number",
        Source("vyos/vyos-1x", "1.4.0", "interface-definitions/include/bgp/remote-as.xml.i"),
        evidence=("<constraintErrorMessage>Invalid AS number</constraintErrorMessage>",),
    ),
    Entry(
        "value protocols bgp neighbor description",
        "Description too long (limit 255 characters)",
        Source("vyos/vyos-1x", "1.4.0", "interface-definitions/include/generic-description.xml.i"),
        evidence=("<constraintErrorMessage>Description too long (limit 255 characters)</constraintErrorMessage>",),
    ),
    Entry(
        "value protocols bgp peer-group description",
        "Description too long (limit 255 characters)",
        Source("vyos/vyos-1x", "1.4.0", "interface-definitions/include/generic-description.xml.i"),
        evidence=("<constraintErrorMessage>Description too long (limit 255 characters)</constraintErrorMessage>",),
    ),
    Entry(
        "value protocols bgp peer-group remote-as",
        "Invalid AS number",
        Source("vyos/vyos-1x", "1.4.0", "interface-definitions/include/bgp/remote-as.xml.i"),
        evidence=("<constraintErrorMessage>Invalid AS number</constraintErrorMessage>",),
    ),
]


# -- WireGuard: keys, peers, errors, what a peer change does to the interface, op-mode reports --------------
WIREGUARD: list[Entry] = [
    # vyos-1x 1.4.0 src/conf_mode/interfaces_wireguard.py verify(): raises at the first failure, in this order
    Entry(
        "wireguard.private_key_missing",
        "Wireguard private-key not defined",
        Source("vyos/vyos-1x", "1.4.0", "src/conf_mode/interfaces_wireguard.py", "verify"),
        evidence=("raise ConfigError('Wireguard private-key not defined')",),
    ),
    Entry(
        "wireguard.peer_required",
        "At least one Wireguard peer is required!",
        Source("vyos/vyos-1x", "1.4.0", "src/conf_mode/interfaces_wireguard.py", "verify"),
        evidence=("raise ConfigError('At least one Wireguard peer is required!')",),
    ),
    Entry(
        "wireguard.allowed_ips_required",
        'Wireguard allowed-ips required for peer "{peer}"!',
        Source("vyos/vyos-1x", "1.4.0", "src/conf_mode/interfaces_wireguard.py", "verify"),
        evidence=("raise ConfigError(f'Wireguard allowed-ips required for peer \"{tmp}\"!')",),
    ),
    Entry(
        "wireguard.public_key_required",
        'Wireguard public-key required for peer "{peer}"!',
        Source("vyos/vyos-1x", "1.4.0", "src/conf_mode/interfaces_wireguard.py", "verify"),
        evidence=("raise ConfigError(f'Wireguard public-key required for peer \"{tmp}\"!')",),
    ),
    Entry(
        "wireguard.address_and_port",
        'Both Wireguard port and address must be defined for peer "{peer}" if either one of them is set!',
        Source("vyos/vyos-1x", "1.4.0", "src/conf_mode/interfaces_wireguard.py", "verify"),
        evidence=(
            "raise ConfigError('Both Wireguard port and address must be defined '",
            "if either one of them is set!",
        ),
    ),
    Entry(
        "wireguard.duplicate_public_key",
        'Duplicate public-key defined on peer "{peer}"',
        Source("vyos/vyos-1x", "1.4.0", "src/conf_mode/interfaces_wireguard.py", "verify"),
        evidence=("raise ConfigError(f'Duplicate public-key defined on peer \"{tmp}\"')",),
    ),
    Entry(
        "wireguard.peer_change",
        "",
        Source("vyos/vyos-1x", "1.4.0", "src/conf_mode/interfaces_wireguard.py", "get_config, apply"),
        evidence=(
            "if is_node_changed(conf, base + [ifname, 'peer']):",
            "wireguard.update({'rebuild_required': {}})",
            "wg.remove()",
        ),
        note="any change under `peer` removes wgN and creates it again: the tunnel drops (addresses, routes, "
        "every peer's session) until it is back",
    ),
    Entry(
        "wireguard.summary",
        "",
        Source("vyos/vyos-1x", "1.4.0", "op-mode-definitions/show-interfaces-wireguard.xml.in", "summary"),
        evidence=('<command>sudo wg show "$4"</command>',),
        note="`show interfaces wireguard wgN summary` is wg's own `wg show wgN`",
    ),
    Entry(
        "wireguard.port_busy",
        "UDP port {port} is busy or unavailable and cannot be used for the interface!",
        Source("vyos/vyos-1x", "1.4.0", "src/conf_mode/interfaces_wireguard.py", "verify"),
        evidence=(
            "raise ConfigError(f'UDP port {listen_port} is busy or unavailable and '",
            "cannot be used for the interface!",
        ),
        note="checked only when `port` is new or changed (is_node_changed), by binding it (check_port_availability)",
    ),
    Entry(
        "wireguard.same_key_as_interface",
        'Peer "{peer}" has the same public key as the interface "{ifname}"',
        Source("vyos/vyos-1x", "1.4.0", "src/conf_mode/interfaces_wireguard.py", "verify"),
        evidence=("has the same public key as the interface",),
        note="only for a peer without `disable`",
    ),
]


# -- secrets: which show commands mask which values ---------------------------------------------------------
SECRETS: list[Entry] = [
    Entry(
        "secrets.hidden",
        "****************",
        Source("vyos/vyatta-cfg", "1.4.0-epa2", "src/cnode/cnode-algorithm.cpp", "_print_value_str"),
        evidence=('"pre-shared-secret", "key", NULL };', 'printf("****************");'),
        note="with --show-hide-secrets, a value of a node whose name ends in passphrase, password, "
        "pre-shared-secret or key (private-key, public-key, password) is printed as 16 asterisks, unquoted",
    ),
    Entry(
        "secrets.show_configuration",
        "",
        Source("vyos/vyos-1x", "1.4.0", "op-mode-definitions/show-configuration.xml.in", "configuration"),
        evidence=(
            "<command>cli-shell-api showCfg --show-active-only --show-hide-secrets</command>",
            "<command>cli-shell-api showCfg --show-active-only | vyos-config-to-commands</command>",
            "<!-- no admin check -->",
        ),
        note="op-mode `show configuration` and `show configuration all` mask; `show configuration commands` does "
        "not; no admin check: the same for every user and group",
    ),
    Entry(
        "secrets.config_mode_show",
        "",
        Source("vyos/vyatta-cfg", "1.4.0-epa2", "functions/interpreter/vyatta-cfg-run", "vyatta_config_show"),
        evidence=('cli-shell-api "${opts[@]}" -- showCfg "${args[@]}"',),
        note="config-mode `show` (and so `show | commands`) calls showCfg without --show-hide-secrets: in clear",
    ),
]


# -- commit-confirm action: whether the node exists, what expiry does --------------------------------------
CONFIRM_ACTION: list[Entry] = [
    Entry(
        "confirm_action.node",
        "",
        Source("vyos/vyos-1x", "1.4.0", "interface-definitions/system_config-management.xml.in", "config-management"),
        evidence=('<leafNode name="commit-revisions">',),
        note="no `commit-confirm` node at 1.4.0, 1.4.0-epa1..3, rc2, rc3 nor on the sagitta branch (2024-10-17): "
        "T5976 is on current only; the `set` fails and an unconfirmed commit-confirm reboots",
    ),
]


LEDGER = Ledger("1.4", *LIFECYCLE, *OP_MODE, *ERRORS, *BGP, *WIREGUARD, *SECRETS, *CONFIRM_ACTION)
