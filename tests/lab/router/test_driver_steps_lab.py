"""The driver's steps, each proven by the router's state, against lab routers over real SSH: VyOS 1.4
sagitta (no commit-confirm action node), a 1.4 with it (vyos-1x current's texts, the ledger's 1.5) and 1.3.

1.4+'s `save` prints nothing and 1.3's prints `Done` (ledger LIFECYCLE save.done): the driver passes both
by `compare saved`. The 1.4+ commit-confirm countdown (`wall`, vyos-1x src/helpers/commit-confirm-notify.py)
reaches the driver's session in the middle of its commands, and every command still reads clean.
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
from napalm_edgekit_vyos.driver import VyOSDriver
from tests.lab.helpers import connect_in_netns, del_netns, nsx, sh, veth

pytestmark = pytest.mark.lab

TAG = f"{os.environ.get('EDGEKIT_TEST_NS', 'ekt')[:3]}ds{os.getpid() % 100000}"
CLIENT = f"{TAG}c"
PASSWORD = "lab-pass"
MINUTE = "2"  # seconds per commit-confirm minute in these routers
KINDS = {  # namespace suffix: (version, knows the action node (1.5/rolling only), router address)
    "s": ("1.4", False, "10.97.0.1"),
    "r": ("1.5", True, "10.97.1.1"),
    "o": ("1.3", False, "10.97.2.1"),
}
KNOWN_HOSTS: dict[str, str] = {}


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
        specs[kind] = RouterSpec(
            f"r-{kind}", ns, base / kind, version, password=PASSWORD, boot_config=boot
        )
        start_router(specs[kind])
    lines = []
    for kind, spec in specs.items():
        public = asyncssh.read_private_key(str(spec.state_dir / "ssh" / "host_key")).export_public_key("openssh")
        lines.append(f"{KINDS[kind][2]} {' '.join(public.decode().split()[:2])}")
    (base / "known_hosts").write_text("\n".join(lines) + "\n")
    KNOWN_HOSTS["path"] = str(base / "known_hosts")
    yield specs


def driver_for(kind: str) -> VyOSDriver:
    sock = connect_in_netns(CLIENT, KINDS[kind][2])
    driver = VyOSDriver(
        KINDS[kind][2], "vyos", PASSWORD, optional_args={"sock": sock, "alt_key_file": KNOWN_HOSTS["path"]}
    )
    driver.open()
    return driver


class Tape:
    """Everything the session received, as netmiko's session_log would have it."""

    fin = False  # netmiko's SessionLog: do not record what is written to the channel
    record_writes = False

    def __init__(self) -> None:
        self.text = ""

    def write(self, chunk: str) -> None:
        self.text += chunk

    def flush(self) -> None: ...

    def close(self) -> None: ...


@pytest.mark.parametrize(
    ("kind", "said"), [("s", ""), ("r", ""), ("o", "Saving configuration to '/config/config.boot'...\nDone")]
)
def test_save_prints_what_the_version_prints_and_the_driver_proves_it_by_compare_saved(
    routers: dict[str, RouterSpec], kind: str, said: str
) -> None:
    driver = driver_for(kind)
    try:
        driver.load_merge_candidate(config=[f"set interfaces ethernet eth1 description 'save-{kind}'"])
        driver.conn.commit(comment="driver steps")
        assert driver.compare_saved()  # committed, not saved
        assert driver.conn.run("save") == said
        assert driver.compare_saved() == ""
        driver.load_merge_candidate(config=[f"set interfaces ethernet eth1 description 'save2-{kind}'"])
        driver.commit_config(message="driver steps")  # commit + save, each proven
        assert driver.compare_saved() == ""
        boot = (routers[kind].state_dir / "config" / "config.boot").read_text()
        assert f"save2-{kind}" in boot
    finally:
        driver.close()


@pytest.mark.parametrize("kind", ["s", "r"])
def test_the_countdown_broadcast_lands_in_the_session_and_every_command_still_reads_clean(
    routers: dict[str, RouterSpec], kind: str
) -> None:
    driver = driver_for(kind)
    tape = Tape()
    try:
        wanted = f"set interfaces ethernet eth1 description 'wall-{kind}'"
        driver.load_merge_candidate(config=[wanted])
        # 6 minutes: commit-confirm-notify.py broadcasts "5 minutes" after 1 minute and "1 minute" after 5.
        driver.commit_config(message="driver steps", revert_in=360)
        driver.conn.session_log = tape  # type: ignore[assignment]
        deadline = time.monotonic() + 3 * float(MINUTE)  # the first broadcast is due after 1 minute
        reads = 0
        while "[commit-confirm]" not in tape.text and time.monotonic() < deadline:
            out = driver.show("show configuration commands")
            assert wanted in out.splitlines() and "[commit-confirm]" not in out
            reads += 1
        assert "[commit-confirm] System" in tape.text and "in 5 minutes" in tape.text, tape.text[-500:]
        out = driver.show("show configuration commands")  # the read after the broadcast
        assert wanted in out.splitlines() and "[commit-confirm]" not in out
        driver.confirm_commit()  # proven: a second confirm says No confirm pending, compare saved is empty
        assert not driver.has_pending_commit() and driver.compare_saved() == ""
        assert reads > 0
    finally:
        driver.close()
