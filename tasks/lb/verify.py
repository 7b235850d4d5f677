"""API load balancers, verify: read each LB (addresses, services, HAProxy's view of the backends, the managed
files) and judge it with ``checks.lb``; the VIP re-read while a VRRP election settles.

``python -m tasks.lb verify`` and ``python -m tasks.edge verify`` run these.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from ipaddress import IPv4Address

from nornir.core.task import Result, Task

from checks import lb as lbchecks
from checks.parsers import haproxy_stat
from checks.verdict import CheckResult, errored, failed, passed
from inventory.model import Cluster
from tasks.core.report import one_line
from tasks.core.runtime import Runtime
from tasks.lb.gate import SHOW_STAT, holds_vip
from tasks.lb.remote import Remote, SSHRemote, first_lines, service_active
from tasks.lb.render import ADMIN_SOCKET, SERVICES, RenderedLB

VIP_SETTLE = 5.0  # seconds verify re-reads a VIP held by no LB or by both (an election in progress)
VIP_REREAD_INTERVAL = 0.5


@dataclass
class LBState:
    """What verify reads from one LB."""

    addresses: set[IPv4Address] | None = None
    active: dict[str, bool] = field(default_factory=dict)
    stat: str | None = None
    differing: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)  # what could not be read -> why


def read_lb_state(remote: Remote, rendered: RenderedLB) -> LBState:
    state = LBState()
    rc, out = remote.run("ip -4 -o addr show")
    if rc == 0:
        state.addresses = lbchecks.ipv4_addresses(out)
    else:
        state.errors["addresses"] = first_lines(out) or f"ip addr exit {rc}"
    state.active = {s: service_active(remote, s) for s in SERVICES}
    rc, out = remote.run(SHOW_STAT.format(sock=ADMIN_SOCKET))
    if rc == 0 and out.strip():
        state.stat = out
    else:
        state.errors["show stat"] = first_lines(out) or f"exit {rc}"
    for f in rendered.files:
        got = remote.read(f.path)
        if got is None or got[0] != f.content or got[1] != f.mode:
            state.differing.append(f.path + (" (missing)" if got is None else ""))
    return state


def verify_lb_task(task: Task, rendered: RenderedLB) -> Result:
    remote = SSHRemote.from_task(task)
    return Result(host=task.host, result=read_lb_state(remote, rendered))


def lb_checks(name: str, cluster: Cluster, state: LBState) -> list[CheckResult]:
    assert cluster.api_lb is not None
    holds = state.addresses is not None and cluster.api_lb.vip in state.addresses
    results = [lbchecks.check_services(name, cluster.name, state.active, holds if state.addresses else None)]
    expected = [m.name for m in sorted(cluster.masters, key=lambda m: m.name)]
    if state.stat is None:
        results.append(errored(lbchecks.BACKENDS, name, cluster.name, f"show stat: {state.errors.get('show stat')}"))
    else:
        try:
            rows = haproxy_stat.parse(state.stat)
            results.append(lbchecks.check_backends(name, cluster.name, rows, expected))
        except Exception as exc:
            results.append(errored(lbchecks.BACKENDS, name, cluster.name, str(exc)))
    results.append(lbchecks.check_config(name, cluster.name, state.differing))
    return results


def read_lb_task(task: Task, rendered: Mapping[str, RenderedLB]) -> Result:
    """Nornir task: ``verify_lb_task`` on the host's render. Result: ``result`` the ``LBState``; ``seconds`` the
    read took; ``failed`` with ``exception`` when the LB could not be read."""
    started = time.monotonic()
    try:
        state = task.run(task=verify_lb_task, rendered=rendered[task.host.name], severity_level=10).result
    except Exception as exc:
        return Result(host=task.host, failed=True, exception=exc, seconds=time.monotonic() - started)
    return Result(host=task.host, result=state, seconds=time.monotonic() - started)


def vip_check(
    rt: Runtime | None, cluster: Cluster, holders: dict[str, bool], unknown: dict[str, str], bound: float = VIP_SETTLE
) -> CheckResult:
    """``lb.vip`` from the first read; a VIP held by no LB or by both is read again (both LBs, over their
    Nornir connections) for up to ``bound`` seconds before it is called a failure: a VRRP election in
    progress leaves the VIP nowhere for ~3 advert intervals, and verify samples both LBs at slightly
    different moments while it moves."""
    assert cluster.api_lb is not None
    first = lbchecks.check_vip(cluster.name, cluster.api_lb.vip, holders, unknown)
    if first.ok or unknown or rt is None or bound <= 0:
        return first
    hosts = [rt.nornir.inventory.hosts[name] for name in sorted(holders)]
    opened = [h for h in hosts if "netmiko" not in h.connections]  # edge verify has closed its sessions

    def read() -> dict[str, bool]:
        assert cluster.api_lb is not None
        out = {}
        for host in hosts:
            remote = SSHRemote.from_host(host, rt.nornir.config)
            out[host.name] = holds_vip(remote, cluster.api_lb.vip)
        return out

    try:
        return reread_vip(cluster, first, read, bound)
    finally:
        for host in opened:
            if "netmiko" in host.connections:
                host.close_connection("netmiko")


def reread_vip(
    cluster: Cluster,
    first: CheckResult,
    read: Callable[[], dict[str, bool]],
    bound: float = VIP_SETTLE,
    interval: float = VIP_REREAD_INTERVAL,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> CheckResult:
    """Re-read VIP ownership until exactly one LB holds it or ``bound`` seconds have passed; the reason
    tells that it was re-read, and what the first read saw."""
    assert cluster.api_lb is not None
    vip = cluster.api_lb.vip
    started = clock()
    reads = 0
    while clock() - started < bound:
        sleep(interval)
        try:
            holders = read()
        except Exception as exc:
            return failed(lbchecks.VIP, first.host, cluster.name, f"{first.reason}; re-reading failed: {one_line(exc)}")
        reads += 1
        result = lbchecks.check_vip(cluster.name, vip, holders, {})
        if result.ok:
            return passed(
                lbchecks.VIP,
                first.host,
                cluster.name,
                f"{result.reason} (first read: {first.reason}; settled {clock() - started:.1f} s later, "
                f"{reads} re-read(s))",
            )
    return failed(
        lbchecks.VIP,
        first.host,
        cluster.name,
        f"{first.reason} (still after re-reading for {clock() - started:.1f} s, {reads} re-read(s))",
    )
