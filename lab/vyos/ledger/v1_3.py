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


LEDGER = Ledger("1.3", *LIFECYCLE, *OP_MODE, *ERRORS, *BGP, *WIREGUARD, *SECRETS, *CONFIRM_ACTION)
