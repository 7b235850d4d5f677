"""`edge deploy` from a fresh 3-cluster lab (`lab up --metallb none`: MetalLB installed without configuration, as a
new cluster; BFD on in the site file): MetalLB, router, LBs, venue stanza and verify per cluster in rollout order,
green at the first try; a second run changes nothing and `edge plan` exits 0; a speaker down in dev (the canary)
stops the rollout before wsp and prd with the reason in one line. One lab for the module (three clusters are heavy
on two cores)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.lab.helpers import own_lab, site_with_defaults
from tests.lab.labrun import LabRun

pytestmark = pytest.mark.lab

CLUSTERS = ["dev", "wsp", "prd"]  # the lab site's rollout order


@pytest.fixture(scope="module")
def lab() -> Iterator[LabRun]:
    with own_lab("ektedd", "--clusters", "prd,dev,wsp", "--metallb", "none") as run:
        yield run


@pytest.fixture(scope="module")
def site(lab: LabRun) -> Path:
    return site_with_defaults(lab, "site-bfd.yaml", bfd={"enabled": True})


def edge(lab: LabRun, command: str, site: Path, *args: str) -> tuple[int, dict[str, Any], str]:
    """``python -m tasks.edge COMMAND`` in the operator namespace with ``--json``: (exit, report, output)."""
    report = lab.state_dir / f"edge-{command}.json"
    report.unlink(missing_ok=True)
    venue = ("--venue-dir", str(lab.state_dir / "venue")) if command in ("deploy", "plan") else ()
    proc = lab.edgekit(
        command, "--site", str(site), *venue, *args, "--json", str(report), module="tasks.edge", timeout=420
    )
    data = json.loads(report.read_text()) if report.exists() else {}
    return proc.returncode, data, proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def first(lab: LabRun, site: Path) -> tuple[int, dict[str, Any], str]:
    return edge(lab, "deploy", site, "--junit", str(lab.state_dir / "edge-deploy.xml"))


def verify_checks(cluster: dict[str, Any]) -> list[dict[str, Any]]:
    step = next(s for s in cluster["steps"] if s["layer"] == "verify")
    return [c for h in step["report"]["hosts"] for c in h["checks"]]


def test_fresh_lab_edge_deploy_then_verify_green_first_try(
    lab: LabRun, site: Path, first: tuple[int, dict[str, Any], str]
) -> None:
    code, report, output = first
    assert code == 0, output
    assert [c["cluster"] for c in report["clusters"]] == CLUSTERS
    for cluster in report["clusters"]:
        assert cluster["status"] == "changed", cluster
        assert [s["layer"] for s in cluster["steps"]] == ["metallb", "router", "lb", "verify"], cluster["steps"]
        assert all(s["exit"] == 0 for s in cluster["steps"]), cluster["steps"]
        checks = verify_checks(cluster)
        assert checks and all(c["status"] == "pass" for c in checks), checks
        assert any(c["check"] == "bfd.peers" for c in checks), checks  # BFD on, both ends
        assert cluster["venue"]["needed"] and cluster["venue"]["changes"] == ["new stanza (no previous file)"]
        stanza = (lab.state_dir / "venue" / f"{cluster['cluster']}.conf").read_text()
        assert stanza.splitlines()[1] == "[Peer]" and "PublicKey = " in stanza, stanza
    # the layers ran cluster after cluster: dev's verify ended before wsp's MetalLB started
    assert (
        output.index("==> dev: edge verify")
        < output.index("==> wsp: metallb deploy")
        < output.index("==> prd: metallb")
    )
    # the venue takes the stanzas, then the whole edge verifies green
    for name in CLUSTERS:
        lab.lab("venue", name, "--config", str(lab.state_dir / "venue" / f"{name}.conf"))
    code, verify, output = edge(lab, "verify", site)
    assert code == 0, output
    assert {h["cluster"] for h in verify["hosts"]} == set(CLUSTERS)


def test_second_deploy_changes_nothing_and_plan_exits_0(
    lab: LabRun, site: Path, first: tuple[int, dict[str, Any], str]
) -> None:
    assert first[0] == 0, first[2]
    code, report, output = edge(lab, "deploy", site)
    assert code == 0, output
    assert [c["status"] for c in report["clusters"]] == ["unchanged"] * 3, report["clusters"]
    changed = [h for h in report["hosts"] if h["status"] != "unchanged" or h["commands"]]
    assert not changed, changed
    assert not any(v["needed"] for v in report["venues"]), report["venues"]
    code, plan, output = edge(lab, "plan", site)
    assert code == 0, output
    assert plan["hosts"] and all(h["status"] == "unchanged" for h in plan["hosts"]), plan["hosts"]
    assert set(plan["layers"]) == {"metallb", "router", "lb"}


def test_speaker_down_in_dev_stops_the_rollout_before_wsp_and_prd(
    lab: LabRun, site: Path, first: tuple[int, dict[str, Any], str]
) -> None:
    assert first[0] == 0, first[2]
    lab.lab("fault", "dev-node2", "speaker-down")
    try:
        code, report, output = edge(lab, "deploy", site)
    finally:
        lab.lab("heal", "dev-node2")
    assert code == 1, output
    dev, wsp, prd = report["clusters"]
    assert dev["status"] == "failed", dev
    reason = dev["error"]
    assert "\n" not in reason and "k8s-node-2-server-dev" in reason, reason
    for later in (wsp, prd):
        assert later["status"] == "skipped" and later["steps"] == [], later
        assert later["notes"] == [f"not started: cluster dev failed: {reason}"], later
    assert "==> wsp:" not in output and "==> prd:" not in output, output
