"""verify / comply / edge verify end to end with a fake router driver and a fake Kubernetes view.

No device and no lab address is contacted: the router's management address is 127.0.0.1 and its driver is
replaced by canned op-mode output (captured from the lab router); Kubernetes discovery returns a
``KubeFacts`` built here; the LB reader and the /healthz request are faked for ``tasks.edge``.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections import Counter
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

import pytest
import yaml
from napalm.base.exceptions import ConnectionException

import tasks.router.plan
from inventory import kube
from inventory.model import MetalLBPeer, Pool, Service
from tasks.router import main
from tasks.router.dialect import DIALECTS
from tests.conftest import FIXTURES
from tests.unit.fixture_text import load
from tests.unit.router_fixtures import ROUTER_WG_KEY, VENUE_PUBLIC_KEY

SAMPLE = FIXTURES / "samples" / "prd.tfstate"
ROUTER = "k8s-router-1-prd"
NODES = [f"k8s-node-{i}-server-prd" for i in (1, 2, 3)]

SUMMARY = """
IPv4 Unicast Summary (VRF default):
BGP router identifier 203.0.113.4, local AS number 65020 vrf-id 0
BGP table version 2
RIB entries 3, using 576 bytes of memory
Peers 3, using 2172 KiB of memory

Neighbor        V         AS   MsgRcvd   MsgSent   TblVer  InQ OutQ  Up/Down State/PfxRcd   PfxSnt Desc
{rows}
Total number of neighbors 3
"""
ROW_UP = "203.0.113.1{i}    4      65021        42        42        0    0    0 00:00:38            2        2 \n"
ROW_ACTIVE = "203.0.113.1{i}    4      65021         0         0        0    0    0    never       Active        0 \n"
HOP = "    203.0.113.1{i} (recursive), weight 1\n  *   203.0.113.1{i}, via eth1 onlink, weight 1\n"
ROUTE = 'Routing entry for {ip}/32\n  Known via "bgp", distance 20, metric 0, best\n  Last update 00:00:37 ago\n{hops}'
INTERFACES = """Codes: S - State, L - Link, u - Up, D - Down, A - Admin Down
Interface        IP Address                        S/L  Description
---------        ----------                        ---  -----------
eth0             203.0.113.4/28                    u/u
eth1             192.168.100.1/24                  u/u  k8s-nodes
lo               127.0.0.1/8                       u/u
                 ::1/128
wg0              172.16.100.1/30                   u/u
"""
WG = f"""interface: wg0
  public key: RTSWClMgRq/v94raQjC/GROmEShfQnXYeKKwcj/TFA4=
  private key: (hidden)
  listening port: 51820

peer: {VENUE_PUBLIC_KEY}
  endpoint: 198.18.0.2:51820
  allowed ips: 172.16.100.2/32, 10.88.0.0/24
  latest handshake: 40 seconds ago
  transfer: 348 B received, 180 B sent
  persistent keepalive: every 25 seconds
"""
PING = """PING 10.88.0.1 (10.88.0.1) 56(84) bytes of data.
64 bytes from 10.88.0.1: icmp_seq=1 ttl=64 time=0.820 ms
64 bytes from 10.88.0.1: icmp_seq=2 ttl=64 time=0.447 ms

--- 10.88.0.1 ping statistics ---
2 packets transmitted, 2 received, 0% packet loss, time 1027ms
rtt min/avg/max/mdev = 0.447/0.633/0.820/0.186 ms
"""


def _bfd_block(capture: str, peer: str, address: str) -> str:
    """One session block of a real `show bfd peers` capture (tests/fixtures/parsers/frr84-bfd), readdressed."""
    text = load(FIXTURES / "parsers" / "frr84-bfd" / capture)
    start = text.index(f"\tpeer {peer} ")
    return text[start : text.index("\n\n", start) + 2].replace(f"peer {peer} ", f"peer {address} ")


def bfd_peers(down: tuple[int, ...] = (), base: str = "203.0.113.1") -> str:
    """`show bfd peers` with the three speakers: up, or down on detection-time expiry for ``down``."""
    return "BFD Peers:\n" + "".join(
        _bfd_block("r1-bfd_peers-n2_down.txt", "10.77.2.12", f"{base}{i}")
        if i in down
        else _bfd_block("r1-bfd_peers.txt", "10.77.1.11", f"{base}{i}")
        for i in (1, 2, 3)
    )


OUTSIDE_SCOPE = [
    "set interfaces ethernet eth0 address '203.0.113.4/28'",
    "set protocols static route 0.0.0.0/0 next-hop 203.0.113.1",
    "set system host-name 'k8s-router-1-prd'",
]


class FakeRouter:
    """A VyOSDriver stand-in: canned op-mode output per command, and a count of what was asked."""

    def __init__(self, outputs: dict[str, str]) -> None:
        self.outputs = outputs
        self.asked: Counter[str] = Counter()

    def show(self, command: str) -> str:
        self.asked[command] += 1
        if command not in self.outputs:
            return f"\n  Invalid command: [{command}]\n\n"
        return self.outputs[command]


def world(down: tuple[int, ...] = ()) -> kube.KubeFacts:
    facts = kube.KubeFacts(context="prd", server="https://127.0.0.1:1")
    for i, name in enumerate(NODES, start=1):
        ready = i not in down
        node = kube.KubeNode(name=name, internal_ip=IPv4Address(f"203.0.113.1{i}"), ready=True)
        node.speaker_ready, node.speaker_pod = ready, f"metallb-system/speaker-{i}"
        facts.nodes.append(node)
    facts.metallb_source = "crds"
    facts.peers = [
        MetalLBPeer(
            name="router",
            peer_address="203.0.113.4",  # type: ignore[arg-type]
            peer_asn=65020,
            my_asn=65021,
            bfd_profile="edgekit",
            ebgp_multihop=True,
        )
    ]
    facts.pools = [Pool(name="globalIP", addresses=["198.51.100.0/28"])]  # type: ignore[list-item]
    facts.services = [
        Service(namespace="default", name="web", ips=["198.51.100.1"]),  # type: ignore[list-item]
        Service(
            namespace="default",
            name="api",
            ips=["198.51.100.2"],  # type: ignore[list-item]
            external_traffic_policy="Local",
            endpoint_nodes=NODES[:2],
        ),
    ]
    return facts


def router_outputs(running: list[str], down: tuple[int, ...] = ()) -> dict[str, str]:
    up = [i for i in (1, 2, 3) if i not in down]
    rows = "".join((ROW_ACTIVE if i in down else ROW_UP).format(i=i) for i in (1, 2, 3))
    return {
        "show version": "Version:          VyOS 1.4.0\n",
        "show configuration commands": "\n".join(running) + "\n",
        "show interfaces": INTERFACES,
        "show ip bgp summary": SUMMARY.format(rows=rows),
        "show bfd peers": bfd_peers(down),
        "show ip route 198.51.100.1": ROUTE.format(ip="198.51.100.1", hops="".join(HOP.format(i=i) for i in up)),
        "show ip route 198.51.100.2": ROUTE.format(
            ip="198.51.100.2", hops="".join(HOP.format(i=i) for i in up if i in (1, 2))
        ),
        "show interfaces wireguard wg0 summary": WG,
        "ping 10.88.0.1 count 2": PING,
    }


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Site + kubeconfig + fake Kubernetes; returns knobs the tests turn."""
    monkeypatch.setenv("EDGEKIT_TEST_WG_KEY", ROUTER_WG_KEY)
    monkeypatch.setenv("EDGEKIT_TEST_VRRP", "vrrp-secret")
    site = {
        "defaults": {
            "router": {
                "management_address": "127.0.0.1",  # never contacted: the driver is fake
                "node_address": "192.168.100.1/24",
                "credentials": {"username": "vyos", "port": 1},
            },
            "wireguard": {
                "address": "172.16.100.1/30",
                "private_key": {"env": "EDGEKIT_TEST_WG_KEY"},
                "peer_public_key": VENUE_PUBLIC_KEY,
                "endpoint": "198.18.0.2:51820",
                "allowed_ips": ["172.16.100.2/32", "10.88.0.0/24"],
                "venue_networks": ["10.88.0.0/24"],
            },
            "lb": {"auth_pass": {"env": "EDGEKIT_TEST_VRRP"}, "credentials": {"username": "root", "port": 1}},
        },
        "clusters": {
            "prd": {
                "hosts": {
                    "k8s-lb-1-server-prd": {"management_address": "127.0.0.1"},
                    "k8s-lb-2-server-prd": {"management_address": "127.0.0.1"},
                }
            }
        },
    }
    site_path = tmp_path / "site.yaml"
    site_path.write_text(yaml.safe_dump(site))
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text("{}\n")
    state: dict[str, Any] = {"world": world(), "router": None, "tmp": tmp_path}
    monkeypatch.setattr(kube, "list_contexts", lambda path: (["prd"], "prd"))
    monkeypatch.setattr(kube, "discover", lambda path, context: state["world"])

    def driver(task: Any) -> FakeRouter:
        if isinstance(state["router"], Exception):
            raise state["router"]
        return state["router"]

    monkeypatch.setattr(tasks.router.plan, "router_driver", driver)
    state["args"] = ["--state", str(SAMPLE), "--site", str(site_path), "--kubeconfig", str(kubeconfig)]
    return state


def intended(env: dict[str, Any]) -> list[str]:
    """The rendered intent for the sample cluster, as the router would run it after a deploy."""
    from inventory.build import InventorySources, load
    from tasks.router.render import render_router_config

    args = env["args"]
    loaded = load(InventorySources(states=[args[1]], site=args[3], kubeconfig=args[5]))
    return render_router_config(loaded.site.clusters["prd"], DIALECTS["1.4"]).lines


def run(env: dict[str, Any], command: str, *extra: str) -> tuple[int, dict[str, Any], ET.Element]:
    tmp: Path = env["tmp"]
    code = main([command, *env["args"], "--json", str(tmp / "r.json"), "--junit", str(tmp / "r.xml"), *extra])
    return code, json.loads((tmp / "r.json").read_text()), ET.parse(tmp / "r.xml").getroot()


def results(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for h in report["hosts"] for c in h["checks"]]


def red(report: dict[str, Any]) -> set[tuple[str, str | None]]:
    return {(c["check"], c["subject"]) for c in results(report) if c["status"] != "pass"}


def test_verify_all_green_reads_each_command_once(env: dict[str, Any]) -> None:
    env["router"] = FakeRouter(router_outputs(intended(env) + OUTSIDE_SCOPE))
    code, report, junit = run(env, "verify")
    assert code == 0, [c for c in results(report) if c["status"] != "pass"]
    assert report["ok"] is True and report["summary"] == {"pass": 10, "fail": 0, "error": 0}
    checks = {(c["check"], c["subject"]) for c in results(report)}
    assert checks == {
        ("bgp.peers", None),
        ("bgp.unexpected", None),
        ("bfd.peers", None),
        ("ecmp.routes", "default/web 198.51.100.1"),
        ("ecmp.routes", "default/api 198.51.100.2"),
        ("proxyarp.enabled", None),
        ("wireguard.handshake", "wg0"),
        ("wireguard.reachable", "10.88.0.1"),
        ("consistency.metallb", None),
        ("consistency.nodes", None),
    }
    assert set(env["router"].asked.values()) == {1}, env["router"].asked  # no command twice
    assert "show version" in env["router"].asked
    # JUnit: one testcase per host x check (x subject), classname cluster.host, nothing failed
    cases = junit.findall(".//testcase")
    assert len(cases) == 10
    assert {c.get("classname") for c in cases} == {f"prd.{ROUTER}", "prd.kubernetes"}
    assert not junit.findall(".//failure") and not junit.findall(".//error")
    assert junit.get("tests") == "10" and junit.get("failures") == "0"


def test_speaker_down_turns_exactly_bgp_peers_bfd_and_ecmp_red(env: dict[str, Any]) -> None:
    running = intended(env) + OUTSIDE_SCOPE  # deployed while node1 was Ready
    env["world"] = world(down=(1,))
    env["router"] = FakeRouter(router_outputs(running, down=(1,)))
    code, report, junit = run(env, "verify")
    assert code == 1
    assert red(report) == {
        ("bgp.peers", None),
        ("bfd.peers", None),
        ("ecmp.routes", "default/web 198.51.100.1"),
        ("ecmp.routes", "default/api 198.51.100.2"),
    }
    for c in results(report):
        if c["status"] != "pass":
            assert "k8s-node-1-server-prd" in c["reason"] and "not Ready" in c["reason"]
    failures = junit.findall(".//failure")
    assert len(failures) == 4
    assert all("k8s-node-1-server-prd" in (f.get("message") or "") for f in failures)


def test_comply_lists_the_hand_made_line_with_secrets_masked(env: dict[str, Any]) -> None:
    running = [
        line.replace("description 'k8s-nodes'", "description 'hand-made'") for line in intended(env)
    ] + OUTSIDE_SCOPE
    running = [
        ("set interfaces wireguard wg0 private-key 'OLDKEYOLDKEY'" if "private-key" in line else line)
        for line in running
    ]
    env["router"] = FakeRouter(router_outputs(running))
    code, report, _ = run(env, "comply")
    assert code == 1
    assert red(report) == {("compliance.config", None)}
    router = next(h for h in report["hosts"] if h["host"] == ROUTER)
    assert router["commands"] == [
        "- set interfaces ethernet eth1 description 'hand-made'",
        "- set interfaces wireguard wg0 private-key '********'",
        "+ set interfaces ethernet eth1 description 'k8s-nodes'",
        "+ set interfaces wireguard wg0 private-key '********'",
    ]
    text = (env["tmp"] / "r.json").read_text() + (env["tmp"] / "r.xml").read_text()
    assert "OLDKEYOLDKEY" not in text and ROUTER_WG_KEY not in text
    assert "eth0" not in " ".join(router["commands"])  # outside the managed scope: never listed


def test_comply_green_after_deploy(env: dict[str, Any]) -> None:
    env["router"] = FakeRouter(router_outputs(intended(env) + OUTSIDE_SCOPE))
    code, report, _ = run(env, "comply")
    assert code == 0 and report["summary"]["pass"] == 11


def test_unreachable_router_errors_every_router_check(env: dict[str, Any]) -> None:
    env["router"] = ConnectionException("cannot connect to 127.0.0.1: TCP connection to device failed")
    code, report, junit = run(env, "verify")
    assert code == 1
    router_checks = [c for c in results(report) if c["host"] == ROUTER]
    assert len(router_checks) == 9 and all(c["status"] == "error" for c in router_checks)
    assert all("cannot connect to 127.0.0.1" in c["reason"] for c in router_checks)
    assert len(junit.findall(".//error")) == 9


def test_unparseable_output_errors_only_the_checks_that_need_it(env: dict[str, Any]) -> None:
    outputs = router_outputs(intended(env))
    outputs["show ip bgp summary"] = "% BGP daemon is not running\n"
    env["router"] = FakeRouter(outputs)
    code, report, _ = run(env, "verify")
    assert code == 1
    bad = {c["check"]: c for c in results(report) if c["status"] != "pass"}
    assert set(bad) == {"bgp.peers", "bgp.unexpected"}
    assert bad["bgp.peers"]["status"] == "error" and "show ip bgp summary" in bad["bgp.peers"]["reason"]


def test_without_kubernetes_consistency_is_an_error_not_a_pass(env: dict[str, Any], tmp_path: Path) -> None:
    env["router"] = FakeRouter(router_outputs(intended(env)))
    args = env["args"][:4]  # no --kubeconfig
    code = main(["verify", *args, "--json", str(tmp_path / "n.json")])
    report = json.loads((tmp_path / "n.json").read_text())
    assert code == 1
    errors = {c["check"]: c["reason"] for c in results(report) if c["status"] == "error"}
    assert set(errors) == {"consistency.metallb", "consistency.nodes"}
    assert all("Kubernetes was not read" in r for r in errors.values())


def test_comply_missing_secret_is_exit_2_before_any_connection(
    env: dict[str, Any], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("EDGEKIT_TEST_WG_KEY")
    env["router"] = FakeRouter({})
    assert main(["comply", *env["args"]]) == 2
    assert "EDGEKIT_TEST_WG_KEY" in capsys.readouterr().err
    assert not env["router"].asked


def test_unknown_cluster_is_exit_2(env: dict[str, Any]) -> None:
    assert main(["verify", *env["args"], "--cluster", "nosuch"]) == 2


def test_edge_verify_routers_and_lbs_in_one_report(env: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """Both LBs and the router of the cluster in one run; LB reads and /healthz are faked (no address is hit)."""
    from nornir.core.task import Result, Task

    import checks.lb
    import tasks.lb.verify

    stat = (FIXTURES / "outputs" / "haproxy-show-stat.csv").read_text()
    for i in (1, 2, 3):
        stat = stat.replace(f"k8s_apiserver_nodes,n{i},", f"apiserverbackend,k8s-master-{i}-server-prd,")
    stat = stat.replace("k8s_apiserver_nodes,BACKEND", "apiserverbackend,BACKEND")
    read: list[str] = []

    def fake_lb(task: Task, rendered: Any) -> Result:
        read.append(task.host.name)
        holds = task.host.name == "k8s-lb-1-server-prd"
        state = tasks.lb.verify.LBState(
            addresses={IPv4Address("203.0.113.10")} if holds else {IPv4Address("203.0.113.9")},
            active={"haproxy": True, "keepalived": True},
            stat=stat,
        )
        return Result(host=task.host, result=state)

    monkeypatch.setattr(tasks.lb.verify, "verify_lb_task", fake_lb)
    monkeypatch.setattr(checks.lb, "fetch_healthz", lambda url, timeout=3.0, ca_file=None: (200, "ok"))
    env["router"] = FakeRouter(router_outputs(intended(env)))
    from tasks.edge import main as edge_main

    tmp: Path = env["tmp"]
    code = edge_main(["verify", *env["args"], "--json", str(tmp / "e.json"), "--junit", str(tmp / "e.xml")])
    report = json.loads((tmp / "e.json").read_text())
    bad = [c for c in results(report) if c["status"] != "pass"]
    assert code == 0, bad
    assert sorted(read) == ["k8s-lb-1-server-prd", "k8s-lb-2-server-prd"]
    hosts = {h["host"] for h in report["hosts"]}
    assert hosts == {ROUTER, "kubernetes", "k8s-lb-1-server-prd", "k8s-lb-2-server-prd", "vip 203.0.113.10"}
    ids = Counter(c["check"] for c in results(report))
    assert ids["lb.services"] == 2 and ids["lb.vip"] == 1 and ids["lb.healthz"] == 1 and ids["bgp.peers"] == 1
    junit = ET.parse(tmp / "e.xml").getroot()
    assert len(junit.findall(".//testcase")) == len(results(report))
