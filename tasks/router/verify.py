"""The verify engine: read each router once over op-mode commands and judge it with the checks.

Per router (all in parallel, one Nornir task each), every command is sent at most once per run (one
``tasks.router.features.Reader``): ``show version`` (only when the dialect is ``auto``), ``show configuration
commands``, then the probes of every feature of ``tasks.router.features`` (``show interfaces``, ``show ip bgp
summary``, ``show ip route <ip>`` per LoadBalancer IP, ``show bfd peers``, ``show interfaces wireguard wgN
summary``, ``ping <venue address> count 2``). What the router says is judged against the site model and what
Kubernetes said (``LoadResult.kube_facts``):

    bgp.peers  bgp.unexpected  bfd.peers (BFD on; ``show bfd peers``)  ecmp.routes (one per LoadBalancer IP)
    proxyarp.enabled
    wireguard.handshake  wireguard.reachable  consistency.metallb  compliance.config (comply only)

and per cluster, without a device, ``consistency.nodes`` (host ``kubernetes``). A check that cannot run
(the router is unreachable, an output does not parse) is an ``error`` naming why, never a silent pass.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from nornir.core.task import Result, Task

from checks import compliance, consistency, wireguard
from checks.parsers import config_commands
from checks.verdict import CheckResult, errored
from inventory.build import LoadResult
from inventory.kube import KubeFacts
from inventory.model import Cluster, Speaker
from inventory.secrets import K8sSecretReader
from inventory.speakers import speaker_nodes, withheld
from tasks.core.options import CommonOptions
from tasks.core.report import HostReport, one_line
from tasks.core.results import checks_report
from tasks.core.runtime import Runtime
from tasks.router.dialect import assumed, resolve
from tasks.router.features import ProbeContext, Reader, planned_probes, run_probes
from tasks.router.render import RenderCache, managed_scope

Show = Callable[[str], str]


@dataclass
class VerifyOptions:
    comply: bool = False
    handshake_max_age: int = wireguard.DEFAULT_MAX_AGE


@dataclass
class ClusterFacts:
    """What the checks of one cluster need besides the router's own output (computed once, before connecting)."""

    cluster: Cluster
    kube: KubeFacts | None = None
    kube_missing: str = ""  # why Kubernetes was not read (when ``kube`` is None)
    down: list[Speaker] = field(default_factory=list)  # speakers whose pod exists but is not Ready
    k8s_reader: K8sSecretReader | None = None
    # comply: the intent rendered once per run (validate_intent before connecting, then the compliance check)
    renders: RenderCache = field(default_factory=RenderCache)

    @classmethod
    def from_loaded(cls, loaded: LoadResult, cluster: Cluster) -> ClusterFacts:
        return cls.of(cluster, loaded.kube_facts.get(cluster.name), loaded.secret_reader(cluster.name))

    @classmethod
    def of(cls, cluster: Cluster, facts: KubeFacts | None, k8s_reader: K8sSecretReader | None) -> ClusterFacts:
        """The facts of ``cluster`` given what Kubernetes said about it (None: not read)."""
        missing = ""
        if facts is None:
            hint = next((w for w in cluster.warnings if "kubeconfig" in w or "Kubernetes" in w), "")
            missing = "Kubernetes was not read" + (f" ({hint})" if hint else "")
        return cls(
            cluster=cluster,
            kube=facts,
            kube_missing=missing,
            down=not_ready_speakers(cluster, facts),
            k8s_reader=k8s_reader,
        )


def not_ready_speakers(cluster: Cluster, facts: KubeFacts | None) -> list[Speaker]:
    """Nodes where MetalLB placed a speaker pod that is not Ready (the model's speakers are the Ready ones)."""
    if facts is None:
        return []
    ready = {s.name for s in cluster.speakers} | {str(s.address) for s in cluster.speakers}
    by_name = {n.name: n for n in cluster.nodes}
    asn = next(iter(cluster.speaker_asns), None) or (
        cluster.metallb_peers[0].my_asn if cluster.metallb_peers else 65021
    )
    out = []
    # The same selection as the model's speakers (inventory.speakers), of the pods that are not Ready.
    for kn in speaker_nodes(facts.nodes, cluster.metallb_peers, cluster.router, ready=False):
        node = by_name.get(kn.name) or next((n for n in cluster.nodes if n.address == kn.internal_ip), None)
        name = node.name if node else kn.name
        address = kn.internal_ip or (node.address if node else None)
        if address is None or name in ready or str(address) in ready:
            continue
        out.append(Speaker(name=name, address=address, asn=asn, ready=False, withheld=withheld(kn)))
    return out


def planned_checks(facts: ClusterFacts, options: VerifyOptions) -> list[tuple[str, str | None]]:
    """(check id, subject) of every result one router yields (the probes of ``tasks.router.features``, and
    ``compliance.config`` with comply): what a host that cannot be read errors on."""
    planned = planned_probes(facts.cluster)
    if options.comply:
        planned.append((compliance.CONFIG, None))
    return planned


@dataclass
class RouterVerdict:
    results: list[CheckResult]
    dialect: str | None = None
    drift: list[str] = field(default_factory=list)  # compliance lines, secrets masked


def verify_router(show: Show, facts: ClusterFacts, host: str, options: VerifyOptions) -> RouterVerdict:
    """Every check of one router from its op-mode output (``show`` is the driver's, or a fake in tests): the
    probes of every feature (``tasks.router.features``) and, with comply, ``compliance.config``."""
    cluster = facts.cluster
    router = cluster.router
    assert router is not None
    read = show if isinstance(show, Reader) else Reader(show)
    verdict = RouterVerdict(results=[])
    ctx = ProbeContext(
        read,
        cluster,
        host,
        down=facts.down,
        kube=facts.kube,
        kube_missing=facts.kube_missing,
        handshake_max_age=options.handshake_max_age,
    )
    # The running config serves proxy-ARP, MetalLB consistency and compliance: read it once.
    running_text: list[str] = []
    try:
        ctx.dialect = resolve(router.dialect, read)
        verdict.dialect = ctx.dialect.version
        running_text = read("show configuration commands").splitlines()
        ctx.running = config_commands.parse("\n".join(line for line in running_text if line.strip()))
    except Exception as exc:
        ctx.config_error = one_line(exc)
    verdict.results = run_probes(ctx)

    if options.comply:

        def compliance_check() -> list[CheckResult]:
            if ctx.config_error or ctx.dialect is None:
                raise RuntimeError(f"show configuration commands: {ctx.config_error}")
            rendered = facts.renders.get(cluster, ctx.dialect, facts.k8s_reader)
            scope = managed_scope(cluster, ctx.dialect)
            found = compliance.drift(running_text, rendered.lines, scope, rendered.secrets)
            verdict.drift = found.lines
            return [compliance.check_config(host, cluster, found)]

        verdict.results.extend(ctx.guarded([(compliance.CONFIG, None)], compliance_check))
    return verdict


def cluster_checks(facts: ClusterFacts) -> list[CheckResult]:
    """Checks of a cluster that need no device: Kubernetes nodes against tfstate nodes."""
    cluster = facts.cluster
    if facts.kube is None:
        reason = f"{facts.kube_missing}: cannot compare"
        return [errored(consistency.NODES, consistency.NODES_HOST, cluster.name, reason)]
    views = [consistency.KubeNodeView(n.name, n.internal_ip, n.ready) for n in facts.kube.nodes]
    return [consistency.check_nodes(cluster, views)]


def errored_all(facts: ClusterFacts, host: str, options: VerifyOptions, reason: str) -> list[CheckResult]:
    return [errored(c, host, facts.cluster.name, reason, s) for c, s in planned_checks(facts, options)]


def verify_router_task(task: Task, facts: ClusterFacts, options: VerifyOptions) -> Result:
    """Nornir task: connect with the host's ``napalm`` connection and verify. Never raises."""
    from tasks.router.plan import router_driver  # the one place that knows how a router's driver is obtained

    name = task.host.name
    try:
        driver = router_driver(task)
    except Exception as exc:
        return Result(host=task.host, result=RouterVerdict(errored_all(facts, name, options, one_line(exc))))
    return Result(host=task.host, result=verify_router(driver.show, facts, name, options))


def validate_intent(facts: Iterable[ClusterFacts]) -> None:
    """comply renders every router's intent before connecting: a missing fact or secret is exit 2."""
    for f in facts:
        router = f.cluster.router
        if router is None or f.cluster.refused:
            continue  # a refused cluster's router errors on every check instead (verify_cmd.router_jobs)
        f.renders.get(f.cluster, assumed(router.dialect), f.k8s_reader)


def verify_router_report(task: Task, targets: Mapping[str, ClusterFacts], options: VerifyOptions) -> Result:
    """Nornir task: verify one router (its cluster's facts from ``targets`` by host name) and report it.

    A router of a refused cluster is never connected to: every check errors with the input problem.
    Result: ``result`` the router's ``HostReport`` (``checks``, ``dialect``, ``commands`` the compliance drift,
    ``error`` ``input: ...`` when refused); ``failed`` when a check did not pass; ``diff`` the drift.
    """
    name = task.host.name
    facts = targets[name]
    started = time.monotonic()
    if facts.cluster.refused:  # never connected to: every check errors with the input problem
        reason = f"input: {facts.cluster.refused[0]}"
        report = checks_report(name, facts.cluster.name, "router", errored_all(facts, name, options, reason))
        report.error = reason
        return Result(host=task.host, result=report, failed=True)
    verdict: RouterVerdict = verify_router_task(task, facts, options).result
    report = checks_report(name, facts.cluster.name, "router", verdict.results)
    report.dialect = verdict.dialect
    report.commands = verdict.drift
    report.timed("verify", started)
    return Result(host=task.host, result=report, failed=not report.ok, diff="\n".join(verdict.drift))


def cluster_reports(
    targets: list[tuple[ClusterFacts, list[str]]], rt: Runtime | None = None, comply: bool = False
) -> list[HostReport]:
    """Per cluster: consistency.nodes; with ``comply`` (and ``rt``) also metallb.config, MetalLB's objects in the
    cluster against the render (``tasks.metallb``), where the site file states MetalLB's intent."""
    reports = []
    for facts, _ in targets:
        results = cluster_checks(facts)
        reports.append(checks_report(results[0].host, facts.cluster.name, "kubernetes", results))
        if comply and rt is not None and not facts.cluster.refused:
            from tasks.metallb.commands import config_check

            result = config_check(rt, facts.cluster)
            if result is not None:
                reports.append(checks_report(result.host, facts.cluster.name, "kubernetes", [result]))
    return reports


def router_facts(rt: Runtime, options: CommonOptions, missing: str = "") -> list[tuple[ClusterFacts, list[str]]]:
    """(cluster facts, router host names) of the selected routers in rollout order (``Runtime.targets``)."""
    return [(ClusterFacts.from_loaded(rt.loaded, c), names) for c, names in rt.targets("router", options, missing)]
