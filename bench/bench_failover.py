"""A node dies hard while traffic flows (issue 15): how long the router keeps sending it a share of a
Cluster-policy service, with BFD (300 ms x 3, edgekit's default) and without (BGP hold 90 s, MetalLB's default).

    python -m bench.bench_failover [--runs 3] [--modes bfd,hold] [--json FILE]

A lab of its own (prefix ektbn + "f", prd only, VyOS 1.4, 3 nodes, MetalLB CRDs), always taken down. Per mode,
edgekit deploys both ends from one site file (``bfd.enabled`` true or false): ``python -m tasks.metallb deploy
--force-conflicts`` (the lab's seeded objects belong to kubectl-client-side-apply), then ``python -m
tasks.router deploy`` (its gate includes bfd.peers when BFD is on). Per run:

- `lab traffic`'s client (bench._traffic: new TCP connection per GET, 0.5 s timeout, ~10 ms apart) runs from
  the cluster's upstream namespace against default/web (198.51.100.1, externalTrafficPolicy Cluster);
- ``python -m lab fault prd-node3 link-down`` takes node3's port off the switch (the node keeps carrier); the
  cut instant is the kernel's own timestamp of that change, seen by ``ip -timestamp monitor link`` in the
  switch namespace;
- the router's kernel route to 198.51.100.1 (``ip -j route show``, polled every 20 ms in its namespace) is
  watched until node3's next hop is gone: **next hop gone (s)** after the cut;
- **failed requests** (timeouts, refusals) from the cut until 2 s after the next hop is gone, of all sent in
  that window; **after gone**: failures among requests started once the next hop was gone; **longest gap (s)**:
  the longest time without a successful answer in that window;
- ``lab heal prd-node3``, then a bounded wait until the route has all 3 next hops (and BFD is up) again.

Before each run the speakers' BGP router-ids are read (``show bgp summary json`` ``routerId`` on each node) and
recorded (``router_ids``): the lab's kube-proxy puts no service IP on any interface (lab.topology.speakers), so
each speaker has its own (its node's address); the run refuses to start when two share one.
"""

from __future__ import annotations

import argparse
import json
import re
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import yaml

from bench._common import PREFIX, BenchLab, median, print_table, write_json
from lab.harness import REPO

PY = sys.executable
CLUSTER = "prd"
SERVICE = "198.51.100.1"
VICTIM = "prd-node3"


def nexthops(lab: BenchLab) -> list[str]:
    out = subprocess.run(
        ["ip", "-n", lab.ns(f"{CLUSTER}-router"), "-j", "route", "show", SERVICE],
        capture_output=True,
        text=True,
        timeout=10,
    ).stdout
    hops: list[str] = []
    for route in json.loads(out or "[]"):
        if route.get("gateway"):
            hops.append(route["gateway"])
        hops += [h["gateway"] for h in route.get("nexthops", []) if h.get("gateway")]
    return sorted(hops)


def wait(what: str, ready: Any, timeout: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if ready():
            return time.monotonic() - started
        time.sleep(0.2)
    raise TimeoutError(f"{what}: not within {timeout:.0f} s")


def site_with_bfd(lab: BenchLab, enabled: bool) -> Path:
    site = yaml.safe_load(Path(lab.lab_env()["EDGEKIT_SITE"]).read_text())
    site.setdefault("defaults", {})["bfd"] = {"enabled": enabled}
    path = lab.state_dir / f"site-bfd-{enabled}.yaml"
    path.write_text(yaml.safe_dump(site))
    return path


def deploy_both_ends(lab: BenchLab, site: Path) -> None:
    for module, extra in (("tasks.metallb", ["--force-conflicts"]), ("tasks.router", [])):
        proc = lab.exec(PY, "-m", module, "deploy", "--cluster", CLUSTER, "--site", str(site), *extra)
        if proc.returncode != 0:
            raise RuntimeError(f"{module} deploy exited {proc.returncode}:\n{proc.stdout[-3000:]}{proc.stderr[-2000:]}")


def bfd_up(lab: BenchLab) -> bool:
    out = lab.show(CLUSTER, "show bfd peers")
    return len(re.findall(r"Status: up", out)) == 3


class CutWatch:
    """`ip -timestamp monitor link` in the switch namespace: the kernel's time of the first change after start."""

    STAMP = re.compile(r"^Timestamp: \w+ (\w+ +\d+ \d\d:\d\d:\d\d \d{4}) (\d+) usec")

    def __init__(self, lab: BenchLab) -> None:
        self.proc = subprocess.Popen(
            ["ip", "-n", lab.ns(f"{CLUSTER}-sw"), "-timestamp", "monitor", "link"],
            stdout=subprocess.PIPE,
            text=True,
        )
        self.at: float | None = None
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            m = self.STAMP.match(line.strip())  # "Timestamp: Sun Nov 29 01:31:31 2026 432654 usec" (local time)
            if m and self.at is None:
                when = datetime.strptime(" ".join(m.group(1).split()), "%b %d %H:%M:%S %Y")
                self.at = when.timestamp() + int(m.group(2)) / 1e6

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait()


def node_addresses(lab: BenchLab) -> list[str]:
    return sorted(lab.address(f"{CLUSTER}-node{i}") for i in (1, 2, 3))


def router_ids(lab: BenchLab) -> dict[str, str]:
    """Each node speaker's BGP router-id (bgpd's ``show bgp summary json``)."""
    out = {}
    for i in (1, 2, 3):
        frr = lab.state_dir / "hosts" / f"{CLUSTER}-node{i}" / "frr"
        proc = subprocess.run(
            ["vtysh", "--vty_socket", str(frr / "run"), "--config_dir", str(frr), "-c", "show bgp summary json"],
            capture_output=True,
            text=True,
            timeout=20,
        )
        try:
            out[f"{CLUSTER}-node{i}"] = json.loads(proc.stdout or "{}").get("ipv4Unicast", {}).get("routerId", "")
        except ValueError:
            out[f"{CLUSTER}-node{i}"] = ""
    return out


def one_run(lab: BenchLab, mode: str, run: int) -> dict[str, Any]:
    every, victim = node_addresses(lab), lab.address(VICTIM)
    ids = router_ids(lab)
    if len(set(ids.values())) != len(ids) or "" in ids.values():
        raise SystemExit(f"speakers without distinct router-ids: {ids}")
    out = lab.state_dir / f"traffic-{mode}-{run}.jsonl"
    traffic = subprocess.Popen(
        ["ip", "netns", "exec", lab.ns(f"{CLUSTER}-up"), PY, "-m", "bench._traffic", SERVICE, str(out)],
        cwd=REPO,
    )
    try:
        time.sleep(2)  # traffic over all three nodes first
        watch = CutWatch(lab)
        time.sleep(0.3)
        before = time.time()
        lab.lab("fault", VICTIM, "link-down")
        gone_at = None
        while time.time() - before < 240:
            if victim not in nexthops(lab):
                gone_at = time.time()
                break
            time.sleep(0.02)
        watch.close()
        cut = watch.at or before
        time.sleep(2)
    finally:
        traffic.send_signal(signal.SIGTERM)
        traffic.wait(10)
    rows = [json.loads(line) for line in out.read_text().splitlines() if line.strip()]
    end = (gone_at or time.time()) + 2
    window = [r for r in rows if cut <= r[0] <= end]
    ok_times = [cut] + [r[1] for r in window if r[2] != "(error)"] + [end]
    gap = max(b - a for a, b in zip(ok_times, ok_times[1:], strict=False))
    row = {
        "mode": mode,
        "run": run,
        "gone_after_s": round(gone_at - cut, 3) if gone_at else None,
        "cut_seen_by_monitor": watch.at is not None,
        "requests": len(window),
        "failed": sum(r[2] == "(error)" for r in window),
        "failed_after_gone": sum(r[2] == "(error)" for r in window if gone_at and r[0] >= gone_at),
        "longest_gap_s": round(gap, 3),
        "router_ids": ids,
    }
    lab.lab("heal", VICTIM)
    row["back_after_heal_s"] = round(wait("all next hops back", lambda: nexthops(lab) == every, 300), 1)
    if mode == "bfd":
        wait("BFD up again", lambda: bfd_up(lab), 60)
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_failover")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--modes", default="bfd,hold")
    parser.add_argument("--node-subnet", default="private", choices=["private", "proxy-arp"])
    parser.add_argument("--json")
    args = parser.parse_args(argv)
    lab = BenchLab.create(PREFIX + "f")
    rows: list[dict[str, Any]] = []
    try:
        lab.up_timed("--clusters", CLUSTER, "--vyos", f"{CLUSTER}=1.4", "--node-subnet", args.node_subnet)
        for mode in args.modes.split(","):
            deploy_both_ends(lab, site_with_bfd(lab, mode == "bfd"))
            wait("3 next hops", lambda: nexthops(lab) == node_addresses(lab), 300)
            if mode == "bfd":
                wait("BFD up", lambda: bfd_up(lab), 60)
            for run in range(1, args.runs + 1):
                row = one_run(lab, mode, run)
                print(json.dumps(row), flush=True)
                rows.append(row)
    finally:
        lab.down()
    table = []
    for mode in args.modes.split(","):
        mine = [r for r in rows if r["mode"] == mode]
        if not mine:
            continue
        gone = [r["gone_after_s"] for r in mine if r["gone_after_s"] is not None]
        table.append(
            [
                "BFD 300 ms x 3" if mode == "bfd" else "no BFD, hold 90 s",
                len(mine),
                median(gone),
                f"{min(gone):.2f}-{max(gone):.2f}" if gone else "-",
                f"{median([r['failed'] for r in mine]):g} of {median([r['requests'] for r in mine]):g}",
                median([r["failed_after_gone"] for r in mine]),
                median([r["longest_gap_s"] for r in mine]),
            ]
        )
    headers = ["mode", "runs", "next hop gone (s)", "range", "failed requests", "failed after gone", "longest gap (s)"]
    title = f"node3 link cut under traffic to default/web (Cluster policy), {args.node_subnet} layout, medians"
    print_table(title, headers, table)
    if rows:
        print("speaker router-ids:", ", ".join(f"{h} {rid}" for h, rid in rows[0]["router_ids"].items()))
    write_json(args.json, {"node_subnet": args.node_subnet, "runs": rows})
    return 0


if __name__ == "__main__":
    sys.exit(main())
