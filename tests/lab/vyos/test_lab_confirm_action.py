"""`lab up --vyos 1.5`: which routers know `system config-management commit-confirm action` (T5976).

By vyos-1x's source only 1.5/rolling (`current`) has the node: no 1.4 release tag (1.4.0, 1.4.0-epa1..3) nor the
sagitta branch carries it, so a 1.4 lab router lacks it and there is no option to give it one.
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


def test_default_14_router_lacks_the_node_and_only_15_has_it(tmp_path: Path) -> None:
    c = Plan(options(tmp_path, "--clusters", "prd,dev,wsp", "--vyos", "dev=1.3,wsp=1.5")).clusters
    assert (c["prd"].vyos, c["prd"].confirm_action) == ("1.4", False)  # the default: sagitta has no such node
    assert c["dev"].confirm_action is False  # 1.3 never has it
    assert (c["wsp"].vyos, c["wsp"].confirm_action) == ("1.5", True)


def test_per_cluster_and_stored_like_the_other_options(tmp_path: Path) -> None:
    opts = options(tmp_path, "--clusters", "prd,dev", "--vyos", "dev=1.5")
    again = Options.from_json(opts.to_json())
    assert Plan(again).clusters["dev"].confirm_action is True and Plan(again).clusters["prd"].confirm_action is False
    with pytest.raises(ValueError, match="--vyos for prd: 1.3, 1.4 or 1.5"):
        Options(prefix="ektca", state_dir=tmp_path, vyos={"prd": "1.6"}).validate()
    with pytest.raises(SystemExit):  # the option of a 1.4 with the node is gone: no such release
        build_parser().parse_args(["up", "--confirm-action", "yes"])


def test_an_old_lab_json_with_confirm_action_still_loads(tmp_path: Path) -> None:
    data = options(tmp_path).to_json()
    data["confirm_action"] = {"prd": "yes"}  # written before 1.5 existed
    assert Plan(Options.from_json(data)).clusters["prd"].confirm_action is False


def test_changing_the_version_on_a_running_cluster_asks_for_down(tmp_path: Path) -> None:
    import json

    opts = options(tmp_path, "--vyos", "1.5")
    (tmp_path / "lab.json").write_text(json.dumps(opts.to_json()))
    assert options(tmp_path).vyos == {"prd": "1.5"}  # kept when not given
    with pytest.raises(LabError, match="--vyos"):
        options(tmp_path, "--vyos", "1.4")
