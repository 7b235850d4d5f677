"""apply_router with a fake device: a refused change reports the router's error with secrets masked."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from napalm.base.exceptions import MergeConfigException

from checks.config_diff import ConfigChange
from tasks import deploy
from tasks.dialect import DIALECTS
from tasks.render import RenderedConfig
from tasks.report import HostReport
from tests.unit.router_fixtures import cluster


class RefusingDriver:
    """Answers a merge the way VyOS answers a bad line: quoting it, secret value and all."""

    def load_merge_candidate(self, config: list[str]) -> None:
        raise MergeConfigException(f"{config[0]!r} failed: Configuration path is not valid; Set failed")

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"nothing after a refused merge may touch the router ({name})")


def test_refused_change_is_reported_with_the_secret_masked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(deploy, "router_driver", lambda task: RefusingDriver())
    line = "set protocols bgp neighbor 203.0.113.11 password 'hunter2'"
    plan = deploy.RouterPlan(
        dialect=DIALECTS["1.4"],
        running=[],
        rendered=RenderedConfig([line], ["hunter2"]),
        change=ConfigChange(sets=[line]),
    )
    report = HostReport(host="r1", cluster="prd")
    task = SimpleNamespace(host=SimpleNamespace(name="r1"))
    with pytest.raises(deploy.ApplyError) as caught:
        deploy.apply_router(task, cluster(wireguard=False), plan, report, deploy.DeployOptions())  # type: ignore[arg-type]
    assert "hunter2" not in str(caught.value)
    assert "********" in str(caught.value) and "Set failed" in str(caught.value)
