"""A small Kubernetes API server stand-in: serves a "world" of genuine API objects, read-only.

The world is a Kubernetes ``List`` (``{"apiVersion": "v1", "kind": "List", "items": [...]}``, what
``kubectl get -o json`` prints) or ``{"items": [...]}``; each item is a full object with ``apiVersion``,
``kind`` and ``metadata``. Optional top-level ``crds``: resource names like ``bgppeers.metallb.io`` that
are served even with no object (an API group with neither objects nor a ``crds`` entry answers 404, like a
cluster without that CRD).

Paths (GET only), with real list JSON (``apiVersion``, ``kind: <Kind>List``, ``metadata.resourceVersion``,
``items``) and ``Status`` objects for errors (404 NotFound, 401 Unauthorized, 405):

    /version, /api, /apis
    /api/v1/<plural>                          nodes, pods, services, configmaps, secrets, endpoints, namespaces
    /api/v1/<plural>/<name>                   cluster-scoped objects (nodes, namespaces)
    /api/v1/namespaces/<ns>/<plural>[/<name>]
    /apis/<group>/<version>/<plural>          e.g. discovery.k8s.io/v1 endpointslices
    /apis/<group>/<version>/namespaces/<ns>/<plural>[/<name>]   e.g. metallb.io/v1beta2 bgppeers

Query ``labelSelector`` (``a=b``, ``a==b``, ``a!=b``, ``a``, ``!a``, ``a in (x,y)``, ``a notin (x)``) and
``fieldSelector`` (``metadata.name=x``, ``metadata.namespace=x``, ``spec.nodeName=x``, ``!=``) filter lists.
For group ``metallb.io`` any served version answers (v1beta1 and v1beta2 BGPPeers), with ``apiVersion``
rewritten to the one asked for.
"""

from __future__ import annotations

import copy
import json
import re
import ssl
import threading
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

CLUSTER_SCOPED = {"Node", "Namespace", "PersistentVolume", "CustomResourceDefinition"}
PLURALS = {"Endpoints": "endpoints"}
GIT_VERSION = "v1.29.4-edgekit"
# Groups whose objects are served under any version the client asks for.
VERSIONLESS_GROUPS = {"metallb.io"}


def plural_of(kind: str) -> str:
    return PLURALS.get(kind, kind.lower() + ("es" if kind.lower().endswith("s") else "s"))


def split_api_version(api_version: str) -> tuple[str, str]:
    return tuple(api_version.split("/", 1)) if "/" in api_version else ("", api_version)  # type: ignore[return-value]


def status(code: int, reason: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }
    if details:
        body["details"] = details
    return body


_SET_RE = re.compile(r"^\s*([^\s!=]+)\s+(in|notin)\s+\(([^)]*)\)\s*$")


def _split_selector(selector: str) -> list[str]:
    parts, depth, cur = [], 0, ""
    for ch in selector:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    if cur.strip():
        parts.append(cur)
    return [p.strip() for p in parts if p.strip()]


def label_match(labels: dict[str, str], selector: str) -> bool:
    for term in _split_selector(selector):
        m = _SET_RE.match(term)
        if m:
            key, op, values = m.group(1), m.group(2), {v.strip() for v in m.group(3).split(",") if v.strip()}
            if op == "in" and labels.get(key) not in values:
                return False
            if op == "notin" and key in labels and labels[key] in values:
                return False
        elif "!=" in term:
            key, value = (x.strip() for x in term.split("!=", 1))
            if labels.get(key) == value:
                return False
        elif "=" in term:
            key, value = (x.strip() for x in term.replace("==", "=").split("=", 1))
            if labels.get(key) != value:
                return False
        elif term.startswith("!"):
            if term[1:].strip() in labels:
                return False
        elif term not in labels:
            return False
    return True


def _field(obj: dict[str, Any], path: str) -> Any:
    node: Any = obj
    for part in path.split("."):
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node


def field_match(obj: dict[str, Any], selector: str) -> bool:
    for term in _split_selector(selector):
        if "!=" in term:
            key, value = term.split("!=", 1)
            if str(_field(obj, key.strip())) == value.strip():
                return False
        elif "=" in term:
            key, value = term.replace("==", "=").split("=", 1)
            if str(_field(obj, key.strip())) != value.strip():
                return False
    return True


class World:
    """The served objects, indexed by (group, plural). Thread-safe replacement via ``set``."""

    def __init__(self, world: dict[str, Any] | None = None) -> None:
        self._lock = threading.Lock()
        self.version = 0
        self.items: list[dict[str, Any]] = []
        self.crds: set[str] = set()
        self.set(world or {"items": []})

    def set(self, world: dict[str, Any]) -> None:
        items = copy.deepcopy(world.get("items") or [])
        with self._lock:
            self.version += 1
            rv = str(1000 + self.version * 100)
            for i, obj in enumerate(items):
                meta = obj.setdefault("metadata", {})
                meta.setdefault("uid", str(uuid.uuid5(uuid.NAMESPACE_URL, f"{obj.get('kind')}/{meta.get('name')}/{i}")))
                meta.setdefault("resourceVersion", rv)
                meta.setdefault("creationTimestamp", "2024-05-01T09:00:00Z")
                if obj.get("kind") not in CLUSTER_SCOPED:
                    meta.setdefault("namespace", "default")
            self.items = items
            self.crds = set(world.get("crds") or [])
            self.resource_version = rv

    def served(self, group: str, plural: str) -> bool:
        if group in ("",) or group in ("discovery.k8s.io", "apps", "coordination.k8s.io"):
            return True
        if f"{plural}.{group}" in self.crds:
            return True
        return any(
            split_api_version(o.get("apiVersion", ""))[0] == group and plural_of(o.get("kind", "")) == plural
            for o in self.items
        )

    def select(self, group: str, plural: str, namespace: str | None) -> list[dict[str, Any]]:
        with self._lock:
            items = list(self.items)
        out = []
        for obj in items:
            g, _ = split_api_version(obj.get("apiVersion", ""))
            if g != group or plural_of(obj.get("kind", "")) != plural:
                continue
            if namespace is not None and obj.get("metadata", {}).get("namespace") != namespace:
                continue
            out.append(obj)
        return out

    def namespaces(self) -> list[dict[str, Any]]:
        names = sorted(
            {o["metadata"]["namespace"] for o in self.items if o.get("metadata", {}).get("namespace")}
            | {"default", "kube-system"}
        )
        explicit = {o["metadata"]["name"]: o for o in self.items if o.get("kind") == "Namespace"}
        return [
            explicit.get(n)
            or {
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": {
                    "name": n,
                    "resourceVersion": self.resource_version,
                    "uid": str(uuid.uuid5(uuid.NAMESPACE_DNS, n)),
                },
                "spec": {"finalizers": ["kubernetes"]},
                "status": {"phase": "Active"},
            }
            for n in names
        ]


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        if self.server.verbose:
            super().log_message(format, *args)

    def _send(self, code: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Audit-Id", str(uuid.uuid4()))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802
        owner = self.server.owner
        if owner.before_request is not None:
            owner.before_request()
        if owner.token is not None and self.headers.get("Authorization") != f"Bearer {owner.token}":
            self._send(401, status(401, "Unauthorized", "Unauthorized"))
            return
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        code, body = route(owner.world, url.path, query)
        self._send(code, body)

    def _not_allowed(self) -> None:
        self._send(405, status(405, "MethodNotAllowed", "the stand-in is read-only"))

    do_POST = do_PUT = do_PATCH = do_DELETE = _not_allowed  # noqa: N815


def route(world: World, path: str, query: dict[str, str]) -> tuple[int, dict[str, Any]]:
    parts = [p for p in path.split("/") if p]
    if parts == ["version"]:
        return 200, {
            "major": "1",
            "minor": "29",
            "gitVersion": GIT_VERSION,
            "gitCommit": "0" * 40,
            "gitTreeState": "clean",
            "buildDate": "2024-04-16T00:00:00Z",
            "goVersion": "go1.22.2",
            "compiler": "gc",
            "platform": "linux/amd64",
        }
    if parts == ["api"]:
        return 200, {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []}
    if parts == ["apis"]:
        groups = sorted({split_api_version(o.get("apiVersion", ""))[0] for o in world.items} - {""})
        return 200, {
            "kind": "APIGroupList",
            "apiVersion": "v1",
            "groups": [{"name": g, "versions": [], "preferredVersion": {}} for g in groups],
        }
    if len(parts) >= 2 and parts[0] == "api" and parts[1] == "v1":
        group, version, rest = "", "v1", parts[2:]
    elif len(parts) >= 3 and parts[0] == "apis":
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        return 404, status(404, "NotFound", "the server could not find the requested resource")
    namespace: str | None = None
    name: str | None = None
    if len(rest) >= 3 and rest[0] == "namespaces":
        namespace, plural = rest[1], rest[2]
        name = rest[3] if len(rest) > 3 else None
        if len(rest) > 4:
            return 404, status(404, "NotFound", "subresources are not served by the stand-in")
    elif len(rest) in (1, 2):
        plural = rest[0]
        name = rest[1] if len(rest) == 2 else None
    else:
        return 404, status(404, "NotFound", "the server could not find the requested resource")
    if group == "" and plural == "namespaces":
        items = world.namespaces()
    elif not world.served(group, plural):
        return 404, status(404, "NotFound", "the server could not find the requested resource")
    else:
        items = world.select(group, plural, namespace)
    api_version = f"{group}/{version}" if group else version
    served = []
    for obj in items:
        if group in VERSIONLESS_GROUPS and obj.get("apiVersion") != api_version:
            obj = {**obj, "apiVersion": api_version}
        served.append(obj)
    if name is not None:
        for obj in served:
            if obj["metadata"].get("name") == name:
                return 200, obj
        return 404, status(
            404,
            "NotFound",
            f'{plural}{"." + group if group else ""} "{name}" not found',
            {"name": name, "group": group, "kind": plural} if group else {"name": name, "kind": plural},
        )
    if "labelSelector" in query:
        served = [o for o in served if label_match(o["metadata"].get("labels") or {}, query["labelSelector"])]
    if "fieldSelector" in query:
        served = [o for o in served if field_match(o, query["fieldSelector"])]
    kind = served[0]["kind"] if served else _kind_for(plural)
    return 200, {
        "apiVersion": api_version,
        "kind": f"{kind}List",
        "metadata": {"resourceVersion": world.resource_version},
        "items": served,
    }


_KINDS = {
    "nodes": "Node",
    "pods": "Pod",
    "services": "Service",
    "configmaps": "ConfigMap",
    "secrets": "Secret",
    "endpoints": "Endpoints",
    "endpointslices": "EndpointSlice",
    "namespaces": "Namespace",
    "ipaddresspools": "IPAddressPool",
    "bgpadvertisements": "BGPAdvertisement",
    "bgppeers": "BGPPeer",
    "l2advertisements": "L2Advertisement",
}


def _kind_for(plural: str) -> str:
    return _KINDS.get(plural, plural[:-1].capitalize())


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    owner: KubeAPIServer
    verbose: bool = False


class KubeAPIServer:
    """``KubeAPIServer(world).start() -> url``; ``set_world(world)`` at run time; ``stop()``.

    ``tls``: False for plain HTTP, or ``(cert_file, key_file)`` for HTTPS. ``token``: when set, requests
    must carry ``Authorization: Bearer <token>`` (401 otherwise).
    """

    def __init__(
        self,
        world: dict[str, Any] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        tls: bool | tuple[str | Path, str | Path] = False,
        token: str | None = None,
        verbose: bool = False,
    ) -> None:
        self.world = World(world)
        self.host = host
        self.port = port
        self.tls = tls
        self.token = token
        self.verbose = verbose
        self.before_request: Callable[[], None] | None = None
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self._httpd is not None, "not started"
        scheme = "https" if self.tls else "http"
        host = self.host if ":" not in self.host else f"[{self.host}]"
        return f"{scheme}://{host}:{self._httpd.server_address[1]}"

    def set_world(self, world: dict[str, Any]) -> None:
        self.world.set(world)

    def start(self) -> str:
        httpd = _Server((self.host, self.port), _Handler)
        httpd.owner = self
        httpd.verbose = self.verbose
        if self.tls:
            assert isinstance(self.tls, tuple), "tls=(cert_file, key_file)"
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(str(self.tls[0]), str(self.tls[1]))
            httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="kubeapi", daemon=True
        )
        self._thread.start()
        return self.url

    def serve_forever(self) -> None:
        """Run in the foreground (the CLI)."""
        self.start()
        assert self._thread is not None
        self._thread.join()

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> KubeAPIServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
