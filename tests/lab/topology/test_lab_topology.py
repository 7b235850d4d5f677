"""The lab itself: one cluster up with prefix ektlab, checked through real clients from the operator
namespace (SSH, the kubernetes client, boto3, curl), then every fault and its heal."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.lab.helpers import host_vtysh
from tests.lab.helpers import wait_for as _wait_for
from tests.lab.labrun import LabRun

pytestmark = pytest.mark.lab

HAPROXY_CFG = """global
  stats socket /run/haproxy/admin.sock mode 660 level admin
defaults
  mode tcp
  timeout connect 2s
  timeout client 30s
  timeout server 30s
frontend apiserver
  bind *:6443
  default_backend apiserverbackend
backend apiserverbackend
  option httpchk
  http-check connect ssl
  http-check send meth GET uri /healthz
  http-check expect status 200
  balance roundrobin
  server master1 203.0.113.5:6443 check verify none inter 1s
  server master2 203.0.113.6:6443 check verify none inter 1s
  server master3 203.0.113.7:6443 check verify none inter 1s
"""


def keepalived_conf(me: int) -> str:
    state, prio, peer = ("MASTER", 150, 9) if me == 8 else ("BACKUP", 101, 8)
    return f"""vrrp_instance VI_1 {{
  state {state}
  interface eth0
  virtual_router_id 51
  priority {prio}
  advert_int 1
  unicast_src_ip 203.0.113.{me}
  unicast_peer {{ 203.0.113.{peer} }}
  authentication {{
    auth_type PASS
    auth_pass labpass
  }}
  virtual_ipaddress {{ 203.0.113.10/28 }}
}}
"""


@pytest.fixture(scope="module")
def lab() -> Iterator[LabRun]:
    run = LabRun.create("ektlab")
    try:
        out = run.up()
        run.up_output = out  # type: ignore[attr-defined]
        yield run
    finally:
        run.down()


def wait_for(predicate: Callable[[], bool], timeout: float = 15.0, interval: float = 0.2) -> bool:
    return _wait_for(predicate, timeout, interval)


def op(lab: LabRun, *argv: str, input: str | None = None, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    """A command in the operator namespace with the lab's environment (what `lab exec` gives edgekit)."""
    return (
        lab.lab("exec", "--", *argv, check=False, timeout=timeout)
        if input is None
        else subprocess.run(
            [sys.executable, "-m", "lab", "exec", "--", *argv],
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=lab.env,
            cwd=str(Path(__file__).resolve().parents[3]),
        )
    )


def ssh(lab: LabRun, target: str, command: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
    config = str(lab.state_dir / "ssh" / "config")
    return op(lab, "ssh", "-F", config, "-o", "BatchMode=yes", target, command, input=input)


def test_up_tells_the_next_command(lab: LabRun) -> None:
    # How fast `up` is belongs to bench/ (a timed assertion fails on a loaded CI machine, not on a regression).
    assert "python -m lab exec -- python -m tasks.router deploy" in lab.up_output  # type: ignore[attr-defined]


def test_second_up_starts_nothing_new(lab: LabRun) -> None:
    before = {h["name"]: [p["pid"] for p in h["processes"]] for h in lab.status()}
    lab.up()
    after = {h["name"]: [p["pid"] for p in h["processes"]] for h in lab.status()}
    assert before == after


def test_status_lists_every_host_healthy_with_addresses(lab: LabRun) -> None:
    hosts = {h["name"]: h for h in lab.status()}
    expected = {"prd-router", "prd-lb1", "prd-lb2", "prd-up", "prd-venue", "prd-sw", "op"}
    expected |= {f"prd-master{i}" for i in (1, 2, 3)} | {f"prd-node{i}" for i in (1, 2, 3)}
    assert set(hosts) == expected
    for h in hosts.values():
        assert {"name", "cluster", "role", "namespace", "addresses", "services", "rss_kb"} <= set(h)
        assert h["healthy"], h
    assert "eth0 203.0.113.4/28" in hosts["prd-router"]["addresses"]  # set by the router's boot config
    assert "eth0 203.0.113.11/28" in hosts["prd-node1"]["addresses"]
    assert "op-prd 203.0.113.14/28" in hosts["op"]["addresses"]
    assert [s["ip"] for s in hosts["prd-node1"]["services"]] == ["198.51.100.1", "198.51.100.2", "198.51.100.129"]
    netns = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    assert lab.ns("prd-sw") in netns and lab.ns("op") in netns
    # The root namespace holds no lab interface or route.
    root = subprocess.run(["ip", "-br", "addr"], capture_output=True, text=True).stdout
    assert "203.0.113." not in root and "198.51.100." not in root


def test_operator_reaches_router_and_lbs_over_ssh(lab: LabRun) -> None:
    out = ssh(lab, "vyos@203.0.113.4", "show version")
    assert "VyOS 1.4" in out.stdout, out.stderr
    for addr, name in (("203.0.113.8", "k8s-lb-1-server-prd"), ("203.0.113.9", "k8s-lb-2-server-prd")):
        out = ssh(lab, f"root@{addr}", "hostname; systemctl is-active haproxy; ls /etc/haproxy")
        assert out.stdout.split()[:2] == [name, "inactive"], out.stdout + out.stderr
        assert "haproxy.cfg" in out.stdout


def test_kubernetes_stand_in_answers_the_real_client(lab: LabRun) -> None:
    script = """
import json
from kubernetes import client, config
config.load_kube_config(context="prd")
core = client.CoreV1Api()
nodes = [n.metadata.name for n in core.list_node().items]
pods = core.list_namespaced_pod("metallb-system", label_selector="component=speaker").items
svcs = [(s.metadata.name, s.status.load_balancer.ingress[0].ip) for s in core.list_service_for_all_namespaces().items
        if s.spec.type == "LoadBalancer"]
peers = client.CustomObjectsApi().list_namespaced_custom_object("metallb.io", "v1beta2", "metallb-system", "bgppeers")
print(json.dumps({"nodes": nodes, "speakers": sorted(p.spec.node_name for p in pods), "svcs": sorted(svcs),
                  "peer": peers["items"][0]["spec"]["peerAddress"]}))
"""
    out = op(lab, sys.executable, "-c", script)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert {f"k8s-node-{i}-server-prd" for i in (1, 2, 3)} <= set(data["nodes"])
    assert data["speakers"] == [f"k8s-node-{i}-server-prd" for i in (1, 2, 3)]
    assert data["svcs"] == [["api", "198.51.100.2"], ["scores", "198.51.100.129"], ["web", "198.51.100.1"]]
    assert data["peer"] == "203.0.113.4"


def test_s3_endpoint_serves_the_state(lab: LabRun) -> None:
    script = """
import json, os, boto3
s3 = boto3.client("s3", endpoint_url=os.environ["EDGEKIT_S3_ENDPOINT"])
doc = json.loads(s3.get_object(Bucket="tfstate", Key="env:/prd/terraform.tfstate")["Body"].read())
keys = [o["Key"] for o in s3.list_objects_v2(Bucket="tfstate")["Contents"]]
print(json.dumps({"vip": doc["outputs"]["vip_address"]["value"], "keys": keys}))
"""
    out = op(lab, sys.executable, "-c", script)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data == {"vip": "203.0.113.10", "keys": ["env:/prd/terraform.tfstate"]}


def test_edgekit_reads_the_lab_with_no_arguments(lab: LabRun) -> None:
    out = lab.edgekit("inventory")
    assert out.returncode == 0, out.stderr
    assert "k8s-router-1-prd" in out.stdout and "speakers (kubernetes)" in out.stdout


def test_speakers_are_configured_to_peer_the_router(lab: LabRun) -> None:
    for i in (1, 2, 3):
        summary = json.loads(host_vtysh(lab, f"prd-node{i}", "show ip bgp summary json"))
        peers = summary["ipv4Unicast"]["peers"]
        assert peers["203.0.113.4"]["remoteAs"] == 65020
        assert summary["ipv4Unicast"]["as"] == 65021
    bgp = json.loads(host_vtysh(lab, "prd-node3", "show ip bgp json"))
    # the Local service (api, .2) has no endpoint on node3; scores is the venue pool's
    assert set(bgp["routes"]) == {"198.51.100.1/32", "198.51.100.129/32"}


def test_masters_answer_health_checks(lab: LabRun) -> None:
    for addr in ("203.0.113.5", "203.0.113.6", "203.0.113.7"):
        for path in ("healthz", "readyz", "livez"):
            out = op(lab, "curl", "-sk", "--max-time", "3", f"https://{addr}:6443/{path}")
            assert out.stdout == "ok", (addr, path, out.stderr)


def test_venue_runs_wireguard_peered_with_the_router_key(lab: LabRun) -> None:
    venue = lab.host("prd-venue")
    assert any(p["name"] == "wireguard" and p["alive"] for p in venue["processes"])
    pid = next(p["pid"] for p in venue["processes"] if p["name"] == "wireguard")
    show = subprocess.run(["nsenter", "-t", str(pid), "-m", "-n", "wg", "show", "wg0"], capture_output=True, text=True)
    router_key = subprocess.run(
        ["wg", "pubkey"],
        input=(lab.state_dir / "secrets" / "prd-router-wg.key").read_text(),
        capture_output=True,
        text=True,
    ).stdout.strip()
    assert f"peer: {router_key}" in show.stdout
    assert "endpoint: 203.0.113.4:51820" in show.stdout


def test_lb_config_push_and_reload_through_the_systemctl_shim(lab: LabRun) -> None:
    for me in (8, 9):
        target = f"root@203.0.113.{me}"
        out = ssh(lab, target, "cat > /etc/haproxy/haproxy.cfg", input=HAPROXY_CFG)
        assert out.returncode == 0, out.stderr
        out = ssh(lab, target, "cat > /etc/keepalived/keepalived.conf", input=keepalived_conf(me))
        assert out.returncode == 0, out.stderr
        out = ssh(
            lab,
            target,
            "systemctl reload haproxy && systemctl reload keepalived && systemctl is-active haproxy keepalived",
        )
        assert out.returncode == 0 and out.stdout.split() == ["active", "active"], out.stdout + out.stderr
    # The machine's own haproxy config is untouched.
    assert "203.0.113.5" not in Path("/etc/haproxy/haproxy.cfg").read_text()
    assert wait_for(
        lambda: "203.0.113.10/28" in lab.host("prd-lb1")["addresses"][0] + " ".join(lab.host("prd-lb1")["addresses"])
    )
    assert wait_for(
        lambda: op(lab, "curl", "-sk", "--max-time", "2", "https://203.0.113.10:6443/healthz").stdout == "ok"
    )
    # An invalid config is refused with a non-zero exit, and the running haproxy stays.
    bad = ssh(
        lab,
        "root@203.0.113.8",
        "echo nonsense >> /etc/haproxy/haproxy.cfg; systemctl reload haproxy",
    )
    assert bad.returncode != 0 and "failed" in bad.stderr
    ok = ssh(lab, "root@203.0.113.8", "cat > /etc/haproxy/haproxy.cfg; systemctl is-active haproxy", input=HAPROXY_CFG)
    assert ok.stdout.strip() == "active"


def vip_holders(lab: LabRun) -> list[str]:
    return [h for h in ("prd-lb1", "prd-lb2") if any("203.0.113.10/" in a for a in lab.host(h)["addresses"])]


def test_fault_keepalived_down_moves_the_vip_and_heal_brings_it_back(lab: LabRun) -> None:
    test_lb_config_push_and_reload_through_the_systemctl_shim(lab)
    assert wait_for(lambda: vip_holders(lab) == ["prd-lb1"])
    lab.lab("fault", "prd-lb1", "keepalived-down")
    assert wait_for(lambda: vip_holders(lab) == ["prd-lb2"], timeout=10)
    assert "keepalived-down" in lab.host("prd-lb1")["faults"]
    lab.lab("heal", "prd-lb1")
    assert wait_for(lambda: vip_holders(lab) == ["prd-lb1"], timeout=15)
    assert lab.host("prd-lb1")["healthy"]


def test_fault_speaker_down_withdraws_the_speaker_and_heal_restores_it(lab: LabRun) -> None:
    lab.lab("fault", "prd-node2", "speaker-down")
    node = lab.host("prd-node2")
    assert not node["healthy"] and {p["name"]: p["alive"] for p in node["processes"]}["bgpd"] is False
    pods = op(
        lab,
        sys.executable,
        "-c",
        "from kubernetes import client, config; config.load_kube_config(context='prd');"
        "print([c.status for p in client.CoreV1Api().list_namespaced_pod('metallb-system').items "
        "if p.spec.node_name == 'k8s-node-2-server-prd' for c in p.status.conditions if c.type == 'Ready'])",
    )
    assert pods.stdout.strip() == "['False']", pods.stderr
    lab.lab("heal", "prd-node2")
    assert lab.host("prd-node2")["healthy"]
    assert "203.0.113.4" in host_vtysh(lab, "prd-node2", "show ip bgp summary")


def test_fault_link_down_is_silent_and_heal_reattaches(lab: LabRun) -> None:
    lab.lab("fault", "prd-master2", "link-down")
    # The host still sees its carrier, but nothing gets through.
    assert "LOWER_UP" in lab.sh("prd-master2", "ip link show eth0").stdout
    assert op(lab, "curl", "-sk", "--max-time", "2", "https://203.0.113.6:6443/healthz").returncode != 0
    lab.lab("heal", "prd-master2")
    assert wait_for(
        lambda: op(lab, "curl", "-sk", "--max-time", "2", "https://203.0.113.6:6443/healthz").stdout == "ok"
    )


def test_fault_sshd_down_refuses_logins_until_healed(lab: LabRun) -> None:
    lab.lab("fault", "prd-lb2", "sshd-down")
    out = ssh(lab, "root@203.0.113.9", "true")
    assert out.returncode == 255 and "refused" in out.stderr
    lab.lab("heal", "prd-lb2")
    assert ssh(lab, "root@203.0.113.9", "hostname").stdout.strip() == "k8s-lb-2-server-prd"


def test_fault_apiserver_down_stops_one_master(lab: LabRun) -> None:
    lab.lab("fault", "prd-master3", "apiserver-down")
    assert op(lab, "curl", "-sk", "--max-time", "2", "https://203.0.113.7:6443/healthz").returncode != 0
    assert op(lab, "curl", "-sk", "--max-time", "2", "https://203.0.113.5:6443/healthz").stdout == "ok"
    lab.lab("heal", "prd-master3")
    assert op(lab, "curl", "-sk", "--max-time", "2", "https://203.0.113.7:6443/healthz").stdout == "ok"


def test_fault_wireguard_down_stops_the_venue_peer(lab: LabRun) -> None:
    lab.lab("fault", "prd-venue", "wireguard-down")
    assert "wg0" not in lab.sh("prd-venue", "ip -br link").stdout
    lab.lab("heal", "prd-venue")
    assert "wg0" in lab.sh("prd-venue", "ip -br link").stdout
    assert "172.16.100.2/30" in " ".join(lab.host("prd-venue")["addresses"])


def test_fault_on_the_wrong_kind_of_host_is_refused(lab: LabRun) -> None:
    out = lab.lab("fault", "prd-master1", "keepalived-down", check=False)
    assert out.returncode == 2 and "lb" in out.stderr
