"""Parsing benchmark: edgekit's TTP parsers against ``json.loads`` of FRR's JSON for the same state.

    python -m bench.bench_parsing [--peers 1000] [--routes 10000] [--runs 7] [--json FILE]

Real FRR 8 (zebra + staticd + bgpd, started like the lab router's, lab.vyos.frr.Frr) in a namespace of
the benchmark's own (``ektbn-parse``, removed at the end) with a veth pair, eth0 10.255.0.1/16:

- bgpd with N neighbors on 10.255.x.y that never answer (no such host): an N-row ``show ip bgp summary``;
- M static routes 172.20.x.y/32 over two next
  hops each (ECMP, like a service IP over its speakers): a ``show ip route`` of M+ routes.

Captured: ``show ip bgp summary`` / ``show ip route`` text and ``... json``. Timed (median of --runs, in
this process): ``checks.parsers.bgp_summary.parse`` / ``checks.parsers.route.parse_table`` (TTP + models),
``json.loads`` alone, and ``json.loads`` + ``checks.parsers.frr_json`` (the same models from the JSON).
Both sides must give the same number of peers / routes / next hops.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import PREFIX, median, print_table, write_json
from lab.harness import REPO

NS = f"{PREFIX}-parse"
ROUTE_BASE = IPv4Address("172.20.0.0")
NEXT_HOPS = ("10.255.0.2", "10.255.0.3")
CAPTURES = {
    "bgp_summary.txt": "show ip bgp summary",
    "bgp_summary.json": "show ip bgp summary json",
    "route.txt": "show ip route",
    "route.json": "show ip route json",
}


def frr_config(peers: int, routes: int) -> str:
    """bgpd + staticd config: ``peers`` silent neighbors, ``routes`` static /32s over two next hops."""
    lines = ["router bgp 65020", " bgp router-id 10.255.0.1", " no bgp ebgp-requires-policy"]
    for i in range(peers):
        lines.append(f" neighbor {IPv4Address('10.255.0.0') + 256 + i} remote-as 65021")
    lines.append("exit")
    for i in range(routes):
        prefix = ROUTE_BASE + i
        lines += [f"ip route {prefix}/32 {hop}" for hop in NEXT_HOPS]
    return "\n".join(lines) + "\n"


def capture(out: Path, peers: int, routes: int) -> None:
    """Inside the namespace: start FRR, configure, wait until zebra has every route, capture, stop."""
    from lab.vyos.frr import Frr

    frr = Frr(out / "frr")
    frr.start()
    try:
        conf = out / "frr" / "bench.conf"
        conf.write_text(frr_config(peers, routes))
        proc = frr.vtysh("-f", str(conf), timeout=600)
        if proc.returncode != 0:
            raise RuntimeError(f"vtysh -f: {proc.stdout}{proc.stderr}"[:2000])
        deadline = time.monotonic() + 300
        while True:
            summary = frr.vtysh("-c", "show ip route summary json").stdout
            statics = sum(r.get("fib", 0) for r in json.loads(summary).get("routes", []) if r.get("type") == "static")
            if statics >= routes or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        for name, command in CAPTURES.items():
            (out / name).write_text(frr.vtysh("-c", command, timeout=300).stdout)
    finally:
        frr.stop()


def generate(out: Path, peers: int, routes: int) -> dict[str, str]:
    """Namespace, FRR, capture; everything removed again. Returns file name -> captured text."""
    out.mkdir(parents=True, exist_ok=True)
    out.chmod(0o755)
    subprocess.run(["ip", "netns", "add", NS], check=True)
    try:
        for cmd in (
            "link set lo up",
            "link add eth0 type veth peer name eth1",  # both ends inside: no dummy module in every kernel
            "address add 10.255.0.1/16 dev eth0",
            "link set eth1 up",
            "link set eth0 up",
        ):
            subprocess.run(["ip", "-n", NS, *cmd.split()], check=True)
        subprocess.run(
            [
                "ip",
                "netns",
                "exec",
                NS,
                sys.executable,
                "-m",
                "bench.bench_parsing",
                "--capture",
                str(out),
                "--peers",
                str(peers),
                "--routes",
                str(routes),
            ],
            cwd=REPO,
            check=True,
            timeout=900,
        )
    finally:
        _cleanup(out)
    return {name: (out / name).read_text() for name in CAPTURES}


def _cleanup(out: Path) -> None:
    from lab.topology.system import kill_pids, procs_by_netns
    from lab.vyos.frr import Frr

    Frr(out / "frr").stop()  # by pid file
    leftovers = [p.pid for p in procs_by_netns([NS]).get(NS, [])]  # by network namespace, never by name
    kill_pids(leftovers)
    subprocess.run(["ip", "netns", "delete", NS], check=False)


def timed(fn: Callable[[], Any], runs: int) -> tuple[float, Any]:
    times = []
    result = None
    for _ in range(runs):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return median(times), result


def measure(texts: dict[str, str], runs: int) -> dict[str, Any]:
    from checks.parsers import bgp_summary, frr_json, route

    bgp_txt, bgp_js = texts["bgp_summary.txt"], texts["bgp_summary.json"]
    rt_txt, rt_js = texts["route.txt"], texts["route.json"]
    t_bgp_ttp, summary = timed(lambda: bgp_summary.parse(bgp_txt), runs)
    t_bgp_json, bgp_doc = timed(lambda: json.loads(bgp_js), runs)
    t_bgp_model, summary_js = timed(lambda: frr_json.bgp_summary(json.loads(bgp_js)), runs)
    t_rt_ttp, table = timed(lambda: route.parse_table(rt_txt), runs)
    t_rt_json, rt_doc = timed(lambda: json.loads(rt_js), runs)
    t_rt_model, table_js = timed(lambda: frr_json.route(json.loads(rt_js)), runs)
    inner = bgp_doc.get("ipv4Unicast", bgp_doc)
    json_peers = len(inner.get("peers", {}))
    json_routes = sum(len(v) for v in rt_doc.values())
    json_hops = sum(len(e.get("nexthops", [])) for v in rt_doc.values() for e in v)
    ttp_hops = sum(len(e.nexthops) for e in table)
    result = {
        "bgp_summary": {
            "text_kb": round(len(bgp_txt) / 1024, 1),
            "json_kb": round(len(bgp_js) / 1024, 1),
            "ttp_s": t_bgp_ttp,
            "json_loads_s": t_bgp_json,
            "json_models_s": t_bgp_model,
            "peers_ttp": len(summary.peers),
            "peers_json": json_peers,
            "peers_json_models": len(summary_js.peers),
        },
        "route": {
            "text_kb": round(len(rt_txt) / 1024, 1),
            "json_kb": round(len(rt_js) / 1024, 1),
            "ttp_s": t_rt_ttp,
            "json_loads_s": t_rt_json,
            "json_models_s": t_rt_model,
            "routes_ttp": len(table),
            "routes_json": json_routes,
            "routes_json_models": len(table_js),
            "next_hops_ttp": ttp_hops,
            "next_hops_json": json_hops,
        },
    }
    return result


def report(result: dict[str, Any], runs: int) -> None:
    b, r = result["bgp_summary"], result["route"]
    rows = [
        [
            "show ip bgp summary",
            f"{b['text_kb']} / {b['json_kb']} KB",
            f"{b['peers_ttp']} / {b['peers_json']} peers",
            b["ttp_s"] * 1000,
            b["json_loads_s"] * 1000,
            b["json_models_s"] * 1000,
            f"{b['ttp_s'] / b['json_loads_s']:.0f}x",
        ],
        [
            "show ip route",
            f"{r['text_kb']} / {r['json_kb']} KB",
            f"{r['routes_ttp']} / {r['routes_json']} routes, {r['next_hops_ttp']} / {r['next_hops_json']} hops",
            r["ttp_s"] * 1000,
            r["json_loads_s"] * 1000,
            r["json_models_s"] * 1000,
            f"{r['ttp_s'] / r['json_loads_s']:.0f}x",
        ],
    ]
    print_table(
        f"parsing (median of {runs} runs, ms)",
        ["command", "text / json size", "count TTP / JSON", "TTP parse", "json.loads", "json + models", "TTP/json"],
        rows,
    )
    same = (
        b["peers_ttp"] == b["peers_json"] == b["peers_json_models"]
        and r["routes_ttp"] == r["routes_json"] == r["routes_json_models"]
        and r["next_hops_ttp"] == r["next_hops_json"]
    )
    print(f"\ncounts agree: {'yes' if same else 'NO'}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--peers", type=int, default=1000)
    ap.add_argument("--routes", type=int, default=10_000)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--keep", metavar="DIR", help="keep the captured outputs in DIR")
    ap.add_argument("--json", metavar="FILE")
    ap.add_argument("--capture", metavar="DIR", help=argparse.SUPPRESS)  # inside the namespace
    args = ap.parse_args(argv)
    if args.capture:
        capture(Path(args.capture), args.peers, args.routes)
        return 0
    tmp = Path(tempfile.mkdtemp(prefix=f"{PREFIX}-parse-", dir="/tmp"))
    tmp.chmod(0o755)
    try:
        started = time.monotonic()
        texts = generate(tmp / "capture", args.peers, args.routes)
        print(
            f"FRR state with {args.peers} peers and {args.routes} routes captured in {time.monotonic() - started:.1f} s"
        )
        if args.keep:
            Path(args.keep).mkdir(parents=True, exist_ok=True)
            for name, text in texts.items():
                (Path(args.keep) / name).write_text(text)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    result = measure(texts, args.runs)
    report(result, args.runs)
    write_json(
        args.json, {"benchmark": "parsing", "peers": args.peers, "routes": args.routes, "runs": args.runs, **result}
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
