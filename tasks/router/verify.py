"""The verify engine: read each router once over op-mode commands and judge it with the checks.

Per router (all in parallel, one Nornir task each), every command is sent at most once per run:
``show version`` (only when the dialect is ``auto``), ``show configuration commands``, ``show interfaces``,
``show ip bgp summary``, ``show ip route <ip>`` per LoadBalancer IP, ``show interfaces wireguard wgN
summary`` and ``ping <venue address> count 2``. What the router says is judged against the site model and
what Kubernetes said (``LoadResult.kube_facts``):

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
from typing import Any

from nornir.core.task import Result, Task

from checks import bfd, bgp, compliance, consistency, ecmp, proxyarp, wireguard
from checks.parsers import bfd_peers, bgp_summary, config_commands, interfaces, route
from checks.parsers import wireguard as wg_parser
from checks.parsers.models import ConfigCommand, Interface, WireguardInterface
from checks.verdict import CheckResult, errored, failed
from inventory.build import LoadResult
from inventory.kube import KubeFacts
from inventory.model import Cluster, Speaker
from inventory.secrets import K8sSecretReader
from inventory.speakers import speaker_nodes
from tasks.core.options import CommonOptions
from tasks.core.report import HostReport, one_line
from tasks.core.results import checks_report
from tasks.core.runtime import Runtime
from tasks.router.dialect import Dialect, assumed, resolve
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
        out.append(Speaker(name=name, address=address, asn=asn, ready=False))
    return out


def planned_checks(facts: ClusterFacts, options: VerifyOptions) -> list[tuple[str, str | None]]:
    """(check id, subject) of every result one router yields: what a host that cannot be read errors on."""
    cluster = facts.cluster
    planned: list[tuple[str, str | None]] = [(bgp.PEERS, None), (bgp.UNEXPECTED, None)]
    if cluster.bfd.enabled:
        planned.append((bfd.PEERS, None))
    planned += [(ecmp.ROUTES, f"{s.namespace}/{s.name} {ip}") for s in cluster.services for ip in s.ips]
    planned.append((proxyarp.ENABLED, None))
    wg = cluster.wireguard
    if wg is not None:
        planned.append((wireguard.HANDSHAKE, wg.interface))
        probe = wireguard.probe_address(wg)
        if probe is not None:
            planned.append((wireguard.REACHABLE, str(probe)))
    planned.append((consistency.METALLB, None))
    if options.comply:
        planned.append((compliance.CONFIG, None))
    return planned


class CachedShow:
    """Each op-mode command goes to the router once per run; later asks get the same text."""

    def __init__(self, show: Show) -> None:
        self._show = show
        self._outputs: dict[str, str] = {}
        self.sent: list[str] = []

    def __call__(self, command: str) -> str:
        if command not in self._outputs:
            self.sent.append(command)
            self._outputs[command] = self._show(command)
        return self._outputs[command]


@dataclass
class RouterVerdict:
    results: list[CheckResult]
    dialect: str | None = None
    drift: list[str] = field(default_factory=list)  # compliance lines, secrets masked


def verify_router(show: Show, facts: ClusterFacts, host: str, options: VerifyOptions) -> RouterVerdict:
    """Every check of one router from its op-mode output (``show`` is the driver's, or a fake in tests)."""
    cluster = facts.cluster
    router = cluster.router
    assert router is not None
    show = show if isinstance(show, CachedShow) else CachedShow(show)
    verdict = RouterVerdict(results=[])
    out = verdict.results

    def guarded(ids: Iterable[tuple[str, str | None]], judge: Callable[[], list[CheckResult]]) -> None:
        try:
            out.extend(judge())
        except Exception as exc:  # a parse error or a broken session fails these checks, not the run
            reason = one_line(exc)
            out.extend(errored(check, host, cluster.name, reason, subject) for check, subject in ids)

    planned = planned_checks(facts, options)

    # The running config serves proxy-ARP, MetalLB consistency and compliance: read it once.
    running_text: list[str] = []
    running: list[ConfigCommand] = []
    dialect: Dialect | None = None
    try:
        dialect = resolve(router.dialect, show)
        verdict.dialect = dialect.version
        running_text = show("show configuration commands").splitlines()
        running = config_commands.parse("\n".join(line for line in running_text if line.strip()))
        config_error = ""
    except Exception as exc:
        config_error = one_line(exc)

    def bgp_checks() -> list[CheckResult]:
        summary = bgp_summary.parse(show("show ip bgp summary"))
        return [
            bgp.check_peers(host, cluster, summary, facts.down),
            bgp.check_unexpected(host, cluster, summary, facts.down),
        ]

    guarded([(bgp.PEERS, None), (bgp.UNEXPECTED, None)], bgp_checks)

    if cluster.bfd.enabled:

        def bfd_check() -> list[CheckResult]:
            if cluster.bfd_mismatch:
                return [failed(bfd.PEERS, host, cluster.name, cluster.bfd_mismatch)]
            if dialect is None:
                raise RuntimeError(f"the VyOS version is unknown, so is its BFD command ({config_error})")
            peers = bfd_peers.parse(show(dialect.bfd_peers_command))
            return [bfd.check_peers(host, cluster, peers, facts.down)]

        guarded([(bfd.PEERS, None)], bfd_check)

    for service in cluster.services:
        for ip in service.ips:
            subject = f"{service.namespace}/{service.name} {ip}"

            def ecmp_check(service: Any = service, ip: Any = ip) -> list[CheckResult]:
                entry = ecmp.selected_route(route.parse(show(f"show ip route {ip}")))
                return [ecmp.check_route(host, cluster, service, str(ip), entry, facts.down)]

            guarded([(ecmp.ROUTES, subject)], ecmp_check)

    def proxyarp_check() -> list[CheckResult]:
        if config_error:
            raise RuntimeError(f"show configuration commands: {config_error}")
        ifaces: list[Interface] = interfaces.parse(show("show interfaces"))
        return [proxyarp.check_proxyarp(host, cluster, running, ifaces)]

    guarded([(proxyarp.ENABLED, None)], proxyarp_check)

    wg = cluster.wireguard
    if wg is not None:

        def handshake_check() -> list[CheckResult]:
            found: list[WireguardInterface] = wg_parser.parse(show(f"show interfaces wireguard {wg.interface} summary"))
            iface = next((i for i in found if i.name == wg.interface), None)
            return [wireguard.check_handshake(host, cluster, iface, options.handshake_max_age)]

        guarded([(wireguard.HANDSHAKE, wg.interface)], handshake_check)
        probe = wireguard.probe_address(wg)
        if probe is not None:

            def reachable_check() -> list[CheckResult]:
                return [wireguard.check_reachable(host, cluster, probe, show(wireguard.ping_command(probe)))]

            guarded([(wireguard.REACHABLE, str(probe))], reachable_check)

    def metallb_check() -> list[CheckResult]:
        if facts.kube is None:
            return [errored(consistency.METALLB, host, cluster.name, f"{facts.kube_missing}: cannot compare")]
        if config_error:
            raise RuntimeError(f"show configuration commands: {config_error}")
        running_bgp = consistency.running_bgp(running)
        return [consistency.check_metallb(host, cluster, facts.kube.peers, facts.kube.pools, running_bgp)]

    guarded([(consistency.METALLB, None)], metallb_check)

    if options.comply:

        def compliance_check() -> list[CheckResult]:
            if config_error or dialect is None:
                raise RuntimeError(f"show configuration commands: {config_error}")
            rendered = facts.renders.get(cluster, dialect, facts.k8s_reader)
            found = compliance.drift(running_text, rendered.lines, managed_scope(cluster, dialect), rendered.secrets)
            verdict.drift = found.lines
            return [compliance.check_config(host, cluster, found)]

        guarded([(compliance.CONFIG, None)], compliance_check)

    # Keep the planned order whatever order the guards finished in (stable tables and JUnit files).
    rank = {check: i for i, (check, _) in enumerate(planned)}
    out.sort(key=lambda r: rank.get(r.check, len(rank)))
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
