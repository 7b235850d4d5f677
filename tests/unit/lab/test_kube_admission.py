"""Admission in the Kubernetes stand-in (lab.kubeapi.admission, lab.kubeapi.crd_schema): MetalLB's validating
webhooks and the CRD schema, read by the unmodified kubernetes client (CustomObjectsApi, DynamicClient) against the
stand-in on loopback. Expected texts: metallb/metallb at v0.13.12 / v0.14.9 (internal/config/config.go,
validation.go, the webhooks), k8s.io/apiserver ToStatusErr, k8s.io/apimachinery NewInvalid (see the modules)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from kubernetes import client, dynamic
from kubernetes.client.exceptions import ApiException

from lab.kubeapi import admission
from lab.kubeapi.server import KubeAPIServer
from lab.kubeapi.world import build_world

NS = "metallb-system"
G = "metallb.io"
POOL_HOOK = "ipaddresspoolvalidationwebhook.metallb.io"
PEER_HOOK = "bgppeersvalidationwebhook.metallb.io"
ADV_HOOK = "bgpadvertisementvalidationwebhook.metallb.io"
BFD_HOOK = "bfdprofilevalidationwebhook.metallb.io"


def metallb_object(
    kind: str, name: str, spec: dict[str, Any], version: str = "v1beta1", ns: str = NS
) -> dict[str, Any]:
    return {
        "apiVersion": f"metallb.io/{version}",
        "kind": kind,
        "metadata": {"name": name, "namespace": ns},
        "spec": spec,
    }


def pool(name: str, *addresses: str, ns: str = NS) -> dict[str, Any]:
    return metallb_object("IPAddressPool", name, {"addresses": list(addresses)}, ns=ns)


def peer(name: str = "router", **spec: Any) -> dict[str, Any]:
    base = {"myASN": 65021, "peerASN": 65020, "peerAddress": "203.0.113.4"}
    return metallb_object("BGPPeer", name, {**base, **spec}, version="v1beta2")


def bfd(name: str = "bfd", **spec: Any) -> dict[str, Any]:
    return metallb_object("BFDProfile", name, spec)


def adv(name: str = "bgp", **spec: Any) -> dict[str, Any]:
    return metallb_object("BGPAdvertisement", name, spec)


PLURAL = {
    "IPAddressPool": "ipaddresspools",
    "BGPPeer": "bgppeers",
    "BFDProfile": "bfdprofiles",
    "BGPAdvertisement": "bgpadvertisements",
}


class Cluster:
    def __init__(
        self, settings: dict[str, str] | None = None, secrets: dict[str, dict[str, str]] | None = None
    ) -> None:
        world = build_world([("n1", "10.0.0.1", True)], ("none", "203.0.113.4", 65020, 65021, []), secrets=secrets)
        if settings:
            world["metallb"] = settings
        self.server = KubeAPIServer(world)
        cfg = client.Configuration()
        cfg.host = self.server.start()
        self.api_client = client.ApiClient(cfg)
        self.api = client.CustomObjectsApi(self.api_client)

    def create(self, obj: dict[str, Any], **kw: Any) -> Any:
        group, version = obj["apiVersion"].split("/")
        ns = obj["metadata"]["namespace"]
        return self.api.create_namespaced_custom_object(group, version, ns, PLURAL[obj["kind"]], obj, **kw)

    def refusal(self, call: Callable[[], Any]) -> tuple[int, dict[str, Any]]:
        with pytest.raises(ApiException) as info:
            call()
        return info.value.status, json.loads(info.value.body)

    def names(self, plural: str, version: str = "v1beta1") -> list[str]:
        items = self.api.list_namespaced_custom_object(G, version, NS, plural)["items"]
        return sorted(o["metadata"]["name"] for o in items)

    def stop(self) -> None:
        self.server.stop()


@pytest.fixture
def cluster() -> Iterator[Callable[..., Cluster]]:
    made: list[Cluster] = []

    def make(settings: dict[str, str] | None = None, **kw: Any) -> Cluster:
        c = Cluster(settings, **kw)
        made.append(c)
        return c

    yield make
    for c in made:
        c.stop()


def denial(hook: str, reason: str) -> dict[str, Any]:
    """The Status kube-apiserver sends for a webhook's Denied(reason)."""
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": f'admission webhook "{hook}" denied the request: {reason}',
        "reason": "Forbidden",
        "code": 403,
    }


# -- the webhooks' rules ---------------------------------------------------------------------------------------


def test_overlapping_pool_is_refused_whole_and_not_stored(cluster: Callable[..., Cluster]) -> None:
    c = cluster()
    c.create(pool("a", "198.51.100.0/28"))
    code, body = c.refusal(lambda: c.create(pool("b", "198.51.100.8/29")))
    assert code == 403
    assert body == denial(
        POOL_HOOK, 'CIDR "198.51.100.8/29" in pool "b" overlaps with already defined CIDR "198.51.100.0/28"'
    )
    assert c.names("ipaddresspools") == ["a"]


def test_a_pool_may_move_its_own_cidr_and_a_range_is_summarised(cluster: Callable[..., Cluster]) -> None:
    c = cluster()
    c.create(pool("a", "198.51.100.0/28"))
    moved = pool("a", "198.51.100.0/27")  # the webhook puts the new object in place of the old: no overlap
    c.api.replace_namespaced_custom_object(G, "v1beta1", NS, "ipaddresspools", "a", moved)
    code, body = c.refusal(lambda: c.create(pool("r", "198.51.100.30-198.51.100.40")))
    assert code == 403
    assert body["message"].endswith(
        'CIDR "198.51.100.30/31" in pool "r" overlaps with already defined CIDR "198.51.100.0/27"'
    )


def test_pool_outside_metallb_namespace_and_bad_cidr(cluster: Callable[..., Cluster]) -> None:
    c = cluster()
    code, body = c.refusal(lambda: c.create(pool("a", "198.51.100.0/28", ns="default")))
    assert (code, body["message"]) == (
        403,
        f'admission webhook "{POOL_HOOK}" denied the request: resource must be created in metallb-system namespace',
    )
    code, body = c.refusal(lambda: c.create(pool("a", "198.51.100.0")))
    assert body["message"].endswith(
        'parsing address pool a: invalid CIDR "198.51.100.0" in pool "a": invalid CIDR "198.51.100.0"'
    )
    code, body = c.refusal(lambda: c.create(pool("a", "198.51.100.9-198.51.100.1")))
    assert body["message"].endswith(
        'invalid IP range "198.51.100.9-198.51.100.1": start IP "198.51.100.9" is after the end IP "198.51.100.1"'
    )


@pytest.mark.parametrize(
    ("spec", "reason"),
    [
        (
            {"password": "x", "passwordSecret": {"name": "s"}},
            'can not have both password and secret ref set in peer config "metallb-system"/"router"',
        ),
        ({"holdTime": "30s", "keepaliveTime": "1m"}, 'invalid keepaliveTime "1m0s"'),
        ({"holdTime": "2s"}, 'invalid hold time "2s": must be 0 or >=3s'),
        ({"peerASN": 65021, "ebgpMultiHop": True}, "invalid ebgp-multihop parameter set for an ibgp peer"),
        ({"peerAddress": "router.example"}, 'invalid BGPPeer address "router.example"'),
        ({"routerID": "1.2.3"}, 'invalid router ID "1.2.3"'),
        ({"myASN": 0}, "missing local ASN"),
    ],
)
def test_peer_rules_v0_13_12(cluster: Callable[..., Cluster], spec: dict[str, Any], reason: str) -> None:
    c = cluster()
    code, body = c.refusal(lambda: c.create(peer(**spec)))
    assert code == 403
    assert body == denial(PEER_HOOK, f"parsing peer router: {reason}")
    assert c.names("bgppeers", "v1beta2") == []


def test_peer_rules_v0_14_9_join_errors_and_let_secret_and_bfd_through(cluster: Callable[..., Cluster]) -> None:
    frr = cluster({"version": "v0.14.9", "bgpType": "frr"})
    code, body = frr.refusal(lambda: frr.create(peer(holdTime="30s", keepaliveTime="1m")))
    assert body == denial(
        PEER_HOOK,
        'invalid BGPPeer timers: invalid keepaliveTime "1m0s", must be lower than holdTime "30s"\nparsing peer router',
    )
    c = cluster({"version": "v0.14.9", "bgpType": "native"})
    # resetTransientErrorsFields blanks bfdProfile and passwordSecret: the webhook admits both; the controller
    # refuses the whole config.
    c.create(peer(password="x", passwordSecret={"name": "s"}, bfdProfile="bfd"))
    world = c.server.world
    error = admission.controller_config_error(world.items, admission.Settings.of(world.metallb))
    assert error == "peer 203.0.113.4 has bfd-profile set on native bgp mode"


def test_native_mode_refuses_bfd_on_a_peer_and_keepalive(cluster: Callable[..., Cluster]) -> None:
    c = cluster({"bgpType": "native"})
    code, body = c.refusal(lambda: c.create(peer(bfdProfile="bfd")))
    assert (code, body) == (403, denial(PEER_HOOK, "peer 203.0.113.4 has bfd-profile set on native bgp mode"))
    code, body = c.refusal(lambda: c.create(peer(keepaliveTime="30s")))
    assert body["message"].endswith("peer 203.0.113.4 has keepalive-time set on native bgp mode")
    # The BFDProfile webhook checks only the namespace: the profile is admitted, the controller refuses it all.
    c.create(bfd())
    world = c.server.world
    assert (
        admission.controller_config_error(world.items, admission.Settings.of(world.metallb))
        == "bfd profiles section set"
    )


def test_frr_mode_peer_with_missing_bfd_profile_is_admitted_then_delete_in_use_refused(
    cluster: Callable[..., Cluster],
) -> None:
    c = cluster()
    c.create(peer(bfdProfile="bfd"))  # TransientError: the webhook lets it through (v0.13.12 validator.go)
    world = c.server.world
    assert admission.controller_config_error(world.items, admission.Settings()) == (
        "peer router referencing non existing bfd profile bfd"
    )
    c.create(bfd())
    assert admission.controller_config_error(world.items, admission.Settings()) is None
    code, body = c.refusal(lambda: c.api.delete_namespaced_custom_object(G, "v1beta1", NS, "bfdprofiles", "bfd"))
    assert (code, body) == (403, denial(BFD_HOOK, "failed to delete BFDProfile bfd, used by BGPPeer router"))
    assert c.names("bfdprofiles") == ["bfd"]


def test_frr_mode_refuses_a_second_peer_with_another_asn_or_router_id(cluster: Callable[..., Cluster]) -> None:
    c = cluster()
    c.create(peer())
    code, body = c.refusal(lambda: c.create(peer("other", myASN=65030, peerAddress="203.0.113.5")))
    assert body["message"].endswith(
        "peer 203.0.113.4 has myAsn different from 203.0.113.5, in FRR mode all myAsn must be equal for the same VRF"
    )
    code, body = c.refusal(lambda: c.create(peer("dup")))
    assert body["message"].endswith("peer 203.0.113.4 already exists, FRR mode doesn't support duplicate BGPPeers")


def test_controller_refuses_an_opaque_password_secret(cluster: Callable[..., Cluster]) -> None:
    c = cluster(secrets={"metallb-system/bgp-pass": {"password": "s3cret"}})  # world.secret: type Opaque
    c.create(peer(passwordSecret={"name": "bgp-pass", "namespace": NS}))  # the webhook sees no Secrets
    world = c.server.world
    assert admission.controller_config_error(world.items, admission.Settings()) == (
        'parsing peer router: secret type mismatch on "metallb-system"/"bgp-pass", type "kubernetes.io/basic-auth" '
        "is expected "
    )


def test_advertisement_rules(cluster: Callable[..., Cluster]) -> None:
    c = cluster()
    c.create(pool("a", "198.51.100.0/28"))
    code, body = c.refusal(lambda: c.create(adv(aggregationLength=33)))
    assert (code, body) == (403, denial(ADV_HOOK, "invalid aggregation length '!' for IPv4"))
    code, body = c.refusal(lambda: c.create(adv(aggregationLength=24, ipAddressPools=["a"])))
    assert body["message"].endswith(
        "invalid aggregation length 24: prefix 28 in this pool is more specific than the aggregation length for "
        "addresses 198.51.100.0/28"
    )
    code, body = c.refusal(lambda: c.create(adv(ipAddressPools=["a", "a"])))
    assert body["message"].endswith('duplicate definition of ipAddressPools "a"')
    code, body = c.refusal(lambda: c.create(adv(communities=["65000:70000"])))
    assert body["message"].endswith(
        'invalid community "65000:70000" in BGP advertisement: invalid community value: invalid section "70000" of '
        'community "65000:70000", err: "strconv.ParseUint: parsing \\"70000\\": value out of range"'
    )
    c.create(adv(ipAddressPools=["a"], peers=["router"]))
    assert c.names("bgpadvertisements") == ["bgp"]


def test_a_duration_the_webhook_cannot_decode_is_a_400(cluster: Callable[..., Cluster]) -> None:
    c = cluster()
    code, body = c.refusal(lambda: c.create(peer(holdTime="90 seconds")))
    assert code == 400
    assert (
        body["message"]
        == f'admission webhook "{PEER_HOOK}" denied the request: time: unknown unit " seconds" in duration "90 seconds"'
    )
    assert "reason" not in body  # Errored(400, err) sets no reason


def test_webhook_down_is_500_internal_error(cluster: Callable[..., Cluster]) -> None:
    c = cluster({"webhook": "down"})
    code, body = c.refusal(lambda: c.create(pool("a", "198.51.100.0/28")))
    assert code == 500
    assert body["reason"] == "InternalError"
    cause = (
        f'failed calling webhook "{POOL_HOOK}": failed to call webhook: Post '
        '"https://webhook-service.metallb-system.svc:443/validate-metallb-io-v1beta1-ipaddresspool?timeout=10s": '
        'no endpoints available for service "webhook-service"'
    )
    assert body["message"] == f"Internal error occurred: {cause}"
    assert body["details"] == {"causes": [{"message": cause}]}
    assert c.names("ipaddresspools") == []


def test_server_side_apply_is_admitted_like_any_write(cluster: Callable[..., Cluster]) -> None:
    c = cluster()
    dc = dynamic.DynamicClient(c.api_client)
    pools = dc.resources.get(api_version="metallb.io/v1beta1", kind="IPAddressPool")
    dc.server_side_apply(pools, body=pool("a", "198.51.100.0/28"), field_manager="edgekit")
    with pytest.raises(ApiException) as info:
        dc.server_side_apply(pools, body=pool("b", "198.51.100.0/28"), field_manager="edgekit")
    assert info.value.status == 403
    assert json.loads(info.value.body)["message"].endswith(
        'in pool "b" overlaps with already defined CIDR "198.51.100.0/28"'
    )


def test_helpers_format_like_go() -> None:
    assert admission.go_duration(90 * 10**9) == "1m30s"
    assert admission.go_duration(1500 * 10**6) == "1.5s"
    assert admission.go_duration(3600 * 10**9) == "1h0m0s"
    assert admission.go_duration(500 * 10**6) == "500ms"
    assert admission.parse_duration("1m30s") == 90 * 10**9
    with pytest.raises(ValueError, match='time: invalid duration "abc"'):
        admission.parse_duration("abc")
    assert admission.q_int(33) == "'!'"
    assert admission.q_int(200) == "'È'"


# -- CRD schema (422) -------------------------------------------------------------------------------------------


def test_schema_required_field(cluster: Callable[..., Cluster]) -> None:
    c = cluster()
    body_ = peer()
    del body_["spec"]["peerASN"]
    code, body = c.refusal(lambda: c.create(body_))
    assert code == 422
    assert body == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": 'BGPPeer.metallb.io "router" is invalid: spec.peerASN: Required value',
        "reason": "Invalid",
        "details": {
            "name": "router",
            "group": "metallb.io",
            "kind": "BGPPeer",
            "causes": [{"reason": "FieldValueRequired", "message": "Required value", "field": "spec.peerASN"}],
        },
        "code": 422,
    }


def test_schema_type_range_and_several_errors(cluster: Callable[..., Cluster]) -> None:
    c = cluster()
    code, body = c.refusal(lambda: c.create(peer(myASN="65021", peerPort=20000)))
    assert code == 422
    assert body["details"]["causes"] == [
        {
            "reason": "FieldValueTypeInvalid",
            "message": 'Invalid value: "string": spec.myASN in body must be of type integer: "string"',
            "field": "spec.myASN",
        },
        {
            "reason": "FieldValueInvalid",
            "message": "Invalid value: 20000: spec.peerPort in body should be less than or equal to 16384",
            "field": "spec.peerPort",
        },
    ]
    assert body["message"] == (
        'BGPPeer.metallb.io "router" is invalid: [spec.myASN: Invalid value: "string": spec.myASN in body must be of '
        'type integer: "string", spec.peerPort: Invalid value: 20000: spec.peerPort in body should be less than or '
        "equal to 16384]"
    )
    code, body = c.refusal(lambda: c.create(bfd(detectMultiplier=1)))
    assert body["details"]["causes"] == [
        {
            "reason": "FieldValueInvalid",
            "message": "Invalid value: 1: spec.detectMultiplier in body should be greater than or equal to 2",
            "field": "spec.detectMultiplier",
        }
    ]
    code, body = c.refusal(lambda: c.create(pool("a", 5)))  # type: ignore[arg-type]
    assert body["details"]["causes"][0]["field"] == "spec.addresses[0]"
    code, body = c.refusal(lambda: c.create(peer(peerASN=4294967296)))
    assert body["details"]["causes"][0]["message"] == (
        "Invalid value: 4294967296: spec.peerASN in body should be less than or equal to 4.294967295e+09"
    )


def test_schema_enum_is_per_version(cluster: Callable[..., Cluster]) -> None:
    old = cluster()
    created = old.create(peer(dynamicASN="sideways", extra={"x": 1}))  # v0.13.12's CRD has neither: pruned
    assert "dynamicASN" not in created["spec"] and "extra" not in created["spec"]
    new = cluster({"version": "v0.14.9"})
    code, body = new.refusal(lambda: new.create(peer(dynamicASN="sideways")))
    assert code == 422
    assert body["details"]["causes"] == [
        {
            "reason": "FieldValueNotSupported",
            "message": 'Unsupported value: "sideways": supported values: "internal", "external"',
            "field": "spec.dynamicASN",
        }
    ]


def test_schema_comes_before_the_webhook(cluster: Callable[..., Cluster]) -> None:
    c = cluster({"webhook": "down"})
    code, _ = c.refusal(lambda: c.create(pool("c", 7)))  # type: ignore[arg-type]
    assert code == 422


# -- dryRun -------------------------------------------------------------------------------------------------------


def test_dry_run_create_update_delete_persist_nothing(cluster: Callable[..., Cluster]) -> None:
    c = cluster()
    persisted: list[dict[str, Any]] = []
    c.server.persist = persisted.append
    rv_before = c.server.world.resource_version
    made = c.create(pool("a", "198.51.100.0/28"), dry_run="All")
    assert made["metadata"]["name"] == "a" and "resourceVersion" not in made["metadata"]
    assert c.names("ipaddresspools") == [] and persisted == []
    code, body = c.refusal(lambda: c.create(pool("b", "300.0.0.0/8"), dry_run="All"))
    assert code == 403  # admission runs on dry-run writes (sideEffects None)
    c.create(pool("a", "198.51.100.0/28"))
    stored = c.api.get_namespaced_custom_object(G, "v1beta1", NS, "ipaddresspools", "a")
    persisted.clear()
    replaced = c.api.patch_namespaced_custom_object(
        G, "v1beta1", NS, "ipaddresspools", "a", {"spec": {"addresses": ["198.51.100.0/27"]}}, dry_run="All"
    )
    assert replaced["spec"]["addresses"] == ["198.51.100.0/27"]
    assert replaced["metadata"]["resourceVersion"] == stored["metadata"]["resourceVersion"]
    c.api.delete_namespaced_custom_object(G, "v1beta1", NS, "ipaddresspools", "a", dry_run="All")
    after = c.api.get_namespaced_custom_object(G, "v1beta1", NS, "ipaddresspools", "a")
    assert after == stored and persisted == []
    assert int(c.server.world.resource_version) == int(rv_before) + 1  # only the real create moved it


def test_dry_run_server_side_apply_persists_nothing(cluster: Callable[..., Cluster]) -> None:
    c = cluster()
    dc = dynamic.DynamicClient(c.api_client)
    pools = dc.resources.get(api_version="metallb.io/v1beta1", kind="IPAddressPool")
    out = dc.server_side_apply(pools, body=pool("a", "198.51.100.0/28"), field_manager="edgekit", dry_run="All")
    assert out.spec.addresses == ["198.51.100.0/28"]
    assert c.names("ipaddresspools") == []


def test_dry_run_other_value_is_invalid(cluster: Callable[..., Cluster]) -> None:
    c = cluster()
    code, body = c.refusal(lambda: c.create(pool("a", "198.51.100.0/28"), dry_run="Some"))
    assert code == 422
    assert body["message"] == (
        'CreateOptions.meta.k8s.io "" is invalid: dryRun: Unsupported value: []string{"Some"}: supported values: "All"'
    )
    assert body["details"]["causes"][0]["field"] == "dryRun"
    assert c.names("ipaddresspools") == []


# -- the speaker mode, seen from the cluster; the lab option ------------------------------------------------------


def speakers(world: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        o
        for o in world["items"]
        if o["kind"] == "Pod" and (o["metadata"].get("labels") or {}).get("component") == "speaker"
    ]


def test_speaker_pods_show_the_mode_as_the_manifests_do() -> None:
    nodes = [("n1", "10.0.0.1", True)]
    frr = build_world(nodes, ("none", "", 0, 0, []))
    (pod,) = speakers(frr)
    assert [c["name"] for c in pod["spec"]["containers"]] == ["frr", "reloader", "frr-metrics", "speaker"]
    assert [c["name"] for c in pod["spec"]["initContainers"]] == ["cp-frr-files", "cp-reloader", "cp-metrics"]
    env = {e["name"]: e["value"] for e in pod["spec"]["containers"][-1]["env"]}
    assert env["METALLB_BGP_TYPE"] == "frr"
    native = build_world(nodes, ("none", "", 0, 0, []), bgp_type="native")
    (pod,) = speakers(native)
    assert [c["name"] for c in pod["spec"]["containers"]] == ["speaker"] and "env" not in pod["spec"]["containers"][0]
    assert pod["spec"]["containers"][0]["image"] == "quay.io/metallb/speaker:v0.13.12"
    k8s = build_world(nodes, ("none", "", 0, 0, []), bgp_type="frr-k8s", metallb_version="v0.14.9")
    (pod,) = speakers(k8s)
    assert pod["spec"]["containers"][0]["env"] == [{"name": "METALLB_BGP_TYPE", "value": "frr-k8s"}]
    daemon = [o for o in k8s["items"] if o["kind"] == "Pod" and o["metadata"]["labels"].get("app") == "frr-k8s"]
    assert [o["metadata"]["ownerReferences"][0]["name"] for o in daemon] == ["frr-k8s-daemon"]
    assert "frr" in [c["name"] for c in daemon[0]["spec"]["containers"]]
    assert k8s["metallb"] == {"version": "v0.14.9", "bgpType": "frr-k8s", "namespace": "metallb-system"}


def test_a_speaker_fault_keeps_the_mode() -> None:
    from lab.kubeapi.world import set_speaker_ready

    world = build_world([("n1", "10.0.0.1", True)], ("none", "", 0, 0, []), bgp_type="native")
    flipped = set_speaker_ready(world, "n1", False)
    (pod,) = speakers(flipped)
    assert [c["name"] for c in pod["spec"]["containers"]] == ["speaker"]
    assert pod["status"]["conditions"][1] == {
        "type": "Ready",
        "status": "False",
        "lastTransitionTime": "2024-05-01T09:00:00Z",
    }


def test_the_mode_without_a_metallb_key_is_read_from_the_speakers(cluster: Callable[..., Cluster]) -> None:
    from lab.kubeapi.server import settings_of

    c = cluster()
    c.server.world.metallb = {}
    assert settings_of(c.server.world).bgp_type == "frr"
    world = build_world([("n1", "10.0.0.1", True)], ("none", "", 0, 0, []), bgp_type="native")
    del world["metallb"]
    c.server.set_world(world)
    assert settings_of(c.server.world).bgp_type == "native"


def test_lab_options_metallb_speaker_and_version(tmp_path: Any) -> None:
    from lab.__main__ import build_parser, resolve_options
    from lab.topology import artifacts
    from lab.topology.plan import Options, Plan

    def options(*argv: str) -> Options:
        args = build_parser().parse_args(["up", "--prefix", "ekthma", "--state-dir", str(tmp_path), *argv])
        return resolve_options(args)

    opts = options("--clusters", "prd,dev", "--metallb-speaker", "prd=native", "--metallb-version", "dev=v0.14.9")
    plan = Plan(Options.from_json(opts.to_json()))
    assert (plan.clusters["prd"].metallb_speaker, plan.clusters["prd"].metallb_version) == ("native", "v0.13.12")
    assert (plan.clusters["dev"].metallb_speaker, plan.clusters["dev"].metallb_version) == ("frr", "v0.14.9")
    args = artifacts.world_args(plan, plan.clusters["prd"])
    world = build_world(args["nodes"], args["metallb"], args["services"], **args["install"])
    assert world["metallb"]["bgpType"] == "native"
    with pytest.raises(ValueError, match="--metallb-speaker frr-k8s for prd: MetalLB v0.14 and later"):
        Plan(Options(prefix="ekthma", state_dir=tmp_path, metallb_speaker={"prd": "frr-k8s"}))
    with pytest.raises(ValueError, match="--metallb-version for prd: v0.13.12 or v0.14.9"):
        Plan(Options(prefix="ekthma", state_dir=tmp_path, metallb_version={"prd": "v0.15.2"}))
    old = Options.from_json({k: v for k, v in opts.to_json().items() if not k.startswith("metallb_")})
    assert Plan(old).clusters["prd"].metallb_speaker == "frr"  # a lab.json from before the option


def test_the_lab_speaker_refuses_what_the_controller_refuses() -> None:
    from lab.topology import metallb

    world = build_world([("n1", "10.0.0.1", True)], ("none", "", 0, 0, []), bgp_type="native")
    world["items"].append(bfd())
    with pytest.raises(metallb.ConfigError, match="^bfd profiles section set$"):
        metallb.parse(world)


def test_apply_of_a_field_the_crd_lacks_is_pruned_and_not_owned(cluster: Callable[..., Cluster]) -> None:
    c = cluster()  # v0.13.12: BGPPeer v1beta2 has no connectTime (v0.14.9 added it)
    dc = dynamic.DynamicClient(c.api_client)
    peers = dc.resources.get(api_version="metallb.io/v1beta2", kind="BGPPeer")
    out = dc.server_side_apply(peers, body=peer(connectTime="5s"), field_manager="edgekit").to_dict()
    assert "connectTime" not in out["spec"]
    assert "f:connectTime" not in out["metadata"]["managedFields"][0]["fieldsV1"]["f:spec"]
    new = cluster({"version": "v0.14.9"})
    dc = dynamic.DynamicClient(new.api_client)
    peers = dc.resources.get(api_version="metallb.io/v1beta2", kind="BGPPeer")
    assert dc.server_side_apply(peers, body=peer(connectTime="5s"), field_manager="edgekit").spec.connectTime == "5s"


# -- core Secret validation (what a product turning an Opaque password Secret into basic-auth meets) -------------


def test_secret_type_is_immutable_and_basic_auth_needs_a_key(cluster: Callable[..., Cluster]) -> None:
    c = cluster()
    core = client.CoreV1Api(c.api_client)
    made = core.create_namespaced_secret(NS, {"metadata": {"name": "bgp-pass"}, "data": {"password": "eA=="}})
    assert made.type == "Opaque"  # SetDefaults_Secret
    with pytest.raises(ApiException) as info:
        core.patch_namespaced_secret("bgp-pass", NS, {"type": "kubernetes.io/basic-auth"})
    assert info.value.status == 422
    body = json.loads(info.value.body)
    assert (
        body["message"]
        == 'Secret "bgp-pass" is invalid: type: Invalid value: "kubernetes.io/basic-auth": field is immutable'
    )
    assert body["details"] == {
        "name": "bgp-pass",
        "kind": "Secret",
        "causes": [
            {
                "reason": "FieldValueInvalid",
                "message": 'Invalid value: "kubernetes.io/basic-auth": field is immutable',
                "field": "type",
            }
        ],
    }
    with pytest.raises(ApiException) as info:
        core.create_namespaced_secret(NS, {"metadata": {"name": "empty"}, "type": "kubernetes.io/basic-auth"})
    assert json.loads(info.value.body)["message"] == (
        'Secret "empty" is invalid: [data[username]: Required value, data[password]: Required value]'
    )
    core.delete_namespaced_secret("bgp-pass", NS)  # the way to change the type: delete, create
    again = core.create_namespaced_secret(
        NS, {"metadata": {"name": "bgp-pass"}, "type": "kubernetes.io/basic-auth", "data": {"password": "eA=="}}
    )
    assert again.type == "kubernetes.io/basic-auth"


def test_community_l2_and_native_ipv6_rules(cluster: Callable[..., Cluster]) -> None:
    c = cluster()
    community = {
        "apiVersion": "metallb.io/v1beta1",
        "kind": "Community",
        "metadata": {"name": "c", "namespace": NS},
        "spec": {"communities": [{"name": "bad", "value": "1:2:3"}]},
    }
    code, body = c.refusal(lambda: c.api.create_namespaced_custom_object(G, "v1beta1", NS, "communities", community))
    assert (code, body) == (
        403,
        denial("communityvalidationwebhook.metallb.io", 'parsing community "bad": invalid community format: 1:2:3'),
    )
    l2 = {
        "apiVersion": "metallb.io/v1beta1",
        "kind": "L2Advertisement",
        "metadata": {"name": "l2", "namespace": NS},
        "spec": {"ipAddressPools": ["a", "a"]},
    }
    code, body = c.refusal(lambda: c.api.create_namespaced_custom_object(G, "v1beta1", NS, "l2advertisements", l2))
    assert body == denial("l2advertisementvalidationwebhook.metallb.io", 'duplicate definition of ipAddressPools "a"')
    native = cluster({"bgpType": "native"})
    native.create(pool("v6", "2001:db8::/120"))
    code, body = native.refusal(lambda: native.create(adv()))
    assert body == denial(ADV_HOOK, 'pool "v6" has ipv6 CIDR 2001:db8::/120, native bgp mode does not support ipv6')
