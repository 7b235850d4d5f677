"""The rollout every deploy shares: the one gate-wait loop, the one wave loop, and Ctrl-C.

- ``wait_for_gate``: probe until every check passes, the time is up, or a second Ctrl-C (``abort``) ends it.
- ``roll_out``: cluster after cluster in rollout order (``waves``); a cluster that does not pass stops the ones
  after it (their hosts ``skipped``, the note naming why), unless ``all_at_once``.
- ``StopFlag`` and ``stop_on_interrupt``: the first Ctrl-C starts no new host, the second ends the gates now
  (hosts in progress restore in place), the third gives up waiting (``GiveUp``).
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

from checks.verdict import CheckResult
from tasks.core.report import HostReport, err_console

Results = TypeVar("Results", bound="list[CheckResult] | None")


def wait_for_gate(
    probe: Callable[[], Results],
    timeout: float,
    interval: float,
    abort: threading.Event | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[Results, float]:
    """Probe until every check passes or ``timeout`` seconds have gone by: (last results, seconds waited).

    A probe that answers None has nothing to wait for (returned at once). ``abort`` set (a second Ctrl-C)
    ends the wait now; while it is given, the pause between probes waits on it (so it ends early).
    """
    started = clock()
    deadline = started + timeout
    while True:
        results = probe()
        aborted = abort is not None and abort.is_set()
        if results is None or all(r.ok for r in results) or clock() >= deadline or aborted:
            return results, clock() - started
        if abort is not None:
            abort.wait(interval)
        else:
            sleep(interval)


def roll_out(
    waves: Sequence[tuple[str, Sequence[str]]],
    row: Callable[[str], HostReport],
    start: Callable[[list[str], bool], None],
    *,
    together: bool = False,
    all_at_once: bool = False,
    failed_before_blocks: bool = False,
) -> None:
    """Cluster after cluster (``waves``: cluster name and its host names, in rollout order), ``start`` the
    change on each cluster's ``planned`` hosts: all of them in one call (``together``) or one host per call
    (``start(hosts, last)``: ``last`` for the cluster's last one). ``row``: a host's report, read after each call.

    A host that did not pass stops the rollout: every host after it is ``skipped`` with a note naming the cluster.
    ``failed_before_blocks``: a host that already failed before any change (its plan) stops it too. With
    ``all_at_once`` nothing stops it, and hosts that start ``together`` start all clusters at once.
    """
    if all_at_once and together:
        waves = [("", [name for _, names in waves for name in names])]
    cluster_of = {name: row(name).cluster for _, names in waves for name in names}
    blocked_by: str | None = None
    for cluster, names in waves:
        failed_before = [n for n in names if not row(n).ok]
        if failed_before and failed_before_blocks and not all_at_once and not blocked_by:
            blocked_by = f"cluster {cluster} failed before any change ({', '.join(failed_before)})"
        todo = [n for n in names if row(n).ok and row(n).status == "planned"]
        batches = [todo] if together and todo else [[n] for n in todo]
        for i, batch in enumerate(batches):
            if blocked_by:
                for n in batch:
                    row(n).status = "skipped"
                    row(n).notes.append(f"not started: {blocked_by}")
                continue
            start(batch, i == len(batches) - 1)
            failed = [n for n in batch if not row(n).ok]
            if failed and not all_at_once:
                blocked_by = f"cluster {cluster_of[failed[0]]} did not pass ({', '.join(failed)})"


class StopFlag:
    """Set by Ctrl-C: no new host starts; hosts already applying finish (or restore). ``abort`` (the
    second Ctrl-C) ends their gates at once so they restore in place."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.abort = threading.Event()

    def set(self) -> None:
        self.event.set()

    def __bool__(self) -> bool:
        return self.event.is_set()


class GiveUp(BaseException):
    """The third Ctrl-C: stop waiting for hosts in progress (a router's own timer reverts it)."""


@contextmanager
def stop_on_interrupt(flag: StopFlag) -> Iterator[None]:
    """First Ctrl-C: start no new host, let running ones finish or restore. Second: end the gates now and
    restore every host in progress in place. Third: stop waiting (``GiveUp``)."""

    def handler(signum: int, frame: Any) -> None:
        if flag.abort.is_set():
            raise GiveUp
        if flag:
            flag.abort.set()
            err_console.print(
                "[yellow]second interrupt: gates end now; routers in progress are restored in place "
                "(Ctrl-C again leaves them to their commit-confirm timers)[/]"
            )
            return
        flag.set()
        err_console.print("[yellow]interrupt: no new host will start; waiting for hosts in progress[/]")

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
