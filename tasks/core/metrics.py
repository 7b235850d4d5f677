"""Prometheus metrics from a run's report: the same data ``--json`` writes, as time series.

Everything here is built from a :class:`tasks.core.report.RunReport` (its hosts and their check results with
their ``details``), never from the verify engine's internals, so ``verify --metrics FILE`` and the
exporter (``tasks.edge.exporter``) say the same thing ``--json`` does. The families, their labels and the
``details`` keys they read are listed in README.md (*Metrics*): ``edgekit_check_ok`` and
``edgekit_check_status`` per check; sessions (bgp.peers, bfd.peers), next hops (ecmp.routes), handshake age
(wireguard.handshake), VIP holders (lb.vip), backends up (lb.backends), drift lines (compliance.config);
run duration and times; ``edgekit_build_info``.

A check that errored (the router could not be read) has no details: it shows in ``edgekit_check_*``
only, and the number families leave that host out rather than report a made-up zero. BFD sessions
(bfd.peers, when the cluster's BFD is on) are ``edgekit_bfd_sessions_expected`` and ``edgekit_bfd_sessions_up``.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterator
from importlib import metadata
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest, write_to_textfile
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from checks import bfd, bgp, compliance, ecmp, wireguard
from checks import lb as lbchecks
from checks.verdict import CheckResult
from tasks.core.report import HostReport, RunReport

STATUSES = ("pass", "fail", "error")


def version() -> str:
    try:
        return metadata.version("edgekit")
    except metadata.PackageNotFoundError:
        return "unknown"


def _results(report: RunReport) -> list[CheckResult]:
    return [r for host in report.hosts for r in host.checks]


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def check_families(report: RunReport) -> list[Metric]:
    """The per-check families and the numbers behind the verdicts (the table in this module's docstring)."""
    labels = ["cluster", "host", "check", "subject"]
    ok = GaugeMetricFamily("edgekit_check_ok", "1 when the check passed, 0 when it failed or errored", labels=labels)
    status = GaugeMetricFamily(
        "edgekit_check_status",
        "1 for the check's status (pass, fail, error), 0 for the others",
        labels=[*labels, "status"],
    )
    counts = GaugeMetricFamily("edgekit_checks", "check results of the run per status", labels=["status"])
    bgp_expected = GaugeMetricFamily(
        "edgekit_bgp_sessions_expected", "MetalLB speakers meant to peer with the router", labels=["cluster", "host"]
    )
    bgp_established = GaugeMetricFamily(
        "edgekit_bgp_sessions_established", "of the expected speakers, sessions Established", labels=["cluster", "host"]
    )
    bfd_expected = GaugeMetricFamily(
        "edgekit_bfd_sessions_expected", "speakers meant to have a BFD session (BFD on)", labels=["cluster", "host"]
    )
    bfd_up = GaugeMetricFamily("edgekit_bfd_sessions_up", "of those, BFD sessions up", labels=["cluster", "host"])
    ecmp_labels = ["cluster", "host", "service", "ip"]
    nexthops = GaugeMetricFamily(
        "edgekit_ecmp_nexthops",
        "next hops of a LoadBalancer IP that FRR selected and the kernel installed, among the expected ones",
        labels=ecmp_labels,
    )
    nexthops_expected = GaugeMetricFamily(
        "edgekit_ecmp_nexthops_expected", "nodes meant to serve the LoadBalancer IP", labels=ecmp_labels
    )
    handshake = GaugeMetricFamily(
        "edgekit_wireguard_handshake_age_seconds",
        "seconds since the venue peer's latest WireGuard handshake when the router was read (+Inf: never)",
        labels=["cluster", "host", "interface"],
    )
    vip_holder = GaugeMetricFamily(
        "edgekit_vip_holder", "1 when the LB holds the cluster's API VIP, 0 when not", labels=["cluster", "vip", "lb"]
    )
    vip_holders = GaugeMetricFamily(
        "edgekit_vip_holders", "LBs holding the API VIP (1 is healthy)", labels=["cluster", "vip"]
    )
    backend_labels = ["cluster", "host", "backend"]
    backends_up = GaugeMetricFamily(
        "edgekit_haproxy_backends_up", "expected apiservers UP in HAProxy's show stat", labels=backend_labels
    )
    backends_expected = GaugeMetricFamily(
        "edgekit_haproxy_backends_expected", "apiservers expected in the HAProxy backend", labels=backend_labels
    )
    drift = GaugeMetricFamily(
        "edgekit_config_drift_lines",
        "comply: running config lines the intent lacks (extra) and intended lines missing (missing)",
        labels=["cluster", "host", "kind"],
    )

    results = _results(report)
    for r in results:
        key = [r.cluster, r.host, r.check, r.subject or ""]
        ok.add_metric(key, 1.0 if r.status == "pass" else 0.0)
        for s in STATUSES:
            status.add_metric([*key, s], 1.0 if r.status == s else 0.0)
        d = r.details
        if not d or r.status == "error":
            continue
        if r.check == bgp.PEERS:
            _pair(bgp_expected, bgp_established, [r.cluster, r.host], d.get("expected"), d.get("established"))
        elif r.check == bfd.PEERS:
            _pair(bfd_expected, bfd_up, [r.cluster, r.host], d.get("expected"), d.get("up"))
        elif r.check == ecmp.ROUTES:
            ecmp_key = [r.cluster, r.host, str(d.get("service", "")), str(d.get("ip", ""))]
            _pair(nexthops_expected, nexthops, ecmp_key, d.get("expected"), d.get("nexthops"))
        elif r.check == wireguard.HANDSHAKE and "age_seconds" in d:
            age = _number(d["age_seconds"])
            handshake.add_metric([r.cluster, r.host, r.subject or ""], math.inf if age is None else age)
        elif r.check == lbchecks.VIP:
            vip = str(d.get("vip", ""))
            holders = set(d.get("holders", []))
            for lb in d.get("answered", []):
                vip_holder.add_metric([r.cluster, vip, lb], 1.0 if lb in holders else 0.0)
            if not d.get("unknown"):  # with an LB unread, the count would be a guess
                vip_holders.add_metric([r.cluster, vip], float(len(holders)))
        elif r.check == lbchecks.BACKENDS:
            backend_key = [r.cluster, r.host, str(d.get("backend", ""))]
            _pair(backends_expected, backends_up, backend_key, d.get("expected"), d.get("up"))
        elif r.check == compliance.CONFIG:
            for kind in ("extra", "missing"):
                value = _number(d.get(kind))
                if value is not None:
                    drift.add_metric([r.cluster, r.host, kind], value)
    for s in STATUSES:
        counts.add_metric([s], float(sum(r.status == s for r in results)))
    return [
        ok,
        status,
        counts,
        bgp_expected,
        bgp_established,
        bfd_expected,
        bfd_up,
        nexthops,
        nexthops_expected,
        handshake,
        vip_holder,
        vip_holders,
        backends_up,
        backends_expected,
        drift,
    ]


def _pair(expected: GaugeMetricFamily, found: GaugeMetricFamily, key: list[str], want: Any, have: Any) -> None:
    want_n, have_n = _number(want), _number(have)
    if want_n is not None and have_n is not None:
        expected.add_metric(key, want_n)
        found.add_metric(key, have_n)


def run_families(duration: float, last_run: float, last_success: float | None) -> list[Metric]:
    """Wall time and end of the last run, the end of the last run that produced a report."""
    duration_f = GaugeMetricFamily("edgekit_run_duration_seconds", "wall time of the last run")
    duration_f.add_metric([], max(0.0, duration))
    last_run_f = GaugeMetricFamily("edgekit_last_run_timestamp_seconds", "when the last run finished (Unix time)")
    last_run_f.add_metric([], last_run)
    families: list[Metric] = [duration_f, last_run_f]
    if last_success is not None:
        success = GaugeMetricFamily(
            "edgekit_last_success_timestamp_seconds", "when the last run that produced a report finished (Unix time)"
        )
        success.add_metric([], last_success)
        families.append(success)
    return families


def build_info(command: str) -> Metric:
    info = GaugeMetricFamily("edgekit_build_info", "edgekit's version; always 1", labels=["version", "command"])
    info.add_metric([version(), command], 1.0)
    return info


class RunReportMetrics(Collector):
    """A finished run's report as metrics (``verify --metrics``: the report exists, it is the last success)."""

    def __init__(self, report: RunReport) -> None:
        self.report = report

    def collect(self) -> Iterator[Metric]:
        finished = self.report.finished if self.report.finished is not None else self.report.started
        yield from check_families(self.report)
        yield from run_families(finished - self.report.started, finished, finished)
        yield build_info(self.report.command)


def registry_for(report: RunReport) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(RunReportMetrics(report))
    return registry


def write_textfile(report: RunReport, path: str) -> None:
    """node_exporter's textfile format, atomically: written beside ``path`` and renamed over it, so the
    collector never reads half a file (prometheus_client's ``write_to_textfile``). ``-``: stdout."""
    if path == "-":
        sys.stdout.write(generate_latest(registry_for(report)).decode())
        return
    write_to_textfile(path, registry_for(report))


# --- the JSON report back into a RunReport (the exporter reads what `verify --json` wrote) -----------------


def report_from_json(data: dict[str, Any]) -> RunReport:
    """The ``RunReport`` a ``--json`` file describes (fields it does not know are ignored)."""
    hosts: list[HostReport] = []
    for h in data.get("hosts", []):
        host = HostReport(host=h["host"], cluster=h["cluster"], role=h.get("role", "router"))
        host.status = h.get("status", "skipped")
        host.dialect = h.get("dialect")
        host.commands = list(h.get("commands", []))
        host.error = h.get("error")
        host.checks = [CheckResult.model_validate(c) for c in h.get("checks", [])]
        host.timings = dict(h.get("timings", {}))
        host.notes = list(h.get("notes", []))
        hosts.append(host)
    return RunReport(
        command=data.get("command", ""),
        hosts=hosts,
        warnings=list(data.get("warnings", [])),
        started=float(data.get("started", 0.0)),
        finished=data.get("finished"),
    )
