"""``python -m lab.kubeapi --listen ADDR:PORT --world FILE.json [--cert C --key K] [--token T]``.

Serves the world file; writes (server-side apply, create, replace, patch, delete: lab.kubeapi.apply) are
written back to it under its lock (lab.kubeapi.store). The file is re-read when its modification time
changes (checked on every request) and on SIGHUP, so the lab flips a speaker to NotReady by rewriting the file (write a
temporary file and rename it over the old one, so a request never sees half a file). A world file that
fails to parse keeps the previous world and logs the error. Prints ``listening on URL`` once ready;
SIGTERM/SIGINT stop it.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from lab.kubeapi import store
from lab.kubeapi.server import KubeAPIServer


class _Reloader:
    def __init__(self, server: KubeAPIServer, path: Path) -> None:
        self.server = server
        self.path = path
        self.mtime: tuple[int, int] | None = None  # (inode, mtime): every write is a rename (a new inode)
        self.lock = threading.Lock()

    def load(self, force: bool = False) -> None:
        with self.lock:
            try:
                st = self.path.stat()
                mtime = (st.st_ino, st.st_mtime_ns)
            except OSError as exc:
                print(f"kubeapi: cannot stat {self.path}: {exc.strerror}", file=sys.stderr, flush=True)
                return
            if not force and mtime == self.mtime:
                return
            try:
                world: Any = json.loads(self.path.read_text())
            except (OSError, ValueError) as exc:
                print(f"kubeapi: keeping the previous world: {self.path}: {exc}", file=sys.stderr, flush=True)
                return
            self.server.set_world(world)
            self.mtime = mtime

    def save(self, world: dict[str, Any]) -> None:
        with self.lock:
            store.write(self.path, world)
            st = self.path.stat()
            self.mtime = (st.st_ino, st.st_mtime_ns)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lab.kubeapi", description="Kubernetes API stand-in")
    parser.add_argument("--listen", default="127.0.0.1:0", metavar="ADDR:PORT")
    parser.add_argument("--world", required=True, metavar="FILE.json")
    parser.add_argument("--cert", help="TLS certificate (PEM); with --key serves HTTPS")
    parser.add_argument("--key", help="TLS private key (PEM)")
    parser.add_argument("--token", help="require this bearer token")
    parser.add_argument("--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)
    host, _, port = args.listen.rpartition(":")
    if (args.cert is None) != (args.key is None):
        parser.error("--cert and --key go together")
    server = KubeAPIServer(
        None,
        host=host.strip("[]") or "127.0.0.1",
        port=int(port or 0),
        tls=(args.cert, args.key) if args.cert else False,
        token=args.token,
        verbose=args.verbose,
    )
    reloader = _Reloader(server, Path(args.world))
    reloader.load(force=True)
    if reloader.mtime is None:
        print(f"kubeapi: cannot load {args.world}", file=sys.stderr)
        return 2
    server.before_request = reloader.load
    server.persist = reloader.save
    server.file_lock = lambda: store.locked(reloader.path)
    signal.signal(signal.SIGHUP, lambda *_: reloader.load(force=True))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    url = server.start()
    print(f"listening on {url} (pid {os.getpid()})", flush=True)
    while not stop.wait(1.0):
        pass
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
