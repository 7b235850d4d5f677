"""MetalLB's gate: after an apply, wait (bounded) until the router's gate passes again (the speakers' sessions
Established, every service IP over its next hops: the gate probes of ``tasks.router.features``, read on the router).
"""

from __future__ import annotations

from collections.abc import Callable

from nornir.core.task import Result, Task

from checks import bgp
from checks.parsers import bgp_summary
from checks.verdict import CheckResult, errored
from inventory.errors import EdgekitError
from inventory.model import Cluster
from tasks.core import rollout
from tasks.router.features import Reader
from tasks.router.gate import gate_pass
from tasks.router.plan import router_cluster, router_driver

DEFAULT_GATE_TIMEOUT = 60.0
GATE_INTERVAL = 0.5
Show = Callable[[str], str]


def router_show(task: Task) -> Show:
    return router_driver(task).show


def gate_checks(show: Show, cluster: Cluster, host: str) -> list[CheckResult] | None:
    """The router's gate (``tasks.router.gate.gate_pass``: the gate probes of the feature table, the check
    functions verify uses), or None when the router has none of the speakers as neighbors yet (a new cluster:
    MetalLB goes first, then ``router deploy`` configures the sessions and has this gate itself). One ``Reader``
    per poll: ``show ip bgp summary`` is read and parsed once for both."""
    read = Reader(show)
    try:
        summary = read.parsed("show ip bgp summary", bgp_summary.parse)
    except EdgekitError as exc:
        return [errored(bgp.PEERS, host, cluster.name, str(exc))]
    if cluster.speakers and not any(summary.peer(str(s.address)) for s in cluster.speakers):
        return None
    return gate_pass(read, cluster, host)


def wait_for_gate(
    show: Show, cluster: Cluster, host: str, timeout: float = DEFAULT_GATE_TIMEOUT, interval: float = GATE_INTERVAL
) -> list[CheckResult] | None:
    """``gate_checks`` until they pass or ``timeout`` seconds have passed (``tasks.core.rollout.wait_for_gate``): the
    last results, or None when the router has no session for these speakers yet (nothing to wait for)."""
    results, _ = rollout.wait_for_gate(lambda: gate_checks(show, cluster, host), timeout, interval)
    return results


def metallb_gate(task: Task, timeout: float = DEFAULT_GATE_TIMEOUT, interval: float = GATE_INTERVAL) -> Result:
    """Wait (bounded by ``timeout``) until every speaker's session with the router is Established with prefixes.
    ``result``: the last CheckResults (empty when the router has no session for these speakers yet: skipped)."""
    cluster = router_cluster(task.host)
    results = wait_for_gate(router_show(task), cluster, task.host.name, timeout, interval)
    if results is None:
        return Result(host=task.host, result=[])
    return Result(host=task.host, result=results, failed=not all(r.ok for r in results))
