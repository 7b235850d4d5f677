"""Faults: break a host (`python -m lab fault`) and mend it (`python -m lab heal`). Injected faults are kept
in faults.json in the state dir (`up` clears them, `status` reports them).
"""

from __future__ import annotations

import json
import os
import signal

from lab.topology import artifacts as A
from lab.topology import lbhost
from lab.topology.network import Network
from lab.topology.plan import Cluster, Host
from lab.topology.processes import Processes
from lab.topology.system import LabError, alive, kill_pids, read_pid, run

FAULTS = (
    "speaker-down",
    "link-down",
    "sshd-down",
    "keepalived-down",
    "apiserver-down",
    "wireguard-down",
    "network-unavailable",
    "exclude-lb",
    "cordon",
)
# Faults that are node states in the Kubernetes world (lab.kubeapi.world.set_node_state): fault kind -> state.
NODE_STATE_FAULTS = {
    "network-unavailable": "network_unavailable",
    "exclude-lb": "exclude_lb",
    "cordon": "unschedulable",
}


def read_faults(paths: A.Paths) -> dict[str, list[str]]:
    """The faults injected so far, per host."""
    try:
        return json.loads((paths.state / "faults.json").read_text())
    except (OSError, ValueError):
        return {}


class Faults(Processes, Network):
    """Fault injection and healing (a part of runtime.Lab)."""

    def write_world(self, c: Cluster) -> None:
        """The Kubernetes stand-in's world file, where a stopped speaker shows (runtime.Lab writes it)."""
        raise NotImplementedError

    def faults(self) -> dict[str, list[str]]:
        return read_faults(self.paths)

    def _save_faults(self, faults: dict[str, list[str]]) -> None:
        A.write_json(self.paths.state / "faults.json", {k: v for k, v in faults.items() if v})

    def fault(self, name: str, kind: str, link: str | None = None, hard: bool = False) -> str:
        h = self.plan.host(name)
        allowed = {
            "speaker-down": ("node",),
            "link-down": ("router", "lb", "master", "node", "venue", "upstream"),
            "sshd-down": ("lb", "router"),
            "keepalived-down": ("lb",),
            "apiserver-down": ("master",),
            "wireguard-down": ("venue",),
            **dict.fromkeys(NODE_STATE_FAULTS, ("node",)),
        }
        if kind not in allowed:
            raise LabError(f"unknown fault {kind!r}; one of {', '.join(FAULTS)}")
        if h.role not in allowed[kind]:
            raise LabError(f"{kind} applies to {'/'.join(allowed[kind])} hosts, not {h.name} ({h.role})")
        what = ""
        if kind == "speaker-down":
            # The speaker pod's FRR container goes as a whole: bfdd with bgpd and zebra.
            self.stop(f"{h.name}.bfdd", f"{h.name}.bgpd", f"{h.name}.zebra")
            what = "bgpd and zebra stopped (the speaker pod turns NotReady)"
        elif kind == "link-down":
            what = self.cut_links(h, link, cut=True)
        elif kind == "sshd-down":
            if h.role == "lb":
                self.stop(f"{h.name}.sshd")
                what = "sshd stopped (established sessions stay)"
            else:
                # The router's SSH server is its daemon: stopping it stops the router's CLI, while
                # FRR and the kernel keep forwarding (the daemon leaves them running when killed).
                pid = self.pid_of(f"{h.name}.router")
                if pid:
                    os.kill(pid, signal.SIGKILL)
                what = "router SSH daemon killed (routing goes on; heal restarts the router from its saved config)"
        elif kind == "keepalived-down":
            pids = self.lb_service_pids(h, "keepalived")
            if not pids:
                raise LabError(f"keepalived is not running on {h.name}")
            if hard:
                for pid in pids:
                    os.kill(pid, signal.SIGKILL)
            else:
                kill_pids(pids[:1], grace=3.0)  # the main process stops its children and releases the VIP
            (self.paths.host(h.name) / "run" / "keepalived.pid").unlink(missing_ok=True)
            what = "keepalived killed (SIGKILL: the VIP may stay)" if hard else "keepalived stopped (SIGTERM)"
        elif kind == "apiserver-down":
            self.stop(f"{h.name}.apiserver")
            what = "apiserver stopped"
        elif kind == "wireguard-down":
            self.stop(f"{h.name}.wireguard")
            what = "wireguard-go stopped"
        elif kind in NODE_STATE_FAULTS:
            what = {
                "network-unavailable": "node condition NetworkUnavailable True",
                "exclude-lb": "node labelled node.kubernetes.io/exclude-from-external-load-balancers",
                "cordon": "node cordoned (spec.unschedulable)",
            }[kind] + " in the Kubernetes world (the speaker's BGP session stays)"
        faults = self.faults()
        faults.setdefault(h.name, [])
        if kind not in faults[h.name]:
            faults[h.name].append(kind)
        self._save_faults(faults)
        if kind == "speaker-down" or kind in NODE_STATE_FAULTS:
            self.write_world(self.plan.clusters[h.cluster])
        return f"{h.name}: {kind}: {what}"

    def heal(self, name: str | None = None) -> list[str]:
        """Undo faults (all, or one host's) and start whatever of those hosts is not running."""
        targets = [self.plan.host(name)] if name else [h for h in self.plan.hosts]
        faults = self.faults()
        done = []
        for h in targets:
            kinds = faults.pop(h.name, [])
            if "link-down" in kinds or name:
                self.cut_links(h, None, cut=False)
            if kinds:
                done.append(f"{h.name}: healed {', '.join(kinds)}")
        self._save_faults(faults)
        for c in self.plan.clusters.values():
            self.write_world(c)
        names = {h.name for h in targets}
        failures = self.start_procs([p for p in self.procs() if p.host in names], 20.0)
        routers = self.start_routers() if any(h.role == "router" for h in targets) else {}
        for rname, (t, result) in routers.items():
            t.join(25.0)
            if "error" in result:
                failures.append(f"{rname}: {result['error']}")
        for h in targets:
            if h.role == "lb":
                self.heal_lb_services(h)
        if failures:
            raise LabError("heal incomplete: " + "; ".join(failures))
        return done

    def lb_service_pids(self, h: Host, svc: str) -> list[int]:
        run_dir = self.paths.host(h.name) / "run"
        files = [f"{svc}.pid"] + (
            ["keepalived.main.pid", "keepalived.vrrp.pid", "keepalived.checkers.pid"] if svc == "keepalived" else []
        )
        pids = []
        for f in files:
            pid = read_pid(run_dir / f)
            if pid and alive(pid) and pid not in pids:
                pids.append(pid)
        return pids

    def heal_lb_services(self, h: Host) -> None:
        d = self.paths.host(h.name)
        holder = self.pid_of(f"{h.name}.holder")
        if not holder:
            return
        for svc in ("haproxy", "keepalived"):
            if (d / "run" / f"{svc}.wanted").exists() and not self.lb_service_pids(h, svc):
                # The shim's path inside the host's mount namespace (the state dir may be hidden there).
                shim = str(lbhost.INNER / "bin" / "systemctl")
                run(["nsenter", "-t", str(holder), "-m", "-n", "-u", shim, "start", svc])
