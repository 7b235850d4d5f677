"""API load balancers, local validation: every rendered file checked with the real program on this machine.

Before any device is touched, with the real programs on a temp copy: ``sh -n``, ``haproxy -c -f`` and
``keepalived -t -f``. The copy differs from the pushed file only where the edgekit machine is not the LB,
line for line (so line numbers in messages stay right): the admin socket goes to the temp dir, a
``user``/``group`` unknown here becomes the current one; keepalived's ``interface`` becomes a local
non-loopback interface (``keepalived -t`` rejects unknown and loopback interfaces), ``script`` points at
a temp copy of the rendered check script (``-t`` disables a missing script and exits 5), and
``script_user`` becomes the current user when not root (script security). A program that is not
installed here is skipped with a note; the LB still validates.
"""

from __future__ import annotations

import getpass
import grp
import os
import pwd
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tasks.lb.render import CHECK_SCRIPT, HAPROXY_CFG, KEEPALIVED_CONF, FileKind, RenderedLB, mask


class ValidationFailed(Exception):
    """A rendered file the program rejects; the message is the program's, naming file and line."""


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
