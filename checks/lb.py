"""API load balancer checks (``lb.*``): verdicts on state read from the LBs and through the VIP.

- ``lb.vip`` (per cluster): exactly one LB holds the VIP. Both (split brain, or a SIGKILLed keepalived
  leaving the address behind) or neither is a failure.
- ``lb.services`` (per LB): haproxy and keepalived run. A pair with one keepalived down still serves, but is
  degraded: the VIP has nowhere to go.
- ``lb.backends`` (per LB): every server of the apiserver backend is UP in ``show stat``; DOWN ones are named.
- ``lb.healthz`` (per cluster): GET https://VIP:port/healthz answers 200 ``ok``.
- ``lb.config`` (per LB): the files on the host equal the rendered ones.

The functions here only judge; reading the hosts is ``tasks.lb``'s job.
"""

from __future__ import annotations

import re
import ssl
import urllib.error
import urllib.request
from ipaddress import IPv4Address

from checks.parsers.models import HaproxyServer
from checks.verdict import CheckResult, failed, passed

SERVICES = "lb.services"
BACKENDS = "lb.backends"
CONFIG = "lb.config"
VIP = "lb.vip"
HEALTHZ = "lb.healthz"
GATE = "lb.gate"
IDS = (
    SERVICES,
    BACKENDS,
    CONFIG,
    VIP,
    HEALTHZ,
    GATE,
)  # the check ids this module judges

BACKEND = "apiserverbackend"
_INET = re.compile(r"\binet\s+(\d+\.\d+\.\d+\.\d+)/\d+")


def vip_subject(vip: IPv4Address | str) -> str:
    """The pseudo host of the per-cluster checks in tables and JUnit."""
    return f"vip {vip}"


def ipv4_addresses(output: str) -> set[IPv4Address]:
    """Addresses in ``ip -4 -o addr show`` output (one ``N: dev    inet A/P ...`` line each)."""
    return {IPv4Address(m.group(1)) for m in _INET.finditer(output)}


def check_vip(cluster: str, vip: IPv4Address, holders: dict[str, bool], unknown: dict[str, str]) -> CheckResult:
    """``holders``: LB -> holds the VIP; ``unknown``: LBs that could not be read, with why."""
    host = vip_subject(vip)
    held = sorted(name for name, has in holders.items() if has)
    # For metrics: each LB that answered and whether it holds the VIP; those that could not be read.
    details = {"vip": str(vip), "holders": held, "answered": sorted(holders), "unknown": sorted(unknown)}
    if unknown:
        reasons = "; ".join(f"{name}: {why}" for name, why in sorted(unknown.items()))
        if len(held) == 1:
            reason = f"held by {held[0]}, but not every LB answered ({reasons})"
            return failed(VIP, host, cluster, reason, details=details)
        return failed(VIP, host, cluster, f"cannot tell who holds the VIP ({reasons})", details=details)
    if len(held) == 1:
        return passed(VIP, host, cluster, f"held by {held[0]} only", details=details)
    if not held:
        return failed(VIP, host, cluster, "held by no LB", details=details)
    return failed(VIP, host, cluster, f"held by {len(held)} LBs at once: {', '.join(held)}", details=details)


def check_services(host: str, cluster: str, active: dict[str, bool], holds_vip: bool | None = None) -> CheckResult:
    down = [name for name, up in sorted(active.items()) if not up]
    items: dict[str, bool | None] = dict(active)
    if not down:
        return passed(SERVICES, host, cluster, "haproxy and keepalived running", items=items)
    role = "" if holds_vip is None else (" (holds the VIP)" if holds_vip else " (standby)")
    reason = f"not running: {', '.join(down)}{role}: the LB pair is degraded"
    return failed(SERVICES, host, cluster, reason, items=items)


def check_backends(
    host: str, cluster: str, rows: list[HaproxyServer], expected: list[str], backend: str = BACKEND
) -> CheckResult:
    """Every expected server of ``backend`` present and UP; each DOWN or missing one named in the reason."""
    servers = {r.server: r for r in rows if r.proxy == backend and r.kind == "server"}
    if not servers and not any(r.proxy == backend for r in rows):
        return failed(BACKENDS, host, cluster, f"no backend {backend!r} in show stat")
    problems = []
    items: dict[str, bool | None] = {}  # per server: UP, down (DOWN, MAINT...), or not in show stat (None)
    for name in expected:
        row = servers.get(name)
        # A server a freshly (re)started HAProxy has not checked yet shows UP with check_status INI (HAProxy
        # doc/management.txt "show stat" field check_status: "INI -> initializing"; "* " prefixes a check in
        # progress): not known to be up, so neither a verdict nor a baseline counts it as UP.
        pending = row is not None and (row.check_status or "").removeprefix("* ") == "INI"
        items[name] = None if row is None or pending else row.up
        if row is None:
            problems.append(f"{name} missing")
        elif pending:
            problems.append(f"{name} {row.status} (first health check pending)")
        elif not row.up:
            detail = row.check_desc or row.check_status or ""
            problems.append(f"{name} {row.status}" + (f" ({detail})" if detail else ""))
    extra = sorted(set(servers) - set(expected))
    if extra:
        problems.append("unexpected " + ", ".join(extra))
        items.update({f"unexpected {name}": False for name in extra})
    up = sum(1 for name in expected if items.get(name) is True)
    details = {"backend": backend, "expected": len(expected), "up": up}  # expected servers UP, for metrics
    if problems:
        return failed(BACKENDS, host, cluster, "; ".join(problems), details=details, items=items)
    up_all = f"{len(expected)}/{len(expected)} apiservers UP"
    return passed(BACKENDS, host, cluster, up_all, details=details, items=items)


def check_config(host: str, cluster: str, differing: list[str]) -> CheckResult:
    if differing:
        return failed(CONFIG, host, cluster, "differs from the rendered config: " + ", ".join(differing))
    return passed(CONFIG, host, cluster, "files equal the rendered ones")


def fetch_healthz(url: str, timeout: float = 3.0, ca_file: str | None = None) -> tuple[int | None, str]:
    """(HTTP status, body or error text). Without a CA the apiserver's certificate is not verified."""
    if ca_file:
        context = ssl.create_default_context(cafile=ca_file)
        context.check_hostname = False  # reached by the VIP, which a kubeadm cert may not name
    else:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    try:
        with urllib.request.urlopen(url, timeout=timeout, context=context) as resp:  # noqa: S310 (https only)
            return resp.status, resp.read(200).decode(errors="replace").strip()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(200).decode(errors="replace").strip()
    except (urllib.error.URLError, OSError, ssl.SSLError) as exc:
        reason = getattr(exc, "reason", exc)
        return None, str(reason)


def check_healthz(cluster: str, vip: IPv4Address, url: str, status: int | None, body: str) -> CheckResult:
    host = vip_subject(vip)
    if status == 200 and body == "ok":
        return passed(HEALTHZ, host, cluster, f"{url}: 200 ok", url)
    if status is None:
        return failed(HEALTHZ, host, cluster, f"{url}: {body}", url)
    return failed(HEALTHZ, host, cluster, f"{url}: {status} {body[:60]!r}", url)
