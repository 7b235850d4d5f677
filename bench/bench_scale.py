"""Scale benchmark: labs of 1, 10 and 30 routers with 8 speakers each; deploy and verify wall time, memory.

    python -m bench.bench_scale [--sizes 1,10,30] [--nodes 8] [--json FILE]

Each size is a lab of its own (prefix ektbn) of generated clusters c01..cNN (lab/topology/plan.py:
100.64.NN.0/24 each), ``--nodes 8`` (8 FRR speakers per router), taken down before the next size and
at the end, also on failure. In the operator namespace, timed around the edgekit process:

- ``tasks.router inventory --format json``: loading tfstate (S3), the site file and Kubernetes (every
  cluster's API stand-in) — the fixed cost of every command;
- ``tasks.router deploy --all-at-once --workers N``: cold deploy of every router in parallel
  (without ``--all-at-once`` the rollout takes one cluster after the other, by design);
- ``tasks.router deploy`` again (no-op) and ``tasks.router verify --workers N``.

Memory: the peak RSS of each edgekit process (getrusage) and the lab's own PSS/RSS (``lab status``),
plus the drop of MemAvailable while the lab is up.
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


def mem_available_mb() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def timed(lab: BenchLab, tag: str, *argv: str, report: bool = True) -> dict[str, Any]:
    """An edgekit command in the operator namespace: wall, peak RSS, exit code, JSON report."""
    timing = lab.state_dir / f"time-{tag}.json"
    out = lab.state_dir / f"report-{tag}.json"
    extra = ("--json", str(out)) if report else ()
    proc = lab.exec(PY, "-m", "bench._session", "time", str(timing), "--", PY, "-m", *argv, *extra, timeout=1800)
    result = json.loads(timing.read_text())
    result["report"] = json.loads(out.read_text()) if report and out.exists() else {}
    if proc.returncode != 0:
        result["output"] = (proc.stdout + proc.stderr)[-2000:]
    return result


def one_size(routers: int, nodes: int) -> dict[str, Any]:
    clusters = ",".join(f"c{i:02d}" for i in range(1, routers + 1))
    workers = str(max(20, routers))
    before = mem_available_mb()
    lab = BenchLab.create()
    try:
        up_s = lab.up_timed("--clusters", clusters, "--nodes", str(nodes), timeout=900)
        print(f"{routers} routers: lab up in {up_s:.1f} s", flush=True)
        lab_mem = lab.memory()
        mem_drop = before - mem_available_mb()
        inv = timed(lab, "inventory", "tasks.router", "inventory", "--format", "json", report=False)
        deploy = timed(lab, "deploy", "tasks.router", "deploy", "--all-at-once", "--workers", workers)
        noop = timed(lab, "noop", "tasks.router", "deploy", "--all-at-once", "--workers", workers)
        verify = timed(lab, "verify", "tasks.router", "verify", "--workers", workers)
        print(
            f"{routers} routers: deploy {deploy['wall']:.1f} s (exit {deploy['returncode']}), "
            f"verify {verify['wall']:.1f} s (exit {verify['returncode']})",
            flush=True,
        )
    finally:
        lab.down()

    def steps(run: dict[str, Any]) -> dict[str, float]:
        hosts = run["report"].get("hosts", [])
        keys = sorted({k for h in hosts for k in h.get("timings", {})})
        return {k: median([h["timings"].get(k, 0.0) for h in hosts]) for k in keys} | {
            f"max_{k}": max(h["timings"].get(k, 0.0) for h in hosts) for k in keys
        }

    vhosts = verify["report"].get("hosts", [])
    checks = [c for h in vhosts for c in h.get("checks", [])] or verify["report"].get("checks", [])
    return {
        "routers": routers,
        "speakers": routers * nodes,
        "up_s": up_s,
        "lab_memory": lab_mem,
        "mem_available_drop_mb": round(mem_drop),
        "inventory": {k: inv[k] for k in ("wall", "peak_rss_mb", "returncode")},
        "deploy": {k: deploy[k] for k in ("wall", "peak_rss_mb", "returncode")} | {"steps": steps(deploy)},
        "deploy_status": sorted({h["status"] for h in deploy["report"].get("hosts", [])}),
        "noop": {k: noop[k] for k in ("wall", "peak_rss_mb", "returncode")},
        "verify": {k: verify[k] for k in ("wall", "peak_rss_mb", "returncode")},
        "verify_checks": {
            "total": len(checks),
            "failed": sum(1 for c in checks if c.get("status") != "pass"),
            "not_passed": [
                f"{c.get('host')} {c.get('check')}: {c.get('reason')}" for c in checks if c.get("status") != "pass"
            ],
        },
        "errors": {k: r["output"] for k, r in (("deploy", deploy), ("verify", verify)) if "output" in r},
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="1,10,30", help="router counts (default 1,10,30)")
    ap.add_argument("--nodes", type=int, default=8, help="speakers per router (default 8)")
    ap.add_argument("--json", metavar="FILE")
    args = ap.parse_args(argv)
    results = [one_size(int(n), args.nodes) for n in args.sizes.split(",")]
    base = results[0]
    rows = []
    for r in results:
        rows.append(
            [
                r["routers"],
                r["speakers"],
                r["up_s"],
                f"{r['lab_memory']['pss_mb']:.0f} / {r['lab_memory']['rss_mb']:.0f}",
                r["inventory"]["wall"],
                r["deploy"]["wall"],
                f"{r['deploy']['wall'] / base['deploy']['wall']:.2f}x",
                r["noop"]["wall"],
                r["verify"]["wall"],
                f"{r['verify']['wall'] / base['verify']['wall']:.2f}x",
                f"{r['deploy']['peak_rss_mb']:.0f} / {r['verify']['peak_rss_mb']:.0f}",
                f"{r['verify_checks']['total'] - r['verify_checks']['failed']}/{r['verify_checks']['total']}",
            ]
        )
    print_table(
        f"scale: {args.nodes} speakers per router; wall time in s (edgekit process in the operator namespace)",
        ["routers", "speakers", "lab up", "lab PSS/RSS MB", "inventory", "deploy", "vs 1", "no-op", "verify",
         "vs 1", "edgekit peak RSS MB deploy/verify", "checks passed"],
        rows,
    )  # fmt: skip
    step_rows = []
    for r in results:
        s = r["deploy"]["steps"]
        step_rows.append([r["routers"], *(f"{s.get(k, 0):.2f} / {s.get('max_' + k, 0):.2f}" for k in
                                          ("connect", "read", "commit", "gate", "confirm"))])  # fmt: skip
    print_table(
        "scale: deploy per-router steps, median / max (s)",
        ["routers", "connect", "read", "commit", "gate", "confirm"],
        step_rows,
    )
    write_json(args.json, {"benchmark": "scale", "nodes": args.nodes, "results": results})
    return 0


if __name__ == "__main__":
    sys.exit(main())
