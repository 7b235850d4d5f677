"""The LB deploy's gate judges what the change broke (issue 22 #2), in the lab: with one kube-apiserver down
(``lab fault prd-master2 apiserver-down``) a real change passes, the DOWN backend reported as a warning; a change
that takes down backends that were UP (the apiserver port changed to one nothing listens on) fails in well under
the gate timeout and is restored. One lab of its own (prd)."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator

import pytest

from tests.lab.helpers import lab_site, write_site
from tests.lab.lb.test_lb_lab import HAPROXY, LB1, LB2, MASTER2, LabHandle, check, host_report, verify_until

pytestmark = [pytest.mark.lab, pytest.mark.programs("haproxy", "keepalived")]


@pytest.fixture(scope="module")
def lab() -> Iterator[LabHandle]:
    handle = LabHandle.create("ektgl", COLUMNS="250")
    try:
        handle.lab("up", "--clusters", "prd", timeout=120)
        rc, out, _ = handle.lb("deploy")
        assert rc == 0, out
        yield handle
    finally:
        handle.down()
        shutil.rmtree(handle.state_dir, ignore_errors=True)


def test_a_backend_down_before_the_change_passes_and_is_reported(lab: LabHandle) -> None:
    lab.lab("fault", "prd-master2", "apiserver-down")
    try:
        verify_until(
            lab,
            lambda rc, r: all(check(r, "lb.backends", lb)["status"] == "fail" for lb in (LB1, LB2)),
            30,
            "both HAProxies to mark master2 DOWN",
        )
        proc = lab.lb_ssh(LB2, "echo '# edited by hand' >> /etc/haproxy/haproxy.cfg")  # deploy has a real change
        assert proc.returncode == 0, proc.stdout + proc.stderr
        rc, out, report = lab.lb("deploy")
        assert rc == 0, out
        lb2 = host_report(report, LB2)
        assert lb2["status"] == "changed", lb2
        # The pair's gate reads both HAProxies' backends: the one that has already run its checks since a reload
        # names master2 DOWN (a freshly reloaded HAProxy calls a server UP until its first checks fail).
        warnings = [n for n in lb2["notes"] if n.startswith("warning: ")]
        assert warnings and all(
            re.match(rf"warning: lb\.backends k8s-lb-\d-server-prd: {MASTER2} DOWN", w)
            and w.endswith(f"(was already down before the change: {MASTER2})")
            for w in warnings
        ), lb2["notes"]
        excused = [c for c in lb2["checks"] if "before_change" in c["details"]]
        assert excused and all(
            c["status"] == "pass" and c["details"]["before_change"]["down"] == [MASTER2] for c in excused
        )
        assert "# edited by hand" not in lab.file(LB2, HAPROXY)
        assert "warning:" in out  # the line while it runs
    finally:
        lab.lab("heal", "prd-master2")
    verify_until(lab, lambda rc, r: rc == 0, 30, "master2 UP again")


def test_a_change_that_breaks_working_backends_fails_fast_and_is_restored(lab: LabHandle) -> None:
    verify_until(lab, lambda rc, r: rc == 0, 30, "every backend UP")
    before = lab.file(LB2, HAPROXY)
    site = lab_site(lab)
    site["clusters"]["prd"]["apiserver_port"] = 6449  # nothing listens there
    path = write_site(lab, "site-bad-port.yaml", site)
    rc, out, report = lab.lb("deploy", "--site", str(path), "--gate-timeout", "150")
    assert rc == 1, out
    lb2 = host_report(report, LB2)  # the BACKUP goes first; its gate finds every apiserver DOWN
    assert lb2["status"] == "reverted", lb2
    found = re.match(r"gate failed after (\d+\.\d) s: ", lb2["error"] or "")
    assert found and "worked before the change" in lb2["error"], lb2["error"]
    # HAProxy marks them DOWN after 2 failed checks (2 s apart), then the 15 s grace: not the 150 s timeout.
    assert float(found.group(1)) < 60, lb2["error"]
    assert host_report(report, LB1)["status"] == "skipped"
    assert lab.file(LB2, HAPROXY) == before
    verify_until(lab, lambda rc, r: rc == 0, 30, "every backend UP after the restore")
