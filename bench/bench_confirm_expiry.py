"""What a dead edgekit costs: SIGKILL right after commit-confirm, with `lab traffic` running, on a VyOS 1.3
router (the timer reboots it into its saved config) and a VyOS 1.5/rolling router with `system config-management
commit-confirm action reload` (T5976, which edgekit sets where the router has it: the timer reloads the previous
config in place). A 1.4 router has no such node (no vyos-1x 1.4 release tag has it) and reboots like 1.3.

    python -m bench.bench_confirm_expiry [--runs 3] [--minute 10] [--boot 3] [--json FILE]

A lab of its own (prefix ektbn + "x", prd = 1.5/rolling, dev = 1.3, 3 nodes each), always taken down. After a
first deploy, per router and run: a harmless change (the node-side interface description: no route, no
session touched) is deployed with ``--confirm-timeout 60`` through ``bench._stuck_gate`` (edgekit whose
gate never ends), edgekit is SIGKILLed the moment its commit-confirm is done, and until the router has
its previous config back and every ECMP next hop again the benchmark

- polls the router's kernel route to the cluster's first LoadBalancer IP (``ip -4 route show``, about
  every 50 ms): **seconds without a route** = the total time it had no next hop;
- polls SSH (``show version``): seconds the router did not answer (a reboot);
- runs `lab traffic`'s client (``lab.topology.servers client SERVICE_IP -n 20``, what ``lab traffic``
  runs) from the cluster's upstream namespace, batch after batch, from the kill until 2 s after the
  router is back (new TCP connection per request, 2 s timeout): **failed requests** of all sent.

One lab "minute" lasts ``--minute`` seconds (EDGEKIT_LAB_MINUTE_SECONDS), so the 1-minute timer fires
that long after the kill; a lab reboot keeps the router down ``--boot`` seconds (EDGEKIT_LAB_BOOT_SECONDS)
before it boots its saved config (a real VyOS box takes a minute or more: add the difference).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import yaml

from bench._common import PREFIX, BenchLab, median, print_table, write_json
from lab.harness import REPO

PY = sys.executable
SERVICE = {"prd": "198.51.100.1", "dev": "198.51.100.17"}
BATCH = 20
DIALECT = {"prd": "1.5-rolling (action reload)", "dev": "1.3"}


def nexthops(lab: BenchLab, cluster: str) -> list[str]:
    out = lab.in_ns(f"{cluster}-router", "ip", "-4", "route", "show", SERVICE[cluster]).stdout
    return re.findall(r"nexthop via (\S+)", out)


class Router:
    """SSH to one router from the operator namespace, address and key read once (a rebooting router has
    no address for `lab status` to report, and asking `lab` every time costs seconds)."""

    def __init__(self, lab: BenchLab, cluster: str) -> None:
        env = lab.lab_env()
        self.argv = ["ip", "netns", "exec", f"{lab.prefix}-op", "ssh", "-i", env["EDGEKIT_SSH_KEY"]] + [
            "-o", f"UserKnownHostsFile={env['EDGEKIT_KNOWN_HOSTS']}", "-o", "BatchMode=yes", "-o", "ConnectTimeout=2",
            f"vyos@{lab.router_address(cluster)}",
        ]  # fmt: skip

    def running(self) -> list[str] | None:
        """The running config, or None when the router does not answer."""
        proc = subprocess.run([*self.argv, "show configuration commands"], capture_output=True, text=True, timeout=30)
        lines = sorted(line.strip() for line in proc.stdout.splitlines() if line.strip())
        return lines or None


def site_with(lab: BenchLab, cluster: str, description: str) -> Path:
    site = yaml.safe_load(Path(lab.lab_env()["EDGEKIT_SITE"]).read_text())
    site.setdefault("clusters", {}).setdefault(cluster, {}).setdefault("router", {})["description"] = description
    path = lab.state_dir / f"site-{cluster}-{description}.yaml"
    path.write_text(yaml.safe_dump(site))
    return path


def one_run(lab: BenchLab, router: Router, cluster: str, run: int) -> dict[str, Any]:
    before = router.running()
    full = sorted(nexthops(lab, cluster))
    site = site_with(lab, cluster, f"bench-{run}")
    proc = subprocess.Popen(
        [PY, "-m", "lab", "exec", "--", PY, "-m", "bench._stuck_gate", "deploy", "--cluster", cluster]
        + ["--site", str(site), "--confirm-timeout", "60", "--gate-timeout", "25"],
        cwd=REPO,
        env=lab.env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    assert proc.stderr is not None
    for line in proc.stderr:
        if "STUCK-IN-GATE" in line:
            break
    else:
        raise RuntimeError(f"{cluster}: edgekit never reached its gate (exit {proc.wait()})")
    traffic: dict[str, int] = {}
    stop = threading.Event()

    def send() -> None:
        """`lab traffic`'s client (lab.topology.servers client) from the upstream namespace, in batches of
        BATCH requests, until the router is back: one new TCP connection per request, 2 s timeout."""
        while not stop.is_set():
            out = lab.in_ns(
                f"{cluster}-up", PY, "-m", "lab.topology.servers", "client", SERVICE[cluster], "-n", str(BATCH),
                cwd=REPO, timeout=BATCH * 3 + 30,
            ).stdout  # fmt: skip
            for key, count in json.loads(out or "{}").items():
                traffic[key] = traffic.get(key, 0) + int(count)

    sender = threading.Thread(target=send)
    sender.start()
    os.killpg(proc.pid, signal.SIGKILL)
    killed = time.monotonic()
    proc.wait()
    assert any(f"description 'bench-{run}'" in line for line in router.running() or []), "nothing was committed"
    no_route = no_ssh = 0.0
    last = killed
    reverted_at = None
    while time.monotonic() - killed < 600:
        hops = sorted(nexthops(lab, cluster))
        config = router.running() if reverted_at is None or not hops else before
        now = time.monotonic()
        if not hops:
            no_route += now - last
        if config is None:
            no_ssh += now - last
        last = now
        if reverted_at is None and config == before:
            reverted_at = now
        if reverted_at is not None and hops == full:
            break
        time.sleep(0.05)
    time.sleep(2)  # a little traffic after the last next hop is back
    stop.set()
    sender.join()
    return {
        "cluster": cluster,
        "run": run,
        "reverted_after_s": round((reverted_at or float("nan")) - killed, 2),
        "no_route_s": round(no_route, 2),
        "no_ssh_s": round(no_ssh, 2),
        "requests": sum(int(v) for v in traffic.values()),
        "failed": int(traffic.get("(error)", 0)),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_confirm_expiry")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--minute", default="10", help="seconds per lab minute (default: %(default)s)")
    parser.add_argument("--boot", default="3", help="seconds a lab reboot keeps the router down (default: %(default)s)")
    parser.add_argument("--json")
    args = parser.parse_args(argv)
    lab = BenchLab.create(PREFIX + "x", EDGEKIT_LAB_MINUTE_SECONDS=args.minute, EDGEKIT_LAB_BOOT_SECONDS=args.boot)
    rows: list[dict[str, Any]] = []
    try:
        lab.up_timed("--clusters", "prd,dev", "--vyos", "prd=1.5,dev=1.3")
        first = lab.edgekit("deploy")
        if first.returncode != 0:
            raise RuntimeError(f"first deploy exited {first.returncode}:\n{first.stdout[-3000:]}{first.stderr[-3000:]}")
        for cluster in ("dev", "prd"):
            router = Router(lab, cluster)
            for run in range(1, args.runs + 1):
                row = one_run(lab, router, cluster, run)
                print(json.dumps(row), flush=True)
                rows.append(row)
    finally:
        lab.down()
    table = []
    for cluster in ("dev", "prd"):
        mine = [r for r in rows if r["cluster"] == cluster]
        table.append(
            [
                f"k8s-router-1-{cluster}",
                DIALECT[cluster],
                "reboot" if cluster == "dev" else "reload",
                len(mine),
                median([r["reverted_after_s"] for r in mine]),
                median([r["no_route_s"] for r in mine]),
                f"{min(r['no_route_s'] for r in mine):.2f}-{max(r['no_route_s'] for r in mine):.2f}",
                median([r["no_ssh_s"] for r in mine]),
                f"{median([r['failed'] for r in mine]):g} of {median([r['requests'] for r in mine]):g}",
            ]
        )
    title = f"SIGKILL right after commit-confirm (lab minute {args.minute} s, lab boot {args.boot} s; medians)"
    headers = ["router", "VyOS", "timer does", "runs", "back after kill (s)", "no route (s)", "range"]
    print_table(title, [*headers, "no SSH (s)", "failed requests"], table)
    write_json(args.json, {"minute_s": args.minute, "boot_s": args.boot, "runs": rows})
    return 0


if __name__ == "__main__":
    sys.exit(main())
