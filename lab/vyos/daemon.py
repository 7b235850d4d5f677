"""The router daemon: ``ip netns exec NS python3 -m lab.vyos.daemon --spec STATE/spec.json``.

One long-lived process per router, root, inside the router's namespace. It owns the running config,
revisions, the commit-confirm timer (so a rollback happens even when the SSH session is gone) and
the FRR and wireguard-go children, and serves SSH with asyncssh (password and public-key auth, PTY
shells with echo/backspace/Ctrl-C from asyncssh's line editor, exec requests, SFTP/SCP confined to
the state dir).

Files under state_dir: run/daemon.pid, run/ready (written once SSH listens), run/wireguard-go.*.pid,
frr/run/*.pid, log/daemon.log, ssh/host_key, config/config.boot, config/archive.json.
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import json
import logging
import os
import signal
import subprocess
import sys
import traceback
from pathlib import Path

import asyncssh

from . import rootfs
from .cli import Session
from .router import Router, boot_seconds

log = logging.getLogger("lab.vyos")
CLONE_NEWUTS = 0x04000000


# Open SSH connections: a reboot closes them all.
_CONNECTIONS: set[asyncssh.SSHServerConnection] = set()


class _Server(asyncssh.SSHServer):
    def __init__(self, spec: dict) -> None:
        self.spec = spec
        self.conn: asyncssh.SSHServerConnection | None = None

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self.conn = conn
        _CONNECTIONS.add(conn)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.conn is not None:
            _CONNECTIONS.discard(self.conn)

    def begin_auth(self, username: str) -> bool:
        keys = self.spec.get("authorized_keys") or []
        if self.conn is not None and keys and username == self.spec.get("username", "vyos"):
            self.conn.set_authorized_keys(asyncssh.import_authorized_keys("\n".join(keys) + "\n"))
        return True

    def password_auth_supported(self) -> bool:
        return self.spec.get("password") is not None

    def validate_password(self, username: str, password: str) -> bool:
        return username == self.spec.get("username", "vyos") and password == self.spec.get("password")


async def _session(router: Router, process: asyncssh.SSHServerProcess) -> None:
    user = process.get_extra_info("username") or "vyos"

    def write(text: str) -> None:
        try:
            process.stdout.write(text)
        except (BrokenPipeError, ConnectionError, asyncssh.Error):
            pass

    async def readline() -> str | None:
        while True:
            try:
                line = await process.stdin.readline()
            except asyncssh.BreakReceived:  # Ctrl-C in the line editor
                write("^C\n")
                return "\x03"
            except (asyncssh.TerminalSizeChanged, asyncssh.SignalReceived):
                continue
            except (asyncssh.Error, ConnectionError):
                return None
            if line == "":
                return None
            return line.rstrip("\r\n")

    session = Session(router, user, write, readline)
    try:
        if process.command is not None:  # `ssh router 'show version'`
            session.interactive = False
            write(await session.op_command(process.command.strip()))
        else:
            await session.run()
    except Exception:  # a broken command must not take the daemon down
        log.exception("session failed")
        write("\n  Internal error (see the router's daemon.log)\n")
    finally:
        process.exit(0)


async def _serve(spec: dict, router: Router) -> None:
    state = Path(spec["state_dir"])
    key_file = state / "ssh" / "host_key"
    if not key_file.exists():
        key_file.parent.mkdir(parents=True, exist_ok=True)
        asyncssh.generate_private_key("ssh-ed25519").write_private_key(str(key_file))
        os.chmod(key_file, 0o600)

    def sftp(chan: asyncssh.SSHServerChannel) -> asyncssh.SFTPServer:
        return asyncssh.SFTPServer(chan, chroot=str(state).encode())

    async def listen() -> asyncssh.SSHAcceptor:
        return await asyncssh.create_server(
            lambda: _Server(spec),
            spec.get("listen", "0.0.0.0"),
            int(spec.get("port", 22)),
            server_host_keys=[str(key_file)],
            process_factory=lambda p: _session(router, p),
            sftp_factory=sftp,
            allow_scp=True,
            keepalive_interval=0,
        )

    server = await listen()
    stop = asyncio.Event()
    reboot = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    router.on_reboot = lambda: loop.call_soon_threadsafe(reboot.set)
    ready = state / "run" / "ready"
    ready.write_text(f"{os.getpid()}\n")
    log.info("listening on %s:%s", spec.get("listen", "0.0.0.0"), spec.get("port", 22))
    while not stop.is_set():
        stopped = asyncio.ensure_future(stop.wait())
        rebooting = asyncio.ensure_future(reboot.wait())
        await asyncio.wait({stopped, rebooting}, return_when=asyncio.FIRST_COMPLETED)
        stopped.cancel()
        rebooting.cancel()
        if stop.is_set():
            break
        # A reboot (commit-confirm expiry, `rollback N`): SSH goes away with every session, the data plane
        # goes down, and after the boot delay the box comes back with its saved config.boot.
        reboot.clear()
        log.info("reboot: going down for %.1f s", boot_seconds())
        ready.unlink(missing_ok=True)
        server.close()
        for conn in list(_CONNECTIONS):
            conn.abort()
        await server.wait_closed()
        await asyncio.to_thread(router.power_off)
        try:
            await asyncio.wait_for(stop.wait(), timeout=boot_seconds())
        except TimeoutError:
            pass
        # run/hold-boot (a lab control, e.g. for tests that look at the router while it is down) keeps
        # the box in its boot until the file is removed.
        while (state / "run" / "hold-boot").exists() and not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), timeout=0.1)
            except TimeoutError:
                pass
        if stop.is_set():
            return
        await asyncio.to_thread(router.power_on)
        server = await listen()
        ready.write_text(f"{os.getpid()}\n")
        log.info("reboot: up again")
    server.close()


def _private_uts() -> bool:
    """A UTS namespace of the router's own, so `hostname` (and `show host name`, vyos-1x
    op-mode-definitions/show-host.xml.in: /bin/hostname) prints its `system host-name`."""
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    if libc.unshare(CLONE_NEWUTS) != 0:
        log.warning("unshare(CLONE_NEWUTS) failed (errno %s): hostname is the machine's", ctypes.get_errno())
        return False
    return True


def _private_etc(state: Path) -> bool:
    """The router's own /etc/hosts and /etc/resolv.conf, bound over the machine's inside the mount namespace
    `ip netns exec` made for the daemon (nothing changes outside it). VyOS writes both itself (vyos-hostsd,
    vyos-1x data/templates/vyos-hostsd/hosts.j2 and resolv.conf.j2): its host name resolves locally
    (127.0.1.1), and with no `system name-server` resolv.conf names no server. Without them a lookup of the
    router's own name (asyncssh does one per login) would ask the machine's nameserver, outside the lab."""
    etc = state / "etc"
    etc.mkdir(parents=True, exist_ok=True)
    for name in ("hosts", "resolv.conf"):
        (etc / name).touch()
        proc = subprocess.run(
            ["mount", "--bind", str(etc / name), f"/etc/{name}"], capture_output=True, text=True, timeout=10
        )
        if proc.returncode != 0:
            log.warning("cannot bind /etc/%s: %s", name, proc.stderr.strip())
            return False
    (etc / "resolv.conf").write_text(
        "### Autogenerated by VyOS ###\n### Do not edit, your changes will get overwritten ###\n"
    )
    return True


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m lab.vyos.daemon")
    ap.add_argument("--spec", required=True, type=Path, help="JSON of lab.vyos.RouterSpec")
    args = ap.parse_args(argv)
    spec = json.loads(args.spec.read_text())
    state = Path(spec["state_dir"])
    for d in ("run", "log"):
        (state / d).mkdir(parents=True, exist_ok=True)
    logging.basicConfig(
        filename=state / "log" / "daemon.log",
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("asyncssh").setLevel(logging.WARNING)
    (state / "run" / "daemon.pid").write_text(f"{os.getpid()}\n")
    (state / "run" / "ready").unlink(missing_ok=True)
    own_uts = _private_uts()  # before any thread: a namespace belongs to the thread that unshares
    router = Router(spec)
    router.own_uts = own_uts
    router.own_etc = _private_etc(state)
    rootfs.build(state)  # after /etc: the op-mode shell's root binds the daemon's /etc (lab/vyos/rootfs.py)
    router.write_hosts()
    rc = 0
    try:
        router.boot()
        asyncio.run(_serve(spec, router))
    except Exception as e:
        log.error("router failed: %s", traceback.format_exc())
        (state / "run" / "failed").write_text(f"{e}\n")
        print(f"router {spec.get('name')} failed: {e}", file=sys.stderr)
        rc = 1
    finally:
        router.shutdown()
        (state / "run" / "ready").unlink(missing_ok=True)
        (state / "run" / "daemon.pid").unlink(missing_ok=True)
        log.info("stopped")
    return rc


if __name__ == "__main__":
    sys.exit(main())
