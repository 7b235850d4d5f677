"""Site files (and states) that cannot work are refused: one InputError line naming file, YAML path and why.

Each of these was accepted before (issue 13) and rendered into a broken router or LB config. The CLI tests
at the end run `python -m tasks.router plan|render` on such a file: exit 2, one `error:` line, nothing on
stdout, no connection to the router.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from inventory.build import InventorySources, LoadResult, load
from inventory.errors import InputError
from tasks.router import main
from tests.conftest import FIXTURES
from tests.unit.router.test_cli_router import Listener, router_port  # noqa: F401  (the fixture)

SAMPLE = FIXTURES / "samples" / "prd.tfstate"


def write_site(tmp_path: Path, doc: dict[str, Any]) -> Path:
    path = tmp_path / "site.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def write_state(tmp_path: Path, doc: dict[str, Any]) -> Path:
    path = tmp_path / "prd.tfstate"
    path.write_text(json.dumps(doc))
    return path


def build(state: Path, site: Path | None = None) -> LoadResult:
    return load(InventorySources(states=[str(state)], site=str(site) if site else None))


def refusal(state: Path, site: Path | None = None) -> str:
    with pytest.raises(InputError) as err:
        build(state, site)
    text = str(err.value)
    assert "\n" not in text
    return text


# --- MetalLB pools over the nodes' subnet or the router's node-side subnet --------------------------------------


def test_site_pool_over_the_nodes_subnet(tmp_path: Path) -> None:
    site = write_site(
        tmp_path, {"clusters": {"prd": {"metallb": {"pools": [{"name": "web", "addresses": ["203.0.113.8/29"]}]}}}}
    )
    assert refusal(SAMPLE, site) == (
        f"{site} at clusters.prd.metallb.pools[0].addresses: MetalLB pool web range 203.0.113.8/29 overlaps "
        "203.0.113.0/28, the nodes' subnet (node k8s-node-1-server-prd is 203.0.113.11/28): its blackhole route "
        "would swallow the nodes' own addresses"
    )


def test_site_pool_over_the_router_node_side_subnet(tmp_path: Path) -> None:
    pools = [
        {"name": "ok", "addresses": ["198.51.100.0/28"]},
        {"name": "bad", "addresses": ["192.168.100.16-192.168.100.31"]},
    ]
    site = write_site(tmp_path, {"defaults": {"metallb": {"pools": pools}}})
    text = refusal(SAMPLE, site)
    assert text.startswith(f"{site} at defaults.metallb.pools[1].addresses: MetalLB pool bad range 192.168.100.16/28 ")
    assert "overlaps 192.168.100.0/24, the router's node-side subnet (eth1)" in text


def test_terraform_pool_output_over_the_node_side_subnet(tmp_path: Path) -> None:
    doc = json.loads(SAMPLE.read_text())
    doc["outputs"]["metallb_address_range"]["value"] = "192.168.100.0/28"
    state = write_state(tmp_path, doc)
    text = refusal(state)
    assert text.startswith(f"{state} at outputs.metallb_address_range.value: MetalLB pool metallb_address_range ")
    assert "the router's node-side subnet" in text


def test_sensitive_outputs_are_not_quoted_in_the_refusal(tmp_path: Path) -> None:
    doc = json.loads(SAMPLE.read_text())
    doc["outputs"]["metallb_address_range"].update(value="192.168.100.0/28", sensitive=True)
    state = write_state(tmp_path, doc)
    text = refusal(state)
    assert "MetalLB pool metallb_address_range range ******** overlaps 192.168.100.0/24" in text
    assert "192.168.100.0/28" not in text
    doc = json.loads(SAMPLE.read_text())
    doc["outputs"]["vip_address"].update(value="198.51.100.10", sensitive=True)
    text = refusal(write_state(tmp_path, doc))
    assert "API VIP ******** is outside" in text and "198.51.100.10" not in text


def test_routed_subnet_over_the_nodes_subnet(tmp_path: Path) -> None:
    doc = json.loads(SAMPLE.read_text())
    del doc["outputs"]["metallb_address_range"]
    doc["resources"][10]["instances"][0]["attributes"]["network_address"] = "203.0.113.0"
    state = write_state(tmp_path, doc)
    assert refusal(state).startswith(
        f"{state} at resources[10].instances[0].attributes.network_address: MetalLB pool routed range 203.0.113.0/28"
    )


def test_a_pool_beside_the_nodes_is_accepted(tmp_path: Path) -> None:
    site = write_site(
        tmp_path, {"defaults": {"metallb": {"pools": [{"name": "web", "addresses": ["203.0.113.16/28"]}]}}}
    )
    cluster = build(SAMPLE, site).site.clusters["prd"]
    assert [str(a) for p in cluster.pools for a in p.addresses] == ["203.0.113.16/28"]


# --- API VIP outside the LBs' subnet ---------------------------------------------------------------------------


def test_site_vip_outside_the_lb_subnet(tmp_path: Path) -> None:
    site = write_site(tmp_path, {"clusters": {"prd": {"lb": {"vip": "203.0.113.20"}}}})
    assert refusal(SAMPLE, site) == (
        f"{site} at clusters.prd.lb.vip: API VIP 203.0.113.20 is outside the LBs' subnet: k8s-lb-1-server-prd is "
        "203.0.113.8/28 (network 203.0.113.0/28)"
    )


def test_terraform_vip_outside_the_lb_subnet(tmp_path: Path) -> None:
    doc = json.loads(SAMPLE.read_text())
    doc["outputs"]["vip_address"]["value"] = "198.51.100.10"
    state = write_state(tmp_path, doc)
    assert refusal(state).startswith(f"{state} at outputs.vip_address.value: API VIP 198.51.100.10 is outside")


# --- the same key twice -----------------------------------------------------------------------------------------


def test_cluster_block_twice(tmp_path: Path) -> None:
    site = tmp_path / "site.yaml"
    site.write_text(
        "clusters:\n  prd:\n    router: {bgp: {password: {env: BGP}}}\n  dev: {}\n  prd:\n    lb: {vip: 203.0.113.10}\n"
    )
    assert refusal(SAMPLE, site) == (
        f"{site} at clusters.prd: key 'prd' appears twice in one mapping (line 5, first on line 2): "
        "YAML would keep only the second one"
    )


# --- address_outputs --------------------------------------------------------------------------------------------


def test_address_outputs_unknown_role(tmp_path: Path) -> None:
    site = write_site(
        tmp_path, {"clusters": {"prd": {"address_outputs": {"routr:1": "k8s_router_internal_ipaddress"}}}}
    )
    assert refusal(SAMPLE, site) == (
        f"{site} at clusters.prd.address_outputs.routr:1: unknown role 'routr' in 'routr:1' "
        "(the key is ROLE:NIC, ROLE one of router, lb, master, node)"
    )


def test_address_outputs_without_nic(tmp_path: Path) -> None:
    site = write_site(tmp_path, {"defaults": {"address_outputs": {"router": "k8s_router_internal_ipaddress"}}})
    assert refusal(SAMPLE, site).startswith(f"{site} at defaults.address_outputs.router: 'router' names no NIC index")


def test_address_outputs_missing_output_for_a_nic_nobody_has(tmp_path: Path) -> None:
    # The LBs have one NIC: before, an output for lb:1 was never looked up, so a wrong name went unnoticed.
    site = write_site(tmp_path, {"clusters": {"prd": {"address_outputs": {"lb:1": "lb_private_ips"}}}})
    assert refusal(SAMPLE, site) == (
        f"{site} at clusters.prd.address_outputs.lb:1: output 'lb_private_ips' is not in {SAMPLE}"
    )


# --- wireguard.endpoint -----------------------------------------------------------------------------------------


def test_endpoint_port_out_of_range_names_the_key_written(tmp_path: Path) -> None:
    site_doc = yaml.safe_load((FIXTURES / "tfstate" / "site.yaml").read_text())
    site_doc["clusters"]["prd"]["wireguard"]["endpoint"] = "198.18.0.2:99999"
    site = write_site(tmp_path, site_doc)
    text = refusal(SAMPLE, site)
    assert text == f"{site} at clusters.prd.wireguard.endpoint: '198.18.0.2:99999': port 99999 is not in 1-65535"
    assert "endpoint_port" not in text.removeprefix(str(site))


# --- the CLI: exit 2, one line, nothing rendered, no connection --------------------------------------------------


def cli_site(tmp_path: Path, port: int, **prd: Any) -> Path:
    return write_site(
        tmp_path,
        {
            "defaults": {
                "router": {
                    "management_address": "127.0.0.1",
                    "node_address": "192.168.100.1/24",
                    "credentials": {"username": "vyos", "port": port},
                }
            },
            "clusters": {"prd": prd},
        },
    )


@pytest.mark.parametrize(
    ("command", "prd", "path"),
    [
        (["plan"], {"metallb": {"pools": [{"name": "web", "addresses": ["192.168.100.0/28"]}]}}, "metallb.pools[0]"),
        (["render", "--vyos", "1.4"], {"lb": {"vip": "10.0.0.1"}}, "clusters.prd.lb.vip"),
        (["plan"], {"address_outputs": {"nodes:1": "x"}}, "clusters.prd.address_outputs.nodes:1"),
        (["deploy"], {"lb": {"vip": "10.0.0.1"}}, "clusters.prd.lb.vip"),
    ],
)
def test_cli_refuses_with_exit_2_and_one_line(
    tmp_path: Path,
    router_port: Listener,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
    command: list[str],
    prd: dict[str, Any],
    path: str,
) -> None:
    site = cli_site(tmp_path, router_port.port, **prd)
    code = main([*command, "--state", str(SAMPLE), "--site", str(site)])
    captured = capsys.readouterr()
    assert code == 2
    lines = captured.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {site} at ") and path in lines[0]
    assert captured.out == ""  # nothing rendered, no plan
    assert router_port.accepted == 0


def test_cli_duplicate_key_exit_2(tmp_path: Path, router_port: Listener, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    site = tmp_path / "site.yaml"
    site.write_text(
        "defaults:\n"
        f"  router: {{management_address: 127.0.0.1, credentials: {{username: vyos, port: {router_port.port}}}}}\n"
        "  router: {node_address: 192.168.100.1/24}\n"
    )
    code = main(["render", "--vyos", "1.4", "--state", str(SAMPLE), "--site", str(site)])
    captured = capsys.readouterr()
    assert code == 2 and captured.out == ""
    assert captured.err.splitlines() == [
        f"error: {site} at defaults.router: key 'router' appears twice in one mapping (line 3, first on line 2): "
        "YAML would keep only the second one"
    ]
    assert router_port.accepted == 0
