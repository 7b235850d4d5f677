"""WireGuard and secrets on lab routers of each version, over real SSH (ledger sections WIREGUARD and SECRETS).

- a peer change recreates wg0 on 1.4 and 1.5 (vyos-1x sagitta/current src/conf_mode/interfaces_wireguard.py,
  T4702: new ifindex, the address back on the new interface); 1.3 re-adds only the changed peer (equuleus
  interfaces-wireguard.py peer_remove: same ifindex); a change that leaves the peers alone keeps wg0 everywhere;
- the conf-mode script's first ConfigError (`At least one Wireguard peer is required!`), 1.3's default keypair;
- op-mode `show configuration` masks values of leaves ending in key/password (vyatta-cfg cnode-algorithm.cpp
  _print_value_str, --show-hide-secrets), `show configuration commands` and config-mode `show` do not;
- `show interfaces wireguard wg0 summary`: `wg show` on 1.3/1.4, VyOS's own report on 1.5 (T4833), and
  edgekit's parser finds the peer by its key in both.
Routers of their own (prefix from EDGEKIT_TEST_NS), reached from a client namespace.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from checks.parsers import wireguard as wg_parser
from lab.vyos import RouterSpec, start_router, stop_router
from lab.vyos.kernel import wg_genkey
from tests.lab.helpers import Shell, del_netns, nsx, sh, veth

pytestmark = pytest.mark.lab

TAG = f"{os.environ.get('EDGEKIT_TEST_NS', 'ekt')[:3]}wv{os.getpid() % 100000}"
CLIENT = f"{TAG}c"
PASSWORD = "lab-pass"
ROUTERS = {"1.3": "10.97.0.1", "1.4": "10.97.1.1", "1.5": "10.97.2.1"}


def ns_of(version: str) -> str:
    return f"{TAG}{version.replace('.', '')}"


@pytest.fixture(scope="module")
def routers(request: pytest.FixtureRequest) -> Iterator[dict[str, RouterSpec]]:
    base = Path(tempfile.mkdtemp(prefix=f"{TAG}-", dir="/tmp"))
    base.chmod(0o755)
    specs: dict[str, RouterSpec] = {}

    def teardown() -> None:
        for spec in specs.values():
            stop_router(spec.state_dir)
        for ns in [ns_of(v) for v in ROUTERS] + [CLIENT]:
            del_netns(ns)
        shutil.rmtree(base, ignore_errors=True)

    request.addfinalizer(teardown)
    sh("ip", "netns", "add", CLIENT)
    for i, (version, address) in enumerate(ROUTERS.items()):
        ns = ns_of(version)
        sh("ip", "netns", "add", ns)
        veth(ns, "eth1", CLIENT, f"eth{i}", f"{TAG}x{i}", f"{TAG}y{i}")
        nsx(CLIENT, "ip", "addr", "add", f"{address[:-1]}2/24", "dev", f"eth{i}")
        boot = [f"set interfaces ethernet eth1 address '{address}/24'"]
        specs[version] = RouterSpec(f"r{i}", ns, base / str(i), version, password=PASSWORD, boot_config=boot)
        start_router(specs[version])
    yield specs


def ifindex(version: str) -> str:
    return nsx(ns_of(version), "cat", "/sys/class/net/wg0/ifindex").strip()


def wg0_addresses(version: str) -> str:
    return nsx(ns_of(version), "ip", "-o", "-4", "addr", "show", "dev", "wg0")


def configure_wg0(s: Shell, version: str, peer_pub: str) -> None:
    s.cmd("configure")
    lines = ["set interfaces wireguard wg0 address '172.16.100.1/30'", "set interfaces wireguard wg0 port '51820'"]
    if version == "1.3":  # no private-key: the keypair `default` (generated below) is the interface's key
        lines.append(f"set interfaces wireguard wg0 peer venue pubkey '{peer_pub}'")
    else:
        lines.append(f"set interfaces wireguard wg0 private-key '{wg_genkey()[0]}'")
        lines.append(f"set interfaces wireguard wg0 peer venue public-key '{peer_pub}'")
    lines.append("set interfaces wireguard wg0 peer venue allowed-ips '172.16.100.2/32'")
    for line in lines:
        assert "failed" not in s.cmd(line), line


@pytest.mark.parametrize("version", ["1.3", "1.4", "1.5"])
def test_peer_change_recreates_wg0_on_14_and_later_only(routers: dict[str, RouterSpec], version: str) -> None:
    peer_pub = wg_genkey()[1]
    s = Shell(ROUTERS[version], password=PASSWORD, ns=CLIENT)
    try:
        if version == "1.3":
            missing = s.cmd("show wireguard keypairs pubkey default")
            assert missing == "/config/auth/wireguard/default/public.key not found\n"
            assert s.cmd("generate wireguard default-keypair").strip() == ""
        configure_wg0(s, version, peer_pub)
        # the first ConfigError of the conf-mode script, before the peer exists
        s.cmd("delete interfaces wireguard wg0 peer")
        assert "At least one Wireguard peer is required!" in s.cmd("commit")
        s.cmd("exit discard")
        configure_wg0(s, version, peer_pub)
        assert s.cmd("commit").strip() == "[edit]"
        first = ifindex(version)
        s.cmd("set interfaces wireguard wg0 description 'venue tunnel'")  # not under `peer`
        assert s.cmd("commit").strip() == "[edit]"
        assert ifindex(version) == first
        s.cmd("set interfaces wireguard wg0 peer venue persistent-keepalive '25'")  # under `peer`
        assert s.cmd("commit").strip() == "[edit]"
        if version == "1.3":
            assert ifindex(version) == first  # only the peer was removed and added again
        else:
            assert ifindex(version) != first  # wg0 removed and created again (T4702)
        assert "172.16.100.1/30" in wg0_addresses(version)
        key_leaf = "pubkey" if version == "1.3" else "public-key"
        # op-mode `show configuration` masks, `show configuration commands` and config-mode `show` do not
        shown = s.cmd("run show configuration")
        assert f"{key_leaf} ****************" in shown and peer_pub not in shown
        assert f"{key_leaf} '{peer_pub}'" in s.cmd("run show configuration commands")
        assert peer_pub in s.cmd("show interfaces wireguard")
        summary = s.cmd("run show interfaces wireguard wg0 summary")
        (wg0,) = wg_parser.parse(summary)
        assert wg0.peer(peer_pub) is not None and wg0.listen_port == 51820
        if version == "1.5":
            assert "\n  peer: venue\n" in summary and "  private key: (hidden)" in summary
        else:
            assert f"\npeer: {peer_pub}\n" in summary
        s.cmd("delete interfaces wireguard wg0")
        assert s.cmd("commit").strip() == "[edit]"
        s.cmd("exit")
    finally:
        s.close()
