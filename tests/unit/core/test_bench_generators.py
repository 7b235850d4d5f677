"""The benchmarks' generators work (small sizes, no timing)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import bench_inventory, bench_parsing
from bench._common import print_table
from inventory.build import InventorySources, load


def test_generated_states_load_as_an_inventory(tmp_path: Path) -> None:
    paths = bench_inventory.generate(tmp_path, servers=40, workspaces=3)
    assert [p.name for p in paths] == ["prd.tfstate", "dev.tfstate", "wsp.tfstate"]
    result = load(InventorySources(states=[str(p) for p in paths]))
    assert len(result.hosts) == 40
    assert sorted(result.site.clusters) == ["dev", "prd", "wsp"]
    for cluster in result.site.clusters.values():
        assert cluster.router is not None
        assert len(cluster.speakers) == len(cluster.nodes) >= 7
    names = [h.name for h in result.hosts]
    assert len(set(names)) == len(names)


def test_frr_config_has_every_peer_and_route() -> None:
    text = bench_parsing.frr_config(peers=3, routes=5)
    assert text.count(" remote-as 65021") == 3
    assert text.count("ip route 172.20.0.") == 5 * len(bench_parsing.NEXT_HOPS)


def test_table_prints_markdown(capsys: pytest.CaptureFixture[str]) -> None:
    print_table("t", ["a", "b"], [[1, 0.5], ["x", 12.25]])
    out = capsys.readouterr().out
    assert "| a | b     |" in out
    assert "| 1 | 0.500 |" in out
    assert "| x | 12.2  |" in out
