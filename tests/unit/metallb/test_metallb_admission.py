"""What real MetalLB refuses (issue 24): refusals reported as refusals through the real kubernetes client, the
dry run before anything is sent, the order of a change (conflicting stale objects first, dependencies before
what names them), undo of a half-applied change, adopting a converted BGPPeer, durations, the speaker mode,
the password Secret's type, CRD clusters and their leftover ConfigMap, pools read whole, and the smaller items.

The ``Status`` bodies are constructed in the shapes the apiserver sends (k8s.io/apimachinery pkg/apis/meta/v1
Status; webhook denials wrapped by kubernetes/apiserver pkg/admission/plugin/webhook/errors ToStatusErr, texts
from metallb/metallb v0.14.9 internal/config/config.go); ``RefusingAPI`` is a constructed fake of MetalLB's
IPAddressPool and BGPPeer rules.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from ipaddress import ip_network
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
import yaml

from checks import metallb as checks
from inventory import kube
from inventory.errors import InputError, SourceUnreachable
from inventory.model import BFD, Pool
from lab.kubeapi import KubeAPIServer, kubeconfig
from lab.kubeapi.status import status as kube_status
from tasks.metallb.apply import PartialApply, _error_text, metallb_apply
from tasks.metallb.kube import ClusterAPI, Refused, refusal_of, speaker_mode_of
from tasks.metallb.plan import duration_seconds, plan_cluster
from tasks.metallb.render import render_metallb, resolve_form
from tests.unit.metallb.test_bfd_metallb import with_metallb
from tests.unit.metallb.test_kube import prd_world
from tests.unit.metallb.test_metallb import VENUE_POOL, FakeAPI, model, two_pools

TASK = SimpleNamespace(host=SimpleNamespace(name="r"))
POOL_WEBHOOK = "ipaddresspoolvalidationwebhook.metallb.io"  # config/webhook/manifests.yaml at v0.13.12/v0.14.9


def status(code: int, reason: str, message: str, causes: list[dict[str, str]] | None = None) -> dict[str, Any]:
    details = {"name": "x", "group": "metallb.io", "kind": "ipaddresspools", "causes": causes}
    return kube_status(code, reason, message, None if causes is None else details)


OVERLAP = 'CIDR "198.51.100.0/28" in pool "new" overlaps with already defined CIDR "198.51.100.0/28"'
DENIED = status(403, "Forbidden", f'admission webhook "{POOL_WEBHOOK}" denied the request: {OVERLAP}')
INVALID = status(
    422,
    "Invalid",
    'IPAddressPool.metallb.io "new" is invalid: spec.autoAssign: Invalid value: "string": spec.autoAssign in body '
    "must be of type boolean",
    [
        {
            "reason": "FieldValueTypeInvalid",
            "message": 'Invalid value: "string": spec.autoAssign in body must be of type boolean',
            "field": "spec.autoAssign",
        }
    ],
)
DOWN = status(
    500,
    "InternalError",
    f'Internal error occurred: failed calling webhook "{POOL_WEBHOOK}": failed to call webhook: Post '
    '"https://metallb-webhook-service.metallb-system.svc:443/validate-metallb-io-v1beta1-ipaddresspool?timeout=10s":'
    " dial tcp 10.96.12.7:443: connect: connection refused",
)
RBAC = status(
    403,
    "Forbidden",
    'ipaddresspools.metallb.io "new" is forbidden: User "system:serviceaccount:ci:edgekit" cannot patch resource '
    '"ipaddresspools" in API group "metallb.io" in the namespace "metallb-system"',
)


# --- 1. refusals through the real client --------------------------------------------------------------------------


class Answering(BaseHTTPRequestHandler):
    answer: tuple[int, dict[str, Any]] = (200, {})
    queries: list[dict[str, list[str]]] = []

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        Answering.queries.append(parse_qs(urlparse(self.path).query))
        code, answer = Answering.answer
        data = json.dumps(answer if code != 200 else body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_PATCH = do_DELETE = _answer  # noqa: N815

    def log_message(self, *args: Any) -> None:
        return None


@pytest.fixture
def answering(tmp_path: Path) -> Any:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Answering)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(kubeconfig({"prd": f"http://127.0.0.1:{server.server_address[1]}"}, token="t")))
    Answering.queries = []
    yield ClusterAPI(str(path), "prd")
    server.shutdown()


NEW_POOL = {
    "apiVersion": "metallb.io/v1beta1",
    "kind": "IPAddressPool",
    "metadata": {"name": "new", "namespace": "metallb-system"},
    "spec": {"addresses": ["198.51.100.0/28"]},
}


def test_a_webhook_denial_is_a_refusal_naming_the_object_and_metallbs_reason(answering: ClusterAPI) -> None:
    Answering.answer = (403, DENIED)
    with pytest.raises(Refused) as err:
        answering.apply(NEW_POOL, dry_run=True)
    assert err.value.exit_code == 1 and err.value.dry_run and err.value.kind == "denied"
    assert str(err.value) == (
        f"IPAddressPool metallb-system/new: refused by MetalLB's webhook {POOL_WEBHOOK}: {OVERLAP}"
    )
    assert Answering.queries[0]["dryRun"] == ["All"] and Answering.queries[0]["fieldManager"] == ["edgekit"]
    assert _error_text(err.value).startswith("refused: IPAddressPool metallb-system/new: refused by MetalLB's")
    assert _error_text(err.value).endswith("(dry run: nothing applied)")


def test_a_schema_error_lists_its_causes_and_a_down_webhook_says_so(answering: ClusterAPI) -> None:
    Answering.answer = (422, INVALID)
    with pytest.raises(Refused, match=r"new: invalid: spec\.autoAssign: Invalid value: \"string\": spec\.autoAssign"):
        answering.apply(NEW_POOL)
    Answering.answer = (500, DOWN)
    with pytest.raises(Refused) as err:
        answering.delete(NEW_POOL, dry_run=True)
    assert err.value.kind == "webhook-down"
    assert str(err.value) == (
        f"IPAddressPool metallb-system/new: MetalLB's webhook {POOL_WEBHOOK} is down (is MetalLB's controller "
        'running?): failed to call webhook: Post "https://metallb-webhook-service.metallb-system.svc:443/validate-'
        'metallb-io-v1beta1-ipaddresspool?timeout=10s": dial tcp 10.96.12.7:443: connect: connection refused'
    )
    assert Answering.queries[-1]["dryRun"] == ["All"]


def test_rbac_403_stays_access_denied(answering: ClusterAPI) -> None:
    Answering.answer = (403, RBAC)
    with pytest.raises(SourceUnreachable, match=r"access denied \(HTTP 403\)"):
        answering.apply(NEW_POOL)
    assert refusal_of(403, json.dumps(RBAC), "x") is None
    errored = status(400, "BadRequest", f'admission webhook "{POOL_WEBHOOK}" denied the request: cannot decode')
    refused = refusal_of(400, json.dumps(errored), "x")
    assert refused is not None and refused.reason.endswith("cannot decode")
    assert refusal_of(500, json.dumps(status(500, "InternalError", "etcdserver: timeout")), "x") is None


# --- 1./2. the order of a change, dry run first, undo ---------------------------------------------------------


class RefusingAPI(FakeAPI):
    """FakeAPI with MetalLB's overlap rule (the IPAddressPool webhook validates the whole set of pools: internal/
    config/config.go poolsFor "CIDR %q in pool %q overlaps with already defined CIDR %q") and the controller's
    "can not have both password and secret ref set in peer config" (v0.13.12's webhook refuses it;
    v0.14.9's clears passwordSecret first, internal/config/validator.go resetTransientErrorsFields, and its
    controller refuses the config); ``fail_on`` makes one real apply fail (a fault)."""

    def __init__(self, objects: list[dict[str, Any]] | None = None, fail_on: str = "") -> None:
        super().__init__(objects)
        self.fail_on = fail_on
        self.calls: list[str] = []

    def _check(self, obj: dict[str, Any], dry_run: bool) -> None:
        name = checks.object_name(obj)
        if obj["kind"] == "IPAddressPool":
            mine = [ip_network(a) for a in obj["spec"]["addresses"]]
            for other in self.objects.values():
                if other["kind"] != "IPAddressPool" or other["metadata"]["name"] == obj["metadata"]["name"]:
                    continue
                for a in mine:
                    for b in other["spec"]["addresses"]:
                        if a.overlaps(ip_network(b)):
                            msg = (
                                f'CIDR "{a}" in pool "{obj["metadata"]["name"]}" overlaps with already defined '
                                f'CIDR "{b}"'
                            )
                            raise Refused(
                                name, f"refused by MetalLB's webhook {POOL_WEBHOOK}: {msg}", "denied", dry_run
                            )
        if obj["kind"] == "BGPPeer":  # v0.13.12's webhook refuses it too (v0.14.9's only in the controller)
            live = self.objects.get(self.key(obj)) or {}
            merged = {**(live.get("spec") or {}), **obj["spec"]}
            if merged.get("password") and merged.get("passwordSecret"):
                raise Refused(name, "can not have both password and secret ref set in peer config", "denied", dry_run)

    def apply(self, obj: dict[str, Any], force: bool = False, dry_run: bool = False) -> dict[str, Any]:
        self.calls.append(("dry " if dry_run else "") + "apply " + checks.object_name(obj))
        self._check(obj, dry_run)
        if not dry_run and checks.object_name(obj) == self.fail_on:
            raise Refused(checks.object_name(obj), "etcd timeout (a fault)")
        return super().apply(obj, force, dry_run)

    def delete(self, obj: dict[str, Any], dry_run: bool = False) -> None:
        self.calls.append(("dry " if dry_run else "") + "delete " + checks.object_name(obj))
        super().delete(obj, dry_run)

    def remove_fields(
        self, obj: dict[str, Any], paths: list[tuple[str, ...]], dry_run: bool = False, values: Any = None
    ) -> None:
        self.calls.append(("dry " if dry_run else "") + ("restore " if values else "remove ") + checks.object_name(obj))
        super().remove_fields(obj, paths, dry_run, values)


def held(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [json.loads(json.dumps(o)) for o in objects]


def test_a_pool_rename_deletes_the_old_pool_first_and_converges_in_one_deploy(tmp_path: Path) -> None:
    before = render_metallb(model(tmp_path, {"metallb": two_pools()}), "crds")
    renamed = two_pools()
    renamed["pools"][0]["name"] = "global2"  # same CIDR, new name
    after = render_metallb(model(tmp_path, {"metallb": renamed}), "crds")
    api = RefusingAPI(held(before.objects))
    plan = plan_cluster(after, api)  # type: ignore[arg-type]
    assert plan.lines[:2] == ["- BGPAdvertisement metallb-system/global", "- IPAddressPool metallb-system/global"]
    assert "+ IPAddressPool metallb-system/global2" in plan.lines
    assert any(n.startswith("deleted first (MetalLB refuses them beside the new objects): ") for n in plan.notes)
    metallb_apply(TASK, plan, api)  # type: ignore[arg-type]
    assert api.calls.index("delete IPAddressPool metallb-system/global") < api.calls.index(
        "apply IPAddressPool metallb-system/global2"
    )
    assert "dry apply IPAddressPool metallb-system/global2" in api.calls  # dry-run once the old pool is gone
    assert not plan_cluster(render_metallb(model(tmp_path, {"metallb": renamed}), "crds"), api)  # type: ignore[arg-type]


def test_a_cidr_move_between_pools_converges(tmp_path: Path) -> None:
    before = two_pools()
    before["pools"].append({"name": "old", "addresses": ["198.51.100.32/28"]})
    api = RefusingAPI(held(render_metallb(model(tmp_path, {"metallb": before}), "crds").objects))
    moved = two_pools()
    moved["pools"][0]["addresses"] = ["198.51.100.0/28", "198.51.100.32/28"]  # old's CIDR moves into global
    plan = plan_cluster(render_metallb(model(tmp_path, {"metallb": moved}), "crds"), api)  # type: ignore[arg-type]
    assert plan.lines.index("- IPAddressPool metallb-system/old") < plan.lines.index(
        '~ IPAddressPool metallb-system/global spec.addresses: ["198.51.100.0/28"] -> '
        '["198.51.100.0/28", "198.51.100.32/28"]'
    )
    metallb_apply(TASK, plan, api)  # type: ignore[arg-type]
    assert not plan_cluster(render_metallb(model(tmp_path, {"metallb": moved}), "crds"), api)  # type: ignore[arg-type]


def test_a_refusal_in_the_dry_run_sends_nothing_for_real(tmp_path: Path) -> None:
    theirs = {  # another tool's pool over the same CIDR: MetalLB refuses edgekit's
        "apiVersion": "metallb.io/v1beta1",
        "kind": "IPAddressPool",
        "metadata": {"name": "theirs", "namespace": "metallb-system"},
        "spec": {"addresses": ["198.51.100.0/28"]},
    }
    api = RefusingAPI([theirs])
    plan = plan_cluster(render_metallb(model(tmp_path, {"metallb": two_pools()}), "crds"), api)  # type: ignore[arg-type]
    with pytest.raises(Refused) as err:
        metallb_apply(TASK, plan, api)  # type: ignore[arg-type]
    assert err.value.dry_run and "overlaps with already defined CIDR" in str(err.value)
    assert api.applied == [] and api.deleted == []
    assert all(c.startswith("dry ") for c in api.calls)


def test_a_real_apply_failing_midway_is_undone_and_says_what_is_left(tmp_path: Path) -> None:
    r = render_metallb(model(tmp_path, {"metallb": two_pools()}), "crds")
    api = RefusingAPI(fail_on="BGPPeer metallb-system/edgekit-router")
    plan = plan_cluster(r, api)  # type: ignore[arg-type]
    with pytest.raises(PartialApply) as err:
        metallb_apply(TASK, plan, api)  # type: ignore[arg-type]
    assert api.objects == {}  # every object created was deleted again
    text = str(err.value)
    assert text.startswith("BGPPeer metallb-system/edgekit-router: etcd timeout (a fault); undone: created ")
    assert "left as applied" not in text
    # applied in dependency order: pools before their advertisements, the BGPPeer last
    kinds = [c.split()[1] for c in api.calls if c.startswith("apply ")]
    assert kinds == ["IPAddressPool", "IPAddressPool", "BGPAdvertisement", "BGPAdvertisement", "BGPPeer"]


# --- 3. adopting a converted BGPPeer, durations --------------------------------------------------------------------


def password_prd(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Two pools and a BGP password read from the environment (s3cret)."""
    monkeypatch.setenv("EDGEKIT_TEST_BGP", "s3cret")
    return {
        "router": {"node_address": "192.168.100.1/24", "bgp": {"password": {"env": "EDGEKIT_TEST_BGP"}}},
        "metallb": two_pools(),
    }


def converted_peer(tmp_path: Path, prd: dict[str, Any]) -> dict[str, Any]:
    """A BGPPeer as MetalLB's configmaptocrs writes it (inline password, keepaliveTime, holdTime in minutes), owned
    by another field manager."""
    (peer,) = [o for o in render_metallb(model(tmp_path, prd), "crds").objects if o["kind"] == "BGPPeer"]
    theirs = json.loads(json.dumps(peer))
    theirs["metadata"] = {"name": "peer1", "namespace": "metallb-system"}
    theirs["spec"].pop("passwordSecret", None)
    theirs["spec"]["password"] = "s3cret"
    theirs["spec"]["holdTime"] = "1m30s"
    theirs["spec"]["keepaliveTime"] = "2m"
    return theirs


def test_adopting_a_converted_peer_removes_its_inline_password_and_stale_keepalive(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    prd = password_prd(monkeypatch)
    defaults_hold = {"router": {"node_address": "192.168.100.1/24", "bgp": {"holdtime": 90, "keepalive": 30}}}
    prd["router"]["bgp"].update(defaults_hold["router"]["bgp"])  # type: ignore[index]
    api = RefusingAPI([converted_peer(tmp_path, prd)])
    plan = plan_cluster(render_metallb(model(tmp_path, prd), "crds"), api)  # type: ignore[arg-type]
    assert plan.notes[0] == "BGPPeer metallb-system/peer1 peers with 203.0.113.4: edgekit takes it over"
    peer_lines = [line for line in plan.lines if "BGPPeer" in line]
    assert (
        "~ BGPPeer metallb-system/peer1 spec.password: ******** -> (removed: MetalLB refuses an inline password "
        "beside passwordSecret)" in peer_lines
    )
    assert any(
        line.startswith('~ BGPPeer metallb-system/peer1 spec.keepaliveTime: "2m" -> (removed: ') for line in peer_lines
    )
    assert not any("spec.holdTime" in line for line in peer_lines)  # 1m30s == 90s
    assert "s3cret" not in "\n".join(plan.lines)
    metallb_apply(TASK, plan, api)  # type: ignore[arg-type]
    spec = api.objects[("BGPPeer", "metallb-system", "peer1")]["spec"]
    assert "password" not in spec and "keepaliveTime" not in spec
    assert spec["passwordSecret"] == {"name": "edgekit-bgp-password", "namespace": "metallb-system"}
    peer_calls = [c for c in api.calls if c.endswith("BGPPeer metallb-system/peer1")]
    assert peer_calls == [
        "dry remove BGPPeer metallb-system/peer1",  # step 1: nothing real yet
        "remove BGPPeer metallb-system/peer1",
        "dry apply BGPPeer metallb-system/peer1",  # its own dry run once the inline password is gone
        "apply BGPPeer metallb-system/peer1",
    ]
    assert not plan_cluster(render_metallb(model(tmp_path, prd), "crds"), api)  # type: ignore[arg-type]


def test_durations_compare_as_durations() -> None:
    assert duration_seconds("1m30s") == duration_seconds("90s") == 90.0
    assert duration_seconds("1.5m") == 90.0 and duration_seconds("500ms") == 0.5 and duration_seconds("0") == 0.0
    assert duration_seconds("90") is None and duration_seconds("1x") is None and duration_seconds(90) is None


# --- 4. speaker mode ------------------------------------------------------------------------------------------------


def pod(containers: list[dict[str, Any]]) -> dict[str, Any]:
    return {"metadata": {"name": "speaker-x"}, "spec": {"containers": containers}}


def test_speaker_mode_from_the_speaker_pods_containers() -> None:
    # metallb/metallb v0.14.9 config/manifests/metallb-frr.yaml (speaker env METALLB_BGP_TYPE=frr and frr,
    # reloader, frr-metrics containers), metallb-frr-k8s.yaml (METALLB_BGP_TYPE=frr-k8s), metallb-native.yaml (none).
    frr = [{"name": "speaker", "env": [{"name": "METALLB_BGP_TYPE", "value": "frr"}]}, {"name": "frr"}]
    assert speaker_mode_of(pod(frr)) == "frr"
    assert speaker_mode_of(pod([{"name": "speaker", "env": [{"name": "METALLB_BGP_TYPE", "value": "frr-k8s"}]}])) == (
        "frr-k8s"
    )
    assert speaker_mode_of(pod([{"name": "speaker", "env": [{"name": "METALLB_NODE_NAME"}]}])) == "native"
    assert speaker_mode_of(pod([{"name": "speaker"}, {"name": "frr"}])) == "frr"
    assert speaker_mode_of(pod([{"name": "other"}])) is None


def test_native_mode_renders_no_bfd_and_says_why() -> None:
    c = with_metallb(BFD())
    rendered = render_metallb(c, "crds", mode="native")  # type: ignore[arg-type]
    assert not any(o["kind"] == "BFDProfile" for o in rendered.objects)
    (peer,) = [o for o in rendered.objects if o["kind"] == "BGPPeer"]
    assert "bfdProfile" not in peer["spec"]
    assert len(rendered.notes) == 1 and rendered.notes[0].startswith("MetalLB runs native BGP mode (no FRR): no BFD")
    assert "bfd-profile" not in yaml.safe_dump(render_metallb(c, "configmap", mode="native").objects)  # type: ignore[arg-type]
    frr = render_metallb(c, "crds", mode="frr")  # type: ignore[arg-type]
    assert any(o["kind"] == "BFDProfile" for o in frr.objects) and not frr.notes
    plan = plan_cluster(rendered, FakeAPI())  # type: ignore[arg-type]
    assert rendered.notes[0] in plan.notes


# --- 5. the password Secret ----------------------------------------------------------------------------------------


def test_an_opaque_password_secret_is_refused_before_anything_is_applied(tmp_path: Path) -> None:
    c = model(
        tmp_path,
        {
            "router": {"node_address": "192.168.100.1/24", "bgp": {"password": {"k8s": "metallb-system/bgp/password"}}},
            "metallb": two_pools(),
        },
    )
    r = render_metallb(c, "crds")
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "bgp", "namespace": "metallb-system"},
        "type": "Opaque",
        "data": {"password": "czNjcmV0"},
    }
    api = RefusingAPI([secret])
    with pytest.raises(
        Refused,
        match=r"^Secret metallb-system/bgp: has type Opaque: MetalLB refuses a password Secret "
        r"that is not kubernetes.io/basic-auth",
    ):
        plan_cluster(r, api)  # type: ignore[arg-type]
    assert api.calls == []
    secret["type"] = "kubernetes.io/basic-auth"
    assert plan_cluster(r, api)  # type: ignore[arg-type]
    del secret["data"]
    with pytest.raises(Refused, match="has no key password"):
        plan_cluster(r, api)  # type: ignore[arg-type]
    api.objects.clear()
    with pytest.raises(Refused, match="not found"):
        plan_cluster(r, api)  # type: ignore[arg-type]


def test_edgekits_own_secret_of_another_type_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    prd = password_prd(monkeypatch)
    r = render_metallb(model(tmp_path, prd), "crds")
    (ours,) = [o for o in r.objects if o["kind"] == "Secret"]
    assert ours["type"] == "kubernetes.io/basic-auth"
    wrong = {**json.loads(json.dumps(ours)), "type": "Opaque"}
    with pytest.raises(Refused, match="type cannot be changed: delete it"):
        plan_cluster(r, RefusingAPI([wrong]))  # type: ignore[arg-type]


# --- 6. CRD clusters: the ConfigMap is not MetalLB's config ---------------------------------------------------------


LEFTOVER = {
    "apiVersion": "v1",
    "kind": "ConfigMap",
    "metadata": {"name": "config", "namespace": "metallb-system"},
    "data": {
        "config": "peers:\n- peer-address: 203.0.113.4\n  peer-asn: 65020\n  my-asn: 65021\n"
        "address-pools:\n- name: old\n  protocol: bgp\n  addresses: [192.0.2.0/28]\n"
    },
}


def serve(tmp_path: Path, world: dict[str, Any]) -> tuple[KubeAPIServer, str]:
    server = KubeAPIServer(world, token="t0ken")
    url = server.start()
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(kubeconfig({"prd": url}, token="t0ken")))
    return server, str(path)


def test_a_crd_cluster_never_reads_a_leftover_configmap(tmp_path: Path) -> None:
    world = prd_world("crds")
    world["items"].append(LEFTOVER)
    world["items"] = [
        i for i in world["items"] if i.get("kind") not in ("IPAddressPool", "BGPPeer", "BGPAdvertisement")
    ]
    server, path = serve(tmp_path, world)
    try:
        facts = kube.discover(path, "prd")
    finally:
        server.stop()
    assert facts.crds_served and facts.metallb_source is None and facts.pools == [] and facts.peers == []
    assert any("configmap metallb-system/config is a leftover" in w for w in facts.warnings)


def test_form_configmap_on_a_crd_cluster_is_an_input_error(tmp_path: Path) -> None:
    c = model(tmp_path, {"metallb": two_pools(form="configmap")})
    crd_cluster = SimpleNamespace(served_form=lambda: "crds")
    with pytest.raises(InputError, match=r"metallb\.form is configmap but the cluster serves MetalLB's CRDs") as err:
        resolve_form(c, crd_cluster)  # type: ignore[arg-type]
    assert err.value.exit_code == 2
    assert resolve_form(c, SimpleNamespace(served_form=lambda: "configmap")) == "configmap"  # type: ignore[arg-type]


# --- 7. pools read from Kubernetes keep every field -----------------------------------------------------------------


def test_pools_read_from_kubernetes_are_rendered_whole() -> None:
    spec = {
        "addresses": ["198.51.100.0/28", "198.51.100.20-198.51.100.25", "2001:db8::/124"],
        "autoAssign": False,
        "avoidBuggyIPs": True,
        "serviceAllocation": {"priority": 10, "namespaces": ["venue"]},
    }
    pool_obj = {"metadata": {"name": "restricted", "namespace": "metallb-system"}, "spec": spec}
    facts = kube.KubeFacts(context="prd", server="x")
    kube._from_crds(facts, [], [pool_obj], [{"spec": {}}])
    (pool,) = facts.pools
    assert pool.auto_assign is False and pool.avoid_buggy_ips is True and pool.spec == spec
    assert [str(n) for n in pool.addresses][:1] == ["198.51.100.0/28"]  # IPv4 networks the router routes
    c = with_metallb(BFD(enabled=False))
    c = c.model_copy(update={"metallb": c.metallb.model_copy(update={"pools": [pool]})})  # type: ignore[attr-defined]
    (rendered,) = [o for o in render_metallb(c, "crds").objects if o["kind"] == "IPAddressPool"]  # type: ignore[arg-type]
    assert rendered["spec"] == spec


# --- 9. smaller ------------------------------------------------------------------------------------------------------


def test_overlapping_site_pools_are_an_input_error_naming_both(tmp_path: Path) -> None:
    pools = two_pools()
    pools["pools"].append({"name": "again", "addresses": ["198.51.100.8/29"]})
    with pytest.raises(InputError) as err:
        model(tmp_path, {"metallb": pools})
    text = str(err.value)
    assert err.value.exit_code == 2 and "metallb.pools[2].addresses" in text
    assert "pool again (198.51.100.8/29) overlaps pool global (198.51.100.0/28, metallb.pools[0])" in text


@pytest.mark.parametrize(
    ("selector", "where", "why"),
    [
        ({"match_labels": {"bad key!": "x"}}, "match_labels.bad key!", "name part must consist of"),
        ({"match_labels": {"edge": "-x"}}, "match_labels.edge", "a value must be empty or consist of"),
        ({"match_labels": {"Example.com/edge": "x"}}, "match_labels.Example.com/edge", "prefix part must be"),
        (
            {"match_expressions": [{"key": "edge", "operator": "In"}]},
            "match_expressions[0]",
            "values must be non-empty",
        ),
        (
            {"match_expressions": [{"key": "edge", "operator": "Exists", "values": ["x"]}]},
            "match_expressions[0]",
            "values must be empty",
        ),
    ],
)
def test_node_selectors_are_validated_as_kubernetes_does(
    tmp_path: Path, selector: dict[str, Any], where: str, why: str
) -> None:
    with pytest.raises(InputError) as err:
        model(tmp_path, {"metallb": two_pools(node_selectors=[selector])})
    assert f"metallb.node_selectors[0].{where}" in str(err.value) and why in str(err.value)


def test_good_node_selectors_and_match_expressions_only_pass(tmp_path: Path) -> None:
    sel = {"match_expressions": [{"key": "example.com/edge", "operator": "NotIn", "values": ["no"]}]}
    c = model(tmp_path, {"metallb": two_pools(node_selectors=[sel])})
    (peer,) = [o for o in render_metallb(c, "crds").objects if o["kind"] == "BGPPeer"]
    assert peer["spec"]["nodeSelectors"] == [
        {"matchExpressions": [{"key": "example.com/edge", "operator": "NotIn", "values": ["no"]}]}
    ]


def test_ibgp_with_ebgp_multihop_is_refused() -> None:
    c = with_metallb(BFD())  # proxy-ARP with BFD: ebgpMultiHop
    c = c.model_copy(update={"metallb": c.metallb.model_copy(update={"my_asn": 65020})})  # type: ignore[attr-defined]
    with pytest.raises(InputError, match="iBGP .* with ebgpMultiHop .* MetalLB refuses it"):
        render_metallb(c, "crds")  # type: ignore[arg-type]


def test_metallbs_namespace_is_a_site_setting(tmp_path: Path) -> None:
    c = model(tmp_path, {"metallb": two_pools(namespace="lb")})
    assert c.metallb is not None and c.metallb.namespace == "lb"
    assert {o["metadata"]["namespace"] for o in render_metallb(c, "crds").objects} == {"lb"}
    with pytest.raises(InputError, match=r"metallb\.namespace"):
        model(tmp_path, {"metallb": two_pools(namespace="Bad_NS")})


def test_discovery_finds_metallbs_namespace_from_its_speakers(tmp_path: Path) -> None:
    assert kube.KubeFacts(context="prd", server="x").metallb_namespace == "metallb-system"  # the default
    # MetalLB installed by Helm into namespace lb (the stand-in world with every metallb-system object moved there)
    world = json.loads(json.dumps(prd_world("crds")).replace('"metallb-system"', '"lb"'))
    server, path = serve(tmp_path, world)
    try:
        facts = kube.discover(path, "prd")
        api = ClusterAPI(path, "prd", facts.metallb_namespace)
        mode = api.speaker_mode()
        api.close()
    finally:
        server.stop()
    assert facts.metallb_namespace == "lb" and facts.metallb_source == "crds"
    assert [str(p.peer_address) for p in facts.peers] == ["203.0.113.4"] and facts.pools
    assert mode == "frr"  # the stand-in's speaker pods as metallb-frr.yaml renders them


def test_dynamic_asn_and_interface_peers_do_not_crash_discovery() -> None:
    facts = kube.KubeFacts(context="prd", server="x")
    peers = [
        {"metadata": {"name": "dyn"}, "spec": {"myASN": 65021, "dynamicASN": "external", "peerAddress": "203.0.113.4"}},
        {"metadata": {"name": "unnumbered"}, "spec": {"myASN": 65021, "interface": "eth1"}},
    ]
    kube._from_crds(facts, peers, [], [])
    assert [p.name for p in facts.peers] == ["dyn"] and facts.peers[0].dynamic_asn == "external"
    assert any("unnumbered peers on interface eth1" in w for w in facts.warnings)
    assert any("dynamicASN external" in w for w in facts.warnings)


def test_match_expressions_only_pool_selectors_select_by_expression() -> None:
    facts = kube.KubeFacts(context="prd", server="x")
    pools = [
        {"metadata": {"name": "a", "labels": {"tier": "edge"}}, "spec": {"addresses": ["198.51.100.0/28"]}},
        {"metadata": {"name": "b", "labels": {"tier": "core"}}, "spec": {"addresses": ["198.51.100.16/28"]}},
    ]
    adv = {
        "spec": {
            "ipAddressPoolSelectors": [{"matchExpressions": [{"key": "tier", "operator": "In", "values": ["edge"]}]}]
        }
    }
    kube._from_crds(facts, [], pools, [adv])
    assert [p.name for p in facts.pools] == ["a"]


def test_the_venue_advertisement_names_the_adopted_peer(tmp_path: Path) -> None:
    c = model(tmp_path, {"metallb": two_pools()})
    theirs = converted_peer(tmp_path, {"metallb": two_pools()})
    r = render_metallb(c, "crds")
    plan_cluster(r, FakeAPI([theirs]))  # type: ignore[arg-type]
    venue = next(o for o in r.objects if o["kind"] == "BGPAdvertisement" and o["metadata"]["name"] == "venue")
    assert venue["spec"]["peers"] == ["peer1"]
    assert VENUE_POOL["scope"] == "venue"


def test_pool_model_keeps_the_spec_it_was_read_with() -> None:
    pool = Pool(name="p", addresses=["198.51.100.0/28"], spec={"addresses": ["198.51.100.0/28"]})  # type: ignore[list-item]
    assert pool.spec == {"addresses": ["198.51.100.0/28"]}


def test_renaming_edgekits_peer_deletes_the_old_one_first(tmp_path: Path) -> None:
    api = RefusingAPI(held(render_metallb(model(tmp_path, {"metallb": two_pools()}), "crds").objects))
    r = render_metallb(model(tmp_path, {"metallb": two_pools(peer_name="edge")}), "crds")
    plan = plan_cluster(r, api)  # type: ignore[arg-type]
    assert plan.lines.index("- BGPPeer metallb-system/edgekit-router") < plan.lines.index(
        "+ BGPPeer metallb-system/edge"
    )
    metallb_apply(TASK, plan, api)  # type: ignore[arg-type]
    assert [k for k in api.objects if k[0] == "BGPPeer"] == [("BGPPeer", "metallb-system", "edge")]


def test_a_failed_apply_of_an_adopted_peer_puts_its_removed_fields_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    prd = password_prd(monkeypatch)
    theirs = converted_peer(tmp_path, prd)
    api = RefusingAPI([theirs], fail_on="BGPPeer metallb-system/peer1")
    plan = plan_cluster(render_metallb(model(tmp_path, prd), "crds"), api)  # type: ignore[arg-type]
    with pytest.raises(PartialApply) as err:
        metallb_apply(TASK, plan, api)  # type: ignore[arg-type]
    spec = api.objects[("BGPPeer", "metallb-system", "peer1")]["spec"]
    assert spec["password"] == "s3cret" and spec["keepaliveTime"] == "2m"  # as it was
    assert "removed spec.password, spec.keepaliveTime of BGPPeer metallb-system/peer1" in str(err.value)
    assert "s3cret" not in str(err.value)
    assert [k for k in api.objects if k[0] != "BGPPeer"] == []  # what was created is gone again


def test_plan_prints_its_notes(capsys: pytest.CaptureFixture[str]) -> None:
    from tasks.core.report import HostReport
    from tasks.metallb.commands import print_plans

    report = HostReport(host="metallb", cluster="dev", role="metallb", dialect="crds")
    report.commands = ["+ BGPPeer metallb-system/edgekit-router"]
    report.notes = ["MetalLB runs native BGP mode (no FRR): no BFDProfile and no bfdProfile on the BGPPeer"]
    print_plans([SimpleNamespace(cluster=SimpleNamespace(name="dev"), report=report)])  # type: ignore[list-item]
    out = capsys.readouterr().out
    assert "note: MetalLB runs native BGP mode (no FRR)" in out and "+ BGPPeer metallb-system/edgekit-router" in out
