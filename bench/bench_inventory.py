"""Inventory benchmark: a generated Terraform state of N Sakura Cloud servers over 3 workspaces -> inventory.

    python -m bench.bench_inventory [--servers 10000] [--workspaces 3] [--runs 5] [--json FILE]

Each workspace's state is the lab's Sakura Cloud v4 state (lab.topology.artifacts.tfstate: router,
3 masters, 2 LBs, subnets, outputs) with the node resource grown to the remaining servers, nodes in a
/16 of their own. Every run is a fresh Python process (``--child``) that imports edgekit, then times
``inventory.build.load(InventorySources(states=[...]))`` (no Kubernetes: every node becomes a speaker)
and reports its peak RSS (``getrusage``: includes the interpreter and imports, reported apart).
"""

from __future__ import annotations

import argparse
import copy
import json
import resource
import subprocess
import sys
import tempfile
import time
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import median, print_table, write_json
from lab.harness import REPO

WORKSPACES = ("prd", "dev", "wsp")
FIXED_SERVERS = 6  # router, 3 masters, 2 LBs per workspace


def generate_state(cluster: str, nodes: int) -> dict[str, Any]:
    """One workspace's state v4 with ``nodes`` node servers (Sakura Cloud provider shape)."""
    from lab.topology import artifacts
    from lab.topology.plan import Options, Plan

    plan = Plan(Options(prefix="ektbn", state_dir=Path("/nonexistent"), clusters=(cluster,), nodes=3))
    c = plan.clusters[cluster]
    state = artifacts.tfstate(plan, c, "bench-password")
    node_res = next(r for r in state["resources"] if r["name"] == "k8s-node-server")
    template = node_res["instances"][0]
    net = IPv4Network(f"10.{100 + c.index}.0.0/16")
    gateway = str(net[1])
    instances = []
    ips = []
    for i in range(1, nodes + 1):
        inst = copy.deepcopy(template)
        attrs = inst["attributes"]
        name = c.server_name("node", i)
        ip = str(IPv4Address(int(net.network_address) + 10 + i))
        sid = f"1134{c.index:02d}{120 + i // 1000:03d}{i % 1000:03d}"
        attrs.update(id=sid, name=name, hostname=name, ip_address=ip, gateway=gateway, netmask=16)
        attrs["disk_edit_parameter"][0].update(hostname=name, ip_address=ip, gateway=gateway, netmask=16)
        attrs["network_interface"][0]["user_ip_address"] = ip
        attrs["disks"] = [sid.replace("1134", "2234", 1)]
        inst["index_key"] = i - 1
        instances.append(inst)
        ips.append(ip)
    node_res["instances"] = instances
    state["outputs"]["k8s_node_server_ipaddress"] = {"value": ips, "type": ["tuple", ["string"] * len(ips)]}
    return state


def generate(directory: Path, servers: int, workspaces: int = 3) -> list[Path]:
    """``servers`` servers over ``workspaces`` state files (<ws>.tfstate); returns their paths."""
    names = list(WORKSPACES[:workspaces]) + [f"c{i:02d}" for i in range(1, workspaces - len(WORKSPACES) + 1)]
    paths = []
    for n, name in enumerate(names):
        share = servers // workspaces + (1 if n < servers % workspaces else 0)
        path = directory / f"{name}.tfstate"
        path.write_text(json.dumps(generate_state(name, max(1, share - FIXED_SERVERS))))
        paths.append(path)
    return paths


def child(paths: list[str]) -> None:
    """One measurement in this (fresh) process: prints a JSON line."""
    t0 = time.perf_counter()
    from inventory.build import InventorySources, load

    imported = time.perf_counter()
    rss_imports = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result = load(InventorySources(states=paths))
    done = time.perf_counter()
    rss_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    speakers = sum(len(c.speakers) for c in result.site.clusters.values())
    print(
        json.dumps(
            {
                "import_s": imported - t0,
                "load_s": done - imported,
                "rss_after_import_mb": rss_imports,
                "peak_rss_mb": rss_peak,
                "hosts": len(result.hosts),
                "clusters": len(result.site.clusters),
                "speakers": speakers,
            }
        )
    )


def run_child(paths: list[Path]) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, "-m", "bench.bench_inventory", "--child", *map(str, paths)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--servers", type=int, default=10_000)
    ap.add_argument("--workspaces", type=int, default=3)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--json", metavar="FILE")
    ap.add_argument("--child", nargs="+", metavar="STATE", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        child(args.child)
        return 0
    with tempfile.TemporaryDirectory(prefix="ektbn-inv-") as tmp:
        started = time.perf_counter()
        paths = generate(Path(tmp), args.servers, args.workspaces)
        gen_s = time.perf_counter() - started
        size_mb = sum(p.stat().st_size for p in paths) / 1e6
        runs = [run_child(paths) for _ in range(args.runs)]
    load_s = median([r["load_s"] for r in runs])
    peak = max(r["peak_rss_mb"] for r in runs)
    rows = [
        ["servers / workspaces", f"{runs[0]['hosts']} / {runs[0]['clusters']}"],
        ["state files (JSON)", f"{size_mb:.1f} MB (generated in {gen_s:.1f} s)"],
        ["speakers (every node, no Kubernetes)", runs[0]["speakers"]],
        [
            "load() median / min / max",
            f"{load_s:.3f} / {min(r['load_s'] for r in runs):.3f} / "
            f"{max(r['load_s'] for r in runs):.3f} s ({len(runs)} runs)",
        ],
        ["import of inventory.build (median)", f"{median([r['import_s'] for r in runs]):.3f} s"],
        ["peak RSS of the process", f"{peak:.0f} MB"],
        ["RSS after imports (baseline)", f"{median([r['rss_after_import_mb'] for r in runs]):.0f} MB"],
        ["target", f"< 1 s: {'met' if load_s < 1 else 'missed'}; < 300 MB: {'met' if peak < 300 else 'missed'}"],
    ]
    print_table("inventory: generated state -> inventory.build.load()", ["what", "figure"], rows)
    write_json(args.json, {"benchmark": "inventory", "servers": args.servers, "runs": runs, "state_mb": size_mb})
    return 0


if __name__ == "__main__":
    sys.exit(main())
