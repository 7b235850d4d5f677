"""Small servers and the traffic client the lab runs inside namespaces.

    python -m lab.topology.servers node NAME ADDR[,ADDR...] [--port 80]
        answers every GET with NAME (which node took the request), on each service IP
    python -m lab.topology.servers apiserver --cert C --key K [--port 6443]
        a kube-apiserver's health endpoints: /healthz /readyz /livez -> ok
    python -m lab.topology.servers client IP [-n N] [--port 80]
        N requests, each on a new connection (a new source port, so ECMP hashing spreads them); JSON counts

Raw sockets and a thread per connection instead of http.server: one of these runs per node and per
master, and http.server's imports double a process's memory (about 22 MB against 10 MB).
"""

from __future__ import annotations

import argparse
import signal
import socket
import sys
import threading
from collections.abc import Callable
from typing import Any

Responder = Callable[[str], tuple[int, str]]
REASONS = {200: "OK", 404: "Not Found"}


def _handle(conn: socket.socket, respond: Responder, ctx: Any) -> None:
    try:
        conn.settimeout(5)
        if ctx is not None:
            conn = ctx.wrap_socket(conn, server_side=True)
        data = b""
        while b"\r\n\r\n" not in data and len(data) < 65536:
            chunk = conn.recv(4096)
            if not chunk:
                break
            data += chunk
        parts = data.split(b" ", 2)
        path = parts[1].decode(errors="replace").split("?")[0] if len(parts) > 2 else "/"
        code, body = respond(path)
        payload = body.encode()
        head = (
            f"HTTP/1.1 {code} {REASONS.get(code, 'Error')}\r\nContent-Type: text/plain\r\n"
            f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n"
        )
        conn.sendall(head.encode() + payload)
    except OSError:  # ssl.SSLError is an OSError: a failed handshake or a client gone
        pass
    finally:
        conn.close()


def _accept(sock: socket.socket, respond: Responder, ctx: Any) -> None:
    while True:
        try:
            conn, _ = sock.accept()
        except OSError:
            continue
        threading.Thread(target=_handle, args=(conn, respond, ctx), daemon=True).start()


def serve(addresses: list[str], port: int, respond: Responder, ctx: Any = None) -> None:
    for addr in addresses:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((addr, port))
        sock.listen(128)
        threading.Thread(target=_accept, args=(sock, respond, ctx), daemon=True).start()
    while True:
        signal.pause()


def client(ip: str, count: int, port: int, timeout: float) -> dict[str, int]:
    import http.client

    counts: dict[str, int] = {}
    for _ in range(count):
        conn = http.client.HTTPConnection(ip, port, timeout=timeout)
        try:
            conn.request("GET", "/")
            key = conn.getresponse().read().decode().strip() or "(empty)"
        except OSError:
            key = "(error)"
        finally:
            conn.close()
        counts[key] = counts.get(key, 0) + 1
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lab.topology.servers")
    sub = parser.add_subparsers(dest="what", required=True)
    p = sub.add_parser("node")
    p.add_argument("name")
    p.add_argument("addresses")
    p.add_argument("--port", type=int, default=80)
    p = sub.add_parser("apiserver")
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--port", type=int, default=6443)
    p = sub.add_parser("client")
    p.add_argument("ip")
    p.add_argument("-n", type=int, default=30)
    p.add_argument("--port", type=int, default=80)
    p.add_argument("--timeout", type=float, default=2.0)
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    if args.what == "node":
        name = args.name + "\n"
        serve(args.addresses.split(","), args.port, lambda _path: (200, name))
    elif args.what == "apiserver":
        import ssl

        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.cert, args.key)

        def health(path: str) -> tuple[int, str]:
            if path in ("/healthz", "/readyz", "/livez"):
                return 200, "ok"
            if path == "/version":
                return 200, '{"major": "1", "minor": "29", "gitVersion": "v1.29.0-lab"}'
            return 404, "not found"

        serve(["0.0.0.0"], args.port, health, ctx)
    else:
        import json

        print(json.dumps(client(args.ip, args.n, args.port, args.timeout)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
