"""The rollout every deploy shares: the one gate-wait loop, the one wave loop, and Ctrl-C.

- ``wait_for_gate``: probe until every check passes, the time is up, or a second Ctrl-C (``abort``) ends it;
  with a ``Baseline`` (the gate's checks read once before the change) it judges each poll against it and ends
  early when something that worked before the change has stayed broken for ``grace`` seconds.
- ``Baseline``: per item (a speaker, a next hop, a backend server) what the gate saw before the change. An item
  down before and down after is reported (``ALREADY_DOWN``), not failing; one that was up and is down now is
  broken (the gate fails once it stays so for the grace); one that did not exist before must come up in time.
- ``roll_out``: cluster after cluster in rollout order (``waves``); a cluster that does not pass stops the ones
  after it (their hosts ``skipped``, the note naming why), unless ``all_at_once``.
- ``StopFlag`` and ``stop_on_interrupt``: the first Ctrl-C starts no new host, the second ends the gates now
  (hosts in progress restore in place), the third gives up waiting (``GiveUp``).
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from checks.verdict import CheckResult
from tasks.core.report import HostReport, err_console

Results = TypeVar("Results", bound="list[CheckResult] | None")

ALREADY_DOWN = "was already down before the change"
WORKED_BEFORE = "worked before the change"


def _key(r: CheckResult) -> tuple[str, str, str]:
    return (r.check, r.host, r.subject or "")


def _label(r: CheckResult) -> str:
    return f"{r.check} {r.host}" + (f" {r.subject}" if r.subject else "")


@dataclass
class Judged:
    """One poll judged against the baseline: the results (an item already down before the change turns its
    check into a pass whose reason and ``details["before_change"]`` say so) and what the change broke
    (``broken``: a stable key per item that worked before and does not now, with a text naming it)."""

    results: list[CheckResult]
    broken: dict[str, str] = field(default_factory=dict)


class Baseline:
    """The gate's checks as read once before the change (``before``; None: not readable, so every item counts
    as new and must come up within the timeout, as without a baseline).

    Per failing item of a check after the change (``CheckResult.items``): down before too (False) -> already
    down; up before (True) -> broken by the change; absent before (None, or no such check/subject/item) -> new.
    A check whose failing items are all already down passes, reported (only checks in ``tolerate``: single
    items such as a speaker or a backend; the changed host's services, the VIP and /healthz must always pass).
    A check without items that passed before and fails now is broken as a whole."""

    def __init__(self, before: list[CheckResult] | None, tolerate: Collection[str] = ()) -> None:
        self.before = {_key(r): r for r in before or []}
        self.tolerate = frozenset(tolerate)
        self.read = before is not None

    def judge(self, results: list[CheckResult]) -> Judged:
        out: list[CheckResult] = []
        broken: dict[str, str] = {}
        for r in results:
            if r.ok:
                out.append(r)
                continue
            b = self.before.get(_key(r))
            if not r.items:
                if b is not None and b.ok:
                    broken[_label(r)] = _label(r)
                    out.append(r.model_copy(update={"reason": f"{r.reason} ({WORKED_BEFORE})"}))
                else:
                    out.append(r)
                continue
            failing = [item for item, ok in r.items.items() if ok is not True]
            was = {item: (b.items.get(item) if b is not None else None) for item in failing}
            worked = [item for item in failing if was[item] is True]
            already = [item for item in failing if was[item] is False]
            for item in worked:
                broken[f"{_label(r)} {item}"] = f"{_label(r)}: {item}"
            if worked:
                reason = f"{r.reason} ({WORKED_BEFORE}: {', '.join(worked)})"
                out.append(r.model_copy(update={"reason": reason}))
            elif r.status == "fail" and r.check in self.tolerate and failing and len(already) == len(failing):
                assert b is not None
                details = {**r.details, "before_change": {"status": b.status, "reason": b.reason, "down": already}}
                reason = f"{r.reason} ({ALREADY_DOWN}: {', '.join(already)})"
                out.append(r.model_copy(update={"status": "pass", "reason": reason, "details": details}))
            else:
                out.append(r)
        return Judged(out, broken)


def already_down(results: list[CheckResult]) -> list[str]:
    """One line per check the baseline let pass because its items were already down before the change."""
    return [f"{_label(r)}: {r.reason}" for r in results if r.ok and "before_change" in r.details]


def read_baseline(
    probe: Callable[[], list[CheckResult]],
    tolerate: Collection[str],
    settle: float = 0.0,
    interval: float = 0.25,
    describe: Callable[[Exception], str] = lambda exc: str(exc).splitlines()[0] if str(exc) else type(exc).__name__,
    abort: threading.Event | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[Baseline, str]:
    """The gate's checks before the change, read once they are steady: polled until every check passes or
    ``settle`` seconds have gone by (0: one read). What is still down then was down before the change, not coming
    back from the last one: right after a revert (an operator's retry) the BGP sessions the revert reset are Idle
    for seconds, and a baseline read then would excuse the same breaking change as "already down". The wait costs
    time only while something is down. Unreadable: an empty baseline (every item new) and why."""
    try:
        results, _ = wait_for_gate(probe, settle, interval, abort, clock, sleep)
    except Exception as exc:
        return Baseline(None, tolerate), describe(exc)
    return Baseline(results, tolerate), ""


def wait_for_gate(
    probe: Callable[[], Results],
    timeout: float,
    interval: float,
    abort: threading.Event | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    baseline: Baseline | None = None,
    grace: float | None = None,
) -> tuple[Results, float]:
    """Probe until every check passes or ``timeout`` seconds have gone by: (last results, seconds waited).

    A probe that answers None has nothing to wait for (returned at once). ``abort`` set (a second Ctrl-C)
    ends the wait now; while it is given, the pause between probes waits on it (so it ends early).

    ``baseline``: each poll is judged by it (``Baseline.judge``; the results returned are the judged ones), and
    an item that worked before the change and has been broken in every poll for ``grace`` seconds (None: the
    whole timeout) ends the wait then: failed for good, not after the timeout. The grace covers what is
    legitimately transient right after a change (a BGP session the change reset, VRRP electing again).
    """
    started = clock()
    deadline = started + timeout
    broken_since: dict[str, float] = {}
    while True:
        results = probe()
        now = clock()
        stuck = False
        if baseline is not None and results is not None:
            judged = baseline.judge(results)
            results = judged.results  # type: ignore[assignment]
            broken_since = {k: broken_since.get(k, now) for k in judged.broken}
            stuck = grace is not None and any(now - since >= grace for since in broken_since.values())
        aborted = abort is not None and abort.is_set()
        if results is None or all(r.ok for r in results) or now >= deadline or aborted or stuck:
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
