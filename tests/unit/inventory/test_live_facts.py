"""Live facts from Kubernetes the router cannot work with refuse that cluster's router; notices and warnings.

The inventory tests read the stand-in API (lab.kubeapi) with the real client on loopback. The CLI tests
(render, plan, verify) fake Kubernetes discovery and the router driver as tests/unit/router/test_verify_cli.py
does: two clusters, prd refused by a speaker outside the router's subnets, dev fine.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

import pytest
import yaml
from napalm.base.exceptions import ConnectionException

import tasks.router.plan
from inventory import kube
from inventory.build import InventorySources, LoadResult, load
from inventory.errors import InputError
from lab.kubeapi import KubeAPIServer, kubeconfig
from tasks.router import main
from tasks.router.dialect import DIALECTS
from tasks.router.render import render_router_config
from tests.conftest import FIXTURES
from tests.unit.metallb.test_kube import NODES, prd_world
from tests.unit.router.test_cli_router import Listener
from tests.unit.router.test_verify_cli import world as fake_world

SAMPLE = FIXTURES / "samples" / "prd.tfstate"
DEV = FIXTURES / "tfstate" / "dev.tfstate"
OUTSIDE = (
    "kubernetes context prd at nodes/k8s-node-3-server-prd.status.addresses[InternalIP]: speaker "
    "k8s-node-3-server-prd at 10.9.9.13 is outside every subnet router k8s-router-1-prd reaches "
    "(203.0.113.0/28 on eth0, 192.168.100.0/24 on eth1); cluster prd's router is refused"
)


def _internal_ip(world: dict[str, Any], name: str, ip: str | None) -> dict[str, Any]:
    for item in world["items"]:
        if item["kind"] == "Node" and item["metadata"]["name"] == name:
            addresses = [a for a in item["status"]["addresses"] if a["type"] != "InternalIP"]
            if ip is not None:
                addresses.insert(0, {"type": "InternalIP", "address": ip})
            item["status"]["addresses"] = addresses
    return world


@pytest.fixture
def api(tmp_path: Path) -> Iterator[tuple[KubeAPIServer, Path]]:
    server = KubeAPIServer(prd_world())
    url = server.start()
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(kubeconfig({"prd": url})))
    yield server, path
    server.stop()


def load_prd(kc: Path, site: Path | None = None) -> LoadResult:
    return load(InventorySources(states=[str(SAMPLE)], site=str(site) if site else None, kubeconfig=str(kc)))


def test_speaker_outside_the_router_subnets_refuses_the_cluster(api: tuple[KubeAPIServer, Path]) -> None:
    server, kc = api
    server.set_world(_internal_ip(prd_world(), NODES[2], "10.9.9.13"))
    cluster = load_prd(kc).site.clusters["prd"]
    assert cluster.refused == [OUTSIDE]
    assert [str(s.address) for s in cluster.speakers] == ["203.0.113.11", "203.0.113.12"]  # no neighbor for it
    with pytest.raises(InputError) as err:
        render_router_config(cluster, DIALECTS["1.4"])  # nothing is rendered for a refused cluster
    assert str(err.value) == OUTSIDE


def test_speaker_on_the_node_side_subnet_is_fine(api: tuple[KubeAPIServer, Path]) -> None:
    server, kc = api
    server.set_world(_internal_ip(prd_world(), NODES[2], "192.168.100.13"))
    cluster = load_prd(kc).site.clusters["prd"]
    assert cluster.refused == []
    assert "192.168.100.13" in {str(s.address) for s in cluster.speakers}


def test_kubernetes_pool_over_the_nodes_subnet_refuses_the_cluster(api: tuple[KubeAPIServer, Path]) -> None:
    server, kc = api
    server.set_world(prd_world(metallb=("crds", "203.0.113.4", 65020, 65021, {"bad": ["192.168.100.0/28"]})))
    cluster = load_prd(kc).site.clusters["prd"]
    assert cluster.refused == [
        "kubernetes context prd at ipaddresspools/bad.spec.addresses: MetalLB pool bad range 192.168.100.0/28 "
        "overlaps 192.168.100.0/24, the router's node-side subnet (eth1): its blackhole route would swallow the "
        "nodes' own addresses"
    ]


def test_node_without_internal_ip_warns(api: tuple[KubeAPIServer, Path]) -> None:
    server, kc = api
    server.set_world(_internal_ip(prd_world(), NODES[1], None))
    result = load_prd(kc)
    assert "prd: node k8s-node-2-server-prd has no IPv4 InternalIP in status.addresses" in result.warnings
    # Its speaker still peers at the tfstate address of the node of that name.
    assert "203.0.113.12" in {str(s.address) for s in result.site.clusters["prd"].speakers}


def test_context_not_named_after_the_cluster_is_announced(api: tuple[KubeAPIServer, Path], tmp_path: Path) -> None:
    server, _ = api
    kc = tmp_path / "other"
    kc.write_text(
        yaml.safe_dump(kubeconfig({"kind-lab": server.url, "spare": "http://127.0.0.1:9"}, current="kind-lab"))
    )
    result = load_prd(kc)
    assert result.kube_contexts == {"prd": "kind-lab"}
    notices = [w for w in result.warnings if "context" in w]
    assert notices == [f"prd: kubeconfig {kc} has no context named 'prd'; using its current context 'kind-lab'"]
    # Named after the cluster (or chosen in the site file): nothing to say.
    named = tmp_path / "named"
    named.write_text(yaml.safe_dump(kubeconfig({"prd": server.url})))
    assert not [w for w in load_prd(named).warnings if "context" in w]
    site = tmp_path / "site.yaml"
    site.write_text(yaml.safe_dump({"clusters": {"prd": {"kube_context": "kind-lab"}}}))
    assert not [w for w in load_prd(kc, site).warnings if "context" in w]


def test_context_notice_on_stderr_from_the_cli(
    api: tuple[KubeAPIServer, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server, _ = api
    kc = tmp_path / "other"
    kc.write_text(yaml.safe_dump(kubeconfig({"kind-lab": server.url})))
    site = tmp_path / "site.yaml"
    site.write_text(yaml.safe_dump({"defaults": {"router": {"node_address": "192.168.100.1/24"}}}))
    code = main(["render", "--vyos", "1.4", "--state", str(SAMPLE), "--site", str(site), "--kubeconfig", str(kc)])
    captured = capsys.readouterr()
    assert code == 0
    lines = [line for line in captured.err.splitlines() if "context" in line]
    assert lines == [f"warning: prd: kubeconfig {kc} has no context named 'prd'; using its current context 'kind-lab'"]


# --- the CLI with two clusters: prd refused, dev proceeds --------------------------------------------------------


@pytest.fixture
def two(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """prd (Kubernetes says node 3 is at 10.9.9.13) and dev (no context: tfstate speakers), each router on its
    own loopback port that counts connections; the router driver is recorded, never a real device."""
    ports = {"prd": Listener(), "dev": Listener()}
    site = {
        "defaults": {"router": {"management_address": "127.0.0.1", "node_address": "192.168.100.1/24"}},
        "clusters": {c: {"router": {"credentials": {"username": "vyos", "port": p.port}}} for c, p in ports.items()},
    }
    site_path = tmp_path / "site.yaml"
    site_path.write_text(yaml.safe_dump(site))
    kc = tmp_path / "kubeconfig"
    kc.write_text("{}\n")
    prd = fake_world()
    prd.nodes[2].internal_ip = IPv4Address("10.9.9.13")
    # No current context: with --cluster dev alone, dev must not borrow prd's context.
    monkeypatch.setattr(kube, "list_contexts", lambda path: (["prd"], None))
    monkeypatch.setattr(kube, "discover", lambda path, context: prd)
    asked: list[str] = []

    def driver(task: Any) -> Any:
        asked.append(task.host.name)
        raise ConnectionException(f"cannot connect to {task.host.name}")

    monkeypatch.setattr(tasks.router.plan, "router_driver", driver)
    args = ["--state", f"{SAMPLE},{DEV}", "--site", str(site_path), "--kubeconfig", str(kc)]
    yield {"args": args, "ports": ports, "asked": asked, "tmp": tmp_path}
    for listener in ports.values():
        listener.close()


def test_render_refused_cluster_prints_nothing_for_it(two: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["render", "--vyos", "1.4", *two["args"]])
    captured = capsys.readouterr()
    assert code == 2
    assert "# k8s-router-1-dev (dev, VyOS 1.4)" in captured.out
    assert "k8s-router-1-prd" not in captured.out and "203.0.113.4" not in captured.out
    assert [line for line in captured.err.splitlines() if line.startswith("refused:")] == [f"refused: {OUTSIDE}"]


def test_plan_refused_router_is_never_contacted_and_dev_proceeds(
    two: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    report_path = two["tmp"] / "plan.json"
    code = main(["plan", *two["args"], "--json", str(report_path)])
    captured = capsys.readouterr()
    assert code == 2
    assert [line for line in captured.err.splitlines() if line.startswith("refused:")] == [f"refused: {OUTSIDE}"]
    hosts = {h["host"]: h for h in json.loads(report_path.read_text())["hosts"]}
    assert hosts["k8s-router-1-prd"]["status"] == "failed"
    assert hosts["k8s-router-1-prd"]["error"] == f"input: {OUTSIDE}"
    assert hosts["k8s-router-1-dev"]["status"] == "failed" and "input" not in hosts["k8s-router-1-dev"]["error"]
    assert two["ports"]["prd"].accepted == 0
    assert two["asked"] == ["k8s-router-1-dev"]  # dev was planned (its driver asked for), prd never


def test_verify_refused_router_errors_every_check_without_connecting(
    two: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    report_path = two["tmp"] / "verify.json"
    code = main(["verify", *two["args"], "--json", str(report_path)])
    capsys.readouterr()
    assert code == 2
    checks = [c for h in json.loads(report_path.read_text())["hosts"] for c in h["checks"]]
    prd = [c for c in checks if c["host"] == "k8s-router-1-prd"]
    assert prd and all(c["status"] == "error" and c["reason"] == f"input: {OUTSIDE}" for c in prd)
    assert two["asked"] == ["k8s-router-1-dev"]  # prd's router was never asked for
    dev = [c for c in checks if c["host"] == "k8s-router-1-dev"]
    assert dev and all("cannot connect to k8s-router-1-dev" in c["reason"] for c in dev)


def test_comply_skips_the_refused_router_and_exits_2(two: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["comply", *two["args"]]) == 2
    assert two["asked"] == ["k8s-router-1-dev"]
    capsys.readouterr()


def test_selecting_only_the_good_cluster_is_clean(two: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["render", "--vyos", "1.4", *two["args"], "--cluster", "dev"])
    captured = capsys.readouterr()
    assert code == 0 and "refused" not in captured.err, captured.err
    assert "# k8s-router-1-dev" in captured.out


def test_plan_input_error_found_while_planning_exits_2_with_that_error(
    two: dict[str, Any], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def dialect(cluster: Any, driver: Any) -> Any:
        raise InputError("VyOS 9.9 is not supported", path="show version")

    monkeypatch.setattr(tasks.router.plan, "router_driver", lambda task: object())
    monkeypatch.setattr(tasks.router.plan, "router_dialect", dialect)
    code = main(["plan", *two["args"], "--cluster", "dev"])
    captured = capsys.readouterr()
    assert code == 2  # bad input stops the run before any router is changed
    assert "error: show version: VyOS 9.9 is not supported" in captured.err.splitlines(), captured.err
