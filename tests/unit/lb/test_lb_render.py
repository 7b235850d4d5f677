"""HAProxy / Keepalived rendering: the documented layout, validated by the real haproxy -c and keepalived -t."""

from __future__ import annotations

import subprocess

import pytest
from pydantic import ValidationError

from inventory.errors import InputError, MissingFact
from inventory.model import ApiLB
from tasks.lb import validate as lb_validate
from tasks.lb.render import render_lb
from tasks.lb.validate import ValidationFailed, haproxy_local_copy, keepalived_local_copy, validate_local
from tests.unit.lb_fixtures import LB1, LB2, MASTERS, VRRP_ENV, VRRP_PASS, cluster

needs_haproxy = pytest.mark.programs("haproxy")
needs_keepalived = pytest.mark.programs("keepalived")


@pytest.fixture(autouse=True)
def vrrp_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(VRRP_ENV, VRRP_PASS)


def lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]


def test_haproxy_cfg_is_the_documented_layout() -> None:
    cfg = lines(render_lb(cluster(), LB1).file("haproxy").content)
    assert "stats socket /run/haproxy/admin.sock mode 660 level admin expose-fd listeners" in cfg
    front = cfg[cfg.index("frontend apiserver") : cfg.index("backend apiserverbackend")]
    assert front == [
        "frontend apiserver",
        "bind *:6443",
        "mode tcp",
        "option tcplog",
        "default_backend apiserverbackend",
    ]
    back = cfg[cfg.index("backend apiserverbackend") :]
    for want in (
        "option httpchk",
        "http-check connect ssl",
        "http-check send meth GET uri /healthz",
        "http-check expect status 200",
        "mode tcp",
        "balance roundrobin",
    ):
        assert want in back
    servers = [line for line in back if line.startswith("server ")]
    assert servers == [f"server {name} 203.0.113.{5 + i}:6443 check verify none" for i, name in enumerate(MASTERS)]


def test_ports_come_from_the_model() -> None:
    cfg = render_lb(cluster(frontend_port=8443, apiserver_port=16443), LB1).file("haproxy").content
    assert "bind *:8443" in cfg and "203.0.113.5:16443 check" in cfg
    script = render_lb(cluster(frontend_port=8443), LB1).file("script").content
    assert "https://127.0.0.1:8443/healthz" in script and "https://203.0.113.10:8443/healthz" in script


def test_keepalived_per_lb_state_priority_unicast() -> None:
    one = lines(render_lb(cluster(), LB1).file("keepalived").content)
    two = lines(render_lb(cluster(), LB2).file("keepalived").content)
    for conf, state, prio, src, peer in ((one, "MASTER", 150, ".8", ".9"), (two, "BACKUP", 101, ".9", ".8")):
        assert f"state {state}" in conf and f"priority {prio}" in conf
        assert f"unicast_src_ip 203.0.113{src}" in conf
        peer_block = conf[conf.index("unicast_peer {") + 1]
        assert peer_block == f"203.0.113{peer}"
        assert "virtual_router_id 51" in conf and "interface eth0" in conf
        assert conf[conf.index("virtual_ipaddress {") + 1] == "203.0.113.10"
        assert conf[conf.index("track_script {") + 1] == "check_apiserver"
        assert f"auth_pass {VRRP_PASS}" in conf and "auth_type PASS" in conf
        assert 'script "/etc/keepalived/check_apiserver.sh"' in conf
    # A failing check on the MASTER must put it below the BACKUP: 150 - 50 < 101.
    assert "weight -50" in one


def test_check_script_mode_and_syntax() -> None:
    script = render_lb(cluster(), LB1).file("script")
    assert script.mode == 0o755 and script.path == "/etc/keepalived/check_apiserver.sh"
    assert script.content.startswith("#!/bin/sh\n")
    assert subprocess.run(["sh", "-n"], input=script.content, text=True).returncode == 0


@needs_haproxy
@needs_keepalived
def test_renders_pass_the_real_programs() -> None:
    for name in (LB1, LB2):
        assert validate_local(render_lb(cluster(), name)) == []


@needs_haproxy
def test_invalid_haproxy_render_fails_with_the_programs_message() -> None:
    rendered = render_lb(cluster(), LB1, tuning={"balance": "fastest"})
    with pytest.raises(ValidationFailed) as exc:
        validate_local(rendered)
    message = str(exc.value)
    # The program's own words, with the file and line as on the LB (not the temp copy).
    assert message.startswith("haproxy -c: parsing [/etc/haproxy/haproxy.cfg:")
    assert "balance only supports 'roundrobin'" in message
    assert "/tmp" not in message


@needs_keepalived
def test_invalid_keepalived_render_fails_with_the_programs_message() -> None:
    rendered = render_lb(cluster(), LB1, tuning={"advert_int": 300})
    with pytest.raises(ValidationFailed) as exc:
        validate_local(rendered)
    assert str(exc.value).startswith("keepalived -t: (/etc/keepalived/keepalived.conf: Line ")
    assert "advert_int" in str(exc.value) or "300" in str(exc.value)


def test_bad_model_values_are_rejected_before_rendering() -> None:
    base = cluster().api_lb
    assert base is not None
    data = base.model_dump()
    data["auth_pass"] = {"env": VRRP_ENV}
    with pytest.raises(ValidationError):
        ApiLB.model_validate({**data, "vip": "2001:db8::10"})  # wrong family
    with pytest.raises(ValidationError):
        ApiLB.model_validate({**data, "frontend_port": 0})
    with pytest.raises(ValidationError):
        ApiLB.model_validate({**data, "virtual_router_id": 256})
    with pytest.raises(ValidationError):
        cluster(apiserver_port=0)
    with pytest.raises(ValidationError):
        cluster(priorities=(255, 101))


def test_long_vrrp_password_is_cut_to_8_with_a_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(VRRP_ENV, "abcdefghijklmnop")
    rendered = render_lb(cluster(), LB1)
    assert "auth_pass abcdefgh\n" in rendered.file("keepalived").content
    assert any("only the first 8" in w for w in rendered.warnings)
    assert "abcdefghijklmnop" not in " ".join(rendered.warnings)


def test_missing_secret_is_an_input_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(VRRP_ENV)
    with pytest.raises(MissingFact) as exc:
        render_lb(cluster(), LB1)
    assert isinstance(exc.value, InputError) and "lb.auth_pass" in str(exc.value)


def test_missing_api_lb_fact_names_the_field() -> None:
    c = cluster().model_copy(update={"missing": {"api_lb.vip": "no API VIP: set lb.vip"}})
    with pytest.raises(MissingFact, match=r"clusters\.prd\.api_lb\.vip"):
        render_lb(c, LB1)


def test_local_copy_rewrites_keep_line_numbers(tmp_path) -> None:  # type: ignore[no-untyped-def]
    rendered = render_lb(cluster(interface="ens99"), LB1)
    ha = rendered.file("haproxy").content
    ka = rendered.file("keepalived").content
    ha_copy = haproxy_local_copy(ha, tmp_path)
    ka_copy = keepalived_local_copy(ka, tmp_path / "s.sh", "eth7")
    assert len(ha_copy.splitlines()) == len(ha.splitlines())
    assert len(ka_copy.splitlines()) == len(ka.splitlines())
    assert f"stats socket {tmp_path}/admin.sock mode 660" in ha_copy
    assert "interface eth7" in ka_copy and "ens99" not in ka_copy
    assert f'script "{tmp_path}/s.sh"' in ka_copy


def test_non_root_local_copy_runs_the_script_as_the_current_user(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    # keepalived's script security rejects a root script_user for a script a non-root developer owns.
    monkeypatch.setattr(lb_validate.os, "geteuid", lambda: 1000)
    monkeypatch.setattr(lb_validate, "_local_user", lambda: ("dev", "dev"))
    ka = render_lb(cluster(), LB1).file("keepalived").content
    copy = keepalived_local_copy(ka, tmp_path / "s.sh", "eth0")
    assert "script_user dev" in copy and "script_user root" not in copy
