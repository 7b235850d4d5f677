"""API load balancers against the namespace lab: deploy, VIP failover, a DOWN backend, bad values, failed reload.

One lab of its own (prefix ``ektlb``, state in a temp dir), up for the module and down at the end, also on
failure. edgekit runs only inside the operator namespace (``python -m lab exec -- python -m tasks.lb ...``);
the root namespace never sends to lab addresses. Assertions on LB files read the lab's state directory
(the LBs' /etc/haproxy and /etc/keepalived are bind mounts of it); VIP ownership is read with
``ip netns exec <lb> ip -4 -o addr show`` (reading namespace state, no traffic).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.lab.helpers import lab_site, wait_until, write_site
from tests.lab.labrun import LabRun

pytestmark = [pytest.mark.lab, pytest.mark.programs("haproxy", "keepalived")]

PREFIX = "ektlb"
LB1, LB2 = "k8s-lb-1-server-prd", "k8s-lb-2-server-prd"  # MASTER (priority 150), BACKUP (101)
LB_ADDR = {LB1: "203.0.113.8", LB2: "203.0.113.9"}
LB_LAB = {LB1: "prd-lb1", LB2: "prd-lb2"}
VIP = "203.0.113.10"
MASTER2 = "k8s-master-2-server-prd"
HAPROXY = "etc/haproxy/haproxy.cfg"
KEEPALIVED = "etc/keepalived/keepalived.conf"


class LabHandle(LabRun):
    """The shared LabRun, plus what these tests read of the LBs."""

    @property
    def state(self) -> Path:
        return self.state_dir

    def exec(self, *cmd: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """CMD in the operator namespace, with the lab's environment."""
        return self.lab("exec", "--", *cmd, check=False, timeout=timeout)

    def lb(self, *args: str) -> tuple[int, str, dict[str, Any]]:
        """``python -m tasks.lb ARGS --json FILE`` in the operator namespace: (exit code, output, report)."""
        code, report, output = self.edgekit_json(*args, module="tasks.lb")
        return code, output, report

    def lb_ssh(self, lb: str, command: str) -> subprocess.CompletedProcess[str]:
        """A root shell command on an LB, over SSH from the operator namespace (as an operator would)."""
        return self.ssh(f"root@{LB_ADDR[lb]}", command)

    def file(self, lb: str, path: str) -> str:
        return (self.state / "hosts" / LB_LAB[lb] / path).read_text()

    def holds_vip(self, lb: str) -> bool:
        out = subprocess.run(
            ["ip", "netns", "exec", self.ns(LB_LAB[lb]), "ip", "-4", "-o", "addr", "show"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        return f"inet {VIP}/" in out


def checks(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for h in report["hosts"] for c in h["checks"]]


def check(report: dict[str, Any], check_id: str, host: str) -> dict[str, Any]:
    found = [c for c in checks(report) if c["check"] == check_id and c["host"] == host]
    assert len(found) == 1, (check_id, host, checks(report))
    return found[0]


def host_report(report: dict[str, Any], name: str) -> dict[str, Any]:
    return next(h for h in report["hosts"] if h["host"] == name)


def verify_until(lab: LabHandle, predicate: Any, timeout: float, what: str) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        rc, out, report = lab.lb("verify")
        if report and predicate(rc, report):
            return report
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}; last verify exit {rc}:\n{out}")
        time.sleep(0.5)


@pytest.fixture(scope="module")
def lab() -> Iterator[LabHandle]:
    handle = LabHandle.create(PREFIX, COLUMNS="250")
    try:
        handle.lab("up", "--clusters", "prd", timeout=120)
        yield handle
    finally:
        handle.down()
        shutil.rmtree(handle.state_dir, ignore_errors=True)


@pytest.fixture(scope="module")
def deployed(lab: LabHandle) -> LabHandle:
    rc, out, report = lab.lb("plan")
    assert rc == 10, out
    assert all(h["status"] == "planned" for h in report["hosts"]), out
    rc, out, report = lab.lb("deploy")
    assert rc == 0, out
    assert [h["host"] for h in report["hosts"]] == [LB2, LB1]  # the BACKUP first
    assert all(h["status"] == "changed" for h in report["hosts"]), out
    # Each LB passed its gate; the last one waited for the pair (the VIP on the elected LB, /healthz).
    assert "gate passed in " in " ".join(host_report(report, LB2)["notes"]), out
    assert "(services, backends, VIP and /healthz of the pair)" in " ".join(host_report(report, LB1)["notes"]), out
    assert "gate" in host_report(report, LB1)["timings"]
    assert "gate: services, backends, VIP, /healthz" in out and "gate passed in" in out  # the step and its time
    return lab


def test_verify_at_once_after_deploy_is_green(deployed: LabHandle) -> None:
    """The user's `deploy` then `verify`: no waiting in between, deploy's gate did it."""
    rc, out, report = deployed.lb("verify")
    assert rc == 0, out
    assert check(report, "lb.vip", f"vip {VIP}")["reason"] == f"held by {LB1} only", out


def test_deploy_then_the_vip_answers_and_a_second_run_changes_nothing(deployed: LabHandle) -> None:
    lab = deployed
    assert lab.holds_vip(LB1) and not lab.holds_vip(LB2)  # deploy returned with the VIP settled
    rc, out, report = lab.lb("verify")
    assert rc == 0, out
    assert check(report, "lb.vip", f"vip {VIP}")["reason"] == f"held by {LB1} only"
    assert check(report, "lb.healthz", f"vip {VIP}")["reason"].endswith("200 ok")
    for lb in (LB1, LB2):
        assert check(report, "lb.backends", lb)["status"] == "pass"
        assert check(report, "lb.config", lb)["status"] == "pass"
    # The secret never reaches the files edgekit writes for people, but is on the LBs.
    secret = (lab.state / "secrets" / "prd-vrrp.pass").read_text().strip()
    assert f"auth_pass {secret}\n" in lab.file(LB1, KEEPALIVED)

    before = {lb: (lab.file(lb, HAPROXY), lab.file(lb, KEEPALIVED)) for lb in (LB1, LB2)}
    rc, out, again = lab.lb("deploy")
    assert rc == 0, out
    assert [h["status"] for h in again["hosts"]] == ["unchanged", "unchanged"], out
    assert all(not h["commands"] and "reloaded" not in " ".join(h["notes"]) for h in again["hosts"])
    assert {lb: (lab.file(lb, HAPROXY), lab.file(lb, KEEPALIVED)) for lb in (LB1, LB2)} == before
    rc, out, _ = lab.lb("plan")
    assert rc == 0, out
    assert secret not in out

    junit = lab.state / "verify.xml"
    proc = lab.exec(sys.executable, "-m", "tasks.lb", "verify", "--junit", str(junit))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    text = junit.read_text()
    assert text.count("<testcase ") == 8 and "<failure" not in text


def test_keepalived_killed_on_the_master_moves_the_vip_and_verify_reports_the_degraded_pair(
    deployed: LabHandle,
) -> None:
    lab = deployed
    wait_until(lambda: lab.holds_vip(LB1), 15, "the VIP on the MASTER LB", interval=0.3)
    lab.lab("fault", "prd-lb1", "keepalived-down")
    wait_until(lambda: lab.holds_vip(LB2) and not lab.holds_vip(LB1), 10, "the VIP to move to the BACKUP", interval=0.3)
    rc, out, report = lab.lb("verify")
    assert rc == 1, out
    assert check(report, "lb.vip", f"vip {VIP}") == {
        **check(report, "lb.vip", f"vip {VIP}"),
        "status": "pass",
        "reason": f"held by {LB2} only",
    }
    services = check(report, "lb.services", LB1)
    assert services["status"] == "fail" and "keepalived" in services["reason"] and "degraded" in services["reason"]
    assert check(report, "lb.services", LB2)["status"] == "pass"
    assert check(report, "lb.healthz", f"vip {VIP}")["status"] == "pass"  # still served, through LB2

    # deploy converges: the files are current, the stopped keepalived is started; the MASTER takes the VIP back.
    rc, out, dep = lab.lb("deploy")
    assert rc == 0, out
    assert host_report(dep, LB1)["commands"] == ["start keepalived"]
    assert host_report(dep, LB2)["status"] == "unchanged"
    wait_until(lambda: lab.holds_vip(LB1) and not lab.holds_vip(LB2), 15, "the VIP back on the MASTER", interval=0.3)
    lab.lab("heal", "prd-lb1")


def test_stopped_apiserver_is_named_down(deployed: LabHandle) -> None:
    lab = deployed
    lab.lab("fault", "prd-master2", "apiserver-down")
    try:
        report = verify_until(
            lab,
            lambda rc, r: all(check(r, "lb.backends", lb)["status"] == "fail" for lb in (LB1, LB2)),
            15,
            "both HAProxies to mark the backend DOWN",
        )
        for lb in (LB1, LB2):
            reason = check(report, "lb.backends", lb)["reason"]
            assert reason.startswith(f"{MASTER2} DOWN"), reason
            assert "k8s-master-1" not in reason and "k8s-master-3" not in reason
        assert check(report, "lb.healthz", f"vip {VIP}")["status"] == "pass"  # two apiservers still serve
    finally:
        lab.lab("heal", "prd-master2")
    verify_until(lab, lambda rc, r: rc == 0, 15, "the backend UP again")


def test_render_with_a_bad_value_pushes_nothing(deployed: LabHandle) -> None:
    lab = deployed
    site = yaml.safe_load((lab.state / "site.yaml").read_text())
    site["clusters"]["prd"]["lb"]["interface"] = "nosuch0"  # valid for the model, not on the LBs
    bad = lab.state / "site-bad.yaml"
    bad.write_text(yaml.safe_dump(site))
    before = {lb: (lab.file(lb, HAPROXY), lab.file(lb, KEEPALIVED)) for lb in (LB1, LB2)}
    mtimes = {lb: (lab.state / "hosts" / LB_LAB[lb] / KEEPALIVED).stat().st_mtime for lb in (LB1, LB2)}

    rc, out, report = lab.lb("deploy", "--site", str(bad))
    assert rc == 1, out
    first = host_report(report, LB2)
    assert first["status"] == "failed"
    assert first["error"].startswith("keepalived -t on the host: ("), first["error"]
    assert "nosuch0" in first["error"] or "interface" in first["error"]
    assert host_report(report, LB1)["status"] == "skipped"  # the cluster stops at the first failure
    after = {lb: (lab.file(lb, HAPROXY), lab.file(lb, KEEPALIVED)) for lb in (LB1, LB2)}
    assert after == before
    assert {lb: (lab.state / "hosts" / LB_LAB[lb] / KEEPALIVED).stat().st_mtime for lb in (LB1, LB2)} == mtimes
    leftovers = list((lab.state / "hosts").glob("prd-lb*/etc/*/*.edgekit-new*"))
    assert leftovers == []


def test_failing_reload_restores_the_previous_config(deployed: LabHandle) -> None:
    lab = deployed
    # A reload that fails for real: haproxy is stopped and its port taken, so starting it cannot bind.
    # `haproxy -c` passes (it binds nothing); only the reload finds out.
    # Each step waits (bounded, 15 s) for its state: haproxy's listener gone, then socat's in its place; on a
    # busy machine a blocker started in the background may not hold the port yet when deploy reloads.
    listening = "ss -ltnpH 'sport = :6443'"
    proc = lab.lb_ssh(
        LB2,
        "systemctl stop haproxy; echo '# edited by hand' >> /etc/haproxy/haproxy.cfg; "
        f'for i in $(seq 150); do [ -z "$({listening})" ] && break; sleep 0.1; done; '
        "setsid socat TCP-LISTEN:6443,reuseaddr,fork EXEC:/bin/true </dev/null >/dev/null 2>&1 & blocker=$!; "
        f"for i in $(seq 150); do {listening} | grep -q socat && break; sleep 0.1; done; "
        f"{listening}; echo $blocker",
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "socat" in proc.stdout, proc.stdout  # the port is socat's before deploy starts
    blocker = int(proc.stdout.strip().splitlines()[-1])
    try:
        edited = lab.file(LB2, HAPROXY)
        rc, out, report = lab.lb("deploy")
        assert rc == 1, out
        lb2 = host_report(report, LB2)
        assert lb2["status"] == "reverted", out
        assert lb2["error"].startswith("reload of haproxy failed:") and "cannot bind socket" in lb2["error"]
        assert lab.file(LB2, HAPROXY) == edited  # the previous file is back
        failed = lab.state / "hosts" / LB_LAB[LB2] / (HAPROXY + ".edgekit-failed")
        assert "# edited by hand" not in failed.read_text()
        assert host_report(report, LB1)["status"] == "unchanged"
    finally:
        lab.lb_ssh(LB2, f"kill {blocker}")
    rc, out, report = lab.lb("deploy")
    assert rc == 0, out
    assert host_report(report, LB2)["status"] == "changed"
    assert "# edited by hand" not in lab.file(LB2, HAPROXY)
    verify_until(lab, lambda rc, r: rc == 0, 15, "verify to pass after the repair")


def test_gate_that_cannot_pass_restores_the_lb(deployed: LabHandle) -> None:
    """Every apiserver down: the change reloads fine but its gate (backends UP, /healthz) cannot pass, so the
    LB gets its previous files back, is reloaded onto them, and deploy exits 1 naming the checks."""
    lab = deployed
    proc = lab.lb_ssh(LB2, "echo '# edited by hand' >> /etc/haproxy/haproxy.cfg")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    edited = lab.file(LB2, HAPROXY)
    masters = [f"prd-master{i}" for i in (1, 2, 3)]
    for master in masters:
        lab.lab("fault", master, "apiserver-down")
    try:
        verify_until(
            lab,
            lambda rc, r: all(check(r, "lb.backends", lb)["status"] == "fail" for lb in (LB1, LB2)),
            30,
            "both HAProxies to mark the apiservers DOWN",
        )
        rc, out, report = lab.lb("deploy", "--gate-timeout", "4")
        assert rc == 1, out
        lb2 = host_report(report, LB2)
        assert lb2["status"] == "reverted", out
        assert lb2["error"].startswith("gate failed after "), lb2["error"]
        assert re.search(r"lb\.backends k8s-lb-\d-server-prd: k8s-master-1-server-prd DOWN", lb2["error"]), lb2["error"]
        assert "lb.healthz" in lb2["error"], lb2["error"]
        assert "haproxy reloaded with the previous config" in lb2["notes"], lb2["notes"]
        assert "restore" in out  # the progress names the step
        assert lab.file(LB2, HAPROXY) == edited  # the previous file is back ...
        proc = lab.lb_ssh(LB2, "systemctl is-active haproxy keepalived")
        assert proc.returncode == 0, proc.stdout  # ... and both services run on it
        assert host_report(report, LB1)["status"] == "unchanged"
    finally:
        lab.lab("heal")
    rc, out, report = lab.lb("deploy")
    assert rc == 0, out
    assert host_report(report, LB2)["status"] == "changed", out
    assert "# edited by hand" not in lab.file(LB2, HAPROXY)
    rc, out, _ = lab.lb("verify")
    assert rc == 0, out


def _site_with(lab: LabHandle, name: str, **creds: str | None) -> Path:
    """A copy of the lab's site file whose router and LB credentials get ``creds`` (None: key removed)."""
    site = lab_site(lab)
    for role in ("router", "lb"):
        entry = site["defaults"][role]["credentials"]
        for key, value in creds.items():
            if value is None:
                entry.pop(key, None)
            else:
                entry[key] = value
    return write_site(lab, name, site)


def _errors(lab: LabHandle, module: str, *args: str, env: tuple[str, ...] = ()) -> tuple[int, dict[str, str], str]:
    """`plan` of routers or LBs: (exit code, host -> error, output)."""
    report_path = lab.state / f"hostkeys-{module}.json"
    report_path.unlink(missing_ok=True)
    proc = lab.exec("env", *env, sys.executable, "-m", module, "plan", *args, "--json", str(report_path))
    report = yaml.safe_load(report_path.read_text()) if report_path.exists() else {"hosts": []}
    return proc.returncode, {h["host"]: h["error"] for h in report["hosts"]}, proc.stdout + proc.stderr


def test_unknown_and_changed_host_keys_are_refused_with_one_clear_line(deployed: LabHandle) -> None:
    lab = deployed
    router, router_addr = "k8s-router-1-prd", "203.0.113.4"
    hosts = {LB1: LB_ADDR[LB1], LB2: LB_ADDR[LB2], router: router_addr}

    # Unknown: an empty known_hosts file.
    empty = lab.state / "known_hosts.empty"
    empty.write_text("")
    site = _site_with(lab, "site-unknown.yaml", known_hosts_file=str(empty))
    for module in ("tasks.lb", "tasks.router"):
        rc, errors, out = _errors(lab, module, "--site", str(site))
        assert rc == 1, out
        for host, error in errors.items():
            addr = hosts[host]
            assert error == (
                f"{host} ({addr}:22): cannot connect: unknown host key: {addr} is not in {empty} (refused; check the "
                f"host's key fingerprint and add it: ssh-keyscan -p 22 {addr} >> {empty}, or connect once with "
                "--accept-new-host-keys)"
            ), error
    assert empty.read_text() == ""  # refusing writes nothing

    # Changed: every host's recorded key is another one.
    other = subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(lab.state / "other-key")],
        capture_output=True,
        text=True,
        check=True,
    )
    assert other.returncode == 0
    other_pub = " ".join((lab.state / "other-key.pub").read_text().split()[:2])
    wrong = lab.state / "known_hosts.wrong"
    wrong.write_text("".join(f"{addr} {other_pub}\n" for addr in hosts.values()))
    site = _site_with(lab, "site-wrong.yaml", known_hosts_file=str(wrong))
    for module in ("tasks.lb", "tasks.router"):
        for args in ((), ("--accept-new-host-keys",)):  # accepting new keys never accepts a changed one
            rc, errors, out = _errors(lab, module, "--site", str(site), *args)
            assert rc == 1, out
            assert errors, out
            for host, error in errors.items():
                addr = hosts[host]
                assert error.startswith(
                    f"{host} ({addr}:22): cannot connect: host key mismatch: the host offers ssh-ed25519 SHA256:"
                ), error
                assert f"but {wrong} has ssh-ed25519 SHA256:" in error and f"ssh-keygen -R '{addr}' -f {wrong}" in error
                assert "\n" not in error and "AAAA" not in error  # fingerprints, never the key cut in half
    assert wrong.read_text().count("\n") == len(hosts)


def test_without_a_known_hosts_file_the_users_is_checked_and_new_keys_accepted_only_on_request(
    deployed: LabHandle,
) -> None:
    lab = deployed
    home = lab.state / "home-op"
    home.mkdir(exist_ok=True)
    user_known = home / ".ssh" / "known_hosts"
    site = _site_with(lab, "site-default-kh.yaml", known_hosts_file=None)
    env = (f"HOME={home}",)
    for module in ("tasks.lb", "tasks.router"):
        rc, errors, out = _errors(lab, module, "--site", str(site), env=env)
        assert rc == 1 and errors, out
        assert all("unknown host key" in e and f"is not in {user_known} (refused;" in e for e in errors.values()), (
            errors
        )
    assert not user_known.exists()
    # Explicitly accepting new keys records them (and says so) ...
    for module in ("tasks.lb", "tasks.router"):
        rc, errors, out = _errors(lab, module, "--site", str(site), "--accept-new-host-keys", env=env)
        assert rc in (0, 10) and not any(errors.values()), out  # 10: the router has a pending change
        assert "new host key ssh-ed25519 SHA256:" in out and f"recorded in {user_known}" in out, out
    recorded = user_known.read_text().splitlines()
    assert sorted(line.split()[0] for line in recorded) == sorted([LB_ADDR[LB1], LB_ADDR[LB2], "203.0.113.4"])
    # ... and from then on the strict default connects.
    for module in ("tasks.lb", "tasks.router"):
        rc, errors, out = _errors(lab, module, "--site", str(site), env=env)
        assert rc in (0, 10) and not any(errors.values()), out
        assert "new host key" not in out
