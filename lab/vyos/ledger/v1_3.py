"""VyOS 1.3 (equuleus): vyatta-cfg, vyatta-cfg-quagga, vyatta-cfg-firewall, vyatta-op, vyos-1x at equuleus / 1.3.x.

Sections: config lifecycle; op mode and show; errors; BGP; WireGuard; secrets; commit-confirm action.
Each entry cites its source beside it (repo, release tag, path)."""

from __future__ import annotations

from lab.vyos.ledger import Entry, Ledger, Source  # noqa: F401

# -- config lifecycle: save, compare, compare saved, commit, commit-confirm, confirm, rollback, load, exit,
#    discard, the commit-confirm wall broadcasts ----------------------------------------------------------
LIFECYCLE: list[Entry] = [
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
