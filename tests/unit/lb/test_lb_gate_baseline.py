"""The LB gate against its state before the change (issue 22 #2): an apiserver DOWN before and after passes with
a warning, one the change took DOWN fails the gate after the grace, not the timeout. Fake LBs, a fake clock."""

from __future__ import annotations

import pytest

from checks.verdict import CheckResult
from tasks.core.rollout import ALREADY_DOWN, WORKED_BEFORE, already_down, wait_for_gate
from tasks.lb.gate import GATE_GRACE, TOLERATE, gate_error, lb_baseline, lb_gate_checks, pair_gate_checks
from tests.unit.lb.test_lb_gate import Clock, GateLB, healthz, pair
from tests.unit.lb_fixtures import LB1, LB2, VRRP_ENV, VRRP_PASS, cluster

pytestmark = pytest.mark.programs("haproxy", "keepalived")
MASTER2 = "k8s-master-2-server-prd"


@pytest.fixture(autouse=True)
def vrrp_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(VRRP_ENV, VRRP_PASS)


def one_lb(down: tuple[str, ...] = ()) -> GateLB:
    lb = GateLB("203.0.113.9", active={"haproxy", "keepalived"})
    lb.down = down
    return lb


def gate(lb: GateLB, timeout: float = 60) -> tuple[list[CheckResult], float]:
    """The first LB's gate (services, backends) judged against ``lb`` read now; the probe reads ``lb`` again."""
    clock = Clock()
    baseline, unread = lb_baseline(lambda: lb_gate_checks(lb, LB2, cluster()))
    assert unread == ""
    return wait_for_gate(
        lambda: lb_gate_checks(lb, LB2, cluster()),
        timeout,
        0.5,
        clock=clock,
        sleep=clock.sleep,
        baseline=baseline,
        grace=GATE_GRACE,
    )


def test_backend_items_per_server() -> None:
    backends = lb_gate_checks(one_lb(down=(MASTER2,)), LB2, cluster())[1]
    assert backends.items == {"k8s-master-1-server-prd": True, MASTER2: False, "k8s-master-3-server-prd": True}
    assert TOLERATE == ("lb.backends",)


def test_an_apiserver_down_before_and_after_passes_with_a_warning() -> None:
    results, waited = gate(one_lb(down=(MASTER2,)))
    assert waited == 0 and all(r.ok for r in results)
    lines = already_down(results)
    assert len(lines) == 1 and lines[0].startswith(f"lb.backends {LB2}: {MASTER2} DOWN") and ALREADY_DOWN in lines[0]


def test_an_apiserver_the_change_took_down_fails_after_the_grace() -> None:
    lb = one_lb()
    clock = Clock()
    baseline, _ = lb_baseline(lambda: lb_gate_checks(lb, LB2, cluster()))
    lb.down = (MASTER2,)  # the change broke it
    results, waited = wait_for_gate(
        lambda: lb_gate_checks(lb, LB2, cluster()), 60, 0.5, clock=clock, sleep=clock.sleep, baseline=baseline, grace=15
    )
    assert waited == 15 < 60
    text = gate_error(results, waited)
    assert text.startswith(f"gate failed after 15.0 s: lb.backends {LB2}: {MASTER2} DOWN")
    assert f"{WORKED_BEFORE}: {MASTER2}" in text


def test_the_pair_gate_excuses_a_down_backend_but_not_healthz() -> None:
    lbs = pair()
    for lb in lbs.values():
        lb.down = (MASTER2,)
    lbs[LB1].vip = True
    remotes = dict(lbs)
    before = pair_gate_checks(remotes, cluster(), healthz(), LB1)  # type: ignore[arg-type]
    baseline, _ = lb_baseline(lambda: before)
    judged = baseline.judge(pair_gate_checks(remotes, cluster(), healthz(), LB1))  # type: ignore[arg-type]
    assert all(r.ok for r in judged.results) and len(already_down(judged.results)) == 2  # both LBs' backends
    broken = baseline.judge(pair_gate_checks(remotes, cluster(), healthz(503, "no"), LB1))  # type: ignore[arg-type]
    assert [r.check for r in broken.results if not r.ok] == ["lb.healthz"] and list(broken.broken) == [
        "lb.healthz vip 203.0.113.10 https://203.0.113.10:6443/healthz"
    ]
    # The gate's error still names what was down before (an operator reads one line).
    assert "lb.backends" in gate_error(broken.results, 1.0) and ALREADY_DOWN in gate_error(broken.results, 1.0)


def test_an_unreadable_lb_before_the_change_gives_an_empty_baseline() -> None:
    def broken() -> list[CheckResult]:
        raise OSError("Socket is closed")

    baseline, why = lb_baseline(broken)
    assert not baseline.read and "Socket is closed" in why
