"""edgekit's Nornir tasks for your own Nornir scripts (docs/library.md).

Hosts come from the ``TFStateInventory`` plugin; each task reads the host's cluster from it (``EdgekitHost``
``cluster_model``, ``kube_facts``, ``secret_reader``), so a script passes nothing but the task::

    nr = InitNornir(inventory={"plugin": "TFStateInventory", "options": {...}})
    routers = nr.filter(F(groups__contains="role_router"))
    print_result(routers.run(task=plan))

Every task returns a Nornir ``Result`` whose ``result`` holds no secret (masked as ``********``) and whose
``changed``/``diff``/``failed`` say what happened, so ``print_result`` and your own processors show it.
Nothing here changes a device: the change itself goes through ``edgekit deploy`` (commit-confirm, gate,
confirm or restore).
"""

from __future__ import annotations

import logging

from nornir.core.inventory import Host
from nornir.core.task import Result, Task

from checks.config_diff import mask_line
from inventory.errors import InputError
from inventory.model import Cluster
from inventory.nornir_plugin import EdgekitHost
from inventory.secrets import K8sSecretReader
from tasks import deploy
from tasks.dialect import dialect_for
from tasks.render import render_router_config
from tasks.report import HostReport
from tasks.verify import ClusterFacts, RouterVerdict, VerifyOptions, verify_router_task

__all__ = ["plan", "render", "verify"]


def host_cluster(host: Host) -> Cluster:
    """The router's cluster model; InputError for a host that is not an edgekit router."""
    cluster = host.cluster_model if isinstance(host, EdgekitHost) else None
    if cluster is None or cluster.router is None or cluster.router.name != host.name:
        raise InputError(f"{host.name}: not a router of the TFStateInventory plugin", path="host")
    return cluster


def _reader(host: Host) -> K8sSecretReader | None:
    return host.secret_reader if isinstance(host, EdgekitHost) else None


def render(task: Task, vyos: str | None = None) -> Result:
    """The router's intended managed config, as ``set`` lines (secrets masked).

    ``vyos``: render for this VyOS version ("1.3", "1.4") without connecting; default: the site file's
    ``router.dialect``, or the version the router reports (connects with the host's ``napalm`` connection).

    Result: ``result`` the config text; ``changed`` False; ``failed`` only on an error (e.g. a missing
    Kubernetes secret: ``inventory.errors.MissingFact``, the failed Result's ``exception``).
    """
    cluster = host_cluster(task.host)
    if vyos:
        dialect = dialect_for(vyos)
    else:
        dialect = deploy.router_dialect(cluster, deploy.router_driver(task))
    rendered = render_router_config(cluster, dialect, _reader(task.host))  # a MissingFact stays one
    return Result(host=task.host, result="\n".join(mask_line(line, rendered.secrets) for line in rendered.lines))


def plan(task: Task) -> Result:
    """What ``edgekit deploy`` would change on the router (read only: connect, read, render, diff).

    Result: ``result`` the change as ``set``/``delete`` lines (secrets masked, empty when the router is
    as intended); ``changed`` True when there is a change (as NAPALM's dry run reports one); ``diff`` the
    same lines as text; ``failed`` only on an error (connection, unreadable config, missing fact).
    """
    cluster = host_cluster(task.host)
    report = HostReport(host=task.host.name, cluster=cluster.name)
    planned: deploy.RouterPlan = task.run(
        task=deploy.plan_router,
        cluster=cluster,
        report=report,
        k8s_reader=_reader(task.host),
        severity_level=logging.DEBUG,
    ).result
    return Result(host=task.host, result=report.commands, changed=bool(planned.change), diff="\n".join(report.commands))


def verify(task: Task, comply: bool = False, handshake_max_age: int | None = None) -> Result:
    """Every router check of ``edgekit verify`` (``comply=True``: plus the managed config against the intent).

    Result: ``result`` the list of ``checks.verdict.CheckResult`` (check, subject, status, reason);
    ``failed`` True when any check did not pass; ``diff`` the compliance drift (``comply``, masked);
    ``changed`` False. A host that cannot be read yields errored checks (``failed``), not an exception.
    """
    cluster = host_cluster(task.host)
    host = task.host
    kube = host.kube_facts if isinstance(host, EdgekitHost) else None
    facts = ClusterFacts.of(cluster, kube, _reader(host))
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
