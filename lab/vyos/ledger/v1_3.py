"""VyOS 1.3 (equuleus): vyatta-cfg, vyatta-cfg-quagga, vyatta-cfg-firewall, vyatta-op, vyos-1x at equuleus / 1.3.x.

Sections: config lifecycle; op mode and show; errors; BGP; WireGuard; secrets; commit-confirm action.
Each entry cites its source beside it (repo, release tag, path)."""

from __future__ import annotations

from lab.vyos.ledger import Entry, Ledger, Source  # noqa: F401

# -- config lifecycle: save, compare, compare saved, commit, commit-confirm, confirm, rollback, load, exit,
#    discard, the commit-confirm wall broadcasts ----------------------------------------------------------
LIFECYCLE: list[Entry] = [
    Entry(
        "save.done",
        "Saving configuration to '{file}'...\nDone\n",
        Source("vyos/vyatta-cfg", "equuleus", "scripts/vyatta-save-config.pl"),
        evidence=("Saving configuration to '$shortened_save_file'...", 'print "Done\\n";'),
        note="{file}: the target with /opt/vyatta/etc cut off (lib/Vyatta/Misc.pm get_short_config_path): "
        "/config/config.boot by default, /config/NAME for a relative NAME; no blank line",
        sources=(Source("vyos/vyatta-cfg", "equuleus", "functions/interpreter/vyatta-cfg-run", "vyatta_config_save"),),
    ),
    Entry(
        "save.uncommitted",
        "Warning: you have uncommitted changes that will not be saved.\n\n",
        Source("vyos/vyatta-cfg", "equuleus", "functions/interpreter/vyatta-cfg-run", "vyatta_config_save"),
        evidence=("Warning: you have uncommitted changes that will not be saved.",),
    ),
    Entry(
        "commit.nothing",
        "No configuration changes to commit\n",
        Source("vyos/vyatta-cfg", "equuleus", "functions/interpreter/vyatta-cfg-run", "vyatta_config_commit"),
        evidence=('echo "No configuration changes to commit"',),
    ),
    Entry(
        "commit_confirm.question",
        "commit confirm will be automatically reboot in {minutes} minutes unless confirmed\n",
        Source("vyos/vyatta-config-mgmt", "equuleus", "scripts/vyatta-config-mgmt.pl", "--action=commit-confirm"),
        evidence=(
            'print "commit confirm will be automatically reboot in $minutes"',
            'prompt("Proceed? [confirm]", -y1d=>"y")',
        ),
        note="then IO::Prompt's 'Proceed? [confirm]' (default y; the lab shows it as '[y] ', not verified against "
        "IO::Prompt's source); the commit is the normal, logged one: it is in `show system commit` at once",
    ),
    Entry(
        "commit_confirm.another_pending",
        "Another confirm is pending\n",
        Source("vyos/vyatta-config-mgmt", "equuleus", "scripts/vyatta-config-mgmt.pl", "--action=commit-confirm"),
        evidence=('print "Another confirm is pending\\n";',),
        note="exit 0: vyatta_config_commit-confirm goes on with the commit (under the other timer)",
    ),
    Entry(
        "commit_confirm.no_revisions",
        "commit-revisions is not configured.\n\n",
        Source("vyos/vyatta-config-mgmt", "equuleus", "scripts/vyatta-config-mgmt.pl", "--action=commit-confirm"),
        evidence=('print "commit-revisions is not configured.\\n\\n";',),
    ),
    Entry(
        "commit_confirm.canceled",
        "commit-confirm canceled\n",
        Source("vyos/vyatta-config-mgmt", "equuleus", "scripts/vyatta-config-mgmt.pl", "--action=commit-confirm"),
        evidence=('print "commit-confirm canceled\\n";',),
    ),
    Entry(
        "confirm.stopped",
        "",
        Source("vyos/vyatta-config-mgmt", "equuleus", "scripts/vyatta-config-mgmt.pl", "--action=confirm"),
        evidence=('system("sudo atrm $job");', 'system("sudo rm -f $confirm_job_file");'),
        note="prints nothing when it removes the at job",
    ),
    Entry(
        "confirm.none",
        "No confirm pending\n",
        Source("vyos/vyatta-config-mgmt", "equuleus", "scripts/vyatta-config-mgmt.pl", "--action=confirm"),
        evidence=('print "No confirm pending\\n";',),
        note="exit 0; the confirm job file is gone: what proves that no timer is pending",
    ),
    Entry(
        "wall.countdown",
        "",
        Source("vyos/vyatta-config-mgmt", "equuleus", "scripts/vyatta-config-mgmt.pl", "--action=commit-confirm"),
        evidence=("at now + $minutes minutes",),
        note="1.3 schedules the rollback with at(1) and broadcasts nothing before it",
    ),
    Entry(
        "rollback.args",
        "Error: must include a revision # to rollback to\n",
        Source("vyos/vyatta-cfg", "equuleus", "functions/interpreter/vyatta-cfg-run", "vyatta_config_rollback"),
        evidence=('echo "Error: must include a revision # to rollback to"',),
    ),
    Entry(
        "rollback.invalid",
        "Invalid revision [{rev}]\n",
        Source("vyos/vyatta-config-mgmt", "equuleus", "scripts/vyatta-config-mgmt.pl", "check_valid_rev"),
        evidence=('print "Invalid revision [$rev]\\n";', "return 1 if $rev <= $num_revs;"),
        note="exit 1; it accepts rev == the number of revisions (an off-by-one the lab does not model)",
    ),
    Entry(
        "rollback.question",
        "Proceed with reboot? [confirm]",
        Source("vyos/vyatta-config-mgmt", "equuleus", "scripts/vyatta-config-mgmt.pl", "--action=rollback"),
        evidence=('prompt("Proceed with reboot? [confirm]", -y1d=>"y")',),
    ),
    Entry(
        "rollback.canceled",
        "Cancelling rollback\n",
        Source("vyos/vyatta-config-mgmt", "equuleus", "scripts/vyatta-config-mgmt.pl", "--action=rollback"),
        evidence=('print "Cancelling rollback\\n";',),
    ),
    # compare, discard, exit, load (w21c)
    Entry(
        "compare.no_changes",
        "No changes between working and active configurations\n",
        Source("vyos/vyatta-config-mgmt", "equuleus", "scripts/vyatta-config-mgmt.pl", "--action=diff"),
        evidence=('print "No changes between working and active configurations\\n";',),
        note="no full stop and no blank line (print of a string with one newline).",
        sources=(
            Source("vyos/vyatta-cfg", "equuleus", "functions/interpreter/vyatta-cfg-run", "vyatta_config_compare"),
        ),
    ),
    Entry(
        "compare.no_changes_saved",
        "",
        Source("vyos/vyatta-cfg", "equuleus", "functions/interpreter/vyatta-cfg-run", "vyatta_config_compare"),
        evidence=("cli-shell-api showConfig --show-cfg1 /config/config.boot --show-cfg2 @WORKING --show-context-diff",),
        note="a bare context diff: nothing at all when the configs are equal (only [edit] follows).",
    ),
    Entry(
        "compare.no_changes_revision",
        "No changes between working and revision {rev} configurations\n",
        Source("vyos/vyatta-config-mgmt", "equuleus", "scripts/vyatta-config-mgmt.pl", "--action=diff"),
        evidence=('print "No changes between working and "', '. "revision $rev1 configurations\\n";'),
    ),
    Entry(
        "compare.no_changes_revisions",
        "No changes between revision {rev1} and revision {rev2} configurations\n",
        Source("vyos/vyatta-config-mgmt", "equuleus", "scripts/vyatta-config-mgmt.pl", "--action=diff"),
        evidence=('print "No changes between revision $rev1 and "', '. "revision $rev2 configurations\\n";'),
    ),
    Entry(
        "compare.invalid_revision",
        "Invalid revision [{rev}]\n",
        Source("vyos/vyatta-config-mgmt", "equuleus", "scripts/vyatta-config-mgmt.pl", "check_valid_rev"),
        evidence=('print "Invalid revision [$rev]\\n";',),
    ),
    Entry(
        "compare.invalid_number",
        "Invalid number [{rev}]\n",
        Source("vyos/vyatta-config-mgmt", "equuleus", "scripts/vyatta-config-mgmt.pl", "check_integer"),
        evidence=('print "Invalid number [$num]\\n";',),
        note="`compare WORD` with a word that is not a number (1.4 drops such words instead).",
    ),
    Entry(
        "compare.after_diff",
        "",
        Source("vyos/vyatta-config-mgmt", "equuleus", "scripts/vyatta-config-mgmt.pl", "--action=diff"),
        evidence=('print "$diff";',),
        note="the diff is printed as it is: no blank line after it.",
    ),
    Entry(
        "discard.discarded",
        "Changes have been discarded\n",
        Source("vyos/vyatta-cfg", "equuleus", "src/cstore/cstore.cpp", "Cstore::discardChanges"),
        evidence=('output_user("Changes have been discarded\\n");',),
        note="no indent (output_user is a plain printf to stdout).",
    ),
    Entry(
        "discard.nothing",
        "No changes have been discarded\n",
        Source("vyos/vyatta-cfg", "equuleus", "src/cstore/cstore.cpp", "Cstore::discardChanges"),
        evidence=('output_user("No changes have been discarded\\n");',),
    ),
    Entry(
        "exit.modified",
        "Cannot exit: configuration modified.\nUse 'exit discard' to discard the changes and exit.\n",
        Source("vyos/vyatta-cfg", "equuleus", "functions/interpreter/vyatta-cfg-run", "vyatta_config_exit"),
        evidence=(
            'echo "Cannot exit: configuration modified."',
            "echo \"Use 'exit discard' to discard the changes and exit.\"",
        ),
    ),
    Entry(
        "exit.invalid_argument",
        "Invalid argument \"{args}\" for 'exit'\n",
        Source("vyos/vyatta-cfg", "equuleus", "functions/interpreter/vyatta-cfg-run", "vyatta_config_exit"),
        evidence=('echo "Invalid argument \\"$*\\" for \'exit\'"',),
        note="any prefix of `discard` is `discard` (get_prefix_filtered_list).",
    ),
    Entry(
        "exit.unsaved",
        "Warning: configuration changes have not been saved.\n",
        Source("vyos/vyatta-cfg", "equuleus", "functions/interpreter/vyatta-cfg-run", "really_exit"),
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
        Source("vyos/vyatta-cfg", "equuleus", "functions/interpreter/vyatta-cfg-run", "really_exit"),
        evidence=("builtin exit 0",),
        note="the word is bash's own: the exit builtin of an interactive shell prints `exit`.",
    ),
    Entry(
        "load.modified",
        "Cannot load: configuration modified.\nCommit or discard the changes before loading a config file.\n",
        Source("vyos/vyatta-cfg", "equuleus", "functions/interpreter/vyatta-cfg-run", "vyatta_config_load"),
        evidence=('echo "Cannot load: configuration modified."', "before loading a config file."),
    ),
    Entry(
        "merge.modified",
        "Cannot merge: configuration modified.\nCommit or discard the changes before merging a config file.\n",
        Source("vyos/vyatta-cfg", "equuleus", "functions/interpreter/vyatta-cfg-run", "vyatta_config_merge"),
        evidence=('echo "Cannot merge: configuration modified."', "before merging a config file."),
    ),
    Entry(
        "load.loading",
        "Loading configuration from '{name}'\n",
        Source("vyos/vyos-1x", "1.3.8", "src/helpers/vyos-load-config.py"),
        evidence=("print(f\"Loading configuration from '{file_name}'\")",),
        note="printed once the file was read (a missing file stops before it).",
    ),
    Entry(
        "load.complete",
        "Load complete. Use 'commit' to make changes effective.\n",
        Source("vyos/vyos-1x", "1.3.8", "src/helpers/vyos-load-config.py"),
        evidence=("print(\"Load complete. Use 'commit' to make changes effective.\")",),
    ),
    Entry(
        "load.no_changes",
        "No configuration changes to commit.\n",
        Source("vyos/vyos-1x", "1.3.8", "src/helpers/vyos-load-config.py"),
        evidence=('print("No configuration changes to commit.")', "if config.session_changed():"),
        note="also merge's text (vyos-merge-config.py).",
    ),
    Entry(
        "load.no_such_file",
        "No such file '{name}'\n",
        Source("vyos/vyos-1x", "1.3.8", "src/helpers/vyos-load-config.py", "get_local_config"),
        evidence=(
            "sys.exit(f\"No such file '{filename}'\")",
            "elif os.path.isfile(os.path.join(configdir, filename)):",
        ),
        note="a relative name is looked up in the working directory first, then in /config.",
    ),
    Entry(
        "load.parse_failed",
        "\n",
        Source("vyos/vyos-1x", "1.3.8", "python/vyos/configsource.py", "ConfigSourceSession._run"),
        evidence=("p = subprocess.Popen(cmd, stdout=subprocess.PIPE)", "raise VyOSError()"),
        note="cli-shell-api loadFile prints `Failed to parse specified config file` (vyatta-cfg cstore.cpp loadFile) "
        "into _run's pipe; the VyOSError has no message and vyos-load-config.py sys.exit()s with it: one empty line. "
        "Paths of the file that fail validation are skipped (loadFile's `Set [...] failed` goes to the same pipe).",
        sources=(Source("vyos/vyatta-cfg", "equuleus", "src/cstore/cstore.cpp", "Cstore::loadFile"),),
    ),
    Entry(
        "merge.complete",
        "Merge complete. Use 'commit' to make changes effective.\n",
        Source("vyos/vyos-1x", "1.3.8", "src/helpers/vyos-merge-config.py"),
        evidence=("print(\"Merge complete. Use 'commit' to make changes effective.\")",),
        note="merge prints no `Loading configuration` line; it adds the file's set commands the running config lacks.",
    ),
    Entry(
        "merge.usage",
        "Need config file name to merge.\nUsage: merge <config file> [config path]\n",
        Source("vyos/vyos-1x", "1.3.8", "src/helpers/vyos-merge-config.py"),
        evidence=('print("Need config file name to merge.")', 'print("Usage: merge <config file> [config path]")'),
    ),
    Entry(
        "merge.no_such_file",
        "[Errno 2] No such file or directory: '{canonical}'\n[Errno 2] No such file or directory: '{name}'\n",
        Source("vyos/vyos-1x", "1.3.8", "src/helpers/vyos-merge-config.py"),
        evidence=('canonical_path = "{0}/{1}".format(configdir, file_name)', "print(first_err)", "print(err)"),
        note="/config/NAME is tried first (also for an absolute NAME: `/config//var/tmp/x`), then NAME.",
    ),
]


# -- op mode and show: prompts, show version, show system commit, show ip route summary|forward|cache, ... --
OP_MODE: list[Entry] = [
    Entry(
        "config.prompt",
        "{user}@{host}# ",
        Source("vyos/vyatta-cfg", "equuleus", "src/cstore/cstore.cpp", "Cstore::getEditResetEnv"),
        evidence=(r'return ("[edit" + lvl + "]\\n\\u@\\H# ");',),
        note="PS1 after `[edit]`: every config-mode output ends with `[edit]` and this prompt",
    ),
    Entry(
        "op.invalid",
        "\n  Invalid command: {head}[{word}]\n\n",
        Source("vyos/vyatta-op", "equuleus", "functions/interpreter/vyatta-op-run", "_vyatta_op_run"),
        evidence=(r'echo -ne "\n  Invalid command: ${args[@]} [$arg]\n\n" >&2',),
        note="{head} is the words before the bad one, each followed by a space",
    ),
    Entry(
        "op.incomplete",
        "\n  Incomplete command: {words}\n\n",
        Source("vyos/vyatta-op", "equuleus", "functions/interpreter/vyatta-op-run", "_vyatta_op_run"),
        evidence=(r'echo -ne "\n  Incomplete command: ${args[@]}\n\n" >&2',),
    ),
    Entry(
        "op.pipe.commands",
        "commands pipe is not supported in operational mode\n",
        Source("vyos/vyatta-op", "equuleus", "etc/bash_completion.d/vyatta-op", "commands ()"),
        evidence=('echo "commands pipe is not supported in operational mode"',),
    ),
    Entry(
        "op.pipe.commands-uncommitted",
        "You have uncommited changes, please commit them before using the commands pipe\n",
        Source("vyos/vyatta-op", "equuleus", "etc/bash_completion.d/vyatta-op", "commands ()"),
        evidence=('echo "You have uncommited changes, please commit them before using the commands pipe"',),
        note="config mode, `show ... | commands` with a changed session (VyOS's spelling)",
    ),
    Entry(
        "op.pipe.json",
        "JSON pipe is not supported in operational mode\n",
        Source("vyos/vyatta-op", "equuleus", "etc/bash_completion.d/vyatta-op", "json ()"),
        evidence=('echo "JSON pipe is not supported in operational mode"',),
    ),
    Entry(
        "show.version",
        "\n{body}\n",
        Source("vyos/vyos-1x", "equuleus", "src/op_mode/show_version.py", "version_output_tmpl"),
        evidence=(
            'version_output_tmpl = """\nVersion:          VyOS {{version}}\nRelease train:    {{release_train}}\n\n',
            "Hardware S/N:     {{hardware_serial}}\nHardware UUID:    {{hardware_uuid}}\n",
            'Copyright:        VyOS maintainers and contributors\n"""',
            "print(tmpl.render(version_data))",
        ),
        note="the template starts with a newline and ends with one, but jinja2's Template drops a final newline "
        "(keep_trailing_newline=False) and print() adds one: a leading blank line and no trailing one; no "
        "`Release flavor:` line",
    ),
    Entry(
        "show.system-commit.line",
        "{n:<2}  {time} by {user} via {via}",
        Source("vyos/vyatta-config-mgmt", "equuleus", "lib/Vyatta/ConfigMgmt.pm", "cm_commit_get_log"),
        evidence=(
            r'sprintf("%-2s  %s by %s via %s\n",',
            'strftime("%Y-%m-%d %H:%M:%S", localtime($time))',
        ),
    ),
    Entry(
        "show.system-commit.comment",
        "    {comment}",
        Source("vyos/vyatta-config-mgmt", "equuleus", "lib/Vyatta/ConfigMgmt.pm", "cm_commit_get_log"),
        evidence=(
            "if (defined $comment and $comment ne '' and $comment ne 'commit') {",
            r'push @commit_log, "    $comment\n"',
        ),
        note="the comment `commit` (the default) is not shown",
    ),
    Entry(
        "show.lldp.unconfigured",
        "Service LLDP is not configured\n",
        Source("vyos/vyos-1x", "equuleus", "src/op_mode/lldp_op.py", "__main__"),
        evidence=("print('Service LLDP is not configured')",),
    ),
    Entry(
        "show.ip-route.forward",
        "ip route list",
        Source("vyos/vyos-1x", "equuleus", "op-mode-definitions/show-ip-route.xml.in", 'node "forward"'),
        evidence=(
            '<node name="forward">',
            "<command>ip route list</command>",
            "<command>ip -s route list $5</command>",
        ),
        note="a kernel command, not vtysh: `show ip route forward` runs `ip route list`, `forward X` runs "
        "`ip -s route list X`",
    ),
    Entry(
        "show.ip-route.cache",
        "ip -s route list cache",
        Source("vyos/vyos-1x", "equuleus", "op-mode-definitions/show-ip-route.xml.in", 'node "cache"'),
        evidence=("<command>ip -s route list cache</command>", "<command>ip -s route list cache $5</command>"),
    ),
    Entry(
        "show.ip-route.summary",
        "show ip route summary",
        Source("vyos/vyos-1x", "equuleus", "op-mode-definitions/show-ip-route.xml.in", 'leafNode "summary"'),
        evidence=('<leafNode name="summary">', '<command>vtysh -c "show ip route summary"</command>'),
        note="1.3: vtysh's own text, unchanged (a leafNode: no `table` below it)",
    ),
    Entry(
        "show.host-name",
        "/bin/hostname",
        Source("vyos/vyos-1x", "equuleus", "op-mode-definitions/show-host.xml.in", 'node "name"'),
        evidence=("<command>/bin/hostname</command>",),
    ),
    Entry(
        "show.arp",
        "/usr/sbin/arp -e -n",
        Source("vyos/vyos-1x", "equuleus", "op-mode-definitions/show-arp.xml.in", 'node "arp"'),
        evidence=("<command>/usr/sbin/arp -e -n</command>",),
    ),
    Entry(
        "show.system-uptime",
        "uptime",
        Source("vyos/vyos-1x", "equuleus", "op-mode-definitions/show-system.xml.in", 'node "uptime"'),
        evidence=("<command>uptime</command>",),
    ),
    Entry(
        "show.bfd.peer",
        'sed -n "/peer {addr} /,/^$/p"',
        Source("vyos/vyos-1x", "equuleus", "op-mode-definitions/show-bfd.xml.in", 'tagNode "peer"'),
        evidence=('<command>vtysh -c "show bfd peers" | sed -n "/peer $4 /,/^$/p"</command>',),
        note="the `show bfd peers` block of that peer; nothing for an unknown one; no json node",
    ),
    Entry(
        "show.interfaces.summary-format",
        "%-16s %-33s %-4s %s",
        Source(
            "vyos/vyos-1x", "equuleus", "src/op_mode/show_interfaces.py", "_format_show_summary / run_show_intf_brief"
        ),
        evidence=("format1 = '%-16s %-33s %-4s %s'",),
        note="the fixed-width table (1.3 `show interfaces`, 1.4 `show interfaces summary`); ops.interfaces_summary",
    ),
]


# -- errors: Invalid value, the first ConfigError of a conf-mode script, set/commit failures ----------------
ERRORS: list[Entry] = [
    Entry(
        "error.path-invalid",
        "Configuration path: [{path}] is not valid",
        Source("vyos/vyatta-cfg", "equuleus", "src/cstore/cstore.cpp", "Cstore::validateSetPath"),
        evidence=('string output = "Configuration path: ["+path_comps.to_string()+"] is not valid\\n";',),
    ),
    Entry(
        "error.requires-value",
        "Configuration path: [{path}] requires a value",
        Source("vyos/vyatta-cfg", "equuleus", "src/cstore/cstore.cpp", "Cstore::validateSetPath"),
        evidence=('string output = "Configuration path: ["+path_comps.to_string()+"] requires a value\\n";',),
    ),
    Entry(
        "error.already-exists",
        "Configuration path: [{path}] already exists",
        Source("vyos/vyatta-cfg", "equuleus", "src/cstore/cstore.cpp", "Cstore::setCfgPath"),
        evidence=('string userout = "Configuration path: ["+path_comps.to_string()+"] already exists\\n";',),
        note="informational: the set succeeds (a multi-value leaf that has the value already)",
    ),
    Entry(
        "error.nothing-to-delete",
        "Nothing to delete (the specified node does not exist)",
        Source("vyos/vyatta-cfg", "equuleus", "src/cstore/cstore.cpp", "Cstore::deleteCfgPath"),
        evidence=('output_user("Nothing to delete (the specified %s does not exist)\\n",',),
    ),
    Entry(
        "error.value-validation-failed",
        "Value validation failed",
        Source("vyos/vyatta-cfg", "equuleus", "src/cstore/cstore.cpp", "Cstore::get_parsed_tmpl"),
        evidence=('error = "Value validation failed";',),
        note="printed after the constraint's own message",
    ),
    Entry(
        "error.cmd-failed",
        "{cmd} failed",
        Source("vyos/vyatta-cfg", "equuleus", "functions/interpreter/vyatta-cfg-run", "vyatta_cli_shell_api"),
        evidence=("${cmd^} failed",),
        note="`Set failed` / `Delete failed`, indented by two like the message above it, a blank line before and after",
    ),
    Entry(
        "error.invalid-value",
        "Invalid value",
        Source("vyos/vyos-1x", "equuleus", "scripts/build-command-templates", "default_constraint_err_msg"),
        evidence=('default_constraint_err_msg = "Invalid value"', 'error_msg = p.find("constraintErrorMessage").text'),
        note="the message of every value constraint of the interface-definitions XML without a "
        "constraintErrorMessage (system host-name, interfaces ethernet address, protocols bfd, service ssh); "
        "1.3's BGP and static routes are vyatta-cfg-quagga node.defs with messages of their own (below)",
    ),
    Entry(
        "error.type",
        '"{value}" is not a valid value of type "{type}"',
        Source("vyos/vyatta-cfg", "equuleus", "src/cli_new.c", "validate_value"),
        evidence=('"\\"%s\\" is not a valid value of type \\"%s\\"\\n"',),
        note="vyatta-cfg's own check of a node.def `type:` (ipv4, u32, ...) before its syntax:expression",
    ),
    Entry(
        "error.commit.failed-section",
        "[[{section}]] failed",
        Source("vyos/vyatta-cfg", "equuleus", "src/commit/commit-algorithm.cpp", "commit::doCommit"),
        evidence=('OUTPUT_USER("[[%s]] failed\\n",', 'OUTPUT_USER("Commit failed\\n");'),
        note="one per failing priority subtree; each conf-mode script stops at its first error, so a section "
        "shows one message",
    ),
    Entry(
        "error.commit.failed",
        "Commit failed",
        Source("vyos/vyatta-cfg", "equuleus", "src/commit/commit-algorithm.cpp", "commit::doCommit"),
        evidence=('OUTPUT_USER("Commit failed\\n");',),
    ),
    Entry(
        "error.interface-missing",
        'Interface "{ifname}" does not exist!',
        Source("vyos/vyos-1x", "equuleus", "python/vyos/configverify.py", "verify_interface_exists"),
        evidence=("does not exist!",),
    ),
    Entry(
        "value interfaces ethernet",
        "Invalid Ethernet interface name",
        Source("vyos/vyos-1x", "equuleus", "interface-definitions/interfaces-ethernet.xml.in", 'tagNode "ethernet"'),
        evidence=("<constraintErrorMessage>Invalid Ethernet interface name</constraintErrorMessage>",),
    ),
    Entry(
        "value interfaces ethernet description",
        "Description too long (limit 256 characters)",
        Source("vyos/vyos-1x", "equuleus", "interface-definitions/include/interface/description.xml.i"),
        evidence=("<constraintErrorMessage>Description too long (limit 256 characters)</constraintErrorMessage>",),
    ),
    Entry(
        "value interfaces ethernet mtu",
        "MTU must be between 68 and 16000",
        Source("vyos/vyos-1x", "equuleus", "interface-definitions/include/interface/mtu-68-16000.xml.i"),
        evidence=("<constraintErrorMessage>MTU must be between 68 and 16000</constraintErrorMessage>",),
    ),
    Entry(
        "value protocols static route blackhole distance",
        "Must be between (1-255)",
        Source(
            "vyos/vyatta-cfg-quagga",
            "equuleus",
            "templates/protocols/static/route/node.tag/blackhole/distance/node.def",
        ),
        evidence=('syntax:expression: $VAR(@) >= 1 && $VAR(@) <= 255; "Must be between (1-255)"',),
    ),
    Entry(
        "value protocols static route next-hop distance",
        "Must be between (1-255)",
        Source(
            "vyos/vyatta-cfg-quagga",
            "equuleus",
            "templates/protocols/static/route/node.tag/next-hop/node.tag/distance/node.def",
        ),
        evidence=('"Must be between (1-255)"',),
    ),
    Entry(
        "value protocols static interface-route next-hop-interface distance",
        "Must be between (1-255)",
        Source(
            "vyos/vyatta-cfg-quagga",
            "equuleus",
            "templates/protocols/static/interface-route/node.tag/next-hop-interface/node.tag/distance/node.def",
        ),
        evidence=('"Must be between (1-255)"',),
    ),
]


# -- BGP: paths, parameters, error texts -------------------------------------------------------------------
# 1.3's BGP is vyatta-cfg-quagga (templates/protocols/bgp/**/node.def + scripts/bgp/vyatta-bgp.pl), not vyos-1x.
_Q = "templates/protocols/bgp/node.tag/"
BGP: list[Entry] = [
    Entry(
        "bgp.render.instance",
        "no bgp ebgp-requires-policy",
        Source("vyos/vyatta-cfg-quagga", "equuleus", "templates/protocols/bgp/node.def", "end:"),
        evidence=(
            "-c 'router bgp $VAR(@)' -c 'no bgp ebgp-requires-policy'",
            "if [ -z $VAR(./parameters/network-import-check/) ]; then",
            "-c 'router bgp $VAR(@)' -c 'no bgp network import-check'",
        ),
        note="every instance gets `no bgp ebgp-requires-policy` (1.3 has no `parameters ebgp-requires-policy`) "
        "and `no bgp network import-check` unless `parameters network-import-check`",
    ),
    Entry(
        "bgp.render.no-ipv4-unicast",
        "no bgp default ipv4-unicast",
        Source("vyos/vyatta-cfg-quagga", "equuleus", "scripts/bgp/vyatta-bgp.pl", "%qcom"),
        evidence=(
            "'protocols bgp var parameters default no-ipv4-unicast' => {",
            "set => 'router bgp #3 ; no bgp default ipv4-unicast',",
        ),
        note="only with `parameters default no-ipv4-unicast`: without it FRR activates every neighbor in IPv4 "
        "unicast by itself",
    ),
    Entry(
        "bgp.render.activate",
        "neighbor {n} activate",
        Source("vyos/vyatta-cfg-quagga", "equuleus", "scripts/bgp/vyatta-bgp.pl", "%qcom"),
        evidence=(
            "'protocols bgp var neighbor var address-family ipv4-unicast' => {",
            "set => 'router bgp #3 ; address-family ipv4 unicast ; neighbor #5 activate',",
        ),
    ),
    Entry(
        "bgp.error.remote-as",
        "must set remote-as or peer-group with remote-as defined",
        Source("vyos/vyatta-cfg-quagga", "equuleus", "scripts/bgp/vyatta-bgp.pl", "check_neighbor_parameters"),
        evidence=(
            'die "[ protocols bgp $as neighbor $neighbor ]\\n'
            '  must set remote-as or peer-group with remote-as defined\\n"',
            '!$config->exists("$as parameters default no-ipv4-unicast"));',
        ),
        note="section `protocols bgp ASN neighbor N`; not raised with `parameters default no-ipv4-unicast`",
    ),
    Entry(
        "bgp.error.remote-as-both",
        "remote-as should not be defined in both neighbor and peer-group",
        Source("vyos/vyatta-cfg-quagga", "equuleus", "scripts/bgp/vyatta-bgp.pl", "check_neighbor_parameters"),
        evidence=('  remote-as should not be defined in both neighbor and peer-group\\n"',),
    ),
    Entry(
        "bgp.error.peer-group-missing",
        "protocols bgp {asn} peer-group {pg} doesn't exist",
        Source("vyos/vyatta-cfg-quagga", "equuleus", _Q + "neighbor/node.tag/peer-group/node.def", "commit:expression"),
        evidence=('"protocols bgp $VAR(../../@) peer-group $VAR(@) doesn\'t exist"',),
        note="section `protocols bgp ASN neighbor N peer-group`",
    ),
    Entry(
        "bgp.error.listen-no-peer-group",
        "A peer-group must be configured for range {prefix}",
        Source("vyos/vyatta-cfg-quagga", "equuleus", "scripts/bgp/vyatta-bgp.pl", "check_bgp_listen"),
        evidence=('die "A peer-group must be configured for range $range\\n";',),
    ),
    Entry(
        "value protocols bgp",
        "AS number must be between 1 and 4294967294",
        Source("vyos/vyatta-cfg-quagga", "equuleus", "templates/protocols/bgp/node.def"),
        evidence=('"AS number must be between 1 and 4294967294"',),
    ),
    Entry(
        "value protocols bgp neighbor remote-as",
        "remote-as must be between 1 and 4294967294 or external or internal",
        Source("vyos/vyatta-cfg-quagga", "equuleus", "scripts/bgp/vyatta-bgp.pl", "check_remote_as"),
        evidence=('die "remote-as must be between 1 and 4294967294 or external or internal";',),
        note="die without a newline: perl appends ` at /opt/vyatta/sbin/vyatta-bgp.pl line N.` (not modelled)",
    ),
    Entry(
        "value protocols bgp neighbor ebgp-multihop",
        "ebgp-multihop must be between 1 and 255",
        Source("vyos/vyatta-cfg-quagga", "equuleus", _Q + "neighbor/node.tag/ebgp-multihop/node.def"),
        evidence=('"ebgp-multihop must be between 1 and 255"',),
    ),
    Entry(
        "value protocols bgp neighbor password",
        "Password must be 80 characters or less",
        Source("vyos/vyatta-cfg-quagga", "equuleus", _Q + "neighbor/node.tag/password/node.def"),
        evidence=("echo Password must be 80 characters or less;",),
    ),
    Entry(
        "value protocols bgp neighbor timers connect",
        "BGP connect timer must be between 0 and 65535",
        Source("vyos/vyatta-cfg-quagga", "equuleus", _Q + "neighbor/node.tag/timers/connect/node.def"),
        evidence=('"BGP connect timer must be between 0 and 65535"',),
    ),
    Entry(
        "value protocols bgp neighbor timers holdtime",
        "Holdtime interval must be 0 or between 4 and 65535",
        Source("vyos/vyatta-cfg-quagga", "equuleus", _Q + "neighbor/node.tag/timers/holdtime/node.def"),
        evidence=('"Holdtime interval must be 0 or between 4 and 65535"',),
    ),
    Entry(
        "value protocols bgp neighbor timers keepalive",
        "Keepalive interval must be between 1 and 65535",
        Source("vyos/vyatta-cfg-quagga", "equuleus", _Q + "neighbor/node.tag/timers/keepalive/node.def"),
        evidence=('"Keepalive interval must be between 1 and 65535"',),
    ),
    Entry(
        "value protocols bgp peer-group",
        "malformed peer-group name {value}",
        Source("vyos/vyatta-cfg-quagga", "equuleus", "scripts/bgp/vyatta-bgp.pl", "check_peergroup_name"),
        evidence=('die "malformed peer-group name $neighbor\\n";',),
    ),
    Entry(
        "value protocols bgp listen limit",
        "Invalid value",
        Source("vyos/vyatta-cfg-quagga", "equuleus", _Q + "listen/limit/node.def"),
        evidence=("--range 1-5000", '"Invalid value"'),
    ),
    Entry(
        "value protocols bgp listen range",
        "Invalid value",
        Source("vyos/vyatta-cfg-quagga", "equuleus", _Q + "listen/range/node.def"),
        evidence=("ipv4-prefix", '"Invalid value"'),
    ),
    Entry(
        "value protocols bgp address-family ipv4-unicast maximum-paths ebgp",
        "Must be between (1-255)",
        Source("vyos/vyatta-cfg-quagga", "equuleus", _Q + "address-family/ipv4-unicast/maximum-paths/ebgp/node.def"),
        evidence=('$VAR(@) >= 1 && $VAR(@) <= 255; "Must be between (1-255)"',),
        note="1-255 on 1.3 (1.4: 1-256)",
    ),
    Entry(
        "value protocols bgp address-family ipv4-unicast maximum-paths ibgp",
        "Must be between (1-255)",
        Source("vyos/vyatta-cfg-quagga", "equuleus", _Q + "address-family/ipv4-unicast/maximum-paths/ibgp/node.def"),
        evidence=('"Must be between (1-255)"',),
    ),
    Entry(
        "value protocols bgp timers holdtime",
        "hold-time interval must be 0 or between 4 and 65535",
        Source("vyos/vyatta-cfg-quagga", "equuleus", _Q + "timers/holdtime/node.def"),
        evidence=('"hold-time interval must be 0 or between 4 and 65535"',),
    ),
    Entry(
        "value protocols bgp timers keepalive",
        "Keepalive interval must be between 1 and 65535",
        Source("vyos/vyatta-cfg-quagga", "equuleus", _Q + "timers/keepalive/node.def"),
        evidence=('"Keepalive interval must be between 1 and 65535"',),
    ),
    Entry(
        "value protocols bgp parameters router-id",
        '"{value}" is not a valid value of type "ipv4"',
        Source("vyos/vyatta-cfg-quagga", "equuleus", _Q + "parameters/router-id/node.def"),
        evidence=("type: ipv4", '"\\"%s\\" is not a valid value of type \\"%s\\"\\n"'),
        sources=(Source("vyos/vyatta-cfg", "equuleus", "src/cli_new.c", "validate_value"),),
        note="a node.def `type: ipv4` without syntax:expression: vyatta-cfg's own type message",
    ),
    Entry(
        "schema protocols bgp parameters",
        "default no-ipv4-unicast, network-import-check, router-id, log-neighbor-changes, bestpath as-path",
        Source("vyos/vyatta-cfg-quagga", "equuleus", "scripts/bgp/vyatta-bgp.pl", "%qcom"),
        evidence=(
            "'protocols bgp var parameters default no-ipv4-unicast' => {",
            "'protocols bgp var parameters router-id' => {",
            "'protocols bgp var parameters log-neighbor-changes' => {",
        ),
        note="the parameters the lab models on 1.3; there is no `ebgp-requires-policy` (templates/protocols/bgp/"
        "node.tag/parameters/ has no such node)",
    ),
]


# -- WireGuard: keys, peers, errors, what a peer change does to the interface, op-mode reports --------------
WIREGUARD: list[Entry] = [
    # vyos-1x 1.3.8 src/conf_mode/interfaces-wireguard.py verify(): raises at the first failure, in this order
    Entry(
        "wireguard.private_key_missing",
        'Wireguard private-key not found! Execute: "run generate wireguard [default-keypair|named-keypairs]"',
        Source("vyos/vyos-1x", "1.3.8", "src/conf_mode/interfaces-wireguard.py", "verify"),
        evidence=("raise ConfigError('Wireguard private-key not found! Execute: '", "[default-keypair|named-keypairs]"),
        note="a file check: /config/auth/wireguard/{private_key}/private.key, private-key defaulting to 'default'",
    ),
    Entry(
        "wireguard.default_keypair",
        "",
        Source("vyos/vyos-1x", "1.3.8", "interface-definitions/interfaces-wireguard.xml.in", "private-key"),
        evidence=("<defaultValue>default</defaultValue>",),
        note="`private-key` defaults to the keypair named default (`generate wireguard default-keypair`, "
        "op_mode/wireguard.py genkey('/config/auth/wireguard/default')): an interface without private-key uses it",
        sources=(Source("vyos/vyos-1x", "1.3.8", "op-mode-definitions/wireguard.xml.in", "default-keypair"),),
    ),
    Entry(
        "wireguard.peer_required",
        "At least one Wireguard peer is required!",
        Source("vyos/vyos-1x", "1.3.8", "src/conf_mode/interfaces-wireguard.py", "verify"),
        evidence=("raise ConfigError('At least one Wireguard peer is required!')",),
    ),
    Entry(
        "wireguard.allowed_ips_required",
        'Wireguard allowed-ips required for peer "{peer}"!',
        Source("vyos/vyos-1x", "1.3.8", "src/conf_mode/interfaces-wireguard.py", "verify"),
        evidence=("raise ConfigError(f'Wireguard allowed-ips required for peer \"{tmp}\"!')",),
    ),
    Entry(
        "wireguard.public_key_required",
        'Wireguard public-key required for peer "{peer}"!',
        Source("vyos/vyos-1x", "1.3.8", "src/conf_mode/interfaces-wireguard.py", "verify"),
        evidence=(
            "raise ConfigError(f'Wireguard public-key required for peer \"{tmp}\"!')",
            "if 'pubkey' not in peer:",
        ),
        note="says public-key although the 1.3 leaf is `pubkey`",
    ),
    Entry(
        "wireguard.address_and_port",
        'Both Wireguard port and address must be defined for peer "{peer}" if either one of them is set!',
        Source("vyos/vyos-1x", "1.3.8", "src/conf_mode/interfaces-wireguard.py", "verify"),
        evidence=(
            "raise ConfigError('Both Wireguard port and address must be defined '",
            "if either one of them is set!",
        ),
    ),
    Entry(
        "wireguard.keypair_missing",
        "/config/auth/wireguard/{name}/public.key not found\n",
        Source("vyos/vyos-1x", "1.3.8", "src/op_mode/wireguard.py", "showkey"),
        evidence=('print ("{} not found".format(key))', 'showkey("{0}/{1}/public.key".format(dir, args.location))'),
        note="`show wireguard keypairs pubkey NAME` of a keypair that does not exist (exit 0)",
    ),
    Entry(
        "wireguard.peer_change",
        "",
        Source("vyos/vyos-1x", "1.3.8", "src/conf_mode/interfaces-wireguard.py", "get_config"),
        evidence=("# T4702: If anything on a peer changes we remove the peer first and re-add it", "peer_remove"),
        note="only the changed peer is removed (by its pubkey) and added again: its session restarts, wgN stays",
    ),
    Entry(
        "wireguard.same_key_as_interface",
        'Peer "{peer}" has the same public key as the interface "{ifname}"',
        Source("vyos/vyos-1x", "1.3.8", "src/conf_mode/interfaces-wireguard.py", "verify"),
        evidence=("has the same public key as the interface",),
        note="only for a peer without `disable`",
    ),
    Entry(
        "wireguard.keypair_regenerate",
        "You already have a wireguard key-pair, do you want to re-generate? [y/n] ",
        Source("vyos/vyos-1x", "1.3.8", "src/op_mode/wireguard.py", "genkey"),
        evidence=('"You already have a wireguard key-pair, do you want to re-generate? [y/n] ")',),
        note="`generate wireguard default-keypair|named-keypairs NAME` of a keypair that exists: input(); only "
        "y or Y re-generates",
    ),
]


# -- secrets: which show commands mask which values ---------------------------------------------------------
SECRETS: list[Entry] = [
    Entry(
        "secrets.hidden",
        "****************",
        Source("vyos/vyatta-cfg", "1.3.6", "src/cnode/cnode-algorithm.cpp", "_print_value_str"),
        evidence=('"pre-shared-secret", "key", NULL };', 'printf("****************");'),
        note="with --show-hide-secrets, a value of a node whose name ends in passphrase, password, "
        "pre-shared-secret or key (private-key, pubkey, password) is printed as 16 asterisks, unquoted",
    ),
    Entry(
        "secrets.show_configuration",
        "",
        Source("vyos/vyos-1x", "1.3.8", "op-mode-definitions/show-configuration.xml.in", "configuration"),
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
        Source("vyos/vyatta-cfg", "1.3.6", "functions/interpreter/vyatta-cfg-run", "vyatta_config_show"),
        evidence=('cli-shell-api "${opts[@]}" -- showCfg "${args[@]}"',),
        note="config-mode `show` (and so `show | commands`) calls showCfg without --show-hide-secrets: in clear",
    ),
]


# -- commit-confirm action: whether the node exists, what expiry does --------------------------------------
CONFIRM_ACTION: list[Entry] = [
    Entry(
        "confirm_action.node",
        "",
        Source("vyos/vyatta-config-mgmt", "1.3.6", "templates-cfg/system/config-management/commit-revisions/node.def"),
        evidence=("type: u32",),
        note="no `commit-confirm` node: an unconfirmed commit-confirm always reboots (vyatta-config-mgmt)",
    ),
]


LEDGER = Ledger("1.3", *LIFECYCLE, *OP_MODE, *ERRORS, *BGP, *WIREGUARD, *SECRETS, *CONFIRM_ACTION)
