"""The result of one check on one host: a stable id, pass/fail/error, and a one-line reason.

``items``: per item the check judged (a speaker, a next hop, a backend server) whether it is as meant (True),
down (False) or absent (None: not configured, not a neighbor, not in ``show stat``). A check that names items
fails exactly when one is not True. The deploy gates compare them with the state read before the change
(``tasks.core.rollout.Baseline``); they are not in reports (the reason names them).
"""

from __future__ import annotations

from functools import partial
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Status = Literal["pass", "fail", "error"]


class CheckResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    check: str  # stable id, e.g. bgp.peers (each check module exports its ids: checks.bgp.PEERS, ...)
    host: str
    cluster: str
    status: Status
    reason: str
    subject: str | None = None  # what the check looked at (a peer, a service IP), for one testcase each
    # Numbers behind the verdict (sessions expected/established, next hops, handshake age...), for metrics:
    # tasks/metrics.py documents the keys each check sets. Empty when a check has none (or errored).
    details: dict[str, Any] = Field(default_factory=dict)
    items: dict[str, bool | None] = Field(default_factory=dict, exclude=True)

    @property
    def ok(self) -> bool:
        return self.status == "pass"

    def __hash__(self) -> int:  # hashable as before ``details`` (a dict) came; equal results hash equal
        return hash((self.check, self.host, self.cluster, self.status, self.reason, self.subject))


def _result(
    status: Status,
    check: str,
    host: str,
    cluster: str,
    reason: str,
    subject: str | None = None,
    details: dict[str, Any] | None = None,
    items: dict[str, bool | None] | None = None,
) -> CheckResult:
    return CheckResult(
        check=check,
        host=host,
        cluster=cluster,
        status=status,
        reason=reason,
        subject=subject,
        details=details or {},
        items=items or {},
    )


# passed/failed/errored(check, host, cluster, reason, subject=None, details=None, items=None): one builder, typed
# by mypy's functools.partial support.
passed = partial(_result, "pass")
failed = partial(_result, "fail")
errored = partial(_result, "error")
