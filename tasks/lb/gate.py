"""API load balancers, the gate (like the router's): after each LB's change, until its services are active and
its HAProxy sees every apiserver UP (``lb_gate_checks``); after the last changed LB of a cluster, until the whole
pair is settled (``pair_gate_checks``): both LBs' services active and backends UP, exactly one LB holds the VIP
(the one VRRP elects: the highest priority), and ``/healthz`` through the VIP answers 200. Keepalived starts
every instance in BACKUP and claims the VIP only when no higher-priority advert came for three advert intervals
(RFC 5798's Master_Down_Interval), so right after a (re)start the VIP is held by no LB for ~3 s and may move once
more when the higher-priority peer claims it: deploy returns only after that. The waiting is
``tasks.core.rollout.wait_for_gate`` (``wait_for_lb_gate``, bounded by the gate timeout).

Before the change the same probe is read once (``lb_baseline``), and the gate judges what the change broke
(``tasks.core.rollout.Baseline``): an apiserver DOWN in an HAProxy before the change and after it passes, reported
as a warning; one that was UP and is not now fails the gate once it stays so for ``GATE_GRACE`` seconds (HAProxy
marks a server DOWN after ``fall`` failed checks, 2 x 2 s; VRRP elects again within ~3 s of a keepalived
restart), not after the whole timeout; so do the changed LB's services, the VIP and /healthz when they passed
before. Those, and an apiserver new to the backend, must pass within the timeout as without a baseline.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from nornir.core.inventory import Host
from nornir.core.task import Task

from checks import lb as lbchecks
from checks.parsers import haproxy_stat
from checks.verdict import CheckResult, errored, failed
from inventory.model import Cluster, LoadBalancer
from tasks.core import rollout
from tasks.core.report import one_line
from tasks.core.rollout import Baseline, read_baseline
from tasks.core.steps import run_step
from tasks.lb.remote import Remote, RemoteCommandFailed, SSHRemote, first_lines, service_active
from tasks.lb.render import (
    ADMIN_SOCKET,
    SERVICES,
    require_api_lb,
)

GATE_INTERVAL = 0.5
# Seconds something that worked before the change may stay broken after it before the gate fails (see above).
GATE_GRACE = 15.0
TOLERATE = (lbchecks.BACKENDS,)  # the checks whose single items (an apiserver) may have been down before


SHOW_STAT = (
    "if command -v socat >/dev/null 2>&1; then echo 'show stat' | socat stdio UNIX-CONNECT:{sock}; "
    "else echo 'show stat' | nc -N -U {sock}; fi"
)


def holds_vip(remote: Remote, vip: Any) -> bool:
    """Whether this LB has the VIP on an interface (``ip -4 -o addr show``); RemoteCommandFailed if unreadable."""
    rc, out = remote.run("ip -4 -o addr show")
    if rc != 0:
        raise RemoteCommandFailed(f"ip addr: {first_lines(out) or f'exit {rc}'}")
    return vip in lbchecks.ipv4_addresses(out)


def backends_check(remote: Remote, host: str, cluster: Cluster) -> CheckResult:
    """``lb.backends`` from the LB's HAProxy admin socket (``show stat``)."""
    expected = [m.name for m in sorted(cluster.masters, key=lambda m: m.name)]
    rc, out = remote.run(SHOW_STAT.format(sock=ADMIN_SOCKET))
    if rc != 0 or not out.strip():
        return errored(lbchecks.BACKENDS, host, cluster.name, f"show stat: {first_lines(out) or f'exit {rc}'}")
    try:
        return lbchecks.check_backends(host, cluster.name, haproxy_stat.parse(out), expected)
    except Exception as exc:
        return errored(lbchecks.BACKENDS, host, cluster.name, str(exc))


def lb_gate_checks(remote: Remote, host: str, cluster: Cluster) -> list[CheckResult]:
    """One LB after its change: haproxy and keepalived active, every apiserver UP in its HAProxy."""
    active = {s: service_active(remote, s) for s in SERVICES}
    return [lbchecks.check_services(host, cluster.name, active), backends_check(remote, host, cluster)]


HealthzFetch = Callable[[str], tuple[int | None, str]]


def pair_gate_checks(
    remotes: dict[str, Remote | str], cluster: Cluster, fetch: HealthzFetch, changed: str
) -> list[CheckResult]:
    """The pair after the last LB's change (``changed``): that LB's services and backends, the peer's
    backends when its HAProxy runs, the VIP on exactly one LB, the one VRRP elects (the highest priority
    among the LBs whose keepalived runs), and /healthz through the VIP. A peer that is degraded on its own
    (a service stopped) is verify's finding, not this change's. ``remotes``: LB name -> its Remote, or why
    it could not be reached."""
    api_lb = require_api_lb(cluster)
    results: list[CheckResult] = []
    holders: dict[str, bool] = {}
    unknown: dict[str, str] = {}
    electing: list[LoadBalancer] = []
    for lb in api_lb.lbs:
        remote = remotes.get(lb.name, "not connected")
        if isinstance(remote, str):
            unknown[lb.name] = remote
            if lb.name == changed:
                results += [errored(c, lb.name, cluster.name, remote) for c in (lbchecks.SERVICES, lbchecks.BACKENDS)]
            continue
        try:
            active = {s: service_active(remote, s) for s in SERVICES}
            if lb.name == changed:
                results.append(lbchecks.check_services(lb.name, cluster.name, active))
            if lb.name == changed or active["haproxy"]:
                results.append(backends_check(remote, lb.name, cluster))
            if active["keepalived"]:
                electing.append(lb)
            holders[lb.name] = holds_vip(remote, api_lb.vip)
        except Exception as exc:
            unknown[lb.name] = first_lines(str(exc)) or type(exc).__name__
    vip = lbchecks.check_vip(cluster.name, api_lb.vip, holders, unknown)
    elected = _elected(electing)
    held = [name for name, has in holders.items() if has]
    if vip.ok and elected is not None and held != [elected.name]:
        vip = failed(
            lbchecks.VIP,
            vip.host,
            cluster.name,
            f"held by {held[0]}, not yet by {elected.name} (priority {elected.priority}): VRRP has not settled",
        )
    results.append(vip)
    url = f"https://{api_lb.vip}:{api_lb.frontend_port}/healthz"
    status, body = fetch(url)
    results.append(lbchecks.check_healthz(cluster.name, api_lb.vip, url, status, body))
    return results


def _elected(lbs: list[LoadBalancer]) -> LoadBalancer | None:
    """The LB VRRP elects among those running keepalived: the highest priority (None: none or a tie)."""
    ranked = sorted(lbs, key=lambda lb: lb.priority, reverse=True)
    if not ranked or (len(ranked) > 1 and ranked[0].priority == ranked[1].priority):
        return None
    return ranked[0]


def gate_error(results: list[CheckResult], waited: float) -> str:
    """One line naming every failing check and why (and what was already down before the change)."""
    failing = [r for r in results if not r.ok]
    parts = [f"{r.check} {r.host}: {r.reason}" for r in failing]
    parts += [f"{r.check} {r.host}: {r.reason}" for r in results if r.ok and "before_change" in r.details]
    return f"gate failed after {waited:.1f} s: " + "; ".join(parts)


Probe = Callable[[], list[CheckResult]]


def gate_probe(task: Task, cluster: Cluster, remote: Remote, last: bool, hosts: Mapping[str, Host]) -> Probe:
    """One pass of the LB's gate: this LB's services and backends, and with ``last`` the whole pair
    (``pair_gate_checks``; the peer's session is opened here)."""
    name = task.host.name
    assert cluster.api_lb is not None
    if not last:
        return lambda: lb_gate_checks(remote, name, cluster)
    remotes: dict[str, Remote | str] = {name: remote}
    for lb in cluster.api_lb.lbs:
        if lb.name != name:
            remotes[lb.name] = _peer_remote(task, hosts, lb.name)
    return lambda: pair_gate_checks(remotes, cluster, _gate_fetch, name)


def lb_baseline(
    probe: Probe,
    settle: float = 0.0,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[Baseline, str]:
    """The gate's probe before the change, once steady (up to ``settle`` seconds: ``read_baseline``): the
    baseline, and why it is empty ("": read)."""
    return read_baseline(probe, TOLERATE, settle, GATE_INTERVAL, one_line, None, clock, sleep)


def wait_for_lb_gate(
    task: Task,
    cluster: Cluster,
    remote: Remote,
    last: bool,
    timeout: float,
    hosts: Mapping[str, Host],
    probe: Probe | None = None,
    baseline: Baseline | None = None,
    grace: float = GATE_GRACE,
) -> tuple[list[CheckResult], float]:
    """The gate step of one LB's change (``tasks.core.rollout.wait_for_gate``): ``probe`` (default ``gate_probe``)
    until it passes, judged by ``baseline`` (read before the change: what worked and stays broken for ``grace``
    seconds fails it then). A session that breaks mid-gate gives an ``lb.gate`` error (the caller restores)."""
    name = task.host.name
    what = "gate: services, backends, VIP, /healthz" if last else "gate: services, backends"

    def wait() -> tuple[list[CheckResult], float]:
        started = time.monotonic()
        try:
            poll = probe if probe is not None else gate_probe(task, cluster, remote, last, hosts)
            return rollout.wait_for_gate(poll, timeout, GATE_INTERVAL, baseline=baseline, grace=grace)
        except Exception as exc:  # the session broke mid-gate: still try to restore
            return [errored(lbchecks.GATE, name, cluster.name, one_line(exc))], time.monotonic() - started

    results: tuple[list[CheckResult], float] = run_step(task, what, wait, progress=_gate_progress)
    return results


def _gate_progress(value: tuple[list[CheckResult], float]) -> str:
    results, waited = value
    if all(r.ok for r in results):
        return f"gate passed in {waited:.1f}s"
    return f"gate failed after {waited:.1f}s: restore"


def _peer_remote(task: Task, hosts: Mapping[str, Host], name: str) -> Remote | str:
    """The other LB of the pair (also outside --limit), on its own Nornir connection; why not, when it
    cannot be reached."""
    try:
        return SSHRemote.from_host(hosts[name], task.nornir.config)
    except Exception as exc:
        return one_line(exc)


def _gate_fetch(url: str) -> tuple[int | None, str]:
    return lbchecks.fetch_healthz(url, timeout=2.0)
