"""Build worlds for the Kubernetes API stand-in: genuine-looking objects for one cluster.

    world = build_world(
        nodes=[("k8s-node-1-server-prd", "203.0.113.11", True), ("k8s-node-2-server-prd", "203.0.113.12", False)],
        metallb=("crds", "203.0.113.4", 65020, 65021, {"globalIP": ["198.51.100.0/28"]}),
        services=[{"name": "web", "ip": "198.51.100.10", "policy": "Local", "endpoints": ["k8s-node-1-server-prd"]}],
    )

``nodes``: ``(name, InternalIP, ready_speaker)``; ``ready_speaker`` True (a Ready speaker pod), False (a
speaker pod that is not Ready) or None (no speaker pod on that node). ``metallb``: ``(form, peer_address,
peer_asn, my_asn, pools)`` with form ``"configmap"`` (legacy ConfigMap ``metallb-system/config``) or
``"crds"`` (BGPPeer v1beta2, IPAddressPool and BGPAdvertisement v1beta1); pools as ``{name: [cidr or a-b]}``
or ``[(name, [...])]``. ``services``: dicts with ``name``, ``ip``, optional ``namespace`` (default),
``policy`` (Cluster | Local), ``endpoints`` (node names with a ready endpoint), ``not_ready`` (node names
with a not-ready endpoint), ``terminating`` (node names with a terminating endpoint that still serves:
ready False, serving True), ``port``, ``pool``. ``secrets``: ``{"ns/name": {key: value}}``.
``metallb_version``: the speaker pods' image tag (default ``METALLB_VERSION``).

Node states an administrator or the node's controllers set (``set_node_state``): the ``NetworkUnavailable``
condition (the CNI / cloud route controller sets it: core/v1 NodeNetworkUnavailable), the label
``node.kubernetes.io/exclude-from-external-load-balancers`` (core/v1 LabelNodeExcludeBalancers) and
``spec.unschedulable`` (what ``kubectl cordon`` sets). ``lab fault NODE network-unavailable|exclude-lb|cordon``
uses it.
"""

from __future__ import annotations

import base64
import copy
import hashlib
from collections.abc import Iterable, Sequence
from typing import Any

import yaml

T0 = "2024-05-01T09:00:00Z"
METALLB_NS = "metallb-system"
METALLB_VERSION = "v0.13.12"

NodeSpec = tuple[str, str, bool | None]
MetalLBSpec = tuple[Any, ...]  # (form, peer_address, peer_asn, my_asn, pools[, timers])
# The CRDs MetalLB v0.13 installs (config/crd in metallb/metallb).
METALLB_CRDS = ("bfdprofiles", "bgpadvertisements", "bgppeers", "communities", "ipaddresspools", "l2advertisements")


def _suffix(*parts: str, n: int = 5) -> str:
    digest = hashlib.sha1("/".join(parts).encode()).hexdigest()
    alphabet = "bcdfghjklmnpqrstvwxz2456789"
    return "".join(alphabet[int(digest[i : i + 2], 16) % len(alphabet)] for i in range(0, 2 * n, 2))


def _uid(*parts: str) -> str:
    h = hashlib.sha1("/".join(parts).encode()).hexdigest()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


def node(name: str, ip: str, ready: bool = True, control_plane: bool = False) -> dict[str, Any]:
    labels = {
        "beta.kubernetes.io/arch": "amd64",
        "beta.kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": "linux",
    }
    if control_plane:
        labels["node-role.kubernetes.io/control-plane"] = ""
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "uid": _uid("node", name),
            "labels": labels,
            "annotations": {
                "node.alpha.kubernetes.io/ttl": "0",
                "volumes.kubernetes.io/controller-managed-attach-detach": "true",
            },
            "creationTimestamp": T0,
        },
        "spec": {"podCIDR": "10.244.0.0/24", "podCIDRs": ["10.244.0.0/24"]}
        | (
            {"taints": [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]}
            if control_plane
            else {}
        ),
        "status": {
            "addresses": [{"type": "InternalIP", "address": ip}, {"type": "Hostname", "address": name}],
            "conditions": [
                {
                    "type": "Ready",
                    "status": "True" if ready else "False",
                    "reason": "KubeletReady" if ready else "KubeletNotReady",
                    "message": "kubelet is posting ready status" if ready else "container runtime is down",
                    "lastHeartbeatTime": T0,
                    "lastTransitionTime": T0,
                }
            ],
            "nodeInfo": {
                "architecture": "amd64",
                "bootID": _uid("boot", name),
                "containerRuntimeVersion": "containerd://1.7.13",
                "kernelVersion": "5.15.0-105-generic",
                "kubeProxyVersion": "v1.29.4",
                "kubeletVersion": "v1.29.4",
                "machineID": _uid("machine", name).replace("-", ""),
                "operatingSystem": "linux",
                "osImage": "Ubuntu 22.04.4 LTS",
                "systemUUID": _uid("system", name),
            },
        },
    }


# The FRR image each MetalLB tag's FRR-mode manifests run (config/frr/speaker-patch.yaml).
FRR_IMAGE = {"v0.13.12": "quay.io/frrouting/frr:8.5.2", "v0.14.9": "quay.io/frrouting/frr:9.1.0"}


def speaker_containers(bgp_type: str, version: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(initContainers, containers) of the speaker DaemonSet's pod per mode, as the manifests at the tag render:
    native (config/native): ``speaker`` alone, no METALLB_BGP_TYPE (the speaker's default is native); FRR
    (config/frr/speaker-patch.yaml, order as in config/manifests/metallb-frr.yaml): ``frr``, ``reloader``,
    ``frr-metrics``, ``speaker`` with METALLB_BGP_TYPE=frr, init containers cp-frr-files, cp-reloader, cp-metrics;
    frr-k8s (v0.14.9 config/frr-k8s/speaker-patch.yaml): ``speaker`` with METALLB_BGP_TYPE=frr-k8s (FRR runs in
    the frr-k8s DaemonSet, ``frr_k8s_pod``)."""
    image = f"quay.io/metallb/speaker:{version}"
    speaker: dict[str, Any] = {
        "name": "speaker",
        "image": image,
        "args": ["--port=7472", "--log-level=info"],
        "ports": [{"containerPort": 7472, "name": "monitoring", "protocol": "TCP"}],
    }
    if bgp_type == "native":
        return [], [speaker]
    if bgp_type == "frr-k8s":
        return [], [{**speaker, "env": [{"name": "METALLB_BGP_TYPE", "value": "frr-k8s"}]}]
    frr = FRR_IMAGE.get(version, FRR_IMAGE[METALLB_VERSION])
    speaker["env"] = [
        {"name": "FRR_CONFIG_FILE", "value": "/etc/frr_reloader/frr.conf"},
        {"name": "FRR_RELOADER_PID_FILE", "value": "/etc/frr_reloader/reloader.pid"},
        {"name": "METALLB_BGP_TYPE", "value": "frr"},
    ]
    init = [
        {"name": "cp-frr-files", "image": frr},
        {"name": "cp-reloader", "image": image},
        {"name": "cp-metrics", "image": image},
    ]
    containers = [
        {"name": "frr", "image": frr},
        {"name": "reloader", "image": frr},
        {"name": "frr-metrics", "image": frr, "args": ["--metrics-port=7473"]},
        speaker,
    ]
    return init, containers


def speaker_pod(
    node_name: str,
    node_ip: str,
    ready: bool,
    helm: bool = False,
    bgp_type: str = "frr",
    version: str = METALLB_VERSION,
) -> dict[str, Any]:
    if helm:
        labels = {
            "app.kubernetes.io/component": "speaker",
            "app.kubernetes.io/instance": "metallb",
            "app.kubernetes.io/name": "metallb",
        }
        name, ds = f"metallb-speaker-{_suffix('speaker', node_name)}", "metallb-speaker"
    else:
        labels = {"app": "metallb", "component": "speaker"}
        name, ds = f"speaker-{_suffix('speaker', node_name)}", "speaker"
    init, containers = speaker_containers(bgp_type, version)
    labels["controller-revision-hash"] = _suffix("rev", n=10)
    labels["pod-template-generation"] = "1"
    cond = "True" if ready else "False"
    spec = {
        "nodeName": node_name,
        "hostNetwork": True,
        "serviceAccountName": "speaker",
        **({"initContainers": init} if init else {}),
        "containers": containers,
    }
    conditions = [
        {"type": "Initialized", "status": "True", "lastTransitionTime": T0},
        {"type": "Ready", "status": cond, "lastTransitionTime": T0},
        {"type": "ContainersReady", "status": cond, "lastTransitionTime": T0},
        {"type": "PodScheduled", "status": "True", "lastTransitionTime": T0},
    ]
    statuses = [
        {
            "name": c["name"],
            "ready": ready,
            "restartCount": 0,
            "image": c["image"],
            "imageID": f"{c['image'].split(':')[0]}@sha256:{'0' * 64}",
            "started": True,
            "state": {"running": {"startedAt": T0}},
        }
        for c in containers
    ]
    return _daemonset_pod(name, ds, labels, spec, node_ip, conditions, containerStatuses=statuses)


def _daemonset_pod(
    name: str,
    ds: str,
    labels: dict[str, str],
    spec: dict[str, Any],
    node_ip: str,
    conditions: list[dict[str, Any]],
    **status: Any,
) -> dict[str, Any]:
    """A running host-network pod of DaemonSet ``ds`` in MetalLB's namespace (speaker_pod, frr_k8s_pod)."""
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": METALLB_NS,
            "uid": _uid("pod", name),
            "labels": labels,
            "ownerReferences": [
                {
                    "apiVersion": "apps/v1",
                    "kind": "DaemonSet",
                    "name": ds,
                    "uid": _uid("ds", ds),
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
            "creationTimestamp": T0,
        },
        "spec": spec,
        "status": {
            "phase": "Running",
            "hostIP": node_ip,
            "podIP": node_ip,
            "podIPs": [{"ip": node_ip}],
            "startTime": T0,
            "conditions": conditions,
            **status,
        },
    }


def frr_k8s_pod(node_name: str, node_ip: str) -> dict[str, Any]:
    """frr-k8s mode (MetalLB v0.14.9 config/frr-k8s/kustomization.yaml: metallb/frr-k8s config/default at v0.0.16,
    namePrefix frr-k8s-, put in MetalLB's namespace by the kustomization, ignore-ns.yaml): the DaemonSet
    ``frr-k8s-daemon``'s pod on a node (config/all-in-one/frr-k8s.yaml at v0.0.16: labels app/control-plane
    frr-k8s; containers kube-rbac-proxy, kube-rbac-proxy-frr, frr-k8s, frr, frr-metrics, reloader)."""
    name = f"frr-k8s-daemon-{_suffix('frr-k8s', node_name)}"
    frr, proxy, own = (
        "quay.io/frrouting/frr:9.1.0",
        "gcr.io/kubebuilder/kube-rbac-proxy:v0.13.1",
        "quay.io/metallb/frr-k8s:v0.0.16",
    )
    containers = [
        {"name": "kube-rbac-proxy", "image": proxy},
        {"name": "kube-rbac-proxy-frr", "image": proxy},
        {"name": "frr-k8s", "image": own},
        {"name": "frr", "image": frr},
        {"name": "frr-metrics", "image": frr},
        {"name": "reloader", "image": frr},
    ]
    labels = {"app": "frr-k8s", "control-plane": "frr-k8s", "controller-revision-hash": _suffix("frev", n=10)}
    spec = {
        "nodeName": node_name,
        "hostNetwork": True,
        "serviceAccountName": "frr-k8s-daemon",
        "initContainers": [
            {"name": "cp-frr-files", "image": frr},
            {"name": "cp-reloader", "image": own},
            {"name": "cp-metrics", "image": own},
        ],
        "containers": containers,
    }
    conditions = [{"type": "Ready", "status": "True", "lastTransitionTime": T0}]
    return _daemonset_pod(name, "frr-k8s-daemon", labels, spec, node_ip, conditions)


def speaker_mode(pod: dict[str, Any]) -> tuple[str, str]:
    """(bgp type, MetalLB version) a speaker pod shows: its METALLB_BGP_TYPE (none: native) and image tag."""
    for c in pod.get("spec", {}).get("containers") or []:
        if c.get("name") == "speaker":
            env = {e.get("name"): e.get("value") for e in c.get("env") or []}
            return str(env.get("METALLB_BGP_TYPE") or "native"), str(c.get("image", "")).rpartition(":")[2]
    return "native", METALLB_VERSION


def _pools(pools: Any) -> list[dict[str, Any]]:
    """Pools as dicts {name, addresses, autoAssign (True), avoidBuggyIPs (False)}, from {name: [..]},
    [(name, [..])] or [{"name": .., "addresses": [..], ...}]."""
    if isinstance(pools, dict):
        pools = list(pools.items())
    out = []
    for p in pools or []:
        if isinstance(p, dict):
            entry = {"autoAssign": True, "avoidBuggyIPs": False, **p}
        else:
            entry = {"name": p[0], "addresses": p[1], "autoAssign": True, "avoidBuggyIPs": False}
        entry["name"] = str(entry["name"])
        entry["addresses"] = [str(a) for a in entry["addresses"]]
        out.append(entry)
    return out


def _hand_applied(obj: dict[str, Any]) -> dict[str, Any]:
    """A seeded object as `kubectl apply` (client-side) leaves it: an Update entry of kubectl-client-side-apply
    owning every field, so a server-side apply with other values conflicts as on the seed team's clusters."""
    from lab.kubeapi.apply import update
    from lab.kubeapi.server import with_defaults

    out, _ = update(None, with_defaults(obj), "kubectl-client-side-apply", obj["apiVersion"])
    for entry in out["metadata"]["managedFields"]:
        entry["time"] = T0
    return out


def metallb_objects(spec: MetalLBSpec) -> list[dict[str, Any]]:
    """The seeded MetalLB config; form ``none`` (MetalLB installed, CRDs served, no config) gives nothing."""
    form, peer_address, peer_asn, my_asn, pools = spec[:5]
    timers: dict[str, str] = spec[5] if len(spec) > 5 else {}
    pool_list = _pools(pools)
    if form == "none":
        return []
    if form == "configmap":
        peer: dict[str, Any] = {"peer-address": str(peer_address), "peer-asn": int(peer_asn), "my-asn": int(my_asn)}
        if timers.get("holdTime"):
            peer["hold-time"] = timers["holdTime"]
        if timers.get("keepaliveTime"):
            peer["keepalive-time"] = timers["keepaliveTime"]
        address_pools = []
        for p in pool_list:
            entry: dict[str, Any] = {"name": p["name"], "protocol": "bgp", "addresses": p["addresses"]}
            if not p["autoAssign"]:
                entry["auto-assign"] = False
            if p["avoidBuggyIPs"]:
                entry["avoid-buggy-ips"] = True
            address_pools.append(entry)
        config = {"peers": [peer], "address-pools": address_pools}
        return [
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": "config", "namespace": METALLB_NS, "uid": _uid("cm", "config")},
                "data": {"config": yaml.safe_dump(config, sort_keys=False)},
            }
        ]
    if form != "crds":
        raise ValueError(f"metallb form must be 'configmap', 'crds' or 'none', not {form!r}")
    peer_spec: dict[str, Any] = {"myASN": int(my_asn), "peerASN": int(peer_asn), "peerAddress": str(peer_address)}
    peer_spec.update({k: v for k, v in timers.items() if k in ("holdTime", "keepaliveTime")})
    objs: list[dict[str, Any]] = [
        {
            "apiVersion": "metallb.io/v1beta2",
            "kind": "BGPPeer",
            "metadata": {"name": "router", "namespace": METALLB_NS, "generation": 1},
            "spec": peer_spec,
        }
    ]
    for p in pool_list:
        objs.append(
            {
                "apiVersion": "metallb.io/v1beta1",
                "kind": "IPAddressPool",
                "metadata": {"name": p["name"], "namespace": METALLB_NS, "generation": 1},
                "spec": {
                    "addresses": p["addresses"],
                    "autoAssign": p["autoAssign"],
                    "avoidBuggyIPs": p["avoidBuggyIPs"],
                },
            }
        )
    objs.append(
        {
            "apiVersion": "metallb.io/v1beta1",
            "kind": "BGPAdvertisement",
            "metadata": {"name": "bgp", "namespace": METALLB_NS, "generation": 1},
            "spec": {"ipAddressPools": [p["name"] for p in pool_list]},
        }
    )
    return objs


def service_objects(svc: dict[str, Any], node_ips: dict[str, str]) -> list[dict[str, Any]]:
    name = svc["name"]
    ns = svc.get("namespace", "default")
    port = int(svc.get("port", 80))
    ips = svc["ip"] if isinstance(svc["ip"], list) else [svc["ip"]]
    annotations = {"metallb.universe.tf/address-pool": svc["pool"]} if svc.get("pool") else {}
    if svc.get("request_ip"):
        # MetalLB's annotation for a specific IP (metallb.universe.tf/loadBalancerIPs, v0.13 and later).
        annotations["metallb.universe.tf/loadBalancerIPs"] = ",".join(ips)
    ingress = [{"ip": ip} for ip in ips] if svc.get("allocated", True) else []
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": ns, "uid": _uid("svc", ns, name), "annotations": annotations},
        "spec": {
            "type": "LoadBalancer",
            "selector": {"app": name},
            "ports": [
                {"name": "http", "port": port, "protocol": "TCP", "targetPort": 8080, "nodePort": 30000 + port % 2000}
            ],
            "clusterIP": f"10.96.{len(name) % 250}.{(sum(map(ord, name)) % 250) + 1}",
            "externalTrafficPolicy": svc.get("policy", "Cluster"),
            "sessionAffinity": "None",
            "ipFamilies": ["IPv4"],
            "ipFamilyPolicy": "SingleStack",
        },
        "status": {"loadBalancer": {"ingress": ingress} if ingress else {}},
    }
    endpoints = []
    groups = [
        (svc.get("endpoints") or [], True, True),
        (svc.get("not_ready") or [], False, False),
        (svc.get("terminating") or [], False, True),
    ]
    for i, (nodes, ready, serving) in enumerate(groups):
        for j, n in enumerate(nodes):
            endpoints.append(
                {
                    "addresses": [f"10.244.{(i * 16 + j) % 250}.{10 + j}"],
                    "conditions": {"ready": ready, "serving": serving, "terminating": ready is False and serving},
                    "nodeName": n,
                    "targetRef": {"kind": "Pod", "name": f"{name}-{_suffix(name, n)}", "namespace": ns},
                }
            )
    del node_ips
    slice_ = {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {
            "name": f"{name}-{_suffix('es', ns, name)}",
            "namespace": ns,
            "labels": {
                "kubernetes.io/service-name": name,
                "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io",
            },
            "ownerReferences": [{"apiVersion": "v1", "kind": "Service", "name": name, "uid": _uid("svc", ns, name)}],
        },
        "addressType": "IPv4",
        "endpoints": endpoints,
        "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
    }
    return [service, slice_]


def secret(ref: str, data: dict[str, str]) -> dict[str, Any]:
    ns, name = ref.split("/", 1)
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": {"name": name, "namespace": ns, "uid": _uid("secret", ns, name)},
        "data": {k: base64.b64encode(v.encode()).decode() for k, v in data.items()},
    }


def build_world(
    nodes: Iterable[NodeSpec] = (),
    metallb: MetalLBSpec | None = None,
    services: Sequence[dict[str, Any]] = (),
    *,
    masters: Iterable[tuple[str, str]] = (),
    helm: bool = False,
    secrets: dict[str, dict[str, str]] | None = None,
    metallb_version: str = METALLB_VERSION,
    bgp_type: str = "frr",
) -> dict[str, Any]:
    """A ``v1 List`` world for ``KubeAPIServer`` (see the module docstring). ``metallb_version`` and ``bgp_type``
    (frr, frr-k8s, native): the MetalLB install, seen in the speaker pods and written as the world's ``metallb``
    key (what the stand-in's admission follows: lab.kubeapi.admission.Settings)."""
    items: list[dict[str, Any]] = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": n}, "status": {"phase": "Active"}}
        for n in ("default", "kube-system", METALLB_NS)
    ]
    node_ips: dict[str, str] = {}
    for name, ip in masters:
        items.append(node(name, ip, control_plane=True))
        node_ips[name] = ip
    pods = []
    for name, ip, ready_speaker in nodes:
        items.append(node(name, ip))
        node_ips[name] = ip
        if ready_speaker is not None:
            pods.append(
                speaker_pod(name, ip, bool(ready_speaker), helm=helm, bgp_type=bgp_type, version=metallb_version)
            )
            if bgp_type == "frr-k8s":
                pods.append(frr_k8s_pod(name, ip))
    items.extend(pods)
    crds: list[str] = []
    if metallb is not None:
        items.extend(_hand_applied(o) for o in metallb_objects(metallb))
        if metallb[0] in ("crds", "none"):
            crds = [f"{p}.metallb.io" for p in METALLB_CRDS]
    for svc in services:
        items.extend(service_objects(svc, node_ips))
    for ref, data in (secrets or {}).items():
        items.append(secret(ref, data))
    world: dict[str, Any] = {"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""}, "items": items}
    if crds:
        world["crds"] = crds
    world["metallb"] = {"version": metallb_version, "bgpType": bgp_type, "namespace": METALLB_NS}
    return world


def with_metallb(world: dict[str, Any], **changes: str) -> dict[str, Any]:
    """A copy of ``world`` with its ``metallb`` key changed (``webhook="down"``: MetalLB's webhook Service has no
    endpoint, every metallb.io create/update answers 500 until ``webhook="up"``; lab.kubeapi.admission)."""
    return {**world, "metallb": {**(world.get("metallb") or {}), **changes}}


def speaker_ready(world: dict[str, Any], node_name: str) -> bool | None:
    """Whether the speaker pod on ``node_name`` is Ready (None: no speaker pod there)."""
    for obj in world.get("items", []):
        labels = obj.get("metadata", {}).get("labels") or {}
        is_speaker = obj.get("kind") == "Pod" and (
            labels.get("component") == "speaker" or labels.get("app.kubernetes.io/component") == "speaker"
        )
        if is_speaker and obj["spec"].get("nodeName") == node_name:
            return any(
                cond.get("type") == "Ready" and cond.get("status") == "True"
                for cond in obj.get("status", {}).get("conditions", [])
            )
    return None


def set_speaker_ready(world: dict[str, Any], node_name: str, ready: bool | None) -> dict[str, Any]:
    """A copy of ``world`` with the speaker on ``node_name`` Ready / not Ready, or removed (None)."""
    items = []
    found = None
    for obj in world["items"]:
        labels = obj.get("metadata", {}).get("labels") or {}
        is_speaker = obj.get("kind") == "Pod" and (
            labels.get("component") == "speaker" or labels.get("app.kubernetes.io/component") == "speaker"
        )
        if is_speaker and obj["spec"].get("nodeName") == node_name:
            found = obj
            continue
        items.append(obj)
    if ready is not None:
        if found is None:
            ip = next(
                a["address"]
                for o in world["items"]
                if o.get("kind") == "Node" and o["metadata"]["name"] == node_name
                for a in o["status"]["addresses"]
                if a["type"] == "InternalIP"
            )
            mode = (world.get("metallb") or {}).get("bgpType") or "frr"
            version = (world.get("metallb") or {}).get("version") or METALLB_VERSION
            found = speaker_pod(node_name, ip, ready, bgp_type=mode, version=version)
        else:
            mode, version = speaker_mode(found)
            found = speaker_pod(
                node_name,
                found["status"]["hostIP"],
                ready,
                helm="app.kubernetes.io/component" in found["metadata"]["labels"],
                bgp_type=mode,
                version=version,
            )
        items.append(found)
    return {**world, "items": items}


EXCLUDE_LB_LABEL = "node.kubernetes.io/exclude-from-external-load-balancers"
NODE_STATES = ("network_unavailable", "exclude_lb", "unschedulable")


def node_state(world: dict[str, Any], node_name: str) -> dict[str, bool]:
    """The node's ``network_unavailable`` (condition NetworkUnavailable True), ``exclude_lb`` (the label) and
    ``unschedulable`` (spec.unschedulable); all False for a node not in the world."""
    for o in world.get("items", []):
        if o.get("kind") == "Node" and o["metadata"]["name"] == node_name:
            conds = (o.get("status") or {}).get("conditions") or []
            return {
                "network_unavailable": any(
                    c.get("type") == "NetworkUnavailable" and c.get("status") == "True" for c in conds
                ),
                "exclude_lb": EXCLUDE_LB_LABEL in (o["metadata"].get("labels") or {}),
                "unschedulable": bool((o.get("spec") or {}).get("unschedulable")),
            }
    return dict.fromkeys(NODE_STATES, False)


def set_node_state(world: dict[str, Any], node_name: str, **state: bool) -> dict[str, Any]:
    """A copy of ``world`` with node ``node_name``'s states (keywords of ``NODE_STATES``) set as given.

    NetworkUnavailable with the reasons and messages of the cloud route controller (kubernetes
    pkg/controller/route/route_controller.go updateNetworkingCondition, read from a stored copy, tag not
    pinned: ``NoRouteCreated`` "RouteController failed to create a route" / ``RouteCreated`` "RouteController
    created a route"); the label with value "" (``kubectl label node N
    node.kubernetes.io/exclude-from-external-load-balancers=``); ``spec.unschedulable: true`` as ``kubectl
    cordon`` (which also adds the node.kubernetes.io/unschedulable:NoSchedule taint: the node lifecycle
    controller's TaintNodesByCondition; left out here)."""
    unknown = set(state) - set(NODE_STATES)
    if unknown:
        raise ValueError(f"unknown node state {sorted(unknown)}; one of {', '.join(NODE_STATES)}")
    items = []
    for o in world["items"]:
        if o.get("kind") == "Node" and o["metadata"]["name"] == node_name:
            o = copy.deepcopy(o)
            if "network_unavailable" in state:
                conds = [c for c in o["status"].get("conditions") or [] if c.get("type") != "NetworkUnavailable"]
                down = state["network_unavailable"]
                conds.insert(
                    0,
                    {
                        "type": "NetworkUnavailable",
                        "status": "True" if down else "False",
                        "reason": "NoRouteCreated" if down else "RouteCreated",
                        "message": f"RouteController {'failed to create' if down else 'created'} a route",
                        "lastHeartbeatTime": T0,
                        "lastTransitionTime": T0,
                    },
                )
                o["status"]["conditions"] = conds
            if "exclude_lb" in state:
                labels = o["metadata"].setdefault("labels", {})
                if state["exclude_lb"]:
                    labels[EXCLUDE_LB_LABEL] = ""
                else:
                    labels.pop(EXCLUDE_LB_LABEL, None)
            if "unschedulable" in state:
                if state["unschedulable"]:
                    o["spec"]["unschedulable"] = True
                else:
                    o["spec"].pop("unschedulable", None)
        items.append(o)
    return {**world, "items": items}


def kubeconfig(
    servers: dict[str, str],
    token: str | None = "edgekit-lab",
    ca_file: str | None = None,
    current: str | None = None,
) -> dict[str, Any]:
    """A kubeconfig with one context per cluster name -> server URL (context, cluster and user share the name)."""
    names = list(servers)
    clusters = []
    for name, url in servers.items():
        entry: dict[str, Any] = {"server": url}
        if ca_file:
            entry["certificate-authority"] = ca_file
        clusters.append({"name": name, "cluster": entry})
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "preferences": {},
        "clusters": clusters,
        "users": [{"name": n, "user": {"token": token} if token else {}} for n in names],
        "contexts": [{"name": n, "context": {"cluster": n, "user": n}} for n in names],
        "current-context": current or (names[0] if names else ""),
    }
