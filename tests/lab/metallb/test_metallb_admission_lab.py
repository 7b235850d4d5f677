"""What real MetalLB refuses, against the lab's admission (issue 24; lab/kubeapi/admission.py: MetalLB's webhooks
and CRD schema per version, dryRun=All): `prd` runs FRR mode with CRDs served and no configuration
(`--metallb prd=none`), `dev` native BGP mode (`--metallb-speaker dev=native`).

- adopting a BGPPeer as MetalLB's configmaptocrs leaves it (inline password, keepaliveTime, holdTime 1m30s) works
  in one deploy and plans clean after;
- a pool rename (same CIDR) and a CIDR move between pools converge in one deploy each (stale pools deleted first);
- a native-mode cluster gets no BFD objects and `plan` says why;
- an Opaque password Secret is refused before anything is applied;
- a webhook refusal names its object and MetalLB's reason, and nothing is applied; a webhook that is down is
  reported as such (`lab.kubeapi.world.with_metallb(webhook="down")`).
The site file's `metallb` section and the objects another tool made are this test's.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lab.kubeapi import store
from lab.kubeapi.world import with_metallb
from tests.lab.helpers import lab_site, own_lab, write_site
from tests.lab.labrun import LabRun

pytestmark = pytest.mark.lab

PASSWORD_ENV = "EDGEKIT_TEST_METALLB_PW"
GLOBAL = "198.51.100.0/28"
MORE = "198.51.100.32/28"


@pytest.fixture(scope="module")
def lab() -> Iterator[LabRun]:
    with own_lab(
        "ektma",
        "--clusters",
        "prd,dev",
        "--metallb",
        "prd=none,dev=none",
        "--metallb-speaker",
        "dev=native",
        **{PASSWORD_ENV: "s3cret-pw"},
    ) as run:
        yield run


def site(
    lab: LabRun,
    cluster: str,
    pools: list[dict[str, Any]],
    password: dict[str, str] | None = None,
    timers: tuple[int, int] = (90, 30),
    bfd: bool = False,
) -> str:
    """The lab's site file with ``cluster``'s metallb pools, router BGP password and timers (hold, keepalive), as a
    file of this test (the router is not deployed here: only MetalLB's side is)."""
    doc = lab_site(lab)
    c = doc["clusters"][cluster]
    c["metallb"] = {"pools": pools}
    c["bfd"] = {"enabled": bfd}  # the lab's site has it off (artifacts.py)
    bgp = c.setdefault("router", {}).setdefault("bgp", {})
    bgp["holdtime"], bgp["keepalive"] = timers
    if password is not None:
        bgp["password"] = password
    return str(write_site(lab, f"site-{cluster}.yaml", doc))


def metallb(lab: LabRun, path: str, cluster: str, *args: str) -> tuple[int, dict[str, Any], str]:
    return lab.edgekit_json(*args, "--cluster", cluster, "--site", path, "--gate-timeout", "5", module="tasks.metallb")


def plan(lab: LabRun, path: str, cluster: str) -> tuple[int, dict[str, Any], str]:
    return lab.edgekit_json("plan", "--cluster", cluster, "--site", path, module="tasks.metallb")


def client(lab: LabRun, cluster: str, code: str) -> Any:
    """Run ``code`` with the unmodified kubernetes client against ``cluster`` (``custom``, ``core``: its APIs);
    what it assigns to ``out`` comes back (JSON)."""
    script = (
        "import json; from kubernetes import client, config; "
        f"api = config.new_client_from_config(context={cluster!r}); "
        "custom = client.CustomObjectsApi(api); core = client.CoreV1Api(api); out = None\n"
        f"{code}\nprint(json.dumps(out))"
    )
    proc = lab.lab("exec", "--", sys.executable, "-c", script, check=False)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def names(lab: LabRun, cluster: str, plural: str, version: str = "v1beta1") -> list[str]:
    return client(  # type: ignore[no-any-return]
        lab,
        cluster,
        f"out = [i['metadata']['name'] for i in custom.list_namespaced_custom_object('metallb.io', {version!r}, "
        f"'metallb-system', {plural!r})['items']]",
    )


def peer_spec(lab: LabRun, cluster: str, name: str) -> dict[str, Any]:
    return client(  # type: ignore[no-any-return]
        lab,
        cluster,
        f"out = custom.get_namespaced_custom_object('metallb.io', 'v1beta2', 'metallb-system', 'bgppeers', {name!r})"
        "['spec']",
    )


def test_adopting_a_converted_peer_with_an_inline_password_works(lab: LabRun) -> None:
    router = lab.router_address("prd")
    converted = {  # what MetalLB's configmaptocrs writes for a legacy peer (then applied with kubectl)
        "apiVersion": "metallb.io/v1beta2",
        "kind": "BGPPeer",
        "metadata": {"name": "peer1", "namespace": "metallb-system"},
        "spec": {
            "myASN": 65021,
            "peerASN": 65020,
            "peerAddress": router,
            "holdTime": "1m30s",
            "keepaliveTime": "30s",
            "password": "s3cret-pw",
        },
    }
    client(
        lab,
        "prd",
        "custom.create_namespaced_custom_object('metallb.io', 'v1beta2', 'metallb-system', 'bgppeers', "
        f"{converted!r}, field_manager='kubectl-create')",
    )
    path = site(lab, "prd", [{"name": "global-ip", "addresses": [GLOBAL]}], {"env": PASSWORD_ENV})
    code, report, out = plan(lab, path, "prd")
    assert code == 10, out
    host = report["hosts"][0]
    assert "BGPPeer metallb-system/peer1 peers with " + router + ": edgekit takes it over" in host["notes"]
    lines = host["commands"]
    assert any(line.startswith("~ BGPPeer metallb-system/peer1 spec.password: ******** -> (removed:") for line in lines)
    assert not any("spec.holdTime" in line for line in lines), lines  # 1m30s is 90s
    assert "s3cret-pw" not in out

    code, report, out = metallb(lab, path, "prd", "deploy")
    assert code in (0, 1), out  # 1 only for the gate (the router is not deployed in this module)
    assert not (report["hosts"][0]["error"] or "").startswith(("refused", "conflict")), out
    spec = peer_spec(lab, "prd", "peer1")
    assert "password" not in spec, spec
    assert spec["passwordSecret"]["name"] == "edgekit-bgp-password"
    assert names(lab, "prd", "bgppeers", "v1beta2") == ["peer1"]
    code, _, out = plan(lab, path, "prd")
    assert code == 0, out

    # A lowered hold time under the converted keepaliveTime (30s > 9s: MetalLB refuses the peer): the leftover
    # keepaliveTime goes (MetalLB derives 9s/3, the router's keepalive); holdTime is kubectl-create's: forced.
    path = site(lab, "prd", [{"name": "global-ip", "addresses": [GLOBAL]}], {"env": PASSWORD_ENV}, timers=(9, 3))
    code, report, out = plan(lab, path, "prd")
    assert code == 10, out
    lines = report["hosts"][0]["commands"]
    assert "~ BGPPeer metallb-system/peer1 spec.holdTime: 1m30s -> 9s" in lines, lines
    assert any(
        line.startswith('~ BGPPeer metallb-system/peer1 spec.keepaliveTime: "30s" -> (removed:') for line in lines
    )
    code, report, out = metallb(lab, path, "prd", "deploy", "--force-conflicts")
    assert not (report["hosts"][0]["error"] or "").startswith(("refused", "conflict")), out
    spec = peer_spec(lab, "prd", "peer1")
    assert spec["holdTime"] == "9s" and "keepaliveTime" not in spec, spec
    code, _, out = plan(lab, path, "prd")
    assert code == 0, out


def test_a_pool_rename_and_a_cidr_move_converge_in_one_deploy_each(lab: LabRun) -> None:
    pw = {"env": PASSWORD_ENV}
    path = site(lab, "prd", [{"name": "global-ip", "addresses": [GLOBAL]}, {"name": "more", "addresses": [MORE]}], pw)
    code, report, out = metallb(lab, path, "prd", "deploy")
    assert not (report["hosts"][0]["error"] or "").startswith("refused"), out
    assert sorted(names(lab, "prd", "ipaddresspools")) == ["global-ip", "more"]

    # Rename: the same CIDR under a new name (MetalLB refuses the new pool while the old one holds it).
    path = site(lab, "prd", [{"name": "global2", "addresses": [GLOBAL]}, {"name": "more", "addresses": [MORE]}], pw)
    code, report, out = plan(lab, path, "prd")
    assert code == 10, out
    lines = report["hosts"][0]["commands"]
    assert lines.index("- IPAddressPool metallb-system/global-ip") < lines.index(
        "+ IPAddressPool metallb-system/global2"
    ), lines
    code, report, out = metallb(lab, path, "prd", "deploy")
    assert not (report["hosts"][0]["error"] or "").startswith("refused"), out
    assert sorted(names(lab, "prd", "ipaddresspools")) == ["global2", "more"]
    code, _, out = plan(lab, path, "prd")
    assert code == 0, out

    # CIDR move: more's range moves into global2 and more goes.
    path = site(lab, "prd", [{"name": "global2", "addresses": [GLOBAL, MORE]}], pw)
    code, report, out = metallb(lab, path, "prd", "deploy")
    assert not (report["hosts"][0]["error"] or "").startswith("refused"), out
    assert names(lab, "prd", "ipaddresspools") == ["global2"]
    code, _, out = plan(lab, path, "prd")
    assert code == 0, out


def test_a_webhook_refusal_names_its_reason_and_nothing_is_applied(lab: LabRun) -> None:
    theirs = {
        "apiVersion": "metallb.io/v1beta1",
        "kind": "IPAddressPool",
        "metadata": {"name": "theirs", "namespace": "metallb-system"},
        "spec": {"addresses": ["198.51.100.48/28"]},
    }
    client(
        lab,
        "prd",
        "custom.create_namespaced_custom_object('metallb.io', 'v1beta1', 'metallb-system', 'ipaddresspools', "
        f"{theirs!r}, field_manager='kubectl-create')",
    )
    pools = [{"name": "global2", "addresses": [GLOBAL, MORE]}, {"name": "clash", "addresses": ["198.51.100.48/29"]}]
    path = site(lab, "prd", pools, {"env": PASSWORD_ENV})
    code, report, out = metallb(lab, path, "prd", "deploy")
    assert code == 1, out
    error = report["hosts"][0]["error"]
    assert error.startswith("refused: IPAddressPool metallb-system/clash: refused by MetalLB's webhook "), error
    assert "overlaps with already defined CIDR" in error and error.endswith("(dry run: nothing applied)"), error
    assert "clash" not in names(lab, "prd", "ipaddresspools")
    client(
        lab,
        "prd",
        "custom.delete_namespaced_custom_object('metallb.io', 'v1beta1', 'metallb-system', 'ipaddresspools', 'theirs')",
    )


def test_an_opaque_password_secret_is_refused_before_anything_is_applied(lab: LabRun) -> None:
    client(
        lab,
        "prd",
        "core.create_namespaced_secret('metallb-system', {'apiVersion': 'v1', 'kind': 'Secret', 'metadata': "
        "{'name': 'bgp-auth', 'namespace': 'metallb-system'}, 'type': 'Opaque', "
        "'stringData': {'password': 's3cret-pw'}})",
    )
    pools = [{"name": "global2", "addresses": [GLOBAL, MORE]}, {"name": "extra", "addresses": ["198.51.100.64/28"]}]
    path = site(lab, "prd", pools, {"k8s": "metallb-system/bgp-auth/password"})
    before = peer_spec(lab, "prd", "peer1")
    code, report, out = metallb(lab, path, "prd", "deploy")
    assert code == 1, out
    error = report["hosts"][0]["error"]
    assert error.startswith("refused: Secret metallb-system/bgp-auth: has type Opaque: MetalLB refuses"), error
    assert "extra" not in names(lab, "prd", "ipaddresspools")  # nothing applied
    assert peer_spec(lab, "prd", "peer1") == before


def test_a_native_mode_cluster_gets_no_bfd_objects_and_plan_says_why(lab: LabRun) -> None:
    path = site(lab, "dev", [{"name": "global-ip", "addresses": ["198.51.100.16/28"]}], bfd=True)
    code, report, out = plan(lab, path, "dev")
    assert code == 10, out
    host = report["hosts"][0]
    assert any(n.startswith("MetalLB runs native BGP mode (no FRR): no BFDProfile") for n in host["notes"]), host
    assert not any("BFDProfile" in line for line in host["commands"]), host["commands"]
    code, report, out = metallb(lab, path, "dev", "deploy")
    assert not (report["hosts"][0]["error"] or "").startswith("refused"), out
    assert names(lab, "dev", "bfdprofiles") == []
    (peer,) = names(lab, "dev", "bgppeers", "v1beta2")
    assert "bfdProfile" not in peer_spec(lab, "dev", peer)
    code, _, out = plan(lab, path, "dev")
    assert code == 0, out


def test_a_webhook_that_is_down_is_reported_as_such_and_nothing_is_applied(lab: LabRun) -> None:
    pools = [{"name": "global2", "addresses": [GLOBAL, MORE]}, {"name": "late", "addresses": ["198.51.100.80/28"]}]
    path = site(lab, "prd", pools, {"env": PASSWORD_ENV})
    world = next(Path(lab.state_dir).rglob("world-prd.json"))
    store.update(world, lambda w: with_metallb(w, webhook="down") if w else w)
    try:
        code, report, out = metallb(lab, path, "prd", "deploy")
    finally:
        store.update(world, lambda w: with_metallb(w, webhook="up") if w else w)
    assert code == 1, out
    error = report["hosts"][0]["error"]
    assert error.startswith("refused: IPAddressPool metallb-system/"), error  # the first pool sent
    assert "is down (is MetalLB's controller running?)" in error and error.endswith("(dry run: nothing applied)")
    assert "late" not in names(lab, "prd", "ipaddresspools")
