"""`verify --metrics FILE` end to end (fake router driver and Kubernetes view of test_verify_cli): the
textfile says what the --json report says, with the numbers behind a speaker-down verdict."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from tasks.router import main
from tests.unit.router.test_verify_cli import (  # noqa: F401  (env is a fixture)
    OUTSIDE_SCOPE,
    ROUTER,
    FakeRouter,
    env,
    intended,
    router_outputs,
    world,
)


def samples(path: Path) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    out: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(path.read_text()):
        for s in family.samples:
            out.setdefault(s.name, {})[tuple(sorted(s.labels.items()))] = s.value
    return out


def test_metrics_file_matches_the_json_report_with_speaker_down(env: dict[str, Any]) -> None:  # noqa: F811
    env["world"] = world(down=(1,))
    env["router"] = FakeRouter(router_outputs(intended(env) + OUTSIDE_SCOPE, down=(1,)))
    tmp: Path = env["tmp"]
    code = main(["verify", *env["args"], "--json", str(tmp / "r.json"), "--metrics", str(tmp / "edge.prom")])
    assert code == 1
    report = json.loads((tmp / "r.json").read_text())
    got = samples(tmp / "edge.prom")

    want = {
        (("check", c["check"]), ("cluster", c["cluster"]), ("host", c["host"]), ("subject", c["subject"] or "")): (
            1.0 if c["status"] == "pass" else 0.0
        )
        for h in report["hosts"]
        for c in h["checks"]
    }
    assert got["edgekit_check_ok"] == want
    router = (("cluster", "prd"), ("host", ROUTER))
    assert got["edgekit_bgp_sessions_expected"] == {router: 3.0}
    assert got["edgekit_bgp_sessions_established"] == {router: 2.0}
    assert got["edgekit_bfd_sessions_expected"] == {router: 3.0}
    assert got["edgekit_bfd_sessions_up"] == {router: 2.0}
    web = (("cluster", "prd"), ("host", ROUTER), ("ip", "198.51.100.1"), ("service", "default/web"))
    assert got["edgekit_ecmp_nexthops"][web] == 2.0
    assert got["edgekit_ecmp_nexthops_expected"][web] == 3.0
    assert got["edgekit_wireguard_handshake_age_seconds"] == {(*router, ("interface", "wg0")): 40.0}
    assert got["edgekit_checks"][(("status", "fail"),)] == 4.0  # bgp.peers, bfd.peers, two ecmp.routes
    assert got["edgekit_last_run_timestamp_seconds"][()] == report["finished"]
