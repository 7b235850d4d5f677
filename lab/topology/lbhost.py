"""An API LB host: sshd in a private mount namespace where /etc/haproxy, /etc/keepalived, /run and
``systemctl`` are the host's own, so an SSH session sees a Linux host with haproxy and keepalived
installed but not configured, and ``systemctl reload haproxy`` works.

A *holder* process (``sleep infinity``) owns the mount namespace (and a UTS namespace with the host's
name); sshd, haproxy and keepalived are entered into it (sshd by the lab with nsenter, the services by
the ``systemctl`` shim that an SSH session runs). Because the holder outlives sshd, the lab can
restart sshd or a service after a fault.
"""

from __future__ import annotations

from pathlib import Path

INNER = Path("/run/lab")  # the host's directory, as seen inside its mount namespace
INNER_SSH = Path("/run/lab-ssh")  # the lab's ssh directory (host key, authorized_keys)


def holder_script(d: Path, ssh_dir: Path, hostname: str) -> str:
    # Order matters: /run becomes a private tmpfs first (sshd needs /run/sshd; nothing leaks to the
    # machine's /run); the host's directory is bound at /run/lab before /tmp and /root are covered
    # (the state dir may well live under /tmp), then the packaged paths get the host's own copies.
    return f"""set -e
rm -f '{d}/run/holder.ready'
hostname '{hostname}'
mount -t tmpfs -o mode=0755 lab-run /run
mkdir -p /run/sshd /run/haproxy {INNER} {INNER_SSH}
mount --bind '{d}' {INNER}
mount --bind '{ssh_dir}' {INNER_SSH}
mount --bind {INNER}/haproxy-run /run/haproxy
mount --bind {INNER}/etc/haproxy /etc/haproxy
mount --bind {INNER}/etc/keepalived /etc/keepalived
mount --bind {INNER}/bin /usr/local/sbin
if [ -e /usr/bin/systemctl ]; then mount --bind {INNER}/bin/systemctl /usr/bin/systemctl; fi
if [ -e /usr/sbin/service ]; then mount --bind {INNER}/bin/service /usr/sbin/service; fi
mount --bind {INNER}/tmp /tmp
mount --bind {INNER}/home /root
touch {INNER}/run/holder.ready
exec sleep infinity
"""


def sshd_check_script(d: Path, ssh_dir: Path) -> str:
    """`sshd -t` in a mount namespace shaped like the holder's (the config names /run/lab paths)."""
    return (
        f"mount -t tmpfs lab-run /run && mkdir -p /run/sshd {INNER} {INNER_SSH} && "
        f"mount --bind '{d}' {INNER} && mount --bind '{ssh_dir}' {INNER_SSH} && "
        f"/usr/sbin/sshd -t -f {INNER}/sshd_config"
    )


def sshd_config() -> str:
    return "\n".join(
        [
            "Port 22",
            "ListenAddress 0.0.0.0",
            f"HostKey {INNER_SSH}/ssh_host_ed25519_key",
            f"AuthorizedKeysFile {INNER_SSH}/authorized_keys",
            f"PidFile {INNER}/run/sshd.pid",
            "PermitRootLogin prohibit-password",
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            "UsePAM no",
            "StrictModes no",
            "PrintMotd no",
            "UseDNS no",
            "Subsystem sftp internal-sftp",
            "",
        ]
    )


def systemctl_shim() -> str:
    """POSIX sh ``systemctl`` for units haproxy and keepalived (others: ssh is active, the rest unknown)."""
    return f"""#!/bin/sh
# systemctl stand-in of a lab LB host (lab/README.md, "LB reload shim"). Runs inside the host's
# network and mount namespace; starts the services detached, with pid files under {INNER}/run
# (the host's directory in the lab's state dir, bound there).
D='{INNER}'
RUN="$D/run"; LOG="$D/log"

conf() {{
  case $1 in haproxy) echo /etc/haproxy/haproxy.cfg;; keepalived) echo /etc/keepalived/keepalived.conf;; esac
}}

# A pid that is alive and not a zombie (a child that died right after start is one until we exit).
live() {{
  [ -n "$1" ] || return 1
  st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)
  [ -n "$st" ] && [ "$st" != Z ]
}}
mainpid() {{ p=$(cat "$RUN/$1.pid" 2>/dev/null); live "$p" && echo "$p"; }}

check() {{
  case $1 in
    haproxy) haproxy -c -q -f /etc/haproxy/haproxy.cfg ;;
    keepalived) keepalived -t -f /etc/keepalived/keepalived.conf ;;
  esac
}}

failed() {{
  echo "Job for $1.service failed because the control process exited with error code." >&2
  echo "See \\"systemctl status $1.service\\" and \\"journalctl -xeu $1.service\\" for details." >&2
  return 1
}}

launch() {{
  case $1 in
    haproxy) setsid haproxy -W -db -f /etc/haproxy/haproxy.cfg </dev/null >>"$LOG/haproxy.log" 2>&1 & ;;
    keepalived) setsid keepalived -n -l -D -f /etc/keepalived/keepalived.conf -p "$RUN/keepalived.main.pid" \\
        -r "$RUN/keepalived.vrrp.pid" -c "$RUN/keepalived.checkers.pid" </dev/null >>"$LOG/keepalived.log" 2>&1 & ;;
  esac
  echo $! > "$RUN/$1.pid"
}}

start() {{
  [ -n "$(mainpid "$1")" ] && {{ touch "$RUN/$1.wanted"; return 0; }}
  [ -f "$(conf "$1")" ] || {{ echo "$1.service: $(conf "$1") does not exist" >&2; failed "$1"; return 1; }}
  out=$(check "$1" 2>&1) || {{ echo "$out" >&2; echo "$out" >>"$LOG/$1.log"; failed "$1"; return 1; }}
  launch "$1"
  touch "$RUN/$1.wanted"
  sleep 0.3
  [ -n "$(mainpid "$1")" ] || {{ tail -n 5 "$LOG/$1.log" >&2; failed "$1"; return 1; }}
}}

stop() {{
  rm -f "$RUN/$1.wanted"
  p=$(mainpid "$1") || return 0
  kill -TERM "$p" 2>/dev/null
  i=0; while live "$p" && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
  live "$p" && kill -KILL "$p" 2>/dev/null
  rm -f "$RUN/$1.pid"
  return 0
}}

# A reload of a stopped service starts it (documented difference: real systemctl refuses).
reload() {{
  p=$(mainpid "$1") || {{ start "$1"; return; }}
  out=$(check "$1" 2>&1) || {{ echo "$out" >&2; echo "$out" >>"$LOG/$1.log"; failed "$1"; return 1; }}
  case $1 in haproxy) kill -USR2 "$p";; keepalived) kill -HUP "$p";; esac
  touch "$RUN/$1.wanted"
}}

status() {{
  p=$(mainpid "$1")
  if [ -n "$p" ]; then
    echo "* $1.service - $1 (edgekit lab)"; echo "     Active: active (running)"; echo "   Main PID: $p ($1)"
    tail -n 10 "$LOG/$1.log" 2>/dev/null; return 0
  fi
  echo "* $1.service - $1 (edgekit lab)"; echo "     Active: inactive (dead)"
  tail -n 10 "$LOG/$1.log" 2>/dev/null; return 3
}}

action=""; units=""; quiet=""
for a in "$@"; do
  case $a in
    -q|--quiet) quiet=1;;
    -*) ;;
    *) if [ -z "$action" ]; then action=$a; else units="$units ${{a%.service}}"; fi;;
  esac
done
[ -n "$action" ] || {{ echo "usage: systemctl ACTION UNIT..." >&2; exit 1; }}
say() {{ [ -n "$quiet" ] || echo "$1"; }}
case $action in daemon-reload|daemon-reexec|list-units|reset-failed) exit 0;; esac
rc=0
for u in $units; do
  case $u in
    haproxy|keepalived)
      case $action in
        start) start "$u" || rc=1;;
        stop) stop "$u";;
        restart) stop "$u"; start "$u" || rc=1;;
        reload) reload "$u" || rc=1;;
        reload-or-restart|try-reload-or-restart|try-restart|condrestart)
          if [ -n "$(mainpid "$u")" ]; then reload "$u" || rc=1
          elif [ "$action" = reload-or-restart ]; then start "$u" || rc=1; fi;;
        is-active)
          if [ -n "$(mainpid "$u")" ]; then say active; else say inactive; rc=3; fi;;
        is-failed)
          if [ -n "$(mainpid "$u")" ] || [ ! -e "$RUN/$u.wanted" ]; then say active; rc=1; else say failed; fi;;
        status) status "$u" || rc=3;;
        enable|disable|mask|unmask) ;;
        is-enabled) say enabled;;
        show)
          p=$(mainpid "$u"); echo "MainPID=${{p:-0}}"
          if [ -n "$p" ]; then echo ActiveState=active; else echo ActiveState=inactive; fi;;
        *) echo "systemctl (lab): unsupported action $action" >&2; rc=1;;
      esac;;
    ssh|sshd)
      case $action in
        is-active) say active;;
        status) echo "* $u.service - OpenSSH (lab)"; echo "     Active: active (running)";;
      esac;;
    *) echo "Unit $u.service could not be found." >&2; [ "$action" = is-active ] && {{ echo inactive; rc=3; }} || rc=5;;
  esac
done
exit $rc
"""


def service_shim() -> str:
    return '#!/bin/sh\n# service NAME ACTION -> systemctl ACTION NAME\nexec /usr/local/sbin/systemctl "$2" "$1"\n'
