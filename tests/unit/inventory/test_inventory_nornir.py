"""The Nornir inventory plugin: entry point, host shape, connection options, password handling."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from nornir import InitNornir
from nornir.core.plugins.inventory import InventoryPluginRegister

from inventory.errors import MissingFact
from inventory.nornir_plugin import EdgekitHost, TFStateInventory
from lab.kubeapi import KubeAPIServer, build_world, kubeconfig
from tests.conftest import FIXTURES

SAMPLE = FIXTURES / "samples" / "prd.tfstate"
SITE = FIXTURES / "tfstate" / "site.yaml"
SECRET = "router-pw-DO-NOT-PRINT"


def nornir(**options: object):  # type: ignore[no-untyped-def]
    return InitNornir(
        runner={"plugin": "threaded", "options": {"num_workers": 2}},
        inventory={"plugin": "TFStateInventory", "options": options},
        logging={"enabled": False},
    )


def test_entry_point_and_host_shape(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EDGEKIT_TEST_ROUTER_PASSWORD", SECRET)
    nr = nornir(states=str(SAMPLE), site=str(SITE))
    router = nr.inventory.hosts["k8s-router-1-prd"]
    assert isinstance(router, EdgekitHost)
    assert router.hostname == "203.0.113.4" and router.platform == "vyos" and router.username == "vyos"
    assert [g.name for g in router.groups] == ["cluster_prd", "role_router"]
    assert router["cluster"] == "prd" and router["role"] == "router" and router["managed"] is True
    model = router["model"]
    assert model["router"]["node_address"] == "192.168.100.1/24"
    assert model["router"]["credentials"]["password"] == {"env": "EDGEKIT_TEST_ROUTER_PASSWORD"}
    assert [s["address"] for s in model["speakers"]] == ["203.0.113.11", "203.0.113.12", "203.0.113.13"]
    lb = nr.inventory.hosts["k8s-lb-2-server-prd"]
    assert lb.platform == "linux" and lb["model"]["lb"]["state"] == "BACKUP"
    assert lb["model"]["peer"]["address"] == "203.0.113.8"
    node = nr.inventory.hosts["k8s-node-1-server-prd"]
    assert node.platform == "linux" and node["managed"] is False and node.username is None
    assert node["model"]["speaker"]["asn"] == 65021
    assert len(nr.filter(managed=True).inventory.hosts) == 3
    assert set(nr.inventory.children_of_group("role_master")) == {
        nr.inventory.hosts[f"k8s-master-{i}-server-prd"] for i in (1, 2, 3)
    }


def test_connection_options_and_password_at_connect_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EDGEKIT_TEST_ROUTER_PASSWORD", SECRET)
    nr = nornir(states=[str(SAMPLE)], site=str(SITE))
    router = nr.inventory.hosts["k8s-router-1-prd"]
    netmiko = router.get_connection_parameters("netmiko")
    assert netmiko.extras["device_type"] == "vyos"
    assert netmiko.extras["key_file"] == "/etc/edgekit/id_ed25519" and netmiko.extras["use_keys"] is True
    assert netmiko.extras["alt_key_file"] == "/etc/edgekit/known_hosts" and netmiko.extras["ssh_strict"] is True
    assert netmiko.password == SECRET  # resolved here, when a connection is about to open
    napalm = router.get_connection_parameters("napalm")
    assert napalm.platform == "edgekit_vyos" and napalm.extras["optional_args"]["dialect"] == "1.4"
    assert router.password is None  # never stored on the host
    dumped = json.dumps(nr.inventory.dict())
    assert SECRET not in dumped and SECRET not in repr(router) and "EDGEKIT_TEST_ROUTER_PASSWORD" in dumped
    monkeypatch.delenv("EDGEKIT_TEST_ROUTER_PASSWORD")
    with pytest.raises(MissingFact, match="EDGEKIT_TEST_ROUTER_PASSWORD is not set"):
        router.get_connection_parameters("netmiko")


def test_password_from_kubernetes_secret(tmp_path: Path) -> None:
    world = build_world(
        nodes=[(f"k8s-node-{i}-server-prd", f"203.0.113.{10 + i}", True) for i in (1, 2, 3)],
        metallb=("crds", "203.0.113.4", 65020, 65021, {"p": ["198.51.100.0/28"]}),
        secrets={"edgekit/router": {"password": SECRET}},
    )
    server = KubeAPIServer(world)
    url = server.start()
    try:
        kc = tmp_path / "kubeconfig"
        kc.write_text(yaml.safe_dump(kubeconfig({"prd": url})))
        site = tmp_path / "site.yaml"
        site.write_text(
            yaml.safe_dump({"defaults": {"router": {"credentials": {"password": {"k8s": "edgekit/router/password"}}}}})
        )
        plugin = TFStateInventory(states=str(SAMPLE), site=str(site), kubeconfig=str(kc))
        inv = plugin.load()
        router = inv.hosts["k8s-router-1-prd"]
        assert router["password_ref"] == "k8s:edgekit/router/password"
        assert SECRET not in json.dumps(inv.dict())
        assert router.get_connection_parameters("netmiko").password == SECRET
    finally:
        server.stop()


def test_registrable_under_another_name() -> None:
    InventoryPluginRegister.register("EdgekitTF", TFStateInventory)
    nr = InitNornir(
        inventory={"plugin": "EdgekitTF", "options": {"states": [f"blue={SAMPLE}"]}}, logging={"enabled": False}
    )
    assert {h.data["cluster"] for h in nr.inventory.hosts.values()} == {"blue"}
    assert "cluster_blue" in nr.inventory.groups
