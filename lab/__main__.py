"""``python -m lab``: the namespace lab (see lab/README.md).

    up [--clusters prd,dev,wsp] [--nodes N] [--vyos 1.3|1.4|1.5|prd=1.3,dev=1.5]
       [--node-subnet proxy-arp|private]
    down | status [--json] | exec -- CMD... | fault HOST KIND | heal [HOST] | traffic SERVICE_IP [-n N]
    env | venue-peer CLUSTER PUBKEY

Every command takes --prefix (default $EDGEKIT_LAB_PREFIX or ek) and --state-dir (default
$EDGEKIT_LAB_STATE or lab/.state), so a test lab never touches a developer's.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from lab.topology.plan import (
    DEFAULT_METALLB,
    DEFAULT_METALLB_SPEAKER,
    DEFAULT_METALLB_VERSION,
    Options,
    load_options,
    state_dir_default,
)
from lab.topology.system import LabError, list_netns

REPO = Path(__file__).resolve().parent.parent


def per_cluster(value: str | None, clusters: list[str], what: str) -> dict[str, str]:
    """ "1.4" for all, or "prd=1.3,dev=1.4" (clusters not named keep their default)."""
    if not value:
        return {}
    if "=" not in value:
        return {c: value for c in clusters}
    out = {}
    for part in value.split(","):
        name, sep, v = part.partition("=")
        if not sep:
            raise LabError(f"--{what} {value!r}: use VALUE or CLUSTER=VALUE,...")
        out[name.strip()] = v.strip()
    return out


def resolve_options(args: argparse.Namespace) -> Options:
    """Options of `up`: the command line merged with a lab already there (adding clusters is fine)."""
    state = Path(args.state_dir).resolve()
    old = load_options(state)
    requested = [c for c in (args.clusters or "").split(",") if c] or (list(old.clusters) if old else ["prd"])
    clusters = list(old.clusters) if old else []
    clusters += [c for c in requested if c not in clusters]
    nodes = args.nodes if args.nodes is not None else (old.nodes if old else 3)
    subnet = args.node_subnet or (old.node_subnet if old else "proxy-arp")
    if old and (nodes != old.nodes or subnet != old.node_subnet):
        raise LabError(
            f"the lab in {state} has --nodes {old.nodes} --node-subnet {old.node_subnet}: "
            "run `python -m lab down` first"
        )
    vyos = dict(old.vyos) if old else {}
    metallb = dict(old.metallb) if old else {}
    versions = dict(old.metallb_version) if old else {}
    speakers = dict(old.metallb_speaker) if old else {}
    new_vyos = per_cluster(args.vyos, requested, "vyos")
    new_metallb = per_cluster(args.metallb, requested, "metallb")
    new_versions = per_cluster(args.metallb_version, requested, "metallb-version")
    new_speakers = per_cluster(args.metallb_speaker, requested, "metallb-speaker")
    for c in clusters:
        want_v = new_vyos.get(c, vyos.get(c, "1.4"))
        want_m = new_metallb.get(c, metallb.get(c, DEFAULT_METALLB.get(c, "crds")))
        want_mv = new_versions.get(c, versions.get(c, DEFAULT_METALLB_VERSION))
        want_ms = new_speakers.get(c, speakers.get(c, DEFAULT_METALLB_SPEAKER))
        was = (
            (
                old.vyos.get(c),
                old.metallb.get(c),
                old.metallb_version.get(c, DEFAULT_METALLB_VERSION),
                old.metallb_speaker.get(c, DEFAULT_METALLB_SPEAKER),
            )
            if old
            else None
        )
        if old and c in old.clusters and (want_v, want_m, want_mv, want_ms) != was:
            raise LabError(
                f"cluster {c} is up with other --vyos/--metallb/--metallb-version/--metallb-speaker settings: "
                "run `python -m lab down` first"
            )
        vyos[c], metallb[c], versions[c], speakers[c] = want_v, want_m, want_mv, want_ms
    unready = tuple(u for u in (args.unready or "").split(",") if u) or (old.unready if old else ())
    return Options(
        prefix=args.prefix,
        state_dir=state,
        clusters=tuple(clusters),
        nodes=nodes,
        node_subnet=subnet,
        vyos=vyos,
        metallb=metallb,
        unready=unready,
        metallb_version=versions,
        metallb_speaker=speakers,
    )


def existing_lab(args: argparse.Namespace) -> Any:
    from lab.topology.runtime import Lab

    state = Path(args.state_dir).resolve()
    opts = load_options(state)
    if opts is None:
        raise LabError(f"no lab in {state} (run `python -m lab up` first)")
    if opts.prefix != args.prefix:
        raise LabError(f"the lab in {state} has prefix {opts.prefix!r}, not {args.prefix!r}")
    return Lab(opts)


def cmd_up(args: argparse.Namespace) -> int:
    from lab.topology.runtime import Lab

    lab = Lab(resolve_options(args))
    result = lab.up(timeout=args.timeout)
    plan, paths = lab.plan, lab.paths
    print(f"lab {plan.prefix!r} up in {result['seconds']} s (state {paths.state})")
    for c in plan.clusters.values():
        no_action = " (rolling: commit-confirm action)" if c.confirm_action else ""
        print(
            f"  {c.name}: internet {c.block} (gateway {c.gateway}), router {c.router_public.ip} "
            f"VyOS {c.vyos}{no_action}, masters {c.master_address(1)}-{c.master_address(3)}, "
            f"LBs {c.lb_address(1)}/{c.lb_address(2)} VIP {c.vip}"
        )
        nodes = ", ".join(str(c.node_address(i).ip) for i in range(1, c.node_count + 1))
        print(
            f"       nodes ({c.node_subnet}) {nodes}; "
            f"MetalLB {c.metallb_version} {c.metallb_speaker} {c.metallb_range} + venue {c.venue_pool} "
            f"({c.metallb_mode}), peer {c.metallb_peer}"
        )
        svcs = ", ".join(f"{s.namespace}/{s.name}={s.ip}" for s in c.services)
        print(f"       services {svcs}; venue {c.venue_endpoint} tunnel {c.tunnel} network {c.venue_network}")
        print(f"       kube context {c.name} -> https://127.0.0.1:{c.kubeapi_port}")
    for note in result["notes"]:
        print(f"  note: {note}")
    print(
        f"  operator namespace {plan.operator_ns}; site {paths.site}; kubeconfig {paths.kubeconfig}; env {paths.env_sh}"
    )
    print("next:")
    print("  python -m lab exec -- python -m tasks.router deploy")
    print("  python -m lab exec -- python -m tasks.router inventory        # what edgekit sees")
    if any(c.vyos == "1.3" for c in plan.clusters.values()):
        print("  (VyOS 1.3: after edgekit generated the named keypair: python -m lab venue-peer CLUSTER PUBKEY)")
    return 0


def cmd_down(args: argparse.Namespace) -> int:
    from lab.topology.teardown import down

    result = down(args.prefix, Path(args.state_dir))
    print(
        f"lab {args.prefix!r} down in {result['seconds']} s: {result['namespaces']} namespaces, "
        f"{result['processes']} processes" + (", state removed" if result["state_removed"] else "")
    )
    if result["left"]:
        print(f"still there: {', '.join(result['left'])}", file=sys.stderr)
        return 1
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    lab = existing_lab(args)
    rows = lab.status()
    if args.json:
        print(json.dumps(rows, indent=1))
        return 0
    total = pss = 0
    for r in rows:
        total += r["rss_kb"]
        pss += r["pss_kb"]
        procs = " ".join(f"{p['name']}{'' if p['alive'] else '(DOWN)'}" for p in r["processes"]) or "-"
        flag = "ok " if r["healthy"] else "BAD"
        faults = f" faults: {','.join(r['faults'])}" if r["faults"] else ""
        addrs = ", ".join(r["addresses"]) or "-"
        print(f"{flag} {r['name']:<14} {r['role']:<9} {r['namespace']:<18} {r['rss_kb'] / 1024:6.1f} MB  {addrs}")
        print(f"    {procs}{faults}")
    for c in lab.plan.clusters.values():
        print(f"{c.name} LoadBalancer IPs: " + ", ".join(f"{s.namespace}/{s.name} {s.ip}" for s in c.services))
    count = sum(len(r["processes"]) for r in rows)
    print(f"memory: {pss / 1024:.1f} MB PSS ({total / 1024:.1f} MB RSS) in {count} processes")
    return 0 if all(r["healthy"] for r in rows) else 1


def cmd_exec(args: argparse.Namespace) -> int:
    lab = existing_lab(args)
    cmd = args.cmd[1:] if args.cmd and args.cmd[0] == "--" else args.cmd
    if not cmd:
        cmd = [os.environ.get("SHELL", "/bin/bash")]
    op = lab.plan.operator_ns
    if op not in list_netns(lab.plan.prefix):
        raise LabError(f"namespace {op} does not exist (run `python -m lab up`)")
    env = {**os.environ, **lab.environment()}
    os.execvpe("ip", ["ip", "netns", "exec", op, *cmd], env)
    return 127  # not reached


def cmd_env(args: argparse.Namespace) -> int:
    from lab.topology.artifacts import env_sh

    print(env_sh(existing_lab(args).environment()), end="")
    return 0


def cmd_fault(args: argparse.Namespace) -> int:
    print(existing_lab(args).fault(args.host, args.kind, link=args.link, hard=args.hard))
    return 0


def cmd_heal(args: argparse.Namespace) -> int:
    done = existing_lab(args).heal(args.host)
    print("\n".join(done) if done else "nothing to heal; everything running")
    return 0


def cmd_traffic(args: argparse.Namespace) -> int:
    counts = existing_lab(args).traffic(args.ip, args.n, args.port, args.source)
    if args.json:
        print(json.dumps(counts))
        return 0
    for name, n in sorted(counts.items()):
        print(f"{n:5d}  {name}")
    return 0 if "(error)" not in counts else 1


def cmd_venue(args: argparse.Namespace) -> int:
    lab = existing_lab(args)
    if args.default:
        print(lab.venue_default(args.cluster))
    else:
        text = sys.stdin.read() if args.config == "-" else Path(args.config).read_text()
        print(lab.venue_config(args.cluster, text, args.config))
    return 0


def cmd_venue_peer(args: argparse.Namespace) -> int:
    print(existing_lab(args).venue_peer(args.cluster, args.public_key))
    return 0


def build_parser() -> argparse.ArgumentParser:
    from lab.topology.faults import FAULTS

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--prefix", default=os.environ.get("EDGEKIT_LAB_PREFIX", "ek"), help="namespace prefix (default: %(default)s)"
    )
    common.add_argument(
        "--state-dir",
        default=os.environ.get("EDGEKIT_LAB_STATE", str(state_dir_default(REPO))),
        help="state directory (default: %(default)s)",
    )
    parser = argparse.ArgumentParser(prog="python -m lab", description="edgekit's network-namespace lab")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    p = sub.add_parser("up", parents=[common], help="build or complete the lab (idempotent)")
    p.add_argument("--clusters", help="comma-separated: prd, dev, wsp (default prd, or what is up)")
    p.add_argument("--nodes", type=int, help="k8s nodes per cluster (default 3)")
    p.add_argument(
        "--vyos",
        help="router version: 1.3, 1.4 (default) or 1.5 (rolling, the only one with `system config-management "
        "commit-confirm action`), or per cluster prd=1.3,dev=1.5",
    )
    p.add_argument("--node-subnet", choices=["proxy-arp", "private"], help="node addressing (default proxy-arp)")
    p.add_argument(
        "--metallb",
        help="configmap, crds or none (MetalLB without config: nothing announced, services without IP), "
        "or per cluster prd=none,dev=configmap (default prd=crds,dev=configmap,wsp=crds)",
    )
    p.add_argument(
        "--metallb-version",
        help="MetalLB the cluster runs (its CRD schema and webhook rules in the Kubernetes stand-in): v0.13.12 "
        "(default) or v0.14.9, or per cluster prd=v0.14.9",
    )
    p.add_argument(
        "--metallb-speaker",
        help="MetalLB's BGP mode, seen in the speaker pods and enforced by its webhooks: frr (default), frr-k8s "
        "(v0.14.9) or native, or per cluster prd=native",
    )
    p.add_argument("--unready", help="nodes whose speaker pod is not Ready (and runs no speaker), e.g. prd-node3")
    p.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for readiness")
    p.set_defaults(func=cmd_up)
    p = sub.add_parser("down", parents=[common], help="remove every namespace, process and file of the lab")
    p.set_defaults(func=cmd_down)
    p = sub.add_parser("status", parents=[common], help="hosts, addresses, processes, memory")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_status)
    p = sub.add_parser("exec", parents=[common], help="run CMD in the operator namespace with the lab's environment")
    p.add_argument("cmd", nargs=argparse.REMAINDER)
    p.set_defaults(func=cmd_exec)
    p = sub.add_parser("env", parents=[common], help="print the environment of `exec` as shell exports")
    p.set_defaults(func=cmd_env)
    p = sub.add_parser("fault", parents=[common], help="inject a fault")
    p.add_argument("host", help="lab host name (prd-node1), namespace or Terraform server name")
    p.add_argument("kind", choices=FAULTS)
    p.add_argument("--link", help="link-down: only this interface (e.g. eth1 of the router)")
    p.add_argument("--hard", action="store_true", help="keepalived-down: SIGKILL every keepalived process")
    p.set_defaults(func=cmd_fault)
    p = sub.add_parser("heal", parents=[common], help="undo faults and restart what is down")
    p.add_argument("host", nargs="?")
    p.set_defaults(func=cmd_heal)
    p = sub.add_parser("traffic", parents=[common], help="N requests to a service IP from upstream or the venue")
    p.add_argument("ip")
    p.add_argument(
        "--from",
        dest="source",
        choices=["upstream", "venue"],
        default="upstream",
        help="the internet side (default) or the venue (through the WireGuard tunnel)",
    )
    p.add_argument("-n", type=int, default=30)
    p.add_argument("--port", type=int, default=80)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_traffic)
    p = sub.add_parser("venue", parents=[common], help="configure a venue's WireGuard from a wg-quick style stanza")
    p.add_argument("cluster")
    group = p.add_mutually_exclusive_group(required=True)
    group.add_argument("--config", help="the stanza (edgekit's `render --venue` output); - reads stdin")
    group.add_argument("--default", action="store_true", help="back to the lab's own venue config")
    p.set_defaults(func=cmd_venue)
    p = sub.add_parser("venue-peer", parents=[common], help="make a venue trust another router key (VyOS 1.3)")
    p.add_argument("cluster")
    p.add_argument("public_key")
    p.set_defaults(func=cmd_venue_peer)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (LabError, ValueError, KeyError) as exc:
        print(f"lab: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `python -m lab status | head`
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
