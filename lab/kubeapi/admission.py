"""MetalLB's validating admission webhooks in the Kubernetes stand-in, per MetalLB version (v0.13.12, v0.14.9).

What a real cluster does with a write of a metallb.io object (kube-apiserver 1.29 + MetalLB's controller):

1. CRD schema validation (lab.kubeapi.crd_schema): 422 Invalid.
2. The validating webhook of the kind (``WEBHOOKS``; names from metallb/metallb config/webhook/manifests.yaml at
   the tag, failurePolicy Fail, sideEffects None so dry-run requests are sent too). The webhook lists the objects
   of its kind (some kinds also pools and nodes), puts the new one in place of the old and parses that as
   MetalLB's whole config (internal/config config.go ``For``): the first error refuses the request.
   - v0.13.12: api/v1beta1/*_webhook.go and api/v1beta2/bgppeer_webhook.go (``ValidateCreate``/``ValidateUpdate``
     / ``ValidateDelete``); internal/config/validator.go ``Validate`` ignores a ``TransientError`` (a peer's
     missing BFD profile, a missing password Secret, a community alias not defined).
   - v0.14.9: internal/k8s/webhooks/webhookv1beta1/*_webhook.go, webhookv1beta2/bgppeer_webhook.go; validator.go
     ``resetTransientErrorsFields`` blanks peers' ``bfdProfile`` and ``passwordSecret`` and drops communities
     without ``:`` before ``For``: so the v0.14.9 webhook lets native-mode ``bfdProfile`` and password +
     passwordSecret through; the controller then refuses the whole config (``controller_config_error``).
   The mode-specific checks (internal/config/validation.go ``ValidationFor``: frr and frr-k8s ->
   ``DiscardNativeOnly``, native -> ``DiscardFRROnly``) run first, on the same lists.
3. The refusal as the client reads it: controller-runtime (v0.16.3 for MetalLB v0.13.12, v0.19.3 for v0.14.9)
   pkg/webhook/admission/response.go ``Denied`` -> ``ValidationResponse(false, msg)``: Result {code 403, reason
   Forbidden, message msg}; a body the webhook cannot decode: ``Errored(400, err)``. kube-apiserver
   k8s.io/apiserver pkg/admission/plugin/webhook/errors/statuserror.go ``ToStatusErr``: message
   ``admission webhook "<name>" denied the request: <msg>``, status Failure.
   A webhook that cannot be called (lab fault ``webhook: down``) with failurePolicy Fail:
   pkg/admission/plugin/webhook/validating/dispatcher.go (``ErrCallingWebhook{Reason: "failed to call webhook:
   %w"}``, failing closed: ``apierrors.NewInternalError(err)``) and pkg/util/webhook/error.go
   (``failed calling webhook %q: %v``): HTTP 500, reason InternalError, ``Internal error occurred: ...``,
   details.causes [{message}].

Go formatting kept as MetalLB prints it: ``%q`` of a string is a double-quoted Go string, ``%q`` of an int a Go
rune literal (``invalid aggregation length '!' for IPv4`` for 33), ``%q`` of a duration its ``String()``;
v0.14.9's ``errors.Join`` joins with a newline.

Not modelled: label selector duplicate checks (validateLabelSelectorDuplicate prints a Go struct with %q),
serviceAllocation namespace/service selectors, localPref conflicts between advertisements, BGPExtras, the
L2Advertisement interfaces, v0.14.9's CEL rules on connectTime/enableGracefulRestart.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv6Address, ip_address, ip_network, summarize_address_range
from typing import Any

from lab.kubeapi.status import status
from lab.topology.metallb import selector_matches  # metav1.LabelSelector, as the lab's controller matches

VERSIONS = ("v0.13.12", "v0.14.9")
DEFAULT_VERSION = "v0.13.12"
BGP_TYPES = ("frr", "frr-k8s", "native")
DEFAULT_BGP_TYPE = "frr"
DEFAULT_NAMESPACE = "metallb-system"

# plural -> webhook name (config/webhook/manifests.yaml at both tags), and the operations it is called for.
WEBHOOKS: dict[str, tuple[str, tuple[str, ...]]] = {
    "bgppeers": ("bgppeersvalidationwebhook.metallb.io", ("CREATE", "UPDATE")),
    "bfdprofiles": ("bfdprofilevalidationwebhook.metallb.io", ("CREATE", "DELETE")),
    "bgpadvertisements": ("bgpadvertisementvalidationwebhook.metallb.io", ("CREATE", "UPDATE")),
    "communities": ("communityvalidationwebhook.metallb.io", ("CREATE", "UPDATE")),
    "ipaddresspools": ("ipaddresspoolvalidationwebhook.metallb.io", ("CREATE", "UPDATE")),
    "l2advertisements": ("l2advertisementvalidationwebhook.metallb.io", ("CREATE", "UPDATE")),
}
# The path each webhook is served at (same manifests), for the "failed calling webhook" text.
WEBHOOK_PATHS = {
    "bgppeers": "/validate-metallb-io-v1beta2-bgppeer",
    "bfdprofiles": "/validate-metallb-io-v1beta1-bfdprofile",
    "bgpadvertisements": "/validate-metallb-io-v1beta1-bgpadvertisement",
    "communities": "/validate-metallb-io-v1beta1-community",
    "ipaddresspools": "/validate-metallb-io-v1beta1-ipaddresspool",
    "l2advertisements": "/validate-metallb-io-v1beta1-l2advertisement",
}
# config/webhook/service.yaml: webhook-service at v0.13.12; metallb-webhook-service at v0.14.9.
WEBHOOK_SERVICE = {"v0.13.12": "webhook-service", "v0.14.9": "metallb-webhook-service"}


@dataclass(frozen=True)
class Settings:
    """How the cluster's MetalLB is installed: world file key ``metallb`` ({version, bgpType, namespace, webhook})."""

    version: str = DEFAULT_VERSION
    bgp_type: str = DEFAULT_BGP_TYPE
    namespace: str = DEFAULT_NAMESPACE
    webhook: str = "up"  # "down": the webhook Service has no ready endpoint (lab fault)

    @classmethod
    def of(cls, data: dict[str, Any] | None) -> Settings:
        data = data or {}
        version = str(data.get("version") or DEFAULT_VERSION)
        bgp_type = str(data.get("bgpType") or DEFAULT_BGP_TYPE)
        if version not in VERSIONS:
            raise ValueError(f"metallb version {version!r}: one of {', '.join(VERSIONS)}")
        if bgp_type not in BGP_TYPES:
            raise ValueError(f"metallb bgpType {bgp_type!r}: one of {', '.join(BGP_TYPES)}")
        return cls(version, bgp_type, str(data.get("namespace") or DEFAULT_NAMESPACE), str(data.get("webhook") or "up"))

    def as_dict(self) -> dict[str, str]:
        return {"version": self.version, "bgpType": self.bgp_type, "namespace": self.namespace, "webhook": self.webhook}


class Refused(Exception):
    """MetalLB's config parser refuses (``transient``: config.go's TransientError)."""

    def __init__(self, message: str, transient: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.transient = transient


# -- Go formatting --------------------------------------------------------------------------------------------


def q(text: Any) -> str:
    """Go ``%q`` of a string (ASCII: what json.dumps writes)."""
    return json.dumps(str(text))


def q_int(n: int) -> str:
    """Go ``%q`` of an integer: a single-quoted rune literal (strconv.QuoteRune)."""
    if 0x20 <= n < 0x7F:
        c = chr(n)
        return "'\\''" if c == "'" else ("'\\\\'" if c == "\\" else f"'{c}'")
    escapes = {7: "\\a", 8: "\\b", 9: "\\t", 10: "\\n", 11: "\\v", 12: "\\f", 13: "\\r"}
    if n in escapes:
        return f"'{escapes[n]}'"
    if n < 0x80:
        return f"'\\x{n:02x}'"
    if n <= 0xFFFF:
        return f"'{chr(n)}'" if chr(n).isprintable() else f"'\\u{n:04x}'"
    return f"'{chr(n)}'" if n <= 0x10FFFF and chr(n).isprintable() else "'\\ufffd'"


_UNITS = {"ns": 1, "us": 1_000, "µs": 1_000, "μs": 1_000, "ms": 1_000_000, "s": 10**9, "m": 60 * 10**9}
_UNITS["h"] = 3600 * 10**9
_DURATION_PART = re.compile(r"(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)")


def parse_duration(text: str) -> int:
    """Go time.ParseDuration in nanoseconds; ValueError with Go's text (``time: invalid duration "x"``)."""
    s = text
    sign = 1
    if s[:1] in "+-" and s:
        sign, s = (-1 if s[0] == "-" else 1), s[1:]
    if s == "0":
        return 0
    if not s:
        raise ValueError(f"time: invalid duration {q(text)}")
    total, pos = 0.0, 0
    while pos < len(s):
        m = _DURATION_PART.match(s, pos)
        if not m:
            if re.match(r"(\d+\.?\d*|\.\d+)", s[pos:]):
                rest = re.match(r"(\d+\.?\d*|\.\d+)([^\d.]*)", s[pos:])
                unit = rest.group(2) if rest else ""
                if not unit:
                    raise ValueError(f"time: missing unit in duration {q(text)}")
                raise ValueError(f"time: unknown unit {q(unit)} in duration {q(text)}")
            raise ValueError(f"time: invalid duration {q(text)}")
        total += float(m.group(1)) * _UNITS[m.group(2)]
        pos = m.end()
    return sign * int(round(total))


def go_duration(ns: int) -> str:
    """time.Duration.String()."""
    if ns == 0:
        return "0s"
    neg, u = ns < 0, abs(ns)
    if u < 10**9:
        for unit, size in (("ns", 1), ("µs", 1_000), ("ms", 1_000_000)):
            if u < size * 1000:
                return ("-" if neg else "") + _frac(u, size) + unit
    out = ""
    hours, rem = divmod(u, 3600 * 10**9)
    minutes, rem = divmod(rem, 60 * 10**9)
    if hours:
        out += f"{hours}h"
    if hours or minutes:
        out += f"{minutes}m"
    out += _frac(rem, 10**9) + "s"
    return ("-" if neg else "") + out


def _frac(value: int, size: int) -> str:
    whole, frac = divmod(value, size)
    if not frac:
        return str(whole)
    digits = len(str(size)) - 1
    return f"{whole}.{str(frac).zfill(digits).rstrip('0')}"


# -- MetalLB's config parsing (internal/config/config.go For), the parts the webhooks reach --------------------


@dataclass
class Resources:
    """internal/config ClusterResources: what one webhook (or the controller) hands to ``For``."""

    pools: list[dict[str, Any]] = field(default_factory=list)
    peers: list[dict[str, Any]] = field(default_factory=list)
    bfd_profiles: list[dict[str, Any]] = field(default_factory=list)
    bgp_advs: list[dict[str, Any]] = field(default_factory=list)
    l2_advs: list[dict[str, Any]] = field(default_factory=list)
    communities: list[dict[str, Any]] = field(default_factory=list)
    nodes: list[dict[str, Any]] = field(default_factory=list)
    secrets: dict[str, dict[str, Any]] = field(default_factory=dict)


def _spec(o: dict[str, Any]) -> dict[str, Any]:
    return o.get("spec") or {}


def _name(o: dict[str, Any]) -> str:
    return str((o.get("metadata") or {}).get("name") or "")


def discard_frr_only(res: Resources, version: str) -> None:
    """internal/config/validation.go DiscardFRROnly (native BGP mode)."""
    for p in res.peers:
        s = _spec(p)
        addr = s.get("peerAddress", "")
        if s.get("bfdProfile"):
            raise Refused(f"peer {addr} has bfd-profile set on native bgp mode")
        if s.get("keepaliveTime") and parse_duration(str(s["keepaliveTime"])) != 0:
            raise Refused(f"peer {addr} has keepalive-time set on native bgp mode")
        if s.get("vrf"):
            raise Refused(f"peer {addr} has vrf set on native bgp mode")
        if version != "v0.13.12":
            if s.get("connectTime") is not None:
                raise Refused(f"peer {addr} has connect time set on native bgp mode")
            if s.get("enableGracefulRestart"):
                raise Refused(f"peer {addr} has EnableGracefulRestart flag set on native bgp mode")
            if s.get("disableMP"):
                raise Refused(f"peer {addr} has disable MP flag set on native bgp mode")
            if s.get("dynamicASN"):
                raise Refused(f"peer {addr} has dynamicASN set on native bgp mode")
    if res.bfd_profiles:
        raise Refused("bfd profiles section set")
    if res.bgp_advs:  # findIPv6BGPAdvertisement (v0.14.9: only pools a BGPAdvertisement selects)
        for p in res.pools:
            if version != "v0.13.12" and not _bgp_selects_pool(res, p):
                continue
            for cidr in _spec(p).get("addresses") or []:
                try:
                    nets = parse_cidr(str(cidr))
                except Refused as exc:
                    raise Refused(f"invalid CIDR {q(cidr)} in pool {q(_name(p))}: {exc.message}") from None
                for n in nets:
                    if n.version == 6:
                        raise Refused(f"pool {q(_name(p))} has ipv6 CIDR {n}, native bgp mode does not support ipv6")
    for adv in res.bgp_advs:  # findNonLegacyCommunity
        for cs in _spec(adv).get("communities") or []:
            kind = _community_kind(str(cs))
            if kind == "large":
                raise Refused(
                    "native BGP mode only supports legacy communities, BGP advertisement "
                    f"{q(_name(adv))} has non legacy community {q(cs)}"
                )
    for co in res.communities:
        for cs in _spec(co).get("communities") or []:
            if _community_kind(str((cs or {}).get("value", ""))) == "large":
                raise Refused(
                    f"native BGP mode only supports legacy communities, BGP community CR {q(_name(co))} "
                    f"has non legacy community {_go_struct_community(cs)}"
                )


def _go_struct_community(cs: dict[str, Any]) -> str:
    """``%q`` of a CommunityAlias struct: Go prints {"name" "value"}."""
    return "{" + q(cs.get("name", "")) + " " + q(cs.get("value", "")) + "}"


def _bgp_selects_pool(res: Resources, pool: dict[str, Any]) -> bool:
    """v0.14.9 validation.go poolSelectorsForBGP / matchesPool."""
    names: set[str] = set()
    selectors: list[dict[str, Any]] = []
    for adv in res.bgp_advs:
        s = _spec(adv)
        if not s.get("ipAddressPools") and not s.get("ipAddressPoolSelectors"):
            return True
        names.update(s.get("ipAddressPools") or [])
        selectors.extend(s.get("ipAddressPoolSelectors") or [])
    if not names and not selectors:
        return True
    labels = (pool.get("metadata") or {}).get("labels") or {}
    return _name(pool) in names or any(selector_matches(sel, labels) for sel in selectors)


def discard_native_only(res: Resources) -> None:
    """internal/config/validation.go DiscardNativeOnly (FRR and frr-k8s modes)."""
    peers = [_spec(p) for p in res.peers]
    if len(peers) > 1:
        router_id = peers[0].get("routerID", "")
        seen = {f"{peers[0].get('peerAddress', '')}-{peers[0].get('vrf', '')}"}
        for p in peers[1:]:
            if p.get("routerID", "") != router_id:
                raise Refused(
                    f"peer {p.get('routerID', '')} has RouterID different from {router_id}, in FRR mode all RouterID "
                    "must be equal"
                )
            key = f"{p.get('peerAddress', '')}-{p.get('vrf', '')}"
            if key in seen:
                raise Refused(
                    f"peer {p.get('peerAddress', '')} already exists, FRR mode doesn't support duplicate BGPPeers"
                )
            seen.add(key)
    for p in peers:
        for p1 in peers[1:]:
            if p.get("myASN") != p1.get("myASN") and p.get("vrf", "") == p1.get("vrf", ""):
                raise Refused(
                    f"peer {p.get('peerAddress', '')} has myAsn different from {p1.get('peerAddress', '')}, in FRR "
                    "mode all myAsn must be equal for the same VRF"
                )


def _metav1_duration(value: Any) -> int:
    """metav1.Duration's JSON decoding (the webhook's decoder): ValueError -> Errored(400)."""
    return parse_duration(str(value))


def _peer(p: dict[str, Any], res: Resources, version: str) -> dict[str, Any]:
    """config.go peerFromCR (+ passwordForPeer / passwordFromSecretForPeer). Returns the parsed peer."""
    s, name, ns = _spec(p), _name(p), (p.get("metadata") or {}).get("namespace", "")
    if not s.get("myASN"):
        raise Refused("missing local ASN")
    if version == "v0.13.12":
        if not s.get("peerASN"):
            raise Refused("missing peer ASN")
    else:
        if not s.get("peerASN") and not s.get("dynamicASN"):
            raise Refused("missing peer ASN and dynamicASN")
        if s.get("peerASN") and s.get("dynamicASN"):
            raise Refused("both peer ASN and dynamicASN specified")
        if s.get("dynamicASN") and s["dynamicASN"] not in ("internal", "external"):
            raise Refused(f"invalid dynamicASN {s['dynamicASN']}")
    if s.get("peerASN") == s.get("myASN") and s.get("ebgpMultiHop"):
        raise Refused("invalid ebgp-multihop parameter set for an ibgp peer")
    try:
        ip_address(str(s.get("peerAddress", "")))
    except ValueError:
        raise Refused(f"invalid BGPPeer address {q(s.get('peerAddress', ''))}") from None
    hold_raw, ka_raw = s.get("holdTime"), s.get("keepaliveTime")
    hold_ns = _metav1_duration(hold_raw) if hold_raw is not None else None
    ka_ns = _metav1_duration(ka_raw) if ka_raw is not None else None
    if version == "v0.13.12":
        hold = hold_ns or 90 * 10**9
        rounded = (hold // 10**9) * 10**9
        if rounded != 0 and rounded < 3 * 10**9:
            raise Refused(f"invalid hold time {q(go_duration(hold))}: must be 0 or >=3s")
        keepalive = ka_ns or hold // 3
        if keepalive > hold:
            raise Refused(f"invalid keepaliveTime {q(go_duration(ka_ns or 0))}")
    elif hold_ns is not None or ka_ns is not None:  # v0.14.9 parseTimers
        hold = hold_ns if hold_ns is not None else (ka_ns or 0) * 3
        keepalive = ka_ns if ka_ns is not None else hold // 3
        rounded = (hold // 10**9) * 10**9
        ht = (
            q(go_duration(hold_ns)) if hold_ns is not None else "<nil>"
        )  # fmt prints a nil pointer operand so (catchPanic)
        ka = q(go_duration(ka_ns)) if ka_ns is not None else "<nil>"  # fmt prints a nil pointer operand so (catchPanic)
        if rounded != 0 and rounded < 3 * 10**9:
            raise Refused(f"invalid BGPPeer timers: invalid hold time {ht}: must be 0 or >=3s")
        if keepalive > hold:
            raise Refused(f"invalid BGPPeer timers: invalid keepaliveTime {ka}, must be lower than holdTime {ht}")
    if s.get("routerID"):
        try:
            ip_address(str(s["routerID"]))
        except ValueError:
            raise Refused(f"invalid router ID {q(s['routerID'])}") from None
    if s.get("sourceAddress"):
        try:
            ip_address(str(s["sourceAddress"]))
        except ValueError:
            raise Refused(f"invalid source IP {q(s['sourceAddress'])}") from None
    for sel in s.get("nodeSelectors") or []:
        _check_selector(sel)
    secret_ref = s.get("passwordSecret") or {}
    if s.get("password") and secret_ref.get("name"):
        raise Refused(f"can not have both password and secret ref set in peer config {q(ns)}/{q(name)}")
    password = s.get("password") or ""
    if secret_ref.get("name"):
        secret = res.secrets.get(secret_ref["name"]) or {}
        sns, sname = (secret.get("metadata") or {}).get("namespace", ""), _name(secret)
        try:
            if not secret:
                raise Refused(f"secret ref not found for peer config {q(ns)}/{q(name)}", transient=True)
            if secret.get("type") != "kubernetes.io/basic-auth":
                raise Refused(
                    f"secret type mismatch on {q(sns)}/{q(sname)}, type {q('kubernetes.io/basic-auth')} is expected "
                )
            if "password" not in (secret.get("data") or {}):
                raise Refused(f"password not specified in the secret {q(sns)}/{q(sname)}")
        except Refused as exc:
            if version == "v0.13.12":
                raise
            raise Refused(f"{exc.message}\nfailed to parse peer {name} password secret", exc.transient) from None
        password = base64.b64decode(secret["data"]["password"]).decode(errors="replace")
    del password
    return s


def _check_selector(sel: dict[str, Any]) -> None:
    """metav1.LabelSelectorAsSelector's operator check (the errors it can give for these CRDs)."""
    for expr in (sel or {}).get("matchExpressions") or []:
        op = expr.get("operator")
        if op not in ("In", "NotIn", "Exists", "DoesNotExist"):
            raise Refused(f"{q(op)} is not a valid label selector operator")
        values = expr.get("values") or []
        if op in ("In", "NotIn") and not values:
            raise Refused(
                "values: Invalid value: []string(nil): for 'in', 'notin' operators, values set can't be empty"
            )
        if op in ("Exists", "DoesNotExist") and values:
            raise Refused(
                f"values: Invalid value: []string{{{', '.join(q(v) for v in values)}}}: values set must be empty for "
                "exists and does not exist"
            )


Net = Any  # IPv4Network | IPv6Network


def parse_cidr(cidr: str) -> list[Net]:
    """config.go ParseCIDR: a CIDR (net.ParseCIDR, host bits masked) or an "a-b" range (summarised)."""
    if "-" not in cidr:
        if "/" not in cidr:
            raise Refused(f"invalid CIDR {q(cidr)}")
        try:
            return [ip_network(cidr, strict=False)]
        except ValueError:
            raise Refused(f"invalid CIDR {q(cidr)}") from None
    first, last = cidr.split("-", 1)
    try:
        start = ip_address(first.strip())
    except ValueError:
        raise Refused(f"invalid IP range {q(cidr)}: invalid start IP {q(first)}") from None
    try:
        end = ip_address(last.strip())
    except ValueError:
        raise Refused(f"invalid IP range {q(cidr)}: invalid end IP {q(last)}") from None
    if _ip16(start) > _ip16(end):
        raise Refused(f"invalid IP range {q(cidr)}: start IP {q(start)} is after the end IP {q(end)}")
    if start.version != end.version:
        raise Refused(f"invalid IP range {q(cidr)}")
    return list(summarize_address_range(start, end))


def _ip16(ip: IPv4Address | IPv6Address) -> bytes:
    """net.ParseIP's 16-byte form (bytes.Compare in ParseCIDR compares these)."""
    return (b"\x00" * 10 + b"\xff\xff" + ip.packed) if ip.version == 4 else ip.packed


def _overlap(a: Net, b: Net) -> bool:
    """config.go cidrsOverlap (same family: a v4 network never contains a v6 one)."""
    return bool(a.version == b.version and (a.subnet_of(b) or b.subnet_of(a)))


def _community_kind(text: str) -> str:
    """community.New's outcome: "legacy", "large", "bad-value" (ErrInvalidCommunityValue), "bad-format"."""
    fs = text.split(":")
    if len(fs) == 2:
        return "legacy" if all(f.isdigit() and int(f) <= 0xFFFF for f in fs) else "bad-value"
    if len(fs) == 4:
        if fs[0] != "large":
            return "bad-value"
        return "large" if all(f.isdigit() and int(f) <= 0xFFFFFFFF for f in fs[1:]) else "bad-value"
    return "bad-format"


def _community_error(text: str) -> str:
    """community.New's error text."""
    fs = text.split(":")
    if len(fs) == 2:
        for f in fs:
            if not (f.isdigit() and int(f) <= 0xFFFF):
                why = "value out of range" if f.isdigit() else "invalid syntax"
                err = f"strconv.ParseUint: parsing {q(f)}: {why}"
                return f"invalid community value: invalid section {q(f)} of community {q(text)}, err: {q(err)}"
    if len(fs) == 4:
        if fs[0] != "large":
            return (
                "invalid community value: invalid marker for large community, expected community to be of format "
                f"large:<uint32>:<uint32>:<uint32> but got {q(text)} instead"
            )
        for f in fs[1:]:
            if not (f.isdigit() and int(f) <= 0xFFFFFFFF):
                why = "value out of range" if f.isdigit() else "invalid syntax"
                err = f"strconv.ParseUint: parsing {q(f)}: {why}"
                return f"invalid community value: invalid section {q(f)} of community {q(text)}, err: {q(err)}"
    return f"invalid community format: {text}"


def _bfd_profiles(res: Resources, version: str) -> set[str]:
    """config.go bfdProfilesFor / bfdProfileFromCR (bfdIntFromConfig ranges)."""
    seen: set[str] = set()
    ranges = (
        ("detectMultiplier", 2, 255, "invalid detect multiplier value"),
        ("receiveInterval", 10, 60000, "invalid receive interval value"),
        ("transmitInterval", 10, 60000, "invalid transmit interval value"),
        ("minimumTtl", 1, 254, "invalid minimum ttl value"),
        ("echoInterval", 10, 60000, "invalid echo interval value"),
    )
    for i, b in enumerate(res.bfd_profiles):
        s = _spec(b)
        for key, lo, hi, what in ranges:
            v = s.get(key)
            if v is not None and not lo <= int(v) <= hi:
                err = f"invalid value {int(v)}, must be in {lo}-{hi} range"
                inner = f"{what}: {err}" if version == "v0.13.12" else f"{err}\n{what}"
                raise Refused(f"parsing bfd profile #{i + 1}: {inner}")
        if _name(b) in seen:
            raise Refused(f"found duplicate bfd profile name {_name(b)}")
        seen.add(_name(b))
    return seen


def _duplicates(values: list[Any], what: str) -> None:
    """config.go validateDuplicate."""
    for i, a in enumerate(values):
        if a in values[i + 1 :]:
            raise Refused(f"duplicate definition of {what} {q(a)}")


def _pools(res: Resources, version: str) -> dict[str, list[tuple[str, list[Net]]]]:
    """config.go poolsFor: pools (addressPoolFromCR, duplicates, overlaps) and their advertisements."""
    communities: dict[str, str] = {}
    for co in res.communities:  # communitiesFromCrs
        for alias in _spec(co).get("communities") or []:
            value, alias_name = str((alias or {}).get("value", "")), str((alias or {}).get("name", ""))
            if _community_kind(value) not in ("legacy", "large"):
                raise Refused(f"parsing community {q(alias_name)}: {_community_error(value)}")
            if alias_name in communities:
                raise Refused(f"duplicate definition of community {q(alias_name)}")
            communities[alias_name] = value
    pools: dict[str, list[tuple[str, list[Net]]]] = {}
    all_cidrs: list[Net] = []
    for p in res.pools:
        name = _name(p)
        addresses = _spec(p).get("addresses") or []
        try:
            if not name:
                raise Refused("missing pool name")
            if not addresses:
                raise Refused("pool has no prefixes defined")
            per_address = []
            for cidr in addresses:
                try:
                    per_address.append((str(cidr), parse_cidr(str(cidr))))
                except Refused as exc:
                    raise Refused(f"invalid CIDR {q(cidr)} in pool {q(name)}: {exc.message}") from None
        except Refused as exc:
            raise Refused(f"parsing address pool {name}: {exc.message}") from None
        if name in pools:
            raise Refused(f"duplicate definition of pool {q(name)}")
        for _, nets in per_address:
            for n in nets:
                for m in all_cidrs:
                    if _overlap(n, m):
                        raise Refused(f"CIDR {q(n)} in pool {q(name)} overlaps with already defined CIDR {q(m)}")
                all_cidrs.append(n)
        pools[name] = per_address
    for adv in res.l2_advs:  # setL2AdvertisementsToPools / l2AdvertisementFromCR
        s = _spec(adv)
        _duplicates(list(s.get("ipAddressPools") or []), "ipAddressPools")
        for sel in (s.get("nodeSelectors") or []) + (s.get("ipAddressPoolSelectors") or []):
            _check_selector(sel)
    for i, a in enumerate(res.bgp_advs):  # validateDuplicateBGPAdvertisements (reflect.DeepEqual of the objects)
        for j in range(i + 1, len(res.bgp_advs)):
            if a == res.bgp_advs[j]:
                raise Refused(f"duplicate definition of bgpadvertisements. advertisement {i + 1} and {j + 1} are equal")
    pool_labels = {_name(p): (p.get("metadata") or {}).get("labels") or {} for p in res.pools}
    for adv in res.bgp_advs:  # setBGPAdvertisementsToPools / bgpAdvertisementFromCR / validateBGPAdvPerPool
        s = _spec(adv)
        _duplicates(list(s.get("ipAddressPools") or []), "ipAddressPools")
        _duplicates(list(s.get("communities") or []), "community")
        _duplicates(list(s.get("peers") or []), "peers")
        agg = int(s["aggregationLength"]) if s.get("aggregationLength") is not None else 32
        if agg > 32:
            raise Refused(f"invalid aggregation length {q_int(agg)} for IPv4")
        agg6 = int(s["aggregationLengthV6"]) if s.get("aggregationLengthV6") is not None else 128
        if agg6 > 128:
            raise Refused(f"invalid aggregation length {q_int(agg6)} for IPv6")
        for c in s.get("communities") or []:
            c = str(c)
            if c in communities:
                continue
            kind = _community_kind(c)
            if kind == "bad-value":
                err = _community_error(c)
                raise Refused(
                    f"invalid community {q(c)} in BGP advertisement: {err}"
                    if version == "v0.13.12"
                    else f"{err}\ninvalid community {q(c)} in BGP advertisement"
                )
            if kind == "bad-format":
                raise Refused(
                    f"invalid community {q(c)} in BGP advertisement: {_community_error(c)}"
                    if version == "v0.13.12"
                    else f"{_community_error(c)}\ninvalid community {q(c)} in BGP advertisement",
                    transient=True,
                )
        for sel in (s.get("nodeSelectors") or []) + (s.get("ipAddressPoolSelectors") or []):
            _check_selector(sel)
        names = list(s.get("ipAddressPools") or [])
        for sel in s.get("ipAddressPoolSelectors") or []:
            names += [n for n, labels in pool_labels.items() if selector_matches(sel, labels)]
        if not s.get("ipAddressPools") and not s.get("ipAddressPoolSelectors"):
            names = list(pools)
        for pool_name in names:
            for addr, nets in pools.get(pool_name, []):
                if not nets:
                    continue
                max_length = agg if nets[0].version == 4 else agg6
                lowest = min(n.prefixlen for n in nets)
                if max_length < lowest:
                    raise Refused(
                        f"invalid aggregation length {agg}: prefix {lowest} in this pool is more specific than the "
                        f"aggregation length for addresses {addr}"
                    )
    return pools


def config_for(res: Resources, bgp_type: str, version: str) -> None:
    """config.go For: raises Refused (its first error)."""
    if bgp_type == "native":
        discard_frr_only(res, version)
    else:
        discard_native_only(res)
    _bfd_profiles(res, version)
    bfd_names = {_name(b) for b in res.bfd_profiles}
    for p in res.peers:  # peersFor
        try:
            spec = _peer(p, res, version)
        except Refused as exc:
            if version == "v0.13.12":
                raise Refused(f"parsing peer {_name(p)}: {exc.message}", exc.transient) from None
            raise Refused(f"{exc.message}\nparsing peer {_name(p)}", exc.transient) from None
        if spec.get("bfdProfile") and spec["bfdProfile"] not in bfd_names:
            raise Refused(f"peer {_name(p)} referencing non existing bfd profile {spec['bfdProfile']}", transient=True)
    _pools(res, version)


def webhook_validate(res: Resources, s: Settings) -> str | None:
    """internal/config/validator.go Validate: the refusal message, or None."""
    if s.version != "v0.13.12":  # resetTransientErrorsFields
        res.peers = [
            {**p, "spec": {k: v for k, v in _spec(p).items() if k not in ("bfdProfile", "passwordSecret")}}
            for p in res.peers
        ]
        res.bgp_advs = [
            {**a, "spec": {**_spec(a), "communities": [c for c in _spec(a).get("communities") or [] if ":" in str(c)]}}
            if "communities" in _spec(a)
            else a
            for a in res.bgp_advs
        ]
    try:
        config_for(res, s.bgp_type, s.version)
    except Refused as exc:
        if exc.transient and s.version == "v0.13.12":
            return None
        return exc.message
    except ValueError as exc:  # a duration the webhook's decoder cannot read (see admit)
        return str(exc)
    return None


# -- the admission step of a write --------------------------------------------------------------------------


@dataclass
class Verdict:
    code: int
    body: dict[str, Any]


def denied(webhook: str, message: str, code: int = 403, reason: str = "Forbidden") -> Verdict:
    """ValidationResponse(false, msg) through ToStatusErr (Errored(400, err) has no reason)."""
    text = f"admission webhook {q(webhook)} denied the request: {message}"
    body = status(code, reason, text)
    if not reason:
        del body["reason"]
    return Verdict(code, body)


def webhook_down(plural: str, s: Settings) -> Verdict:
    """A webhook that cannot be called, failurePolicy Fail (NewInternalError(ErrCallingWebhook)). The reason is the
    service proxy's for a Service without endpoints, as a real cluster answered it in metallb/metallb issue #1669
    (``Post "https://webhook-service.metallb-system.svc:443/...?timeout=10s": no endpoints available for service
    "webhook-service"``, on an apiserver from before the ``failed to call webhook:`` wrapping of v0.29.4)."""
    name = WEBHOOKS[plural][0]
    url = f"https://{WEBHOOK_SERVICE[s.version]}.{s.namespace}.svc:443{WEBHOOK_PATHS[plural]}?timeout=10s"
    err = (
        f"failed calling webhook {q(name)}: failed to call webhook: Post {q(url)}: no endpoints available for "
        f"service {q(WEBHOOK_SERVICE[s.version])}"
    )
    body = status(500, "InternalError", f"Internal error occurred: {err}", {"causes": [{"message": err}]})
    return Verdict(500, body)


def _items(
    world_items: list[dict[str, Any]], kind: str, namespace: str | None, group: str = "metallb.io"
) -> list[dict[str, Any]]:
    out = []
    for o in world_items:
        api = o.get("apiVersion", "")
        g = api.split("/")[0] if "/" in api else ""
        in_ns = namespace is None or (o.get("metadata") or {}).get("namespace") == namespace
        if o.get("kind") == kind and g == group and in_ns:
            out.append(o)
    return sorted(out, key=_name)


def _with_update(existing: list[dict[str, Any]], obj: dict[str, Any]) -> list[dict[str, Any]]:
    """The webhooks' *ListWithUpdate: the new object in place of the one of its name, else appended."""
    out = list(existing)
    for i, o in enumerate(out):
        if _name(o) == _name(obj):
            out[i] = obj
            return out
    return [*out, obj]


def _decode_errors(obj: dict[str, Any]) -> str | None:
    """What the webhook's decoder (json into the Go types) refuses: a metav1.Duration that does not parse."""
    if obj.get("kind") != "BGPPeer":
        return None
    for key in ("holdTime", "keepaliveTime", "connectTime"):
        value = _spec(obj).get(key)
        if value is not None:
            try:
                parse_duration(str(value))
            except ValueError as exc:
                return str(exc)
    return None


def admit(
    world_items: list[dict[str, Any]], plural: str, operation: str, obj: dict[str, Any], settings: Settings
) -> Verdict | None:
    """The webhook's verdict on ``operation`` (CREATE, UPDATE, DELETE) of ``obj`` (for DELETE: the live object);
    None when admitted or no webhook is called."""
    if plural not in WEBHOOKS:
        return None
    name, operations = WEBHOOKS[plural]
    if operation not in operations:
        return None
    if settings.webhook == "down":
        return webhook_down(plural, settings)
    bad = _decode_errors(obj)
    if bad:
        return denied(name, bad, 400, "")
    ns = settings.namespace
    kind = obj.get("kind", "")
    if operation == "CREATE" and (obj.get("metadata") or {}).get("namespace") != ns:
        return denied(name, f"resource must be created in {ns} namespace")
    if plural == "bfdprofiles":
        if operation == "DELETE":
            for peer in _items(world_items, "BGPPeer", ns):
                if _spec(peer).get("bfdProfile") == _name(obj):
                    return denied(name, f"failed to delete BFDProfile {_name(obj)}, used by BGPPeer {_name(peer)}")
        return None
    res = Resources()
    pools = _items(world_items, "IPAddressPool", ns)
    nodes = _items(world_items, "Node", None, "")
    if plural == "ipaddresspools":
        res.pools = _with_update(pools, obj)
    elif plural == "bgppeers":
        res.peers = _with_update(_items(world_items, "BGPPeer", ns), obj)
    elif plural == "bgpadvertisements":
        res.bgp_advs, res.pools, res.nodes = _with_update(_items(world_items, kind, ns), obj), pools, nodes
    elif plural == "l2advertisements":
        res.l2_advs, res.pools = _with_update(_items(world_items, kind, ns), obj), pools
    elif plural == "communities":
        res.communities = _with_update(_items(world_items, kind, ns), obj)
    message = webhook_validate(res, settings)
    return denied(name, message) if message else None


def controller_config_error(world_items: list[dict[str, Any]], settings: Settings) -> str | None:
    """What MetalLB's controller and speakers make of the whole config (internal/k8s/controllers
    config_controller.go: every kind, the password Secrets of its namespace, TransientErrors included): the
    error that makes them keep the last good config, or None."""
    ns = settings.namespace
    res = Resources(
        pools=_items(world_items, "IPAddressPool", ns),
        peers=_items(world_items, "BGPPeer", ns),
        bfd_profiles=_items(world_items, "BFDProfile", ns),
        bgp_advs=_items(world_items, "BGPAdvertisement", ns),
        l2_advs=_items(world_items, "L2Advertisement", ns),
        communities=_items(world_items, "Community", ns),
        nodes=_items(world_items, "Node", None, ""),
        secrets={_name(o): o for o in _items(world_items, "Secret", ns, "")},
    )
    try:
        config_for(res, settings.bgp_type, settings.version)
    except Refused as exc:
        return exc.message
    except ValueError as exc:
        return str(exc)
    return None
