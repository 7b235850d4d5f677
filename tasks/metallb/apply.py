"""MetalLB's side of the router's BGP sessions, as Nornir tasks (engine; the CLI is ``tasks.metallb.commands``).

Each task runs on a cluster's router host (the ``TFStateInventory`` plugin's ``EdgekitHost``, whose
``cluster_model`` is the cluster) and takes the cluster's Kubernetes API (``ClusterAPI``); each returns a
Nornir ``Result`` whose ``result`` holds no secret:

- ``metallb_render``: the objects for the cluster's form (``Result.result``: ``RenderedMetalLB``; print with
  ``masked_yaml``);
- ``metallb_plan``: what the cluster holds against the render, managed fields only (``result``: ``MetalLBPlan``,
  ``changed``, ``diff`` = the plan lines);
- ``metallb_apply``: server-side apply (field manager ``edgekit``) of the objects that differ, deletion of
  edgekit's objects no longer rendered (``result``: the lines applied; ``changed``); a conflict with another
  field manager fails it (``exception``: ``ApplyConflict`` naming manager and field) unless ``force``;
- ``metallb_gate``: waits (bounded) until the router's gate passes again — the speakers' sessions Established,
  every service IP over its next hops: ``tasks.router.apply.GATE_CHECKS``, the check functions verify uses (``result``:
  the ``CheckResult`` list; ``failed``);
- ``metallb_deploy``: apply then gate as named steps (``tasks.core.steps``: a live view shows them), the outcome
  in a ``HostReport`` (``result``; ``changed``, ``failed``, ``diff``), never raising;
- ``metallb_verify``: ``metallb.config``, the router gate's checks and ``private.reachability`` (``result``:
  CheckResults).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import yaml
from nornir.core.task import Result, Task

from checks import metallb as checks
from checks.config_diff import MASK
from checks.parsers import bgp_summary
from checks.verdict import CheckResult, errored, passed
from inventory.errors import EdgekitError, InputError
from inventory.model import Cluster
from inventory.nornir_plugin import EdgekitHost
from inventory.secrets import K8sSecretReader
from tasks.core.report import HostReport, one_line
from tasks.core.steps import run_step
from tasks.metallb.kube import ApplyConflict, ClusterAPI
from tasks.metallb.render import FIELD_MANAGER, Form, RenderedMetalLB, render_metallb

DEFAULT_GATE_TIMEOUT = 60.0
GATE_INTERVAL = 0.5
Show = Callable[[str], str]

__all__ = [
    "MetalLBPlan",
    "metallb_apply",
    "metallb_deploy",
    "metallb_gate",
    "metallb_plan",
    "metallb_render",
    "metallb_verify",
    "resolve_form",
]


def host_cluster(task: Task) -> Cluster:
    host = task.host
    cluster = host.cluster_model if isinstance(host, EdgekitHost) else None
    if cluster is None or cluster.router is None or cluster.router.name != host.name:
        raise InputError(f"{host.name}: not a router of the TFStateInventory plugin", path="host")
    return cluster


def resolve_form(cluster: Cluster, api: ClusterAPI | None, form: Form | None = None) -> Form:
    """The form to render: ``form`` if given, else the site's ``metallb.form``; ``auto`` asks the cluster."""
    if form is not None:
        return form
    wanted = cluster.metallb.form if cluster.metallb is not None else "auto"
    if wanted != "auto":
        return wanted
    if api is None:
        raise InputError(
            f"cluster {cluster.name}: metallb.form is auto and no kubeconfig to ask the cluster: give --form or a "
            "kubeconfig",
            path=f"clusters.{cluster.name}.metallb.form",
        )
    return api.served_form()


class _BlockDumper(yaml.SafeDumper):
    """Multi-line strings (the legacy ConfigMap's config) as YAML literal blocks, as a person writes them."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_BlockDumper.add_representer(str, _str)


def masked_yaml(rendered: RenderedMetalLB) -> str:
    """The objects as a multi-document YAML stream (``kubectl apply -f`` reads it), secrets masked."""
    text = yaml.dump_all(rendered.objects, Dumper=_BlockDumper, sort_keys=False, default_flow_style=False)
    for secret in rendered.secrets:
        if secret:
            text = text.replace(secret, MASK)
    return text


@dataclass
class MetalLBPlan:
    cluster: str
    rendered: RenderedMetalLB
    diffs: list[checks.ObjectDiff]
    stale: list[dict[str, Any]] = field(default_factory=list)  # edgekit's objects no longer rendered
    live: dict[str, dict[str, Any] | None] = field(default_factory=dict)  # object name -> what the cluster held
    notes: list[str] = field(default_factory=list)  # e.g. the router's BGPPeer taken over under its own name

    @property
    def lines(self) -> list[str]:
        return checks.plan_lines(self.diffs)

    def __bool__(self) -> bool:
        return any(self.diffs)


def _name(kind: str, obj: dict[str, Any]) -> tuple[str, str, str]:
    meta = obj.get("metadata") or {}
    return (kind, str(meta.get("namespace", "")), str(meta.get("name", "")))


class DuplicatePeer(EdgekitError):
    """Another BGPPeer (not edgekit's) peers with the router's address: MetalLB refuses two peers for one address."""


def adopt_or_refuse_peers(rendered: RenderedMetalLB, api: ClusterAPI, explicit_name: bool) -> str | None:
    """The router's BGPPeer is known by its address: without a site ``metallb.peer_name``, the cluster's one
    BGPPeer for that address is taken over under its own name (the rendered object is renamed; fields another
    manager owns are conflicts until ``--force-conflicts``), and the note says so. A second BGPPeer for the address
    next to edgekit's would break MetalLB's whole configuration (it rejects duplicate peers): ``DuplicatePeer``."""
    if rendered.form != "crds":
        return None
    ours = next((o for o in rendered.objects if o.get("kind") == "BGPPeer"), None)
    if ours is None:
        return None
    address = (ours.get("spec") or {}).get("peerAddress")
    others = [
        p
        for p in api.list_peers()
        if (p.get("metadata") or {}).get("name") != ours["metadata"]["name"]
        and (p.get("spec") or {}).get("peerAddress") == address
    ]
    mine = api.read("BGPPeer", ours["metadata"]["name"], ours["metadata"]["namespace"]) is not None
    if not others:
        return None
    names = [str((p.get("metadata") or {}).get("name")) for p in others]
    if not explicit_name and not mine and len(others) == 1:
        ours["metadata"]["name"] = names[0]
        return f"BGPPeer metallb-system/{names[0]} peers with {address}: edgekit takes it over"
    raise DuplicatePeer(
        f"BGPPeer metallb-system/{names[0]} (not edgekit's) also peers with {address}, and MetalLB accepts one peer "
        f"per address: take it over with the site file's metallb.peer_name: {names[0]}, or delete it"
    )


def plan_cluster(rendered: RenderedMetalLB, api: ClusterAPI) -> MetalLBPlan:
    """Read each rendered object (and edgekit's labelled ones) and diff over the managed fields. The router's
    BGPPeer: see ``adopt_or_refuse_peers``."""
    note = adopt_or_refuse_peers(rendered, api, rendered.peer_name_explicit)
    diffs: list[checks.ObjectDiff] = []
    live_by_name: dict[str, dict[str, Any] | None] = {}
    wanted = set()
    for obj in rendered.objects:
        kind, ns, name = _name(str(obj["kind"]), obj)
        wanted.add((kind, ns, name))
        live = api.read(kind, name, ns)
        live_by_name[checks.object_name(obj)] = live
        diffs.append(checks.diff_object(obj, live, FIELD_MANAGER, rendered.secrets))
    stale = [o for o in api.list_managed(rendered.form) if _name(str(o.get("kind")), o) not in wanted]
    diffs.extend(checks.ObjectDiff(checks.object_name(o), delete=True) for o in stale)
    return MetalLBPlan(rendered.cluster, rendered, diffs, stale, live_by_name, [note] if note else [])


def metallb_render(
    task: Task, api: ClusterAPI | None = None, form: Form | None = None, k8s_reader: K8sSecretReader | None = None
) -> Result:
    """The cluster's MetalLB objects (``result``: RenderedMetalLB, secrets listed in ``.secrets`` to mask)."""
    cluster = host_cluster(task)
    reader = k8s_reader or (task.host.secret_reader if isinstance(task.host, EdgekitHost) else None)
    rendered = render_metallb(cluster, resolve_form(cluster, api, form), reader)
    return Result(host=task.host, result=rendered)


def metallb_plan(
    task: Task, api: ClusterAPI, rendered: RenderedMetalLB | None = None, k8s_reader: K8sSecretReader | None = None
) -> Result:
    """What ``metallb_apply`` would change (read only). ``result``: MetalLBPlan; ``diff``: its lines."""
    if rendered is None:
        rendered = task.run(task=metallb_render, api=api, k8s_reader=k8s_reader, severity_level=10).result
    assert rendered is not None
    plan = plan_cluster(rendered, api)
    return Result(host=task.host, result=plan, changed=bool(plan), diff="\n".join(plan.lines))


def metallb_apply(task: Task, plan: MetalLBPlan, api: ClusterAPI, force: bool = False) -> Result:
    """Server-side apply every object that differs, then delete edgekit's stale objects. Idempotent: an object
    equal on the managed fields is not sent. ``ApplyConflict`` (another manager owns a field) stops it."""
    done: list[str] = []
    for obj, d in zip(plan.rendered.objects, plan.diffs, strict=False):
        if not d:
            continue
        api.apply(obj, force=force)
        done.append(("create " if d.new else "apply ") + d.name)
    for obj in plan.stale:
        api.delete(obj)
        done.append("delete " + checks.object_name(obj))
    return Result(host=task.host, result=done, changed=bool(done), diff="\n".join(plan.lines))


def router_show(task: Task) -> Show:
    from tasks.router import apply as deploy  # the one place that knows how a router's driver is obtained

    return deploy.router_driver(task).show


def gate_checks(show: Show, cluster: Cluster, host: str) -> list[CheckResult] | None:
    """The router's gate (``tasks.router.apply.GATE_CHECKS``: ``bgp.peers``, ``ecmp.routes`` and what else it lists, the
    check functions verify uses), or None when the router has none of the speakers as neighbors yet (a new
    cluster: MetalLB goes first, then ``router deploy`` configures the sessions and has this gate itself)."""
    from tasks.router import apply as deploy

    try:
        summary = bgp_summary.parse(show("show ip bgp summary"))
    except EdgekitError as exc:
        return [errored("bgp.peers", host, cluster.name, str(exc))]
    if cluster.speakers and not any(summary.peer(str(s.address)) for s in cluster.speakers):
        return None
    return [result for check in deploy.GATE_CHECKS for result in check(show, cluster, host)]


def wait_for_gate(
    show: Show,
    cluster: Cluster,
    host: str,
    timeout: float = DEFAULT_GATE_TIMEOUT,
    interval: float = GATE_INTERVAL,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> list[CheckResult] | None:
    """Poll ``gate_checks`` until they pass or ``timeout`` seconds have passed (the last results), or None when
    the router has no session for these speakers yet (nothing to wait for)."""
    deadline = clock() + timeout
    while True:
        results = gate_checks(show, cluster, host)
        if results is None or all(r.ok for r in results) or clock() >= deadline:
            return results
        sleep(interval)


def metallb_gate(task: Task, timeout: float = DEFAULT_GATE_TIMEOUT, interval: float = GATE_INTERVAL) -> Result:
    """Wait (bounded by ``timeout``) until every speaker's session with the router is Established with prefixes.
    ``result``: the last CheckResults (empty when the router has no session for these speakers yet: skipped)."""
    cluster = host_cluster(task)
    results = wait_for_gate(router_show(task), cluster, task.host.name, timeout, interval)
    if results is None:
        return Result(host=task.host, result=[])
    return Result(host=task.host, result=results, failed=not all(r.ok for r in results))


def metallb_deploy(
    task: Task,
    plan: MetalLBPlan,
    api: ClusterAPI,
    report: HostReport | None = None,
    force: bool = False,
    gate_timeout: float = DEFAULT_GATE_TIMEOUT,
) -> Result:
    """Apply ``plan`` (server-side, field manager ``edgekit``), then wait for the router's sessions with the
    speakers (the gate). ``result``: the ``HostReport`` (status changed/unchanged/failed, ``notes`` what was
    applied, ``checks`` the gate's verdicts, ``error`` a conflict naming manager and field, or the failing gate)."""
    cluster = host_cluster(task)
    report = report or HostReport(host="metallb", cluster=cluster.name, role="metallb")
    report.commands = plan.lines
    if not plan:
        report.status = "unchanged"
        return Result(host=task.host, result=report)
    started = time.monotonic()
    try:
        done: list[str] = run_step(
            task, "server-side apply", lambda: metallb_apply(task, plan, api, force=force).result
        )
    except Exception as exc:
        report.status = "failed"
        report.error = ("conflict: " if isinstance(exc, ApplyConflict) else "") + one_line(exc)
        report.timed("apply", started)
        return Result(host=task.host, result=report, failed=True, exception=exc, diff="\n".join(plan.lines))
    report.timed("apply", started)
    report.notes.extend(done)
    report.status = "changed"
    started = time.monotonic()
    try:
        gate = run_step(
            task,
            "gate: speakers' sessions with the router",
            lambda: wait_for_gate(router_show(task), cluster, task.host.name, gate_timeout),
        )
    except Exception as exc:
        gate = [errored("bgp.peers", task.host.name, cluster.name, one_line(exc))]
    report.timed("gate", started)
    waited = report.timings.get("gate", 0.0)
    if gate is None:
        report.notes.append("gate skipped: the router has no session with these speakers yet (router deploy next)")
    else:
        report.checks = gate
        if all(c.ok for c in gate):
            report.notes.append(f"gate passed in {waited:.1f} s (speakers Established)")
        else:
            report.status = "failed"
            report.error = "gate failed: " + "; ".join(f"{c.check}: {c.reason}" for c in gate if not c.ok)
    return Result(host=task.host, result=report, changed=True, failed=not report.ok, diff="\n".join(plan.lines))


def private_checks(show: Show, cluster: Cluster, host: str) -> list[CheckResult]:
    """private.reachability: each IP of a Service in a venue-scoped pool answers the router's ping sourced from
    its tunnel address (routed over the nodes like the venue's traffic; the tunnel's own leg is
    wireguard.handshake/wireguard.reachable, the firewall rule compliance.config)."""
    wg = cluster.wireguard
    venue = [n for p in cluster.venue_pools for n in p.addresses]
    out: list[CheckResult] = []
    for svc in cluster.services:
        for ip in svc.ips:
            if not any(ip in n for n in venue):
                continue
            subject = f"{svc.namespace}/{svc.name} {ip}"
            if wg is None:
                out.append(
                    errored(checks.CHECK_PRIVATE, host, cluster.name, "no WireGuard tunnel in the model", subject)
                )
                continue
            source = str(wg.address.ip)
            try:
                text = show(f"ping {ip} count 2 source-address {source}")
            except Exception as exc:
                out.append(errored(checks.CHECK_PRIVATE, host, cluster.name, one_line(exc), subject))
                continue
            out.append(checks.check_private(host, cluster.name, subject, source, text))
    return out


def metallb_verify(
    task: Task, api: ClusterAPI, rendered: RenderedMetalLB | None = None, show: Show | None = None
) -> Result:
    """metallb.config (the cluster's objects as rendered), the router gate's checks (bgp.peers, ecmp.routes, ...)
    and private.reachability from the router."""
    cluster = host_cluster(task)
    host = task.host.name
    results: list[CheckResult] = []
    try:
        if rendered is None:
            rendered = task.run(task=metallb_render, api=api, severity_level=10).result
        assert rendered is not None
        results.append(checks.check_config(cluster.name, plan_cluster(rendered, api).diffs, host))
    except EdgekitError as exc:
        results.append(errored(checks.CHECK_CONFIG, host, cluster.name, one_line(exc)))
    try:
        show = show or router_show(task)
        gate = gate_checks(show, cluster, host)
        results.extend(gate or [errored("bgp.peers", host, cluster.name, "the router has no session with a speaker")])
        results.extend(private_checks(show, cluster, host))
    except Exception as exc:
        results.append(errored("bgp.peers", host, cluster.name, one_line(exc)))
    if not any(r.check == checks.CHECK_PRIVATE for r in results) and cluster.venue_pools:
        results.append(
            passed(checks.CHECK_PRIVATE, host, cluster.name, "no Service holds a venue-scoped IP: nothing to probe")
        )
    return Result(host=task.host, result=results, failed=not all(r.ok for r in results))
