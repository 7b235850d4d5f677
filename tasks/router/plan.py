"""Router plan, phase one of ``plan`` and ``deploy`` (read only): connect, learn the dialect, read the running
config, render the intent, compute the change of the managed subtrees, and what an unconfirmed change would cost
(``plan_rollback``: reverted in place, or a reboot into the saved config).
"""

from __future__ import annotations

import logging
import shlex
import time
from collections.abc import Mapping
from dataclasses import dataclass

from nornir.core.inventory import Host
from nornir.core.task import Result, Task

from checks.config_diff import ConfigChange, diff, mask_line
from inventory.errors import EdgekitError, InputError
from inventory.model import Cluster
from inventory.nornir_plugin import EdgekitHost
from inventory.secrets import K8sSecretReader
from napalm_edgekit_vyos.driver import CONFIRM_ACTION_PATH, VyOSDriver
from tasks.core.report import HostReport, one_line, root_cause
from tasks.core.steps import run_step
from tasks.router.dialect import VENUE_RULESET, Dialect, resolve
from tasks.router.locks import RouterLock, RouterLocked
from tasks.router.render import RenderCache, RenderedConfig, managed_scope, render_router_task
from tasks.router.values import check_venue_firewall


@dataclass
class RouterPlan:
    """What phase one learned about a router: everything phase two needs to apply."""

    dialect: Dialect
    running: list[str]
    rendered: RenderedConfig
    change: ConfigChange
    rollback: str = "reboot"  # what an unconfirmed change costs: "reload" (in place) or "reboot"
    set_action: bool = False  # commit `action reload` before the change (1.4, node known, not yet set)
    cluster: Cluster | None = None  # the router's cluster (what phase two applies and gates against)
    report: HostReport | None = None  # the host's report, filled by both phases


def router_driver(task: Task) -> VyOSDriver:
    driver = task.host.get_connection("napalm", task.nornir.config)
    assert isinstance(driver, VyOSDriver), f"{task.host.name}: napalm platform must be edgekit_vyos"
    return driver


def router_dialect(cluster: Cluster, driver: VyOSDriver) -> Dialect:
    assert cluster.router is not None
    return resolve(cluster.router.dialect, driver.show)


def router_cluster(host: Host) -> Cluster:
    """The router's cluster model from the ``TFStateInventory`` plugin; InputError for any other host."""
    cluster = host.cluster_model if isinstance(host, EdgekitHost) else None
    if cluster is None or cluster.router is None or cluster.router.name != host.name:
        raise InputError(f"{host.name}: not a router of the TFStateInventory plugin", path="host")
    return cluster


def host_secret_reader(host: Host) -> K8sSecretReader | None:
    return host.secret_reader if isinstance(host, EdgekitHost) else None


def plan_router(
    task: Task,
    cluster: Cluster,
    report: HostReport | None = None,
    k8s_reader: K8sSecretReader | None = None,
    renders: RenderCache | None = None,
) -> Result:
    """Nornir task, phase one (read only): connect, detect the dialect, read the running config, render, diff.

    Steps (subtasks a Processor sees): ``connect``, ``read config``. ``renders``: the run's renders (the
    deploy's input check rendered the intent already); without it the intent is rendered here as a Nornir
    subtask (``render_router_task``). ``report``: the host's report to fill (a new one without it).

    Result: ``result`` the ``RouterPlan`` (its ``report`` has the masked change in ``commands``, ``status``
    ``planned`` or ``unchanged``, the dialect, rollback kind and timings); ``changed`` True when there is a
    change; ``diff`` the masked change; raises (a failed Result) on a connection, read or input error.
    """
    report = report if report is not None else HostReport(host=task.host.name, cluster=cluster.name)
    started = time.monotonic()
    driver = run_step(task, "connect", router_driver, task)
    report.timed("connect", started)
    started = time.monotonic()
    dialect, running = run_step(task, "read config", _read_config, driver, cluster, report)
    report.timed("read", started)
    refuse_firewall_in_the_way(cluster, dialect, running)
    rendered: RenderedConfig
    if renders is not None:
        rendered = renders.get(cluster, dialect, k8s_reader)
    else:
        rendered = task.run(
            task=render_router_task, cluster=cluster, dialect=dialect, k8s_reader=k8s_reader, severity_level=10
        ).result
    change = diff(running, rendered.lines, managed_scope(cluster, dialect))
    report.commands = [mask_line(c, rendered.secrets) for c in change.commands]
    report.status = "planned" if change else "unchanged"
    plan = RouterPlan(dialect, running, rendered, change, cluster=cluster, report=report)
    if change:
        plan.rollback, plan.set_action, why = plan_rollback(driver, cluster, dialect, running)
        report.rollback = plan.rollback
        report.notes.append(why)
    report.notes += change_notes(change, dialect, running)
    return Result(host=task.host, result=plan, changed=bool(change), diff="\n".join(report.commands))


def _read_config(driver: VyOSDriver, cluster: Cluster, report: HostReport) -> tuple[Dialect, list[str]]:
    """The router's dialect (in the report as soon as it is known) and its running config."""
    dialect = router_dialect(cluster, driver)
    report.dialect = dialect.version
    return dialect, driver.show("show configuration commands").splitlines()


class FirewallInTheWay(EdgekitError):
    """The router's own firewall holds the place edgekit's venue rule needs: that router is refused (nothing is
    changed on it), with one line saying what is in the way."""


VENUE_DESCRIPTION = "edgekit: venue pools only through "  # templates/vyos/firewall.j2: how edgekit's rule is known


def refuse_firewall_in_the_way(cluster: Cluster, dialect: Dialect, running: list[str]) -> None:
    """``FirewallInTheWay`` when the venue firewall (tasks/router/dialect.py) would silently replace the operator's.

    1.3: ``interfaces ethernet IF firewall in name`` holds one ruleset (vyatta-cfg-firewall equuleus
    gen-interface-templates.pl: a leaf, not a multi node); another one there (``WAN_IN``) would be detached by
    edgekit's ``EDGEKIT-VENUE-ONLY``, unless the site file merges the rule into it (``router.venue_firewall.ruleset``,
    which must then exist). 1.4+: edgekit owns ``firewall ipv4 forward filter rule N`` (``venue_firewall.rule``,
    default 10); a rule N there that is not edgekit's (its description is not edgekit's) would be rewritten; the
    same for rule N of a merged 1.3 ruleset. Checked in the plan, after the running config is read and before
    anything is committed."""
    router = cluster.router
    if router is None or cluster.wireguard is None or not cluster.venue_pools:
        return  # no venue firewall rendered for this cluster
    check_venue_firewall(cluster, dialect)  # the release is known now (`dialect: auto`): InputError, exit 2
    fw = router.venue_firewall
    ruleset = fw.ruleset or VENUE_RULESET
    setting = f"clusters.{cluster.name}.router.venue_firewall"
    words = [_words(line) for line in running]
    if not dialect.firewall_base_chains:
        for iface in dict.fromkeys([router.public_interface, router.node_interface]):
            path = ["set", "interfaces", "ethernet", iface, "firewall", "in", "name"]
            held = [w[len(path)] for w in words if w[: len(path)] == path and len(w) == len(path) + 1]
            other = [name for name in held if name not in (VENUE_RULESET, ruleset)]
            if other:
                raise FirewallInTheWay(
                    f"interfaces ethernet {iface} firewall in name holds the router's own ruleset {other[0]!r}, and "
                    f"VyOS {dialect.version} takes one ruleset there: edgekit's {ruleset} would detach it. Nothing "
                    f"changed; set {setting}.ruleset: {other[0]} to add the venue rule to it, or move it off {iface}"
                )
        if ruleset != VENUE_RULESET and not any(w[:4] == ["set", "firewall", "name", ruleset] for w in words):
            raise FirewallInTheWay(
                f"{setting}.ruleset {ruleset!r}: the router has no such ruleset (edgekit adds its rule to the "
                "router's own ruleset, it does not create one). Nothing changed"
            )
        if ruleset == VENUE_RULESET:
            return  # edgekit's own ruleset: every rule in it is edgekit's
    rule = dialect.firewall_rule(fw.rule, ruleset).split()
    rule_lines = [w[len(rule) + 1 :] for w in words if w[1 : len(rule) + 1] == rule]
    ours = any(rest[:1] == ["description"] and rest[-1].startswith(VENUE_DESCRIPTION) for rest in rule_lines)
    if rule_lines and not ours:
        raise FirewallInTheWay(
            f"{' '.join(rule)} exists and is not edgekit's (its description is not '{VENUE_DESCRIPTION}...'): "
            f"edgekit's venue rule would overwrite it. Nothing changed; set {setting}.rule to a free number"
        )


def _words(line: str) -> list[str]:
    try:
        return shlex.split(line)
    except ValueError:
        return line.split()


def change_notes(change: ConfigChange, dialect: Dialect, running: list[str]) -> list[str]:
    """What the plan must say about this change beyond its commands: masked values it could not compare, and a
    peer change of a WireGuard interface the router already has (1.4+ recreates the interface, vyos-1x
    sagitta/current interfaces_wireguard.py T4702; 1.3 removes and re-adds the changed peer, equuleus
    interfaces-wireguard.py). A new interface has no tunnel to drop."""
    notes = []
    if change.uncompared:
        notes.append(
            f"cannot compare {len(change.uncompared)} masked value(s) (the router showed '****************'): "
            + ", ".join(change.uncompared)
        )
    tunnels = sorted(
        {
            c.split()[3]
            for c in change.commands
            if c.split()[1:3] == ["interfaces", "wireguard"] and len(c.split()) > 4 and c.split()[4] == "peer"
        }
    )
    for ifname in tunnels:
        if not any(line.strip().startswith(f"set interfaces wireguard {ifname} ") for line in running):
            continue
        if dialect.wireguard_peer_change_recreates:
            notes.append(
                f"the tunnel {ifname} DROPS: a peer change makes VyOS {dialect.version} remove and re-create "
                f"{ifname} (its addresses and routes go until it is back)"
            )
        else:
            notes.append(f"{ifname}: the changed peer is removed and re-added (its session restarts; {ifname} stays)")
    return notes


def plan_rollback(driver: VyOSDriver, cluster: Cluster, dialect: Dialect, running: list[str]) -> tuple[str, bool, str]:
    """(rollback, set_action, why): what the router's commit-confirm timer would do to this change."""
    assert cluster.router is not None
    if f"set {CONFIRM_ACTION_PATH} 'reload'" in (line.strip() for line in running):
        return "reload", False, "unconfirmed: reverted in place (commit-confirm action reload is set)"
    if not dialect.revert_in_place:
        return (
            "reboot",
            False,
            f"unconfirmed: REBOOT into the saved config (VyOS {dialect.version} cannot revert in place)",
        )
    if not cluster.router.revert_in_place:
        return "reboot", False, "unconfirmed: REBOOT into the saved config (revert_in_place is off in the site file)"
    if driver.supports_confirm_action():
        return "reload", True, f"unconfirmed: reverted in place (edgekit sets {CONFIRM_ACTION_PATH} reload first)"
    return (
        "reboot",
        False,
        f"unconfirmed: REBOOT into the saved config (this router lacks {CONFIRM_ACTION_PATH}; "
        "it answered 'is not valid')",
    )


def plan_for_deploy(
    task: Task,
    clusters: Mapping[str, Cluster] | None = None,
    renders: RenderCache | None = None,
    k8s_readers: Mapping[str, K8sSecretReader | None] | None = None,
    lock: bool = False,
) -> Result:
    """Nornir task, phase one of ``edgekit plan|deploy`` for one router: take its local lock (``lock``: a
    deploy, so a second run fails at once for every router the first holds), then ``plan_router``; a
    failure is recorded in the host's report, not raised.

    ``clusters``/``k8s_readers``: by host name (the CLI's selection); without them, the host's own from the
    ``TFStateInventory`` plugin. Result: ``result`` the ``RouterPlan`` (with its ``report``), or the failed
    host's ``HostReport``; ``changed``/``diff`` as ``plan_router``'s; ``failed`` with ``exception`` on an
    error; ``lock`` the ``RouterLock`` held (release it when the run ends), ``progress`` ``locked`` when
    another run holds the router.
    """
    name = task.host.name
    cluster = clusters[name] if clusters is not None else router_cluster(task.host)
    reader = k8s_readers.get(name) if k8s_readers is not None else host_secret_reader(task.host)
    report = HostReport(host=name, cluster=cluster.name)
    held: RouterLock | None = None
    if lock:
        held = RouterLock(name, str(task.host.hostname), int(task.host.port or 22))
        try:
            held.acquire()
        except RouterLocked as exc:
            report.status = "failed"
            report.error = str(exc)
            return Result(host=task.host, result=report, failed=True, exception=exc, progress="locked", lock=None)
    try:
        planned = task.run(
            task=plan_router,
            cluster=cluster,
            report=report,
            k8s_reader=reader,
            renders=renders,
            severity_level=logging.DEBUG,
        )[0]
    except Exception as exc:
        record_failure(report, exc)
        return Result(host=task.host, result=report, failed=True, exception=root_cause(exc), lock=held)
    plan: RouterPlan = planned.result
    if lock and plan.report is not None and plan.report.status == "unchanged":  # a deploy with nothing to do
        finish_own_save(task, plan.report)
    return Result(host=task.host, result=plan, changed=planned.changed, diff=planned.diff, lock=held)


OWN_UNSAVED_NOTE = (
    "saved edgekit's own last commit, which an interrupted deploy had confirmed but not saved "
    "(the router's commit log and compare saved/compare 1 say so)"
)


def finish_own_save(task: Task, report: HostReport) -> None:
    """Nothing to change, but an earlier deploy may have been cut between its confirm and its save: save
    edgekit's own last commit (proven from the router's commit log, ``unsaved_is_own_commit``); someone
    else's unsaved commits are left alone and reported."""
    try:
        driver = router_driver(task)
        if not driver.unsaved_commits():
            return
        if driver.unsaved_is_own_commit():
            driver.save()
            report.notes.append(OWN_UNSAVED_NOTE)
        else:
            report.notes.append("the router has committed changes that are not saved (not edgekit's): left alone")
    except Exception as exc:
        report.notes.append(f"could not check the saved config: {one_line(exc)}")


def record_failure(report: HostReport, exc: BaseException) -> None:
    """The host failed with ``exc``: its one line (``input: ...`` for bad input) in the report."""
    text = one_line(exc)
    report.status = "failed"
    report.error = f"input: {text}" if isinstance(root_cause(exc), InputError) else text
