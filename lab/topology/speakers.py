"""``python -m lab.topology.speakers --state DIR --cluster NAME``: MetalLB (controller + speakers) of one cluster.

Watches the cluster's Kubernetes world file (lab.kubeapi.store); whenever it changes (an apply through the
stand-in, a fault that flips a speaker pod, a test editing Services), it runs lab.topology.metallb over it:
- writes each LoadBalancer Service's ``status.loadBalancer.ingress`` back (MetalLB's controller);
- puts every allocated service IP on each node's ``lo`` (what kube-proxy does with LoadBalancer IPs: the
  node's HTTP server answers on them) and takes released ones off;
- renders each node's FRR config as MetalLB's FRR mode does and, when it changed, writes it and reloads the
  running daemon with FRR's frr-reload.py (MetalLB's frr-reloader does the same: frr-reload.py --reload);
  bfdd is started once BFD profiles exist (MetalLB's FRR container always runs bfdd; the lab saves the
  process until then) and reloaded like bgpd, before bgpd, so a neighbor's profile exists when it is named.
  A node whose speaker is down (fault) only gets its files; heal starts it on them.

A config MetalLB would refuse leaves the last good one in place and is logged (``metallb-<c>.log``).
"""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from lab.kubeapi import store
from lab.topology import metallb
from lab.topology.plan import Host, load_options

FRR_RELOAD = "/usr/lib/frr/frr-reload.py"


def log(msg: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {msg}", flush=True)


class Speakers:
    def __init__(self, state: Path, cluster: str) -> None:
        from lab.topology.runtime import Lab

        opts = load_options(state)
        if opts is None:
            raise SystemExit(f"no lab in {state}")
        self.lab = Lab(opts)
        self.c = self.lab.plan.clusters[cluster]
        self.world_path = self.lab.paths.host("op") / f"world-{cluster}.json"
        self.nodes: list[Host] = [h for h in self.lab.hosts(self.c) if h.role == "node"]
        self.last_good: metallb.Config | None = None
        self.last_error = ""
        self.lo: dict[str, set[str]] = {}
        self.seen: tuple[int, int] | None = None  # the world file version the last pass read (inode, mtime)

    def frr_dir(self, h: Host) -> Path:
        return self.lab.paths.host(h.name) / "frr"

    def once(self) -> None:
        if not self.world_path.exists():
            return
        with store.locked(self.world_path):
            world = store.read(self.world_path)
            outcome, cfg = metallb.run(world, [h.server or h.name for h in self.nodes], self.last_good)
            if outcome.world != world:
                store.write(self.world_path, outcome.world)
            self.seen = version(self.world_path)
        if cfg is not None:
            self.last_good = cfg
        if outcome.error != self.last_error:
            log(f"config refused, keeping the last good one: {outcome.error}" if outcome.error else "config ok")
            self.last_error = outcome.error
        ips = sorted(
            {
                i["ip"]
                for o in outcome.world.get("items", [])
                if o.get("kind") == "Service"
                for i in ((o.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
            }
        )

        def sync(h: Host) -> None:
            bgpd, bfdd = outcome.configs[h.server or h.name]
            try:
                self.sync_lo(h, set(ips))
                self.sync_frr(h, bgpd, bfdd)
            except (OSError, subprocess.SubprocessError) as exc:
                log(f"{h.name}: {exc}")

        # The nodes' speakers are independent: reload them side by side.
        threads = [threading.Thread(target=sync, args=(h,)) for h in self.nodes]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    def sync_lo(self, h: Host, want: set[str]) -> None:
        have = self.lo.get(h.name)
        if have is None:
            out = subprocess.run(
                ["ip", "-n", h.ns, "-j", "-4", "addr", "show", "dev", "lo"], capture_output=True, text=True, check=True
            ).stdout
            have = {
                a["local"]
                for i in json.loads(out or "[]")
                for a in i.get("addr_info", [])
                if a.get("prefixlen") == 32 and not a["local"].startswith("127.")
            }
        if have == want:
            self.lo[h.name] = have
            return
        cmds = [f"addr del {ip}/32 dev lo" for ip in sorted(have - want)]
        cmds += [f"addr replace {ip}/32 dev lo" for ip in sorted(want - have)]
        subprocess.run(["ip", "-n", h.ns, "-b", "-"], input="\n".join(cmds) + "\n", text=True, check=True)
        self.lo[h.name] = set(want)
        log(f"{h.name}: service IPs {' '.join(sorted(want)) or '(none)'}")

    def _write(self, path: Path, text: str) -> bool:
        if path.exists() and path.read_text() == text:
            return False
        path.write_text(text)
        try:
            import shutil

            shutil.chown(path, "frr", "frr")
        except (LookupError, OSError):
            pass
        return True

    def reload(self, h: Host, daemon: str) -> None:
        """frr-reload.py --reload, as MetalLB's frr-reloader runs it on every new config; here twice.

        MetalLB ships its own FRR build; the lab's FRR is Debian's 8.4.4, whose frr-reload.py, removing
        ``neighbor X bfd profile P`` (which enabled BFD), leaves ``neighbor X bfd`` behind in one run (observed).
        The second run (a no-op once converged) removes it, so the speakers run what MetalLB's template says."""
        for _ in range(2):
            if not self._reload_once(h, daemon):
                return
        log(f"{h.name}: {daemon} reloaded")

    def _reload_once(self, h: Host, daemon: str) -> bool:
        d = self.frr_dir(h)
        res = subprocess.run(
            [
                sys.executable,
                FRR_RELOAD,
                "--reload",
                "--daemon",
                daemon,
                "--bindir",
                "/usr/bin",
                "--confdir",
                str(d),
                "--vty_socket",
                str(d / "run"),
                str(d / f"{daemon}.conf"),
            ],
            capture_output=True,
            text=True,
            timeout=30,
        )
        if res.returncode != 0:
            log(f"{h.name}: frr-reload {daemon} failed ({res.returncode}): {res.stderr.strip()[-400:]}")
            return False
        return True

    def sync_frr(self, h: Host, bgpd: str, bfdd: str) -> None:
        d = self.frr_dir(h)
        bgpd_up = self.lab.pid_of(f"{h.name}.bgpd") is not None
        bfdd_changed = self._write(d / "bfdd.conf", bfdd or f"hostname {h.server}\n")
        if bfdd and bgpd_up and not self.lab.pid_of(f"{h.name}.bfdd"):
            failures = self.lab.start_procs([p for p in self.lab.frr_procs(h) if p.kind in ("zebra", "bfdd")], 10.0)
            for f in failures:
                log(f"{h.name}: {f}")
            if not failures:
                log(f"{h.name}: bfdd started")
        elif bfdd_changed and self.lab.pid_of(f"{h.name}.bfdd"):
            self.reload(h, "bfdd")
        if self._write(d / "bgpd.conf", bgpd) and bgpd_up:
            self.reload(h, "bgpd")


def version(path: Path) -> tuple[int, int] | None:
    """Which version of the file is there: every writer renames a new file in (a new inode), and a change
    within one clock tick keeps the mtime."""
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_ino, st.st_mtime_ns


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lab.topology.speakers")
    parser.add_argument("--state", required=True, type=Path)
    parser.add_argument("--cluster", required=True)
    parser.add_argument("--interval", type=float, default=0.1, help="how often the world file's mtime is checked")
    args = parser.parse_args(argv)
    stop = False

    def _stop(*_: Any) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    sp = Speakers(args.state, args.cluster)
    last_pass = 0.0
    print(f"metallb for {args.cluster}: watching {sp.world_path}", flush=True)
    while not stop:
        # Also a pass every 2 s: a speaker healed after a change gets its bfdd, files stay in step.
        if version(sp.world_path) != sp.seen or time.monotonic() - last_pass > 2.0:
            sp.once()
            last_pass = time.monotonic()
        time.sleep(args.interval)
    return 0


if __name__ == "__main__":
    sys.exit(main())
