"""Terraform state parsing: v4 and show -json, modules, for_each, tainted/deposed, bad input."""

from __future__ import annotations

import copy
import json
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

import pytest

from inventory import tfstate
from inventory.errors import InputError
from tests.conftest import FIXTURES

SAMPLE = FIXTURES / "samples" / "prd.tfstate"
TF = FIXTURES / "tfstate"


def sample() -> dict[str, Any]:
    return json.loads(SAMPLE.read_text())


def test_sample_servers_and_outputs() -> None:
    state = tfstate.loads(SAMPLE.read_text(), "prd.tfstate")
    names = [s.name for s in state.servers]
    assert len(names) == 9
    assert "k8s-router-1-prd" in names and "k8s-node-3-server-prd" in names
    router = next(s for s in state.servers if s.name == "k8s-router-1-prd")
    assert router.ip_address == IPv4Address("203.0.113.4") and router.netmask == 28
    assert router.nics[1].user_ip_address is None  # empty user_ip_address
    assert router.address == "sakuracloud_server.k8s-router[0]"
    assert state.ignored == {"data": 1}  # the ubuntu archive data source
    assert state.output("k8s_router_internal_ipaddress").plain() == "192.168.100.1"
    assert state.subnets[0].next_hop == IPv4Address("203.0.113.4")


def test_modules_for_each_tainted_deposed() -> None:
    state = tfstate.loads((TF / "modules.tfstate").read_text(), "modules.tfstate")
    by_name = {s.name: s for s in state.servers}
    assert "data-only-server" not in by_name  # data source
    assert by_name["k8s-router-1-wsp"].ip_address == IPv4Address("203.0.113.4")  # not the deposed .44
    assert by_name["k8s-router-1-wsp"].address == 'module.edge["wsp"].sakuracloud_server.router'
    assert by_name["k8s-node-2-wsp"].address == 'module.cluster.sakuracloud_server.node["n2"]'
    assert by_name["k8s-node-2-wsp"].index == "n2"
    assert by_name["k8s-lb-2-wsp"].resource == "module.cluster.module.control.sakuracloud_server.lb"
    assert by_name["k8s-node-3-wsp"].tainted and not by_name["k8s-node-1-wsp"].tainted
    assert state.ignored == {"data": 1, "deposed": 1}


def test_sensitive_output_is_masked() -> None:
    state = tfstate.loads((TF / "modules.tfstate").read_text(), "modules.tfstate")
    out = state.output("admin_password")
    assert out.sensitive and out.shown() == "********"
    assert "hunter2" not in repr(out) and "hunter2" not in str(out.value)
    assert out.plain() == "hunter2-secret"


def test_show_json_matches_state() -> None:
    v4 = tfstate.loads((TF / "modules.tfstate").read_text(), "modules.tfstate")
    show = tfstate.loads((TF / "modules.show.json").read_text(), "modules.show.json")
    assert show.format == "show-json"

    def key(s: tfstate.Server) -> tuple[Any, ...]:
        return (s.name, s.address, s.ip_address, s.tainted, tuple(n.user_ip_address for n in s.nics))

    assert sorted(map(key, show.servers)) == sorted(map(key, v4.servers))
    assert show.ignored == v4.ignored
    assert show.output("admin_password").shown() == "********"
    lb = next(s for s in show.servers if s.name == "k8s-lb-1-wsp")
    assert lb.path.startswith("values.root_module.child_modules[1].child_modules[0].resources[")


def test_not_json() -> None:
    with pytest.raises(InputError, match=r"^broken.tfstate: not JSON \(line 1"):
        tfstate.loads("{not json", "broken.tfstate")


def test_version_3_rejected() -> None:
    doc = sample()
    doc["version"] = 3
    with pytest.raises(InputError, match=r"^old.tfstate at version: state format version 3 is not supported"):
        tfstate.parse(doc, "old.tfstate")


def test_invalid_address_names_path() -> None:
    doc = sample()
    doc["resources"][6]["instances"][1]["attributes"]["ip_address"] = "203.0.113.999"
    with pytest.raises(InputError) as err:
        tfstate.parse(doc, "prd.tfstate")
    assert str(err.value) == (
        "prd.tfstate at resources[6].instances[1].attributes.ip_address: '203.0.113.999' is not a valid IPv4 address"
    )


def test_invalid_nic_address_names_path() -> None:
    doc = sample()
    doc["resources"][7]["instances"][0]["attributes"]["network_interface"][1]["user_ip_address"] = "192.168.100"
    with pytest.raises(InputError, match=r"resources\[7\]\.instances\[0\]\.attributes\.network_interface\[1\]"):
        tfstate.parse(doc, "prd.tfstate")


def test_sensitive_value_never_quoted_in_errors() -> None:
    doc = sample()
    inst = doc["resources"][9]["instances"][0]
    inst["attributes"]["ip_address"] = "s3cr3t-value"
    inst["sensitive_attributes"].append([{"type": "get_attr", "value": "ip_address"}])
    with pytest.raises(InputError) as err:
        tfstate.parse(doc, "prd.tfstate")
    assert "s3cr3t" not in str(err.value) and "********" in str(err.value)


def test_no_managed_servers_parses_empty(tmp_path: Path) -> None:
    doc = sample()
    doc["resources"] = [r for r in doc["resources"] if r["type"] != "sakuracloud_server"]
    state = tfstate.parse(copy.deepcopy(doc), "empty.tfstate")
    assert state.servers == []  # inventory.build turns this into an error (test_inventory_build)
