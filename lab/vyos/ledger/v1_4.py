"""VyOS 1.4 (sagitta): vyos-1x and vyatta-cfg at sagitta / 1.4.x tags.

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
