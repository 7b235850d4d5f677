"""Small servers and the traffic client the lab runs inside namespaces (stdlib only, to stay light).

python -m lab.topology.servers node NAME ADDR[,ADDR...] [--port 80]
    answers every GET with NAME (which node took the request), on each service IP
python -m lab.topology.servers apiserver --cert C --key K [--port 6443]
    a kube-apiserver's health endpoints: /healthz /readyz /livez -> ok
python -m lab.topology.servers client IP [-n N] [--port 80]
    N requests, each on a new connection (a new source port, so ECMP hashing spreads them); JSON counts
"""

from __future__ import annotations

import argparse
import http.client
import json
import signal
import ssl
import sys
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _Quiet(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - signature of the base class
        pass

    def _send(self, code: int, body: str) -> None:
        data = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def serve_node(name: str, addresses: list[str], port: int) -> None:
    class Handler(_Quiet):
        def do_GET(self) -> None:  # noqa: N802 - http.server naming
            self._send(200, name + "\n")

    servers = [ThreadingHTTPServer((addr, port), Handler) for addr in addresses]
    for srv in servers[1:]:
        threading.Thread(target=srv.serve_forever, daemon=True).start()
    servers[0].serve_forever()


def serve_apiserver(cert: str, key: str, port: int) -> None:
    class Handler(_Quiet):
        def do_GET(self) -> None:  # noqa: N802
            path = self.path.split("?")[0]
            if path in ("/healthz", "/readyz", "/livez"):
                self._send(200, "ok")
            elif path == "/version":
                self._send(200, json.dumps({"major": "1", "minor": "29", "gitVersion": "v1.29.0-lab"}))
            else:
                self._send(404, "not found")

    srv = ThreadingHTTPServer(("0.0.0.0", port), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    srv.serve_forever()


def client(ip: str, count: int, port: int, timeout: float) -> dict[str, int]:
    counts: Counter[str] = Counter()
    for _ in range(count):
        conn = http.client.HTTPConnection(ip, port, timeout=timeout)
        try:
            conn.request("GET", "/")
            counts[conn.getresponse().read().decode().strip() or "(empty)"] += 1
        except OSError:
            counts["(error)"] += 1
        finally:
            conn.close()
    return dict(counts)


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
    # SIGTERM ends serve_forever cleanly enough for a lab; exit code 0 keeps logs quiet.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    if args.what == "node":
        serve_node(args.name, args.addresses.split(","), args.port)
    elif args.what == "apiserver":
        serve_apiserver(args.cert, args.key, args.port)
    else:
        print(json.dumps(client(args.ip, args.n, args.port, args.timeout)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
