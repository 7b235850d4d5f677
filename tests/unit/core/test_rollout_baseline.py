"""The gate judged against its state before the change (``tasks.core.rollout.Baseline``, ``wait_for_gate`` with a
baseline and a grace), on the real check functions and a fake clock (no sleeping)."""

from __future__ import annotations

from checks import bgp, ecmp
from checks.parsers import bgp_summary, route
from checks.verdict import CheckResult, failed, passed
from tasks.core.rollout import ALREADY_DOWN, WORKED_BEFORE, Baseline, already_down, wait_for_gate
from tasks.router.gate import GATE_GRACE, TOLERATE, gate_baseline
from tests.unit.router.test_checks_verify import ROUTE_3, SUMMARY_3, WEB, lab_cluster

NODE1 = "k8s-node-1-server-prd (203.0.113.11)"
NODE3 = "k8s-node-3-server-prd (203.0.113.13)"


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def summary(active: tuple[str, ...] = (), absent: tuple[str, ...] = ()) -> str:
    """SUMMARY_3 with the sessions of ``active`` addresses Active and the ``absent`` ones not neighbors."""
    lines = []
    for line in SUMMARY_3.splitlines():
        address = line.split(" ", 1)[0]
        if address in absent:
            continue
        if address in active:
            line = line.replace("00:00:38            2        2", "00:00:09       Active        0", 1)
            line = line.replace("00:00:38            1        2", "00:00:09       Active        0", 1)
        lines.append(line)
    return "\n".join(lines) + "\n"


def peers(text: str) -> CheckResult:
    return bgp.check_peers("r", lab_cluster(), bgp_summary.parse(text))


def web_route(without: tuple[str, ...] = ()) -> CheckResult:
    text = "\n".join(line for line in ROUTE_3.splitlines() if not any(a in line for a in without)) + "\n"
    return ecmp.check_route("r", lab_cluster(), WEB, "198.51.100.1", ecmp.selected_route(route.parse(text)))


def test_checks_name_their_items_and_fail_exactly_when_one_is_not_up() -> None:
    ok = peers(SUMMARY_3)
    assert ok.ok and set(ok.items.values()) == {True} and len(ok.items) == 3
    down = peers(summary(active=("203.0.113.13",), absent=("203.0.113.11",)))
    assert not down.ok and down.items[NODE3] is False and down.items[NODE1] is None  # Active; not a neighbor
    assert "items" not in down.model_dump()  # not in reports: the reason names them
    degraded = web_route(without=("203.0.113.13",))
    assert not degraded.ok and degraded.items == {
        "via 203.0.113.11": True,
        "via 203.0.113.12": True,
        "via 203.0.113.13": False,
    }


def test_a_speaker_down_before_and_after_passes_reported() -> None:
    before = [peers(summary(active=("203.0.113.13",))), web_route(without=("203.0.113.13",))]
    judged = Baseline(before, TOLERATE).judge([peers(summary(active=("203.0.113.13",))), web_route(("203.0.113.13",))])
    assert all(r.ok for r in judged.results) and judged.broken == {}
    session = judged.results[0]
    assert ALREADY_DOWN in session.reason and NODE3 in session.reason and "is Active" in session.reason
    assert session.details["before_change"]["down"] == [NODE3]
    assert session.model_dump()["details"]["before_change"]["status"] == "fail"  # in the JSON report
    lines = already_down(judged.results)
    assert len(lines) == 2 and lines[0].startswith("bgp.peers r: ") and "ecmp.routes r default/web" in lines[1]


def test_a_speaker_that_worked_and_is_down_now_is_broken() -> None:
    judged = Baseline([peers(SUMMARY_3)], TOLERATE).judge([peers(summary(active=("203.0.113.13",)))])
    assert not judged.results[0].ok
    assert judged.broken == {f"bgp.peers r {NODE3}": f"bgp.peers r: {NODE3}"}
    assert f"({WORKED_BEFORE}: {NODE3})" in judged.results[0].reason


def test_a_down_speaker_beside_a_newly_broken_one_still_fails() -> None:
    before = [peers(summary(active=("203.0.113.13",)))]
    judged = Baseline(before, TOLERATE).judge([peers(summary(active=("203.0.113.13", "203.0.113.11")))])
    assert not judged.results[0].ok and list(judged.broken) == [f"bgp.peers r {NODE1}"]


def test_a_speaker_new_to_the_router_must_come_up_it_is_neither_tolerated_nor_broken() -> None:
    before = [peers(summary(absent=("203.0.113.13",)))]  # not a neighbor before: the change adds it
    judged = Baseline(before, TOLERATE).judge([peers(summary(active=("203.0.113.13",)))])
    assert not judged.results[0].ok and judged.broken == {}
    # No baseline at all (the router could not be read before): everything is new.
    judged = Baseline(None, TOLERATE).judge([peers(summary(active=("203.0.113.13",)))])
    assert not judged.results[0].ok and judged.broken == {}


def test_only_listed_checks_are_tolerated_and_whole_checks_are_never() -> None:
    svc_before = failed(
        "lb.services", "lb1", "prd", "not running: keepalived", items={"haproxy": True, "keepalived": False}
    )
    vip_before = failed("lb.vip", "vip", "prd", "held by no LB")
    health_before = passed("lb.healthz", "vip", "prd", "200 ok")
    after = [svc_before, vip_before, failed("lb.healthz", "vip", "prd", "503")]
    judged = Baseline([svc_before, vip_before, health_before], ("lb.backends",)).judge(after)
    assert [r.ok for r in judged.results] == [False, False, False]
    assert judged.broken == {"lb.healthz vip": "lb.healthz vip"}  # passed before as a whole: broken


def test_gate_fails_fast_when_what_worked_stays_broken_for_the_grace() -> None:
    clock = Clock()
    baseline = Baseline([peers(SUMMARY_3)], TOLERATE)
    results, waited = wait_for_gate(
        lambda: [peers(summary(active=("203.0.113.13",)))],
        60,
        0.5,
        clock=clock,
        sleep=clock.sleep,
        baseline=baseline,
        grace=GATE_GRACE,
    )
    assert waited == GATE_GRACE < 60 and not results[0].ok
    assert WORKED_BEFORE in results[0].reason


def test_a_session_reset_by_the_change_that_comes_back_within_the_grace_passes() -> None:
    clock = Clock()
    baseline = Baseline([peers(SUMMARY_3)], TOLERATE)

    def probe() -> list[CheckResult]:  # reset by the commit, Established again after 8 s
        return [peers(summary(active=("203.0.113.13",)) if clock.now < 8 else SUMMARY_3)]

    results, waited = wait_for_gate(probe, 60, 0.5, clock=clock, sleep=clock.sleep, baseline=baseline, grace=10)
    assert results[0].ok and waited == 8.0


def test_the_grace_counts_per_item_from_when_it_broke() -> None:
    clock = Clock()
    baseline = Baseline([peers(SUMMARY_3)], TOLERATE)

    def probe() -> list[CheckResult]:  # node3 flaps back at 6 s, node1 breaks at 6 s and stays down
        return [peers(summary(active=("203.0.113.13",) if clock.now < 6 else ("203.0.113.11",)))]

    results, waited = wait_for_gate(probe, 60, 0.5, clock=clock, sleep=clock.sleep, baseline=baseline, grace=10)
    assert waited == 16.0 and NODE1 in results[0].reason


def test_new_items_wait_the_whole_timeout_as_without_a_baseline() -> None:
    clock = Clock()
    baseline = Baseline([peers(summary(absent=("203.0.113.13",)))], TOLERATE)
    results, waited = wait_for_gate(
        lambda: [peers(summary(active=("203.0.113.13",)))],
        30,
        0.5,
        clock=clock,
        sleep=clock.sleep,
        baseline=baseline,
        grace=GATE_GRACE,
    )
    assert waited == 30 and not results[0].ok


def test_already_down_passes_at_the_first_poll() -> None:
    clock = Clock()
    down = summary(active=("203.0.113.13",))
    results, waited = wait_for_gate(
        lambda: [peers(down)], 60, 0.5, clock=clock, sleep=clock.sleep, baseline=Baseline([peers(down)], TOLERATE)
    )
    assert waited == 0 and results[0].ok and ALREADY_DOWN in results[0].reason


def test_an_unreadable_baseline_is_empty_and_says_why() -> None:
    def broken() -> list[CheckResult]:
        raise OSError("Socket is closed")

    baseline, why = gate_baseline(broken)
    assert not baseline.read and why == "OSError: Socket is closed"
    read, why = gate_baseline(lambda: [peers(SUMMARY_3)])
    assert read.read and why == ""


def test_the_baseline_is_read_once_steady_so_a_retry_after_a_revert_is_judged_strictly() -> None:
    # Right after a revert the sessions it reset are Active for a few seconds, then Established again.
    clock = Clock()
    polls = iter([summary(active=("203.0.113.11", "203.0.113.13"))] * 8)
    baseline, why = gate_baseline(
        lambda: [peers(next(polls, SUMMARY_3))], settle=GATE_GRACE, interval=0.5, clock=clock, sleep=clock.sleep
    )
    assert why == "" and clock.now == 4.0  # waited while they came back, no longer
    judged = baseline.judge([peers(summary(active=("203.0.113.13",)))])
    assert list(judged.broken) == [f"bgp.peers r {NODE3}"]  # the change broke it: not "already down"


def test_a_speaker_still_down_once_the_settle_is_over_was_down_before_the_change() -> None:
    clock = Clock()
    down = summary(active=("203.0.113.13",))
    baseline, _ = gate_baseline(lambda: [peers(down)], settle=GATE_GRACE, interval=0.5, clock=clock, sleep=clock.sleep)
    assert clock.now == GATE_GRACE  # bounded
    judged = baseline.judge([peers(down)])
    assert judged.broken == {} and judged.results[0].ok and ALREADY_DOWN in judged.results[0].reason


def test_a_steady_router_is_read_once() -> None:
    clock = Clock()
    reads: list[int] = []
    gate_baseline(lambda: reads.append(1) or [peers(SUMMARY_3)], settle=GATE_GRACE, clock=clock, sleep=clock.sleep)
    assert reads == [1] and clock.now == 0.0


def test_a_withheld_speaker_established_without_prefixes_is_up_so_breaking_it_fails() -> None:
    # MetalLB announces nothing from a withheld node (NetworkUnavailable): Established with 0 prefixes is its up.
    c = lab_cluster()
    c = c.model_copy(update={"speakers": [*c.speakers[:2], c.speakers[2].model_copy(update={"withheld": "x"})]})
    quiet = "\n".join(
        line.replace("00:00:38            1        2", "00:00:38            0        2")
        if line.startswith("203.0.113.13 ")
        else line
        for line in SUMMARY_3.splitlines()
    )
    before = bgp.check_peers("r", c, bgp_summary.parse(quiet))
    assert before.details["established"] == 3 and "sent no prefixes" not in before.reason
    assert before.ok and set(before.items.values()) == {True}
    after = bgp.check_peers("r", c, bgp_summary.parse(summary(active=("203.0.113.13",))))
    judged = Baseline([before], TOLERATE).judge([after])
    assert not judged.results[0].ok and list(judged.broken) == [f"bgp.peers r {NODE3}"]
