"""Admission in the lab's Kubernetes stand-in (the `python -m lab.kubeapi` process each cluster runs, over TLS with a
token), read by the unmodified kubernetes client in the operator namespace, per MetalLB version and speaker mode
(`lab up --metallb-version`, `--metallb-speaker`): prd runs MetalLB v0.13.12 in native mode, dev v0.14.9 in FRR
mode, both with the CRDs and no config (`--metallb none`). Expected texts: lab/kubeapi/admission.py and
crd_schema.py (their sources are cited there)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lab.kubeapi import store
from lab.kubeapi.world import with_metallb
from tests.lab.helpers import own_lab, wait_until
from tests.lab.labrun import LabRun

pytestmark = pytest.mark.lab

# Runs in the operator namespace: each attempt's outcome as (HTTP status, body) from ApiException, or the object.
SCRIPT = r"""
import json, sys
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

def attempt(call):
    try:
        return {"status": 200, "body": call()}
    except ApiException as exc:
        return {"status": exc.status, "body": json.loads(exc.body)}

out = {}
for ctx in ("prd", "dev"):
    api_client = config.new_client_from_config(context=ctx)
    core, crd = client.CoreV1Api(api_client), client.CustomObjectsApi(api_client)
    pods = core.list_namespaced_pod("metallb-system", label_selector="component=speaker").items
    ns = "metallb-system"
    def create(plural, version, body, **kw):
        return attempt(lambda: crd.create_namespaced_custom_object("metallb.io", version, ns, plural, body, **kw))
    peer = {"apiVersion": "metallb.io/v1beta2", "kind": "BGPPeer", "metadata": {"name": "edge", "namespace": ns},
            "spec": {"myASN": 65021, "peerASN": 65020, "peerAddress": "203.0.113.4"}}
    pool = {"apiVersion": "metallb.io/v1beta1", "kind": "IPAddressPool",
            "metadata": {"name": "trial", "namespace": ns}, "spec": {"addresses": ["198.51.100.0/28"]}}
    out[ctx] = {
        "containers": [[c.name for c in p.spec.containers] for p in pods],
        "env": [{e.name: e.value for e in (p.spec.containers[-1].env or [])} for p in pods],
        "bfd_peer": create("bgppeers", "v1beta2", {**peer, "spec": {**peer["spec"], "bfdProfile": "fast"}}),
        "both_passwords": create(
            "bgppeers", "v1beta2",
            {**peer, "metadata": {"name": "both", "namespace": ns},
             "spec": {**peer["spec"], "peerAddress": "203.0.113.5", "password": "x",
                      "passwordSecret": {"name": "bgp-auth"}}},
        ),
        "no_addresses": create("ipaddresspools", "v1beta1", {**pool, "spec": {}}),
        "dry_run": create("ipaddresspools", "v1beta1", pool, dry_run="All"),
        "after_dry_run": attempt(
            lambda: crd.get_namespaced_custom_object("metallb.io", "v1beta1", ns, "ipaddresspools", "trial")
        ),
    }
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def lab() -> Iterator[LabRun]:
    with own_lab(
        "ektad",
        "--clusters",
        "prd,dev",
        "--nodes",
        "1",
        "--metallb",
        "prd=none,dev=none",
        "--metallb-version",
        "prd=v0.13.12,dev=v0.14.9",
        "--metallb-speaker",
        "prd=native,dev=frr",
    ) as run:
        yield run


@pytest.fixture(scope="module")
def outcome(lab: LabRun) -> dict[str, Any]:
    proc = lab.lab("exec", "--", sys.executable, "-c", SCRIPT, check=False, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)  # type: ignore[no-any-return]


def test_the_speaker_mode_shows_in_the_speaker_pods(outcome: dict[str, Any]) -> None:
    assert outcome["prd"]["containers"] == [["speaker"]]
    assert "METALLB_BGP_TYPE" not in outcome["prd"]["env"][0]  # native: the manifests set none
    assert outcome["dev"]["containers"] == [["frr", "reloader", "frr-metrics", "speaker"]]
    assert outcome["dev"]["env"][0]["METALLB_BGP_TYPE"] == "frr"


def test_native_mode_webhook_refuses_a_peer_with_bfd(outcome: dict[str, Any]) -> None:
    assert outcome["prd"]["bfd_peer"] == {
        "status": 403,
        "body": {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": 'admission webhook "bgppeersvalidationwebhook.metallb.io" denied the request: peer '
            "203.0.113.4 has bfd-profile set on native bgp mode",
            "reason": "Forbidden",
            "code": 403,
        },
    }
    assert outcome["dev"]["bfd_peer"]["status"] == 200  # FRR mode; the missing profile is not the webhook's


def test_password_and_secret_refused_by_v0_13_webhook_admitted_by_v0_14(lab: LabRun, outcome: dict[str, Any]) -> None:
    prd = outcome["prd"]["both_passwords"]
    assert prd["status"] == 403
    assert prd["body"]["message"] == (
        'admission webhook "bgppeersvalidationwebhook.metallb.io" denied the request: parsing peer both: can not '
        'have both password and secret ref set in peer config "metallb-system"/"both"'
    )
    assert outcome["dev"]["both_passwords"]["status"] == 200
    # v0.14.9's webhook blanks passwordSecret before parsing; its controller refuses the whole config, and the
    # lab's MetalLB keeps the last good one and says why.
    log = next(Path(lab.state_dir).rglob("metallb-dev.log"))
    want = 'can not have both password and secret ref set in peer config "metallb-system"/"both"'
    wait_until(lambda: want in log.read_text(), timeout=30, what=f"{want!r} in {log}")


def test_schema_refusal_is_422_with_causes(outcome: dict[str, Any]) -> None:
    for ctx in ("prd", "dev"):
        got = outcome[ctx]["no_addresses"]
        assert got["status"] == 422
        assert got["body"]["message"] == 'IPAddressPool.metallb.io "trial" is invalid: spec.addresses: Required value'
        assert got["body"]["details"]["causes"] == [
            {"reason": "FieldValueRequired", "message": "Required value", "field": "spec.addresses"}
        ]


def test_dry_run_stores_nothing(outcome: dict[str, Any]) -> None:
    for ctx in ("prd", "dev"):
        assert outcome[ctx]["dry_run"]["status"] == 200
        assert outcome[ctx]["dry_run"]["body"]["spec"]["addresses"] == ["198.51.100.0/28"]
        assert outcome[ctx]["after_dry_run"]["status"] == 404


WEBHOOK_DOWN = r"""
import json
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException
crd = client.CustomObjectsApi(config.new_client_from_config(context="prd"))
pool = {"apiVersion": "metallb.io/v1beta1", "kind": "IPAddressPool",
        "metadata": {"name": "late", "namespace": "metallb-system"}, "spec": {"addresses": ["198.51.100.0/28"]}}
try:
    crd.create_namespaced_custom_object("metallb.io", "v1beta1", "metallb-system", "ipaddresspools", pool)
    print(json.dumps({"status": 201}))
except ApiException as exc:
    print(json.dumps({"status": exc.status, "body": json.loads(exc.body)}))
"""


def test_webhook_down_answers_500_until_it_is_back(lab: LabRun, outcome: dict[str, Any]) -> None:
    del outcome  # after the module's other writes
    world = next(Path(lab.state_dir).rglob("world-prd.json"))
    store.update(world, lambda w: with_metallb(w, webhook="down") if w else w)
    try:
        proc = lab.lab("exec", "--", sys.executable, "-c", WEBHOOK_DOWN, check=False)
        assert proc.returncode == 0, proc.stderr
        got = json.loads(proc.stdout)
        assert got["status"] == 500 and got["body"]["reason"] == "InternalError"
        assert got["body"]["message"].startswith(
            'Internal error occurred: failed calling webhook "ipaddresspoolvalidationwebhook.metallb.io": '
            'failed to call webhook: Post "https://webhook-service.metallb-system.svc:443/'
        )
    finally:
        store.update(world, lambda w: with_metallb(w, webhook="up") if w else w)
    proc = lab.lab("exec", "--", sys.executable, "-c", WEBHOOK_DOWN, check=False)
    assert json.loads(proc.stdout) == {"status": 201}
