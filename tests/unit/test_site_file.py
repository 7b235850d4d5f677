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
