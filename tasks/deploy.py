"""Router deploy: plan every router in parallel, then apply with commit-confirm and a gate, cluster by cluster.

Per router: read ``show configuration commands``, render the intent, compute the change of the managed
subtrees. No change: ``unchanged`` without entering config mode. Otherwise ``commit-confirm`` the
change, wait (bounded) for the gate — every live speaker Established and every LoadBalancer IP routed
over exactly the expected next hops — then ``confirm`` and ``save``. A failed gate or an error puts
back the exact previous config by the inverse change; if edgekit itself dies, the router's own
commit-confirm timer restores it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from nornir.core.task import Result, Task

from checks.bgp import check_peers
from checks.config_diff import ConfigChange, diff, mask_line
from checks.ecmp import check_route, selected_route
from checks.parsers import bgp_summary, route
from checks.verdict import CheckResult, errored
from inventory.errors import EdgekitError
from inventory.model import Cluster
from inventory.secrets import K8sSecretReader, is_wireguard_key
from napalm_edgekit_vyos.driver import VyOSDriver
from tasks.dialect import Dialect, detect, dialect_for
from tasks.render import RenderedConfig, managed_scope, render_router_task
from tasks.report import HostReport, one_line

DEFAULT_CONFIRM_TIMEOUT = 300  # seconds the router waits for `confirm` before restoring itself
DEFAULT_GATE_TIMEOUT = 60.0


@dataclass
class DeployOptions:
    dry_run: bool = False
    confirm_timeout: int = DEFAULT_CONFIRM_TIMEOUT
    gate_timeout: float = DEFAULT_GATE_TIMEOUT
    gate_interval: float = 0.25  # FRR installs routes within a second of Established: poll often
    comment: str = "edgekit deploy"


@dataclass
class RouterPlan:
    """What phase one learned about a router: everything phase two needs to apply."""

    dialect: Dialect
    running: list[str]
    rendered: RenderedConfig
    change: ConfigChange


Step = Callable[[str, str], None]  # (host, step) -> None: progress reporting


def _noop_step(host: str, step: str) -> None:
    return None


def router_driver(task: Task) -> VyOSDriver:
    driver = task.host.get_connection("napalm", task.nornir.config)
    assert isinstance(driver, VyOSDriver), f"{task.host.name}: napalm platform must be edgekit_vyos"
    return driver


def router_dialect(cluster: Cluster, driver: VyOSDriver) -> Dialect:
    assert cluster.router is not None
    if cluster.router.dialect != "auto":
        return dialect_for(cluster.router.dialect)
    return detect(driver.show("show version"))


def plan_router(
    task: Task,
    cluster: Cluster,
    report: HostReport,
    k8s_reader: K8sSecretReader | None = None,
    step: Step = _noop_step,
) -> Result:
    """Phase one (read only): connect, detect the dialect, read the running config, render, diff."""
    started = time.monotonic()
    step(task.host.name, "connect")
    driver = router_driver(task)
    report.timed("connect", started)
    started = time.monotonic()
    step(task.host.name, "read config")
    dialect = router_dialect(cluster, driver)
    report.dialect = dialect.version
    running = driver.show("show configuration commands").splitlines()
    report.timed("read", started)
    rendered: RenderedConfig = task.run(
        task=render_router_task, cluster=cluster, dialect=dialect, k8s_reader=k8s_reader, severity_level=10
    ).result
    change = diff(running, rendered.lines, managed_scope(cluster, dialect))
    report.commands = [mask_line(c, rendered.secrets) for c in change.commands]
    report.status = "planned" if change else "unchanged"
    return Result(host=task.host, result=RouterPlan(dialect, running, rendered, change))


def apply_router(
    task: Task,
    cluster: Cluster,
    plan: RouterPlan,
    report: HostReport,
    options: DeployOptions,
    step: Step = _noop_step,
) -> Result:
    """Phase two: commit-confirm, gate, then confirm+save or restore the previous config."""
    driver = router_driver(task)
    name = task.host.name
    if not plan.change:
        report.status = "unchanged"
        return Result(host=task.host, result=report)
    if plan.dialect.wireguard_named_keys and cluster.wireguard is not None:
        _ensure_named_keypair(driver, cluster.wireguard.key_name, report)
    started = time.monotonic()
    step(name, "commit")
    try:
        driver.load_merge_candidate(config=plan.change.commands)
        driver.remember_running(plan.running)
        driver.commit_config(message=options.comment, revert_in=options.confirm_timeout)
    except Exception as exc:
        # The router's error quotes the failing line, secret values included: mask before reporting.
        raise ApplyError(mask_line(one_line(exc), plan.rendered.secrets)) from None
    report.timed("commit", started)
    try:
        started = time.monotonic()
        step(name, "gate")
        report.checks = wait_for_gate(driver, cluster, name, options)
        report.timed("gate", started)
        if all(c.ok for c in report.checks):
            started = time.monotonic()
            step(name, "confirm")
            driver.confirm_commit()
            report.timed("confirm", started)
            report.status = "changed"
            return Result(host=task.host, result=report)
        failing = [c for c in report.checks if not c.ok]
        report.error = "gate failed: " + "; ".join(f"{c.check}: {c.reason}" for c in failing[:3])
    except Exception as exc:  # the session broke mid-gate: still try to restore in place
        report.error = mask_line(f"error after commit: {one_line(exc)}", plan.rendered.secrets)
    step(name, "revert")
    started = time.monotonic()
    _restore(driver, plan.running, report, options, plan.rendered.secrets)
    report.timed("revert", started)
    return Result(host=task.host, result=report, failed=True)


def _restore(
    driver: VyOSDriver,
    previous: list[str],
    report: HostReport,
    options: DeployOptions,
    secrets: list[str],
) -> None:
    """Put the exact previous config back; a broken session gets one fresh one before giving up to the
    router's own commit-confirm timer."""
    for attempt in (1, 2):
        try:
            if attempt == 2:
                driver.close()
                driver.open()
            driver.restore(previous)
            now = driver.show("show configuration commands").splitlines()
        except Exception as exc:
            if attempt == 1:
                continue
            report.status = "failed"
            minutes = max(1, -(-options.confirm_timeout // 60))
            report.notes.append(
                f"could not restore ({mask_line(one_line(exc), secrets)}); "
                f"the router restores itself within {minutes} min (commit-confirm)"
            )
            return
        if _normalized(now) != _normalized(previous):
            report.status = "failed"
            report.notes.append("restored config differs from the previous one")
            return
        report.status = "reverted"
        report.notes.append("previous config restored")
        return


def _normalized(lines: list[str]) -> list[str]:
    return sorted(line.strip() for line in lines if line.strip().startswith("set "))


def _ensure_named_keypair(driver: VyOSDriver, name: str, report: HostReport) -> None:
    """VyOS 1.3 refers to WireGuard keys by the name of a keypair generated on the box; the venue needs
    its public key, so the report carries it."""
    pubkey = driver.show(f"show wireguard keypairs pubkey {name}").strip()
    if not is_wireguard_key(pubkey):
        driver.show(f"generate wireguard named-keypairs {name}")
        pubkey = driver.show(f"show wireguard keypairs pubkey {name}").strip()
        report.notes.append(f"generated WireGuard keypair {name!r} on the router")
    if is_wireguard_key(pubkey):
        report.notes.append(f"router WireGuard public key: {pubkey}")


def gate_checks(driver: VyOSDriver, cluster: Cluster, host: str) -> list[CheckResult]:
    """The checks a change must pass before it is confirmed: peers up, every service IP fully ECMP."""
    try:
        summary = bgp_summary.parse(driver.show("show ip bgp summary"))
    except EdgekitError as exc:
        return [errored("bgp.peers", host, cluster.name, str(exc))]
    results = [check_peers(host, cluster, summary)]
    for service in cluster.services:
        for ip in service.ips:
            try:
                entry = selected_route(route.parse(driver.show(f"show ip route {ip}")))
            except EdgekitError as exc:
                results.append(errored("ecmp.routes", host, cluster.name, str(exc), f"{service.name} {ip}"))
                continue
            results.append(check_route(host, cluster, service, str(ip), entry))
    return results


def wait_for_gate(driver: VyOSDriver, cluster: Cluster, host: str, options: DeployOptions) -> list[CheckResult]:
    deadline = time.monotonic() + options.gate_timeout
    while True:
        results = gate_checks(driver, cluster, host)
        if all(r.ok for r in results) or time.monotonic() >= deadline:
            return results
        time.sleep(options.gate_interval)


class ApplyError(EdgekitError):
    """The router refused the change (nothing was committed: the candidate was discarded)."""


class StopFlag:
    """Set by Ctrl-C: no new host starts; hosts already applying finish (or restore)."""

    def __init__(self) -> None:
        self.event = threading.Event()

    def set(self) -> None:
        self.event.set()

    def __bool__(self) -> bool:
        return self.event.is_set()
