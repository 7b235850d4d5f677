"""API load balancers (HAProxy + Keepalived): render, validate, plan, push atomically, reload, roll back.

Per LB host the managed files are ``/etc/haproxy/haproxy.cfg``, ``/etc/keepalived/keepalived.conf`` and
``/etc/keepalived/check_apiserver.sh`` (0755), rendered from ``templates/haproxy`` and ``templates/keepalived``.

Validation, before any device changes:
1. Locally (no device touched) with the real programs on a temp copy: ``haproxy -c -f`` and
   ``keepalived -t -f``. The copy differs from the pushed file only where the edgekit machine is not the LB,
   line for line (so line numbers in messages stay right): the admin socket goes to the temp dir, a
   ``user``/``group`` unknown here becomes the current one; keepalived's ``interface`` becomes a local
   non-loopback interface (``keepalived -t`` rejects unknown and loopback interfaces), ``script`` points at
   a temp copy of the rendered check script (``-t`` disables a missing script and exits 5), and
   ``script_user`` becomes the current user when not root (script security). A program that is not
   installed here is skipped with a note; the LB still validates.
2. On the LB: every changed file is uploaded as ``FILE.edgekit-new`` and checked there (``haproxy -c -f``,
   ``keepalived -t -f``, ``sh -n``). Any failure removes the temp files: nothing is renamed or reloaded.

Apply (phase two, only for changed hosts): re-read the remote files (changed since the plan: fail), then
per file ``cp -p FILE FILE.edgekit-bak`` and ``mv FILE.edgekit-new FILE`` (atomic rename), then
``systemctl reload-or-restart`` each service whose file changed (or that is not running). A failed reload
puts every replaced file back from its backup and reloads again; the host reports ``reverted`` with the
program's message. The check script alone changing needs no reload (keepalived runs it each interval),
and a service whose file did not change is not reloaded (a keepalived reload or restart puts the instance
back in BACKUP, which leaves the VIP with no LB until VRRP elects again).

Gate (``wait_for_gate``), like the router's: after each LB's change, until its services are active and its
HAProxy sees every apiserver UP; after the last changed LB of a cluster, until the whole pair is settled:
both LBs' services active and backends UP, exactly one LB holds the VIP (the one VRRP elects: the highest
priority), and ``/healthz`` through the VIP answers 200. Keepalived starts every instance in BACKUP and
claims the VIP only when no higher-priority advert came for three advert intervals (RFC 5798's
Master_Down_Interval), so right after a (re)start the VIP is held by no LB for ~3 s and may move once more
when the higher-priority peer claims it: deploy returns only after that. A gate that does not pass within
the gate timeout restores that LB's previous files and reloads (``revert_lb``); the host reports
``reverted`` with the failing checks.

Secrets: the VRRP ``auth_pass`` is resolved only here, and masked (``********``) in every diff and report.
Keepalived's PASS authentication uses 8 characters: a longer secret is cut to 8 (``keepalived -t`` rejects a
longer one) with a warning, identically on both LBs.
"""

from __future__ import annotations

import difflib
import getpass
import grp
import hashlib
import os
import pwd
import re
import shlex
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from nornir.core.task import Result, Task

from checks import lb as lbchecks
from checks.parsers import haproxy_stat
from checks.verdict import CheckResult, errored, failed
from inventory import ssh
from inventory.errors import EdgekitError, MissingFact
from inventory.model import ApiLB, Cluster, LoadBalancer
from inventory.secrets import MASK, K8sSecretReader
from tasks.defaults import LB_GATE_TIMEOUT
from templates import JINJA_ENV

DEFAULT_GATE_TIMEOUT = LB_GATE_TIMEOUT

HAPROXY_CFG = "/etc/haproxy/haproxy.cfg"
KEEPALIVED_CONF = "/etc/keepalived/keepalived.conf"
CHECK_SCRIPT = "/etc/keepalived/check_apiserver.sh"
ADMIN_SOCKET = "/run/haproxy/admin.sock"
NEW_SUFFIX = ".edgekit-new"
BAK_SUFFIX = ".edgekit-bak"
FAILED_SUFFIX = ".edgekit-failed"
VRRP_PASS_MAX = 8
SERVICES = ("haproxy", "keepalived")
GATE_INTERVAL = 0.5
SHOW_STAT = (
    "if command -v socat >/dev/null 2>&1; then echo 'show stat' | socat stdio UNIX-CONNECT:{sock}; "
    "else echo 'show stat' | nc -N -U {sock}; fi"
)

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


class ValidationFailed(Exception):
    """A rendered file the program rejects; the message is the program's, naming file and line."""


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


# --- render ------------------------------------------------------------------------------------------------


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


# --- local validation --------------------------------------------------------------------------------------


def _run(argv: list[str], timeout: float = 30.0) -> tuple[int, str]:
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    return proc.returncode, (proc.stdout + proc.stderr)


def program_errors(kind: FileKind, output: str, replace: dict[str, str] | None = None) -> str:
    """The lines of a program's output that say what is wrong, on one line, temp paths replaced."""
    lines: list[str] = []
    for raw in output.splitlines():
        line = raw.strip()
        if not line or line.startswith('See "systemctl status'):
            continue
        if kind == "haproxy":
            if "[NOTICE]" in line or "[WARNING]" in line or "Fatal errors found" in line:
                continue
            # "[ALERT]    (123) : config : parsing [f:21] : ..." -> "parsing [f:21] : ..."
            line = re.sub(r"^\[ALERT\]\s*\(\d+\)\s*:\s*(config\s*:\s*)?", "", line)
        lines.append(line)
    text = "; ".join(dict.fromkeys(lines)) or output.strip() or "invalid configuration"
    for old, new in (replace or {}).items():
        text = text.replace(old, new)
    return text


def _local_user() -> tuple[str, str]:
    uid, gid = os.getuid(), os.getgid()
    try:
        user = pwd.getpwuid(uid).pw_name
    except KeyError:
        user = getpass.getuser()
    try:
        group = grp.getgrgid(gid).gr_name
    except KeyError:
        group = str(gid)
    return user, group


def _known(lookup: Callable[[str], Any], name: str) -> bool:
    try:
        lookup(name)
        return True
    except KeyError:
        return False


def local_interface() -> str | None:
    """A non-loopback interface of this machine (keepalived -t wants the VRRP interface to exist)."""
    try:
        names = sorted(p.name for p in Path("/sys/class/net").iterdir())
    except OSError:
        return None
    candidates = [n for n in names if n != "lo"]
    return candidates[0] if candidates else None


def haproxy_local_copy(content: str, tmp: Path) -> str:
    user, group = _local_user()
    out = []
    for line in content.splitlines():
        m = re.match(r"^(\s*)(stats socket)\s+(\S+)(.*)$", line)
        if m:
            line = f"{m.group(1)}{m.group(2)} {tmp / 'admin.sock'}{m.group(4)}"
        m = re.match(r"^(\s*)(user|group)\s+(\S+)\s*$", line)
        if m:
            known = _known(pwd.getpwnam, m.group(3)) if m.group(2) == "user" else _known(grp.getgrnam, m.group(3))
            if not known:
                line = f"{m.group(1)}{m.group(2)} {user if m.group(2) == 'user' else group}"
        out.append(line)
    return "\n".join(out) + "\n"


def keepalived_local_copy(content: str, script: Path, interface: str | None) -> str:
    user, _ = _local_user()
    out = []
    for line in content.splitlines():
        if re.match(r"^\s*script\s+\"", line):
            line = re.sub(r"\"[^\"]*\"", f'"{script}"', line, count=1)
        elif interface and re.match(r"^\s*interface\s+\S+\s*$", line):
            line = re.sub(r"interface\s+\S+", f"interface {interface}", line)
        elif os.geteuid() != 0 and re.match(r"^\s*script_user\s+\S+", line):
            line = re.sub(r"script_user\s+\S+", f"script_user {user}", line)
        out.append(line)
    return "\n".join(out) + "\n"


def validate_local(rendered: RenderedLB) -> list[str]:
    """Check every rendered file with the real program on this machine; notes of checks skipped.

    Raises ``ValidationFailed`` with the program's message (file and line named as on the LB).
    """
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="edgekit-lb-") as name:
        tmp = Path(name)
        script = tmp / "check_apiserver.sh"
        script.write_text(rendered.file("script").content)
        script.chmod(0o755)
        rc, out = _run(["sh", "-n", str(script)])
        if rc != 0:
            raise ValidationFailed(
                f"sh -n {CHECK_SCRIPT}: {program_errors('script', out, {str(script): CHECK_SCRIPT})}"
            )

        if shutil.which("haproxy"):
            cfg = tmp / "haproxy.cfg"
            cfg.write_text(haproxy_local_copy(rendered.file("haproxy").content, tmp))
            rc, out = _run(["haproxy", "-c", "-f", str(cfg)])
            if rc != 0:
                raise ValidationFailed(f"haproxy -c: {program_errors('haproxy', out, {str(cfg): HAPROXY_CFG})}")
        else:
            notes.append("haproxy is not installed here: validated on the LB only")

        interface = local_interface()
        if not shutil.which("keepalived"):
            notes.append("keepalived is not installed here: validated on the LB only")
        elif interface is None:
            notes.append("no non-loopback interface here for keepalived -t: validated on the LB only")
        else:
            conf = tmp / "keepalived.conf"
            conf.write_text(keepalived_local_copy(rendered.file("keepalived").content, script, interface))
            rc, out = _run(["keepalived", "-t", "-f", str(conf)])
            if rc != 0:
                names = {str(conf): KEEPALIVED_CONF, str(script): CHECK_SCRIPT}
                message = mask(program_errors("keepalived", out, names), rendered.secrets)  # never echo the secret
                raise ValidationFailed(f"keepalived -t: {message}")
    return notes


# --- the remote host ---------------------------------------------------------------------------------------


class Remote(Protocol):
    """What the engine needs of an LB: run a shell command, read and write files."""

    def run(self, command: str, timeout: float = 60.0) -> tuple[int, str]: ...

    def read(self, path: str) -> tuple[str, int] | None:
        """(content, permission bits) or None when the file does not exist."""
        ...

    def write(self, path: str, content: str, mode: int) -> None: ...


class SSHRemote:
    """Exec channels and SFTP on the SSH transport of the host's Nornir ``netmiko`` connection.

    Netmiko opens and authenticates the session with the inventory's options (key, known_hosts);
    commands then run in their own exec channels, which give exit codes and stderr without prompt
    parsing, and files move over SFTP on the same transport.
    """

    def __init__(self, transport: Any) -> None:
        self.transport = transport
        self._sftp: Any = None

    @classmethod
    def from_task(cls, task: Task) -> SSHRemote:
        return cls.from_host(task.host, task.nornir.config)

    @classmethod
    def from_host(cls, host: Any, config: Any) -> SSHRemote:
        """The host's Nornir ``netmiko`` connection (opened if needed); a failure to connect raises
        ``ConnectError`` naming host, address and cause in one line (``inventory.ssh``)."""
        settings = host.data.get("ssh") or {}
        known_hosts = settings.get("known_hosts")
        port = host.port or 22
        if "netmiko" not in host.connections and settings.get("accept_new_host_keys") and known_hosts:
            ssh.accept_new_host_key(host.name, str(host.hostname), port, known_hosts)
        try:
            conn = host.get_connection("netmiko", config)
        except Exception as exc:
            raise ConnectError(ssh.connection_error(host.name, str(host.hostname), port, exc, known_hosts)) from None
        return cls(conn.remote_conn.get_transport())

    @property
    def sftp(self) -> Any:
        if self._sftp is None:
            import paramiko

            self._sftp = paramiko.SFTPClient.from_transport(self.transport)
        return self._sftp

    def run(self, command: str, timeout: float = 60.0) -> tuple[int, str]:
        chan = self.transport.open_session(timeout=timeout)
        try:
            chan.settimeout(timeout)
            chan.set_combine_stderr(True)
            chan.exec_command(command)
            chunks = []
            while True:
                data = chan.recv(65536)
                if not data:
                    break
                chunks.append(data)
            rc = chan.recv_exit_status()
        finally:
            chan.close()
        return rc, b"".join(chunks).decode(errors="replace")

    def read(self, path: str) -> tuple[str, int] | None:
        try:
            with self.sftp.open(path, "r") as fh:
                content = fh.read().decode(errors="replace")
            mode = self.sftp.stat(path).st_mode & 0o7777
        except FileNotFoundError:
            return None
        except OSError as exc:
            if getattr(exc, "errno", None) == 2:
                return None
            raise
        return content, mode

    def write(self, path: str, content: str, mode: int) -> None:
        with self.sftp.open(path, "w") as fh:
            fh.write(content.encode())
        self.sftp.chmod(path, mode)

    def close(self) -> None:
        if self._sftp is not None:
            self._sftp.close()
            self._sftp = None


def service_active(remote: Remote, service: str) -> bool:
    rc, _ = remote.run(f"systemctl is-active --quiet {service}")
    return rc == 0


# --- plan --------------------------------------------------------------------------------------------------


@dataclass
class FileState:
    file: LBFile
    current: str | None
    current_mode: int | None

    @property
    def changed(self) -> bool:
        return self.current != self.file.content or self.current_mode != self.file.mode

    @property
    def content_changed(self) -> bool:
        return self.current != self.file.content


@dataclass
class LBPlan:
    rendered: RenderedLB
    files: list[FileState]
    active: dict[str, bool]  # service -> running

    @property
    def changed_files(self) -> list[FileState]:
        return [f for f in self.files if f.changed]

    @property
    def reloads(self) -> list[str]:
        """Services to reload: their file changed, or they are not running (a reload starts them)."""
        out = []
        for service in SERVICES:
            if not self.active.get(service, False) or any(
                f.file.service == service and f.content_changed for f in self.files
            ):
                out.append(service)
        return out

    def __bool__(self) -> bool:
        return bool(self.changed_files or self.reloads)

    def actions(self) -> list[str]:
        out = []
        for f in self.changed_files:
            if f.current is None:
                out.append(f"create {f.file.path} (mode {f.file.mode:o})")
            elif not f.content_changed:
                out.append(f"chmod {f.file.mode:o} {f.file.path}")
            else:
                added = sum(1 for line in self.diff(f) if line.startswith("+") and not line.startswith("+++"))
                removed = sum(1 for line in self.diff(f) if line.startswith("-") and not line.startswith("---"))
                out.append(f"update {f.file.path} (+{added} -{removed})")
        for service in self.reloads:
            verb = "reload" if self.active.get(service) else "start"
            out.append(f"{verb} {service}")
        return out

    def diff(self, f: FileState) -> list[str]:
        return unified_diff(f.file.path, f.current, f.file.content, self.rendered.secrets)

    def diffs(self) -> dict[str, list[str]]:
        return {f.file.path: self.diff(f) for f in self.changed_files if f.content_changed}


def plan_lb(remote: Remote, rendered: RenderedLB) -> LBPlan:
    """Read the current files and service states (read only)."""
    files = []
    for f in rendered.files:
        got = remote.read(f.path)
        files.append(FileState(f, got[0] if got else None, got[1] if got else None))
    active = {s: service_active(remote, s) for s in SERVICES}
    return LBPlan(rendered, files, active)


# --- apply -------------------------------------------------------------------------------------------------


def remote_validate_command(kind: FileKind, path: str, script_new: str | None = None) -> str:
    """The check of an uploaded temp file on the LB; ``script_new``: validate against the new check script."""
    q = shlex.quote
    if kind == "haproxy":
        return f"haproxy -c -f {q(path)}"
    if kind == "script":
        return f"sh -n {q(path)}"
    if script_new is None:
        return f"keepalived -t -f {q(path)}"
    # The new conf names the final script path; check a copy naming the new script, so nothing live is touched.
    check = path + ".check"
    sed = f's#^\\([[:space:]]*script[[:space:]]*\\)"{CHECK_SCRIPT}"#\\1"{script_new}"#'
    return f"sed {q(sed)} {q(path)} > {q(check)} && keepalived -t -f {q(check)}; rc=$?; rm -f {q(check)}; exit $rc"


class ApplyError(Exception):
    pass


class ConnectError(EdgekitError):
    """An LB could not be reached over SSH (the message names host, address and cause)."""


def _checked(remote: Remote, command: str, what: str) -> str:
    rc, out = remote.run(command)
    if rc != 0:
        raise ApplyError(f"{what}: {one_line(out) or f'exit {rc}'}")
    return out


def one_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return "; ".join(lines[:4])


@dataclass
class ApplyOutcome:
    status: Literal["unchanged", "changed", "failed", "reverted"]
    error: str | None = None
    notes: list[str] = field(default_factory=list)
    reloaded: list[str] = field(default_factory=list)
    installed: list[FileState] = field(default_factory=list)  # files replaced (what revert_lb puts back)


Step = Callable[[str, str], None]


def _noop_step(host: str, step: str) -> None:
    return None


def apply_lb(remote: Remote, plan: LBPlan, host: str = "", step: Step = _noop_step) -> ApplyOutcome:
    """Phase two on one LB: upload, validate there, back up, rename, reload; roll back a failed reload."""
    if not plan:
        return ApplyOutcome("unchanged")
    secrets = plan.rendered.secrets
    changed = plan.changed_files
    # Someone changed the host since the plan: the diff shown is no longer what would be applied.
    for f in plan.files:
        got = remote.read(f.file.path)
        if (got[0] if got else None) != f.current:
            return ApplyOutcome("failed", f"{f.file.path} changed on the host since the plan; plan again")

    step(host, "upload")
    uploaded: list[str] = []
    try:
        for f in changed:
            remote.write(f.file.path + NEW_SUFFIX, f.file.content, f.file.mode)
            uploaded.append(f.file.path + NEW_SUFFIX)
        step(host, "validate")
        script_new = next((f.file.path + NEW_SUFFIX for f in changed if f.file.kind == "script"), None)
        for f in changed:
            if not f.content_changed:
                continue
            cmd = remote_validate_command(
                f.file.kind, f.file.path + NEW_SUFFIX, script_new if f.file.kind == "keepalived" else None
            )
            rc, out = remote.run(cmd)
            if rc != 0:
                program = {"haproxy": "haproxy -c", "keepalived": "keepalived -t", "script": "sh -n"}[f.file.kind]
                message = program_errors(f.file.kind, out, {f.file.path + NEW_SUFFIX: f.file.path})
                raise ApplyError(f"{program} on the host: {mask(message, secrets)}")
    except Exception as exc:
        if uploaded:
            remote.run("rm -f " + " ".join(shlex.quote(p) for p in uploaded))
        message = str(exc) if isinstance(exc, ApplyError) else f"upload failed: {one_line(str(exc))}"
        return ApplyOutcome("failed", message, ["nothing was replaced or reloaded"])

    # Back up and rename, script first so the new keepalived.conf never names a missing script.
    step(host, "install")
    order = {"script": 0, "haproxy": 1, "keepalived": 2}
    installed: list[FileState] = []
    try:
        for f in sorted(changed, key=lambda f: order[f.file.kind]):
            q = shlex.quote(f.file.path)
            if f.current is not None:
                _checked(remote, f"cp -p {q} {shlex.quote(f.file.path + BAK_SUFFIX)}", f"backup of {f.file.path}")
            _checked(remote, f"mv -f {shlex.quote(f.file.path + NEW_SUFFIX)} {q}", f"rename into {f.file.path}")
            installed.append(f)
    except ApplyError as exc:
        _restore(remote, installed)
        remote.run("rm -f " + " ".join(shlex.quote(p) for p in uploaded))
        return ApplyOutcome("reverted", str(exc), ["previous files restored"])

    outcome = ApplyOutcome("changed")
    for service in plan.reloads:
        step(host, f"reload {service}")
        rc, out = remote.run(f"systemctl reload-or-restart {service}", timeout=90.0)
        if rc == 0:
            outcome.reloaded.append(service)
            continue
        # Reload failed: the previous files go back and the services touched reload onto them.
        error = f"reload of {service} failed: {mask(program_errors('haproxy', out), secrets) or f'exit {rc}'}"
        step(host, "restore")
        _restore(remote, installed)
        notes = ["previous files restored from " + ", ".join(f.file.path + BAK_SUFFIX for f in installed if f.current)]
        for again in [*outcome.reloaded, service]:
            if not plan.active.get(again, False):
                continue  # was not running before this deploy: leave it as it was
            rc2, out2 = remote.run(f"systemctl reload-or-restart {again}", timeout=90.0)
            if rc2 == 0:
                notes.append(f"{again} reloaded with the previous config")
            else:
                notes.append(
                    f"{again} reload after restore also failed: {mask(program_errors('haproxy', out2), secrets)}"
                )
        return ApplyOutcome("reverted", error, notes, outcome.reloaded)
    if outcome.reloaded:
        outcome.notes.append("reloaded " + ", ".join(outcome.reloaded))
    outcome.installed = installed
    return outcome


def revert_lb(remote: Remote, plan: LBPlan, outcome: ApplyOutcome) -> list[str]:
    """Undo a change that did not pass its gate: the previous files back, the services reloaded onto them;
    a service this deploy started (it was not running before) is stopped again. Returns notes."""
    secrets = plan.rendered.secrets
    _restore(remote, outcome.installed)
    restored = [f.file.path for f in outcome.installed if f.current is not None]
    removed = [f.file.path for f in outcome.installed if f.current is None]
    notes = []
    if restored:
        notes.append("previous files restored: " + ", ".join(restored))
    if removed:
        notes.append("new files moved aside (*" + FAILED_SUFFIX + "): " + ", ".join(removed))
    for service in outcome.reloaded:
        if plan.active.get(service, False):
            rc, out = remote.run(f"systemctl reload-or-restart {service}", timeout=90.0)
            verb = "reloaded with the previous config"
        else:
            rc, out = remote.run(f"systemctl stop {service}", timeout=90.0)
            verb = "stopped again (it was not running before)"
        if rc == 0:
            notes.append(f"{service} {verb}")
        else:
            notes.append(f"{service}: {mask(program_errors('haproxy', out), secrets) or f'exit {rc}'}")
    return notes


def _restore(remote: Remote, installed: list[FileState]) -> None:
    """Put each replaced file back (the failed one kept as FILE.edgekit-failed); new files are moved aside."""
    for f in reversed(installed):
        q = shlex.quote(f.file.path)
        failed = shlex.quote(f.file.path + FAILED_SUFFIX)
        if f.current is None:
            remote.run(f"mv -f {q} {failed}")
            continue
        bak, new = shlex.quote(f.file.path + BAK_SUFFIX), shlex.quote(f.file.path + NEW_SUFFIX)
        remote.run(f"cp -p {q} {failed}; cp -p {bak} {new} && mv -f {new} {q}")


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# --- gate --------------------------------------------------------------------------------------------------


def holds_vip(remote: Remote, vip: Any) -> bool:
    """Whether this LB has the VIP on an interface (``ip -4 -o addr show``); raises ApplyError if unreadable."""
    rc, out = remote.run("ip -4 -o addr show")
    if rc != 0:
        raise ApplyError(f"ip addr: {one_line(out) or f'exit {rc}'}")
    return vip in lbchecks.ipv4_addresses(out)


def backends_check(remote: Remote, host: str, cluster: Cluster) -> CheckResult:
    """``lb.backends`` from the LB's HAProxy admin socket (``show stat``)."""
    expected = [m.name for m in sorted(cluster.masters, key=lambda m: m.name)]
    rc, out = remote.run(SHOW_STAT.format(sock=ADMIN_SOCKET))
    if rc != 0 or not out.strip():
        return errored("lb.backends", host, cluster.name, f"show stat: {one_line(out) or f'exit {rc}'}")
    try:
        return lbchecks.check_backends(host, cluster.name, haproxy_stat.parse(out), expected)
    except Exception as exc:
        return errored("lb.backends", host, cluster.name, str(exc))


def lb_gate_checks(remote: Remote, host: str, cluster: Cluster) -> list[CheckResult]:
    """One LB after its change: haproxy and keepalived active, every apiserver UP in its HAProxy."""
    active = {s: service_active(remote, s) for s in SERVICES}
    return [lbchecks.check_services(host, cluster.name, active), backends_check(remote, host, cluster)]


HealthzFetch = Callable[[str], tuple[int | None, str]]


def pair_gate_checks(
    remotes: dict[str, Remote | str], cluster: Cluster, fetch: HealthzFetch, changed: str
) -> list[CheckResult]:
    """The pair after the last LB's change (``changed``): that LB's services and backends, the peer's
    backends when its HAProxy runs, the VIP on exactly one LB, the one VRRP elects (the highest priority
    among the LBs whose keepalived runs), and /healthz through the VIP. A peer that is degraded on its own
    (a service stopped) is verify's finding, not this change's. ``remotes``: LB name -> its Remote, or why
    it could not be reached."""
    api_lb = require_api_lb(cluster)
    results: list[CheckResult] = []
    holders: dict[str, bool] = {}
    unknown: dict[str, str] = {}
    electing: list[LoadBalancer] = []
    for lb in api_lb.lbs:
        remote = remotes.get(lb.name, "not connected")
        if isinstance(remote, str):
            unknown[lb.name] = remote
            if lb.name == changed:
                results += [errored(c, lb.name, cluster.name, remote) for c in ("lb.services", "lb.backends")]
            continue
        try:
            active = {s: service_active(remote, s) for s in SERVICES}
            if lb.name == changed:
                results.append(lbchecks.check_services(lb.name, cluster.name, active))
            if lb.name == changed or active["haproxy"]:
                results.append(backends_check(remote, lb.name, cluster))
            if active["keepalived"]:
                electing.append(lb)
            holders[lb.name] = holds_vip(remote, api_lb.vip)
        except Exception as exc:
            unknown[lb.name] = one_line(str(exc)) or type(exc).__name__
    vip = lbchecks.check_vip(cluster.name, api_lb.vip, holders, unknown)
    elected = _elected(electing)
    held = [name for name, has in holders.items() if has]
    if vip.ok and elected is not None and held != [elected.name]:
        vip = failed(
            "lb.vip",
            vip.host,
            cluster.name,
            f"held by {held[0]}, not yet by {elected.name} (priority {elected.priority}): VRRP has not settled",
        )
    results.append(vip)
    url = f"https://{api_lb.vip}:{api_lb.frontend_port}/healthz"
    status, body = fetch(url)
    results.append(lbchecks.check_healthz(cluster.name, api_lb.vip, url, status, body))
    return results


def _elected(lbs: list[LoadBalancer]) -> LoadBalancer | None:
    """The LB VRRP elects among those running keepalived: the highest priority (None: none or a tie)."""
    ranked = sorted(lbs, key=lambda lb: lb.priority, reverse=True)
    if not ranked or (len(ranked) > 1 and ranked[0].priority == ranked[1].priority):
        return None
    return ranked[0]


def wait_for_gate(
    probe: Callable[[], list[CheckResult]],
    timeout: float,
    interval: float = GATE_INTERVAL,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[list[CheckResult], float]:
    """Probe until every check passes or ``timeout`` seconds have gone by: (last results, seconds waited)."""
    started = clock()
    deadline = started + timeout
    while True:
        results = probe()
        if all(r.ok for r in results) or clock() >= deadline:
            return results, clock() - started
        sleep(interval)


def gate_error(results: list[CheckResult], waited: float) -> str:
    """One line naming every failing check and why."""
    failing = [r for r in results if not r.ok]
    parts = [f"{r.check} {r.host}: {r.reason}" for r in failing]
    return f"gate failed after {waited:.1f} s: " + "; ".join(parts)


# --- Nornir tasks ------------------------------------------------------------------------------------------


def plan_lb_task(task: Task, rendered: RenderedLB, step: Step = _noop_step) -> Result:
    """Nornir task (read only): the LB's files and services against ``rendered`` (``render_lb``).

    Result: ``result`` (``LBPlan``, seconds the read took); ``changed`` True when the LB would change (a file
    or a service to reload); ``diff`` the unified diff of every changed file (secrets masked) and the actions.
    """
    step(task.host.name, "connect")
    remote = SSHRemote.from_task(task)
    step(task.host.name, "read")
    started = time.monotonic()
    plan = plan_lb(remote, rendered)
    return Result(host=task.host, result=(plan, time.monotonic() - started), changed=bool(plan), diff=_plan_diff(plan))


def _plan_diff(plan: LBPlan) -> str:
    lines = [line for diff in plan.diffs().values() for line in diff]
    return "\n".join([*lines, *(f"# {action}" for action in plan.actions())])


def apply_lb_task(task: Task, plan: LBPlan, step: Step = _noop_step) -> Result:
    """Nornir task: install the planned files (validated on the LB first), reload the services, or put the
    previous files back on an error (``apply_lb``).

    Result: ``result`` the ``ApplyOutcome`` (status unchanged/changed/failed/reverted, error, notes);
    ``changed`` True when the LB was changed and kept; ``diff`` as ``plan_lb_task``'s. Not marked failed for
    Nornir: the caller reads the outcome (a failed Result would raise in ``task.run``).
    """
    remote = SSHRemote.from_task(task)
    outcome = apply_lb(remote, plan, task.host.name, step)
    return Result(host=task.host, result=outcome, changed=outcome.status == "changed", diff=_plan_diff(plan))
