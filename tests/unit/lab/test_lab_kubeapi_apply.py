"""The Kubernetes stand-in's server-side apply (lab.kubeapi.apply/server), driven by the unmodified kubernetes
Python client, the way edgekit calls it (DynamicClient.server_side_apply, field manager edgekit)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client, dynamic
from kubernetes.client.exceptions import ApiException

from lab.kubeapi import apply as ssa
from lab.kubeapi import store
from lab.kubeapi.server import KubeAPIServer
from lab.kubeapi.world import build_world

NS = "metallb-system"


def peer(hold: str = "90s", address: str = "203.0.113.4") -> dict[str, Any]:
    return {
        "apiVersion": "metallb.io/v1beta2",
        "kind": "BGPPeer",
        "metadata": {"name": "router", "namespace": NS},
        "spec": {"myASN": 65021, "peerASN": 65020, "peerAddress": address, "holdTime": hold},
    }


@pytest.fixture
def dc(tmp_path: Path) -> Iterator[dynamic.DynamicClient]:
    world = build_world([("n1", "10.0.0.1", True)], ("none", "203.0.113.4", 65020, 65021, []))
    srv = KubeAPIServer(world)
    url = srv.start()
    cfg = client.Configuration()
    cfg.host = url
    try:
        yield dynamic.DynamicClient(client.ApiClient(cfg))
    finally:
        srv.stop()


def test_apply_creates_then_is_a_no_op(dc: dynamic.DynamicClient) -> None:
    peers = dc.resources.get(api_version="metallb.io/v1beta2", kind="BGPPeer")
    first = dc.server_side_apply(peers, body=peer(), field_manager="edgekit")
    assert first.spec.holdTime == "90s"
    managed = first.to_dict()["metadata"]["managedFields"]
    assert [(m["manager"], m["operation"]) for m in managed] == [("edgekit", "Apply")]
    assert managed[0]["fieldsV1"] == {"f:spec": {"f:holdTime": {}, "f:myASN": {}, "f:peerASN": {}, "f:peerAddress": {}}}
    again = dc.server_side_apply(peers, body=peer(), field_manager="edgekit")
    assert again.metadata.resourceVersion == first.metadata.resourceVersion
    assert again.metadata.generation == 1


def test_hand_edit_conflicts_and_force_takes_ownership(dc: dynamic.DynamicClient) -> None:
    peers = dc.resources.get(api_version="metallb.io/v1beta2", kind="BGPPeer")
    dc.server_side_apply(peers, body=peer(), field_manager="edgekit")
    edited = dc.patch(
        peers,
        body={"spec": {"holdTime": "30s"}},
        name="router",
        namespace=NS,
        content_type="application/merge-patch+json",
        field_manager="kubectl-edit",
    )
    assert edited.spec.holdTime == "30s"
    assert edited.metadata.generation == 2
    with pytest.raises(ApiException) as err:
        dc.server_side_apply(peers, body=peer(), field_manager="edgekit")
    assert err.value.status == 409
    body = json.loads(err.value.body)
    assert body["kind"] == "Status" and body["reason"] == "Conflict"
    assert body["message"] == (
        'Apply failed with 1 conflict: conflict with "kubectl-edit" using metallb.io/v1beta2: .spec.holdTime'
    )
    assert body["details"]["causes"] == [
        {
            "reason": "FieldManagerConflict",
            "message": 'conflict with "kubectl-edit" using metallb.io/v1beta2',
            "field": ".spec.holdTime",
        }
    ]
    # An apply that agrees with the edit shares the field: no conflict.
    dc.server_side_apply(peers, body=peer(hold="30s"), field_manager="edgekit")
    forced = dc.server_side_apply(peers, body=peer(), field_manager="edgekit", force_conflicts=True)
    assert forced.spec.holdTime == "90s"
    owners = {m["manager"]: m["fieldsV1"] for m in forced.to_dict()["metadata"]["managedFields"]}
    assert "f:holdTime" in owners["edgekit"]["f:spec"]
    assert "kubectl-edit" not in owners  # its only field went to edgekit


def test_field_left_out_is_removed_unless_another_manager_owns_it(dc: dynamic.DynamicClient) -> None:
    cms = dc.resources.get(api_version="v1", kind="ConfigMap")
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "config", "namespace": NS}}
    dc.server_side_apply(cms, body={**body, "data": {"a": "1", "b": "2"}}, field_manager="edgekit")
    dc.server_side_apply(cms, body={**body, "data": {"b": "2"}}, field_manager="other")
    out = dc.server_side_apply(cms, body={**body, "data": {"c": "3"}}, field_manager="edgekit")
    assert out.data.to_dict() == {"b": "2", "c": "3"}


def test_multi_conflict_message_and_strategic_patch_refused_on_crds(dc: dynamic.DynamicClient) -> None:
    peers = dc.resources.get(api_version="metallb.io/v1beta2", kind="BGPPeer")
    dc.server_side_apply(peers, body=peer(), field_manager="kubectl")
    with pytest.raises(ApiException) as err:
        dc.server_side_apply(peers, body=peer(hold="30s", address="192.168.100.1"), field_manager="edgekit")
    assert json.loads(err.value.body)["message"] == (
        'Apply failed with 2 conflicts: conflicts with "kubectl":\n- .spec.holdTime\n- .spec.peerAddress'
    )
    with pytest.raises(ApiException) as err:
        dc.patch(peers, body={"spec": {"holdTime": "1s"}}, name="router", namespace=NS)  # strategic by default
    assert err.value.status == 415


def test_no_crds_no_metallb_io(tmp_path: Path) -> None:
    world = build_world([("n1", "10.0.0.1", True)], None)
    with KubeAPIServer(world) as srv:
        cfg = client.Configuration()
        cfg.host = srv.url
        api = client.ApiClient(cfg)
        with pytest.raises(ApiException) as err:
            api.call_api(
                f"/apis/metallb.io/v1beta1/namespaces/{NS}/ipaddresspools/x",
                "PATCH",
                body={"apiVersion": "metallb.io/v1beta1", "kind": "IPAddressPool", "metadata": {"name": "x"}},
                header_params={"Content-Type": "application/apply-patch+yaml"},
                query_params=[("fieldManager", "edgekit")],
                _preload_content=False,
            )
        assert err.value.status == 404


def test_delete_answers_like_the_registry(dc: dynamic.DynamicClient) -> None:
    peers = dc.resources.get(api_version="metallb.io/v1beta2", kind="BGPPeer")
    dc.server_side_apply(peers, body=peer(), field_manager="edgekit")
    gone = dc.delete(peers, name="router", namespace=NS)
    assert gone.kind == "BGPPeer"  # a custom resource answers with the object
    with pytest.raises(ApiException) as err:
        dc.get(peers, name="router", namespace=NS)
    assert err.value.status == 404


def test_store_update_is_read_modify_write(tmp_path: Path) -> None:
    world = tmp_path / "world.json"
    store.update(world, lambda cur: {"items": [{"kind": "A"}]} if cur is None else cur)
    store.update(world, lambda cur: {**(cur or {}), "items": [*(cur or {})["items"], {"kind": "B"}]})
    assert [i["kind"] for i in store.read(world)["items"]] == ["A", "B"]


def test_fields_v1_round_trip() -> None:
    paths = {("spec", "a"), ("spec", "b", "c"), ("metadata", "labels", "x")}
    assert ssa.from_fields_v1(ssa.to_fields_v1(paths)) == paths


def test_an_object_name_must_be_a_dns_subdomain(dc: dynamic.DynamicClient) -> None:
    pools = dc.resources.get(api_version="metallb.io/v1beta1", kind="IPAddressPool")
    body = {
        "apiVersion": "metallb.io/v1beta1",
        "kind": "IPAddressPool",
        "metadata": {"name": "venueIP", "namespace": NS},
        "spec": {"addresses": ["198.51.100.128/28"]},
    }
    with pytest.raises(ApiException) as err:
        dc.server_side_apply(pools, body=body, field_manager="edgekit")
    status = json.loads(err.value.body)
    assert err.value.status == 422 and status["reason"] == "Invalid"
    assert status["message"] == (
        'IPAddressPool.metallb.io "venueIP" is invalid: metadata.name: Invalid value: "venueIP": a lowercase '
        "RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and "
        "end with an alphanumeric character (e.g. 'example.com', regex used for validation is "
        "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
    )
    assert status["details"]["causes"][0]["field"] == "metadata.name"


def test_crd_defaults_are_filled_in_and_not_owned_by_the_applier(dc: dynamic.DynamicClient) -> None:
    peers = dc.resources.get(api_version="metallb.io/v1beta2", kind="BGPPeer")
    out = dc.server_side_apply(peers, body=peer(), field_manager="edgekit").to_dict()
    assert out["spec"]["peerPort"] == 179
    assert "f:peerPort" not in out["metadata"]["managedFields"][0]["fieldsV1"]["f:spec"]
    pools = dc.resources.get(api_version="metallb.io/v1beta1", kind="IPAddressPool")
    body = {
        "apiVersion": "metallb.io/v1beta1",
        "kind": "IPAddressPool",
        "metadata": {"name": "venue-ip", "namespace": NS},
        "spec": {"addresses": ["198.51.100.128/28"], "autoAssign": False},
    }
    pool = dc.server_side_apply(pools, body=body, field_manager="edgekit").to_dict()
    assert (pool["spec"]["autoAssign"], pool["spec"]["avoidBuggyIPs"]) == (False, False)
    # Left out of the next apply, autoAssign goes back to its default.
    del body["spec"]["autoAssign"]
    assert dc.server_side_apply(pools, body=body, field_manager="edgekit").spec.autoAssign is True


def test_connections_have_no_nagle_delay_like_a_go_server() -> None:
    """kube-apiserver (Go) sets TCP_NODELAY on every connection; the stand-in's accepted sockets must too."""
    import http.client
    import socket

    from lab.kubeapi.server import _Handler

    seen: list[int] = []
    setup = _Handler.setup

    def recording_setup(self: _Handler) -> None:
        setup(self)
        seen.append(self.connection.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))

    server = KubeAPIServer(build_world())
    _Handler.setup = recording_setup  # type: ignore[method-assign]
    try:
        port = int(server.start().rsplit(":", 1)[1])
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        conn.request("GET", "/api/v1/nodes")
        assert conn.getresponse().status == 200
        conn.close()
    finally:
        _Handler.setup = setup  # type: ignore[method-assign]
        server.stop()
    assert seen and all(seen), seen
