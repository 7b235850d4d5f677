"""The configuration schema of the paths edgekit manages, for VyOS 1.3, 1.4 and 1.5 (rolling: 1.4's syntax).

Dialect differences live here and only here (``DIALECTS``): 1.3 puts the ASN in every BGP path
(``protocols bgp 65020 ...``), has ``protocols static interface-route`` and names WireGuard keys
(``private-key NAME``, peer ``pubkey``); 1.4 has ``protocols bgp system-as``, ``protocols static
route P interface IF`` and base64 keys (``private-key``, peer ``public-key``).

Node kinds, as in VyOS's interface definitions:
- ``node``: a plain container (``interfaces``, ``ip``); ``presence`` ones mean something when empty
  (``address-family ipv4-unicast`` under a neighbor) and are kept and printed when empty;
- ``tag``: a container whose children are named by the user (``ethernet eth1``, ``neighbor 10.0.0.1``);
- ``leaf``: holds a value (``multi`` leaves hold several, in the order they were set);
- ``flag``: a valueless leaf (``disable``, ``enable-proxy-arp``).
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass, field

# A check returns None when the value is fine, else the constraint message VyOS would print.
Check = Callable[[str], str | None]


@dataclass
class Node:
    kind: str  # "node" | "tag" | "leaf" | "flag"
    children: dict[str, Node] = field(default_factory=dict)
    check: Check | None = None  # validates the value (leaf) or the tag name (tag)
    multi: bool = False
    presence: bool = False
    message: str | None = None  # VyOS's message for a bad value/name (the ledger's); else the check's own
    version: str = ""  # set on the root: the dialect whose ledger texts the tree answers with


def node(presence: bool = False, **children: Node) -> Node:
    return Node("node", {k.replace("_", "-"): v for k, v in children.items()}, presence=presence)


def tag(check: Check, **children: Node) -> Node:
    return Node("tag", {k.replace("_", "-"): v for k, v in children.items()}, check=check)


def leaf(check: Check, multi: bool = False) -> Node:
    return Node("leaf", check=check, multi=multi)


def flag() -> Node:
    return Node("flag")


# ---------------------------------------------------------------- value checks


def _u32(lo: int, hi: int, msg: str | None = None) -> Check:
    def check(value: str) -> str | None:
        if value.isdigit() and lo <= int(value) <= hi:
            return None
        return msg or f"Number must be in range {lo}-{hi}"

    return check


# 4-byte ASNs are valid on VyOS (range 1-4294967294), so 70000 is accepted as the real box does.
check_asn = _u32(1, 4294967294, "Invalid ASN number")


def check_remote_as(value: str) -> str | None:
    if value in ("external", "internal"):
        return None
    return check_asn(value)


def check_ipv4(value: str) -> str | None:
    try:
        ipaddress.IPv4Address(value)
    except ValueError:
        return "Invalid IPv4 address"  # the lab's own; VyOS's per version: ledger `value ... router-id`
    return None


def check_ip(value: str) -> str | None:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return f'"{value}" is not a valid IPv4 or IPv6 address'
    return None


def check_host_prefix(value: str) -> str | None:
    """An interface address: host address with prefix length (``192.168.100.1/24``)."""
    if "/" in value:
        try:
            ipaddress.ip_interface(value)
            return None
        except ValueError:
            pass
    return "Invalid IPv4 or IPv6 prefix"


def check_network(value: str) -> str | None:
    """A prefix with no host bits set (``198.51.100.0/28``)."""
    if "/" in value:
        try:
            ipaddress.ip_network(value, strict=True)
            return None
        except ValueError:
            pass
    return "Invalid IPv4 or IPv6 prefix"


def check_ipv4_network(value: str) -> str | None:
    if "/" in value:
        try:
            ipaddress.IPv4Network(value, strict=True)
            return None
        except ValueError:
            pass
    return "Invalid IPv4 prefix"


def check_wg_key(value: str) -> str | None:
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(value) == 44 and len(raw) == 32:
        return None
    return "Key must be Base64-encoded, 32 bytes in length"


_IFNAME = re.compile(r"^[a-zA-Z][a-zA-Z0-9._-]{0,14}$")


def check_ifname(value: str) -> str | None:
    return None if _IFNAME.match(value) else "Invalid interface name"


def check_ethernet(value: str) -> str | None:
    return None if re.fullmatch(r"(eth|lan)[0-9]+", value) else "Invalid Ethernet interface name"


def check_wireguard(value: str) -> str | None:
    return None if re.fullmatch(r"wg[0-9]+", value) else "WireGuard interface must be named wgN"


def check_text(value: str) -> str | None:
    return None if 0 < len(value) <= 256 and "\n" not in value else "Description too long (limit 256 characters)"


def check_description(version: str) -> Check:
    """1.4: include/generic-description.xml.i `.{0,255}`; 1.3: include/interface/description.xml.i `.{1,256}`
    (vyos-1x at 1.4.0 / equuleus; the message is the ledger's `value ... description`)."""
    limit = 256 if version == "1.3" else 255

    def check(value: str) -> str | None:
        return None if len(value) <= limit and "\n" not in value else f"Description too long (limit {limit} characters)"

    return check


def check_name(value: str) -> str | None:
    return None if re.fullmatch(r"[-_a-zA-Z0-9.]{1,100}", value) else "Name contains invalid characters"


def check_hostname(value: str) -> str | None:
    ok = re.fullmatch(r"[A-Za-z0-9][-.A-Za-z0-9]{0,61}[A-Za-z0-9]|[A-Za-z0-9]", value)
    return None if ok else "Host-name must be alphanumeric and can contain hyphens"


def check_neighbor(value: str) -> str | None:
    if check_ip(value) is None or check_ifname(value) is None:
        return None
    return "Invalid neighbor address or interface"


def check_update_source(value: str) -> str | None:
    return None if check_ip(value) is None or check_ifname(value) is None else "Invalid source address or interface"


def check_password(version: str) -> Check:
    """`neighbor X password` at `set`. 1.3: vyatta-cfg-quagga equuleus templates/protocols/bgp/node.tag/neighbor/
    node.tag/password/node.def: `echo -n '$VAR(@)' | wc -c` over 80 fails (bytes; the message is the ledger's
    `value protocols bgp neighbor password`). 1.4+: vyos-1x 1.4.0 include/bgp/neighbor-password.xml.i has no
    constraint; whitespace is refused at commit (Router.verify_bgp, ledger bgp.error.password-whitespace)."""

    def check13(value: str) -> str | None:
        return None if 0 < len(value.encode()) <= 80 else "Password must be 80 characters or less"

    def check14(value: str) -> str | None:
        return None

    return check13 if version == "1.3" else check14


# ---------------------------------------------------------------- the trees


def _bgp_af_neighbor() -> Node:
    return node(ipv4_unicast=node(presence=True))


def _bgp_bfd(version: str, peer_group: bool) -> Node:
    """`neighbor X bfd` / `peer-group G bfd`, a node that may stand alone.
    1.3: vyatta-cfg-quagga (equuleus) templates/protocols/bgp/node.tag/neighbor/node.tag/bfd/node.def (typeless,
    child check-control-plane-failure) and peer-group/node.tag/bfd/node.def (no children).
    1.4: vyos-1x (sagitta) interface-definitions/include/bgp/neighbor-bfd.xml.i, for neighbor and peer-group:
    children `profile` (include/bfd/profile.xml.i, free text) and check-control-plane-failure."""
    if version == "1.3":
        return node(presence=True) if peer_group else node(presence=True, check_control_plane_failure=flag())
    return node(presence=True, profile=leaf(check_text), check_control_plane_failure=flag())


def _bgp_neighbor_options(with_peer_group: bool, version: str) -> dict[str, Node]:
    opts: dict[str, Node] = dict(
        remote_as=leaf(check_remote_as),
        password=leaf(check_password(version)),
        update_source=leaf(check_update_source),
        disable_connected_check=flag(),
        ebgp_multihop=leaf(_u32(1, 255)),
        description=leaf(check_description(version) if version != "1.3" else check_text),
        shutdown=flag(),
        passive=flag(),
        timers=node(connect=leaf(_u32(1, 65535)), holdtime=leaf(_u32(0, 65535)), keepalive=leaf(_u32(1, 65535))),
        address_family=_bgp_af_neighbor(),
        bfd=_bgp_bfd(version, peer_group=not with_peer_group),
    )
    if with_peer_group:
        opts["peer_group"] = leaf(check_name)
    return {k.replace("_", "-"): v for k, v in opts.items()}


def _bgp_parameters(version: str) -> Node:
    """1.4: vyos-1x include/bgp/protocol-common-config.xml.i (`ebgp-requires-policy`, rendered by bgpd.frr.j2);
    1.3: vyatta-cfg-quagga templates/protocols/bgp/node.tag/parameters/ (no `ebgp-requires-policy`; `default
    no-ipv4-unicast` and `network-import-check` instead: ledger v1_3 BGP)."""
    params = node(
        router_id=leaf(check_ipv4),
        log_neighbor_changes=flag(),
        bestpath=node(as_path=node(multipath_relax=flag(), confed=flag(), ignore=flag())),
    )
    if version == "1.3":
        params.children["default"] = node(no_ipv4_unicast=flag())
        params.children["network-import-check"] = flag()
    else:
        params.children["ebgp-requires-policy"] = flag()
    return params


def _bgp_body(version: str) -> dict[str, Node]:
    neighbor = Node("tag", _bgp_neighbor_options(True, version), check=check_neighbor)
    peer_group = Node("tag", _bgp_neighbor_options(False, version), check=check_name)
    return {
        "neighbor": neighbor,
        "peer-group": peer_group,
        "listen": node(range=tag(check_network, peer_group=leaf(check_name)), limit=leaf(_u32(1, 65535))),
        "address-family": node(
            ipv4_unicast=node(
                presence=True,
                maximum_paths=node(ebgp=leaf(_u32(1, 256)), ibgp=leaf(_u32(1, 256))),
                network=tag(check_ipv4_network),
            )
        ),
        "parameters": _bgp_parameters(version),
        "timers": node(holdtime=leaf(_u32(0, 65535)), keepalive=leaf(_u32(1, 65535))),
    }


def _static_route(version: str) -> Node:
    route = tag(
        check_network,
        blackhole=node(presence=True, distance=leaf(_u32(1, 255))),
        next_hop=tag(check_ip, distance=leaf(_u32(1, 255))),
    )
    if version == "1.4":
        route.children["interface"] = tag(check_ifname, distance=leaf(_u32(1, 255)))
    return route


def _wireguard(version: str) -> Node:
    # 1.3 names a keypair generated on the box; 1.4 takes the base64 key itself.
    private_key = leaf(check_name) if version == "1.3" else leaf(check_wg_key)
    peer_key = "pubkey" if version == "1.3" else "public-key"
    peer = tag(
        check_name,
        allowed_ips=leaf(check_network, multi=True),
        address=leaf(check_ip),
        port=leaf(_u32(1, 65535)),
        persistent_keepalive=leaf(_u32(1, 65535)),
        description=leaf(check_text),
        disable=flag(),
    )
    peer.children[peer_key] = leaf(check_wg_key)
    return tag(
        check_wireguard,
        address=leaf(check_host_prefix, multi=True),
        description=leaf(check_text),
        disable=flag(),
        port=leaf(_u32(1, 65535)),
        private_key=private_key,
        mtu=leaf(_u32(68, 16000)),
        peer=peer,
    )


def check_bfd_profile_name(value: str) -> str | None:
    # vyos-1x (sagitta) interface-definitions/protocols_bfd.xml.in: tagNode profile, regex [-_a-zA-Z0-9]{1,32}
    return None if re.fullmatch(r"[-_a-zA-Z0-9]{1,32}", value) else "Invalid BFD profile name"


def _bfd_common(version: str) -> dict[str, Node]:
    """The peer/profile settings of the lab's subset. 1.3: vyos-1x (equuleus) interface-definitions/
    protocols-bfd.xml.in (inline); 1.4: vyos-1x (sagitta) include/bfd/common.xml.i (adds `passive`).
    Ranges: receive/transmit `numeric --range 10-60000` (ms), multiplier `--range 2-255`; defaults 300/300/3
    (1.3 protocols_bfd.py default values, 1.4 <defaultValue>) are applied at render, not stored."""
    out: dict[str, Node] = {
        "interval": node(receive=leaf(_u32(10, 60000)), transmit=leaf(_u32(10, 60000)), multiplier=leaf(_u32(2, 255))),
        "shutdown": flag(),
    }
    if version != "1.3":
        out["passive"] = flag()
    return out


def _bfd(version: str) -> Node:
    """`protocols bfd`: peer ADDR {source address|interface, interval ..., shutdown, multihop} on both; 1.4 adds
    peer `profile NAME`, `passive` and `protocols bfd profile NAME {interval ..., passive, shutdown}`
    (vyos-1x sagitta interface-definitions/protocols_bfd.xml.in). Not modelled: echo-mode, echo-interval,
    minimum-ttl, vrf."""
    peer = tag(check_ip, source=node(interface=leaf(check_ifname), address=leaf(check_ip)), multihop=flag())
    peer.children.update(_bfd_common(version))
    bfd = node(peer=peer)
    if version != "1.3":
        peer.children["profile"] = leaf(check_text)
        bfd.children["profile"] = Node("tag", _bfd_common(version), check=check_bfd_profile_name)
    return bfd


def check_confirm_action(value: str) -> str | None:
    # vyos-1x current interface-definitions/system_config-management.xml.in (T5976): leafNode action,
    # <regex>(reload|reboot)</regex> and no constraintErrorMessage.
    return None if value in ("reload", "reboot") else f"Value '{value}' is not one of: reload, reboot"


def _config_management(confirm_action: bool) -> Node:
    """`system config-management`: commit-revisions on every release; `commit-confirm action reboot|reload`
    only where the release has it (T5976, vyos-1x PR 4128, merged on `current` 2024-10: 1.5/rolling). The
    sagitta branch and the 1.4.0, 1.4.0-epa1..3 tags have no `commit-confirm` node in
    interface-definitions/system_config-management.xml.in; there the `set` fails like any unknown path."""
    cm = node(commit_revisions=leaf(_u32(1, 65535)))
    if confirm_action:
        cm.children["commit-confirm"] = node(action=leaf(check_confirm_action))
    return cm


def build_schema(release: str) -> Node:
    """The tree of a lab release ("1.3", "1.4", "1.5"): 1.5 speaks 1.4's syntax (``Dialect.speaks``) and adds
    the nodes its release has (``Dialect.confirm_action_node``)."""
    if release not in DIALECTS:
        raise ValueError(f"unsupported VyOS version {release!r} (expected one of {sorted(DIALECTS)})")
    version = DIALECTS[release].speaks
    bgp: Node
    if version == "1.3":
        bgp = Node("tag", _bgp_body(version), check=check_asn)
    else:
        bgp = Node("node", {"system-as": leaf(check_asn), **_bgp_body(version)})
    from .firewall import firewall_schema, interface_firewall_13  # firewall.py builds on this module's helpers

    static = node(route=_static_route(version))
    if version == "1.3":
        static.children["interface-route"] = tag(
            check_network, next_hop_interface=tag(check_ifname, distance=leaf(_u32(1, 255)))
        )
    ethernet = tag(
        check_ethernet,
        address=leaf(check_host_prefix, multi=True),
        description=leaf(check_description(version)),
        disable=flag(),
        mtu=leaf(_u32(68, 16000)),
        ip=node(enable_proxy_arp=flag()),
    )
    wireguard = _wireguard(version)
    if version == "1.3":  # 1.3 attaches rule sets to interfaces; 1.4 has no such node
        ethernet.children["firewall"] = interface_firewall_13()
        wireguard.children["firewall"] = interface_firewall_13()
    root = node(
        # `system ip multipath layer4-hashing`: ECMP by L4 hash (fib_multipath_hash_policy=1), VyOS 1.3 and 1.4.
        system=node(
            host_name=leaf(check_hostname),
            ip=node(multipath=node(layer4_hashing=flag())),
            config_management=_config_management(DIALECTS[release].confirm_action_node),
        ),
        interfaces=node(ethernet=ethernet, wireguard=wireguard),
        firewall=firewall_schema(version),
        protocols=node(bgp=bgp, static=static, bfd=_bfd(version)),
        # The daemon's own SSH server always runs; the config records it as a VyOS box would.
        service=node(ssh=node(port=leaf(_u32(1, 65535)), listen_address=leaf(check_ip, multi=True))),
    )
    root.version = version
    _apply_messages(root, version)
    return root


# The subtrees whose value messages come from the ledger (ERRORS/BGP `value <path>` entries). WireGuard and
# the firewall keep their own. On 1.3 only the nodes that come from vyos-1x's interface-definitions fall back
# to build-command-templates' `Invalid value`; its BGP and static routes are vyatta-cfg-quagga node.defs whose
# messages the ledger lists one by one (the rest keep the lab's wording: not yet audited).
_MESSAGE_ROOTS = {
    "1.3": ("system host-name", "interfaces ethernet", "protocols bfd", "service ssh"),
    "1.4": ("system", "interfaces ethernet", "protocols bgp", "protocols static", "protocols bfd", "service ssh"),
}


def _apply_messages(root: Node, version: str) -> None:
    from lab.vyos.ledger import ledger

    led = ledger(version)
    default = led.text("error.invalid-value")
    fallback = _MESSAGE_ROOTS.get(version, _MESSAGE_ROOTS["1.4"])

    def walk(n: Node, path: tuple[str, ...]) -> None:
        key = "value " + " ".join(path)
        if n.check is not None:
            if key in led:
                n.message = led.text(key)
            elif any(" ".join(path).startswith(r) for r in fallback):
                n.message = default
        for name, child in n.children.items():
            walk(child, path + (name,))

    walk(root, ())


@dataclass(frozen=True)
class Dialect:
    """What differs between the releases besides the schema tree."""

    version: str  # the full release shown by `show version`
    train: str
    frr: str  # FRR version VyOS ships (the lab runs the machine's FRR; shows pass through unchanged)
    wg_peer_key: str
    has_show_wireguard: bool
    speaks: str = ""  # the syntax ("1.3" or "1.4") the schema and the checks follow; "" = the release itself
    # `system config-management commit-confirm action` (T5976): only vyos-1x `current` (1.5/rolling) has it
    confirm_action_node: bool = False
    # `show interfaces wireguard wgN summary`: `sudo wg show "$4"` (1.4.0 op-mode-definitions/
    # show-interfaces-wireguard.xml.in) or VyOS's own report (current: interfaces_wireguard.py show_summary, T4833)
    wg_summary_report: bool = False

    def __post_init__(self) -> None:
        if not self.speaks:
            object.__setattr__(self, "speaks", ".".join(self.version.split(".")[:2]))


# 1.5: a rolling image of vyos-1x `current` (a rolling image names its build: 1.5-rolling-YYYYMMDDhhmm; this one is
# dated like the `current` commit the lab follows, 2024-10-21). Its FRR is not modelled (the lab runs the machine's).
DIALECTS: dict[str, Dialect] = {
    "1.3": Dialect("1.3.8", "equuleus", "7.5.1", "pubkey", True),
    "1.4": Dialect("1.4.0", "sagitta", "9.1", "public-key", False),
    "1.5": Dialect(
        "1.5-rolling-202410210017",
        "current",
        "",
        "public-key",
        False,
        speaks="1.4",
        confirm_action_node=True,
        wg_summary_report=True,
    ),
}
