"""The lab follows MetalLB: prd starts with ``--metallb none`` and gets its config through server-side apply
with the unmodified kubernetes client (DynamicClient, field manager edgekit), dev keeps the legacy ConfigMap.
The nodes' speakers follow every change (peer, timers, BFD profile, pools); the venue pool's service answers
from the venue; the venue takes a wg-quick stanza."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from lab.topology.plan import SEED_TIMERS
from tests.lab.helpers import host_vtysh, own_lab
from tests.lab.helpers import wait_for as _wait_for
from tests.lab.labrun import LabRun

pytestmark = pytest.mark.lab

NODES = {f"k8s-node-{i}-server-prd" for i in (1, 2, 3)}
DEV_NODES = {f"k8s-node-{i}-server-dev" for i in (1, 2, 3)}

CLIENT = """
import json, sys
from kubernetes import config, dynamic
from kubernetes.client.exceptions import ApiException
dc = dynamic.DynamicClient(config.new_client_from_config(context=sys.argv[1]))
NS = "metallb-system"
def res(api_version, kind):
    return dc.resources.get(api_version=api_version, kind=kind)
def apply(obj, force=False, manager="edgekit"):
    obj["metadata"]["namespace"] = NS
    try:
        out = dc.server_side_apply(res(obj["apiVersion"], obj["kind"]), body=obj, field_manager=manager,
                                   force_conflicts=force or None)
        return {"ok": out.to_dict()}
    except ApiException as e:
        return {"status": e.status, "body": json.loads(e.body)}
def crd(kind, name, spec, version="v1beta1"):
    return {"apiVersion": f"metallb.io/{version}", "kind": kind, "metadata": {"name": name}, "spec": spec}
def services():
    out = {}
    for s in dc.get(res("v1", "Service")).items:
        ing = (s.status.loadBalancer or {}).get("ingress") or [] if s.status else []
        out[s.metadata.name] = [i["ip"] for i in ing]
    return out
"""


@pytest.fixture(scope="module")
def lab() -> Iterator[LabRun]:
    with own_lab("ektmlb", "--clusters", "prd,dev", "--metallb", "prd=none,dev=configmap") as run:
        yield run


def wait_for(predicate: Callable[[], bool], timeout: float = 20.0, interval: float = 0.2) -> bool:
    return _wait_for(predicate, timeout, interval)


def kube(lab: LabRun, cluster: str, body: str) -> Any:
    """Run CLIENT + body in the operator namespace; body prints one JSON document."""
    out = lab.lab("exec", "--", sys.executable, "-c", CLIENT + body, cluster, check=False, timeout=60)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def hold_ms(lab: LabRun, host: str, peer: str) -> int | None:
    try:
        data = json.loads(host_vtysh(lab, host, f"show bgp neighbors {peer} json"))
    except ValueError:
        return None
    return data.get(peer, {}).get("bgpTimerConfiguredHoldTimeMsecs")


def traffic(lab: LabRun, ip: str, source: str = "upstream", n: int = 30) -> dict[str, int]:
    out = lab.lab("traffic", ip, "-n", str(n), "--from", source, "--json", check=False, timeout=120)
    assert out.stdout, out.stderr
    return json.loads(out.stdout)


PRD_CONFIG = """
r = [apply(crd("IPAddressPool", "global-ip", {"addresses": ["198.51.100.0/28"]})),
     apply(crd("IPAddressPool", "venue-ip", {"addresses": ["198.51.100.128/28"], "autoAssign": False})),
     apply(crd("BGPPeer", "router", {"myASN": 65021, "peerASN": 65020, "peerAddress": "203.0.113.4"}, "v1beta2")),
     apply(crd("BGPAdvertisement", "bgp", {"ipAddressPools": ["global-ip", "venue-ip"]}))]
print(json.dumps([x["ok"]["metadata"]["managedFields"][0]["manager"] if "ok" in x else x for x in r]))
"""


def test_metallb_none_has_no_config_no_ips_and_no_announcements(lab: LabRun) -> None:
    data = kube(
        lab,
        "prd",
        'pools = dc.get(res("metallb.io/v1beta1", "IPAddressPool")).items\n'
        'print(json.dumps({"pools": len(pools), "svcs": services()}))',
    )
    assert data == {"pools": 0, "svcs": {"web": [], "api": [], "scores": []}}
    assert "router bgp" not in host_vtysh(lab, "prd-node1", "show running-config")
    assert "198.51.100." not in lab.sh("prd-node1", "nft list ruleset").stdout
    assert traffic(lab, "198.51.100.1", n=3) == {"(error)": 3}


def test_server_side_apply_configures_metallb_and_the_speakers_follow(lab: LabRun) -> None:
    assert kube(lab, "prd", PRD_CONFIG) == ["edgekit"] * 4
    want = {"web": ["198.51.100.1"], "api": ["198.51.100.2"], "scores": ["198.51.100.129"]}
    assert wait_for(lambda: kube(lab, "prd", "print(json.dumps(services()))") == want)
    # No timers on the BGPPeer: MetalLB's defaults, hold 90 s (keepalive hold/3).
    for i in (1, 2, 3):
        assert wait_for(lambda i=i: hold_ms(lab, f"prd-node{i}", "203.0.113.4") == 90000)

    def announces(host: str, want: set[str]) -> bool:
        running = host_vtysh(lab, host, "show running-config")
        return {
            p for p in ("198.51.100.1/32", "198.51.100.2/32", "198.51.100.129/32") if f"network {p}" in running
        } == want

    assert wait_for(lambda: announces("prd-node1", {"198.51.100.1/32", "198.51.100.2/32", "198.51.100.129/32"}))
    # api (.2) is Local with endpoints on node1 and node2 only
    assert wait_for(lambda: announces("prd-node3", {"198.51.100.1/32", "198.51.100.129/32"}))
    # kube-proxy (iptables mode, here nft) captures the service IPs; none is on an interface.
    assert wait_for(lambda: "ip daddr 198.51.100.129 tcp dport 80" in lab.sh("prd-node3", "nft list ruleset").stdout)
    assert "198.51.100." not in lab.sh("prd-node3", "ip -4 addr show").stdout


def test_after_router_deploy_services_answer_from_upstream_and_the_venue(lab: LabRun) -> None:
    out = lab.edgekit("deploy")
    assert out.returncode == 0, out.stdout + out.stderr
    assert wait_for(lambda: set(traffic(lab, "198.51.100.1")) == NODES, timeout=30)
    assert wait_for(lambda: set(traffic(lab, "198.51.100.17")) == DEV_NODES, timeout=30)  # dev: legacy ConfigMap
    counts = traffic(lab, "198.51.100.129", source="venue", n=12)
    assert set(counts) <= NODES and sum(counts.values()) == 12, counts


def test_a_hand_edit_reaches_the_speakers_and_conflicts_with_the_next_apply(lab: LabRun) -> None:
    edited = kube(
        lab,
        "prd",
        """
p = dc.patch(res("metallb.io/v1beta2", "BGPPeer"), name="router", namespace=NS, body={"spec": {"holdTime": "30s"}},
             content_type="application/merge-patch+json", field_manager="kubectl-edit")
print(json.dumps([m["manager"] for m in p.to_dict()["metadata"]["managedFields"]]))
""",
    )
    assert edited == ["edgekit", "kubectl-edit"]
    assert wait_for(lambda: all(hold_ms(lab, f"prd-node{i}", "203.0.113.4") == 30000 for i in (1, 2, 3)))
    # The same apply as before (no holdTime: edgekit owns no timer) leaves the edit alone, as SSA does ...
    assert kube(lab, "prd", PRD_CONFIG) == ["edgekit"] * 4
    # ... one that sets holdTime to another value conflicts with the hand edit's owner.
    conflict = kube(
        lab,
        "prd",
        """
print(json.dumps(apply(crd("BGPPeer", "router", {"myASN": 65021, "peerASN": 65020, "peerAddress": "203.0.113.4",
      "holdTime": "90s"}, "v1beta2"))))
""",
    )
    assert conflict["status"] == 409 and conflict["body"]["reason"] == "Conflict"
    assert conflict["body"]["message"] == (
        'Apply failed with 1 conflict: conflict with "kubectl-edit" using metallb.io/v1beta2: .spec.holdTime'
    )
    assert conflict["body"]["details"]["causes"][0]["field"] == ".spec.holdTime"
    assert hold_ms(lab, "prd-node1", "203.0.113.4") == 30000  # a refused apply changes nothing
    forced = kube(
        lab,
        "prd",
        """
print(json.dumps(apply(crd("BGPPeer", "router", {"myASN": 65021, "peerASN": 65020, "peerAddress": "203.0.113.4",
      "holdTime": "9s"}, "v1beta2"), force=True)["ok"]["spec"]))
""",
    )
    assert forced["holdTime"] == "9s"
    assert wait_for(lambda: all(hold_ms(lab, f"prd-node{i}", "203.0.113.4") == 9000 for i in (1, 2, 3)))


def test_a_bfd_profile_on_the_peer_runs_bfdd_on_the_nodes(lab: LabRun) -> None:
    body = """
print(json.dumps([apply(crd("BFDProfile", "fast", {"receiveInterval": 300, "transmitInterval": 200,
                                                   "detectMultiplier": 4}))["ok"]["metadata"]["name"],
      apply(crd("BGPPeer", "router", {"myASN": 65021, "peerASN": 65020, "peerAddress": "203.0.113.4",
            "holdTime": "9s", "bfdProfile": "fast"}, "v1beta2"))["ok"]["spec"]["bfdProfile"]]))
"""
    assert kube(lab, "prd", body) == ["fast", "fast"]

    def bfd_peer(host: str) -> dict[str, Any]:
        try:
            peers = json.loads(host_vtysh(lab, host, "show bfd peers json") or "[]")
        except ValueError:
            return {}
        return next((p for p in peers if p.get("peer") == "203.0.113.4"), {})

    assert wait_for(lambda: all(bfd_peer(f"prd-node{i}") for i in (1, 2, 3)))
    peer = bfd_peer("prd-node1")
    assert (peer["receive-interval"], peer["transmit-interval"], peer["detect-multiplier"]) == (300, 200, 4)
    assert "neighbor 203.0.113.4 bfd profile fast" in host_vtysh(lab, "prd-node1", "show running-config")
    node1 = lab.host("prd-node1")
    assert any(p["name"] == "bfdd" and p["alive"] for p in node1["processes"]), node1["processes"]
    # A dead speaker takes bfdd with it; healed, its neighbor has a BFD session again.
    lab.lab("fault", "prd-node1", "speaker-down")
    assert not any(p["name"] == "bfdd" and p["alive"] for p in lab.host("prd-node1")["processes"])
    lab.lab("heal", "prd-node1")
    assert wait_for(lambda: bfd_peer("prd-node1").get("receive-interval") == 300)
    # Without the profile the neighbor loses its bfd lines again.
    body = """
print(json.dumps(apply(crd("BGPPeer", "router", {"myASN": 65021, "peerASN": 65020, "peerAddress": "203.0.113.4",
      "holdTime": "9s"}, "v1beta2"))["ok"]["spec"]))
"""
    assert "bfdProfile" not in kube(lab, "prd", body)
    assert wait_for(lambda: " bfd" not in host_vtysh(lab, "prd-node1", "show running-config bgpd"))


def test_the_legacy_configmap_is_followed_too(lab: LabRun) -> None:
    seeded_hold = SEED_TIMERS["holdTime"]  # the seeded lab timers, e.g. "90s"
    assert hold_ms(lab, "dev-node1", "203.0.113.20") == int(seeded_hold.removesuffix("s")) * 1000
    seeded_keepalive = SEED_TIMERS["keepaliveTime"]
    body = """
cm = dc.get(res("v1", "ConfigMap"), name="config", namespace=NS)
text = cm.data["config"].replace("hold-time: SEEDED_HOLD", "hold-time: 6s")
text = text.replace("keepalive-time: SEEDED_KEEPALIVE", "keepalive-time: 2s")
print(json.dumps(apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "config"},
                        "data": {"config": text}}, force=True)["ok"]["data"]["config"]))
""".replace("SEEDED_HOLD", seeded_hold).replace("SEEDED_KEEPALIVE", seeded_keepalive)
    assert "hold-time: 6s" in kube(lab, "dev", body)
    assert wait_for(lambda: all(hold_ms(lab, f"dev-node{i}", "203.0.113.20") == 6000 for i in (1, 2, 3)))


def test_the_venue_takes_a_wg_quick_stanza(lab: LabRun) -> None:
    router_pub = subprocess.run(
        ["wg", "pubkey"],
        input=(lab.state_dir / "secrets" / "dev-router-wg.key").read_text(),
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    stanza = lab.state_dir / "venue-dev.conf"
    stanza.write_text(
        "[Peer]\n"
        f"PublicKey = {router_pub}\n"
        "Endpoint = 203.0.113.20:51820\n"
        "AllowedIPs = 172.16.100.4/30, 198.51.100.144/28\n"
        "PersistentKeepalive = 25\n"
    )
    out = lab.lab("venue", "dev", "--config", str(stanza), check=False)
    assert out.returncode == 0, out.stderr
    routes = lab.sh("dev-venue", "ip -4 route show dev wg0").stdout
    assert "198.51.100.144/28" in routes and "198.51.100.16/28" not in routes, routes
    assert wait_for(lambda: set(traffic(lab, "198.51.100.145", source="venue", n=12)) <= DEV_NODES, timeout=30)
    # The global pool is not in the stanza's AllowedIPs: the venue reaches it over the internet, not the tunnel.
    assert "dev eth0" in lab.sh("dev-venue", "ip -4 route get 198.51.100.17").stdout
    assert "dev wg0" in lab.sh("dev-venue", "ip -4 route get 198.51.100.145").stdout
    out = lab.lab("venue", "dev", "--default", check=False)
    assert out.returncode == 0, out.stderr
    assert "198.51.100.16/28" in lab.sh("dev-venue", "ip -4 route show dev wg0").stdout
