"""Site file loading: YAML errors, unknown keys and merge, each naming the file and the YAML path."""

from __future__ import annotations

from pathlib import Path

import pytest

from inventory.errors import InputError
from inventory.sitefile import load_site_file
from tests.conftest import FIXTURES


def test_full_fixture_merges_defaults() -> None:
    site = load_site_file(FIXTURES / "tfstate" / "site.yaml")
    prd = site.cluster("prd")
    assert prd.router is not None and prd.router.asn == 65020 and str(prd.router.node_address) == "192.168.100.1/24"
    assert prd.router.credentials is not None and prd.router.credentials.username == "vyos"
    assert site.cluster("wsp").address_outputs == {"router:1": "router_private_ip"}


def test_not_yaml(tmp_path: Path) -> None:
    path = tmp_path / "site.yaml"
    path.write_text("clusters: [unclosed\n")
    with pytest.raises(InputError, match=rf"^{path}: not valid YAML \(line 2"):
        load_site_file(path)


def test_unknown_key_names_path(tmp_path: Path) -> None:
    path = tmp_path / "site.yaml"
    path.write_text("clusters:\n  prd:\n    router: {asn: 65020, nodeaddress: 10.0.0.1/24}\n")
    with pytest.raises(InputError) as err:
        load_site_file(path)
    assert str(err.value) == f"{path} at clusters.prd.router.nodeaddress: unknown key"


def test_not_a_mapping_and_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "site.yaml"
    path.write_text("- a\n- b\n")
    with pytest.raises(InputError, match="a site file is a mapping, got list"):
        load_site_file(path)
    with pytest.raises(InputError, match="cannot read site file"):
        load_site_file(tmp_path / "nope.yaml")


def test_duplicate_key_names_file_line_and_path(tmp_path: Path) -> None:
    path = tmp_path / "site.yaml"
    path.write_text(
        "clusters:\n"
        "  prd:\n"
        "    wireguard:\n"
        "      address: 172.16.100.1/30\n"
        "      endpoint: 198.18.0.2:51820\n"
        "      address: 172.16.100.5/30\n"
    )
    with pytest.raises(InputError) as err:
        load_site_file(path)
    assert str(err.value) == (
        f"{path} at clusters.prd.wireguard.address: key 'address' appears twice in one mapping "
        "(line 6, first on line 4): YAML would keep only the second one"
    )


def test_duplicate_key_inside_a_list_names_the_index(tmp_path: Path) -> None:
    path = tmp_path / "site.yaml"
    path.write_text("role_rules:\n  - {role: node, name: '^n-'}\n  - {role: lb, name: '^l-', role: node}\n")
    with pytest.raises(
        InputError,
        match=r"at role_rules\[1\]\.role: key 'role' appears twice in one mapping \(line 3, first on line 3\)",
    ):
        load_site_file(path)


def test_anchors_and_merge_keys_still_work(tmp_path: Path) -> None:
    """A merge key (<<) overriding a key is YAML's own override, not a duplicate; aliases load once."""
    path = tmp_path / "site.yaml"
    path.write_text(
        "defaults:\n"
        "  router: &r {asn: 65020, description: base}\n"
        "clusters:\n"
        "  prd:\n"
        "    router: {<<: *r, description: prd-nodes}\n"
        "  dev:\n"
        "    router: *r\n"
    )
    site = load_site_file(path)
    prd = site.cluster("prd").router
    assert prd is not None and prd.description == "prd-nodes" and prd.asn == 65020
    dev = site.cluster("dev").router
    assert dev is not None and dev.description == "base"
