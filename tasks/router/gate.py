"""The router's gate: what a change must pass before it is confirmed (``deploy``) and what MetalLB's change waits
for (``metallb deploy``): the gate probes of the feature table (``tasks.router.features``: ``bgp.peers``,
``bfd.peers`` when BFD is on, ``ecmp.routes``), the same probes and check functions verify uses, read through one
``Reader`` per poll. The waiting is ``tasks.core.rollout.wait_for_gate``.

Before the commit ``deploy`` reads the same probes once (``gate_baseline``): the gate then judges what the change
broke, per speaker and per next hop (``tasks.core.rollout.Baseline``). A speaker that was not Established before
the change (its BGP or BFD session down, its next hop missing from the service routes) and still is not passes
the gate, reported; one that was Established and is not now fails the gate once it stays so for
``GATE_GRACE`` seconds (a change that touches a neighbor, its password or timers, makes FRR reset the session,
and re-establishing it takes a few seconds), not after the whole gate timeout. A speaker that was not a neighbor
before (a new one) must come up within the timeout. MetalLB's gate (``tasks.metallb.gate``) has no baseline.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Protocol

from checks import bfd, bgp, ecmp
from checks.verdict import CheckResult
from inventory.model import Cluster
from tasks.core.rollout import Baseline, read_baseline
from tasks.router.features import ProbeContext, Reader, run_probes

# Seconds a speaker (its session, its BFD, its next hops) that worked before the change may stay broken after it
# before the gate fails: FRR resets a session whose neighbor config changed; the speaker reconnects and sends
# its routes again within seconds (FRR's start timer begins at 1 s), bounded generously for a busy router.
GATE_GRACE = 20.0
# The checks whose single items (a speaker, a next hop) may have been down before the change.
TOLERATE = (bgp.PEERS, bfd.PEERS, ecmp.ROUTES)


class Shows(Protocol):
    def show(self, command: str) -> str: ...


def gate_checks(driver: Shows, cluster: Cluster, host: str) -> list[CheckResult]:
    """One pass of the gate on the router (one poll)."""
    return gate_pass(Reader(driver.show), cluster, host)


def gate_pass(read: Reader, cluster: Cluster, host: str) -> list[CheckResult]:
    """One pass of the gate through ``read`` (this poll's reads, some perhaps made already)."""
    return run_probes(ProbeContext(read, cluster, host, gate=True))


def gate_baseline(
    probe: Callable[[], list[CheckResult]],
    settle: float = 0.0,
    interval: float = 0.25,
    abort: threading.Event | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[Baseline, str]:
    """The gate's probes before the change, once steady (up to ``settle`` seconds: ``read_baseline``): the
    baseline, and why it is empty when the router could not be read that way ("": read; then every item counts as
    new and must come up within the timeout)."""
    return read_baseline(probe, TOLERATE, settle, interval, _describe, abort, clock, sleep)


def _describe(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}".splitlines()[0]
