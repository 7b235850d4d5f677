"""The router's gate: what a change must pass before it is confirmed (``deploy``) and what MetalLB's change waits
for (``metallb deploy``): the gate probes of the feature table (``tasks.router.features``: ``bgp.peers``,
``bfd.peers`` when BFD is on, ``ecmp.routes``), the same probes and check functions verify uses, read through one
``Reader`` per poll. The waiting is ``tasks.core.rollout.wait_for_gate``.
"""

from __future__ import annotations

from typing import Protocol

from checks.verdict import CheckResult
from inventory.model import Cluster
from tasks.router.features import ProbeContext, Reader, run_probes


class Shows(Protocol):
    def show(self, command: str) -> str: ...


def gate_checks(driver: Shows, cluster: Cluster, host: str) -> list[CheckResult]:
    """One pass of the gate on the router (one poll)."""
    return gate_pass(Reader(driver.show), cluster, host)


def gate_pass(read: Reader, cluster: Cluster, host: str) -> list[CheckResult]:
    """One pass of the gate through ``read`` (this poll's reads, some perhaps made already)."""
    return run_probes(ProbeContext(read, cluster, host, gate=True))
