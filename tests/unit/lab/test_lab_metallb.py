"""The lab's MetalLB (lab.topology.metallb, pure): config from the world, the controller's allocation, the FRR
config the speaker renders; and the venue's wg-quick stanza merge (lab.topology.processes)."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from lab.kubeapi.world import build_world
from lab.topology import metallb
from lab.topology.processes import venue_wg_quick_conf, wg_quick_addresses
from lab.topology.system import LabError

NODES = [("n1", "10.0.0.11", True), ("n2", "10.0.0.12", True)]
NS = "metallb-system"


def crd(kind: str, name: str, spec: dict[str, Any], version: str = "v1beta1") -> dict[str, Any]:
    return {
        "apiVersion": f"metallb.io/{version}",
        "kind": kind,
        "metadata": {"name": name, "namespace": NS},
        "spec": spec,
    }


def world(objs: list[dict[str, Any]], services: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    w = build_world(NODES, ("none", "", 0, 0, []), services or [])
    w["items"] += objs
    return w


PEER = crd("BGPPeer", "router", {"myASN": 65021, "peerASN": 65020, "peerAddress": "10.0.0.1"}, "v1beta2")
POOL = crd("IPAddressPool", "global-ip", {"addresses": ["198.51.100.0/30"]})
VENUE = crd("IPAddressPool", "venue-ip", {"addresses": ["198.51.100.128/30"], "autoAssign": False})
ADV = crd("BGPAdvertisement", "bgp", {})


def svc(name: str, **kw: Any) -> dict[str, Any]:
    return {"name": name, "ip": [], "allocated": False, "endpoints": ["n1", "n2"], **kw}


def run(w: dict[str, Any]) -> metallb.Outcome:
    out, _ = metallb.run(w, ["n1", "n2"])
    return out


def ingress(out: metallb.Outcome, name: str) -> list[str]:
    s = next(o for o in out.world["items"] if o.get("kind") == "Service" and o["metadata"]["name"] == name)
    return [i["ip"] for i in s["status"].get("loadBalancer", {}).get("ingress", [])]


def test_no_config_announces_nothing_and_assigns_nothing() -> None:
    out = run(world([], [svc("web")]))
    assert ingress(out, "web") == []
    assert "router bgp" not in out.configs["n1"][0] and out.configs["n1"][1] == ""


def test_allocation_follows_the_controller() -> None:
    w = world(
        [PEER, POOL, VENUE, ADV],
        [
            svc("a"),
            svc("b"),
            svc("private", pool="venue-ip"),
            svc("nopool-for-me", pool="nope"),
        ],
    )
    out = run(w)
    # First free address in the autoAssign pool: .0 is taken without avoidBuggyIPs; the venue pool only on request.
    assert ingress(out, "a") == ["198.51.100.0"] and ingress(out, "b") == ["198.51.100.1"]
    assert ingress(out, "private") == ["198.51.100.128"]
    assert ingress(out, "nopool-for-me") == []
    buggy = crd("IPAddressPool", "global-ip", {"addresses": ["198.51.100.0/30"], "avoidBuggyIPs": True})
    out = run(world([PEER, buggy, ADV], [svc("a")]))
    assert ingress(out, "a") == ["198.51.100.1"]


def test_a_kept_assignment_and_a_requested_ip() -> None:
    w = world(
        [PEER, POOL, ADV],
        [svc("a", ip=["198.51.100.3"], allocated=True), svc("b", ip=["198.51.100.2"], request_ip=True)],
    )
    out = run(w)
    assert ingress(out, "a") == ["198.51.100.3"] and ingress(out, "b") == ["198.51.100.2"]


def test_speaker_config_as_the_frr_templates_write_it() -> None:
    out = run(world([PEER, POOL, ADV], [svc("a"), svc("local", policy="Local", endpoints=["n2"])]))
    bgpd1, bfdd1 = out.configs["n1"]
    assert "router bgp 65021" in bgpd1
    assert "  neighbor 10.0.0.1 remote-as 65020" in bgpd1
    assert "  neighbor 10.0.0.1 timers 30 90" in bgpd1  # MetalLB's defaults: hold 90 s, keepalive hold/3
    assert "    network 198.51.100.0/32" in bgpd1 and "198.51.100.1/32" not in bgpd1  # Local: no endpoint on n1
    assert "ip prefix-list 10.0.0.1-pl-ipv4 permit 198.51.100.0/32" in bgpd1
    assert "    neighbor 10.0.0.1 route-map 10.0.0.1-out out" in bgpd1
    assert "    network 198.51.100.1/32" in out.configs["n2"][0]
    assert bfdd1 == ""


def test_peer_timers_password_secret_bfd_and_node_selectors() -> None:
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "kubernetes.io/basic-auth",
        "metadata": {"name": "bgp-pass", "namespace": NS},
        "data": {"password": base64.b64encode(b"s3cret").decode()},
    }
    peer = crd(
        "BGPPeer",
        "router",
        {
            "myASN": 65021,
            "peerASN": 65020,
            "peerAddress": "10.0.0.1",
            "holdTime": "9s",
            "passwordSecret": {"name": "bgp-pass", "namespace": NS},
            "bfdProfile": "fast",
            "nodeSelectors": [{"matchLabels": {"kubernetes.io/hostname": "n1"}}],
        },
        "v1beta2",
    )
    bfd = crd("BFDProfile", "fast", {"receiveInterval": 300, "transmitInterval": 200, "detectMultiplier": 3})
    out = run(world([peer, bfd, POOL, ADV, secret], [svc("a")]))
    bgpd1, bfdd1 = out.configs["n1"]
    assert "  neighbor 10.0.0.1 timers 3 9" in bgpd1
    assert "  neighbor 10.0.0.1 password s3cret" in bgpd1
    assert "  neighbor 10.0.0.1 bfd profile fast" in bgpd1
    assert bfdd1.splitlines()[2:] == [
        "bfd",
        "  profile fast",
        "    receive-interval 300",
        "    transmit-interval 200",
        "    detect-multiplier 3",
    ]
    assert "router bgp" not in out.configs["n2"][0]  # n2 not selected by the peer
    assert out.configs["n2"][1] == bfdd1.replace("n1", "n2")  # profiles go to every speaker's bfdd


def test_advertisement_pools_and_node_selectors() -> None:
    adv = crd(
        "BGPAdvertisement",
        "venue",
        {"ipAddressPools": ["venue-ip"], "nodeSelectors": [{"matchLabels": {"kubernetes.io/hostname": "n2"}}]},
    )
    out = run(world([PEER, POOL, VENUE, adv], [svc("a"), svc("p", pool="venue-ip")]))
    assert "    network" not in out.configs["n1"][0]
    assert "    network 198.51.100.128/32" in out.configs["n2"][0] and "198.51.100.0/32" not in out.configs["n2"][0]


def test_an_invalid_config_keeps_the_last_good_one() -> None:
    good, cfg = metallb.run(world([PEER, POOL, ADV], [svc("a")]), ["n1"])
    bad = crd(
        "BGPPeer", "router", {"myASN": 65021, "peerASN": 65020, "peerAddress": "10.0.0.1", "holdTime": "1s"}, "v1beta2"
    )
    out, kept = metallb.run(world([bad, POOL, ADV], [svc("a")]), ["n1"], cfg)
    assert (
        out.error == 'parsing peer router: invalid hold time "1s": must be 0 or >=3s'
    )  # config.go peersFor + peerFromCR
    assert kept is cfg and out.configs["n1"] == good.configs["n1"]
    overlap = crd("IPAddressPool", "other", {"addresses": ["198.51.100.2-198.51.100.9"]})
    with pytest.raises(metallb.ConfigError, match="overlaps"):
        metallb.parse(world([PEER, POOL, overlap, ADV]))


def test_legacy_configmap() -> None:
    w = build_world(
        NODES,
        (
            "configmap",
            "10.0.0.1",
            65020,
            65021,
            [{"name": "global-ip", "addresses": ["198.51.100.16/30"]}],
            {"holdTime": "3s", "keepaliveTime": "1s"},
        ),
        [svc("a", ip=["198.51.100.17"], allocated=True)],
    )
    out = run(w)
    assert "  neighbor 10.0.0.1 timers 1 3" in out.configs["n1"][0]
    assert "    network 198.51.100.17/32" in out.configs["n1"][0]
    # A legacy config that names a bfd profile it defines (bfd-profiles) gets bfdd; the CRDs are not read.
    cm = next(o for o in w["items"] if o.get("kind") == "ConfigMap")
    cm["data"]["config"] = (
        "peers:\n- {peer-address: 10.0.0.1, peer-asn: 65020, my-asn: 65021, bfd-profile: slow}\n"
        "bfd-profiles:\n- {name: slow, receive-interval: 1000}\n"
        "address-pools:\n- {name: global-ip, protocol: bgp, addresses: [198.51.100.16/30]}\n"
    )
    w["items"].append(PEER)
    out = run(w)
    assert "  neighbor 10.0.0.1 bfd profile slow" in out.configs["n1"][0] and "timers 30 90" in out.configs["n1"][0]
    assert "    receive-interval 1000" in out.configs["n1"][1]


STANZA = """# venue side of the prd tunnel (edgekit render --venue)
[Peer]
PublicKey = cm91dGVyLWtleS1mb3ItdGhlLWxhYi12ZW51ZS10ZXN0PQ=
Endpoint = 203.0.113.4:51820
AllowedIPs = 172.16.100.0/30, 198.51.100.128/28
PersistentKeepalive = 25
"""


def test_stanza_without_interface_gets_the_venue_key() -> None:
    conf = venue_wg_quick_conf(STANZA, "PRIVATE=")
    assert conf.startswith("[Interface]\nPrivateKey = PRIVATE=\nListenPort = 51820\n\n# venue side")
    assert wg_quick_addresses(conf) == []


def test_stanza_with_address_keeps_it_and_bad_stanzas_are_refused() -> None:
    conf = venue_wg_quick_conf("[Interface]\nAddress = 172.16.100.2/30\n" + STANZA, "PRIVATE=")
    assert conf.splitlines()[:4] == [
        "[Interface]",
        "PrivateKey = PRIVATE=",
        "ListenPort = 51820",
        "Address = 172.16.100.2/30",
    ]
    assert wg_quick_addresses(conf) == ["172.16.100.2/30"]
    with pytest.raises(LabError, match="no \\[Peer\\]"):
        venue_wg_quick_conf("[Interface]\nAddress = 1.2.3.4/32\n", "K")
    with pytest.raises(LabError, match="no PublicKey"):
        venue_wg_quick_conf("[Peer]\nAllowedIPs = 10.0.0.0/8\n", "K")


def test_deny_any_only_for_a_neighbor_without_advertisements() -> None:
    bare = run(world([PEER, POOL, ADV], []))
    assert "ip prefix-list 10.0.0.1-pl-ipv4 deny any" in bare.configs["n1"][0]
    assert "  neighbor 10.0.0.1 port 179" in bare.configs["n1"][0]
    busy = run(world([PEER, POOL, ADV], [svc("a")]))
    assert "ip prefix-list 10.0.0.1-pl-ipv4 deny any" not in busy.configs["n1"][0]
    assert "ipv6 prefix-list 10.0.0.1-pl-ipv4 deny any" in busy.configs["n1"][0]
