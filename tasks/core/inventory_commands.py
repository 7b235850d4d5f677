"""`edgekit inventory`: print the resolved inventory (Terraform state + Kubernetes + site file).

``--format json`` prints exactly Nornir's ``Inventory.dict()`` (hosts, groups, defaults); ``yaml`` the
same as YAML; ``table`` (default) a rich table with warnings, disagreements and missing facts. Passwords
never appear: hosts hold only a reference (``data.password_ref``), resolved when a connection opens.
Warnings go to stderr for json/yaml so stdout stays machine-readable.
"""

from __future__ import annotations

import argparse
import json
import sys

import yaml
from nornir.core.inventory import Inventory
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from inventory.build import LoadResult
from inventory.nornir_plugin import TFStateInventory
from tasks.core.options import CommonOptions


def load_inventory(options: CommonOptions) -> tuple[Inventory, LoadResult]:
    plugin = TFStateInventory(sources=options.sources())
    inventory = plugin.load()
    assert plugin.result is not None
    if options.limit:
        wanted = set(options.limit)
        unknown = sorted(wanted - set(inventory.hosts))
        if unknown:
            from inventory.errors import InputError

            raise InputError(f"no such host: {', '.join(unknown)}", path="--limit")
        inventory = inventory.filter(lambda host, **_: host.name in wanted)
    return inventory, plugin.result


def handle(args: argparse.Namespace) -> int:
    options = CommonOptions.from_args(args)
    inventory, result = load_inventory(options)
    if args.format == "json":
        _notes(result, Console(stderr=True))
        print(json.dumps(inventory.dict(), indent=2, sort_keys=False))
    elif args.format == "yaml":
        _notes(result, Console(stderr=True))
        print(yaml.safe_dump(inventory.dict(), sort_keys=False, default_flow_style=False), end="")
    else:
        console = Console() if sys.stdout.isatty() else Console(width=200)
        console.print(table(inventory, result))
        _notes(result, console, missing=True)
    return 0


def table(inventory: Inventory, result: LoadResult) -> Table:
    t = Table(title="edgekit inventory", show_lines=False)
    for col in ("cluster", "host", "role", "platform", "hostname", "addresses", "user", "notes"):
        t.add_column(col, no_wrap=col in ("host", "hostname"))
    for name, host in inventory.hosts.items():
        notes = []
        if not host.data.get("managed"):
            notes.append("data only")
        if host.data.get("tainted"):
            notes.append("TAINTED")
        if host.data.get("password_ref"):
            notes.append(f"password {host.data['password_ref']}")
        addresses = " ".join(f"nic{k}={v}" for k, v in host.data.get("addresses", {}).items())
        t.add_row(
            host.data["cluster"],
            name,
            host.data["role"],
            host.platform or "",
            host.hostname or "",
            addresses,
            host.username or "",
            ", ".join(notes),
        )
    return t


def _notes(result: LoadResult, console: Console, missing: bool = False) -> None:
    for cluster in result.site.ordered_clusters():
        if missing:
            console.print(
                f"[bold]{cluster.name}[/]: speakers ({cluster.speakers_source}): "
                + (", ".join(f"{s.name} {s.address} AS{s.asn}" for s in cluster.speakers) or "none")
            )
            console.print(
                f"  pools: {', '.join(str(a) for p in cluster.pools for a in p.addresses) or 'none'}; "
                f"node subnet: {cluster.node_subnet}; services: {len(cluster.services)}"
            )
            for path, reason in cluster.missing.items():
                console.print(f"  [yellow]missing[/] {path}: {reason}", highlight=False)
            for line in cluster.refused:
                console.print(f"  [red]refused[/] {escape(line)}", highlight=False)
    for w in result.warnings:
        console.print(f"[yellow]warning:[/] {w}", highlight=False)
    for d in result.disagreements:
        console.print(f"[red]disagreement:[/] {d}", highlight=False)
