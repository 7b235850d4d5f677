"""MetalLB from the site model (issue 14): the intent, both rendered forms, the managed-field plan, conflict
reporting through the real kubernetes client, the router gate, the venue firewall per dialect and the
``render --venue`` stanza."""

from __future__ import annotations

import base64
import json
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
import yaml

from checks import metallb as checks
from inventory.build import InventorySources, load
from inventory.errors import InputError, MissingFact
from inventory.model import BFD, Cluster, Pool, Service
from tasks.core import rollout
from tasks.metallb.apply import metallb_apply
from tasks.metallb.gate import gate_checks
from tasks.metallb.kube import ApplyConflict, ClusterAPI, conflicts_of
from tasks.metallb.plan import DuplicatePeer, plan_cluster
from tasks.metallb.render import config_text, masked_yaml, render_metallb
from tasks.metallb.verify import private_checks
from tasks.router import venue
from tasks.router.dialect import DIALECTS
from tasks.router.render import managed_scope, render_router_config
from tests.conftest import FIXTURES
from tests.unit.router.test_checks_verify import SUMMARY_3
from tests.unit.router_fixtures import ROUTER_WG_KEY, cluster

SAMPLE = FIXTURES / "samples" / "prd.tfstate"
VENUE_POOL = {"name": "venue", "addresses": ["198.51.100.64/28"], "scope": "venue", "avoid_buggy_ips": True}


@pytest.fixture(autouse=True)
def wg_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EDGEKIT_TEST_WG_KEY", ROUTER_WG_KEY)


def site(tmp_path: Path, prd: dict[str, Any]) -> Path:
    path = tmp_path / "site.yaml"
    # The timers these tests were written with (3/9) and no BFD, as defaults a cluster may override: the model's
    # own defaults (MetalLB's 30/90, BFD on) are tested in test_bfd_render.py / test_bfd_metallb.py.
    defaults = {"router": {"bgp": {"keepalive": 3, "holdtime": 9}}, "bfd": {"enabled": False}}
    doc = {"defaults": defaults, "clusters": {"prd": {"router": {"node_address": "192.168.100.1/24"}, **prd}}}
    path.write_text(yaml.safe_dump(doc))
    return path


def model(tmp_path: Path, prd: dict[str, Any]) -> Cluster:
    return load(InventorySources(states=[str(SAMPLE)], site=str(site(tmp_path, prd)))).site.clusters["prd"]


def two_pools(**extra: Any) -> dict[str, Any]:
    return {"pools": [{"name": "global", "addresses": ["198.51.100.0/28"]}, VENUE_POOL], **extra}


# --- the model --------------------------------------------------------------------------------------------------


def test_intent_takes_pools_from_the_site_and_the_peer_side_from_the_router(tmp_path: Path) -> None:
    c = model(
        tmp_path,
        {
            "router": {"node_address": "192.168.100.1/24", "asn": 65100, "bgp": {"keepalive": 5, "holdtime": 15}},
            "speaker_asn": 65200,
            "metallb": two_pools(form="crds", node_selectors=[{"match_labels": {"edge": "yes"}}]),
        },
    )
    m = c.metallb
    assert m is not None and m.pools_source == "site" and m.form == "crds"
    assert [(p.name, p.scope, p.auto_assign, p.avoid_buggy_ips) for p in m.pools] == [
        ("global", "global", True, False),
        ("venue", "venue", False, True),  # a venue pool is not auto-assigned unless the site says so
    ]
    # proxy-arp topology (nodes on the public subnet): the speakers peer with the router's public address
    assert (str(m.peer_address), m.peer_asn, m.my_asn, m.hold_time, m.keepalive_time) == (
        "203.0.113.4",
        65100,
        65200,
        15,
        5,
    )
    assert m.node_selectors[0].match_labels == {"edge": "yes"}
    assert [p.name for p in c.venue_pools] == ["venue"]


def test_private_node_subnet_peers_with_the_node_side_address(tmp_path: Path) -> None:
    c = model(tmp_path, {"node_subnet": "private", "metallb": two_pools()})
    assert c.metallb is not None and str(c.metallb.peer_address) == "192.168.100.1"


def test_without_a_metallb_section_pools_come_as_today(tmp_path: Path) -> None:
    c = model(tmp_path, {})
    assert c.metallb is not None and c.metallb.pools_source == "tfstate" and c.metallb.form == "auto"
    # named after the Terraform output, made a valid object name
    assert [p.name for p in c.metallb.pools] == ["metallb-address-range"]
    assert [p.name for p in c.pools] == ["metallb_address_range"]  # the router's view is unchanged


@pytest.mark.parametrize(
    ("metallb", "where"),
    [
        ({"pools": [{"name": "v", "addresses": ["198.51.100.64/28"], "scope": "private"}]}, "metallb.pools[0].scope"),
        ({"form": "crd"}, "metallb.form"),
        (two_pools(peer_name=None) | {"pools": [VENUE_POOL, VENUE_POOL]}, "metallb.pools[1].name"),
        ({"node_selectors": [{"match_expressions": [{"key": "a", "operator": "Has"}]}]}, "metallb.node_selectors"),
    ],
)
def test_bad_metallb_input_is_one_line_naming_file_and_path(
    tmp_path: Path, metallb: dict[str, Any], where: str
) -> None:
    with pytest.raises(InputError) as err:
        model(tmp_path, {"metallb": metallb})
    text = str(err.value)
    assert "\n" not in text and "site.yaml" in text and f"clusters.prd.{where}" in text


# --- render -----------------------------------------------------------------------------------------------------


def by_kind(objects: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [o for o in objects if o["kind"] == kind]


def test_crds_form_renders_pools_advertisements_and_the_peer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EDGEKIT_TEST_BGP", "s3cret")
    c = model(
        tmp_path,
        {
            "router": {"node_address": "192.168.100.1/24", "bgp": {"password": {"env": "EDGEKIT_TEST_BGP"}}},
            "metallb": two_pools(node_selectors=[{"match_labels": {"edge": "yes"}}]),
        },
    )
    r = render_metallb(c, "crds")
    pools = {o["metadata"]["name"]: o for o in by_kind(r.objects, "IPAddressPool")}
    assert pools["venue"] == {
        "apiVersion": "metallb.io/v1beta1",
        "kind": "IPAddressPool",
        "metadata": {
            "name": "venue",
            "namespace": "metallb-system",
            "labels": {"app.kubernetes.io/managed-by": "edgekit"},
        },
        "spec": {"addresses": ["198.51.100.64/28"], "autoAssign": False, "avoidBuggyIPs": True},
    }
    assert pools["global"]["spec"]["autoAssign"] is True
    advs = {o["metadata"]["name"]: o["spec"] for o in by_kind(r.objects, "BGPAdvertisement")}
    # The venue pool is announced to the router's peer only (issue 24 item 9).
    assert advs == {
        "global": {"ipAddressPools": ["global"]},
        "venue": {"ipAddressPools": ["venue"], "peers": ["edgekit-router"]},
    }
    (peer,) = by_kind(r.objects, "BGPPeer")
    assert peer["apiVersion"] == "metallb.io/v1beta2"
    assert peer["spec"] == {
        "myASN": 65021,
        "peerASN": 65020,
        "peerAddress": "203.0.113.4",
        "holdTime": "9s",  # keepalive 3 s = 9/3: left to MetalLB (native mode refuses the field)
        "passwordSecret": {"name": "edgekit-bgp-password", "namespace": "metallb-system"},
        "nodeSelectors": [{"matchLabels": {"edge": "yes"}}],
    }
    (secret,) = by_kind(r.objects, "Secret")
    assert r.objects[0] is secret  # applied before the BGPPeer that names it
    assert secret["type"] == "kubernetes.io/basic-auth"
    assert base64.b64decode(secret["data"]["password"]).decode() == "s3cret"
    shown = masked_yaml(r)
    assert "s3cret" not in shown and secret["data"]["password"] not in shown and "********" in shown


def test_a_password_already_in_metallbs_namespace_is_referenced_not_copied(tmp_path: Path) -> None:
    ref = {"k8s": "metallb-system/router-bgp/password"}
    c = model(
        tmp_path, {"router": {"node_address": "192.168.100.1/24", "bgp": {"password": ref}}, "metallb": two_pools()}
    )
    r = render_metallb(c, "crds")  # nothing to resolve: no kubeconfig needed
    assert not by_kind(r.objects, "Secret") and r.secrets == []
    (peer,) = by_kind(r.objects, "BGPPeer")
    assert peer["spec"]["passwordSecret"] == {"name": "router-bgp", "namespace": "metallb-system"}


def test_configmap_form_has_metallbs_legacy_keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EDGEKIT_TEST_BGP", "s3cret")
    c = model(
        tmp_path,
        {
            "router": {"node_address": "192.168.100.1/24", "bgp": {"password": {"env": "EDGEKIT_TEST_BGP"}}},
            "metallb": two_pools(node_selectors=[{"match_labels": {"edge": "yes"}}]),
        },
    )
    r = render_metallb(c, "configmap")
    assert [o["kind"] for o in r.objects] == ["ConfigMap"]
    assert r.objects[0]["metadata"]["name"] == "config" and r.objects[0]["metadata"]["namespace"] == "metallb-system"
    config = yaml.safe_load(config_text(r))
    assert config == {
        "peers": [
            {
                "peer-address": "203.0.113.4",
                "peer-asn": 65020,
                "my-asn": 65021,
                "hold-time": "9s",
                "password": "s3cret",
                "node-selectors": [{"match-labels": {"edge": "yes"}}],
            }
        ],
        "address-pools": [
            {
                "name": "global",
                "protocol": "bgp",
                "addresses": ["198.51.100.0/28"],
                "auto-assign": True,
                "avoid-buggy-ips": False,
            },
            {
                "name": "venue",
                "protocol": "bgp",
                "addresses": ["198.51.100.64/28"],
                "auto-assign": False,
                "avoid-buggy-ips": True,
            },
        ],
    }
    assert "s3cret" not in masked_yaml(r)


def test_crds_form_refuses_a_pool_name_kubernetes_refuses(tmp_path: Path) -> None:
    c = model(tmp_path, {"metallb": {"pools": [{"name": "globalIP", "addresses": ["198.51.100.0/28"]}]}})
    assert render_metallb(c, "configmap")  # the legacy form takes any name
    with pytest.raises(InputError, match=r"clusters\.prd\.metallb\.pools\[0\]\.name: pool name 'globalIP'"):
        render_metallb(c, "crds")


# --- plan: managed fields only ---------------------------------------------------------------------------------


def peer_object(tmp_path: Path) -> dict[str, Any]:
    (peer,) = by_kind(render_metallb(model(tmp_path, {"metallb": two_pools()}), "crds").objects, "BGPPeer")
    return peer


def managed_fields(manager: str, spec_fields: list[str]) -> dict[str, Any]:
    return {
        "manager": manager,
        "operation": "Apply",
        "apiVersion": "metallb.io/v1beta2",
        "fieldsType": "FieldsV1",
        "fieldsV1": {"f:spec": {f"f:{f}": {} for f in spec_fields}},
    }


def test_plan_compares_only_the_fields_edgekit_manages(tmp_path: Path) -> None:
    peer = peer_object(tmp_path)
    live = json.loads(json.dumps(peer))
    live["metadata"]["uid"] = "1234"
    live["metadata"]["managedFields"] = [managed_fields("edgekit", list(peer["spec"]))]
    live["spec"]["peerPort"] = 179  # a default the API filled in: not edgekit's
    assert not checks.diff_object(peer, live)
    live["spec"]["holdTime"] = "90s"  # a hand edit
    d = checks.diff_object(peer, live)
    assert checks.plan_lines([d]) == ["~ BGPPeer metallb-system/edgekit-router spec.holdTime: 90s -> 9s"]
    assert checks.check_config("prd", [d]).status == "fail"


def test_plan_removes_a_field_edgekit_owns_but_no_longer_renders(tmp_path: Path) -> None:
    peer = peer_object(tmp_path)
    live = json.loads(json.dumps(peer))
    live["spec"]["nodeSelectors"] = [{"matchLabels": {"edge": "yes"}}]
    live["metadata"]["managedFields"] = [managed_fields("edgekit", [*peer["spec"], "nodeSelectors"])]
    assert checks.plan_lines([checks.diff_object(peer, live)]) == [
        "~ BGPPeer metallb-system/edgekit-router spec.nodeSelectors: "
        '[{"matchLabels": {"edge": "yes"}}] -> (removed: edgekit no longer sets it)'
    ]
    live["metadata"]["managedFields"] = [managed_fields("kubectl", ["nodeSelectors"])]  # someone else's field
    assert not checks.diff_object(peer, live)


def test_plan_shows_new_objects_and_a_legacy_config_as_a_line_diff(tmp_path: Path) -> None:
    r = render_metallb(model(tmp_path, {"metallb": two_pools()}), "configmap")
    cm = r.objects[0]
    assert checks.plan_lines([checks.diff_object(cm, None)]) == ["+ ConfigMap metallb-system/config"]
    live = json.loads(json.dumps(cm))
    live["data"]["config"] = live["data"]["config"].replace("hold-time: 9s", "hold-time: 90s")
    lines = checks.plan_lines([checks.diff_object(cm, live)])
    assert lines == ["~ ConfigMap metallb-system/config data.config:", "    -  hold-time: 90s", "    +  hold-time: 9s"]


class FakeAPI:
    """Duck-typed ClusterAPI over a dict of live objects (kind, namespace, name) -> object."""

    def __init__(self, objects: list[dict[str, Any]] | None = None) -> None:
        self.objects = {self.key(o): o for o in objects or []}
        self.applied: list[str] = []
        self.deleted: list[str] = []

    @staticmethod
    def key(o: dict[str, Any]) -> tuple[str, str, str]:
        return (o["kind"], o["metadata"]["namespace"], o["metadata"]["name"])

    def read(self, kind: str, name: str, namespace: str) -> dict[str, Any] | None:
        return self.objects.get((kind, namespace, name))

    def list_peers(self) -> list[dict[str, Any]]:
        return [o for o in self.objects.values() if o["kind"] == "BGPPeer"]

    def list_managed(self, form: str) -> list[dict[str, Any]]:
        return [
            o for o in self.objects.values() if (o["metadata"].get("labels") or {}).get("app.kubernetes.io/managed-by")
        ]

    def apply(self, obj: dict[str, Any], force: bool = False, dry_run: bool = False) -> dict[str, Any]:
        if dry_run:
            return obj
        self.applied.append(checks.object_name(obj))
        self.objects[self.key(obj)] = json.loads(json.dumps(obj))
        return obj

    def delete(self, obj: dict[str, Any], dry_run: bool = False) -> None:
        if dry_run:
            return
        self.deleted.append(checks.object_name(obj))
        self.objects.pop(self.key(obj), None)

    def remove_fields(
        self, obj: dict[str, Any], paths: list[tuple[str, ...]], dry_run: bool = False, values: Any = None
    ) -> None:
        if dry_run:
            return
        live = self.objects[self.key(obj)]
        for i, path in enumerate(paths):
            node = live
            for part in path[:-1]:
                node = node.setdefault(part, {})
            if values is not None:
                node[path[-1]] = values[i]
            else:
                node.pop(path[-1], None)

    def speaker_mode(self) -> str | None:
        return None


def test_apply_sends_what_differs_deletes_stale_objects_and_is_idempotent(tmp_path: Path) -> None:
    r = render_metallb(model(tmp_path, {"metallb": two_pools()}), "crds")
    stale = {
        "apiVersion": "metallb.io/v1beta1",
        "kind": "IPAddressPool",
        "metadata": {
            "name": "old",
            "namespace": "metallb-system",
            "labels": {"app.kubernetes.io/managed-by": "edgekit"},
        },
        "spec": {"addresses": ["198.51.100.128/28"]},
    }
    api = FakeAPI([stale])
    plan = plan_cluster(r, api)  # type: ignore[arg-type]
    assert "- IPAddressPool metallb-system/old" in plan.lines and len(plan.lines) == 6
    from types import SimpleNamespace

    task = SimpleNamespace(host=SimpleNamespace(name="r"))
    res = metallb_apply(task, plan, api)  # type: ignore[arg-type]
    assert res.changed and len(api.applied) == 5 and api.deleted == ["IPAddressPool metallb-system/old"]
    again = plan_cluster(r, api)  # type: ignore[arg-type]
    assert not again and again.lines == []
    assert not metallb_apply(task, again, api).changed  # type: ignore[arg-type]


# --- conflicts through the real client ---------------------------------------------------------------------------

# A 409 from server-side apply, in the shape the apiserver sends (k8s.io/apimachinery Status with
# details.causes of reason FieldManagerConflict; constructed from the Kubernetes server-side apply docs' example).
CONFLICT_BODY = {
    "kind": "Status",
    "apiVersion": "v1",
    "status": "Failure",
    "message": 'Apply failed with 1 conflict: conflict with "kubectl-edit" using metallb.io/v1beta2: .spec.holdTime',
    "reason": "Conflict",
    "details": {
        "name": "edgekit-router",
        "group": "metallb.io",
        "kind": "bgppeers",
        "causes": [
            {
                "reason": "FieldManagerConflict",
                "message": 'conflict with "kubectl-edit" using metallb.io/v1beta2',
                "field": ".spec.holdTime",
            }
        ],
    },
    "code": 409,
}


class ApplyServer(BaseHTTPRequestHandler):
    requests: list[tuple[str, str, dict[str, list[str]], dict[str, Any]]] = []

    def do_PATCH(self) -> None:  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        url = urlparse(self.path)
        query = parse_qs(url.query)
        ApplyServer.requests.append((url.path, self.headers["Content-Type"], query, body))
        if query.get("force") in (["true"], ["True"]):
            status, answer = 200, body
        else:
            status, answer = 409, CONFLICT_BODY
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        return None


@pytest.fixture
def apply_server(tmp_path: Path) -> Any:
    server = ThreadingHTTPServer(("127.0.0.1", 0), ApplyServer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "c", "cluster": {"server": f"http://127.0.0.1:{server.server_address[1]}"}}],
        "users": [{"name": "u", "user": {"token": "t"}}],
        "contexts": [{"name": "prd", "context": {"cluster": "c", "user": "u"}}],
        "current-context": "prd",
    }
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(config))
    ApplyServer.requests = []
    yield ClusterAPI(str(path), "prd")
    server.shutdown()


def test_a_conflict_names_the_other_manager_and_field_and_is_not_forced(tmp_path: Path, apply_server: Any) -> None:
    peer = peer_object(tmp_path)
    with pytest.raises(ApplyConflict) as err:
        apply_server.apply(peer)
    assert err.value.conflicts == conflicts_of(json.dumps(CONFLICT_BODY))
    assert str(err.value) == (
        "BGPPeer metallb-system/edgekit-router: .spec.holdTime is owned by field manager 'kubectl-edit' "
        "(not forced: --force-conflicts takes them over)"
    )
    path, content_type, query, body = ApplyServer.requests[0]
    assert path == "/apis/metallb.io/v1beta2/namespaces/metallb-system/bgppeers/edgekit-router"
    assert content_type == "application/apply-patch+yaml"
    assert query["fieldManager"] == ["edgekit"] and "force" not in query
    assert body == peer
    assert apply_server.apply(peer, force=True) == peer  # --force-conflicts
    assert ApplyServer.requests[1][2]["force"] in (["true"], ["True"])


# --- gate -------------------------------------------------------------------------------------------------------


def test_gate_waits_for_established_sessions_within_its_bound() -> None:
    c = cluster().model_copy(update={"bfd": BFD(enabled=False)})  # the BGP part of the gate (bfd.peers: test_bfd_*)
    active = SUMMARY_3.replace(
        "00:00:38            2        2 \n203.0.113.12", "00:00:09       Active        0 \n203.0.113.12", 1
    )
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    # the router's summary over time: a speaker Active for the first two polls, then all Established
    states = [active, active, SUMMARY_3]
    show = lambda _c: states[min(int(now[0] / 0.5), 2)]  # noqa: E731
    results, _ = rollout.wait_for_gate(lambda: gate_checks(show, c, "r"), 10, 0.5, clock=lambda: now[0], sleep=sleep)
    assert results is not None and [r.status for r in results] == ["pass"] and now[0] == 1.0
    # a session that never comes back: the gate gives up at its bound, failing and naming the speaker
    now[0] = 0.0
    results, _ = rollout.wait_for_gate(
        lambda: gate_checks(lambda _c: active, c, "r"), 3, 0.5, clock=lambda: now[0], sleep=sleep
    )
    assert results is not None and results[0].status == "fail" and "203.0.113.11) is Active" in results[0].reason
    assert now[0] == 3.0


def test_gate_is_skipped_while_the_router_has_no_session_for_the_speakers() -> None:
    empty = SUMMARY_3.split("Neighbor")[0] + "% No BGP neighbors found in VRF default\n"
    assert gate_checks(lambda _cmd: empty, cluster(), "r") is None


def test_private_reachability_pings_venue_services_from_the_tunnel_address() -> None:
    c = cluster().model_copy(
        update={
            "pools": [Pool(name="venue", addresses=["198.51.100.64/28"], scope="venue")],  # type: ignore[list-item]
            "services": [
                Service(namespace="default", name="web", ips=["198.51.100.1"]),  # type: ignore[list-item]
                Service(namespace="contest", name="judge", ips=["198.51.100.66"]),  # type: ignore[list-item]
            ],
        }
    )
    sent: list[str] = []
    ok = "2 packets transmitted, 2 received, 0% packet loss, time 1001ms\n"

    def show(cmd: str) -> str:
        sent.append(cmd)
        return ok

    (result,) = private_checks(show, c, "r")
    assert sent == ["ping 198.51.100.66 count 2 source-address 172.16.100.1"]
    assert result.status == "pass" and result.subject == "contest/judge 198.51.100.66"
    (lost,) = private_checks(lambda _c: ok.replace("2 received", "0 received"), c, "r")
    assert lost.status == "fail" and "172.16.100.1" in lost.reason


# --- router: firewall per dialect, venue stanza -------------------------------------------------------------------


def venue_cluster(wireguard: bool = True) -> Cluster:
    c = cluster(wireguard=wireguard)
    venue_pool = Pool(name="venue", addresses=["198.51.100.64/28"], scope="venue", auto_assign=False)  # type: ignore[list-item]
    return c.model_copy(update={"pools": [*c.pools, venue_pool]})


def test_venue_firewall_on_14_is_one_forward_rule_matching_all_but_the_tunnel() -> None:
    lines = render_router_config(venue_cluster(), DIALECTS["1.4"]).lines
    fw = [line for line in lines if "firewall" in line]
    assert fw == [
        "set firewall group network-group EDGEKIT-VENUE-POOLS network '198.51.100.64/28'",
        "set firewall ipv4 forward filter rule 10 action 'drop'",
        "set firewall ipv4 forward filter rule 10 description 'edgekit: venue pools only through wg0'",
        "set firewall ipv4 forward filter rule 10 destination group network-group 'EDGEKIT-VENUE-POOLS'",
        "set firewall ipv4 forward filter rule 10 inbound-interface name '!wg0'",
    ]
    # the venue pool's /32s are learned like the global ones: blackhole only, no BGP filter
    assert "set protocols static route 198.51.100.64/28 blackhole distance '254'" in lines
    assert not any("route-map" in line or "prefix-list" in line for line in lines)


def test_venue_firewall_on_13_is_a_ruleset_on_every_other_interface() -> None:
    lines = render_router_config(venue_cluster(), DIALECTS["1.3"]).lines
    fw = [line for line in lines if "firewall" in line]
    assert fw == [
        "set firewall group network-group EDGEKIT-VENUE-POOLS network '198.51.100.64/28'",
        "set firewall name EDGEKIT-VENUE-ONLY default-action 'accept'",
        "set firewall name EDGEKIT-VENUE-ONLY rule 10 action 'drop'",
        "set firewall name EDGEKIT-VENUE-ONLY rule 10 description 'edgekit: venue pools only through wg0'",
        "set firewall name EDGEKIT-VENUE-ONLY rule 10 destination group network-group 'EDGEKIT-VENUE-POOLS'",
        "set interfaces ethernet eth0 firewall in name 'EDGEKIT-VENUE-ONLY'",
        "set interfaces ethernet eth1 firewall in name 'EDGEKIT-VENUE-ONLY'",
    ]


def test_firewall_is_managed_and_removed_with_the_last_venue_pool() -> None:
    from checks.config_diff import diff

    for version in ("1.3", "1.4"):
        d = DIALECTS[version]
        running = render_router_config(venue_cluster(), d).lines + ["set firewall name OTHER default-action 'drop'"]
        plain = cluster()
        change = diff(running, render_router_config(plain, d).lines, managed_scope(plain, d))
        assert change.sets == []
        fw = [c for c in change.deletes if "firewall" in c]
        assert fw and set(change.deletes) - set(fw) == {"delete protocols static route 198.51.100.64/28"}
        assert not any("OTHER" in c or c == "delete firewall name" for c in change.deletes)  # the operator's stays


def test_venue_pools_without_a_tunnel_are_refused() -> None:
    with pytest.raises(MissingFact, match="wireguard"):
        render_router_config(venue_cluster(wireguard=False), DIALECTS["1.4"])


def test_venue_stanza_has_the_routers_key_endpoint_and_venue_pools() -> None:
    expected_key = subprocess.run(["wg", "pubkey"], input=ROUTER_WG_KEY, capture_output=True, text=True, check=True)
    key = venue.router_public_key(venue_cluster(), DIALECTS["1.4"])
    assert key == expected_key.stdout.strip()
    text = venue.venue_stanza(venue_cluster(), key)
    lines = text.splitlines()
    assert lines[1:] == [
        "[Peer]",
        f"PublicKey = {key}",
        "Endpoint = 203.0.113.4:51820",
        "AllowedIPs = 172.16.100.0/30, 198.51.100.64/28",
        "PersistentKeepalive = 25",
    ]
    assert lines[0].startswith("# prd: router k8s-router-1-prd")


def test_venue_stanza_on_13_reads_the_key_from_the_router() -> None:
    asked: list[str] = []

    def show(cmd: str) -> str:
        asked.append(cmd)
        return "VCFgSmpLXoTRmNpgEQn69w7SVTktFD6r0hVbO+EmcHY=\n"

    assert venue.router_public_key(venue_cluster(), DIALECTS["1.3"], show=show).startswith("VCFg")
    assert asked == ["show wireguard keypairs pubkey venue"]
    with pytest.raises(MissingFact, match="without --vyos"):
        venue.router_public_key(venue_cluster(), DIALECTS["1.3"])


def test_comply_reports_a_hand_edited_bgppeer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from types import SimpleNamespace

    from tasks.metallb import commands as metallb_cmd

    c = model(tmp_path, {"metallb": two_pools(form="crds")})
    held = FakeAPI([json.loads(json.dumps(o)) for o in render_metallb(c, "crds").objects])
    held.close = lambda: None  # type: ignore[attr-defined]
    monkeypatch.setattr(metallb_cmd, "ClusterAPI", lambda kubeconfig, context, namespace="": held)
    rt = SimpleNamespace(loaded=SimpleNamespace(kubeconfig="kc", kube_contexts={}, secret_reader=lambda name: None))
    assert metallb_cmd.config_check(rt, c).status == "pass"  # type: ignore[arg-type]
    held.objects[("BGPPeer", "metallb-system", "edgekit-router")]["spec"]["peerASN"] = 65099  # by hand
    result = metallb_cmd.config_check(rt, c)  # type: ignore[arg-type]
    assert result.status == "fail" and result.check == "metallb.config"
    assert result.reason == "~ BGPPeer metallb-system/edgekit-router spec.peerASN: 65099 -> 65020"


def test_the_routers_bgppeer_is_taken_over_or_a_second_one_refused(tmp_path: Path) -> None:
    c = model(tmp_path, {"metallb": two_pools()})
    theirs = json.loads(json.dumps(peer_object(tmp_path)))
    theirs["metadata"] = {"name": "router", "namespace": "metallb-system"}
    theirs["spec"]["holdTime"] = "90s"
    # No peer_name in the site file: the cluster's one BGPPeer for the router's address is edgekit's to take over.
    plan = plan_cluster(render_metallb(c, "crds"), FakeAPI([theirs]))  # type: ignore[arg-type]
    assert plan.notes == ["BGPPeer metallb-system/router peers with 203.0.113.4: edgekit takes it over"]
    assert "~ BGPPeer metallb-system/router spec.holdTime: 90s -> 9s" in plan.lines
    assert not any("edgekit-router" in line for line in plan.lines)
    # The site names another BGPPeer: two peers for one address would break MetalLB, refused.
    named = model(tmp_path, {"metallb": two_pools(peer_name="edge")})
    with pytest.raises(DuplicatePeer, match=r"BGPPeer metallb-system/router \(not edgekit's\) also peers with "):
        plan_cluster(render_metallb(named, "crds"), FakeAPI([theirs]))  # type: ignore[arg-type]
    # ... and so is a second one next to edgekit's own.
    ours = render_metallb(c, "crds")
    held = FakeAPI([*json.loads(json.dumps(ours.objects)), theirs])
    with pytest.raises(DuplicatePeer):
        plan_cluster(render_metallb(c, "crds"), held)  # type: ignore[arg-type]


def test_comply_judges_metallb_only_where_the_site_states_it(tmp_path: Path) -> None:
    from types import SimpleNamespace

    from tasks.metallb import commands as metallb_cmd

    rt = SimpleNamespace(loaded=SimpleNamespace(kubeconfig=None, kube_contexts={}, secret_reader=lambda name: None))
    assert metallb_cmd.config_check(rt, model(tmp_path, {})) is None  # type: ignore[arg-type]
    declared = metallb_cmd.config_check(rt, model(tmp_path, {"metallb": two_pools()}))  # type: ignore[arg-type]
    assert declared is not None and declared.status == "error" and "no kubeconfig" in declared.reason


def test_compliance_reports_a_venue_firewall_rule_removed_by_hand() -> None:
    from checks import compliance

    for version in ("1.3", "1.4"):
        d = DIALECTS[version]
        intended = render_router_config(venue_cluster(), d).lines
        running = [line for line in intended if "action 'drop'" not in line]
        found = compliance.drift(running, intended, managed_scope(venue_cluster(), d))
        result = compliance.check_config("r", venue_cluster(), found)
        assert result.status == "fail" and found.missing == [next(x for x in intended if "action 'drop'" in x)]
