"""inventory.build.load: roles, addresses, clusters, site file merge, missing facts, bad input."""

from __future__ import annotations

import json
from ipaddress import IPv4Address, IPv4Interface, IPv4Network
from pathlib import Path
from typing import Any

import pytest
import yaml

from inventory.build import InventorySources, LoadResult, load
from inventory.errors import InputError, MissingFact
from tests.conftest import FIXTURES

SAMPLE = FIXTURES / "samples" / "prd.tfstate"
TF = FIXTURES / "tfstate"
SITE = TF / "site.yaml"


def sample() -> dict[str, Any]:
    return json.loads(SAMPLE.read_text())


def write(tmp_path: Path, name: str, doc: Any) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(doc) if name.endswith((".tfstate", ".json")) else yaml.safe_dump(doc))
    return str(path)


def build(*states: str, site: str | None = None, **kw: Any) -> LoadResult:
    return load(InventorySources(states=list(states), site=site, **kw))


def test_sample_without_site_file() -> None:
    result = build(str(SAMPLE))
    assert list(result.site.clusters) == ["prd"]  # from the show_workspaces output
    roles = {h.name: h.role for h in result.hosts}
    assert roles["k8s-router-1-prd"] == "router"
    assert roles["k8s-lb-2-server-prd"] == "lb"
    assert roles["k8s-master-1-server-prd"] == "master"
    assert roles["k8s-node-3-server-prd"] == "node"
    router = result.host("k8s-router-1-prd")
    assert router.platform == "vyos" and router.hostname == "203.0.113.4" and router.managed
    assert router.addresses == {0: IPv4Interface("203.0.113.4/28"), 1: IPv4Interface("192.168.100.1/24")}
    assert not result.host("k8s-node-1-server-prd").managed
    assert result.host("k8s-lb-1-server-prd").platform == "linux"
    assert any("assuming /24" in w for w in result.warnings)  # prefix came from nowhere
    assert any("no kubeconfig" in w for w in result.warnings)
    cluster = result.site.clusters["prd"]
    assert cluster.router is not None and cluster.router.node_address == IPv4Interface("192.168.100.1/24")
    assert cluster.router.bgp.asn == 65020 and cluster.router.credentials.username == "vyos"
    assert [str(s.address) for s in cluster.speakers] == ["203.0.113.11", "203.0.113.12", "203.0.113.13"]
    assert cluster.speakers_source == "tfstate" and {s.asn for s in cluster.speakers} == {65021}
    assert cluster.pools[0].addresses == [IPv4Network("198.51.100.0/28")]
    assert cluster.node_subnet == "proxy-arp"
    assert cluster.gateway == IPv4Address("203.0.113.1")
    assert cluster.api_lb is not None and cluster.api_lb.vip == IPv4Address("203.0.113.10")
    assert [(lb.name, lb.priority, lb.state) for lb in cluster.api_lb.lbs] == [
        ("k8s-lb-1-server-prd", 150, "MASTER"),
        ("k8s-lb-2-server-prd", 101, "BACKUP"),
    ]
    assert [m.internal_address for m in cluster.masters][0] == IPv4Address("192.168.100.10")


def test_missing_facts_fail_only_the_feature_that_needs_them() -> None:
    cluster = build(str(SAMPLE)).site.clusters["prd"]
    cluster.require("router", "pools")  # fine: tfstate had those
    with pytest.raises(MissingFact, match=r"^clusters\.prd\.wireguard: no wireguard section"):
        cluster.require("wireguard")
    with pytest.raises(MissingFact, match=r"clusters\.prd\.api_lb\.auth_pass: .*lb\.auth_pass"):
        cluster.require("api_lb")


def test_site_file_merge(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EDGEKIT_TEST_ROUTER_PASSWORD", "router-pw-value")
    result = build(str(SAMPLE), site=str(SITE))
    assert not any("assuming /24" in w for w in result.warnings)
    cluster = result.site.clusters["prd"]
    assert cluster.missing == {}
    assert cluster.router is not None and cluster.router.dialect == "1.4"
    assert cluster.router.credentials.password is not None
    assert cluster.router.credentials.password.describe() == "env:EDGEKIT_TEST_ROUTER_PASSWORD"
    assert cluster.router.bgp.password is not None and cluster.router.bgp.password.k8s == "edgekit/bgp/password"
    assert cluster.wireguard is not None and cluster.wireguard.endpoint_port == 51820
    assert cluster.api_lb is not None and cluster.api_lb.lbs[0].credentials.username == "root"
    dumped = result.site.model_dump_json() + json.dumps([h.data for h in result.hosts])
    assert "router-pw-value" not in dumped and "EDGEKIT_TEST_ROUTER_PASSWORD" in dumped
    assert "CHANGEME" not in dumped  # the state's disk password is never copied


def test_modules_state_with_output_rule_and_warnings(tmp_path: Path) -> None:
    result = build(f"wsp={TF / 'modules.tfstate'}", site=str(SITE))
    cluster = result.site.clusters["wsp"]
    router = result.host("k8s-router-1-wsp")
    assert router.addresses[1] == IPv4Interface("10.10.0.1/24")  # from the output the site file names
    assert cluster.node_subnet == "private"  # nodes inside the router's node-side subnet
    assert result.host("k8s-node-3-wsp").tainted
    assert any("k8s-node-3-wsp" in w and "tainted" in w for w in result.warnings)
    assert any("bastion-wsp" in w and "matches no role rule" in w for w in result.warnings)
    assert "bastion-wsp" not in {h.name for h in result.hosts}
    assert [lb.name for lb in cluster.api_lb.lbs] == ["k8s-lb-1-wsp", "k8s-lb-2-wsp"]  # type: ignore[union-attr]


def test_show_json_builds_same_inventory() -> None:
    a = build(f"wsp={TF / 'modules.tfstate'}", site=str(SITE))
    b = build(f"wsp={TF / 'modules.show.json'}", site=str(SITE))
    assert [(h.name, h.role, h.addresses, h.tainted) for h in a.hosts] == [
        (h.name, h.role, h.addresses, h.tainted) for h in b.hosts
    ]
    assert a.site == b.site


def test_three_workspaces_at_once() -> None:
    result = build(str(SAMPLE), str(TF / "dev.tfstate"), str(TF / "wsp.tfstate"))
    assert [c.name for c in result.site.ordered_clusters()] == ["dev", "wsp", "prd"]
    assert len(result.hosts) == 27
    assert result.host("k8s-router-1-dev").hostname == "198.18.1.4"
    assert result.site.clusters["wsp"].pools[0].addresses == [IPv4Network("198.18.12.0/28")]
    only = build(str(SAMPLE), str(TF / "dev.tfstate"), clusters=["dev"])
    assert list(only.site.clusters) == ["dev"] and {h.cluster for h in only.hosts} == {"dev"}


def test_cluster_name_from_server_suffix(tmp_path: Path) -> None:
    doc = sample()
    del doc["outputs"]["show_workspaces"]
    assert list(build(write(tmp_path, "x.tfstate", doc)).site.clusters) == ["prd"]
    assert list(build(f"blue={write(tmp_path, 'y.tfstate', doc)}").site.clusters) == ["blue"]


def test_same_cluster_twice_is_an_error() -> None:
    with pytest.raises(InputError, match="cluster 'prd' also comes from"):
        build(str(SAMPLE), str(SAMPLE))


def test_unknown_cluster_filter() -> None:
    with pytest.raises(InputError, match=r"--cluster: no state for cluster 'qa'"):
        build(str(SAMPLE), clusters=["qa"])


def test_no_servers(tmp_path: Path) -> None:
    doc = sample()
    doc["resources"] = [r for r in doc["resources"] if r["type"] != "sakuracloud_server"]
    path = write(tmp_path, "empty.tfstate", doc)
    with pytest.raises(InputError) as err:
        build(path)
    assert str(err.value) == f"{path} at resources: no sakuracloud_server resources (managed) in the state"


def test_server_no_rule_matches_is_a_warning(tmp_path: Path) -> None:
    doc = sample()
    doc["resources"][8]["instances"][2]["attributes"]["name"] = "gpu-box-prd"
    result = build(write(tmp_path, "x.tfstate", doc))
    assert any("gpu-box-prd" in w and "matches no role rule" in w for w in result.warnings)
    assert len(result.hosts) == 8


def test_two_hosts_with_one_address(tmp_path: Path) -> None:
    doc = sample()
    doc["resources"][8]["instances"][1]["attributes"]["ip_address"] = "203.0.113.11"
    path = write(tmp_path, "dup.tfstate", doc)
    with pytest.raises(InputError) as err:
        build(path)
    assert str(err.value) == (
        f"{path} at resources[8].instances[1].attributes.ip_address: "
        "203.0.113.11 is the address of both k8s-node-1-server-prd and k8s-node-2-server-prd"
    )


def test_invalid_address_in_state(tmp_path: Path) -> None:
    doc = sample()
    doc["resources"][6]["instances"][1]["attributes"]["ip_address"] = "203.0.113.999"
    path = write(tmp_path, "prd.tfstate", doc)
    with pytest.raises(
        InputError, match=r"at resources\[6\]\.instances\[1\]\.attributes\.ip_address: '203\.0\.113\.999'"
    ):
        build(path)


def test_missing_output_that_a_rule_names(tmp_path: Path) -> None:
    site = write(tmp_path, "site.yaml", {"clusters": {"prd": {"address_outputs": {"router:1": "router_eth1_ip"}}}})
    with pytest.raises(InputError) as err:
        build(str(SAMPLE), site=site)
    assert str(err.value) == (
        f"{site} at clusters.prd.address_outputs.router:1: output 'router_eth1_ip' is not in {SAMPLE}"
    )


def test_default_output_missing_falls_back_to_user_ip_address(tmp_path: Path) -> None:
    doc = sample()
    del doc["outputs"]["k8s_router_internal_ipaddress"]
    doc["resources"][9]["instances"][0]["attributes"]["network_interface"][1]["user_ip_address"] = "192.168.100.254"
    result = build(write(tmp_path, "x.tfstate", doc))
    assert result.host("k8s-router-1-prd").addresses[1] == IPv4Interface("192.168.100.254/24")


def test_no_router_node_address_is_a_missing_fact(tmp_path: Path) -> None:
    doc = sample()
    del doc["outputs"]["k8s_router_internal_ipaddress"]
    cluster = build(write(tmp_path, "x.tfstate", doc)).site.clusters["prd"]
    assert cluster.router is None
    with pytest.raises(MissingFact, match=r"clusters\.prd\.router\.node_address: router k8s-router-1-prd has no"):
        cluster.require("router")


def test_site_overrides_address_role_and_management(tmp_path: Path) -> None:
    site = write(
        tmp_path,
        "site.yaml",
        {
            "clusters": {
                "prd": {
                    "hosts": {
                        "k8s-router-1-prd": {"addresses": {"1": "192.168.100.254/25"}, "management_address": "r1.lab"}
                    },
                    "router": {"node_address": "192.168.100.1/24"},
                }
            },
            "role_rules": [{"role": "node", "name": "^k8s-lb-1-"}],
        },
    )
    result = build(str(SAMPLE), site=site)
    router = result.host("k8s-router-1-prd")
    assert router.addresses[1] == IPv4Interface("192.168.100.254/25")  # hosts.<server>.addresses wins
    assert router.hostname == "r1.lab"
    assert result.host("k8s-lb-1-server-prd").role == "node"  # site rules before the built-in ones
    assert "api_lb.lbs" in result.site.clusters["prd"].missing


def test_unknown_role_in_site_file(tmp_path: Path) -> None:
    site = write(tmp_path, "site.yaml", {"role_rules": [{"role": "firewall", "name": "^fw-"}]})
    with pytest.raises(InputError) as err:
        build(str(SAMPLE), site=site)
    assert str(err.value).startswith(f"{site} at role_rules[0].role: 'firewall': Input should be 'router'")


def test_asn_out_of_range(tmp_path: Path) -> None:
    site = write(tmp_path, "site.yaml", {"clusters": {"prd": {"router": {"asn": 4294967295}}}})
    with pytest.raises(InputError) as err:
        build(str(SAMPLE), site=site)
    assert str(err.value) == (
        f"{site} at clusters.prd.router.asn: 4294967295: Input should be less than or equal to 4294967294"
    )


def test_bad_wireguard_key_names_site_path(tmp_path: Path) -> None:
    site = yaml.safe_load(SITE.read_text())
    site["clusters"]["prd"]["wireguard"]["peer_public_key"] = "not-a-key"
    path = write(tmp_path, "site.yaml", site)
    with pytest.raises(InputError, match=r"at clusters\.prd\.wireguard\.peer_public_key: 'not-a-key'"):
        build(str(SAMPLE), site=path)


def test_no_state_given() -> None:
    with pytest.raises(InputError, match="no Terraform state given"):
        build()
