"""edgekit's Nornir tasks for your own Nornir scripts (docs/library.md).

Hosts come from the ``TFStateInventory`` plugin; each task reads the host's cluster from it (``EdgekitHost``
``cluster_model``, ``kube_facts``, ``secret_reader``), so a script passes nothing but the task::

    nr = InitNornir(inventory={"plugin": "TFStateInventory", "options": {...}})
    routers = nr.filter(F(groups__contains="role_router"))
    print_result(routers.run(task=plan))

Every task returns a Nornir ``Result`` whose ``result`` holds no secret (masked as ``********``) and whose
``changed``/``diff``/``failed`` say what happened, so ``print_result`` and your own processors show it.
Only ``deploy`` changes a device, as ``edgekit deploy`` does (commit-confirm, gate, confirm or restore).
"""

from __future__ import annotations

import logging

from nornir.core.task import Result, Task

from checks.config_diff import mask_line
from inventory.nornir_plugin import EdgekitHost
from tasks.core.defaults import DEFAULT_CONFIRM_TIMEOUT, DEFAULT_GATE_TIMEOUT
from tasks.core.report import HostReport
from tasks.router.apply import DeployOptions, deploy_router
from tasks.router.dialect import dialect_for
from tasks.router.plan import RouterPlan, host_secret_reader, plan_router, router_cluster, router_dialect, router_driver
from tasks.router.render import render_router_config
from tasks.router.verify import ClusterFacts, RouterVerdict, VerifyOptions, verify_router_task

__all__ = ["deploy", "plan", "render", "verify"]


def render(task: Task, vyos: str | None = None) -> Result:
    """The router's intended managed config, as ``set`` lines (secrets masked).

    ``vyos``: render for this VyOS version ("1.3", "1.4") without connecting; default: the site file's
    ``router.dialect``, or the version the router reports (connects with the host's ``napalm`` connection).

    Result: ``result`` the config text; ``changed`` False; ``failed`` only on an error (e.g. a missing
    Kubernetes secret: ``inventory.errors.MissingFact``, the failed Result's ``exception``).
    """
    cluster = router_cluster(task.host)
    if vyos:
        dialect = dialect_for(vyos)
    else:
        dialect = router_dialect(cluster, router_driver(task))
    rendered = render_router_config(cluster, dialect, host_secret_reader(task.host))  # a MissingFact stays one
    return Result(host=task.host, result="\n".join(mask_line(line, rendered.secrets) for line in rendered.lines))


def plan(task: Task) -> Result:
    """What ``edgekit deploy`` would change on the router (read only: connect, read, render, diff).

    Result: ``result`` the change as ``set``/``delete`` lines (secrets masked, empty when the router is
    as intended); ``changed`` True when there is a change (as NAPALM's dry run reports one); ``diff`` the
    same lines as text; ``failed`` only on an error (connection, unreadable config, missing fact).
    """
    cluster = router_cluster(task.host)
    report = HostReport(host=task.host.name, cluster=cluster.name)
    planned: RouterPlan = task.run(
        task=plan_router,
        cluster=cluster,
        report=report,
        k8s_reader=host_secret_reader(task.host),
        severity_level=logging.DEBUG,
    ).result
    return Result(host=task.host, result=report.commands, changed=bool(planned.change), diff="\n".join(report.commands))


def verify(task: Task, comply: bool = False, handshake_max_age: int | None = None) -> Result:
    """Every router check of ``edgekit verify`` (``comply=True``: plus the managed config against the intent).

    Result: ``result`` the list of ``checks.verdict.CheckResult`` (check, subject, status, reason);
    ``failed`` True when any check did not pass; ``diff`` the compliance drift (``comply``, masked);
    ``changed`` False. A host that cannot be read yields errored checks (``failed``), not an exception.
    """
    cluster = router_cluster(task.host)
    host = task.host
    kube = host.kube_facts if isinstance(host, EdgekitHost) else None
    facts = ClusterFacts.of(cluster, kube, host_secret_reader(host))
    options = VerifyOptions(comply=comply)
    if handshake_max_age is not None:
        options.handshake_max_age = handshake_max_age
    verdict: RouterVerdict = verify_router_task(task, facts, options).result
    return Result(
        host=host,
        result=verdict.results,
        failed=not all(r.ok for r in verdict.results),
        diff="\n".join(verdict.drift),
    )


def deploy(
    task: Task,
    dry_run: bool = False,
    confirm_timeout: int = DEFAULT_CONFIRM_TIMEOUT,
    gate_timeout: float = DEFAULT_GATE_TIMEOUT,
    save_first: bool = False,
    comment: str = "edgekit deploy",
) -> Result:
    """``edgekit deploy`` of one router: plan, then commit-confirm the change, wait (bounded) for the gate
    (the gate probes of ``tasks.router.features``), confirm and save, or put the previous config back.
    ``dry_run``: plan only.

    Unlike the CLI this takes no local lock and does no rollout order: the Nornir run you start is the rollout
    (run it on one cluster's router after the other for a canary).

    Result: ``result`` the ``tasks.core.report.HostReport`` (``status`` unchanged/changed/planned/failed/reverted,
    ``commands`` the masked change, ``checks`` the gate's verdicts, ``error``, ``notes``, ``rollback``,
    ``timings``); ``changed`` True when the change was committed and confirmed (``dry_run``: when there is
    one); ``diff`` the masked change; ``failed`` when the router failed or was reverted.
    """
    router_cluster(task.host)  # an InputError for a host that is not a router
    options = DeployOptions(
        dry_run=dry_run,
        confirm_timeout=confirm_timeout,
        gate_timeout=gate_timeout,
        save_first=save_first,
        comment=comment,
    )
    done = task.run(task=deploy_router, options=options, severity_level=logging.DEBUG)[0]
    return Result(host=task.host, result=done.result, changed=done.changed, diff=done.diff, failed=done.failed)
