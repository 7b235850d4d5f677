"""The driver against lab routers of each kind, over real SSH: VyOS 1.5/rolling, which knows `system
config-management commit-confirm action` (vyos-1x T5976, on `current` only), 1.4, which does not, and 1.3.

What `plan` and `deploy` build on: the probe for the node, the fallback to a reboot saying why, the
action the router announces at commit-confirm, and `confirm` stopping the timer. Routers of their own
(prefix from EDGEKIT_TEST_NS), reached from a client namespace through a socket opened inside it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import asyncssh
import pytest

from lab.vyos import RouterSpec, start_router, stop_router
from napalm_edgekit_vyos.driver import TimerFired, VyOSDriver
from tasks.router.dialect import DIALECTS
from tasks.router.plan import plan_rollback
from tests.lab.helpers import LAB_PASSWORD, connect_in_netns, del_netns, nsx, sh, veth
from tests.unit.router_fixtures import cluster

pytestmark = pytest.mark.lab

TAG = f"{os.environ.get('EDGEKIT_TEST_NS', 'ekt')[:3]}da{os.getpid() % 100000}"
CLIENT = f"{TAG}c"
PASSWORD = LAB_PASSWORD
KNOWN_HOSTS: dict[str, str] = {}  # "path": the routers' host keys (the routers fixture writes it)
MINUTE = "2"  # seconds per commit-confirm minute in these routers
KINDS = {  # namespace suffix: (version, knows the action node, router address)
    "a": ("1.5", True, "10.96.0.1"),
    "n": ("1.4", False, "10.96.1.1"),
    "o": ("1.3", False, "10.96.2.1"),
}


@pytest.fixture(scope="module")
def routers(request: pytest.FixtureRequest) -> Iterator[dict[str, RouterSpec]]:
    base = Path(tempfile.mkdtemp(prefix=f"{TAG}-", dir="/tmp"))
    base.chmod(0o755)
    specs: dict[str, RouterSpec] = {}
    saved_minute = os.environ.get("EDGEKIT_LAB_MINUTE_SECONDS")
    os.environ["EDGEKIT_LAB_MINUTE_SECONDS"] = MINUTE  # the routers' daemons read it at start

    def teardown() -> None:
        for spec in specs.values():
            stop_router(spec.state_dir)
        for ns in [f"{TAG}{k}" for k in KINDS] + [CLIENT]:
            del_netns(ns)
        shutil.rmtree(base, ignore_errors=True)
        if saved_minute is None:
            os.environ.pop("EDGEKIT_LAB_MINUTE_SECONDS", None)
        else:
            os.environ["EDGEKIT_LAB_MINUTE_SECONDS"] = saved_minute

    request.addfinalizer(teardown)
    sh("ip", "netns", "add", CLIENT)
    for i, (kind, (version, _node, address)) in enumerate(KINDS.items()):
        ns = f"{TAG}{kind}"
        sh("ip", "netns", "add", ns)
        veth(ns, "eth1", CLIENT, f"eth{i}", f"{TAG}x{i}", f"{TAG}y{i}")
        nsx(CLIENT, "ip", "addr", "add", f"{address[:-1]}2/24", "dev", f"eth{i}")
        boot = [f"set interfaces ethernet eth1 address '{address}/24'"]
        boot.append("set system config-management commit-revisions '100'")
        specs[kind] = RouterSpec(f"r-{kind}", ns, base / kind, version, password=PASSWORD, boot_config=boot)
        start_router(specs[kind])
    # The driver always checks host keys: known_hosts from the keys the routers' daemons made at start.
    lines = []
    for kind, spec in specs.items():
        public = asyncssh.read_private_key(str(spec.state_dir / "ssh" / "host_key")).export_public_key("openssh")
        lines.append(f"{KINDS[kind][2]} {' '.join(public.decode().split()[:2])}")
    (base / "known_hosts").write_text("\n".join(lines) + "\n")
    KNOWN_HOSTS["path"] = str(base / "known_hosts")
    yield specs


def driver_for(kind: str) -> VyOSDriver:
    sock = connect_in_netns(CLIENT, KINDS[kind][2])
    args = {"sock": sock, "alt_key_file": KNOWN_HOSTS["path"]}
    driver = VyOSDriver(KINDS[kind][2], "vyos", PASSWORD, optional_args=args)
    driver.open()
    return driver


@pytest.mark.parametrize(
    ("kind", "rollback", "why"),
    [
        ("a", "reload", "edgekit sets system config-management commit-confirm action reload first"),
        ("n", "reboot", "lacks system config-management commit-confirm action"),
        ("o", "reboot", "VyOS 1.3 cannot revert in place"),
    ],
)
def test_plan_names_what_an_unconfirmed_change_costs(
    routers: dict[str, RouterSpec], kind: str, rollback: str, why: str
) -> None:
    driver = driver_for(kind)
    try:
        running = driver.show("show configuration commands").splitlines()
        got, set_action, text = plan_rollback(driver, cluster(), DIALECTS[KINDS[kind][0]], running)
        assert (got, set_action) == (rollback, kind == "a")
        assert why in text
        assert driver.show("show configuration commands").splitlines() == running  # the probe changed nothing
        assert not driver.conn.in_config_mode
    finally:
        driver.close()


@pytest.mark.parametrize(("kind", "announced"), [("a", "reload"), ("n", "reboot"), ("o", "reboot")])
def test_commit_confirm_announces_the_action_and_confirm_stops_the_timer(
    routers: dict[str, RouterSpec], kind: str, announced: str
) -> None:
    driver = driver_for(kind)
    try:
        if kind == "a":
            driver.set_confirm_action_reload()
            assert "commit-confirm action 'reload'" in driver.show("show configuration commands")
        assert driver.unsaved_commits() == ""
        driver.load_merge_candidate(config=[f"set interfaces ethernet eth1 description 'edgekit-{kind}'"])
        driver.commit_config(message="driver test", revert_in=600)
        assert driver.last_confirm is not None and driver.last_confirm.action == announced
        assert driver.has_pending_commit() and driver.pending_fires_at is not None
        driver.confirm_commit()
        assert not driver.has_pending_commit()
        assert f"description 'edgekit-{kind}'" in driver.show("show configuration commands")
        assert driver.unsaved_commits() == ""  # confirm_commit saved it
        # The same change again: the router has nothing to commit and sets no timer.
        driver.load_merge_candidate(config=[f"set interfaces ethernet eth1 description 'edgekit-{kind}'"])
        driver.commit_config(message="driver test", revert_in=600)
        assert driver.last_confirm is not None and driver.last_confirm.nothing_to_commit
        assert not driver.has_pending_commit()
    finally:
        driver.close()


def test_unsaved_commits_warning_and_a_timer_that_fired_before_confirm(routers: dict[str, RouterSpec]) -> None:
    # 1.4 without the action node (reboot mode): commit-confirm on top of an unsaved commit warns.
    driver = driver_for("n")
    try:
        driver.load_merge_candidate(config=["set interfaces ethernet eth1 description 'unsaved'"])
        driver.commit_config(message="plain")  # commit + save
        driver.conn.send_config_set(["set interfaces ethernet eth1 description 'not-saved'"])
        driver.conn.commit()
        driver.conn.exit_config_mode()
        assert "not-saved" in driver.unsaved_commits()
        driver.load_merge_candidate(config=["set interfaces ethernet eth1 description 'under-timer'"])
        driver.commit_config(message="warned", revert_in=600)
        assert driver.last_confirm is not None and driver.last_confirm.unsaved_warning
        driver.confirm_commit()
    finally:
        driver.close()
    # 1.4 with action reload: the 1-minute timer (2 s here) fires before confirm; confirm says so.
    driver = driver_for("a")
    try:
        before = driver.show("show configuration commands")
        driver.load_merge_candidate(config=["set interfaces ethernet eth1 description 'too-late'"])
        driver.commit_config(message="late", revert_in=60)
        deadline = time.monotonic() + 30
        while "too-late" in driver.show("show configuration commands") and time.monotonic() < deadline:
            time.sleep(0.2)
        assert driver.show("show configuration commands") == before  # reverted in place, same session
        with pytest.raises(TimerFired, match="No confirm pending"):
            driver.confirm_commit()
        assert driver.unsaved_commits() == ""  # nothing was saved after the timer fired
    finally:
        driver.close()
