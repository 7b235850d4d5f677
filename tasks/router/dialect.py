"""Where VyOS 1.3, 1.4 and 1.5 (rolling) differ, in one place.

1.3 ("equuleus", FRR 7) puts the ASN into every BGP path, names WireGuard keypairs generated on the
box and routes through interfaces with ``interface-route``; 1.4 ("sagitta", FRR 9) sets the ASN once
(``system-as``), takes the base64 private key, calls the peer key ``public-key`` and writes
``route P interface IF``. Both show BFD sessions with ``show bfd peers`` (``bfd_peers_command``). Templates and
checks ask this object instead of testing version numbers.

The venue firewall (templates/vyos/firewall.j2) drops forwarded traffic to venue-scoped MetalLB pools that did not
come in through the WireGuard interface. 1.4 has base chains: one rule in ``firewall ipv4 forward filter`` matching
``inbound-interface name '!wgN'`` (vyos-1x sagitta interface-definitions/include/firewall/match-interface.xml.i:
``!txt`` "Inverted interface name to match"). 1.3 has no base chains nor interface matches in rules: a named
ruleset (``firewall name``, default-action accept) attached to the other interfaces' ``firewall in name``
(vyos-1x equuleus interface-definitions/include/interface/interface-firewall.xml.i: ``in`` "forwarded packets on
inbound interface"). Both match the pools through ``firewall group network-group``.

An unconfirmed ``commit-confirm`` reboots 1.3 and 1.4 into their saved config. Only a release that has
``system config-management commit-confirm action`` (vyos-1x T5976, PR #4128, merged on ``current`` in 2024-10:
interface-definitions/system_config-management.xml.in) can revert in place: 1.5/rolling (``knows_confirm_action``).
The sagitta branch and the public 1.4 tags (1.4.0, 1.4.0-epa1..3) lack it; edgekit still probes a 1.4 router
(``revert_in_place``: a later 1.4.x could carry a backport) and falls back to the reboot when the ``set`` is refused.
1.3 cannot (vyatta-config-mgmt.pl schedules a reboot, nothing else). 1.5 speaks 1.4's syntax.

A WireGuard peer change recreates the interface on 1.4 and 1.5 (vyos-1x sagitta and current
src/conf_mode/interfaces_wireguard.py, T4702: a change under ``peer`` sets ``rebuild_required`` and apply()
removes wgN before it creates it again: the tunnel drops, its addresses and routes go and come back); 1.3
removes and re-adds only the changed peer (equuleus src/conf_mode/interfaces-wireguard.py ``peer_remove``):
that peer's session restarts, the interface stays (``wireguard_peer_change_recreates``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from inventory.errors import InputError

VERSION_RE = re.compile(r"VyOS\s*(\d+\.\d+)")


@dataclass(frozen=True)
class Dialect:
    version: str
    asn_in_path: bool  # 1.3: `protocols bgp 65020 ...`; 1.4: `protocols bgp system-as 65020`
    wireguard_named_keys: bool  # 1.3: `private-key NAME` refers to a keypair generated on the box
    wireguard_peer_key_leaf: str  # `pubkey` (1.3) or `public-key` (1.4)
    interface_route: bool  # 1.3: `protocols static interface-route P next-hop-interface IF`
    revert_in_place: bool  # may know `system config-management commit-confirm action reload` (probed; 1.4+)
    # The op-mode command that runs FRR's `show bfd peers` (full, not brief): vyos-1x op-mode-definitions/
    # show-bfd.xml.in, the same on the equuleus (1.3) and sagitta (1.4) branches: `show bfd peers` ->
    # vtysh -c "show bfd peers". (`show protocols bfd peer` was a pre-release 1.3 tree, vyos-1x PR #103.)
    bfd_peers_command: str = "show bfd peers"
    # 1.4: `firewall ipv4 forward filter rule N ... inbound-interface name '!wgN'`; 1.3: a `firewall name`
    # ruleset attached as `interfaces ethernet IF firewall in name` on every interface but the tunnel.
    firewall_base_chains: bool = False
    # the release has `system config-management commit-confirm action` by its source (1.5/rolling, T5976)
    knows_confirm_action: bool = False
    # a change under `interfaces wireguard wgN peer` removes and re-creates wgN (1.4+, T4702)
    wireguard_peer_change_recreates: bool = False
    # Values the release takes (tasks/router/values.py applies them, naming the input):
    # `protocols bgp ... timers holdtime`: 0 or holdtime_min-65535. 1.3: vyatta-cfg-quagga equuleus
    # templates/protocols/bgp/node.tag/timers/holdtime/node.def `$VAR(@) == 0 || ($VAR(@) >= 4 && $VAR(@) <= 65535)`
    # "hold-time interval must be 0 or between 4 and 65535". 1.4/1.5: vyos-1x 1.4.0 and current
    # interface-definitions/include/bgp/timers-holdtime.xml.i `numeric --range 0-65535`, then FRR refuses 1-2
    # (FRR frr-9.1.3 bgpd/bgp_vty.c bgp_timers: "hold time value must be either 0 or greater than 3").
    # keepalive is 1-65535 on all three (equuleus timers/keepalive/node.def; include/bgp/timers-keepalive.xml.i).
    holdtime_min: int = 3
    # `neighbor X password`: 1.3 vyatta-cfg-quagga equuleus templates/protocols/bgp/node.tag/neighbor/node.tag/
    # password/node.def "Password must be 80 characters or less" (at `set`); 1.4/1.5 (include/bgp/
    # neighbor-password.xml.i) have no length constraint but refuse whitespace at commit (vyos-1x sagitta and
    # current src/conf_mode/protocols_bgp.py verify(): "Whitespace is not allowed in passwords!").
    password_max: int | None = None
    password_whitespace_at_commit: bool = True
    # `description`: 1.3 interface description include/interface/description.xml.i `.{1,256}$` (vyos-1x
    # equuleus); 1.4/1.5 include/generic-description.xml.i `.{0,255}` "Description too long (limit 255
    # characters)" (vyos-1x 1.4.0 and current, interfaces and BGP neighbors alike).
    description_min: int = 0
    description_max: int = 255

    def bgp_root(self, asn: int) -> str:
        return f"protocols bgp {asn}" if self.asn_in_path else "protocols bgp"

    def firewall_rule(self, rule: int, ruleset: str | None = None) -> str:
        """The path of edgekit's venue rule: in the forward base chain (1.4), or in its own ruleset (1.3), or in
        the router's own ``ruleset`` that the site file merges it into (1.3, ``router.venue_firewall.ruleset``)."""
        if self.firewall_base_chains:
            return f"firewall ipv4 forward filter rule {rule}"
        return f"firewall name {ruleset or VENUE_RULESET} rule {rule}"

    def static_interface_route(self, prefix: str, interface: str) -> str:
        if self.interface_route:
            return f"protocols static interface-route {prefix} next-hop-interface {interface}"
        return f"protocols static route {prefix} interface {interface}"


VENUE_GROUP = "EDGEKIT-VENUE-POOLS"  # firewall group network-group of the venue-scoped pools
VENUE_RULESET = "EDGEKIT-VENUE-ONLY"  # 1.3: the ruleset attached to the non-tunnel interfaces
VENUE_RULE = 10  # edgekit's rule number (1.4: in the forward filter, before users' rules numbered above it)

DIALECTS: dict[str, Dialect] = {
    "1.3": Dialect(
        "1.3",
        True,
        True,
        "pubkey",
        True,
        False,
        "show bfd peers",
        firewall_base_chains=False,
        holdtime_min=4,
        password_max=80,
        password_whitespace_at_commit=False,
        description_min=1,
        description_max=256,
    ),
    "1.4": Dialect(
        "1.4",
        False,
        False,
        "public-key",
        False,
        True,
        "show bfd peers",
        firewall_base_chains=True,
        wireguard_peer_change_recreates=True,
    ),
    # rolling (vyos-1x current): speaks 1.4 and knows `commit-confirm action`
    "1.5": Dialect(
        "1.5",
        False,
        False,
        "public-key",
        False,
        True,
        "show bfd peers",
        firewall_base_chains=True,
        knows_confirm_action=True,
        wireguard_peer_change_recreates=True,
    ),
}


def dialect_for(version: str) -> Dialect:
    """The dialect of a VyOS release ("1.3", "1.4", "1.5", ...); releases after 1.5 are taken as 1.5."""
    try:
        major, minor = (int(x) for x in version.split(".")[:2])
    except ValueError:
        raise InputError(f"not a VyOS version: {version!r}") from None
    if (major, minor) < (1, 3):
        raise InputError(f"VyOS {version} is not supported (1.3 or later)")
    if (major, minor) == (1, 3):
        return DIALECTS["1.3"]
    return DIALECTS["1.4"] if (major, minor) == (1, 4) else DIALECTS["1.5"]


def detect(show_version: str) -> Dialect:
    """The dialect from `show version` text (``Version:          VyOS 1.4.0``, ``VyOS 1.5-rolling-202410210017``)."""
    match = VERSION_RE.search(show_version)
    if not match:
        raise InputError("`show version` names no VyOS version")
    return dialect_for(match.group(1))


def resolve(setting: str, show: Callable[[str], str]) -> Dialect:
    """The dialect of a router whose site file says ``setting`` (``router.dialect``): ``auto`` asks the router
    (``show version``), any other is that release's."""
    return dialect_for(setting) if setting != "auto" else detect(show("show version"))


def assumed(setting: str) -> Dialect:
    """The dialect to render with before connecting (``auto``: 1.4; the plan renders again when the router
    says otherwise)."""
    return DIALECTS[setting if setting != "auto" else "1.4"]
