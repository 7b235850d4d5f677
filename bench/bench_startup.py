"""Start-up benchmark (issue #17): `--help` against `import nornir`, and a no-op deploy of the 3-cluster lab.

    python -m bench.bench_startup [--runs 7] [--lab-runs 3] [--no-lab] [--json FILE]

- help: wall time of ``python -m tasks.router --help`` and of ``python -c "import nornir"`` (the target:
  `--help` within 2x of `import nornir`), each a fresh process, median of ``--runs``; plus the modules
  each imports that matter (NAPALM drivers, kubernetes, the engine).
- no-op deploy: a lab of its own (prefix ektbn, or ``EDGEKIT_TEST_NS``'s, prd/dev/wsp, 3 nodes each, VyOS 1.4), deployed
  once, then ``python -m tasks.router deploy`` again (nothing to change) ``--lab-runs`` times, wall time measured
  around the edgekit process inside the operator namespace (``bench._session time``), as bench_deploy
  measures its no-op. The report's per-router ``connect`` (SSH login, the lab router's work) is shown
  apart, with a raw paramiko login to the same router (``floor connect``) beside it, and the process's CPU time
  (user + system, all threads): on a shared machine the wall time follows the load, the CPU time much less.
  The worktree's modules are byte-compiled first (``compileall``), as an installed package's are: the lab sets
  ``PYTHONDONTWRITEBYTECODE``, so without it every run would compile edgekit's modules afresh (~0.2 s).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import BenchLab, machine, median, print_table, write_json

PY = sys.executable
REPO = Path(__file__).resolve().parents[1]
WATCHED = (
    "napalm.ios",
    "napalm.junos",
    "napalm.base.base",
    "kubernetes",
    "nornir",
    "tasks.router.apply",
    "inventory.build",
)


def wall(argv: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(argv, cwd=REPO, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def imported(argv: list[str]) -> list[str]:
    """Which of WATCHED the command imports (``-X importtime``)."""
    proc = subprocess.run([PY, "-X", "importtime", *argv], cwd=REPO, capture_output=True, text=True, check=True)
    names = {line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines() if "|" in line}
    return [m for m in WATCHED if m in names]


def help_figures(runs: int) -> dict[str, Any]:
    commands = {
        "import nornir": [PY, "-c", "import nornir"],
        "tasks.router --help": [PY, "-m", "tasks.router", "--help"],
    }
    out: dict[str, Any] = {}
    for name, argv in commands.items():
        wall(argv)  # warm the page cache
        times = [wall(argv) for _ in range(runs)]
        out[name] = {"median": median(times), "min": min(times), "max": max(times), "imports": imported(argv[1:])}
    out["ratio"] = out["tasks.router --help"]["median"] / out["import nornir"]["median"]
    return out


FLOOR = """
import sys, time, paramiko
client = paramiko.SSHClient()
client.load_host_keys(sys.argv[3])
started = time.perf_counter()
client.connect(sys.argv[1], username="vyos", key_filename=sys.argv[2], allow_agent=False, look_for_keys=False)
print(time.perf_counter() - started)
"""


def deploy_figures(runs: int) -> dict[str, Any]:
    subprocess.run([PY, "-m", "compileall", "-q", "inventory", "checks", "tasks", "napalm_edgekit_vyos", "templates"],
                   cwd=REPO, check=True, stdout=subprocess.DEVNULL)  # fmt: skip
    lab = BenchLab.create()
    try:
        lab.up_timed("--clusters", "prd,dev,wsp")
        env = lab.lab_env()
        first = lab.exec(PY, "-m", "tasks.router", "deploy")
        if first.returncode != 0:
            raise RuntimeError(
                f"first deploy exited {first.returncode}:\n{first.stdout[-3000:]}\n{first.stderr[-3000:]}"
            )
        rows = []
        for n in range(runs):
            timing, report = lab.state_dir / f"time-{n}.json", lab.state_dir / f"report-{n}.json"
            proc = lab.exec(
                PY, "-m", "bench._session", "time", str(timing), "--",
                PY, "-m", "tasks.router", "deploy", "--json", str(report),
            )  # fmt: skip
            data = json.loads(report.read_text()) if report.exists() else {}
            if proc.returncode != 0 or any(h["status"] != "unchanged" for h in data.get("hosts", [])):
                raise RuntimeError(
                    f"no-op deploy exited {proc.returncode}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
                )
            connect = max(h["timings"].get("connect", 0.0) for h in data["hosts"])
            rows.append({**json.loads(timing.read_text()), "connect": connect})
        floor = lab.exec(PY, "-c", FLOOR, lab.router_address("dev"), env["EDGEKIT_SSH_KEY"], env["EDGEKIT_KNOWN_HOSTS"])
        floor_connect = float(floor.stdout.strip().splitlines()[-1]) if floor.returncode == 0 else None
        walls = [r["wall"] for r in rows]
        cpus = [r.get("cpu", 0.0) for r in rows]
        connects = [r["connect"] for r in rows]
        return {
            "runs": rows,
            "wall_median": median(walls),
            "wall_min": min(walls),
            "cpu_median": median(cpus),
            "connect_median": median(connects),
            "wall_minus_connect_median": median([w - c for w, c in zip(walls, connects, strict=True)]),
            "floor_connect": floor_connect,
        }
    finally:
        lab.down()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=7, help="fresh processes per --help figure (default 7)")
    ap.add_argument("--lab-runs", type=int, default=3, help="no-op deploys (default 3)")
    ap.add_argument("--no-lab", action="store_true", help="only the --help figures (no root, no lab)")
    ap.add_argument("--json", metavar="FILE")
    args = ap.parse_args(argv)
    result: dict[str, Any] = {"machine": machine(), "help": help_figures(args.runs)}
    h = result["help"]
    print_table(
        "start-up (s, median of fresh processes)",
        ["command", "median", "min", "max", "imports (of: " + ", ".join(WATCHED) + ")"],
        [[k, v["median"], v["min"], v["max"], ", ".join(v["imports"]) or "-"] for k, v in h.items() if k != "ratio"],
    )
    print(f"\n--help / import nornir: {h['ratio']:.2f}x (target <= 2x)\n")
    if not args.no_lab:
        d = deploy_figures(args.lab_runs)
        result["noop_deploy"] = d
        print_table(
            "no-op deploy of the 3-cluster lab (s)",
            ["run", "wall", "CPU (user + sys)", "slowest router's connect", "wall - connect", "peak RSS MB"],
            [
                [i + 1, r["wall"], r.get("cpu", 0.0), r["connect"], r["wall"] - r["connect"], r["peak_rss_mb"]]
                for i, r in enumerate(d["runs"])
            ],
        )
        print(
            f"\nmedian wall {d['wall_median']:.2f} s (min {d['wall_min']:.2f}), CPU {d['cpu_median']:.2f} s, "
            f"connect {d['connect_median']:.2f} s, "
            f"wall - connect {d['wall_minus_connect_median']:.2f} s; raw paramiko login: {d['floor_connect']}"
        )
    write_json(args.json, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
