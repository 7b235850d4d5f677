"""What every argument module shares: each target's ``arguments`` module defines one command group's
subcommands and options (``register(subparsers)``) and names its handler by module and function, imported
only when that subcommand runs. So ``--help`` and a bad option cost no Nornir, NAPALM or Kubernetes import.

Below: ``handler`` and the argparse types shared by several commands.
"""

from __future__ import annotations

import argparse
import importlib
import ipaddress
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any


def handler(module: str, function: str, **fixed: Any) -> Callable[[argparse.Namespace], int]:
    """A handler that imports ``module`` when called and runs ``function(args, **fixed)``."""

    def run(args: argparse.Namespace) -> int:
        code: int = getattr(importlib.import_module(module), function)(args, **fixed)
        return code

    return run


def textfile_path(value: str) -> str:
    """argparse type of ``--metrics FILE``: its directory must exist and be writable (checked before the run)."""
    if value == "-":
        return value
    parent = Path(value).expanduser().resolve().parent
    if not parent.is_dir():
        raise argparse.ArgumentTypeError(f"{value}: directory {parent} does not exist")
    if not os.access(parent, os.W_OK):
        raise argparse.ArgumentTypeError(f"{value}: directory {parent} is not writable")
    if Path(value).is_dir():
        raise argparse.ArgumentTypeError(f"{value}: is a directory")
    return value


def listen_address(value: str) -> tuple[str, int]:
    """``ADDR:PORT``, ``[V6ADDR]:PORT`` or ``:PORT`` (every address)."""
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError(f"{value!r}: expected ADDR:PORT (e.g. 127.0.0.1:9479 or :9479)")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if not host:
        return "0.0.0.0", int(port)
    try:
        ipaddress.ip_address(host)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r}: {host!r} is not an IP address") from None
    return host, int(port)


def positive_seconds(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of seconds") from None
    if not seconds > 0 or seconds == float("inf"):
        raise argparse.ArgumentTypeError(f"{value!r}: must be more than 0 seconds")
    return seconds
