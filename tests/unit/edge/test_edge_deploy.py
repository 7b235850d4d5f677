"""`edge deploy`'s rollout with fake layers (no device, no lab): the order of layers and clusters, a failure
stopping the clusters after it in one line, Ctrl-C, the exit codes of `edge plan`, the report and JUnit."""

from __future__ import annotations

import argparse
import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from tasks.core.report import HostReport
from tasks.core.rollout import StopFlag
from tasks.edge import deploy as edge
from tasks.edge.venue_files import VenueChange


def host(name: str, cluster: str, status: str = "changed", **extra: Any) -> dict[str, Any]:
    return {
        "host": name,
        "cluster": cluster,
        "status": status,
        "commands": ["set x"] if status == "changed" else [],
        **extra,
    }


def check(name: str, cluster: str, status: str = "pass", reason: str = "ok") -> dict[str, Any]:
    return {"check": name, "host": f"{cluster}-router", "cluster": cluster, "status": status, "reason": reason}


class FakeLayers:
    """Every layer's command, answered from ``answers`` (cluster, layer) -> LayerRun; calls recorded in order."""

    def __init__(self, answers: dict[tuple[str, str], edge.LayerRun] | None = None) -> None:
        self.answers = answers or {}
        self.calls: list[tuple[str, str, list[str]]] = []

    def __call__(self, layer: str, argv: list[str]) -> edge.LayerRun:
        cluster = argv[argv.index("--cluster") + 1]
        self.calls.append((cluster, layer, argv))
        found = self.answers.get((cluster, layer))
        if found is not None:
            return found
        if layer == "verify":
            return edge.LayerRun(0, {"hosts": [{"host": f"{cluster}-router", "checks": [check("bgp.peers", cluster)]}]})
        return edge.LayerRun(0, {"hosts": [host(f"{cluster}-{layer}", cluster)]}, seconds=1.0)

    def order(self) -> list[tuple[str, str]]:
        return [(c, layer) for c, layer, _ in self.calls]


def clusters(*names: str, layers: tuple[str, ...] = edge.LAYERS) -> list[edge.ClusterRun]:
    return [
        edge.ClusterRun(n, layers, HostReport(host="edge", cluster=n, role="cluster", status="planned")) for n in names
    ]


def args(tmp_path: Path, **extra: Any) -> argparse.Namespace:
    return argparse.Namespace(json=str(tmp_path / "report.json"), junit=str(tmp_path / "report.xml"), **extra)


def no_venue(name: str) -> VenueChange | None:
    return None


def test_layers_in_order_per_cluster_in_rollout_order(tmp_path: Path) -> None:
    fake = FakeLayers()
    runs = clusters("dev", "wsp", "prd")
    code = edge.deploy(runs, args(tmp_path), fake, ["--site", "s.yaml"], no_venue)
    assert code == 0
    assert fake.order() == [
        (c, layer) for c in ("dev", "wsp", "prd") for layer in ("metallb", "router", "lb", "verify")
    ]
    # each layer's own command, one cluster, the inventory options and the layer's own options passed on
    _, _, argv = fake.calls[1]
    assert argv[:3] == ["deploy", "--cluster", "dev"] and "--site" in argv
    assert [c.row.status for c in runs] == ["changed"] * 3
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["command"] == "edge deploy" and report["ok"] is True
    assert [c["cluster"] for c in report["clusters"]] == ["dev", "wsp", "prd"]
    assert [s["layer"] for s in report["clusters"][0]["steps"]] == ["metallb", "router", "lb", "verify"]
    # the deploy layers' hosts are rows of the one report, after their cluster's row
    assert [h["host"] for h in report["hosts"][:4]] == ["edge", "dev-metallb", "dev-router", "dev-lb"]


def test_layer_options_reach_only_their_layer(tmp_path: Path) -> None:
    fake = FakeLayers()
    extra = {"router": ["--save-first"], "metallb": ["--force-conflicts"]}
    edge.deploy(clusters("dev"), args(tmp_path), fake, [], no_venue, extra=extra)
    by_layer = {layer: argv for _, layer, argv in fake.calls}
    assert "--save-first" in by_layer["router"] and "--save-first" not in by_layer["verify"]
    assert "--force-conflicts" in by_layer["metallb"] and "--force-conflicts" not in by_layer["lb"]


def test_a_failed_router_gate_stops_the_rollout_with_the_reason_in_one_line(tmp_path: Path) -> None:
    gate = "gate failed: bgp.peers: k8s-node-2 (203.0.113.28): Active\nsecond line"
    fake = FakeLayers(
        {("dev", "router"): edge.LayerRun(1, {"hosts": [host("dev-router", "dev", "reverted", error=gate)]})}
    )
    runs = clusters("dev", "wsp", "prd")
    code = edge.deploy(runs, args(tmp_path), fake, [], no_venue)
    assert code == 1
    assert fake.order() == [("dev", "metallb"), ("dev", "router")]  # no LB, no verify, no other cluster
    dev, wsp, prd = runs
    assert dev.row.status == "failed"
    assert (
        dev.row.error == "router deploy: dev-router reverted: gate failed: bgp.peers: k8s-node-2 (203.0.113.28): Active"
    )
    for later in (wsp, prd):
        assert later.row.status == "skipped"
        assert later.row.notes == [f"not started: cluster dev failed: {dev.row.error}"]
        assert "\n" not in later.row.notes[0]
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["ok"] is False
    junit = ET.parse(tmp_path / "report.xml").getroot()
    cases = {(c.get("classname"), c.get("name")): c for c in junit.iter("testcase")}
    assert cases[("dev.edge", "edge.router edge")].find("failure") is not None
    assert cases[("prd.edge", "edge.metallb edge")].find("error") is not None


def test_a_failed_verify_stops_the_rollout(tmp_path: Path) -> None:
    bad = check("bgp.peers", "dev", "fail", "k8s-node-2-server-dev (203.0.113.28): speaker pod not Ready")
    fake = FakeLayers({("dev", "verify"): edge.LayerRun(1, {"hosts": [{"host": "r", "checks": [bad, bad]}]})})
    runs = clusters("dev", "prd")
    assert edge.deploy(runs, args(tmp_path), fake, [], no_venue) == 1
    assert runs[0].row.error == (
        "edge verify: bgp.peers fail on dev-router: "
        "k8s-node-2-server-dev (203.0.113.28): speaker pod not Ready (+1 more)"
    )
    assert runs[1].row.status == "skipped" and ("prd", "metallb") not in fake.order()


def test_all_at_once_goes_on_after_a_failed_cluster(tmp_path: Path) -> None:
    fake = FakeLayers(
        {("dev", "metallb"): edge.LayerRun(1, {"hosts": [host("metallb", "dev", "failed", error="conflict: x")]})}
    )
    runs = clusters("dev", "prd")
    assert edge.deploy(runs, args(tmp_path, all_at_once=True), fake, [], no_venue) == 1
    assert ("prd", "verify") in fake.order()
    assert runs[0].row.error == "metallb deploy: metallb failed: conflict: x"
    assert runs[1].row.status == "changed"


def test_an_input_error_of_a_layer_is_exit_2(tmp_path: Path) -> None:
    fake = FakeLayers({("dev", "router"): edge.LayerRun(2, error="clusters.dev.wireguard: missing")})
    runs = clusters("dev", "prd")
    assert edge.deploy(runs, args(tmp_path), fake, [], no_venue) == 2
    assert runs[0].row.error == "router deploy: clusters.dev.wireguard: missing"


def test_an_unchanged_second_run_reports_unchanged(tmp_path: Path) -> None:
    same = {
        (c, layer): edge.LayerRun(0, {"hosts": [host(f"{c}-{layer}", c, "unchanged")]})
        for c in ("dev", "prd")
        for layer in edge.LAYERS
    }
    runs = clusters("dev", "prd")
    assert edge.deploy(runs, args(tmp_path), FakeLayers(same), [], no_venue) == 0
    assert [c.row.status for c in runs] == ["unchanged", "unchanged"]
    assert all(not c.row.commands for c in runs)


def test_ctrl_c_during_a_layer_finishes_it_and_starts_nothing_new(tmp_path: Path) -> None:
    stop = StopFlag()

    class Interrupting(FakeLayers):
        def __call__(self, layer: str, argv: list[str]) -> edge.LayerRun:
            result = super().__call__(layer, argv)
            if layer == "router":
                stop.set()  # what the first Ctrl-C does while the router's deploy runs
            return result

    fake = Interrupting()
    runs = clusters("dev", "prd")
    edge.roll_out_clusters(runs, fake, [], no_venue, stop)
    assert fake.order() == [("dev", "metallb"), ("dev", "router")]
    assert runs[0].row.status == "skipped" and runs[0].row.notes == ["interrupted before lb deploy"]
    assert runs[1].row.status == "skipped"
    assert edge.exit_code(runs, stop) == 130


def test_a_router_deploy_interrupted_inside_stops_the_rollout(tmp_path: Path) -> None:
    fake = FakeLayers(
        {("dev", "router"): edge.LayerRun(130, {"hosts": [host("dev-router", "dev", "reverted", error="x")]})}
    )
    runs = clusters("dev", "prd")
    stop = StopFlag()
    edge.roll_out_clusters(runs, fake, [], no_venue, stop)
    assert stop and ("prd", "metallb") not in fake.order()
    assert edge.exit_code(runs, stop) == 130


def test_venue_change_is_in_the_cluster_row_and_the_report(tmp_path: Path) -> None:
    change = VenueChange("dev", "venue/dev.conf", True, ["Endpoint 203.0.113.4:51820 -> 203.0.113.5:51820"])
    runs = clusters("dev")
    edge.deploy(runs, args(tmp_path), FakeLayers(), [], lambda name: change)
    assert "venue needs venue/dev.conf: Endpoint 203.0.113.4:51820 -> 203.0.113.5:51820" in runs[0].row.notes
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["venues"] == [change.to_json()]


def test_red_wireguard_while_the_venue_needs_the_new_stanza_does_not_fail_the_cluster(tmp_path: Path) -> None:
    wg = check("wireguard.handshake", "dev", "fail", "no handshake")
    fake = FakeLayers(
        {(c, "verify"): edge.LayerRun(1, {"hosts": [{"host": "r", "checks": [wg]}]}) for c in ("dev", "prd")}
    )
    needed = VenueChange("dev", "venue/dev.conf", True, ["PublicKey changed (the router's key)"])
    runs = clusters("dev")
    assert edge.deploy(runs, args(tmp_path), fake, [], lambda name: needed) == 0
    assert any("red until the venue applies" in n for n in runs[0].row.notes)
    # the same red check with a venue that has the stanza already is a failure
    unchanged = VenueChange("prd", "venue/prd.conf", False)
    runs = clusters("prd")
    assert edge.deploy(runs, args(tmp_path), fake, [], lambda name: unchanged) == 1


def test_a_cluster_without_lbs_runs_without_the_lb_layer(tmp_path: Path) -> None:
    fake = FakeLayers()
    edge.deploy(clusters("dev", layers=("metallb", "router")), args(tmp_path), fake, [], no_venue)
    assert fake.order() == [("dev", "metallb"), ("dev", "router"), ("dev", "verify")]


@pytest.mark.parametrize(
    ("codes", "venue_needed", "expected"),
    [
        ({"metallb": 0, "router": 0, "lb": 0}, False, 0),
        ({"metallb": 0, "router": 10, "lb": 0}, False, 10),
        ({"metallb": 0, "router": 0, "lb": 0}, True, 10),
        ({"metallb": 10, "router": 1, "lb": 0}, False, 1),
        ({"metallb": 10, "router": 2, "lb": 1}, False, 2),
        ({"metallb": 3, "router": 10, "lb": 0}, False, 3),
    ],
)
def test_plan_exit_codes(codes: dict[str, int], venue_needed: bool, expected: int) -> None:
    runs = {layer: edge.LayerRun(code) for layer, code in codes.items()}
    venues = [VenueChange("dev", "venue/dev.conf", venue_needed)]
    assert edge.plan_code(runs, venues) == expected


def test_a_layer_runs_through_its_own_command_and_its_input_error_is_one_line(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.yaml"
    run = edge.run_command("metallb", ["plan", "--site", str(missing), "--state", str(tmp_path / "none.tfstate")])
    assert run.code == 2 and run.error is not None and "\n" not in run.error and run.report == {}


def test_edgekit_dispatches_edge_deploy_and_plan() -> None:
    from tasks.router import GROUPS, build_parser

    parser = build_parser(groups=GROUPS)
    deploy = parser.parse_args(["edge", "deploy", "--venue-dir", "v", "--all-at-once"])
    plan = parser.parse_args(["edge", "plan"])
    assert deploy.venue_dir == "v" and deploy.all_at_once and deploy.confirm_timeout == 300
    assert plan.venue_dir == "venue"
    assert callable(deploy.handler) and callable(plan.handler)


def test_a_real_ctrl_c_lets_the_running_layer_finish_and_starts_nothing_new(tmp_path: Path) -> None:
    import os
    import signal

    class CtrlC(FakeLayers):
        def __call__(self, layer: str, argv: list[str]) -> edge.LayerRun:
            if layer == "metallb":
                os.kill(os.getpid(), signal.SIGINT)  # the operator's Ctrl-C while MetalLB's deploy runs
            return super().__call__(layer, argv)

    fake = CtrlC()
    runs = clusters("dev", "prd")
    before = signal.getsignal(signal.SIGINT)
    code = edge.deploy(runs, args(tmp_path), fake, [], no_venue)
    assert code == 130
    assert fake.order() == [("dev", "metallb")]  # it finished (its result is in the report); nothing after it
    assert runs[0].row.notes == ["interrupted before router deploy"]
    report = json.loads((tmp_path / "report.json").read_text())
    assert [s["layer"] for s in report["clusters"][0]["steps"]] == ["metallb"]
    assert signal.getsignal(signal.SIGINT) is before  # edge's handler is gone afterwards


def test_a_refused_cluster_fails_alone_untouched_and_the_others_go_on(tmp_path: Path) -> None:
    fake = FakeLayers()
    runs = clusters("dev", "wsp", "prd")
    runs[0].row.status, runs[0].row.error = "failed", "input: dev: speaker 10.9.9.9 outside every subnet"
    assert edge.deploy(runs, args(tmp_path), fake, [], no_venue) == 2
    assert not [c for c, _ in fake.order() if c == "dev"]
    assert [c.row.status for c in runs[1:]] == ["changed", "changed"]


def test_the_cluster_that_stopped_the_rollout_is_named_not_an_earlier_refused_one(tmp_path: Path) -> None:
    gate = "gate failed: bgp.peers: k8s-node-2 (203.0.113.44): Active"
    fake = FakeLayers(
        {("wsp", "router"): edge.LayerRun(1, {"hosts": [host("wsp-router", "wsp", "reverted", error=gate)]})}
    )
    runs = clusters("dev", "wsp", "prd")
    runs[0].row.status, runs[0].row.error = "failed", "input: dev refused"
    edge.deploy(runs, args(tmp_path), fake, [], no_venue)
    dev, wsp, prd = runs
    assert wsp.row.status == "failed" and prd.row.status == "skipped"
    assert prd.row.notes == [f"not started: cluster wsp failed: {wsp.row.error}"]


def test_a_session_error_while_rendering_the_venue_stanza_fails_the_cluster_with_a_report(tmp_path: Path) -> None:
    def venue(name: str) -> VenueChange | None:
        raise ConnectionError("Socket is closed")

    runs = clusters("dev", "wsp", "prd")
    assert edge.deploy(runs, args(tmp_path), FakeLayers(), [], venue) == 1
    assert runs[0].row.status == "failed" and runs[0].row.error == "venue stanza: Socket is closed"
    assert json.loads((tmp_path / "report.json").read_text())["ok"] is False
