"""compliance.config: the running config of the managed subtrees equals the intended config.

Unlike the deploy plan (which collapses deletes to the highest node), this lists every line that differs
as the operator would see it on the router: ``- <running line>`` for a line edgekit would remove (extra),
``+ <intended line>`` for one it would add (missing). Secrets are masked; lines outside the managed scope
are never listed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from checks.config_diff import ConfigTree, ManagedScope, hidden, mask_line
from checks.verdict import CheckResult, failed, passed
from inventory.model import Cluster

CONFIG = "compliance.config"
IDS = (CONFIG,)  # the check ids this module judges

SHOWN_IN_REASON = 3


@dataclass
class ConfigDrift:
    extra: list[str] = field(default_factory=list)  # running lines in scope that the intent lacks
    missing: list[str] = field(default_factory=list)  # intended lines the router lacks
    uncompared: list[str] = field(default_factory=list)  # intended nodes the router showed masked (****************)

    @property
    def lines(self) -> list[str]:
        return [f"- {line}" for line in self.extra] + [f"+ {line}" for line in self.missing]

    def __bool__(self) -> bool:
        return bool(self.extra or self.missing)


def drift(
    running: Sequence[str], intended: Sequence[str], scope: ManagedScope, secrets: Iterable[str] = ()
) -> ConfigDrift:
    have, want = ConfigTree(running), ConfigTree(intended)
    secrets = list(secrets)
    # A value VyOS printed masked (checks.config_diff.VYOS_HIDDEN) cannot be compared: neither extra nor missing.
    masked = {p[:-1] for p in have.paths if p in scope and have.valued(p) and hidden(p)}
    wanted = {p[:-1] for p in want.paths if want.valued(p)}
    extra = sorted(
        p for p in have.paths if p in scope and p not in want.paths and not (p[:-1] in masked and p[:-1] in wanted)
    )
    missing = [p for p in want.text if p not in have.paths and not (want.valued(p) and p[:-1] in masked)]
    return ConfigDrift(
        extra=[mask_line(have.text[p], secrets) for p in extra],
        missing=[mask_line(want.text[p], secrets) for p in missing],
        uncompared=[" ".join(n) for n in sorted(masked & wanted)],
    )


def check_config(host: str, cluster: Cluster, found: ConfigDrift) -> CheckResult:
    details = {"extra": len(found.extra), "missing": len(found.missing)}  # differing lines, for metrics
    if not found:
        masked = f" ({len(found.uncompared)} masked values not compared)" if found.uncompared else ""
        reason = "managed config equals the intent" + masked
        return passed(CONFIG, host, cluster.name, reason, details=details)
    lines = found.lines
    shown = "; ".join(lines[:SHOWN_IN_REASON]) + (
        f"; ... {len(lines) - SHOWN_IN_REASON} more" if len(lines) > SHOWN_IN_REASON else ""
    )
    counts = f"{len(found.extra)} extra, {len(found.missing)} missing"
    return failed(CONFIG, host, cluster.name, f"{counts}: {shown}", details=details)
