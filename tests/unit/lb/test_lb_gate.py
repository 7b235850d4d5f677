"""The LB deploy gate and verify's VIP re-read, on a fake host and a fake clock (no SSH, no sleeping)."""

from __future__ import annotations

from collections.abc import Callable
from ipaddress import IPv4Address

import pytest

from checks.verdict import CheckResult, failed, passed
from tasks.core.rollout import wait_for_gate
from tasks.lb.apply import FAILED_SUFFIX, apply_lb, revert_lb
from tasks.lb.gate import SHOW_STAT, gate_error, lb_gate_checks, pair_gate_checks
from tasks.lb.plan import plan_lb
from tasks.lb.remote import Remote, RemoteCommandFailed
from tasks.lb.render import ADMIN_SOCKET, CHECK_SCRIPT, HAPROXY_CFG, KEEPALIVED_CONF, render_lb
from tasks.lb.verify import reread_vip, vip_check
from tests.conftest import FIXTURES
from tests.unit.lb_fixtures import LB1, LB2, VRRP_ENV, VRRP_PASS, FakeLB, cluster

pytestmark = pytest.mark.programs("haproxy", "keepalived")
VIP = "203.0.113.10"
H, K, S = HAPROXY_CFG, KEEPALIVED_CONF, CHECK_SCRIPT


def show_stat(down: tuple[str, ...] = ()) -> str:
    """The HAProxy 2.6 capture, renamed to the backend and servers edgekit renders; ``down`` servers DOWN."""
    stat = (FIXTURES / "outputs" / "haproxy-show-stat.csv").read_text()
    for i in (1, 2, 3):
        stat = stat.replace(f"k8s_apiserver_nodes,n{i},", f"apiserverbackend,k8s-master-{i}-server-prd,")
    stat = stat.replace("k8s_apiserver_nodes,BACKEND", "apiserverbackend,BACKEND")
    lines = []
    for line in stat.splitlines():
        if any(line.startswith(f"apiserverbackend,{name},") for name in down):
            line = line.replace(",UP,", ",DOWN,", 1).replace("L4OK", "L7STS")
        lines.append(line)
    return "\n".join(lines) + "\n"


class GateLB(FakeLB):
    """A fake LB that also answers ``ip -4 -o addr show``, ``show stat`` and ``systemctl stop``."""

    def __init__(self, address: str, **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self.address = address
        self.vip = False
        self.down: tuple[str, ...] = ()

    def run(self, command: str, timeout: float = 60.0) -> tuple[int, str]:
        if command == "ip -4 -o addr show":
            self.commands.append(command)
            out = f"2: eth0    inet {self.address}/28 brd 203.0.113.15 scope global eth0\n"
            if self.vip:
                out += f"2: eth0    inet {VIP}/32 scope global eth0\n"
            return 0, out
        if command == SHOW_STAT.format(sock=ADMIN_SOCKET):
            self.commands.append("show stat")
            return (0, show_stat(self.down)) if "haproxy" in self.active else (1, "Connection refused")
        if command.startswith("systemctl stop "):
            self.commands.append(command)
            self.active.discard(command.split()[-1])
            return 0, ""
        return super().run(command, timeout)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture(autouse=True)
def vrrp_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(VRRP_ENV, VRRP_PASS)


def healthz(status: int | None = 200, body: str = "ok") -> Callable[[str], tuple[int | None, str]]:
    seen: list[str] = []

    def fetch(url: str) -> tuple[int | None, str]:
        seen.append(url)
        return status, body

    fetch.seen = seen  # type: ignore[attr-defined]
    return fetch


def pair(active: bool = True) -> dict[str, GateLB]:
    running = {"haproxy", "keepalived"} if active else set()
    return {LB1: GateLB("203.0.113.8", active=set(running)), LB2: GateLB("203.0.113.9", active=set(running))}


def by_check(results: list[CheckResult]) -> dict[str, list[CheckResult]]:
    out: dict[str, list[CheckResult]] = {}
    for r in results:
        out.setdefault(r.check, []).append(r)
    return out


# --- wait_for_gate -----------------------------------------------------------------------------------------


def test_gate_polls_until_every_check_passes_and_reports_the_time_waited() -> None:
    clock = Clock()
    answers = iter([[failed("lb.vip", "vip", "prd", "held by no LB")]] * 3 + [[passed("lb.vip", "vip", "prd", "ok")]])
    results, waited = wait_for_gate(lambda: next(answers), 10, 0.5, clock=clock, sleep=clock.sleep)
    assert [r.ok for r in results] == [True]
    assert waited == 1.5 and clock.sleeps == [0.5, 0.5, 0.5]


def test_gate_gives_up_at_the_timeout_with_the_last_failing_checks() -> None:
    clock = Clock()
    probes: list[float] = []

    def probe() -> list[CheckResult]:
        probes.append(clock.now)
        return [failed("lb.healthz", "vip", "prd", f"503 at {clock.now}")]

    results, waited = wait_for_gate(probe, 3, 0.5, clock=clock, sleep=clock.sleep)
    assert results[0].reason == "503 at 3.0" and waited == 3.0
    assert probes == [0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0]  # bounded: no probe after the deadline


def test_gate_error_is_one_line_naming_each_failing_check() -> None:
    results = [
        passed("lb.services", LB1, "prd", "haproxy and keepalived running"),
        failed("lb.backends", LB1, "prd", "k8s-master-2-server-prd DOWN"),
        failed("lb.vip", f"vip {VIP}", "prd", "held by no LB"),
    ]
    text = gate_error(results, 12.34)
    assert text == (
        f"gate failed after 12.3 s: lb.backends {LB1}: k8s-master-2-server-prd DOWN; lb.vip vip {VIP}: held by no LB"
    )
    assert "\n" not in text


# --- the checks ----------------------------------------------------------------------------------------------


def test_lb_gate_wants_both_services_and_every_backend_up() -> None:
    host = GateLB("203.0.113.9", active={"haproxy"})
    host.down = ("k8s-master-2-server-prd",)
    got = by_check(lb_gate_checks(host, LB2, cluster()))
    assert not got["lb.services"][0].ok and "keepalived" in got["lb.services"][0].reason
    assert not got["lb.backends"][0].ok and got["lb.backends"][0].reason.startswith("k8s-master-2-server-prd DOWN")
    host.active.add("keepalived")
    host.down = ()
    assert all(r.ok for r in lb_gate_checks(host, LB2, cluster()))


def test_pair_gate_waits_for_the_vip_on_the_lb_vrrp_elects() -> None:
    lbs = pair()
    fetch = healthz()
    lbs[LB2].vip = True  # the BACKUP took it first (started first); the MASTER will preempt
    got = by_check(pair_gate_checks(dict(lbs), cluster(), fetch, LB1))
    vip = got["lb.vip"][0]
    assert not vip.ok
    assert vip.reason == f"held by {LB2}, not yet by {LB1} (priority 150): VRRP has not settled"
    lbs[LB2].vip, lbs[LB1].vip = False, True
    results = pair_gate_checks(dict(lbs), cluster(), fetch, LB1)
    assert all(r.ok for r in results), [r for r in results if not r.ok]
    assert fetch.seen[-1] == f"https://{VIP}:6443/healthz"  # type: ignore[attr-defined]
    assert [r.host for r in results if r.check == "lb.services"] == [LB1]  # the changed LB's services
    assert sorted(r.host for r in results if r.check == "lb.backends") == sorted([LB1, LB2])  # both HAProxies


def test_pair_gate_does_not_blame_the_change_for_a_peer_degraded_on_its_own() -> None:
    """keepalived stopped on the MASTER, the change on the BACKUP: the BACKUP holding the VIP is settled."""
    lbs = pair()
    lbs[LB1].active = {"haproxy"}
    lbs[LB2].vip = True
    results = pair_gate_checks(dict(lbs), cluster(), healthz(), LB2)
    assert all(r.ok for r in results), [r for r in results if not r.ok]
    lbs[LB1].vip = True  # but a VIP left behind on it (keepalived SIGKILLed) is two holders
    got = by_check(pair_gate_checks(dict(lbs), cluster(), healthz(), LB2))
    assert got["lb.vip"][0].reason.startswith("held by 2 LBs at once")


def test_pair_gate_fails_on_no_holder_both_holders_healthz_and_an_unreachable_peer() -> None:
    lbs = pair()
    got = by_check(pair_gate_checks(dict(lbs), cluster(), healthz(), LB1))
    assert got["lb.vip"][0].reason == "held by no LB"
    lbs[LB1].vip = lbs[LB2].vip = True
    got = by_check(pair_gate_checks(dict(lbs), cluster(), healthz(None, "timed out"), LB1))
    assert got["lb.vip"][0].reason.startswith("held by 2 LBs at once")
    assert not got["lb.healthz"][0].ok and "timed out" in got["lb.healthz"][0].reason
    lbs[LB2].vip = False
    remotes: dict[str, Remote | str] = {LB1: lbs[LB1], LB2: "cannot connect: Connection refused"}
    got = by_check(pair_gate_checks(remotes, cluster(), healthz(), LB1))
    assert not got["lb.vip"][0].ok and "Connection refused" in got["lb.vip"][0].reason
    assert [(r.host, r.status) for r in got["lb.services"]] == [(LB1, "pass")]
    got = by_check(pair_gate_checks({LB1: "refused", LB2: lbs[LB2]}, cluster(), healthz(), LB1))
    assert [(r.host, r.status) for r in got["lb.services"]] == [(LB1, "error")]  # the changed LB unreachable


# --- restore after a failed gate -----------------------------------------------------------------------------


def test_revert_after_a_failed_gate_restores_the_files_and_reloads_what_ran_before() -> None:
    host = GateLB("203.0.113.8", files={H: ("global\n", 0o644)})
    rendered = render_lb(cluster(), LB1)
    apply_lb(host, plan_lb(host, rendered), LB1)  # first deploy: both started
    previous = dict(host.files)
    host.reloads.clear()
    plan = plan_lb(host, render_lb(cluster(apiserver_port=16443), LB1))
    outcome = apply_lb(host, plan, LB1)
    assert outcome.status == "changed" and outcome.reloaded == ["haproxy"]
    notes = revert_lb(host, plan, outcome)
    assert host.files[H] == previous[H] and host.files[K] == previous[K]
    assert "16443" in host.files[H + FAILED_SUFFIX][0]  # the change that failed, kept for diagnosis
    assert host.reloads == ["haproxy", "haproxy"]  # reloaded onto the restored file; keepalived untouched
    assert notes == [f"previous files restored: {H}", "haproxy reloaded with the previous config"]


def test_revert_of_a_first_install_stops_what_the_deploy_started() -> None:
    host = GateLB("203.0.113.8", files={H: ("global\n", 0o644)})
    plan = plan_lb(host, render_lb(cluster(), LB1))
    outcome = apply_lb(host, plan, LB1)
    assert host.active == {"haproxy", "keepalived"}
    notes = revert_lb(host, plan, outcome)
    assert host.files[H] == ("global\n", 0o644) and K not in host.files and S not in host.files
    assert host.active == set()
    assert f"previous files restored: {H}" in notes
    assert any(n.startswith("new files moved aside") and K in n and S in n for n in notes)
    assert "keepalived stopped again (it was not running before)" in notes


# --- verify: lb.vip re-read ------------------------------------------------------------------------------------


def first_read(holders: dict[str, bool]) -> CheckResult:
    from checks import lb as lbchecks

    return lbchecks.check_vip("prd", IPv4Address(VIP), holders, {})


def test_verify_rereads_a_vip_held_by_no_lb_and_says_so() -> None:
    clock = Clock()
    reads = iter([{LB1: False, LB2: False}, {LB1: True, LB2: False}])
    first = first_read({LB1: False, LB2: False})
    result = reread_vip(cluster(), first, lambda: next(reads), 5.0, 0.5, clock, clock.sleep)
    assert result.ok
    assert result.reason == f"held by {LB1} only (first read: held by no LB; settled 1.0 s later, 2 re-read(s))"


def test_verify_calls_a_vip_that_stays_nowhere_a_failure_after_the_bound() -> None:
    clock = Clock()
    first = first_read({LB1: True, LB2: True})
    result = reread_vip(cluster(), first, lambda: {LB1: True, LB2: True}, 5.0, 0.5, clock, clock.sleep)
    assert result.status == "fail"
    assert result.reason == (f"held by 2 LBs at once: {LB1}, {LB2} (still after re-reading for 5.0 s, 10 re-read(s))")
    assert clock.now == 5.0


def test_verify_reread_that_cannot_read_fails_with_the_cause() -> None:
    def broken() -> dict[str, bool]:
        raise RemoteCommandFailed("ip addr: exit 255")

    clock = Clock()
    result = reread_vip(cluster(), first_read({LB1: False, LB2: False}), broken, 5.0, 0.5, clock, clock.sleep)
    assert result.status == "fail" and result.reason == "held by no LB; re-reading failed: ip addr: exit 255"


def test_verify_does_not_reread_a_settled_or_unreadable_pair() -> None:
    settled = vip_check(None, cluster(), {LB1: True, LB2: False}, {})
    assert settled.ok and settled.reason == f"held by {LB1} only"
    unknown = vip_check(None, cluster(), {LB1: False}, {LB2: "connection refused"})
    assert unknown.status == "fail" and "cannot tell" in unknown.reason
