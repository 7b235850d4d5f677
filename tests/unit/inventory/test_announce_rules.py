"""Who announces: MetalLB's ShouldAnnounce rules per version (inventory.speakers), read from Kubernetes with the
real client against the stand-in (inventory.kube), and what ecmp.routes then expects (checks.ecmp).

Sources: metallb/metallb speaker/bgp_controller.go ShouldAnnounce, internal/k8s/nodes/nodes.go and
internal/k8s/epslices EndpointCanServe at v0.13.12, v0.14.0, v0.14.4, v0.14.5, v0.14.9, v0.15.3 (see the
docstring of inventory/speakers.py). The worlds are constructed (lab.kubeapi.world)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from checks import ecmp
from checks.parsers import route
from inventory import kube
from inventory.kube import KubeNode
from inventory.model import Service, Speaker
from inventory.speakers import EXCLUDE_LB_LABEL, announce_rules, withheld
from lab.kubeapi import KubeAPIServer, build_world, kubeconfig
from lab.kubeapi.world import set_node_state
from tests.unit import router_fixtures
from tests.unit.router.test_checks_verify import ROUTE_3

NODES = [f"k8s-node-{i}-server-prd" for i in (1, 2, 3)]
WEB = Service(namespace="default", name="web", ips=["198.51.100.1"], has_endpoints=True)  # type: ignore[list-item]


def node(version: str = "v0.13.12", **kw: Any) -> KubeNode:
    return KubeNode(name="n1", internal_ip=None, ready=True, speaker_ready=True, speaker_version=version, **kw)


@pytest.mark.parametrize(
    ("version", "network", "label", "cordon", "ignore", "want"),
    [
        ("v0.13.12", True, False, False, False, "nodeNetworkUnavailable"),
        ("v0.13.12", False, True, False, False, ""),  # v0.13 has no exclude label rule
        ("v0.13.12", False, False, True, False, ""),
        ("v0.14.0", False, True, False, False, "nodeLabeledExcludeBalancers"),
        ("v0.14.0", False, True, False, True, "nodeLabeledExcludeBalancers"),  # no --ignore-exclude-lb before 0.14.4
        ("v0.14.4", False, True, False, True, ""),
        ("v0.14.8", False, False, True, False, ""),
        ("v0.14.9", False, False, True, False, "nodeUnschedulable"),  # only v0.14.9's IsNodeAvailable
        ("v0.14.9", True, False, True, False, "nodeUnschedulable"),  # unschedulable is asked first
        ("v0.15.0", False, False, True, False, ""),
        ("v0.15.3", False, True, False, False, "nodeLabeledExcludeBalancers"),
        ("sha256-abc", False, True, True, False, "nodeLabeledExcludeBalancers"),  # no release: the newest rules
    ],
)
def test_withheld_per_metallb_version(
    version: str, network: bool, label: bool, cordon: bool, ignore: bool, want: str
) -> None:
    n = node(
        version,
        network_unavailable=network,
        unschedulable=cordon,
        ignore_exclude_lb=ignore,
        labels={EXCLUDE_LB_LABEL: ""} if label else {},
    )
    assert withheld(n) == want


def test_serving_endpoints_count_from_0_14_5() -> None:
    assert not announce_rules("v0.13.12").serving
    assert not announce_rules("v0.14.4").serving
    assert announce_rules("v0.14.5").serving and announce_rules("v0.14.9").serving


# -- discovery with the real client ---------------------------------------------------------------------------


def serve(tmp_path: Path, world: dict[str, Any]) -> Iterator[str]:
    server = KubeAPIServer(world, token="t")
    url = server.start()
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(kubeconfig({"prd": url}, token="t")))
    try:
        yield str(path)
    finally:
        server.stop()


def world(version: str) -> dict[str, Any]:
    w = build_world(
        nodes=[(n, f"203.0.113.{11 + i}", True) for i, n in enumerate(NODES)],
        metallb=("crds", "203.0.113.4", 65020, 65021, {"global-ip": ["198.51.100.0/28"]}),
        services=[
            # node3's pod is terminating but still serving (ready False, serving True).
            {
                "name": "api",
                "ip": "198.51.100.2",
                "policy": "Local",
                "endpoints": [NODES[0]],
                "terminating": [NODES[2]],
            },
            {"name": "idle", "ip": "198.51.100.3", "not_ready": [NODES[0]]},
        ],
        metallb_version=version,
    )
    w = set_node_state(w, NODES[0], network_unavailable=True)
    w = set_node_state(w, NODES[1], exclude_lb=True)
    return set_node_state(w, NODES[2], unschedulable=True)


@pytest.mark.parametrize(
    ("version", "reasons", "api_nodes"),
    [
        ("v0.13.12", ["nodeNetworkUnavailable", "", ""], [NODES[0]]),
        (
            "v0.14.9",
            ["nodeNetworkUnavailable", "nodeLabeledExcludeBalancers", "nodeUnschedulable"],
            [NODES[0], NODES[2]],
        ),
    ],
)
def test_discovery_reads_node_states_speaker_version_and_serving_endpoints(
    tmp_path: Path, version: str, reasons: list[str], api_nodes: list[str]
) -> None:
    for path in serve(tmp_path, world(version)):
        facts = kube.discover(path, "prd")
    assert [n.speaker_version for n in facts.nodes if n.speaker_pod] == [version] * 3
    assert [withheld(n) for n in facts.nodes if n.speaker_pod] == reasons
    by_name = {s.name: s for s in facts.services}
    assert by_name["api"].endpoint_nodes == api_nodes  # the terminating one counts from v0.14.5
    assert by_name["api"].has_endpoints is True
    assert by_name["idle"].has_endpoints is False and by_name["idle"].endpoint_nodes == []


# -- ecmp.routes expects what MetalLB announces ---------------------------------------------------------------


def cluster_with(withheld_node: int | None, reason: str = "nodeNetworkUnavailable") -> Any:
    c = router_fixtures.cluster()
    speakers = [
        s.model_copy(update={"withheld": reason}) if i == withheld_node else s for i, s in enumerate(c.speakers)
    ]
    return c.model_copy(update={"speakers": speakers})


def without(address: str) -> str:
    return "\n".join(line for line in ROUTE_3.splitlines() if address not in line) + "\n"


def test_ecmp_withheld_speaker_is_not_an_expected_next_hop() -> None:
    c = cluster_with(0)
    assert ecmp.expected_nexthops(c, WEB) == {"203.0.113.12", "203.0.113.13"}
    ok = ecmp.check_route("r", c, WEB, "198.51.100.1", ecmp.selected_route(route.parse(without("203.0.113.11"))))
    assert ok.status == "pass", ok.reason
    # Still routed over the withheld node: the router has a next hop MetalLB would not announce.
    stale = ecmp.check_route("r", c, WEB, "198.51.100.1", ecmp.selected_route(route.parse(ROUTE_3)))
    assert stale.status == "fail"
    assert stale.reason == (
        "198.51.100.1: via 2 of 2 nodes, unexpected 203.0.113.11; "
        "not expected: k8s-node-1-server-prd (nodeNetworkUnavailable)"
    )


def test_ecmp_service_without_endpoints_expects_no_route() -> None:
    c = router_fixtures.cluster()
    idle = WEB.model_copy(update={"has_endpoints": False})
    assert ecmp.expected_nexthops(c, idle) == set()
    result = ecmp.check_route("r", c, idle, "198.51.100.1", None)
    assert result.status == "pass" and result.reason == "198.51.100.1: not announced (no endpoint)"
    routed = ecmp.check_route("r", c, idle, "198.51.100.1", ecmp.selected_route(route.parse(ROUTE_3)))
    assert routed.status == "fail" and "unexpected 203.0.113.11, 203.0.113.12, 203.0.113.13" in routed.reason
    # Endpoints not read (None): every speaker, as before.
    unknown = WEB.model_copy(update={"has_endpoints": None})
    assert len(ecmp.expected_nexthops(c, unknown)) == 3


def test_ecmp_all_withheld_is_not_a_missing_route() -> None:
    c = router_fixtures.cluster()
    c = c.model_copy(update={"speakers": [s.model_copy(update={"withheld": "nodeUnschedulable"}) for s in c.speakers]})
    result = ecmp.check_route("r", c, WEB, "198.51.100.1", None)
    assert result.status == "pass"
    assert result.reason.startswith("198.51.100.1: not announced (no node MetalLB announces it from); not expected: ")


def test_speaker_model_default_announces() -> None:
    assert Speaker(name="n", address="10.0.0.1").withheld == ""  # type: ignore[arg-type]
    assert json.loads(Speaker(name="n", address="10.0.0.1").model_dump_json())["withheld"] == ""  # type: ignore[arg-type]


def test_model_speakers_keep_withheld_nodes_as_peers(tmp_path: Path) -> None:
    """A withheld node still peers (MetalLB's syncPeers ignores node states): it stays a speaker of the model,
    marked, so the router keeps its BGP neighbour while ecmp.routes stops expecting it."""
    from inventory.build import InventorySources, load
    from tests.conftest import FIXTURES

    w = build_world(
        nodes=[(n, f"203.0.113.{11 + i}", True) for i, n in enumerate(NODES)],
        masters=[(f"k8s-master-{i}-server-prd", f"203.0.113.{4 + i}") for i in (1, 2, 3)],
        metallb=("crds", "203.0.113.4", 65020, 65021, {"global-ip": ["198.51.100.0/28"]}),
        services=[{"name": "web", "ip": "198.51.100.1", "endpoints": NODES}],
    )
    w = set_node_state(w, NODES[1], network_unavailable=True)
    for path in serve(tmp_path, w):
        cluster = load(
            InventorySources(states=[str(FIXTURES / "samples" / "prd.tfstate")], kubeconfig=path)
        ).site.clusters["prd"]
    assert [(s.name, s.withheld) for s in cluster.speakers] == [
        (NODES[0], ""),
        (NODES[1], "nodeNetworkUnavailable"),
        (NODES[2], ""),
    ]
    web = next(s for s in cluster.services if s.name == "web")
    assert ecmp.expected_nexthops(cluster, web) == {"203.0.113.11", "203.0.113.13"}


SUMMARY_NODE1_SILENT = """
IPv4 Unicast Summary (VRF default):
BGP router identifier 203.0.113.4, local AS number 65020 vrf-id 0
BGP table version 2
RIB entries 3, using 576 bytes of memory
Peers 3, using 2172 KiB of memory

Neighbor        V         AS   MsgRcvd   MsgSent   TblVer  InQ OutQ  Up/Down State/PfxRcd   PfxSnt Desc
203.0.113.11    4      65021        42        42        0    0    0 00:00:38            0        2 N/A
203.0.113.12    4      65021        42        42        0    0    0 00:00:38            2        2 N/A
203.0.113.13    4      65021        42        42        0    0    0 00:00:38            2        2 N/A

Total number of neighbors 3
"""  # constructed (FRR 8.4's table shape, as the lab router prints it)


def test_bgp_peers_accepts_a_withheld_speaker_sending_nothing() -> None:
    from checks import bgp
    from checks.parsers import bgp_summary

    summary = bgp_summary.parse(SUMMARY_NODE1_SILENT)
    plain = router_fixtures.cluster()
    failed = bgp.check_peers("r", plain, summary)
    assert failed.status == "fail" and "k8s-node-1-server-prd (203.0.113.11) is Established but sent no prefixes" in (
        failed.reason
    )
    ok = bgp.check_peers("r", cluster_with(0), summary)
    assert ok.status == "pass"
    assert ok.reason == "3 speakers Established; none expected from k8s-node-1-server-prd (nodeNetworkUnavailable)"
