"""`lab up --confirm-action`: which 1.4 routers know `system config-management commit-confirm action` (T5976).

Pure (no namespaces): the option, its storage in lab.json, the plan and what `up` would refuse.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from lab.__main__ import LabError, build_parser, resolve_options
from lab.topology.plan import Options, Plan

pytestmark = pytest.mark.lab


def options(tmp_path: Path, *argv: str) -> Options:
    args = build_parser().parse_args(["up", "--prefix", "ektca", "--state-dir", str(tmp_path), *argv])
    return resolve_options(args)


def test_default_is_a_14_router_with_the_node(tmp_path: Path) -> None:
    c = Plan(options(tmp_path, "--clusters", "prd,dev", "--vyos", "dev=1.3")).clusters
    assert c["prd"].confirm_action is True
    assert c["dev"].confirm_action is False  # 1.3 never has it


def test_per_cluster_and_stored_like_the_other_options(tmp_path: Path) -> None:
    opts = options(tmp_path, "--clusters", "prd,dev", "--confirm-action", "dev=no")
    plan = Plan(opts)
    assert plan.clusters["prd"].confirm_action is True and plan.clusters["dev"].confirm_action is False
    again = Options.from_json(opts.to_json())
    assert Plan(again).clusters["dev"].confirm_action is False
    with pytest.raises(ValueError, match="--confirm-action for prd: yes or no"):
        Options(prefix="ektca", state_dir=tmp_path, confirm_action={"prd": "maybe"}).validate()


def test_changing_it_on_a_running_cluster_asks_for_down(tmp_path: Path) -> None:
    import json

    opts = options(tmp_path, "--confirm-action", "no")
    (tmp_path / "lab.json").write_text(json.dumps(opts.to_json()))
    assert options(tmp_path).confirm_action == {"prd": "no"}  # kept when not given
    with pytest.raises(LabError, match="--confirm-action"):
        options(tmp_path, "--confirm-action", "yes")
