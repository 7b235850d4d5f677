"""Options every subcommand shares, defaulting to environment variables so a prepared shell runs bare."""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # inventory.build costs its imports: only the commands that load an inventory pay them
    from inventory.build import InventorySources


def _split_sources(value: str | None) -> list[str]:
    return [s.strip() for s in (value or "").split(",") if s.strip()]


@dataclass
class CommonOptions:
    states: list[str] = field(default_factory=list)
    site: str | None = None
    kubeconfig: str | None = None
    clusters: list[str] = field(default_factory=list)
    limit: list[str] = field(default_factory=list)
    workers: int = 20
    require_k8s: bool = False
    accept_new_host_keys: bool = False

    def sources(self) -> InventorySources:
        """What ``inventory.build.load`` needs (the inventory layer never imports tasks)."""
        from inventory.build import InventorySources

        return InventorySources(
            states=list(self.states),
            site=self.site,
            kubeconfig=self.kubeconfig,
            clusters=list(self.clusters),
            require_k8s=self.require_k8s,
        )

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> CommonOptions:
        states: list[str] = []
        for value in args.state or []:
            states.extend(_split_sources(value))
        if not states:
            states = _split_sources(os.environ.get("EDGEKIT_STATE"))
        return cls(
            states=states,
            site=args.site or os.environ.get("EDGEKIT_SITE") or None,
            kubeconfig=args.kubeconfig or os.environ.get("KUBECONFIG") or None,
            clusters=[c for v in args.cluster or [] for c in _split_sources(v)],
            limit=[h for v in args.limit or [] for h in _split_sources(v)],
            workers=args.workers,
            require_k8s=args.require_k8s,
            accept_new_host_keys=getattr(args, "accept_new_host_keys", False),
        )


def add_common_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("inventory sources")
    group.add_argument(
        "--state",
        action="append",
        metavar="PATH|URL",
        help="Terraform state: file, s3://bucket/key[?workspace=W], http(s):// backend URL, or "
        "`terraform show -json` output; repeat for several clusters (default: $EDGEKIT_STATE, comma-separated)",
    )
    group.add_argument("--site", metavar="FILE", help="site YAML file (default: $EDGEKIT_SITE)")
    group.add_argument(
        "--kubeconfig", metavar="FILE", help="kubeconfig with one context per cluster (default: $KUBECONFIG)"
    )
    group.add_argument(
        "--require-k8s",
        action="store_true",
        help="fail when a cluster's Kubernetes API is unreachable instead of falling back to tfstate nodes",
    )
    group.add_argument(
        "--cluster", action="append", metavar="NAME", help="only these clusters (repeatable, comma-separated)"
    )
    group.add_argument(
        "--limit", action="append", metavar="HOST", help="only these hosts (repeatable, comma-separated)"
    )
    group.add_argument("--workers", type=int, default=20, help="parallel connections (default: 20)")
    group.add_argument(
        "--accept-new-host-keys",
        action="store_true",
        help="connect to a host whose SSH key is not in known_hosts yet and record its key there "
        "(a changed key is always refused; default: unknown hosts are refused)",
    )
