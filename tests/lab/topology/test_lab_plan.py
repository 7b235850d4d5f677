"""The lab's plan and files, without namespaces: addressing, the tfstate edgekit reads, the site file."""

from __future__ import annotations

import json
import subprocess
from ipaddress import IPv4Address
from pathlib import Path

import pytest

from inventory import tfstate
from inventory.sitefile import SiteFile
from lab.topology import artifacts as A
from lab.topology import lbhost
from lab.topology.plan import Options, Plan


def plan(**kw: object) -> Plan:
    return Plan(Options(prefix="ektp", state_dir=Path("/nonexistent"), **kw))  # type: ignore[arg-type]


def test_each_cluster_keeps_its_addresses_whichever_clusters_are_up() -> None:
    alone = plan(clusters=("dev",)).clusters["dev"]
    three = plan(clusters=("prd", "dev", "wsp"))
    assert alone.block == three.clusters["dev"].block
    prd, dev, wsp = (three.clusters[c] for c in ("prd", "dev", "wsp"))
    assert str(prd.block) == "203.0.113.0/28" and str(dev.block) == "203.0.113.16/28"
    assert str(wsp.block) == "203.0.113.32/28"
    assert str(prd.router_public) == "203.0.113.4/28" and str(prd.vip) == "203.0.113.10"
    assert [str(prd.node_address(i)) for i in (1, 2, 3)] == ["203.0.113.11/28", "203.0.113.12/28", "203.0.113.13/28"]
    assert str(prd.operator_address) == "203.0.113.14/28" and str(dev.operator_address) == "203.0.113.30/28"
    assert [str(c.metallb_range) for c in (prd, dev, wsp)] == [
        "198.51.100.0/28",
        "198.51.100.16/28",
        "198.51.100.32/28",
    ]
    assert [str(c.tunnel) for c in (prd, dev, wsp)] == ["172.16.100.0/30", "172.16.100.4/30", "172.16.100.8/30"]
    assert str(wsp.venue_endpoint) == "198.18.2.2" and str(wsp.venue_network) == "10.88.2.0/24"


def test_more_than_three_nodes_take_a_27_per_cluster() -> None:
    p = plan(clusters=("prd", "dev"), nodes=5)
    prd, dev = p.clusters["prd"], p.clusters["dev"]
    assert str(prd.block) == "203.0.113.0/27" and str(dev.block) == "203.0.113.32/27"
    assert str(prd.node_address(5)) == "203.0.113.15/27"
    assert str(prd.operator_address) == "203.0.113.30/27"
    with pytest.raises(ValueError):
        plan(nodes=20)


def test_private_node_subnet_peers_the_routers_node_side_address() -> None:
    c = plan(node_subnet="private").clusters["prd"]
    assert str(c.node_address(1)) == "192.168.100.11/24"
    assert c.metallb_peer == IPv4Address("192.168.100.1") and c.node_gateway == IPv4Address("192.168.100.1")
    assert plan().clusters["prd"].metallb_peer == IPv4Address("203.0.113.4")


def test_names_stay_within_kernel_limits_and_apart_from_other_prefixes() -> None:
    p = plan(clusters=("prd", "dev", "wsp"))
    assert all(len(ln.ifname) <= 15 and len(ln.peer) <= 15 for ln in p.links)
    assert {h.ns for h in p.hosts} >= {"ektp-prd-router", "ektp-prd-lb1", "ektp-prd-node1", "ektp-op", "ektp-prd-up"}
    assert all(ns.startswith("ektp-") for ns in p.namespaces())
    with pytest.raises(ValueError):
        plan(clusters=("Prod-1",))


def test_tfstate_is_read_by_edgekit_like_the_real_one() -> None:
    p = plan(clusters=("prd",))
    state = tfstate.loads(json.dumps(A.tfstate(p, p.clusters["prd"], "pw")), "prd.tfstate")
    names = sorted(s.name for s in state.servers)
    assert names == sorted(
        ["k8s-router-1-prd"]
        + [f"k8s-master-{i}-server-prd" for i in (1, 2, 3)]
        + [f"k8s-lb-{i}-server-prd" for i in (1, 2)]
        + [f"k8s-node-{i}-server-prd" for i in (1, 2, 3)]
    )
    assert state.outputs["vip_address"].plain() == "203.0.113.10"
    assert state.outputs["metallb_address_range"].plain() == "198.51.100.0/28"
    assert state.outputs["k8s_router_internal_ipaddress"].plain() == "192.168.100.1"
    node = next(s for s in state.servers if s.name == "k8s-node-1-server-prd")
    assert str(node.ip_address) == "203.0.113.11" and node.netmask == 28


@pytest.mark.programs("wg")
def test_site_file_validates_against_the_schema(tmp_path: Path) -> None:
    p = Plan(Options(prefix="ektp", state_dir=tmp_path, clusters=("prd", "dev"), vyos={"dev": "1.3"}))
    paths = A.Paths(tmp_path)
    paths.secrets.mkdir(parents=True)
    for c in p.clusters:
        for side in ("router", "venue"):
            A.write(paths.wg_key(c, side), subprocess.run(["wg", "genkey"], capture_output=True, text=True).stdout)
    site = SiteFile.model_validate(A.site_file(paths, p))
    prd, dev = site.cluster("prd"), site.cluster("dev")
    assert site.rollout == ["dev", "prd"]
    assert prd.wireguard and str(prd.wireguard.endpoint) == "198.18.0.2:51820" and prd.wireguard.key_name is None
    assert dev.wireguard and dev.wireguard.key_name == "venue"
    assert prd.router and str(prd.router.node_address) == "192.168.100.1/24"
    assert prd.lb and prd.lb.credentials and prd.lb.credentials.username == "root"


def test_speaker_config_announces_a_32_per_service_it_has_endpoints_for() -> None:
    c = plan().clusters["prd"]
    node1, node3 = A.speaker_bgpd(c, 1), A.speaker_bgpd(c, 3)
    assert "router bgp 65021" in node1 and "neighbor 203.0.113.4 remote-as 65020" in node1
    assert "network 198.51.100.1/32" in node1 and "network 198.51.100.2/32" in node1
    assert "network 198.51.100.1/32" in node3 and "198.51.100.2/32" not in node3  # policy Local, no endpoint


def test_lb_scripts_are_valid_sh() -> None:
    for script in (lbhost.systemctl_shim(), lbhost.holder_script(Path("/x"), Path("/y"), "h"), lbhost.service_shim()):
        subprocess.run(["sh", "-n"], input=script, text=True, check=True)
