"""API load balancers, render: the three managed files of one LB from the model and ``templates/``.

Per LB host the managed files are ``/etc/haproxy/haproxy.cfg``, ``/etc/keepalived/keepalived.conf`` and
``/etc/keepalived/check_apiserver.sh`` (0755), rendered from ``templates/haproxy`` and ``templates/keepalived``
(``render_lb``). Secrets: the VRRP ``auth_pass`` is resolved only here, and masked (``********``) in every diff
and report (``mask``, ``unified_diff``). Keepalived's PASS authentication uses 8 characters: a longer secret
is cut to 8 (``keepalived -t`` rejects a longer one) with a warning, identically on both LBs.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from inventory.errors import MissingFact
from inventory.model import ApiLB, Cluster, LoadBalancer
from inventory.secrets import MASK, K8sSecretReader
from templates import JINJA_ENV

HAPROXY_CFG = "/etc/haproxy/haproxy.cfg"
KEEPALIVED_CONF = "/etc/keepalived/keepalived.conf"
CHECK_SCRIPT = "/etc/keepalived/check_apiserver.sh"
ADMIN_SOCKET = "/run/haproxy/admin.sock"
VRRP_PASS_MAX = 8
SERVICES = ("haproxy", "keepalived")

# Values the templates read besides the model; tests override them (e.g. to force an invalid render).
DEFAULT_TUNING: dict[str, Any] = {
    "user": "haproxy",
    "group": "haproxy",
    "balance": "roundrobin",
    "timeout_connect": "5s",
    "timeout_stream": "4h",
    "timeout_check": "3s",
    "check_inter": "2s",
    "check_fall": 2,
    "check_rise": 2,
    "script_user": "root",
    "script_interval": 3,
    "script_fall": 10,
    "script_rise": 2,
    "advert_int": 1,
    "instance": "VI_1",
}


FileKind = Literal["haproxy", "keepalived", "script"]


@dataclass(frozen=True)
class LBFile:
    kind: FileKind
    path: str
    content: str
    mode: int = 0o644

    @property
    def service(self) -> str | None:
        """The unit to reload when this file changes (the check script is read at each run)."""
        return {"haproxy": "haproxy", "keepalived": "keepalived"}.get(self.kind)


@dataclass
class RenderedLB:
    cluster: str
    lb: LoadBalancer
    files: list[LBFile]
    secrets: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def file(self, kind: FileKind) -> LBFile:
        return next(f for f in self.files if f.kind == kind)


def require_api_lb(cluster: Cluster) -> ApiLB:
    cluster.require("api_lb")
    if cluster.api_lb is None:
        raise MissingFact(f"cluster {cluster.name} has no API LB pair", path=f"clusters.{cluster.name}.api_lb")
    if not cluster.masters:
        raise MissingFact(
            f"cluster {cluster.name} has no masters for the HAProxy backend", path=f"clusters.{cluster.name}.masters"
        )
    return cluster.api_lb


def find_lb(cluster: Cluster, name: str) -> tuple[LoadBalancer, LoadBalancer]:
    """(this LB, its peer) by host name."""
    api_lb = require_api_lb(cluster)
    mine = [lb for lb in api_lb.lbs if lb.name == name]
    if not mine:
        raise MissingFact(
            f"{name} is not one of the API LBs of {cluster.name}", path=f"clusters.{cluster.name}.api_lb.lbs"
        )
    return mine[0], next(lb for lb in api_lb.lbs if lb.name != name)


def vrrp_weight(api_lb: ApiLB) -> int:
    """Negative weight that puts a failing MASTER below a healthy BACKUP (keepalived allows -253..253)."""
    low, high = sorted(lb.priority for lb in api_lb.lbs)
    return -min(253, max(2, high - low + 1))


def render_lb(
    cluster: Cluster,
    lb_name: str,
    k8s_reader: K8sSecretReader | None = None,
    tuning: dict[str, Any] | None = None,
) -> RenderedLB:
    """The three files of one LB. Raises ``MissingFact``/``InputError`` for missing facts or secrets."""
    api_lb = require_api_lb(cluster)
    lb, peer = find_lb(cluster, lb_name)
    warnings: list[str] = []
    assert api_lb.auth_pass is not None  # require("api_lb") fails on a missing reference
    secret = api_lb.auth_pass.resolve(k8s_reader, field=f"clusters.{cluster.name}.lb.auth_pass").get_secret_value()
    if not secret:
        raise MissingFact("the VRRP auth_pass secret is empty", path=f"clusters.{cluster.name}.lb.auth_pass")
    if len(secret) > VRRP_PASS_MAX:
        warnings.append(
            f"{cluster.name}: the VRRP auth_pass has {len(secret)} characters; keepalived's PASS authentication "
            f"uses only the first {VRRP_PASS_MAX}, so edgekit renders those"
        )
        secret = secret[:VRRP_PASS_MAX]
    if any(c.isspace() or c in '"#!' for c in secret):
        raise MissingFact(
            "the VRRP auth_pass may not contain spaces, quotes, '#' or '!' (keepalived.conf syntax)",
            path=f"clusters.{cluster.name}.lb.auth_pass",
        )
    context: dict[str, Any] = {
        "cluster": cluster,
        "api_lb": api_lb,
        "lb": lb,
        "peer": peer,
        "masters": sorted(cluster.masters, key=lambda m: m.name),
        "bind": "*",
        "admin_socket": ADMIN_SOCKET,
        "check_script": CHECK_SCRIPT,
        "weight": vrrp_weight(api_lb),
        "auth_pass": secret,
        "t": {**DEFAULT_TUNING, **(tuning or {})},
    }
    files = [
        LBFile("haproxy", HAPROXY_CFG, JINJA_ENV.get_template("haproxy/haproxy.cfg.j2").render(**context)),
        LBFile(
            "script", CHECK_SCRIPT, JINJA_ENV.get_template("keepalived/check_apiserver.sh.j2").render(**context), 0o755
        ),
        LBFile(
            "keepalived", KEEPALIVED_CONF, JINJA_ENV.get_template("keepalived/keepalived.conf.j2").render(**context)
        ),
    ]
    return RenderedLB(cluster.name, lb, files, [secret], warnings)


# --- masking and diffs -------------------------------------------------------------------------------------

_AUTH_PASS = re.compile(r"^([-+ ]?\s*auth_pass\s+)\S+", re.MULTILINE)


def mask(text: str, secrets: list[str]) -> str:
    """Hide the VRRP password: any ``auth_pass`` value (also an old one on the host) and the known secrets."""
    text = _AUTH_PASS.sub(lambda m: m.group(1) + MASK, text)
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


def unified_diff(path: str, current: str | None, intended: str, secrets: list[str]) -> list[str]:
    # Diff the real text, then mask each line: a changed secret still shows as a -/+ pair (both masked).
    old = current.splitlines(keepends=True) if current is not None else []
    new = intended.splitlines(keepends=True)
    diff = difflib.unified_diff(old, new, f"a{path}" if current is not None else "/dev/null", f"b{path}")
    return [mask(line.rstrip("\n"), secrets) for line in diff]
