"""Who announces, in a lab of its own (prd, MetalLB v0.13.12 as seeded): each speaker has its own router-id (no
service IP on any interface: the lab's kube-proxy captures them with nat rules, lab.topology.speakers); a new
service IP resets no BGP session nor becomes a router-id; a node MetalLB withholds (``lab fault NODE
network-unavailable``; the exclude-from-external-load-balancers label from v0.14) keeps its session, withdraws
its routes and is no expected next hop of ecmp.routes (inventory.speakers.withheld), while v0.13.12 ignores
the label as MetalLB does."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest

from lab.harness import LabRun
from tests.lab.helpers import host_vtysh, own_lab, wait_until

pytestmark = pytest.mark.lab

NODES = [f"k8s-node-{i}-server-prd" for i in (1, 2, 3)]
ADDRS = {f"prd-node{i}": f"203.0.113.{10 + i}" for i in (1, 2, 3)}
ROUTER = "203.0.113.4"
WEB = "198.51.100.1"
# The service the tests add: above every seeded service IP (.129), so with service IPs on lo zebra would move every
# speaker's router-id to it and bgpd would reset every session (FRR bgpd.c bgp_router_id_set).
NEW = "198.51.100.140"


@pytest.fixture(scope="module")
def lab() -> Iterator[LabRun]:
    with own_lab("ektann", "--clusters", "prd") as run:
        out = run.edgekit("deploy")
        assert out.returncode == 0, out.stdout + out.stderr
        wait_until(lambda: router_nexthops(run, WEB) == set(ADDRS.values()), 60, "web routed over 3 nodes")
        yield run


def summary(lab: LabRun, host: str) -> dict[str, Any]:
    try:
        data = json.loads(host_vtysh(lab, host, "show bgp summary json") or "{}")
    except ValueError:
        return {}
    return data.get("ipv4Unicast") or {}


def session(lab: LabRun, host: str) -> tuple[str, int]:
    """(state, connectionsEstablished) of the node's session with the router."""
    peer = (summary(lab, host).get("peers") or {}).get(ROUTER) or {}
    return peer.get("state", ""), int(peer.get("connectionsEstablished", 0))


def router_nexthops(lab: LabRun, ip: str) -> set[str]:
    """The router's FIB next hops of ip/32 (zebra's JSON; empty without a route)."""
    try:
        data = json.loads(host_vtysh(lab, "prd-router", f"show ip route {ip}/32 json") or "{}")
    except ValueError:
        return set()
    return {
        n["ip"]
        for e in data.get(f"{ip}/32", [])
        if e.get("protocol") == "bgp" and e.get("selected")
        for n in e.get("nexthops", [])
        if n.get("fib") and n.get("ip")
    }


def announces(lab: LabRun, host: str) -> set[str]:
    return {
        line.split()[1]
        for line in host_vtysh(lab, host, "show running-config").splitlines()
        if line.strip().startswith("network ")
    }


def verify(lab: LabRun) -> dict[str, list[dict[str, Any]]]:
    code, report, out = lab.edgekit_json("verify")
    checks: dict[str, list[dict[str, Any]]] = {}
    for h in report.get("hosts", []):
        for c in h["checks"]:
            checks.setdefault(c["check"], []).append(c)
    checks["_exit"] = [{"code": code, "out": out}]
    return checks


def edit_world(lab: LabRun, change: Any) -> None:
    """Edit the cluster's Kubernetes world as a controller would (the stand-in's store, under its lock)."""
    from lab.kubeapi import store

    store.update(lab.state_dir / "hosts" / "op" / "world-prd.json", change)


def test_each_speaker_has_its_own_router_id_and_no_service_ip_on_an_interface(lab: LabRun) -> None:
    ids = {h: summary(lab, h).get("routerId") for h in ADDRS}
    assert ids == ADDRS  # zebra's pick: the highest interface address, the node's own (no /32 on lo)
    for h in ADDRS:
        assert "198.51.100." not in lab.sh(h, "ip -4 addr show").stdout
        assert f"ip daddr {WEB} tcp dport 80" in lab.sh(h, "nft list ruleset").stdout
    answered = json.loads(lab.lab("traffic", WEB, "-n", "30", "--json", timeout=120).stdout)
    assert set(answered) == set(NODES), answered  # traffic still reaches every node's service


def test_a_new_service_ip_resets_no_session(lab: LabRun) -> None:
    from lab.kubeapi.world import service_objects

    before = {h: session(lab, h) for h in ADDRS}
    assert all(state == "Established" for state, _ in before.values()), before
    ids = {h: summary(lab, h).get("routerId") for h in ADDRS}

    def add(world: dict[str, Any] | None) -> dict[str, Any]:
        assert world is not None
        objs = service_objects({"name": "extra", "ip": NEW, "request_ip": True, "endpoints": NODES}, {})
        objs[0]["status"] = {"loadBalancer": {}}  # MetalLB's controller assigns it
        return {**world, "items": [*world["items"], *objs]}

    edit_world(lab, add)
    wait_until(lambda: router_nexthops(lab, NEW) == set(ADDRS.values()), 60, f"{NEW} routed over 3 nodes")
    assert {h: session(lab, h) for h in ADDRS} == before  # same sessions: connectionsEstablished unchanged
    assert {h: summary(lab, h).get("routerId") for h in ADDRS} == ids
    # FRR 8.4's bgpd takes zebra's new router-id only once no session is Established (bgpd.c
    # bgp_router_id_zebra_bump, bgp_fsm.c): so the session goes down and up, and the speaker must come back with
    # its own address, not NEW (which it would take with service IPs on lo).
    host_vtysh(lab, "prd-node1", "clear bgp *")
    wait_until(lambda: session(lab, "prd-node1") == ("Established", before["prd-node1"][1] + 1), 60, "re-established")
    assert summary(lab, "prd-node1").get("routerId") == ADDRS["prd-node1"]


def test_network_unavailable_node_withdraws_and_is_not_expected(lab: LabRun) -> None:
    lab.lab("fault", "prd-node1", "network-unavailable")
    try:
        wait_until(lambda: announces(lab, "prd-node1") == set(), 30, "node1 withdraws")
        wait_until(lambda: router_nexthops(lab, WEB) == {ADDRS["prd-node2"], ADDRS["prd-node3"]}, 30, "2 next hops")
        assert session(lab, "prd-node1")[0] == "Established"  # MetalLB keeps the session (syncPeers)
        checks = verify(lab)
        assert checks["_exit"][0]["code"] == 0, checks["_exit"][0]["out"]
        web = next(c for c in checks["ecmp.routes"] if WEB in (c.get("subject") or ""))
        assert web["status"] == "pass" and web["reason"] == f"{WEB} via 2 next hops"
        peers = checks["bgp.peers"][0]
        assert peers["status"] == "pass" and f"{NODES[0]} (nodeNetworkUnavailable)" in peers["reason"]
    finally:
        lab.lab("heal", "prd-node1")
    wait_until(lambda: router_nexthops(lab, WEB) == set(ADDRS.values()), 30, "node1 announces again")


def test_exclude_label_is_ignored_by_v0_13_and_withholds_from_v0_14(lab: LabRun) -> None:
    lab.lab("fault", "prd-node2", "exclude-lb")
    try:
        # v0.13.12 (the lab's speakers): the label means nothing to MetalLB, nor to edgekit.
        checks = verify(lab)
        web = next(c for c in checks["ecmp.routes"] if WEB in (c.get("subject") or ""))
        assert web["status"] == "pass" and web["reason"] == f"{WEB} via 3 next hops", web
        assert router_nexthops(lab, WEB) == set(ADDRS.values())

        def image(version: str) -> Any:
            def change(world: dict[str, Any] | None) -> dict[str, Any]:
                assert world is not None
                world = copy.deepcopy(world)  # store.update writes only a world that differs from what it read
                for o in world["items"]:
                    if o.get("kind") == "Pod" and (o["metadata"].get("labels") or {}).get("component") == "speaker":
                        for c in o["spec"]["containers"]:  # FRR mode: frr, reloader, frr-metrics, speaker
                            if c["name"] == "speaker":
                                c["image"] = f"quay.io/metallb/speaker:{version}"
                return world

            return change

        # The same cluster with v0.14.9 speakers: node2 withdraws, and edgekit expects it to.
        edit_world(lab, image("v0.14.9"))
        wait_until(lambda: router_nexthops(lab, WEB) == {ADDRS["prd-node1"], ADDRS["prd-node3"]}, 30, "2 next hops")
        checks = verify(lab)
        assert checks["_exit"][0]["code"] == 0, checks["_exit"][0]["out"]
        web = next(c for c in checks["ecmp.routes"] if WEB in (c.get("subject") or ""))
        assert web["status"] == "pass" and web["reason"] == f"{WEB} via 2 next hops", web
        assert session(lab, "prd-node2")[0] == "Established"
    finally:
        edit_world(lab, image("v0.13.12"))
        lab.lab("heal", "prd-node2")
    wait_until(lambda: router_nexthops(lab, WEB) == set(ADDRS.values()), 30, "node2 announces again")
