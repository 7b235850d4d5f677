"""`lab traffic`'s client (lab.topology.servers client: one new TCP connection per GET, counted per answering
node), run continuously with a timestamp per request, for bench_failover. Runs in a cluster's upstream namespace.

    python -m bench._traffic IP OUTFILE [--timeout 0.5] [--pause 0.01]

Writes one JSON line per request, ``[start, end, answer]`` (time.time() seconds; answer is the node's name or
``(error)``), until SIGTERM.
"""

from __future__ import annotations

import argparse
import http.client
import json
import signal
import sys
import time


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench._traffic")
    parser.add_argument("ip")
    parser.add_argument("out")
    parser.add_argument("--port", type=int, default=80)
    parser.add_argument("--timeout", type=float, default=0.5)
    parser.add_argument("--pause", type=float, default=0.01)
    args = parser.parse_args(argv)
    running = True

    def stop(*_: object) -> None:
        nonlocal running
        running = False

    signal.signal(signal.SIGTERM, stop)
    with open(args.out, "w", buffering=1) as out:
        while running:
            start = time.time()
            conn = http.client.HTTPConnection(args.ip, args.port, timeout=args.timeout)
            try:
                conn.request("GET", "/")
                answer = conn.getresponse().read().decode().strip() or "(empty)"
            except OSError:
                answer = "(error)"
            finally:
                conn.close()
            out.write(json.dumps([start, time.time(), answer]) + "\n")
            time.sleep(args.pause)
    return 0


if __name__ == "__main__":
    sys.exit(main())
