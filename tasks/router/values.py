"""Every value edgekit types into a router's vbash, checked against what the router's VyOS release takes.

edgekit drives VyOS through its interactive shell: each ``set`` line is read by bash (vbash), then by the config
backend, then by the daemon (FRR, WireGuard). A value that any of them reads differently from what the site file
meant is refused here, before any device is touched, as an ``InputError`` (exit 2) naming the input (its YAML path
and, for a secret, the reference; never a secret's value). The per-release limits are ``Dialect`` fields
(tasks/router/dialect.py); the rules that hold on every release, and why, are below.

Quoting: a value is typed inside single quotes (``quote``, the Jinja filter ``vq``; bash: nothing inside single
quotes is special, and a single quote can never occur in them), which is also how ``show configuration commands``
prints it back, so the plan compares like with like. Names that are path words (a WireGuard peer, an interface)
stay unquoted, as VyOS prints them, and are therefore limited to letters, digits, ``-``, ``_`` and ``.``.

What no release takes through vbash, or reads back differently:

* ``'``: cannot be inside a single-quoted bash word (bash(1) QUOTING "A single quote may not occur between
  single quotes"); 1.3 also pastes the password into ``'$VAR(@)'`` in its length check (vyatta-cfg-quagga
  equuleus templates/protocols/bgp/node.tag/neighbor/node.tag/password/node.def), so one there breaks the check.
* ``?``: the interactive vbash binds it to completion (vyatta-op equuleus etc/bash_completion.d/vyatta-op
  ``bind '"?": possible-completions'``; vyos-1x 1.4.0 src/op_mode/toggle_help_binding.sh, the default on): the
  character never reaches the line, the router would hold a different value than MetalLB.
* ``"``, ``\\`` and control characters: VyOS 1.4+ prints and saves them escaped (vyos1x-config sagitta
  src/util.ml ``escape_string``: ``'"' | '\\\\' | '\\000'..'\\031' | '\\127'``, used by config_tree.ml to_commands
  and the config.boot renderer), so the value read back would never equal the value set (no idempotent deploy);
  a newline would end the command line.

The BGP password, the site file's allowed set (inventory/README.md): 1 to 80 printable ASCII characters
(``!`` to ``~``) except ``'``, ``?``, ``"`` and ``\\``. No whitespace: 1.4/1.5 refuse it at commit (vyos-1x
sagitta/current src/conf_mode/protocols_bgp.py "Whitespace is not allowed in passwords!"), FRR takes the
password as one word (frr-9.1.3 bgpd/bgp_vty.c ``neighbor <A.B.C.D|X:X::X:X|WORD> password LINE``) and so does
MetalLB's FRR config (metallb v0.14.9 internal/bgp/frr/templates/neighborsession.tmpl ``neighbor {{.Addr}}
password {{.Password}}``). At most 80: 1.3 refuses longer at ``set`` (node.def above, ``wc -c``: bytes, hence
ASCII only), and one site file deploys to every release (``dialect: auto`` may meet a 1.3 router).
"""

from __future__ import annotations

import re

from inventory.errors import InputError
from inventory.model import Cluster
from inventory.secrets import SecretRef, check_wireguard_key
from tasks.router.dialect import Dialect

# characters no release takes through vbash or reads back unchanged (the module docstring says why)
UNSAFE = {
    "'": "a single quote (a single-quoted vbash word cannot hold it)",
    "?": "'?' (the interactive vbash completes on it: it never reaches the router)",
    '"': "a double quote (VyOS prints and saves it escaped: the value read back differs)",
    "\\": "a backslash (VyOS prints and saves it escaped: the value read back differs)",
}
PASSWORD_MAX = 80
# A word of a config path that edgekit types unquoted (VyOS prints tag values unquoted): peer names, keypair
# names. VyOS itself takes more (interfaces_wireguard.xml.in peer `[^ ]{1,100}`, vyos-1x equuleus and 1.4.0);
# edgekit narrows it so that nothing in it is special to bash or needs quoting.
NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")
# vyos-1x equuleus interfaces-ethernet.xml.in and 1.4.0 interfaces_ethernet.xml.in:
# `((eth|lan)[0-9]+|(eno|ens|enp|enx).+)`; edgekit narrows `.+` to letters and digits (a path word, unquoted).
ETHERNET_RE = re.compile(r"(eth|lan)[0-9]+|(eno|ens|enp|enx)[a-z0-9]+")


def quote(value: object) -> str:
    """``value`` as one single-quoted vbash word (the Jinja filter ``vq``); a value with a single quote cannot be
    (``check_router_values`` refuses it first, naming the input)."""
    text = str(value)
    if "'" in text or "\n" in text:
        raise ValueError("a value with a single quote or a newline cannot be typed into vbash")
    return f"'{text}'"


def _unsafe(value: str) -> str | None:
    """Why ``value`` cannot go through vbash unchanged (None: it can)."""
    for ch in value:
        if ch in UNSAFE:
            return UNSAFE[ch]
        if ord(ch) < 0x20 or ord(ch) == 0x7F:
            return "a control character (a newline ends the command line; VyOS saves the rest escaped)"
    return None


def check_password(value: str, dialect: Dialect, where: str) -> None:
    """The BGP password against the site file's allowed set and ``dialect``'s limits; the message names the
    input and the rule, never the value."""
    if not value:
        raise InputError("the BGP password is empty", path=where)
    why = _unsafe(value)
    if why is None and any(ch.isspace() for ch in value):
        why = (
            "whitespace (VyOS 1.4+ refuses it at commit: 'Whitespace is not allowed in passwords!'; FRR and "
            "MetalLB take the password as one word)"
        )
    if why is None and not all(0x21 <= ord(ch) <= 0x7E for ch in value):
        why = "a character outside printable ASCII (VyOS 1.3 counts the 80 in bytes)"
    if why is not None:
        raise InputError(f"the BGP password contains {why}; allowed: printable ASCII except ' ? \" \\", path=where)
    limit = min(PASSWORD_MAX, dialect.password_max or PASSWORD_MAX)
    if len(value) > limit:
        rule = (
            "VyOS 1.3 refuses it at set: 'Password must be 80 characters or less'"
            if dialect.password_max
            else f"VyOS 1.3 refuses more, and the site file is one for every release (this router: {dialect.version})"
        )
        raise InputError(f"the BGP password is {len(value)} characters, at most {limit} ({rule})", path=where)


def check_description(value: str, dialect: Dialect, where: str) -> None:
    """A ``description`` leaf (the node-side interface's, a BGP neighbor's)."""
    why = _unsafe(value)
    if why is not None:
        raise InputError(f"{value!r}: a description with {why}", path=where)
    if not dialect.description_min <= len(value) <= dialect.description_max:
        raise InputError(
            f"{value!r}: VyOS {dialect.version} takes a description of {dialect.description_min}-"
            f"{dialect.description_max} characters, this one has {len(value)}",
            path=where,
        )


def check_name(value: str, where: str, what: str) -> None:
    """A name typed as an unquoted config path word or a quoted file name (a WireGuard peer, a 1.3 keypair)."""
    if not NAME_RE.fullmatch(value):
        raise InputError(
            f"{value!r}: {what} must be 1-100 letters, digits, '-', '_' or '.', starting with a letter or digit",
            path=where,
        )


def check_ethernet(value: str, where: str) -> None:
    if not ETHERNET_RE.fullmatch(value):
        raise InputError(
            f"{value!r}: not a VyOS ethernet interface name (ethN, lanN, enoX, ensX, enpX, enxX)", path=where
        )


def check_timers(holdtime: int, keepalive: int, dialect: Dialect, where: str) -> None:
    """``timers holdtime``/``keepalive`` as ``dialect`` takes them (Dialect.holdtime_min cites the sources)."""
    if holdtime != 0 and not dialect.holdtime_min <= holdtime <= 65535:
        raise InputError(
            f"holdtime {holdtime}: VyOS {dialect.version} takes 0 or {dialect.holdtime_min}-65535",
            path=f"{where}.holdtime",
        )
    if not 1 <= keepalive <= 65535:
        raise InputError(f"keepalive {keepalive}: VyOS takes 1-65535", path=f"{where}.keepalive")


def check_venue_firewall(cluster: Cluster, dialect: Dialect) -> None:
    """``router.venue_firewall.ruleset`` is 1.3's (rulesets attached to interfaces); 1.4+ has the forward chain."""
    assert cluster.router is not None
    ruleset = cluster.router.venue_firewall.ruleset
    if ruleset is not None and dialect.firewall_base_chains:
        raise InputError(
            f"{ruleset!r}: VyOS {dialect.version} filters forwarded traffic in the forward base chain, where edgekit "
            "puts its venue rule (rulesets on interfaces are 1.3's); drop the setting, venue_firewall.rule moves it",
            path=f"clusters.{cluster.name}.router.venue_firewall.ruleset",
        )


def secret_path(field: str, ref: SecretRef) -> str:
    """``field`` and the reference it was read through (``clusters.prd.router.bgp.password (env:BGP_PW)``)."""
    return f"{field} ({ref.describe()})"


def check_router_values(
    cluster: Cluster, dialect: Dialect, bgp_password: str | None = None, wg_private_key: str | None = None
) -> None:
    """Every value the router templates type into vbash for ``cluster``, as ``dialect`` takes it: InputError
    naming the first bad one (site file path, or where a live fact came from)."""
    router = cluster.router
    assert router is not None
    at = f"clusters.{cluster.name}.router"
    check_ethernet(router.public_interface, f"{at}.public_interface")
    check_ethernet(router.node_interface, f"{at}.node_interface")
    check_description(router.description, dialect, f"{at}.description")
    check_timers(router.bgp.holdtime, router.bgp.keepalive, dialect, f"{at}.bgp")
    if bgp_password is not None:
        assert router.bgp.password is not None
        check_password(bgp_password, dialect, secret_path(f"{at}.bgp.password", router.bgp.password))
    for i, speaker in enumerate(cluster.speakers):  # node names (Kubernetes or tfstate) become descriptions
        check_description(speaker.name, dialect, f"clusters.{cluster.name}.speakers[{i}].name")
    if router.dialect != "auto":  # with `auto` the plan checks it once the router said its release
        check_venue_firewall(cluster, dialect)
    wg = cluster.wireguard
    if wg is not None:
        at = f"clusters.{cluster.name}.wireguard"
        check_name(wg.peer_name, f"{at}.peer_name", "a WireGuard peer name")
        if dialect.wireguard_named_keys:
            check_name(wg.key_name, f"{at}.key_name", "a WireGuard keypair name")
        if wg_private_key is not None:
            check_wireguard_key(wg_private_key, secret_path(f"{at}.private_key", wg.private_key))
