"""The LB deploy engine against a fake host: plan, diffs with masking, atomic push, idempotency, rollback."""

from __future__ import annotations

import pytest

from tasks.lb.apply import BAK_SUFFIX, FAILED_SUFFIX, NEW_SUFFIX, ApplyOutcome, apply_lb
from tasks.lb.plan import LBPlan, plan_lb
from tasks.lb.render import CHECK_SCRIPT, HAPROXY_CFG, KEEPALIVED_CONF, mask, render_lb
from tests.unit.lb_fixtures import LB1, VRRP_ENV, VRRP_PASS, FakeLB, cluster

pytestmark = pytest.mark.programs("haproxy", "keepalived")
DEBIAN_HAPROXY = "global\n\tlog /dev/log local0\n\tdaemon\n\ndefaults\n\tmode http\n"
H, K, S = HAPROXY_CFG, KEEPALIVED_CONF, CHECK_SCRIPT


@pytest.fixture(autouse=True)
def vrrp_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(VRRP_ENV, VRRP_PASS)


def fresh_host() -> FakeLB:
    """As installed: Debian's haproxy.cfg, no keepalived.conf, both services inactive."""
    return FakeLB({H: (DEBIAN_HAPROXY, 0o644)})


def deploy(host: FakeLB, **render: object) -> tuple[LBPlan, ApplyOutcome]:
    rendered = render_lb(cluster(**render), LB1)  # type: ignore[arg-type]
    plan = plan_lb(host, rendered)
    return plan, apply_lb(host, plan, LB1)


def test_plan_reads_only_and_lists_actions() -> None:
    host = fresh_host()
    plan = plan_lb(host, render_lb(cluster(), LB1))
    assert host.writes == [] and host.reloads == []
    assert all(c.startswith("systemctl is-active") for c in host.commands)
    actions = plan.actions()
    assert actions[0].startswith(f"update {H} (+")
    assert f"create {S} (mode 755)" in actions and f"create {K} (mode 644)" in actions
    assert actions[-2:] == ["start haproxy", "start keepalived"]


def test_diffs_are_unified_and_mask_the_secret() -> None:
    host = fresh_host()
    host.files[K] = ("vrrp_instance VI_1 {\n    authentication {\n        auth_pass oldsecret\n    }\n}\n", 0o644)
    plan = plan_lb(host, render_lb(cluster(), LB1))
    diffs = plan.diffs()
    assert diffs[H][0] == f"--- a{H}" and diffs[H][1] == f"+++ b{H}" and diffs[H][2].startswith("@@")
    assert diffs[S][0] == "--- /dev/null"
    text = "\n".join(line for lines in diffs.values() for line in lines)
    assert VRRP_PASS not in text and "oldsecret" not in text
    assert "-        auth_pass ********" in text and "+        auth_pass ********" in text


def test_first_deploy_pushes_validates_renames_and_starts() -> None:
    host = fresh_host()
    plan, outcome = deploy(host)
    assert outcome.status == "changed", outcome.error
    # Uploaded as temp files, validated on the host, then renamed: never written in place.
    assert sorted(host.writes) == sorted(p + NEW_SUFFIX for p in (H, K, S))
    assert any(c.startswith(f"haproxy -c -f {H}.edgekit-new") for c in host.commands)
    # keepalived.conf is checked against the new check script, before either is live.
    assert any("keepalived -t -f" in c and "check_apiserver.sh.edgekit-new" in c for c in host.commands)
    assert host.files[H][0] == plan.rendered.file("haproxy").content
    assert host.files[H + BAK_SUFFIX][0] == DEBIAN_HAPROXY  # the previous file is kept
    assert host.files[S][1] == 0o755
    assert not any(p.endswith(NEW_SUFFIX) for p in host.files)
    assert host.reloads == ["haproxy", "keepalived"]
    # Order: script before keepalived.conf, so the live conf never names a missing script.
    moves = [c for c in host.commands if c.startswith("mv -f")]
    assert moves[0].endswith(S) and moves[-1].endswith(K)


def test_second_run_changes_nothing_and_reloads_nothing() -> None:
    host = fresh_host()
    deploy(host)
    host.commands.clear()
    host.writes.clear()
    host.reloads.clear()
    plan, outcome = deploy(host)
    assert not plan and plan.actions() == [] and plan.diffs() == {}
    assert outcome.status == "unchanged"
    assert host.writes == [] and host.reloads == []
    assert all(c.startswith("systemctl is-active") for c in host.commands)


def test_only_the_changed_service_reloads() -> None:
    host = fresh_host()
    deploy(host)
    host.reloads.clear()
    _, outcome = deploy(host, apiserver_port=16443)
    assert outcome.status == "changed" and host.reloads == ["haproxy"]
    host.reloads.clear()
    _, outcome = deploy(host, apiserver_port=16443, priorities=(160, 101))
    assert outcome.status == "changed" and host.reloads == ["keepalived"]


def test_stopped_service_with_current_files_is_started() -> None:
    host = fresh_host()
    deploy(host)
    host.active.discard("keepalived")  # e.g. keepalived killed
    host.reloads.clear()
    plan, outcome = deploy(host)
    assert plan.actions() == ["start keepalived"] and host.reloads == ["keepalived"] and outcome.status == "changed"


def test_invalid_on_the_host_pushes_nothing() -> None:
    host = fresh_host()
    host.interface_exists = False  # keepalived -t on the LB: the interface does not exist there
    before = dict(host.files)
    _, outcome = deploy(host, interface="nosuch0")
    assert outcome.status == "failed"
    assert outcome.error is not None and outcome.error.startswith("keepalived -t on the host: (/etc/keepalived/")
    assert "doesn't exist" in outcome.error
    assert host.files == before  # temp files removed, nothing renamed
    assert host.reloads == []


def test_failed_reload_restores_the_previous_files_and_reloads_again() -> None:
    host = fresh_host()
    deploy(host)
    previous = dict(host.files)
    host.fail_reload = {"haproxy"}
    host.reloads.clear()
    _, outcome = deploy(host, apiserver_port=16443, priorities=(160, 101))
    assert outcome.status == "reverted"
    assert outcome.error is not None and outcome.error.startswith("reload of haproxy failed: Job for haproxy.service")
    for path in (H, K, S):
        assert host.files[path] == previous[path], path
    assert host.files[H + FAILED_SUFFIX][0] != previous[H][0]  # the rejected file, for diagnosis
    # haproxy failed first; both were running before, so haproxy is reloaded onto the restored file
    # (keepalived was never reloaded with the new file).
    assert host.reloads == ["haproxy", "haproxy"]
    assert any("previous files restored" in n for n in outcome.notes)


def test_failed_reload_after_another_service_reloads_both_back() -> None:
    host = fresh_host()
    deploy(host)
    previous = dict(host.files)
    host.fail_reload = {"keepalived"}
    host.reloads.clear()
    _, outcome = deploy(host, apiserver_port=16443, priorities=(160, 101))
    assert outcome.status == "reverted"
    assert host.files[H] == previous[H] and host.files[K] == previous[K]
    assert host.reloads == ["haproxy", "keepalived", "haproxy", "keepalived"]


def test_first_install_reload_failure_moves_new_files_aside() -> None:
    host = FakeLB()
    host.fail_reload = {"haproxy"}
    _, outcome = deploy(host)
    assert outcome.status == "reverted"
    assert H not in host.files and K not in host.files
    assert H + FAILED_SUFFIX in host.files
    # Services that were not running before are left so: no second reload.
    assert host.reloads == ["haproxy"]


def test_host_changed_since_plan_is_not_overwritten() -> None:
    host = fresh_host()
    rendered = render_lb(cluster(), LB1)
    plan = plan_lb(host, rendered)
    host.files[H] = ("# edited by hand after the plan\n", 0o644)
    outcome = apply_lb(host, plan, LB1)
    assert outcome.status == "failed" and "changed on the host since the plan" in (outcome.error or "")
    assert host.writes == []


def test_mode_only_change_is_fixed_without_reload() -> None:
    host = fresh_host()
    deploy(host)
    content, _ = host.files[S]
    host.files[S] = (content, 0o644)
    host.reloads.clear()
    plan, outcome = deploy(host)
    assert plan.actions() == [f"chmod 755 {S}"]
    assert outcome.status == "changed" and host.files[S][1] == 0o755 and host.reloads == []


def test_mask_hides_any_auth_pass_and_known_secrets() -> None:
    text = "auth_pass hunter2\n  auth_pass   other\nfoo Xq7tP2mZ bar\n"
    masked = mask(text, [VRRP_PASS])
    assert masked == "auth_pass ********\n  auth_pass   ********\nfoo ******** bar\n"
