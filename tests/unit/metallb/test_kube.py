"""Kubernetes discovery with the real client against the stand-in API server on loopback."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path
from typing import Any

import pytest
import yaml

from inventory import kube
from inventory.build import InventorySources, load
from inventory.errors import InputError, SourceUnreachable
from lab.kubeapi import KubeAPIServer, build_world, kubeconfig, set_speaker_ready
from lab.kubeapi.server import label_match, route
from tests.conftest import FIXTURES, REPO

SAMPLE = FIXTURES / "samples" / "prd.tfstate"
SITE = FIXTURES / "tfstate" / "site.yaml"
WORLD = FIXTURES / "kube" / "prd-world.json"
NODES = [f"k8s-node-{i}-server-prd" for i in (1, 2, 3)]
POOLS = {"globalIP": ["198.51.100.0/28"]}


def prd_world(form: str = "crds", ready: tuple[bool | None, ...] = (True, True, True), **kw: Any) -> dict[str, Any]:
    nodes = [(n, f"203.0.113.{11 + i}", r) for i, (n, r) in enumerate(zip(NODES, ready, strict=True))]
    kw.setdefault("metallb", (form, "203.0.113.4", 65020, 65021, POOLS))
    return build_world(
        nodes=nodes, masters=[(f"k8s-master-{i}-server-prd", f"203.0.113.{4 + i}") for i in (1, 2, 3)], **kw
    )


@pytest.fixture
def api(tmp_path: Path) -> Iterator[tuple[KubeAPIServer, str]]:
    server = KubeAPIServer(json.loads(WORLD.read_text()), token="t0ken")
    url = server.start()
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(kubeconfig({"prd": url}, token="t0ken")))
    yield server, str(path)
    server.stop()


def test_discover_crds_world(api: tuple[KubeAPIServer, str]) -> None:
    facts = kube.discover(api[1], "prd")
    assert [n.name for n in facts.speaker_nodes] == NODES
    assert facts.metallb_source == "crds"
    assert [(str(p.peer_address), p.peer_asn, p.my_asn) for p in facts.peers] == [("203.0.113.4", 65020, 65021)]
    assert facts.pools[0].addresses == [IPv4Network("198.51.100.0/28")]
    web = next(s for s in facts.services if s.name == "web")
    assert web.external_traffic_policy == "Local" and web.ips == [IPv4Address("198.51.100.10")]
    assert web.endpoint_nodes == NODES[:2]
    assert kube.secret_reader(api[1], "prd")("edgekit", "bgp", "password") == "bgp-secret-from-k8s"


def test_speakers_follow_ready_pods(api: tuple[KubeAPIServer, str]) -> None:
    server, kc = api
    server.set_world(prd_world(ready=(True, False, None)))  # node 2 NotReady, node 3 without a speaker
    result = load(InventorySources(states=[str(SAMPLE)], kubeconfig=kc, require_k8s=True))
    cluster = result.site.clusters["prd"]
    assert cluster.speakers_source == "kubernetes"
    assert [s.name for s in cluster.speakers] == [NODES[0]]
    router = next(h for h in result.hosts if h.role == "router")
    assert [s["address"] for s in router.data["model"]["speakers"]] == ["203.0.113.11"]
    server.set_world(set_speaker_ready(prd_world(ready=(True, False, None)), NODES[1], True))
    cluster = load(InventorySources(states=[str(SAMPLE)], kubeconfig=kc)).site.clusters["prd"]
    assert [s.name for s in cluster.speakers] == NODES[:2]


def test_legacy_configmap_and_helm_labels(api: tuple[KubeAPIServer, str]) -> None:
    server, kc = api
    server.set_world(prd_world("configmap", metallb=("configmap", "203.0.113.4", 65020, 65030, POOLS), helm=True))
    facts = kube.discover(kc, "prd")
    assert facts.metallb_source == "configmap" and len(facts.speaker_nodes) == 3
    assert route(server.world, "/apis/metallb.io/v1beta2/namespaces/metallb-system/bgppeers", {})[0] == 404
    cluster = load(InventorySources(states=[str(SAMPLE)], kubeconfig=kc)).site.clusters["prd"]
    assert {s.asn for s in cluster.speakers} == {65030}  # my-asn from MetalLB


def test_disagreements(api: tuple[KubeAPIServer, str]) -> None:
    server, kc = api
    world = prd_world(metallb=("crds", "192.0.2.99", 65099, 65022, {"other": ["198.51.100.32/28"]}))
    world["items"] += build_world(nodes=[("k8s-node-9-server-prd", "203.0.113.14", True)])["items"][3:]
    server.set_world(world)
    result = load(InventorySources(states=[str(SAMPLE)], site=str(SITE), kubeconfig=kc))
    text = "\n".join(result.disagreements)
    assert "prd: node k8s-node-9-server-prd (203.0.113.14) is in Kubernetes but not in tfstate" in text
    assert "peer address 192.0.2.99, which is not the router (203.0.113.4)" in text
    assert "expects router ASN 65099, the site model has 65020" in text
    assert "my-asn 65022 differs from the site file's speaker_asn 65021" in text


def test_unreachable_falls_back_or_fails(tmp_path: Path) -> None:
    server = KubeAPIServer(prd_world())
    url = server.start()
    server.stop()  # nothing listens there any more
    kc = tmp_path / "kubeconfig"
    kc.write_text(yaml.safe_dump(kubeconfig({"prd": url})))
    result = load(InventorySources(states=[str(SAMPLE)], kubeconfig=str(kc)))
    assert result.site.clusters["prd"].speakers_source == "tfstate"
    assert len(result.site.clusters["prd"].speakers) == 3
    assert any("Kubernetes unreachable" in w and "Connection refused" in w for w in result.warnings)
    with pytest.raises(SourceUnreachable) as err:
        load(InventorySources(states=[str(SAMPLE)], kubeconfig=str(kc), require_k8s=True))
    assert err.value.exit_code == 3


def test_wrong_token_is_unreachable(api: tuple[KubeAPIServer, str], tmp_path: Path) -> None:
    server, _ = api
    kc = tmp_path / "bad"
    kc.write_text(yaml.safe_dump(kubeconfig({"prd": server.url}, token="wrong")))
    with pytest.raises(SourceUnreachable, match=r"access denied \(HTTP 401\)"):
        kube.discover(str(kc), "prd")


def test_missing_context_and_bad_kubeconfig(api: tuple[KubeAPIServer, str], tmp_path: Path) -> None:
    _, kc = api
    with pytest.raises(InputError, match="no context 'dev'"):
        # two clusters: no falling back to the current context for the one without its own context
        load(
            InventorySources(
                states=[str(SAMPLE), str(FIXTURES / "tfstate" / "dev.tfstate")], kubeconfig=kc, require_k8s=True
            )
        )
    one = load(InventorySources(states=[f"dev={SAMPLE}"], kubeconfig=kc, require_k8s=True))
    assert one.kube_contexts == {"dev": "prd"}  # a single cluster uses the current context
    bad = tmp_path / "broken"
    bad.write_text("just a string")
    with pytest.raises(InputError, match=str(bad)):
        load(InventorySources(states=[str(SAMPLE)], kubeconfig=str(bad)))


def test_require_k8s_without_kubeconfig() -> None:
    with pytest.raises(InputError, match="--require-k8s needs a kubeconfig"):
        load(InventorySources(states=[str(SAMPLE)], require_k8s=True))


def test_tls(tmp_path: Path) -> None:
    from lab.kubeapi.tls import self_signed

    cert, key = self_signed(tmp_path / "pki")
    server = KubeAPIServer(prd_world(), tls=(cert, key))
    url = server.start()
    try:
        assert url.startswith("https://127.0.0.1:")
        kc = tmp_path / "kubeconfig"
        kc.write_text(yaml.safe_dump(kubeconfig({"prd": url}, ca_file=str(cert))))
        assert len(kube.discover(str(kc), "prd").speaker_nodes) == 3
        kc.write_text(yaml.safe_dump(kubeconfig({"prd": url})))  # no CA: the certificate is not trusted
        with pytest.raises(SourceUnreachable, match="CERTIFICATE_VERIFY_FAILED"):
            kube.discover(str(kc), "prd")
    finally:
        server.stop()


def test_stand_in_api_shapes() -> None:
    from lab.kubeapi.server import World

    world = World(prd_world())
    code, body = route(world, "/api/v1/namespaces/metallb-system/configmaps/config", {})
    assert code == 404 and body["kind"] == "Status" and body["reason"] == "NotFound"
    assert body["message"] == 'configmaps "config" not found'
    code, body = route(world, "/api/v1/pods", {"labelSelector": "app=metallb,component=speaker"})
    assert code == 200 and body["kind"] == "PodList" and len(body["items"]) == 3
    assert body["metadata"]["resourceVersion"]
    code, body = route(world, "/api/v1/pods", {"fieldSelector": f"spec.nodeName={NODES[0]}"})
    assert [p["spec"]["nodeName"] for p in body["items"]] == [NODES[0]]
    code, body = route(world, "/apis/metallb.io/v1beta1/namespaces/metallb-system/bgppeers", {})
    assert code == 200 and body["items"][0]["apiVersion"] == "metallb.io/v1beta1"
    assert route(world, "/api/v1/nodes/k8s-node-1-server-prd", {})[1]["kind"] == "Node"
    assert label_match({"a": "1", "b": "x"}, "a in (1,2),!c,b!=y")
    assert not label_match({"a": "3"}, "a in (1,2)")


def test_stand_in_cli_reloads_world(tmp_path: Path) -> None:
    world_file = tmp_path / "world.json"
    world_file.write_text(json.dumps(prd_world()))
    proc = subprocess.Popen(
        [sys.executable, "-m", "lab.kubeapi", "--listen", "127.0.0.1:0", "--world", str(world_file)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("listening on http://127.0.0.1:"), line
        url = line.split()[2]

        def speakers() -> int:
            query = "/api/v1/pods?labelSelector=app%3Dmetallb%2Ccomponent%3Dspeaker"
            with urllib.request.urlopen(url + query, timeout=5) as r:
                pods = json.load(r)["items"]
            return sum(c["type"] == "Ready" and c["status"] == "True" for p in pods for c in p["status"]["conditions"])

        assert speakers() == 3
        tmp = tmp_path / "world.new"
        tmp.write_text(json.dumps(set_speaker_ready(prd_world(), NODES[2], False)))
        os.replace(tmp, world_file)
        os.utime(world_file, ns=(time.time_ns(), time.time_ns() + 1_000_000))
        assert speakers() == 2  # re-read on the next request (mtime changed)
        world_file.write_text(json.dumps(prd_world(ready=(True, None, None))))
        os.utime(world_file, ns=(0, 0))  # same mtime trick does not matter: SIGHUP forces a reload
        proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 5
        while speakers() != 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert speakers() == 1
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=5) == 0


def _label(world: dict[str, Any], node_names: list[str], key: str, value: str) -> None:
    for obj in world["items"]:
        if obj.get("kind") == "Node" and obj["metadata"]["name"] in node_names:
            obj["metadata"]["labels"][key] = value


def test_bgppeer_node_selectors_narrow_the_speakers(api: tuple[KubeAPIServer, str]) -> None:
    server, kc = api
    world = prd_world()
    _label(world, NODES[:2], "edge.example/bgp", "on")
    peer = next(o for o in world["items"] if o.get("kind") == "BGPPeer")
    peer["spec"]["nodeSelectors"] = [{"matchLabels": {"edge.example/bgp": "on"}}]
    server.set_world(world)
    facts = kube.discover(kc, "prd")
    assert facts.peers[0].selects({"edge.example/bgp": "on"}) and not facts.peers[0].selects({})
    cluster = load(InventorySources(states=[str(SAMPLE)], kubeconfig=kc)).site.clusters["prd"]
    assert [s.name for s in cluster.speakers] == NODES[:2]  # node 3's speaker never peers with the router


def test_configmap_node_selectors_with_expressions(api: tuple[KubeAPIServer, str]) -> None:
    server, kc = api
    world = prd_world("configmap", metallb=("configmap", "203.0.113.4", 65020, 65021, POOLS))
    _label(world, [NODES[2]], "zone", "b")
    _label(world, NODES[:2], "zone", "a")
    cm = next(o for o in world["items"] if o.get("kind") == "ConfigMap" and o["metadata"]["name"] == "config")
    config = yaml.safe_load(cm["data"]["config"])
    config["peers"][0]["node-selectors"] = [
        {"match-expressions": [{"key": "zone", "operator": "NotIn", "values": ["a"]}]},
        {"match-labels": {"kubernetes.io/hostname": NODES[0]}},
    ]
    cm["data"]["config"] = yaml.safe_dump(config)
    server.set_world(world)
    cluster = load(InventorySources(states=[str(SAMPLE)], kubeconfig=kc)).site.clusters["prd"]
    assert [s.name for s in cluster.speakers] == [NODES[0], NODES[2]]  # either selector selects
