"""One place that turns the shared options into an inventory and a Nornir object."""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

from nornir.core import Nornir
from nornir.core.configuration import Config, LoggingConfig, RunnerConfig
from nornir.core.filter import F
from nornir.core.plugins.connections import ConnectionPluginRegister
from nornir.core.task import AggregatedResult, Result
from nornir.plugins.runners import ThreadedRunner
from rich.markup import escape

from inventory.build import LoadResult, load
from inventory.errors import InputError
from inventory.model import Cluster
from inventory.nornir_plugin import to_inventory
from tasks.core.options import CommonOptions
from tasks.core.report import err_console


@dataclass
class Runtime:
    nornir: Nornir
    loaded: LoadResult

    def targets(self, role: str, options: CommonOptions, missing: str = "") -> list[tuple[Cluster, list[str]]]:
        """(cluster, selected host names of ``role``) in rollout order; clusters with none are left out. The one
        target selection of every command: ``missing`` names what the command needs (``"router"``): none selected
        is then bad input (exit 2)."""
        out = []
        for cluster in self.loaded.site.ordered_clusters():
            if options.clusters and cluster.name not in options.clusters:
                continue
            names = sorted(self.hosts(role, cluster.name, options.limit).inventory.hosts)
            if names:
                out.append((cluster, names))
        if missing and not out:
            raise InputError(f"no {missing} matches the selection (--cluster/--limit)")
        return out

    def hosts(self, role: str, cluster: str | None = None, limit: list[str] | None = None) -> Nornir:
        """The Nornir subset of one role (and one cluster, and the --limit hosts)."""
        selected = self.nornir.filter(F(groups__contains=f"role_{role}"))
        if cluster is not None:
            selected = selected.filter(F(groups__contains=f"cluster_{cluster}"))
        if limit:
            selected = selected.filter(filter_func=lambda host: host.name in limit)
        return selected


def open_runtime(options: CommonOptions) -> Runtime:
    """Load tfstate + Kubernetes + site once, validate, and build Nornir on it (no device is touched)."""
    loaded = load(options.sources())
    for warning in loaded.warnings:
        err_console.print(f"[yellow]warning:[/] {escape(warning)}", soft_wrap=True)  # one line, as refused:
    for disagreement in loaded.disagreements:
        err_console.print(f"[yellow]disagreement:[/] {escape(disagreement)}", soft_wrap=True)
    for cluster in loaded.site.ordered_clusters():
        for line in cluster.refused:  # that cluster's router is reported failed, the others proceed (exit 2)
            err_console.print(f"[red]refused:[/] {escape(line)}", highlight=False, soft_wrap=True)
    ConnectionPluginRegister.auto_register()
    # Task failures are reported by edgekit in one line per host, not as Nornir's tracebacks.
    logging.getLogger("nornir").addHandler(logging.NullHandler())
    logging.getLogger("nornir").propagate = False
    # The same inventory the TFStateInventory plugin builds, from the result already loaded above.
    config = Config(
        logging=LoggingConfig(enabled=False),
        runner=RunnerConfig(plugin="threaded", options={"num_workers": options.workers}),
    )
    inventory = to_inventory(loaded, accept_new_host_keys=options.accept_new_host_keys)
    nornir = Nornir(inventory=inventory, runner=ThreadedRunner(num_workers=options.workers), config=config)
    return Runtime(nornir, loaded)


def run_hosts(
    rt: Runtime, names: Collection[str], task: Callable[..., Result], name: str, processors: list[Any], **params: Any
) -> AggregatedResult | None:
    """``task`` on every host of ``names`` at once on Nornir's threaded runner (each host its own thread, up to
    --workers), seen by ``processors``; the connections closed afterwards."""
    if not names:
        return None
    try:
        selected = rt.nornir.with_processors(processors).filter(filter_func=lambda host: host.name in names)
        return selected.run(task=task, name=name, **params)
    finally:
        rt.nornir.close_connections(on_good=True, on_failed=True)
