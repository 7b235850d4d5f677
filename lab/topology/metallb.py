"""MetalLB in the lab (pure): its config from a Kubernetes world, its controller's IP allocation, and the FRR
config its speaker renders for a node. lab.topology.speakers applies the result to the nodes.

Sources (metallb/metallb at tag v0.13.12, the version the lab's speaker pods name; read from its repository):
- internal/config/config.go: which objects count (with the CRDs served, the CRDs; without, the legacy
  ConfigMap ``metallb-system/config``, internal/config/legacy File: peers, address-pools, bfd-profiles),
  peerFromCR (hold time default 90 s, keepalive hold/3, validateHoldTime "must be 0 or >=3s", keepalive
  must not exceed hold, password xor passwordSecret of type kubernetes.io/basic-auth, key ``password``;
  nodeSelectors: none selects every node), addressPoolFromCR (autoAssign default true, avoidBuggyIPs,
  "a-b" ranges), BGPAdvertisement (no ipAddressPools and no selectors: every pool; nodeSelectors; peers),
  a legacy pool without bgp-advertisements advertises itself from every node, bfdProfileFromCR (ranges).
  An invalid config is refused as a whole: MetalLB keeps running the last good one.
- internal/allocator/allocator.go: a Service keeps a valid assignment; a requested IP
  (``metallb.universe.tf/loadBalancerIPs`` or ``spec.loadBalancerIP``) must lie in a pool (the annotated
  one if any) and be free; ``metallb.universe.tf/address-pool`` picks the pool (autoAssign false pools are
  used only so); otherwise the autoAssign pools (Allocate ranges over a Go map, in no set order: the lab
  takes name order); in a pool the first free address, skipping .0 and .255 when avoidBuggyIPs
  (ipConfusesBuggyFirmwares). Not modelled: serviceAllocation (namespace/service selectors), IP sharing.
- speaker (bgp_controller.go): a service is announced when it has an IP and a ready endpoint; with
  externalTrafficPolicy Local only from nodes that have a ready endpoint; only from nodes an advertisement
  of its pool selects, and to the peers the advertisement names (none: all).
- internal/bgp/frr/templates/frr.tmpl, neighborsession.tmpl (``neighbor X bfd profile P``, port, timers
  always), neighboripfamily.tmpl (ipv4 and ipv6 activated), filters.tmpl (``deny any`` only without
  advertisements), bfdprofile.tmpl and config.go (neighbor ID = its address; prefix list ``<id>-pl-ipv4``).
  The lab's FRR runs one config file per daemon, so the ``bfd`` block goes to bfdd.conf.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Network, summarize_address_range
from typing import Any

import yaml

METALLB_NS = "metallb-system"
POOL_ANNOTATION = "metallb.universe.tf/address-pool"
IPS_ANNOTATION = "metallb.universe.tf/loadBalancerIPs"
DEFAULT_HOLD = 90


class ConfigError(ValueError):
    """MetalLB refuses the config (the speakers keep the last good one)."""


@dataclass
class Peer:
    name: str
    my_asn: int
    asn: int
    address: str
    hold: int
    keepalive: int
    password: str = ""
    bfd_profile: str = ""
    ebgp_multihop: bool = False
    port: int = 0
    connect_time: int = 0
    router_id: str = ""
    node_selectors: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Advertisement:
    node_selectors: list[dict[str, Any]] = field(default_factory=list)
    peers: list[str] = field(default_factory=list)
    aggregation_length: int = 32


@dataclass
class Pool:
    name: str
    cidrs: list[IPv4Network]
    auto_assign: bool = True
    avoid_buggy_ips: bool = False
    advertisements: list[Advertisement] = field(default_factory=list)


@dataclass
class Config:
    peers: list[Peer] = field(default_factory=list)
    pools: dict[str, Pool] = field(default_factory=dict)
    bfd_profiles: dict[str, dict[str, Any]] = field(default_factory=dict)


# -- parsing -------------------------------------------------------------------------------------------------


def _duration(value: Any) -> int:
    """metav1.Duration / Go time.ParseDuration text ("90s", "1m30s", "3s") in whole seconds; 0 when absent."""
    if value in (None, "", 0):
        return 0
    if isinstance(value, int | float):
        return int(value)
    total = 0.0
    units = {"h": 3600, "m": 60, "s": 1, "ms": 0.001}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|h|m|s)", str(value))
    if not parts or "".join(a + b for a, b in parts) != str(value):
        raise ConfigError(f"invalid duration {value!r}")
    for amount, unit in parts:
        total += float(amount) * units[unit]
    return int(total)


def _timers(hold_raw: Any, keepalive_raw: Any) -> tuple[int, int]:
    hold = _duration(hold_raw) or DEFAULT_HOLD
    if 0 < hold < 3:
        raise ConfigError(f"invalid hold time {hold_raw!r}: must be 0 or >=3s")
    keepalive = _duration(keepalive_raw) or hold // 3
    if keepalive > hold:
        raise ConfigError(f"invalid keepaliveTime {keepalive_raw!r}")
    return hold, keepalive


def parse_cidr(text: str) -> list[IPv4Network]:
    """config.go ParseCIDR: a CIDR or an "a-b" range (summarised into CIDRs)."""
    try:
        if "-" not in text:
            return [IPv4Network(text.strip(), strict=False)]
        start, end = (IPv4Address(x.strip()) for x in text.split("-", 1))
    except ValueError as exc:
        raise ConfigError(f"invalid CIDR {text!r}") from exc
    if start > end:
        raise ConfigError(f"invalid IP range {text!r}: start IP {start} is after the end IP {end}")
    return list(summarize_address_range(start, end))


def _bfd_profile(name: str, spec: dict[str, Any]) -> dict[str, Any]:
    """bfdProfileFromCR: the fields, range-checked (bfdIntFromConfig)."""
    out: dict[str, Any] = {"name": name}
    ranges = {
        "receiveInterval": (10, 60000),
        "transmitInterval": (10, 60000),
        "detectMultiplier": (2, 255),
        "echoInterval": (10, 60000),
        "minimumTtl": (1, 254),
    }
    for key, (lo, hi) in ranges.items():
        if spec.get(key) is not None:
            value = int(spec[key])
            if not lo <= value <= hi:
                raise ConfigError(f"invalid {key} value {value} for bfd profile {name}")
            out[key] = value
    out["echoMode"] = bool(spec.get("echoMode"))
    out["passiveMode"] = bool(spec.get("passiveMode"))
    return out


def _objects(world: dict[str, Any], kind: str, group: str = "metallb.io") -> list[dict[str, Any]]:
    out = []
    for o in world.get("items", []):
        g = o.get("apiVersion", "").split("/")[0] if "/" in o.get("apiVersion", "") else ""
        if o.get("kind") == kind and g == group and o.get("metadata", {}).get("namespace") == METALLB_NS:
            out.append(o)
    return sorted(out, key=lambda o: o["metadata"]["name"])


def uses_crds(world: dict[str, Any]) -> bool:
    return "ipaddresspools.metallb.io" in (world.get("crds") or [])


def parse(world: dict[str, Any]) -> Config:
    """MetalLB's config in ``world`` (CRDs when served, else the legacy ConfigMap). Raises ConfigError."""
    if uses_crds(world):
        # What the controller refuses as a whole, with its text, per version and mode (lab.kubeapi.admission).
        from lab.kubeapi import admission

        refused = admission.controller_config_error(
            world.get("items") or [], admission.Settings.of(world.get("metallb"))
        )
        if refused:
            raise ConfigError(refused)
    return _parse_crds(world) if uses_crds(world) else _parse_configmap(world)


def _check_pools(cfg: Config) -> None:
    seen: list[tuple[IPv4Network, str]] = []
    for pool in cfg.pools.values():
        for cidr in pool.cidrs:
            for other, _name in seen:
                if cidr.overlaps(other):
                    raise ConfigError(
                        f"CIDR {str(cidr)!r} in pool {pool.name!r} overlaps with already defined CIDR {str(other)!r}"
                    )
            seen.append((cidr, pool.name))
    for peer in cfg.peers:
        if peer.bfd_profile and peer.bfd_profile not in cfg.bfd_profiles:
            raise ConfigError(f"peer {peer.address} referencing non existing bfd profile {peer.bfd_profile}")


def _parse_crds(world: dict[str, Any]) -> Config:
    cfg = Config()
    secrets = {o["metadata"]["name"]: o for o in _objects(world, "Secret", "")}
    for o in _objects(world, "BFDProfile"):
        cfg.bfd_profiles[o["metadata"]["name"]] = _bfd_profile(o["metadata"]["name"], o.get("spec") or {})
    for o in _objects(world, "BGPPeer"):
        spec, name = o.get("spec") or {}, o["metadata"]["name"]
        if not spec.get("myASN"):
            raise ConfigError("missing local ASN")
        if not spec.get("peerASN"):
            raise ConfigError("missing peer ASN")
        try:
            IPv4Address(str(spec.get("peerAddress", "")))
        except ValueError as exc:
            raise ConfigError(f"invalid BGPPeer address {spec.get('peerAddress')!r}") from exc
        hold, keepalive = _timers(spec.get("holdTime"), spec.get("keepaliveTime"))
        password = spec.get("password") or ""
        ref = spec.get("passwordSecret") or {}
        if password and ref.get("name"):
            raise ConfigError(f"can not have both password and secret ref set in peer config {METALLB_NS}/{name}")
        if ref.get("name"):
            secret = secrets.get(ref["name"])
            if secret is None:
                raise ConfigError(f"secret ref not found for peer config {METALLB_NS}/{name}")
            if secret.get("type") != "kubernetes.io/basic-auth":
                raise ConfigError(f"secret type mismatch on {METALLB_NS}/{ref['name']}, type kubernetes.io/basic-auth")
            if "password" not in (secret.get("data") or {}):
                raise ConfigError(f"password not specified in the secret {METALLB_NS}/{ref['name']}")
            password = base64.b64decode(secret["data"]["password"]).decode()
        cfg.peers.append(
            Peer(
                name=name,
                my_asn=int(spec["myASN"]),
                asn=int(spec["peerASN"]),
                address=str(spec["peerAddress"]),
                hold=hold,
                keepalive=keepalive,
                password=password,
                bfd_profile=spec.get("bfdProfile") or "",
                ebgp_multihop=bool(spec.get("ebgpMultiHop")),
                port=int(spec.get("peerPort") or 0),
                connect_time=_duration(spec.get("connectTime")),
                router_id=spec.get("routerID") or "",
                node_selectors=list(spec.get("nodeSelectors") or []),
            )
        )
    pools_by_labels: dict[str, dict[str, str]] = {}
    for o in _objects(world, "IPAddressPool"):
        spec, name = o.get("spec") or {}, o["metadata"]["name"]
        if not spec.get("addresses"):
            raise ConfigError("pool has no prefixes defined")
        cidrs = [c for a in spec["addresses"] for c in parse_cidr(str(a))]
        auto = spec.get("autoAssign")
        cfg.pools[name] = Pool(name, cidrs, True if auto is None else bool(auto), bool(spec.get("avoidBuggyIPs")))
        pools_by_labels[name] = o["metadata"].get("labels") or {}
    for o in _objects(world, "BGPAdvertisement"):
        spec = o.get("spec") or {}
        agg = int(spec.get("aggregationLength", 32))
        if agg > 32:
            raise ConfigError(f"invalid aggregation length {agg} for IPv4")
        adv = Advertisement(list(spec.get("nodeSelectors") or []), list(spec.get("peers") or []), agg)
        names = list(spec.get("ipAddressPools") or [])
        for sel in spec.get("ipAddressPoolSelectors") or []:
            names += [n for n, labels in pools_by_labels.items() if selector_matches(sel, labels)]
        if not spec.get("ipAddressPools") and not spec.get("ipAddressPoolSelectors"):
            names = list(cfg.pools)
        for n in dict.fromkeys(names):
            if n in cfg.pools:
                cfg.pools[n].advertisements.append(adv)
    _check_pools(cfg)
    return cfg


def _legacy_selectors(selectors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for s in selectors or []:
        out.append(
            {
                "matchLabels": s.get("match-labels") or {},
                "matchExpressions": [
                    {"key": e.get("key"), "operator": e.get("operator"), "values": e.get("values") or []}
                    for e in s.get("match-expressions") or []
                ],
            }
        )
    return out


def _parse_configmap(world: dict[str, Any]) -> Config:
    cfg = Config()
    cms = [o for o in _objects(world, "ConfigMap", "") if o["metadata"]["name"] == "config"]
    if not cms:
        return cfg
    try:
        raw = yaml.safe_load((cms[0].get("data") or {}).get("config") or "") or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"could not parse config: {exc}") from exc
    for p in raw.get("bfd-profiles") or []:
        spec = {
            "receiveInterval": p.get("receive-interval"),
            "transmitInterval": p.get("transmit-interval"),
            "detectMultiplier": p.get("detect-multiplier"),
            "echoInterval": p.get("echo-interval"),
            "echoMode": p.get("echo-mode"),
            "passiveMode": p.get("passive-mode"),
            "minimumTtl": p.get("minimum-ttl"),
        }
        cfg.bfd_profiles[str(p.get("name"))] = _bfd_profile(str(p.get("name")), spec)
    for i, p in enumerate(raw.get("peers") or []):
        if not p.get("my-asn"):
            raise ConfigError(f"parsing peer #{i + 1}: missing local ASN")
        if not p.get("peer-asn"):
            raise ConfigError(f"parsing peer #{i + 1}: missing peer ASN")
        hold, keepalive = _timers(p.get("hold-time"), p.get("keepalive-time"))
        cfg.peers.append(
            Peer(
                name=f"peer{i + 1}",
                my_asn=int(p["my-asn"]),
                asn=int(p["peer-asn"]),
                address=str(p.get("peer-address")),
                hold=hold,
                keepalive=keepalive,
                password=p.get("password") or "",
                bfd_profile=p.get("bfd-profile") or "",
                ebgp_multihop=bool(p.get("ebgp-multihop")),
                port=int(p.get("peer-port") or 0),
                router_id=p.get("router-id") or "",
                node_selectors=_legacy_selectors(p.get("node-selectors") or []),
            )
        )
    for i, p in enumerate(raw.get("address-pools") or []):
        name = str(p.get("name") or "")
        if not name:
            raise ConfigError(f"parsing address pool #{i + 1}: missing pool name")
        if name in cfg.pools:
            raise ConfigError(f"duplicate definition of pool {name!r}")
        proto = p.get("protocol")
        if not proto:
            raise ConfigError(f"parsing address pool #{i + 1}: address pool is missing the protocol field")
        cidrs = [c for a in p.get("addresses") or [] for c in parse_cidr(str(a))]
        if not cidrs:
            raise ConfigError(f"parsing address pool #{i + 1}: pool has no prefixes defined")
        pool = Pool(name, cidrs, p.get("auto-assign", True) is not False, bool(p.get("avoid-buggy-ips")))
        if proto == "bgp":
            ads = p.get("bgp-advertisements") or [{}]
            pool.advertisements = [Advertisement(aggregation_length=int(a.get("aggregation-length", 32))) for a in ads]
        cfg.pools[name] = pool
    _check_pools(cfg)
    return cfg


# -- label selectors (metav1.LabelSelector) ------------------------------------------------------------------


def selector_matches(sel: dict[str, Any], labels: dict[str, str]) -> bool:
    for k, v in (sel.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for e in sel.get("matchExpressions") or []:
        key, op, values = e.get("key"), e.get("operator"), e.get("values") or []
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and key in labels and labels[key] in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def selects(selectors: list[dict[str, Any]], labels: dict[str, str]) -> bool:
    """A list of selectors: none selects everything, else any one matching."""
    return not selectors or any(selector_matches(s, labels) for s in selectors)


# -- the controller: allocation ---------------------------------------------------------------------------


def _svc_key(svc: dict[str, Any]) -> str:
    return f"{svc['metadata'].get('namespace', 'default')}/{svc['metadata']['name']}"


def _pool_of(cfg: Config, ip: IPv4Address) -> Pool | None:
    return next((p for p in cfg.pools.values() if any(ip in c for c in p.cidrs)), None)


def _buggy(ip: IPv4Address) -> bool:
    return ip.packed[3] in (0, 255)


def allocate(world: dict[str, Any], cfg: Config) -> dict[str, list[str]]:
    """Service key (ns/name) -> its IPs, as MetalLB's controller assigns them (kept when still valid)."""
    services = sorted(
        (o for o in world.get("items", []) if o.get("kind") == "Service" and o.get("apiVersion") == "v1"),
        key=_svc_key,
    )
    services = [s for s in services if (s.get("spec") or {}).get("type") == "LoadBalancer"]
    used: dict[IPv4Address, str] = {}
    out: dict[str, list[str]] = {}

    def valid(svc: dict[str, Any], ip: IPv4Address) -> bool:
        pool = _pool_of(cfg, ip)
        if pool is None or (pool.avoid_buggy_ips and _buggy(ip)):
            return False
        want = (svc["metadata"].get("annotations") or {}).get(POOL_ANNOTATION)
        if want and pool.name != want:
            return False
        requested = _requested(svc)
        if requested and ip not in requested:
            return False
        if not requested and not want and not pool.auto_assign:
            return False
        return used.get(ip) in (None, _svc_key(svc))

    # First keep what is assigned and still valid (the controller does not renumber services).
    pending = []
    for svc in services:
        current = [i.get("ip") for i in ((svc.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []]
        ips = [IPv4Address(i) for i in current if i]
        if ips and all(valid(svc, ip) for ip in ips):
            for ip in ips:
                used[ip] = _svc_key(svc)
            out[_svc_key(svc)] = [str(ip) for ip in ips]
        else:
            pending.append(svc)
    for svc in pending:
        key = _svc_key(svc)
        requested = _requested(svc)
        if requested:
            if all(valid(svc, ip) for ip in requested):
                for ip in requested:
                    used[ip] = key
                out[key] = [str(ip) for ip in requested]
            continue
        want = (svc["metadata"].get("annotations") or {}).get(POOL_ANNOTATION)
        if want:
            pools = [cfg.pools[want]] if want in cfg.pools else []
        else:
            pools = [cfg.pools[n] for n in sorted(cfg.pools) if cfg.pools[n].auto_assign]
        for pool in pools:
            ip = next(
                (a for c in pool.cidrs for a in c if a not in used and not (pool.avoid_buggy_ips and _buggy(a))),
                None,
            )
            if ip is not None:
                used[ip] = key
                out[key] = [str(ip)]
                break
    return out


def _requested(svc: dict[str, Any]) -> list[IPv4Address]:
    ann = (svc["metadata"].get("annotations") or {}).get(IPS_ANNOTATION)
    text = ann or (svc.get("spec") or {}).get("loadBalancerIP") or ""
    try:
        return [IPv4Address(x.strip()) for x in text.split(",") if x.strip()]
    except ValueError:
        return []


def with_status(world: dict[str, Any], allocations: dict[str, list[str]]) -> dict[str, Any]:
    """A copy of ``world`` with each LoadBalancer Service's status.loadBalancer.ingress as allocated."""
    items = []
    for o in world.get("items", []):
        if (
            o.get("kind") == "Service"
            and o.get("apiVersion") == "v1"
            and (o.get("spec") or {}).get("type") == ("LoadBalancer")
        ):
            ips = allocations.get(_svc_key(o), [])
            lb = {"ingress": [{"ip": ip} for ip in ips]} if ips else {}
            if ((o.get("status") or {}).get("loadBalancer") or {}) != lb:
                o = {**o, "status": {**(o.get("status") or {}), "loadBalancer": lb}}
        items.append(o)
    return {**world, "items": items}


# -- the speaker: what a node announces, and its FRR config ---------------------------------------------------


@dataclass
class NodeView:
    name: str
    address: str
    labels: dict[str, str]


def nodes(world: dict[str, Any]) -> dict[str, NodeView]:
    out = {}
    for o in world.get("items", []):
        if o.get("kind") != "Node":
            continue
        addr = next(
            (a["address"] for a in (o.get("status") or {}).get("addresses", []) if a.get("type") == "InternalIP"), ""
        )
        out[o["metadata"]["name"]] = NodeView(o["metadata"]["name"], addr, o["metadata"].get("labels") or {})
    return out


def _ready_endpoint_nodes(world: dict[str, Any], svc: dict[str, Any]) -> set[str]:
    ns, name = svc["metadata"].get("namespace", "default"), svc["metadata"]["name"]
    out = set()
    for o in world.get("items", []):
        if o.get("kind") != "EndpointSlice" or o["metadata"].get("namespace", "default") != ns:
            continue
        if (o["metadata"].get("labels") or {}).get("kubernetes.io/service-name") != name:
            continue
        for ep in o.get("endpoints") or []:
            if (ep.get("conditions") or {}).get("ready", True) and ep.get("nodeName"):
                out.add(ep["nodeName"])
    return out


def announcements(
    world: dict[str, Any], cfg: Config, allocations: dict[str, list[str]], node: NodeView
) -> dict[str, set[str]]:
    """Prefix (ip/32) -> names of the peers it goes to, for ``node``."""
    out: dict[str, set[str]] = {}
    for o in world.get("items", []):
        if o.get("kind") != "Service" or (o.get("spec") or {}).get("type") != "LoadBalancer":
            continue
        ips = allocations.get(_svc_key(o), [])
        if not ips:
            continue
        ready = _ready_endpoint_nodes(world, o)
        if not ready:
            continue
        if (o.get("spec") or {}).get("externalTrafficPolicy") == "Local" and node.name not in ready:
            continue
        for ip in ips:
            pool = _pool_of(cfg, IPv4Address(ip))
            if pool is None:
                continue
            for adv in pool.advertisements:
                if not selects(adv.node_selectors, node.labels):
                    continue
                prefix = str(IPv4Network(f"{ip}/{adv.aggregation_length}", strict=False))
                targets = {p.name for p in cfg.peers if not adv.peers or p.name in adv.peers}
                out.setdefault(prefix, set()).update(targets)
    return out


def render(cfg: Config, world: dict[str, Any], allocations: dict[str, list[str]], node: NodeView) -> tuple[str, str]:
    """(bgpd.conf, bfdd.conf) of the speaker on ``node``, as MetalLB's FRR mode writes them (frr.tmpl and friends).

    bfdd.conf holds every configured BFD profile (frr.tmpl renders .BFDProfiles, all of the config's); it is
    "" when there is none (MetalLB's FRR container runs bfdd anyway; the lab starts it only then)."""
    peers = [p for p in cfg.peers if selects(p.node_selectors, node.labels)]
    ann = announcements(world, cfg, allocations, node)
    # frr.tmpl's "log file ..." (the lab gives --log) and "ip/ipv6 nht resolve-via-default" (zebra's, zebra.conf
    # in a per-daemon config) are left out.
    lines = [f"hostname {node.name}", "log timestamp precision 3"]
    # filters.tmpl neighborfilters: per neighbor, the prefixes it may receive; "deny any" only for a neighbor
    # without advertisements of that family.
    for p in sorted(peers, key=lambda p: p.address):
        nid = p.address
        mine = sorted((pfx for pfx, to in ann.items() if p.name in to), key=IPv4Network)
        lines += ["", f"route-map {nid}-in deny 20"]
        lines += [f"ip prefix-list {nid}-pl-ipv4 permit {pfx}" for pfx in mine]
        lines += [
            "",
            f"route-map {nid}-out permit 1",
            f"  match ip address prefix-list {nid}-pl-ipv4",
            f"route-map {nid}-out permit 2",
            f"  match ipv6 address prefix-list {nid}-pl-ipv4",
            "",
        ]
        if not mine:
            lines.append(f"ip prefix-list {nid}-pl-ipv4 deny any")
        lines.append(f"ipv6 prefix-list {nid}-pl-ipv4 deny any")
    routers: dict[int, list[Peer]] = {}
    for p in peers:
        routers.setdefault(p.my_asn, []).append(p)
    for asn, rpeers in sorted(routers.items()):
        lines += [
            "",
            f"router bgp {asn}",
            "  no bgp ebgp-requires-policy",
            "  no bgp network import-check",
            "  no bgp default ipv4-unicast",
        ]
        router_id = next((p.router_id for p in rpeers if p.router_id), "")
        if router_id:  # MetalLB sets none unless the BGPPeer asks (speaker/bgp_controller.go syncPeers)
            lines.append(f"  bgp router-id {router_id}")
        for p in sorted(rpeers, key=lambda p: p.address):  # neighborsession.tmpl
            a = p.address
            lines.append(f"  neighbor {a} remote-as {p.asn}")
            if p.ebgp_multihop:
                lines.append(f"  neighbor {a} ebgp-multihop")
            lines.append(f"  neighbor {a} port {p.port or 179}")  # peerFromCR: port 179 unless set
            lines.append(f"  neighbor {a} timers {p.keepalive} {p.hold}")
            if p.password:
                lines.append(f"  neighbor {a} password {p.password}")
            if p.bfd_profile:
                lines.append(f"  neighbor {a} bfd profile {p.bfd_profile}")
        for p in sorted(rpeers, key=lambda p: p.address):  # neighboripfamily.tmpl: both families
            a = p.address
            for family in ("ipv4", "ipv6"):
                lines += [
                    f"  address-family {family} unicast",
                    f"    neighbor {a} activate",
                    f"    neighbor {a} route-map {a}-in in",
                    f"    neighbor {a} route-map {a}-out out",
                    "  exit-address-family",
                ]
        prefixes = sorted({pfx for pfx, to in ann.items() if to & {p.name for p in rpeers}}, key=IPv4Network)
        if prefixes:
            lines.append("  address-family ipv4 unicast")
            lines += [f"    network {pfx}" for pfx in prefixes]
            lines.append("  exit-address-family")
    bgpd = "\n".join(lines) + "\n"
    if not cfg.bfd_profiles:
        return bgpd, ""
    # bfdprofile.tmpl: the fields that are set.
    bfd = [f"hostname {node.name}", "log timestamp precision 3", "bfd"]
    for name in sorted(cfg.bfd_profiles):
        prof = cfg.bfd_profiles[name]
        bfd.append(f"  profile {name}")
        for key, word in (
            ("receiveInterval", "receive-interval"),
            ("transmitInterval", "transmit-interval"),
            ("detectMultiplier", "detect-multiplier"),
        ):
            if prof.get(key) is not None:
                bfd.append(f"    {word} {prof[key]}")
        if prof.get("echoMode"):
            bfd.append("    echo-mode")
        if prof.get("echoInterval") is not None:
            bfd.append(f"    echo-interval {prof['echoInterval']}")
        if prof.get("passiveMode"):
            bfd.append("    passive-mode")
        if prof.get("minimumTtl") is not None:
            bfd.append(f"    minimum-ttl {prof['minimumTtl']}")
    return bgpd, "\n".join(bfd) + "\n"


@dataclass
class Outcome:
    """One pass of MetalLB over a world: the world with service status, and each node's FRR configs."""

    world: dict[str, Any]
    configs: dict[str, tuple[str, str]]  # node name -> (bgpd.conf, bfdd.conf)
    error: str = ""


def run(world: dict[str, Any], node_names: list[str], last_good: Config | None = None) -> tuple[Outcome, Config | None]:
    """Parse, allocate, render. An invalid config keeps ``last_good`` (None: nothing configured)."""
    error = ""
    try:
        cfg: Config | None = parse(world)
    except ConfigError as exc:
        cfg, error = last_good, str(exc)
    use = cfg or Config()
    allocations = allocate(world, use)
    new_world = with_status(world, allocations)
    views = nodes(world)
    configs = {}
    for name in node_names:
        view = views.get(name) or NodeView(name, "", {})
        configs[name] = render(use, new_world, allocations, view)
    return Outcome(new_world, configs, error), cfg
