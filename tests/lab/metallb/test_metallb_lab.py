"""MetalLB from the site model, end to end (issue 14): a CRD cluster that starts with no MetalLB config
(`--metallb prd=none`, VyOS 1.4) and a cluster with a hand-written legacy ConfigMap (`dev=configmap`, VyOS 1.3).

`metallb deploy` then `router deploy`: global services answer from upstream over every node, the venue-scoped
service is refused from upstream (the router's firewall, each dialect's syntax) and answers through the tunnel;
`metallb plan` is clean afterwards; a hand edit of the BGPPeer shows in `plan` and `comply`, and another field
manager's ownership is a conflict until `--force-conflicts`. The site file's `metallb` section is this test's.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from tests.lab.helpers import lab_site, own_lab, wait_until, write_site
from tests.lab.labrun import LabRun

pytestmark = pytest.mark.lab

POOLS = {
    "prd": {
        "global": "198.51.100.0/28",
        "venue": "198.51.100.128/28",
        "web": "198.51.100.1",
        "scores": "198.51.100.129",
    },
    "dev": {
        "global": "198.51.100.16/28",
        "venue": "198.51.100.144/28",
        "web": "198.51.100.17",
        "scores": "198.51.100.145",
    },
}
# prd: MetalLB installed (CRDs served), no configuration: nothing announced until edgekit deploys it;
# dev: the legacy ConfigMap written with kubectl apply (edgekit takes it over with --force-conflicts).
MODES = "prd=none,dev=configmap"
NODES = {f"k8s-node-{i}-server-{c}" for c in ("prd",) for i in (1, 2, 3)}


@pytest.fixture(scope="module")
def lab() -> Iterator[LabRun]:
    # kube-proxy in IPVS mode: private.reachability pings the venue service IPs, which only IPVS-mode nodes answer
    # (the IPs are local on kube-ipvs0); with the lab's default iptables mode (nat rules, TCP only) no node answers
    # ICMP to a LoadBalancer IP, as on a real iptables/nftables-mode cluster.
    up = ("--clusters", "prd,dev", "--metallb", MODES, "--vyos", "prd=1.4,dev=1.3", "--kube-proxy", "ipvs")
    with own_lab("ektml", *up) as run:
        site = lab_site(run)
        for cluster, p in POOLS.items():
            site["clusters"][cluster]["metallb"] = {
                "pools": [
                    {"name": "global-ip", "addresses": [p["global"]]},
                    {"name": "venue-ip", "addresses": [p["venue"]], "scope": "venue"},
                ]
            }
        write_site(run, "site-metallb.yaml", site)
        yield run


def lab_tunnel(lab: LabRun, cluster: str) -> str:
    site = yaml.safe_load((lab.state_dir / "site.yaml").read_text())
    address = site["clusters"][cluster]["wireguard"]["address"]
    import ipaddress

    return str(ipaddress.IPv4Interface(address).network)


def edgekit(lab: LabRun, module: str, *args: str) -> tuple[int, dict[str, Any], str]:
    site = str(lab.state_dir / "site-metallb.yaml")
    return lab.edgekit_json(*args, "--site", site, module=module)


def traffic(lab: LabRun, ip: str, n: int, side: str = "upstream") -> dict[str, int]:
    """Connections to a service IP from the internet side or from the venue (`lab traffic --from`), counted per
    answering node ("(error)": refused or timed out)."""
    proc = lab.lab("traffic", ip, "-n", str(n), "--from", side, "--json", timeout=n * 3 + 20)
    return json.loads(proc.stdout)


def stanzas(lab: LabRun) -> dict[str, str]:
    """`router render --venue`: each cluster's wg-quick [Peer] stanza, by cluster."""
    proc = lab.edgekit("render", "--venue", "--site", str(lab.state_dir / "site-metallb.yaml"))
    assert proc.returncode == 0, proc.stderr
    out: dict[str, str] = {}
    for block in proc.stdout.split("# ")[1:]:
        out[block.split(":", 1)[0]] = "# " + block
    return out


def peer_key(stanza: str) -> str:
    return next(line.split("=", 1)[1].strip() for line in stanza.splitlines() if line.startswith("PublicKey"))


def hand_edit_bgppeer(lab: LabRun, cluster: str, hold: str) -> None:
    """What `kubectl edit bgppeer` does: a patch under field manager kubectl-edit."""
    code = (
        "from kubernetes import client, config; "
        f"api = config.new_client_from_config(context={cluster!r}); "
        "client.CustomObjectsApi(api).patch_namespaced_custom_object('metallb.io', 'v1beta2', 'metallb-system', "
        f"'bgppeers', 'edgekit-router', {{'spec': {{'holdTime': {hold!r}}}}}, field_manager='kubectl-edit', "
        "_content_type='application/merge-patch+json')"
    )
    proc = lab.lab("exec", "--", sys.executable, "-c", code, check=False)
    assert proc.returncode == 0, proc.stderr


def test_metallb_then_router_deploy_serves_global_and_venue_pools(lab: LabRun) -> None:
    # Nothing announced yet: the global service does not answer from upstream.
    before = traffic(lab, POOLS["prd"]["web"], 3)
    assert set(before) == {"(error)"}, before

    code, report, out = edgekit(lab, "tasks.metallb", "plan")
    assert code == 10, out
    forms = {h["cluster"]: h["dialect"] for h in report["hosts"]}
    assert forms == {"prd": "crds", "dev": "configmap"}  # asked each cluster (site form auto)
    prd = next(h for h in report["hosts"] if h["cluster"] == "prd")
    assert prd["commands"] == [  # in apply order: pools before their advertisements, the peer last (issue 24)
        "+ IPAddressPool metallb-system/global-ip",
        "+ IPAddressPool metallb-system/venue-ip",
        "+ BGPAdvertisement metallb-system/global-ip",
        "+ BGPAdvertisement metallb-system/venue-ip",
        "+ BGPPeer metallb-system/edgekit-router",
    ]

    # dev's ConfigMap was written by hand (kubectl apply): a conflict, reported, not forced; prd waits behind it.
    code, report, out = edgekit(lab, "tasks.metallb", "deploy")
    assert code == 1, out
    by = {h["cluster"]: h for h in report["hosts"]}
    assert by["dev"]["status"] == "failed" and "field manager 'kubectl-client-side-apply'" in by["dev"]["error"]
    assert ".data.config" in by["dev"]["error"] and by["prd"]["status"] == "skipped"

    code, report, out = edgekit(lab, "tasks.metallb", "deploy", "--force-conflicts")
    assert code == 0, out
    assert {h["cluster"]: h["status"] for h in report["hosts"]} == {"dev": "changed", "prd": "changed"}

    code, report, out = edgekit(lab, "tasks.router", "deploy")
    assert code == 0, out

    # Each venue is configured from `render --venue` (dev's 1.3 router generated its keypair on the box during the
    # deploy: the stanza carries that key, read from the router).
    venue = stanzas(lab)
    assert set(venue) == {"prd", "dev"}
    for cluster, p in POOLS.items():
        assert f"AllowedIPs = {lab_tunnel(lab, cluster)}, {p['venue']}" in venue[cluster], venue[cluster]
        stanza = lab.state_dir / f"venue-{cluster}.conf"
        stanza.write_text(venue[cluster])
        lab.lab("venue", cluster, "--config", str(stanza))
    assert peer_key(venue["dev"]) != peer_key(venue["prd"])

    def tunnels_up() -> bool:
        code, report, _ = edgekit(lab, "tasks.router", "verify")
        return all(
            c["status"] == "pass" for h in report.get("hosts", []) for c in h["checks"] if "wireguard" in c["check"]
        )

    wait_until(tunnels_up, 60, "both tunnels up", interval=0.5)

    code, report, out = edgekit(lab, "tasks.metallb", "plan")
    assert code == 0, out

    # Global services answer from upstream, over every node (ECMP).
    answered = traffic(lab, POOLS["prd"]["web"], 30)
    assert set(answered) == NODES, answered
    dev_answered = traffic(lab, POOLS["dev"]["web"], 30)
    assert "(error)" not in dev_answered and len(dev_answered) == 3, dev_answered

    # The venue-scoped services: answering from the venue through the tunnel, refused from upstream by the router's
    # firewall (both dialects); the router's own probe from its tunnel address agrees.
    for cluster in ("prd", "dev"):
        from_venue = traffic(lab, POOLS[cluster]["scores"], 10, "venue")
        assert "(error)" not in from_venue and sum(from_venue.values()) == 10, (cluster, from_venue)
        refused = traffic(lab, POOLS[cluster]["scores"], 3, "upstream")
        assert set(refused) == {"(error)"}, (cluster, refused)
    code, report, out = edgekit(lab, "tasks.metallb", "verify")
    assert code == 0, out
    checks = {(h["cluster"], c["check"]): c["status"] for h in report["hosts"] for c in h["checks"]}
    assert checks[("prd", "private.reachability")] == "pass" and checks[("dev", "private.reachability")] == "pass"
    assert checks[("prd", "metallb.config")] == "pass" and checks[("dev", "metallb.config")] == "pass"

    code, report, out = edgekit(lab, "tasks.router", "comply")
    assert code == 0, out


def test_a_hand_edited_bgppeer_shows_in_plan_and_comply(lab: LabRun) -> None:
    code, _, out = edgekit(lab, "tasks.metallb", "plan", "--cluster", "prd")
    assert code == 0, out  # as the first test left it
    hand_edit_bgppeer(lab, "prd", "30s")

    code, report, out = edgekit(lab, "tasks.metallb", "plan", "--cluster", "prd")
    assert code == 10, out
    assert report["hosts"][0]["commands"] == ["~ BGPPeer metallb-system/edgekit-router spec.holdTime: 30s -> 90s"]

    code, report, out = edgekit(lab, "tasks.router", "comply", "--cluster", "prd")
    assert code == 1, out
    red = [(c["check"], c["reason"]) for h in report["hosts"] for c in h["checks"] if c["status"] != "pass"]
    assert red == [("metallb.config", "~ BGPPeer metallb-system/edgekit-router spec.holdTime: 30s -> 90s")]

    # kubectl-edit now owns spec.holdTime: deploy reports it and changes nothing until forced.
    code, report, out = edgekit(lab, "tasks.metallb", "deploy", "--cluster", "prd")
    assert code == 1 and "spec.holdTime is owned by field manager 'kubectl-edit'" in report["hosts"][0]["error"], out
    code, report, out = edgekit(lab, "tasks.metallb", "deploy", "--cluster", "prd", "--force-conflicts")
    assert code == 0, out
    (host,) = report["hosts"]
    # the router has sessions with these speakers now: the router's gate ran and passed
    assert any(n.startswith("gate passed") for n in host["notes"]), host
    assert {c["check"] for c in host["checks"]} >= {"bgp.peers", "ecmp.routes"}, host
    code, _, out = edgekit(lab, "tasks.metallb", "plan", "--cluster", "prd")
    assert code == 0, out
