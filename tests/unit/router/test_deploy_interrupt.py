"""The third Ctrl-C and the local router lock, without a router."""

from __future__ import annotations

import json
import multiprocessing
import time
from pathlib import Path

import pytest

from tasks.core.report import EXIT_INTERRUPTED, HostReport, RunReport
from tasks.router import commands as deploy_cmd
from tasks.router.locks import RouterLock, RouterLocked


class Exited(Exception):
    pass


def test_third_ctrl_c_lists_pending_routers_with_their_timer_and_writes_the_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def fake_exit(code: int) -> None:
        raise Exited(code)

    monkeypatch.setattr(deploy_cmd.os, "_exit", fake_exit)
    fires = time.time() + 200
    report = RunReport(
        command="deploy",
        hosts=[
            HostReport(host="r13", cluster="dev", status="planned", rollback="reboot", timer_fires_at=fires),
            HostReport(host="r14", cluster="prd", status="planned", rollback="reload", timer_fires_at=fires),
            HostReport(host="r-next", cluster="wsp", status="planned"),
        ],
    )
    path = tmp_path / "report.json"
    with pytest.raises(Exited) as caught:
        deploy_cmd._give_up(report, str(path))
    assert caught.value.args == (EXIT_INTERRUPTED,)
    err = capsys.readouterr().err
    assert "r13: left pending" in err and "REBOOTS into its saved config" in err
    assert "r14: left pending" in err and "reloads the previous config in place" in err
    assert time.strftime("%H:%M:%S UTC", time.gmtime(fires)) in err
    hosts = {h["host"]: h for h in json.loads(path.read_text())["hosts"]}
    assert hosts["r13"]["status"] == "failed" and "left with an unconfirmed change" in hosts["r13"]["error"]
    assert hosts["r-next"]["status"] == "skipped"


def _hold(path: str, ready: multiprocessing.synchronize.Event, done: multiprocessing.synchronize.Event) -> None:
    import os

    os.environ["EDGEKIT_LOCK_DIR"] = path
    lock = RouterLock("r1", "203.0.113.4")
    lock.acquire()
    ready.set()
    done.wait(30)


def test_a_second_process_cannot_take_a_routers_lock_and_is_told_who_holds_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EDGEKIT_LOCK_DIR", str(tmp_path))
    ready, done = multiprocessing.Event(), multiprocessing.Event()
    holder = multiprocessing.Process(target=_hold, args=(str(tmp_path), ready, done))
    holder.start()
    try:
        assert ready.wait(30)
        with pytest.raises(RouterLocked, match=rf"another edgekit run is deploying to this router \(pid {holder.pid} "):
            RouterLock("r1", "203.0.113.4").acquire()
        RouterLock("r2", "203.0.113.20").acquire()  # another router is free
    finally:
        done.set()
        holder.join()
    lock = RouterLock("r1", "203.0.113.4")  # the holder is gone: the kernel dropped its lock
    lock.acquire()
    lock.release()
