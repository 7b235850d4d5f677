"""The firewall subset of the lab router: enough to drop forwarded traffic to some networks unless it came in
through a given interface (the WireGuard tunnel), in each dialect's own syntax, with real packet filtering
(nftables) in the router's namespace.

1.4 (vyos-1x sagitta): ``firewall ipv4 forward filter`` and ``firewall ipv4 name NAME`` (default-action, rule N:
action, jump-target, destination/source address or group network-group, inbound-/outbound-interface name or
group, description, disable), ``firewall group network-group NAME network P`` and ``firewall group
interface-group NAME interface IF``. Rendered as data/templates/firewall/nftables.j2 with python/vyos/firewall.py
parse_rule() and template.py nft_default_rule(): table ``ip vyos_filter``, chains ``VYOS_FORWARD_filter`` (hook
forward) and ``NAME_<name>``, sets ``N_<group>`` / ``I_<group>``.

1.3 (vyatta-cfg-firewall equuleus): ``firewall name NAME`` (default-action drop|reject|accept, default drop; rule N:
action drop|reject|accept, destination/source address or group network-group, description, disable), ``firewall
group network-group NAME network P``; a rule set acts only where an interface names it: ``interfaces ethernet|
wireguard IF firewall in|out|local name NAME`` (1.3 rules have no inbound-interface). 1.3 programmed iptables
(scripts/firewall/vyatta-firewall.pl: FORWARD -> VYATTA_FW_IN_HOOK (-i IF -j NAME) / VYATTA_FW_OUT_HOOK
(-o IF -j NAME), INPUT -> VYATTA_FW_LOCAL_HOOK; rule set chain NAME, `accept` = -j RETURN, the default-action
rule last with comment "NAME-1000000 default-action drop"; network groups are ipsets). The lab renders the same
chains and verdicts with nftables (table ``ip filter``, as iptables-nft would hold them) instead of iptables:
the packets meet the same rules in the same order.
"""

from __future__ import annotations

import ipaddress
import re
import shutil
import subprocess

from .config import Tree, has, sub, value, values
from .ops import tabulate_simple
from .schema import Check, Node, check_text, flag, leaf, node, tag

# ---------------------------------------------------------------- value checks


def _ipv4_match(v: str) -> bool:
    """ipv4-address | ipv4-prefix | ipv4-range, each optionally negated with `!` (1.4 address.xml.i validators;
    1.3 AddressFilter.pm accepts the same forms)."""
    v = v[1:] if v.startswith("!") else v
    try:
        if "-" in v:
            a, b = v.split("-", 1)
            return ipaddress.IPv4Address(a) <= ipaddress.IPv4Address(b)
        if "/" in v:
            ipaddress.IPv4Network(v, strict=True)
        else:
            ipaddress.IPv4Address(v)
        return True
    except ValueError:
        return False


def check_fw_address(value: str) -> str | None:
    return None if _ipv4_match(value) else f'"{value}" is not a valid IPv4 address, prefix or range'


def check_ipv4_prefix(value: str) -> str | None:
    try:
        ipaddress.IPv4Network(value, strict=True)
        return None if "/" in value else "Invalid IPv4 prefix"
    except ValueError:
        return "Invalid IPv4 prefix"


def _one_of(*words: str, msg: str | None = None) -> Check:
    def check(value: str) -> str | None:
        return None if value in words else (msg or f"Value '{value}' is not one of: {', '.join(words)}")

    return check


def _rule_number(msg: str) -> Check:
    def check(value: str) -> str | None:
        return None if value.isdigit() and 1 <= int(value) <= 999999 else msg

    return check


def check_group_name_14(value: str) -> str | None:
    # include/constraint/alpha-numeric-hyphen-underscore-dot.xml.i + firewall.xml.in constraintErrorMessage
    if re.fullmatch(r"[-_a-zA-Z0-9][\w\-\.\+]*", value):
        return None
    return "Name of firewall group can only contain alphanumeric letters, hyphen, underscores and dot"


def check_name_14(value: str) -> str | None:
    # include/firewall/ipv4-custom-name.xml.i: regex [a-zA-Z0-9][\w\-\.]* (no constraintErrorMessage)
    return None if re.fullmatch(r"[a-zA-Z0-9][\w\-\.]*", value) else f"Invalid firewall name {value}"


def check_interface_14(value: str) -> str | None:
    # include/firewall/match-interface.xml.i regex (an optional `!`, a known prefix, a `*` wildcard)
    rx = (
        r"(\!?)(bond|br|dum|en|ersp|eth|gnv|ifb|ipoe|lan|l2tp|l2tpeth|macsec|peth|ppp|pppoe|pptp|sstp|tun|veth|vti"
        r"|vtun|vxlan|wg|wlan|wwan)([0-9]?)(\*?)(.+)?|(\!?)lo"
    )
    return None if re.fullmatch(rx, value) else f"Invalid interface name {value}"


def check_name_13(value: str) -> str | None:
    """templates/firewall/name/node.def syntax:expressions, in their order."""
    if not re.fullmatch(r"[!-~]{1,28}", value):
        return "Firewall name must be 28 characters or less"
    if value.startswith("-"):
        return 'Firewall rule set name cannot start with "-"'
    if re.search(r"[|;&$<>]", value):
        return "Firewall rule set name cannot contain shell punctuation"
    if value.startswith("VZONE"):
        return "Firewall rule set name cannot start with 'VZONE'"
    if re.search(r"(PREROUTING|POSTROUTING|CONNMARK|MARKFILTER|FORWARD|INPUT|OUTPUT|VYATTA_.*_HOOK)", value):
        return f"{value} is a reserved name"
    return None


def check_group_name_13(value: str) -> str | None:
    """templates/firewall/group/network-group/node.def syntax:expressions."""
    if not re.fullmatch(r"[!-~]{1,31}", value):
        return "Firewall group name must be 31 characters or less"
    if value.startswith("-"):
        return 'Firewall group name cannot start with "-"'
    if value.startswith("!"):
        return 'Firewall group name cannot start with "!"'
    if re.search(r"[|;&$<>]", value):
        return "Firewall group name cannot contain shell punctuation"
    return None


def check_any(value: str) -> str | None:
    return None if value else "Value required"


# ---------------------------------------------------------------- schema


def _side() -> Node:
    return node(address=leaf(check_fw_address), group=node(network_group=leaf(check_any)))


def _rule_14() -> Node:
    actions = ("accept", "continue", "jump", "reject", "return", "drop")  # action.xml.i minus queue/offload/synproxy
    return tag(
        _rule_number("Firewall rule number must be between 1 and 999999"),
        action=leaf(_one_of(*actions)),
        description=leaf(check_text),
        disable=flag(),
        jump_target=leaf(check_any),
        destination=_side(),
        source=_side(),
        inbound_interface=node(name=leaf(check_interface_14), group=leaf(check_any)),
        outbound_interface=node(name=leaf(check_interface_14), group=leaf(check_any)),
    )


def firewall_schema(version: str) -> Node:
    if version == "1.3":
        rule = tag(
            _rule_number("firewall rule number must be between 1 and 999999"),
            action=leaf(_one_of("drop", "reject", "accept", msg="action must be one of drop, reject or accept")),
            description=leaf(check_text),
            disable=flag(),
            destination=_side(),
            source=_side(),
        )
        return node(
            group=node(
                network_group=tag(
                    check_group_name_13, description=leaf(check_text), network=leaf(check_ipv4_prefix, multi=True)
                )
            ),
            name=tag(
                check_name_13,
                default_action=leaf(
                    _one_of("drop", "accept", "reject", msg="default-action must be drop, reject or accept")
                ),
                description=leaf(check_text),
                rule=rule,
            ),
        )
    forward = node(
        filter=node(
            default_action=leaf(_one_of("drop", "accept")),  # default-action-base-chains.xml.i
            description=leaf(check_text),
            rule=_rule_14(),
        )
    )
    name = tag(
        check_name_14,
        default_action=leaf(_one_of("drop", "jump", "reject", "return", "accept", "continue")),  # default-action.xml.i
        default_jump_target=leaf(check_any),
        description=leaf(check_text),
        rule=_rule_14(),
    )
    return node(
        group=node(
            network_group=tag(
                check_group_name_14, description=leaf(check_text), network=leaf(check_ipv4_prefix, multi=True)
            ),
            interface_group=tag(
                check_group_name_14, description=leaf(check_text), interface=leaf(check_any, multi=True)
            ),
        ),
        ipv4=node(forward=forward, name=name),
    )


def interface_firewall_13() -> Node:
    """1.3 `interfaces <type> IF firewall in|out|local name NAME` (vyatta-cfg-firewall gen-interface-templates.pl,
    for ethernet and wireguard among others)."""
    return node(**{d: node(name=leaf(check_any)) for d in ("in", "out", "local")})


# ---------------------------------------------------------------- verify


def verify(tree: Tree, running: Tree, version: str) -> list[tuple[str, str]]:
    fw = sub(tree, "firewall")
    return _verify_13(tree, running, fw) if version == "1.3" else _verify_14(fw)


def _verify_14(fw: Tree) -> list[tuple[str, str]]:
    """vyos-1x (sagitta) src/conf_mode/firewall.py verify() / verify_rule(): the first error raises ConfigError."""
    names = sub(fw, "ipv4", "name")
    groups = sub(fw, "group")
    chains = (
        [("forward", "filter", sub(fw, "ipv4", "forward", "filter"))] if has(fw, "ipv4", "forward", "filter") else []
    )
    chains += [("name", n, c) for n, c in names.items()]
    for kind, cname, conf in chains:
        default = value(conf, "default-action") or ("accept" if kind == "forward" else "drop")
        if default == "jump" and not has(conf, "default-jump-target"):
            return [("firewall", "default-action set to jump, but no default-jump-target specified")]
        target = value(conf, "default-jump-target")
        if target is not None:
            if default != "jump":
                return [
                    ("firewall", "default-jump-target defined, but default-action jump needed and it is not defined")
                ]
            if target == cname:
                return [("firewall", "Loop detected on default-jump-target.")]
            if target not in names:
                return [("firewall", f"Invalid jump-target. Firewall name {target} does not exist on the system")]
        for _, rc in sub(conf, "rule").items():
            err = _verify_rule_14(rc, names, groups)
            if err:
                return [("firewall", err)]
    return []


def _verify_rule_14(rc: Tree, names: Tree, groups: Tree) -> str | None:
    action = value(rc, "action")
    if action is None:
        return "Rule action must be defined"
    if action == "jump" and not has(rc, "jump-target"):
        return "Action set to jump, but no jump-target specified"
    if has(rc, "jump-target"):
        if action != "jump":
            return "jump-target defined, but action jump needed and it is not defined"
        target = value(rc, "jump-target")
        if target not in names:
            return f"Invalid jump-target. Firewall name {target} does not exist on the system"
    for side in ("destination", "source"):
        sc = sub(rc, side)
        group = value(sc, "group", "network-group")
        if group is not None:
            if has(sc, "address"):
                return "network-group and address cannot both be defined"
            if group.lstrip("!") not in sub(groups, "network-group"):
                return f'Invalid network-group "{group.lstrip("!")}" on firewall rule'
    for direction in ("inbound-interface", "outbound-interface"):
        dc = sub(rc, direction)
        if has(dc, "name") and has(dc, "group"):
            return f"Cannot specify both interface group and interface name for {direction.replace('-', '_')}"
        group = value(dc, "group")
        if group is not None and group.lstrip("!") not in sub(groups, "interface-group"):
            return f'Invalid interface group "{group.lstrip("!")}" on firewall rule'
    return None


def _verify_13(tree: Tree, running: Tree, fw: Tree) -> list[tuple[str, str]]:
    """vyatta-cfg-firewall (equuleus): Rule.pm rule() ('"action" must be defined in rule N', reported by
    vyatta-firewall.pl as `Configuration error: ...` at the rule), vyatta-ipset.pl check-set-type (commit
    expression of `group network-group`), vyatta-firewall.pl --update-interfaces (`Rule set "X" is not
    configured`) and the rule set's teardown check (`Cannot delete rule set "X" (still in use)`)."""
    errs: list[tuple[str, str]] = []
    names = sub(fw, "name")
    groups = sub(fw, "group", "network-group")
    for n, conf in names.items():
        for r, rc in sub(conf, "rule").items():
            for side in ("destination", "source"):
                g = value(rc, side, "group", "network-group")
                if g is not None and g not in groups:
                    errs.append(
                        (f"firewall name {n} rule {r} {side} group network-group", f"Group [{g}] has not been defined")
                    )
            if not has(rc, "disable") and value(rc, "action") is None:
                errs.append(
                    (f"firewall name {n} rule {r}", f'Configuration error: "action" must be defined in rule {r}')
                )
    used = attached_13(tree)
    for ifname, direction, rs in used:
        if rs not in names:
            errs.append(
                (
                    f"interfaces {ifname} firewall {direction} name",
                    f'Configuration error: Rule set "{rs}" is not configured',
                )
            )
    for n in sub(running, "firewall", "name"):
        if n not in names and any(rs == n for _, _, rs in used):
            errs.append((f"firewall name {n}", f'Configuration error: Cannot delete rule set "{n}" (still in use)'))
    return errs


def attached_13(tree: Tree) -> list[tuple[str, str, str]]:
    """(`ethernet eth2`, direction, rule set) for every interface that names a 1.3 rule set."""
    out = []
    for kind in ("ethernet", "wireguard"):
        for ifname, cfg in sub(tree, "interfaces", kind).items():
            for direction in ("in", "out", "local"):
                rs = value(cfg, "firewall", direction, "name")
                if rs is not None:
                    out.append((f"{kind} {ifname}", direction, rs))
    return out


# ---------------------------------------------------------------- rendering


def _addr(prefix: str, v: str) -> str:
    op = "!= " if v.startswith("!") else ""
    return f"ip {prefix}addr {op}{v.lstrip('!')}"


def _set_elements(networks: list[str]) -> str:
    return f"        elements = {{ {','.join(networks)} }}\n" if networks else ""


def rule_14(rc: Tree, hook: str, fw_name: str, rule_id: str) -> str:
    """python/vyos/firewall.py parse_rule() (sagitta) for the subset's fields, in its order."""
    out: list[str] = []
    for side in ("destination", "source"):
        sc = sub(rc, side)
        p = side[0]
        if has(sc, "address"):
            out.append(_addr(p, value(sc, "address") or ""))
        g = value(sc, "group", "network-group")
        if g is not None:
            op = "!=" if g.startswith("!") else ""
            out.append(f"ip {p}addr {op} @N_{g.lstrip('!')}")
    for direction, word in (("inbound-interface", "iifname"), ("outbound-interface", "oifname")):
        dc = sub(rc, direction)
        n = value(dc, "name")
        g = value(dc, "group")
        if n is not None:
            op = "!=" if n.startswith("!") else ""
            out.append(f"{word} {op} {{{n.lstrip('!')}}}")
        elif g is not None:
            op = "!=" if g.startswith("!") else ""
            out.append(f"{word} {op} @I_{g.lstrip('!')}")
    out.append("counter")
    action = value(rc, "action") or ""
    out.append(action)
    if action == "jump":
        out.append(f"NAME_{value(rc, 'jump-target')}")
    out.append(f'comment "ipv4-{hook}-{fw_name}-{rule_id}"')
    return " ".join(out)


def default_14(conf: Tree, fw_name: str, default: str) -> str:
    """python/vyos/template.py nft_default_rule() (sagitta)."""
    action = value(conf, "default-action") or default
    out = ["counter", action]
    if has(conf, "default-jump-target"):
        out.append(f"NAME_{value(conf, 'default-jump-target')}")
    out.append(f'comment "{fw_name} default-action {action}"')
    return " ".join(out)


def _rules(conf: Tree) -> list[tuple[str, Tree]]:
    return sorted(((r, rc) for r, rc in sub(conf, "rule").items() if not has(rc, "disable")), key=lambda x: int(x[0]))


def render_14(fw: Tree) -> str:
    """data/templates/firewall/nftables.j2 (sagitta), the `table ip vyos_filter` part for the subset."""
    out = ["table ip vyos_filter {"]
    fwd = sub(fw, "ipv4", "forward", "filter")
    if has(fw, "ipv4", "forward", "filter"):
        out.append("    chain VYOS_FORWARD_filter {")
        out.append("        type filter hook forward priority filter; policy accept;")
        out += [f"        {rule_14(rc, 'FWD', 'filter', r)}" for r, rc in _rules(fwd)]
        out.append(f"        {default_14(fwd, 'FWD-filter', 'accept')}")
        out.append("    }")
    for n, conf in sub(fw, "ipv4", "name").items():
        out.append(f"    chain NAME_{n} {{")
        out += [f"        {rule_14(rc, 'NAM', n, r)}" for r, rc in _rules(conf)]
        out.append(f"        {default_14(conf, n, 'drop')}")
        out.append("    }")
    text = "\n".join(out) + "\n"
    # nftables-defines.j2 groups(): N_<name> (ipv4_addr) and I_<name> (ifname), interval sets with auto-merge
    for g, gc in sub(fw, "group", "network-group").items():
        text += f"    set N_{g} {{\n        type ipv4_addr\n        flags interval\n        auto-merge\n"
        text += _set_elements(values(gc, "network")) + "    }\n"
    for g, gc in sub(fw, "group", "interface-group").items():
        text += f"    set I_{g} {{\n        type ifname\n        flags interval\n        auto-merge\n"
        text += _set_elements(values(gc, "interface")) + "    }\n"
    return text + "}\n"


def render_13(tree: Tree) -> str:
    """The iptables filter table vyatta-firewall.pl builds (equuleus), written for nftables."""
    fw = sub(tree, "firewall")
    verdict = {"drop": "drop", "reject": "reject", "accept": "return"}  # %policy_hash and Rule.pm rule()
    out = ["table ip filter {"]
    hooks = {"in": [], "out": [], "local": []}  # type: dict[str, list[str]]
    for ifname, direction, rs in attached_13(tree):
        word = "oifname" if direction == "out" else "iifname"
        hooks[direction].append(f'        {word} "{ifname.split()[1]}" counter jump {rs}')
    out += [
        "    chain FORWARD {",
        "        type filter hook forward priority filter; policy accept;",
        "        jump VYATTA_FW_IN_HOOK",
        "        jump VYATTA_FW_OUT_HOOK",
        "    }",
        "    chain INPUT {",
        "        type filter hook input priority filter; policy accept;",
        "        jump VYATTA_FW_LOCAL_HOOK",
        "    }",
    ]
    for direction, chain in (
        ("in", "VYATTA_FW_IN_HOOK"),
        ("out", "VYATTA_FW_OUT_HOOK"),
        ("local", "VYATTA_FW_LOCAL_HOOK"),
    ):
        out += [f"    chain {chain} {{", *hooks[direction], "    }"]
    for g, gc in sub(fw, "group", "network-group").items():
        out += [f"    set {g} {{", "        type ipv4_addr", "        flags interval"]
        if values(gc, "network"):
            out.append(_set_elements(values(gc, "network")).rstrip("\n"))
        out.append("    }")
    for n, conf in sub(fw, "name").items():
        out.append(f"    chain {n} {{")
        for r, rc in _rules(conf):
            m: list[str] = []
            for side in ("source", "destination"):
                sc = sub(rc, side)
                p = side[0]
                if has(sc, "address"):
                    m.append(_addr(p, value(sc, "address") or ""))
                g = value(sc, "group", "network-group")
                if g is not None:
                    m.append(f"ip {p}addr @{g}")
            m += ["counter", verdict[value(rc, "action") or "drop"], f'comment "{n}-{r}"']
            out.append("        " + " ".join(m))
        policy = value(conf, "default-action") or "drop"
        out.append(f'        counter {verdict[policy]} comment "{n}-1000000 default-action {policy}"')
        out.append("    }")
    return "\n".join(out) + "\n}\n"


def render(tree: Tree, version: str) -> str:
    """The nft script for ``tree`` ("" when there is no firewall at all)."""
    if version == "1.3":
        if not has(tree, "firewall") and not attached_13(tree):
            return ""
        return render_13(tree)
    return render_14(sub(tree, "firewall")) if has(tree, "firewall") else ""


TABLES = {"1.3": "ip filter", "1.4": "ip vyos_filter"}


def script(text: str, version: str) -> str:
    """Replace the dialect's table in one transaction (nftables.j2 `delete table ip vyos_filter` before
    re-creating it); an empty ``text`` removes it."""
    table = TABLES[version]
    return f"table {table}\ndelete table {table}\n" + text


def check(text: str, version: str) -> str | None:
    """`nft -c`: the script as the kernel would take it, without applying it (nothing to check without a
    firewall)."""
    if not text:
        return None
    p = subprocess.run(
        ["nft", "-c", "-f", "-"], input=script(text, version), capture_output=True, text=True, timeout=30
    )
    return None if p.returncode == 0 else (p.stderr or p.stdout).strip()


def apply(text: str, version: str) -> None:
    """Replace the dialect's table with ``text``; with no firewall on a machine without nft there is nothing
    to remove."""
    if not text and shutil.which("nft") is None:
        return
    p = subprocess.run(["nft", "-f", "-"], input=script(text, version), capture_output=True, text=True, timeout=30)
    if p.returncode != 0:
        raise RuntimeError((p.stderr or p.stdout).strip())


# ---------------------------------------------------------------- op mode


def _chain_details(chain: str, priority: str) -> dict[str, dict[str, str]]:
    """vyos-1x (1.4.0) src/op_mode/firewall.py get_nftables_details(): `nft list chain ip vyos_filter CHAIN`,
    each line whose comment names a rule (or the default-action) gives its counters and its conditions."""
    p = subprocess.run(["nft", "list", "chain", "ip", "vyos_filter", chain], capture_output=True, text=True, timeout=30)
    if p.returncode != 0:
        return {}
    out: dict[str, dict[str, str]] = {}
    for line in p.stdout.split("\n"):
        found = re.search(rf"{re.escape(priority)}[\- ](\d+|default-action)", line)
        if not found:
            continue
        rule: dict[str, str] = {}
        counters = re.search(r"counter packets (\d+) bytes (\d+)", line)
        if counters:
            rule["packets"], rule["bytes"] = counters[1], counters[2]
        rule["conditions"] = re.sub(
            r'(\b(counter packets \d+ bytes \d+|drop|reject|return|log)\b|comment "[\w\-]+")', "", line
        ).strip()
        out[found[1]] = rule
    return out


def show_firewall_14(tree: Tree) -> str:
    """`show firewall` (1.4.0 op-mode-definitions/firewall.xml.in -> firewall.py show_firewall()): `Rulesets
    Information`, then per ipv4 hook/priority output_firewall_name(): a header and tabulate(rows, ['Rule',
    'Action', 'Protocol', 'Packets', 'Bytes', 'Conditions']) (simple format; Packets/Bytes are numbers)."""
    fw = sub(tree, "firewall")
    out = "Rulesets Information\n"
    if not fw:
        return out
    chains = [("forward", "filter", "VYOS_FORWARD_filter", sub(fw, "ipv4", "forward", "filter"))]
    chains = [c for c in chains if has(fw, "ipv4", "forward", "filter")]
    chains += [("name", n, f"NAME_{n}", c) for n, c in sub(fw, "ipv4", "name").items()]
    for hook, priority, chain, conf in chains:
        out += f'\n---------------------------------\nipv4 Firewall "{hook} {priority}"\n\n'
        details = _chain_details(chain, priority)
        rows: list[list[str]] = []
        for rule_id, rc in sorted(sub(conf, "rule").items(), key=lambda x: int(x[0])):
            if has(rc, "disable"):
                continue
            row = [rule_id, value(rc, "action") or "", "all"]
            if rule_id in details:
                d = details[rule_id]
                row += [d.get("packets", "0"), d.get("bytes", "0"), d["conditions"]]
            rows.append(row)
        default = value(conf, "default-action") or ("accept" if hook == "forward" else "drop")
        d = details.get("default-action", {})
        rows.append(["default", default, "all", d.get("packets", "0"), d.get("bytes", "0")])
        rows = [r + [""] * (6 - len(r)) for r in rows]
        numeric = frozenset(i for i in (3, 4) if all(r[i].isdigit() for r in rows))
        out += tabulate_simple(rows, ["Rule", "Action", "Protocol", "Packets", "Bytes", "Conditions"], numeric)
        out += "\n\n"
    return out
