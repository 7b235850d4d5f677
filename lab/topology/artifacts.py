"""Files the lab writes under its state directory: keys, certificates, Terraform states, the site
file, the kubeconfig, the environment for ``lab exec``, and the per-host daemon configs.

Layout (``<state>/``)::

    lab.json                    options of this lab (later commands read them)
    site.yaml  kubeconfig  env.sh
    tfstate/<cluster>.tfstate   Sakura Cloud shaped state, also served by S3 as env:/<cluster>/terraform.tfstate
    ssh/id_ed25519[.pub]        the operator's key (router user vyos, LB user root)
    ssh/known_hosts ssh/config  host keys of routers and LBs
    ssh/ssh_host_ed25519_key    host key of the LBs' sshd
    tls/lab.crt tls/lab.key     self-signed (CA) certificate of the masters and the Kubernetes API stand-ins
    secrets/                    WireGuard keys, VRRP auth_pass (referenced from the site file as {file: ...})
    hosts/<host>/               one directory per host: configs, logs, pid files, FRR sockets
    run/<id>.pid                pid files of the processes the lab started
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import shutil
import string
from ipaddress import IPv4Network
from pathlib import Path
from typing import Any

import yaml

from lab.topology.plan import (
    GENERATED_BASE,
    GLOBAL_POOL,
    MAX_GENERATED,
    PRIVATE_NET,
    PUBLIC_BASE,
    ROUTER_ASN,
    ROUTER_NODE_ADDRESS,
    S3_PORT,
    SEED_TIMERS,
    SPEAKER_ASN,
    VENUE_POOL,
    WG_PORT,
    Cluster,
    Plan,
)
from lab.topology.system import run

S3_BUCKET = "tfstate"
S3_KEY = "terraform.tfstate"
S3_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "edgekit-lab", "AWS_SECRET_ACCESS_KEY": "edgekit-lab-secret"}
KUBE_TOKEN = "edgekit-lab-token"
WG_KEEPALIVE = 5  # venue side: short, so the tunnel comes up within seconds of edgekit configuring the router


class Paths:
    def __init__(self, state: Path) -> None:
        self.state = state
        self.lab_json = state / "lab.json"
        self.site = state / "site.yaml"
        self.kubeconfig = state / "kubeconfig"
        self.env_sh = state / "env.sh"
        self.tfstate = state / "tfstate"
        self.ssh = state / "ssh"
        self.key = self.ssh / "id_ed25519"
        self.known_hosts = self.ssh / "known_hosts"
        self.ssh_config = self.ssh / "config"
        self.host_key = self.ssh / "ssh_host_ed25519_key"
        self.authorized_keys = self.ssh / "authorized_keys"
        self.tls = state / "tls"
        self.cert = self.tls / "lab.crt"
        self.key_pem = self.tls / "lab.key"
        self.secrets = state / "secrets"
        self.hosts = state / "hosts"
        self.run = state / "run"

    def host(self, name: str) -> Path:
        return self.hosts / name

    def pidfile(self, proc_id: str) -> Path:
        return self.run / f"{proc_id}.pid"

    def wg_key(self, cluster: str, side: str) -> Path:
        return self.secrets / f"{cluster}-{side}-wg.key"

    def vrrp_pass(self, cluster: str) -> Path:
        return self.secrets / f"{cluster}-vrrp.pass"


def write(path: Path, text: str, mode: int = 0o644) -> bool:
    """Write if different; True when the file changed (idempotent ``up`` restarts nothing needlessly)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() and path.read_text() == text:
        return False
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.chmod(tmp, mode)
    tmp.replace(path)
    return True


# -- secrets -----------------------------------------------------------------------------------------


def ensure_secrets(paths: Paths, plan: Plan) -> None:
    """Keys and certificates, made once per lab (a re-run of ``up`` keeps them)."""
    paths.ssh.mkdir(parents=True, exist_ok=True)
    paths.secrets.mkdir(parents=True, exist_ok=True)
    os.chmod(paths.secrets, 0o700)
    if not paths.key.exists():
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "edgekit-lab", "-f", str(paths.key)])
    if not paths.host_key.exists():
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "edgekit-lab-host", "-f", str(paths.host_key)])
    write(paths.authorized_keys, paths.key.with_suffix(".pub").read_text())
    if not paths.cert.exists():
        paths.tls.mkdir(parents=True, exist_ok=True)
        run(
            [
                "openssl",
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-nodes",
                "-days",
                "3650",
                "-subj",
                "/CN=edgekit-lab",
                "-addext",
                "subjectAltName=" + ",".join(_cert_names()),
                "-keyout",
                str(paths.key_pem),
                "-out",
                str(paths.cert),
            ]
        )
        os.chmod(paths.key_pem, 0o644)  # read by the servers, all root; the lab's key protects nothing real
    for c in plan.clusters.values():
        for side in ("router", "venue"):
            key = paths.wg_key(c.name, side)
            if not key.exists():
                write(key, run(["wg", "genkey"]), 0o600)
        pw = paths.vrrp_pass(c.name)
        if not pw.exists():
            alphabet = string.ascii_letters + string.digits
            write(pw, "".join(secrets.choice(alphabet) for _ in range(8)) + "\n", 0o600)  # VRRP PASS: 8 chars max


def _cert_names() -> list[str]:
    """Every address a master, VIP or API stand-in can have in any lab, so one certificate serves all."""
    names = ["DNS:localhost", "DNS:kubernetes", "DNS:kubernetes.default", "IP:127.0.0.1"]
    for size in (16, 32):
        for idx in range(8):
            base = PUBLIC_BASE + size * idx
            if int(base) + 10 > int(PUBLIC_BASE) + 255:
                continue
            names += [f"IP:{base + off}" for off in (5, 6, 7, 10)]
    for number in range(1, MAX_GENERATED + 1):  # generated clusters: same offsets in 100.64.NN.0/24
        base = GENERATED_BASE + 256 * number
        names += [f"IP:{base + off}" for off in (5, 6, 7, 10)]
    return sorted(set(names))


def wg_public(paths: Paths, cluster: str, side: str) -> str:
    return run(["wg", "pubkey"], input=paths.wg_key(cluster, side).read_text()).strip()


# -- Terraform state ---------------------------------------------------------------------------------


def _id(cluster: Cluster, kind: int, n: int) -> str:
    """Sakura-style 12-digit resource ids, stable per cluster."""
    return f"1134{cluster.index:02d}{kind:03d}{n:03d}"


def _tuple(values: list[str]) -> dict[str, Any]:
    return {"value": values, "type": ["tuple", ["string"] * len(values)]}


def tfstate(plan: Plan, c: Cluster, password: str) -> dict[str, Any]:
    """A Sakura Cloud provider v2 state (format v4) shaped like shared/reference/samples/prd.tfstate."""
    inet_id, priv_id, internet_id = _id(c, 0, 2), _id(c, 0, 3), _id(c, 0, 1)
    plen = c.block.prefixlen
    provider = 'provider["registry.terraform.io/sacloud/sakuracloud"]'
    private = base64.b64encode(b'{"e2bfb730-ecaa-11e6-8f88-34363bc7c4c0":{"create":3600000000000}}').decode()
    sensitive_pw = [
        [
            {"type": "get_attr", "value": "disk_edit_parameter"},
            {"type": "index", "value": {"value": 0, "type": "number"}},
            {"type": "get_attr", "value": "password"},
        ]
    ]
    tags = ["@nic-double-queue", "k8s", c.name]

    def server(name: str, sid: str, nics: list[tuple[str, str]], ip: str, gw: str, netmask: int, public: bool):
        network = str(IPv4Network(f"{ip}/{netmask}", strict=False).network_address) if public else ""
        return {
            "cdrom_id": "",
            "commitment": "standard",
            "core": 2,
            "description": "",
            "disk_edit_parameter": [
                {
                    "change_partition_uuid": False,
                    "disable_pw_auth": True,
                    "enable_dhcp": False,
                    "gateway": gw,
                    "hostname": name,
                    "ip_address": ip,
                    "netmask": netmask,
                    "note": [],
                    "note_ids": [],
                    "password": password,
                    "ssh_key_ids": ["113400000099"],
                    "ssh_keys": [],
                }
            ],
            "disks": [sid.replace("1134", "2234", 1)],
            "dns_servers": ["210.188.224.10", "210.188.224.11"],
            "force_shutdown": None,
            "gateway": gw,
            "gpu": 0,
            "hostname": name,
            "icon_id": "",
            "id": sid,
            "interface_driver": "virtio",
            "ip_address": ip,
            "memory": 2,
            "name": name,
            "netmask": netmask,
            "network_address": network,
            "network_interface": [
                {
                    "mac_address": f"9c:a3:ba:{c.index:02x}:{int(sid[-6:-3]) % 256:02x}:{int(sid[-3:]) % 256:02x}",
                    "packet_filter_id": "",
                    "upstream": up,
                    "user_ip_address": addr,
                }
                for up, addr in nics
            ],
            "private_host_id": "",
            "private_host_name": "",
            "tags": tags,
            "timeouts": {"create": "1h", "delete": "1h", "update": None},
            "user_data": None,
            "zone": "tk1a",
        }

    def resource(name: str, instances: list[dict[str, Any]], deps: list[str]) -> dict[str, Any]:
        return {
            "mode": "managed",
            "type": "sakuracloud_server",
            "name": name,
            "provider": provider,
            "instances": [
                {
                    "index_key": i,
                    "schema_version": 0,
                    "attributes": attrs,
                    "sensitive_attributes": sensitive_pw,
                    "private": private,
                    "dependencies": deps,
                }
                for i, attrs in enumerate(instances)
            ],
        }

    deps = ["sakuracloud_internet.k8s-external-switch", "sakuracloud_switch.k8s-internal-switch"]
    gw = str(c.gateway)
    router = server(
        c.server_name("router"),
        _id(c, 100, 0),
        [(inet_id, str(c.router_public.ip)), (priv_id, "")],
        str(c.router_public.ip),
        gw,
        plen,
        True,
    )
    # Masters' and LBs' second NICs are display-only in the provider (tfstate.md); 192.168.100.4x / .3x
    # keep them clear of the nodes' .11- in the private node-subnet variant.
    masters = [
        server(
            c.server_name("master", i),
            _id(c, 110, i),
            [(inet_id, str(c.master_address(i))), (priv_id, str(PRIVATE_NET[40 + i]))],
            str(c.master_address(i)),
            gw,
            plen,
            True,
        )
        for i in (1, 2, 3)
    ]
    lbs = [
        server(
            c.server_name("lb", i),
            _id(c, 130, i),
            [(inet_id, str(c.lb_address(i))), (priv_id, str(PRIVATE_NET[29 + i]))],
            str(c.lb_address(i)),
            gw,
            plen,
            True,
        )
        for i in (1, 2)
    ]
    nodes = []
    for i in range(1, c.node_count + 1):
        addr = c.node_address(i)
        nodes.append(
            server(
                c.server_name("node", i),
                _id(c, 120, i),
                [(priv_id, str(addr.ip))],
                str(addr.ip),
                str(c.node_gateway),
                addr.network.prefixlen,
                False,
            )
        )
    all_ids = [router["id"]] + [s["id"] for s in masters + lbs]
    public_ips = [str(c.block[i]) for i in range(4, c.block.num_addresses - 1)]
    resources: list[dict[str, Any]] = [
        {
            "mode": "managed",
            "type": "sakuracloud_internet",
            "name": "k8s-external-switch",
            "provider": provider,
            "instances": [
                {
                    "schema_version": 0,
                    "attributes": {
                        "band_width": 100,
                        "description": "",
                        "enable_ipv6": False,
                        "gateway": gw,
                        "icon_id": "",
                        "id": internet_id,
                        "ip_addresses": public_ips,
                        "max_ip_address": public_ips[-1],
                        "min_ip_address": public_ips[0],
                        "name": "k8s-external-switch",
                        "netmask": plen,
                        "network_address": str(c.block.network_address),
                        "server_ids": all_ids,
                        "switch_id": inet_id,
                        "tags": [],
                        "zone": "tk1a",
                    },
                    "sensitive_attributes": [],
                    "private": private,
                }
            ],
        },
        {
            "mode": "managed",
            "type": "sakuracloud_subnet",
            "name": "bgp-subnet",
            "provider": provider,
            "instances": [
                {
                    "schema_version": 0,
                    "attributes": {
                        "id": _id(c, 0, 4),
                        "internet_id": internet_id,
                        "ip_addresses": [str(a) for a in c.metallb_range],
                        "max_ip_address": str(c.metallb_range[-1]),
                        "min_ip_address": str(c.metallb_range[0]),
                        "netmask": c.metallb_range.prefixlen,
                        "network_address": str(c.metallb_range.network_address),
                        "next_hop": str(c.router_public.ip),
                        "switch_id": inet_id,
                        "zone": "tk1a",
                    },
                    "sensitive_attributes": [],
                    "private": private,
                    "dependencies": ["sakuracloud_internet.k8s-external-switch"],
                }
            ],
        },
        {
            "mode": "managed",
            "type": "sakuracloud_switch",
            "name": "k8s-internal-switch",
            "provider": provider,
            "instances": [
                {
                    "schema_version": 0,
                    "attributes": {
                        "bridge_id": "",
                        "description": "",
                        "icon_id": "",
                        "id": priv_id,
                        "name": "k8s-internal-switch",
                        "server_ids": all_ids + [n["id"] for n in nodes],
                        "tags": [],
                        "zone": "tk1a",
                    },
                    "sensitive_attributes": [],
                    "private": private,
                }
            ],
        },
        resource("k8s-lb-server", lbs, deps),
        resource("k8s-master-server", masters, deps),
        resource("k8s-node-server", nodes, ["sakuracloud_switch.k8s-internal-switch"]),
        resource("k8s-router", [router], deps),
    ]
    outputs = {
        "show_workspaces": {"value": c.name, "type": "string"},
        "vip_address": {"value": str(c.vip), "type": "string"},
        "metallb_address_range": {"value": str(c.metallb_range), "type": "string"},
        "k8s_router_ipaddress": _tuple([str(c.router_public.ip)]),
        "k8s_router_internal_ipaddress": {"value": str(ROUTER_NODE_ADDRESS.ip), "type": "string"},
        "k8s_master_server_ipaddress": _tuple([str(c.master_address(i)) for i in (1, 2, 3)]),
        "k8s_lb_server_ipaddress": _tuple([str(c.lb_address(i)) for i in (1, 2)]),
        "k8s_node_server_ipaddress": _tuple([str(c.node_address(i).ip) for i in range(1, c.node_count + 1)]),
    }
    lineage = hashlib.sha1(f"{plan.prefix}-{c.name}".encode()).hexdigest()
    return {
        "version": 4,
        "terraform_version": "1.5.7",
        "serial": 1,
        "lineage": f"{lineage[:8]}-{lineage[8:12]}-{lineage[12:16]}-{lineage[16:20]}-{lineage[20:32]}",
        "outputs": outputs,
        "resources": resources,
        "check_results": None,
    }


# -- site file, kubeconfig, environment --------------------------------------------------------------


def site_file(paths: Paths, plan: Plan) -> dict[str, Any]:
    creds = {"ssh_key_file": str(paths.key), "known_hosts_file": str(paths.known_hosts)}
    order = [n for n in ("dev", "wsp", "prd") if n in plan.clusters] + [
        n for n in plan.clusters if n not in ("dev", "wsp", "prd")
    ]
    clusters: dict[str, Any] = {}
    for c in plan.clusters.values():
        wg: dict[str, Any] = {
            "address": f"{c.tunnel[1]}/{c.tunnel.prefixlen}",
            "private_key": {"file": str(paths.wg_key(c.name, "router"))},
            "peer_public_key": wg_public(paths, c.name, "venue"),
            "endpoint": f"{c.venue_endpoint}:{WG_PORT}",
            "allowed_ips": [f"{c.tunnel[2]}/32", str(c.venue_network)],
            "venue_networks": [str(c.venue_network)],
        }
        if c.vyos == "1.3":
            # 1.3 keeps the key on the box under this name: edgekit runs `generate wireguard
            # named-keypairs venue` and the venue must then learn the new public key (lab/README.md).
            wg["key_name"] = "venue"
        clusters[c.name] = {
            "node_subnet": c.node_subnet,
            "kube_context": c.name,
            "router": {"node_address": str(ROUTER_NODE_ADDRESS)},
            "wireguard": wg,
            "lb": {"auth_pass": {"file": str(paths.vrrp_pass(c.name))}},
        }
        if site_pool_scope():
            clusters[c.name]["metallb"] = {"pools": site_pools(c)}
    return {
        "rollout": order,
        "defaults": {
            # BFD needs MetalLB's end too (a BFDProfile edgekit's `metallb deploy` applies); the seeded MetalLB
            # has none, so the lab's site starts with BFD off, as a site that has not opted in (tests and the
            # failover bench turn it on: tests/lab/router/test_bfd_lab.py, bench/bench_failover.py).
            "bfd": {"enabled": False},
            "speaker_asn": SPEAKER_ASN,
            "router": {"asn": ROUTER_ASN, "credentials": {"username": "vyos", **creds}},
            "lb": {"credentials": {"username": "root", **creds}},
        },
        "clusters": clusters,
    }


def site_pools(c: Cluster) -> list[dict[str, Any]]:
    """The cluster's MetalLB pools as the site file states them: the global pool and the venue-scoped one
    (names as in the cluster's IPAddressPools / legacy ConfigMap, so edgekit matches them)."""
    return [
        {"name": GLOBAL_POOL, "addresses": [str(c.metallb_range)], "scope": "global"},
        {"name": VENUE_POOL, "addresses": [str(c.venue_pool)], "scope": "venue"},
    ]


def site_pool_scope() -> bool:
    """Whether this checkout's site schema knows pool ``scope`` (inventory.sitefile.PoolFile): until it does,
    a site file with pools would be refused as a whole, so the lab leaves them out (they then come from
    Kubernetes, which holds both pools, and the tfstate)."""
    try:
        from inventory.sitefile import PoolFile
    except ImportError:
        return False
    return "scope" in PoolFile.model_fields


def kubeconfig(paths: Paths, plan: Plan) -> dict[str, Any]:
    ca = base64.b64encode(paths.cert.read_bytes()).decode()
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "preferences": {},
        "current-context": next(iter(plan.clusters)),
        "clusters": [
            {
                "name": c.name,
                "cluster": {"server": f"https://127.0.0.1:{c.kubeapi_port}", "certificate-authority-data": ca},
            }
            for c in plan.clusters.values()
        ],
        "users": [{"name": "lab-admin", "user": {"token": KUBE_TOKEN}}],
        "contexts": [
            {"name": c.name, "context": {"cluster": c.name, "user": "lab-admin"}} for c in plan.clusters.values()
        ],
    }


def environment(paths: Paths, plan: Plan, repo: Path) -> dict[str, str]:
    """What `lab exec` adds to the environment, so edgekit needs no arguments in the operator namespace."""
    s3 = f"http://127.0.0.1:{S3_PORT}"
    # One source per workspace: EDGEKIT_STATE is a comma-separated list of sources.
    states = ",".join(f"s3://{S3_BUCKET}/{S3_KEY}?workspace={name}" for name in plan.clusters)
    env = {
        "EDGEKIT_STATE": states,
        "EDGEKIT_S3_ENDPOINT": s3,
        "AWS_ENDPOINT_URL_S3": s3,
        "AWS_DEFAULT_REGION": "us-east-1",
        **S3_CREDENTIALS,
        "EDGEKIT_SITE": str(paths.site),
        "KUBECONFIG": str(paths.kubeconfig),
        "EDGEKIT_SSH_KEY": str(paths.key),
        "EDGEKIT_KNOWN_HOSTS": str(paths.known_hosts),
        "EDGEKIT_LAB_PREFIX": plan.prefix,
        "EDGEKIT_LAB_STATE": str(paths.state),
        # The same states as files, for tools that cannot read S3.
        "EDGEKIT_LAB_TFSTATE_FILES": ",".join(str(paths.tfstate / f"{c}.tfstate") for c in plan.clusters),
    }
    py = os.environ.get("PYTHONPATH")
    env["PYTHONPATH"] = str(repo) + (os.pathsep + py if py else "")
    return env


def env_sh(env: dict[str, str]) -> str:
    lines = ["# source inside the operator namespace: ip netns exec <prefix>-op bash; . env.sh"]
    lines += [f"export {k}='{v}'" for k, v in sorted(env.items())]
    return "\n".join(lines) + "\n"


def ssh_config(paths: Paths) -> str:
    return (
        "Host *\n"
        f"  IdentityFile {paths.key}\n"
        "  IdentitiesOnly yes\n"
        f"  UserKnownHostsFile {paths.known_hosts}\n"
        "  StrictHostKeyChecking yes\n"
        "  ConnectTimeout 3\n"
    )


# -- per-host configs --------------------------------------------------------------------------------


def speaker_bgpd(c: Cluster, i: int) -> str:
    """bgpd.conf as MetalLB's FRR mode renders it for node i from the cluster's seeded world."""
    from lab.kubeapi.world import build_world
    from lab.topology import metallb

    args = world_args(None, c)
    outcome, _ = metallb.run(build_world(args["nodes"], args["metallb"], args["services"]), c.node_names)
    return outcome.configs[c.server_name("node", i)][0]


def world_args(plan: Plan | None, c: Cluster) -> dict[str, Any]:
    """The Kubernetes facts of cluster c, as arguments of lab.kubeapi.world.build_world.

    MetalLB: the form of ``--metallb`` (``none``: installed, no config), the router as peer with the lab's
    short timers (plan.SEED_TIMERS), the global pool and the venue pool (autoAssign false: only Services
    that ask get its addresses). Services ask for their IP (metallb.universe.tf/loadBalancerIPs) and pool;
    with ``none`` they start without one, as on a cluster whose MetalLB has no config yet."""
    del plan
    configured = c.metallb_mode != "none"
    pools = [
        {"name": GLOBAL_POOL, "addresses": [str(c.metallb_range)]},
        {"name": VENUE_POOL, "addresses": [str(c.venue_pool)], "autoAssign": False},
    ]
    return {
        "nodes": [
            (c.server_name("node", i), str(c.node_address(i).ip), c.speaker_ready(i))
            for i in range(1, c.node_count + 1)
        ],
        "metallb": (c.metallb_mode, str(c.metallb_peer), ROUTER_ASN, SPEAKER_ASN, pools, dict(SEED_TIMERS)),
        "install": {"metallb_version": c.metallb_version, "bgp_type": c.metallb_speaker},
        "services": [
            {
                "namespace": s.namespace,
                "name": s.name,
                "ip": str(s.ip),
                "policy": s.policy,
                "endpoints": list(s.endpoint_nodes),
                "pool": s.pool,
                "request_ip": True,
                "allocated": configured,
            }
            for s in c.services
        ],
    }


def write_yaml(path: Path, data: Any, mode: int = 0o644) -> bool:
    return write(path, yaml.safe_dump(data, sort_keys=False), mode)


def write_json(path: Path, data: Any) -> bool:
    return write(path, json.dumps(data, indent=1) + "\n")


def copy_tree_once(src: Path, dst: Path) -> None:
    """The packaged config of a fresh install (e.g. /etc/haproxy), copied on the first ``up`` only."""
    if dst.exists():
        return
    if src.is_dir():
        shutil.copytree(src, dst, symlinks=True)
    else:
        dst.mkdir(parents=True)
