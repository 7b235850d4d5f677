"""The lab's MetalLB announces as MetalLB does per version (lab.topology.metallb: ShouldAnnounce's node rules and
counted endpoints), the node states a fault sets (lab.kubeapi.world.set_node_state), and the lab's kube-proxy
(lab.topology.speakers.kube_proxy_rules: service IPs captured by nat rules, on no interface). Worlds constructed."""

from __future__ import annotations

from typing import Any

import pytest

from lab.kubeapi.admission import VERSIONS
from lab.kubeapi.world import EXCLUDE_LB_LABEL, build_world, node_state, set_node_state
from lab.topology import metallb
from lab.topology.speakers import kube_proxy_rules

NODES = [f"k8s-node-{i}-server-prd" for i in (1, 2, 3)]


def world(version: str = "v0.13.12", **svc: Any) -> dict[str, Any]:
    services = [
        {"name": "web", "ip": "198.51.100.1", "request_ip": True, "endpoints": NODES},
        {"name": "api", "ip": "198.51.100.2", "request_ip": True, "policy": "Local", **svc},
    ]
    # The lab installs v0.13.12 or v0.14.9 (lab.kubeapi.admission.VERSIONS); the announce rules follow each speaker
    # pod's image tag, so the versions between are shown by retagging the speakers of a v0.14.9 install.
    w = build_world(
        nodes=[(n, f"203.0.113.{11 + i}", True) for i, n in enumerate(NODES)],
        metallb=("crds", "203.0.113.4", 65020, 65021, {"global-ip": ["198.51.100.0/28"]}),
        services=services,
        metallb_version=version if version in VERSIONS else "v0.14.9",
    )
    for c in speaker_containers(w):
        c["image"] = f"quay.io/metallb/speaker:{version}"
    return w


def speaker_containers(w: dict[str, Any], node: str | None = None) -> list[dict[str, Any]]:
    """The ``speaker`` container of each speaker pod (FRR mode runs frr, reloader and frr-metrics beside it)."""
    return [
        c
        for o in w["items"]
        if o["kind"] == "Pod" and (node is None or o["spec"]["nodeName"] == node)
        for c in o["spec"]["containers"]
        if c["name"] == "speaker"
    ]


def announced(w: dict[str, Any]) -> dict[str, set[str]]:
    """Node -> the /32s its bgpd.conf announces (``network`` lines)."""
    outcome, _ = metallb.run(w, NODES)
    return {
        n: {line.split()[1] for line in bgpd.splitlines() if line.strip().startswith("network ")}
        for n, (bgpd, _) in outcome.configs.items()
    }


def test_network_unavailable_withholds_every_version() -> None:
    for version in ("v0.13.12", "v0.14.9", "v0.15.3"):
        w = set_node_state(world(version, endpoints=NODES), NODES[0], network_unavailable=True)
        got = announced(w)
        assert got[NODES[0]] == set(), version
        assert got[NODES[1]] == {"198.51.100.1/32", "198.51.100.2/32"}
        outcome, _ = metallb.run(w, NODES)
        bgpd = outcome.configs[NODES[0]][0]
        assert "neighbor 203.0.113.4 remote-as 65020" in bgpd  # the session stays (syncPeers)
        assert "ip prefix-list 203.0.113.4-pl-ipv4 deny any" in bgpd


def test_exclude_label_from_0_14_and_the_ignore_flag() -> None:
    w = set_node_state(world("v0.13.12", endpoints=NODES), NODES[1], exclude_lb=True)
    assert announced(w)[NODES[1]] == {"198.51.100.1/32", "198.51.100.2/32"}  # v0.13: the label means nothing
    w = set_node_state(world("v0.14.9", endpoints=NODES), NODES[1], exclude_lb=True)
    assert announced(w)[NODES[1]] == set()
    for c in speaker_containers(w, NODES[1]):
        c["args"].append("--ignore-exclude-lb")
    assert announced(w)[NODES[1]] == {"198.51.100.1/32", "198.51.100.2/32"}


@pytest.mark.parametrize(("version", "withheld"), [("v0.13.12", False), ("v0.14.9", True), ("v0.15.0", False)])
def test_unschedulable_only_in_0_14_9(version: str, withheld: bool) -> None:
    w = set_node_state(world(version, endpoints=NODES), NODES[2], unschedulable=True)
    assert (announced(w)[NODES[2]] == set()) is withheld


def test_serving_terminating_endpoint_counts_from_0_14_5() -> None:
    # api (Local): node1 ready, node2 terminating but serving, node3 nothing.
    for version, node2 in (("v0.13.12", False), ("v0.14.4", False), ("v0.14.5", True), ("v0.14.9", True)):
        got = announced(world(version, endpoints=[NODES[0]], terminating=[NODES[1]]))
        assert "198.51.100.2/32" in got[NODES[0]]
        assert ("198.51.100.2/32" in got[NODES[1]]) is node2, version
        assert "198.51.100.2/32" not in got[NODES[2]]


def test_node_state_round_trip_and_condition_shape() -> None:
    w = world()
    assert node_state(w, NODES[0]) == {"network_unavailable": False, "exclude_lb": False, "unschedulable": False}
    w2 = set_node_state(w, NODES[0], network_unavailable=True, exclude_lb=True, unschedulable=True)
    assert node_state(w2, NODES[0]) == {"network_unavailable": True, "exclude_lb": True, "unschedulable": True}
    assert node_state(w, NODES[0])["network_unavailable"] is False  # a copy: the original is untouched
    n = next(o for o in w2["items"] if o["kind"] == "Node" and o["metadata"]["name"] == NODES[0])
    cond = next(c for c in n["status"]["conditions"] if c["type"] == "NetworkUnavailable")
    assert (cond["status"], cond["reason"]) == ("True", "NoRouteCreated")
    assert n["metadata"]["labels"][EXCLUDE_LB_LABEL] == "" and n["spec"]["unschedulable"] is True
    healed = set_node_state(w2, NODES[0], network_unavailable=False, exclude_lb=False, unschedulable=False)
    assert node_state(healed, NODES[0]) == node_state(w, NODES[0])
    with pytest.raises(ValueError, match="unknown node state"):
        set_node_state(w, NODES[0], drained=True)


def test_kube_proxy_captures_allocated_ips_with_nat_rules_not_addresses() -> None:
    w = world(endpoints=NODES)
    outcome, _ = metallb.run(w, NODES)
    rules = kube_proxy_rules(outcome.world)
    assert 'ip daddr 198.51.100.1 tcp dport 80 redirect to :80 comment "default/web:http loadbalancer IP"' in rules
    assert "ip daddr 198.51.100.2 tcp dport 80" in rules
    assert "type nat hook prerouting" in rules and "type nat hook output" in rules
    assert rules.startswith("table ip kube-proxy\ndelete table ip kube-proxy\n")  # one transaction, replaced whole
    # Nothing allocated (no MetalLB config): nothing captured.
    empty = build_world(nodes=[(NODES[0], "203.0.113.11", True)], services=[{"name": "web", "ip": "198.51.100.1"}])
    for o in empty["items"]:
        if o["kind"] == "Service":
            o["status"] = {"loadBalancer": {}}
    assert "ip daddr" not in kube_proxy_rules(empty)


def test_rendered_bgpd_sets_no_router_id_unless_the_peer_asks() -> None:
    """frr.tmpl renders ``bgp router-id`` only for a peer with routerID: the speakers' router-id is zebra's pick,
    which with no service IP on any interface is the node's own address (checked in the lab test)."""
    outcome, _ = metallb.run(world(endpoints=NODES), NODES)
    assert all("router-id" not in bgpd for bgpd, _ in outcome.configs.values())


def test_kube_proxy_mode_option_round_trips_and_is_checked(tmp_path: Any) -> None:
    from lab.topology.plan import Options

    opts = Options(prefix="ekt", state_dir=tmp_path, kube_proxy="ipvs")
    assert Options.from_json(opts.to_json()).kube_proxy == "ipvs"
    old = opts.to_json()
    del old["kube_proxy"]  # a lab.json written before the option: iptables
    assert Options.from_json(old).kube_proxy == "iptables"
    with pytest.raises(ValueError, match="kube-proxy mode 'nft'"):
        Options(prefix="ekt", state_dir=tmp_path, kube_proxy="nft").validate()
