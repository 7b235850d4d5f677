"""Deploy benchmark: the 3-cluster lab, edgekit's cold deploy and no-op redeploy against a floor and netmiko.

    python -m bench.bench_deploy [--runs 3] [--netmiko-runs 1] [--json FILE]

A lab of its own (prefix ektbn, prd/dev/wsp, 3 nodes each, VyOS 1.4), always taken down at the end.
Everything that talks to a router runs in the lab's operator namespace (``lab exec``):

- edgekit: ``python -m tasks.router deploy --json`` (cold: the routers' boot config; then again: no-op;
  then cold again with ``--all-at-once``, the clusters in parallel instead of the dev -> wsp -> prd rollout).
  Wall time is measured around the edgekit process inside the namespace; the per-router split comes
  from the report (``hosts[].timings``: connect, read, commit, gate, confirm = confirm + save).
- floor: a raw paramiko interactive shell per router that logs in, sends ``configure``, the same
  set/delete lines edgekit sends, ``commit``, ``save``, ``exit``, reading only up to each prompt.
- netmiko: ``ConnectHandler(device_type="vyos")`` with default settings, ``send_config_set(lines)``,
  ``commit()``, ``save_config()``, ``exit_config_mode()``, ``disconnect()``, one router after the other.

Between runs every router is reset to its boot config (the inverse change, committed and saved, by
``bench._session reset``), so each run starts from the same state. The lines are computed once by
``bench._session plan`` exactly as edgekit computes them and checked against edgekit's report.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import BenchLab, median, print_table, write_json

PY = sys.executable
STEPS = ("connect", "read", "commit", "gate", "confirm")


def session(lab: BenchLab, *args: str, timeout: float = 900) -> None:
    proc = lab.exec(PY, "-m", "bench._session", *args, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"bench._session {args[0]} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}")


def edgekit(lab: BenchLab, tag: str, *extra: str) -> dict[str, Any]:
    """One ``tasks.router deploy`` in the operator namespace: wall, peak RSS and the JSON report."""
    timing = lab.state_dir / f"time-{tag}.json"
    report = lab.state_dir / f"report-{tag}.json"
    proc = lab.exec(
        PY, "-m", "bench._session", "time", str(timing), "--",
        PY, "-m", "tasks.router", "deploy", "--json", str(report), *extra,
    )  # fmt: skip
    data = json.loads(report.read_text()) if report.exists() else {}
    if proc.returncode != 0 or not data.get("ok"):
        raise RuntimeError(
            f"edgekit deploy ({tag}) exited {proc.returncode}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        )
    return {**json.loads(timing.read_text()), "report": data}


def check_lines(plan: dict[str, Any], report: dict[str, Any]) -> None:
    """The lines the floor and netmiko send are edgekit's (secrets are masked in the report)."""
    sent = {h["host"]: h["commands"] for h in report["hosts"]}
    for r in plan["routers"]:
        ours, theirs = r["lines"], sent[r["name"]]
        same = len(ours) == len(theirs) and all(a == b or "********" in b for a, b in zip(ours, theirs, strict=True))
        if not same:
            raise RuntimeError(f"{r['name']}: the planned lines differ from edgekit's report")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=3, help="cold deploys / floor runs (default 3)")
    ap.add_argument("--netmiko-runs", type=int, default=1, help="netmiko script runs (about 30 s per router)")
    ap.add_argument("--clusters", default="prd,dev,wsp")
    ap.add_argument("--json", metavar="FILE")
    args = ap.parse_args(argv)

    lab = BenchLab.create()
    cold: list[dict[str, Any]] = []
    noop: list[dict[str, Any]] = []
    parallel: list[dict[str, Any]] = []
    floor: list[dict[str, Any]] = []
    netmiko: list[dict[str, Any]] = []
    try:
        up_s = lab.up_timed("--clusters", args.clusters)
        print(f"lab up ({args.clusters}) in {up_s:.1f} s, state {lab.state_dir}")
        plan_file = lab.state_dir / "bench-plan.json"
        session(lab, "plan", str(plan_file))
        plan = json.loads(plan_file.read_text())
        for i in range(args.runs):
            if i:
                session(lab, "reset", str(plan_file))
            cold.append(edgekit(lab, f"cold{i}"))
            check_lines(plan, cold[-1]["report"])
            noop.append(edgekit(lab, f"noop{i}"))
            session(lab, "reset", str(plan_file))
            parallel.append(edgekit(lab, f"all{i}", "--all-at-once"))
            print(
                f"edgekit run {i + 1}: cold {cold[-1]['wall']:.2f} s, no-op {noop[-1]['wall']:.2f} s, "
                f"cold --all-at-once {parallel[-1]['wall']:.2f} s"
            )
        for i in range(args.runs):
            session(lab, "reset", str(plan_file))
            out = lab.state_dir / f"floor{i}.json"
            session(lab, "floor", str(plan_file), str(out))
            floor.append(json.loads(out.read_text()))
            print(f"floor run {i + 1}: {floor[-1]['wall']:.2f} s")
        for i in range(args.netmiko_runs):
            session(lab, "reset", str(plan_file))
            out = lab.state_dir / f"netmiko{i}.json"
            session(lab, "netmiko", str(plan_file), str(out), timeout=1800)
            netmiko.append(json.loads(out.read_text()))
            print(f"netmiko run {i + 1}: {netmiko[-1]['wall']:.1f} s")
    finally:
        lab.down()

    routers = [r["name"] for r in plan["routers"]]
    lines = {r["name"]: len(r["lines"]) for r in plan["routers"]}

    def host_step(runs: list[dict[str, Any]], name: str, step: str) -> float:
        return median(
            [next(h for h in r["report"]["hosts"] if h["host"] == name)["timings"].get(step, 0.0) for r in runs]
        )

    def sess(runs: list[dict[str, Any]], name: str, key: str) -> float:
        return median([next(h for h in r["routers"] if h["name"] == name)[key] for r in runs]) if runs else float("nan")

    def wall_row(label: str, runs: list[dict[str, Any]]) -> list[Any]:
        walls = [r["wall"] for r in runs]
        spread = f"{min(walls):.2f}-{max(walls):.2f}" if walls else "-"
        return [label, median(walls), spread, len(walls)]

    wall_rows = [
        wall_row("edgekit cold deploy (3 routers, rollout dev -> wsp -> prd, gate included)", cold),
        wall_row("edgekit cold deploy --all-at-once (the 3 clusters in parallel)", parallel),
        wall_row("edgekit no-op redeploy", noop),
        wall_row("floor: raw paramiko shell, routers one after the other", floor),
        wall_row("netmiko default script, routers one after the other", netmiko),
    ]
    print_table("deploy: wall time (s, median)", ["what", "median", "range", "runs"], wall_rows)

    split_rows = []
    ratios: dict[str, dict[str, float]] = {}
    for name in routers:
        steps = {s: host_step(cold, name, s) for s in STEPS}
        ek = steps["connect"] + steps["read"] + steps["commit"] + steps["confirm"]
        fl, nm = sess(floor, name, "total"), sess(netmiko, name, "total")
        ratios[name] = {
            "edgekit_s": ek,
            "floor_s": fl,
            "netmiko_s": nm,
            "edgekit_over_floor": ek / fl,
            "netmiko_over_edgekit": nm / ek,
        }
        row = [name, lines[name], *(steps[s] for s in STEPS), ek, fl, f"{ek / fl:.2f}", nm, f"{nm / ek:.1f}x"]
        split_rows.append(row)
    print_table(
        "deploy: per router, cold (s, median); edgekit = connect+read+commit+confirm (the gate is extra work)",
        ["router", "lines", *STEPS, "edgekit", "floor", "edgekit/floor", "netmiko", "netmiko/edgekit"],
        split_rows,
    )
    noop_rows = [[n, host_step(noop, n, "connect"), host_step(noop, n, "read")] for n in routers]
    print_table("deploy: no-op redeploy per router (s, median)", ["router", "connect", "read"], noop_rows)
    floor_rows = [
        [n, *(sess(floor, n, k) for k in ("connect", "lines", "commit", "save_exit", "total"))] for n in routers
    ]
    print_table(
        "floor per router (s, median)",
        ["router", "connect", "configure+lines", "commit", "save+exit", "total"],
        floor_rows,
    )
    if netmiko:
        keys = ("connect", "send_config_set", "commit", "save_config", "exit_config_mode", "disconnect", "total")
        print_table(
            "netmiko per router (s, median)",
            ["router", *keys],
            [[n, *(sess(netmiko, n, k) for k in keys)] for n in routers],
        )

    for r in cold:
        r["report"] = {"hosts": [{k: h[k] for k in ("host", "status", "timings")} for h in r["report"]["hosts"]]}
    for r in noop + parallel:
        r["report"] = {"hosts": [{k: h[k] for k in ("host", "status", "timings")} for h in r["report"]["hosts"]]}
    write_json(
        args.json,
        {
            "benchmark": "deploy",
            "lines": lines,
            "cold": cold,
            "noop": noop,
            "floor": floor,
            "netmiko": netmiko,
            "ratios": ratios,
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
