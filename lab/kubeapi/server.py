"""A small Kubernetes API server stand-in: serves a "world" of genuine API objects, and takes writes for
MetalLB's kinds, ConfigMaps, Secrets and Services (``WRITABLE``; server-side apply in apply.py).

The world is a Kubernetes ``List`` (``{"apiVersion": "v1", "kind": "List", "items": [...]}``, what
``kubectl get -o json`` prints) or ``{"items": [...]}``; each item is a full object with ``apiVersion``,
``kind`` and ``metadata``. Optional top-level ``crds``: resource names like ``bgppeers.metallb.io`` that
are served even with no object (an API group with neither objects nor a ``crds`` entry answers 404, like a
cluster without that CRD).

Reads (GET), with real list JSON (``apiVersion``, ``kind: <Kind>List``, ``metadata.resourceVersion``,
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
rewritten to the one asked for. Discovery (``/api/v1``, ``/apis``, ``/apis/<group>/<version>``) lists what
is served, so the kubernetes client's DynamicClient works.

Writes (``write_route``), namespaced objects of ``WRITABLE`` kinds in existing namespaces: PATCH with
``application/apply-patch+yaml`` (server-side apply, ``fieldManager`` required, ``force``), merge patch, JSON
patch, strategic merge patch (core kinds only; 415 for custom resources), PUT, POST, DELETE. Each write bumps
``metadata.resourceVersion`` (and ``generation`` of a custom resource whose spec changed), keeps
``metadata.managedFields``, and is handed to ``persist`` (the CLI writes the world file).
"""

from __future__ import annotations

import copy
import json
import re
import ssl
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import yaml

from lab.kubeapi import admission, crd_schema
from lab.kubeapi.status import status

CLUSTER_SCOPED = {"Node", "Namespace", "PersistentVolume", "CustomResourceDefinition"}
PLURALS = {"Endpoints": "endpoints"}
GIT_VERSION = "v1.29.4-edgekit"
# Groups whose objects are served under any version the client asks for.
VERSIONLESS_GROUPS = {"metallb.io"}


def plural_of(kind: str) -> str:
    return PLURALS.get(kind, kind.lower() + ("es" if kind.lower().endswith("s") else "s"))


def split_api_version(api_version: str) -> tuple[str, str]:
    return tuple(api_version.split("/", 1)) if "/" in api_version else ("", api_version)  # type: ignore[return-value]


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
            self.metallb: dict[str, Any] = dict(world.get("metallb") or {})
            seen = [
                int(o["metadata"].get("resourceVersion") or 0)
                for o in items
                if str(o["metadata"].get("resourceVersion", "")).isdigit()
            ]
            self.resource_version = str(max([int(rv), *seen]))

    def snapshot(self) -> dict[str, Any]:
        """The world as a file (``v1 List`` + ``crds``), for persisting writes."""
        with self._lock:
            out: dict[str, Any] = {
                "apiVersion": "v1",
                "kind": "List",
                "metadata": {"resourceVersion": self.resource_version},
                "items": copy.deepcopy(self.items),
            }
            if self.crds:
                out["crds"] = sorted(self.crds)
            if self.metallb:
                out["metallb"] = dict(self.metallb)
            return out

    def next_resource_version(self) -> str:
        """A resourceVersion above every one served so far (etcd's revision only grows)."""
        seen = [int(o.get("metadata", {}).get("resourceVersion") or 0) for o in self.items]
        rv = str(max([int(self.resource_version), *seen]) + 1)
        self.resource_version = rv
        return rv

    def put(self, obj: dict[str, Any]) -> None:
        """Insert or replace (by apiVersion group, kind, namespace, name)."""
        with self._lock:
            key = _key(obj)
            items = [o for o in self.items if _key(o) != key]
            items.append(obj)
            self.items = items

    def remove(self, obj: dict[str, Any]) -> None:
        with self._lock:
            key = _key(obj)
            self.items = [o for o in self.items if _key(o) != key]

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
    # kube-apiserver is Go: net.TCPConn has TCP_NODELAY on by default (go/src/net/tcpsock.go, SetNoDelay:
    # "The default is true (no delay)"). Without it, our separate header and body writes meet the client's
    # delayed ACK and every request waits ~40 ms, which no real API server does.
    disable_nagle_algorithm = True

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

    def _write(self) -> None:
        owner = self.server.owner
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if owner.token is not None and self.headers.get("Authorization") != f"Bearer {owner.token}":
            self._send(401, status(401, "Unauthorized", "Unauthorized"))
            return
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        request = WriteRequest(
            method=self.command,
            path=url.path,
            query=query,
            content_type=(self.headers.get("Content-Type") or "").split(";")[0].strip(),
            body=raw,
            user_agent=self.headers.get("User-Agent") or "",
        )
        with owner.write_lock():
            if owner.before_request is not None:
                owner.before_request()
            code, body, changed = write_route(owner.world, request)
            if changed and owner.persist is not None:
                owner.persist(owner.world.snapshot())
        self._send(code, body)

    do_POST = do_PUT = do_PATCH = do_DELETE = _write  # noqa: N815


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
    if parts == ["api", "v1"] or (len(parts) == 3 and parts[0] == "apis"):
        return discovery(world, parts)
    if parts == ["apis"]:
        return 200, group_list(world)
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
    "bfdprofiles": "BFDProfile",
    "communities": "Community",
}


def _kind_for(plural: str) -> str:
    return _KINDS.get(plural, plural[:-1].capitalize())


@contextmanager
def _nothing() -> Iterator[None]:
    yield


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
        # Writes: persist(world) after a change (the CLI writes the world file); write_lock() serialises writes
        # (the CLI's also holds the world file's lock, shared with the lab's speakers and faults).
        self.persist: Callable[[dict[str, Any]], None] | None = None
        self._write_lock = threading.Lock()
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self._httpd is not None, "not started"
        scheme = "https" if self.tls else "http"
        host = self.host if ":" not in self.host else f"[{self.host}]"
        return f"{scheme}://{host}:{self._httpd.server_address[1]}"

    @contextmanager
    def write_lock(self) -> Iterator[None]:
        with self._write_lock, self.file_lock() if self.file_lock is not None else _nothing():
            yield

    file_lock: Callable[[], Any] | None = None

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


# -- writes: create, replace, patch (incl. server-side apply), delete --------------------------------------

# What the stand-in accepts writes for (kubernetes.io Server-Side Apply; metallb.io CRDs of MetalLB v0.13).
WRITABLE = {
    ("", "configmaps"),
    ("", "secrets"),
    ("", "services"),
    ("metallb.io", "ipaddresspools"),
    ("metallb.io", "bgppeers"),
    ("metallb.io", "bgpadvertisements"),
    ("metallb.io", "bfdprofiles"),
    ("metallb.io", "l2advertisements"),
    ("metallb.io", "communities"),
}
# Custom resources: metadata.generation counts spec changes and DELETE answers with the object
# (apiextensions-apiserver's customresource store: ReturnDeletedObject); built-in ConfigMaps/Secrets/Services
# answer DELETE with a Success Status (generic registry Store.finalizeDelete).
CUSTOM_GROUPS = {"metallb.io"}
# staging/src/k8s.io/apiserver/pkg/endpoints/handlers/patch.go: the patch types a resource accepts; CRDs
# have no strategic merge patch (415 for it).
APPLY = "application/apply-patch+yaml"
MERGE = "application/merge-patch+json"
STRATEGIC = "application/strategic-merge-patch+json"
JSONPATCH = "application/json-patch+json"


def _key(obj: dict[str, Any]) -> tuple[str, str, str, str]:
    meta = obj.get("metadata", {})
    group = split_api_version(obj.get("apiVersion", ""))[0]
    return group, obj.get("kind", ""), meta.get("namespace") or "", meta.get("name") or ""


class WriteRequest:
    def __init__(
        self, method: str, path: str, query: dict[str, str], content_type: str, body: bytes, user_agent: str
    ) -> None:
        self.method = method
        self.path = path
        self.query = query
        self.content_type = content_type
        self.body = body
        self.user_agent = user_agent


def _bad(message: str, code: int = 400, reason: str = "BadRequest") -> tuple[int, dict[str, Any], bool]:
    return code, status(code, reason, message), False


def write_route(world: World, req: WriteRequest) -> tuple[int, dict[str, Any], bool]:
    """(HTTP code, body, world changed) for POST/PUT/PATCH/DELETE."""
    from lab.kubeapi import apply as ssa

    parts = [p for p in req.path.split("/") if p]
    if len(parts) >= 2 and parts[:2] == ["api", "v1"]:
        group, version, rest = "", "v1", parts[2:]
    elif len(parts) >= 3 and parts[0] == "apis":
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        return _bad("the server could not find the requested resource", 404, "NotFound")
    if len(rest) < 3 or rest[0] != "namespaces" or len(rest) > 4:
        return 405, status(405, "MethodNotAllowed", "the stand-in writes namespaced objects only"), False
    namespace, plural = rest[1], rest[2]
    name = rest[3] if len(rest) == 4 else None
    if (group, plural) not in WRITABLE:
        return 405, status(405, "MethodNotAllowed", f"the stand-in does not write {plural}"), False
    if not world.served(group, plural):
        return _bad("the server could not find the requested resource", 404, "NotFound")
    api_version = f"{group}/{version}" if group else version
    kind = _kind_for(plural)
    resource = f"{plural}.{group}" if group else plural
    dry_run = req.query.get("dryRun")
    if dry_run is not None and dry_run != "All":
        return _bad_dry_run(req.method, dry_run)
    live = next((o for o in world.select(group, plural, namespace) if o["metadata"].get("name") == name), None)
    if live is not None and group in VERSIONLESS_GROUPS:
        live = {**live, "apiVersion": api_version}
    not_found = (
        404,
        status(
            404,
            "NotFound",
            f'{resource} "{name}" not found',
            {"name": name, "group": group, "kind": plural} if group else {"name": name, "kind": plural},
        ),
        False,
    )
    if req.method == "DELETE":
        if live is None or name is None:
            return not_found
        verdict = _admission(world, group, plural, "DELETE", live)
        if verdict is not None:
            return verdict.code, verdict.body, False
        if dry_run:
            changed_delete = False
        else:
            world.remove(live)
            changed_delete = True
        if group in CUSTOM_GROUPS:
            return 200, live, changed_delete
        details = {"name": name, "group": group, "kind": plural, "uid": live["metadata"].get("uid", "")}
        return (
            200,
            {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": details},
            changed_delete,
        )
    if req.method != "POST" and name is None:
        return 405, status(405, "MethodNotAllowed", f"{req.method} needs a name"), False
    ns_names = {n["metadata"]["name"] for n in world.namespaces()}
    if namespace not in ns_names:
        return (
            404,
            status(404, "NotFound", f'namespaces "{namespace}" not found', {"name": namespace, "kind": "namespaces"}),
            False,
        )
    manager = req.query.get("fieldManager") or req.user_agent.split("/")[0]
    try:
        body: Any = (
            yaml.safe_load(req.body.decode() or "{}")
            if req.content_type in (APPLY, "")
            else json.loads(req.body or b"{}")
        )
    except (ValueError, yaml.YAMLError) as exc:
        return _bad(f"error decoding request body: {exc}")
    changed = False
    try:
        if req.method == "PATCH" and req.content_type == APPLY:
            if not req.query.get("fieldManager"):
                return _bad("PATCH: fieldManager is required for apply requests")
            if not isinstance(body, dict):
                return _bad("error decoding YAML: not an object")
            err = _check_body(body, api_version, kind, name, namespace)
            if err:
                return _bad(err)
            force = req.query.get("force", "false").lower() == "true"
            new, changed = ssa.apply(live, _pruned(_strip_status(body), group, world), req.query["fieldManager"], force)
            defaulted = with_defaults(new)
            if defaulted != new:
                new, changed = defaulted, changed or live is None or defaulted != live
            created = live is None
        elif req.method == "PATCH":
            if live is None:
                return not_found
            if req.content_type == MERGE or (req.content_type == STRATEGIC and group not in CUSTOM_GROUPS):
                # For these kinds' maps and atomic lists a strategic merge patch merges like a merge patch.
                target = ssa.merge_patch(live, body)
            elif req.content_type == JSONPATCH:
                target = ssa.json_patch(live, body)
            else:
                return (
                    415,
                    status(
                        415,
                        "UnsupportedMediaType",
                        f"the body of the request was in an unknown format - accepted media types include: "
                        f"{JSONPATCH}, {MERGE}, {APPLY}",
                    ),
                    False,
                )
            target = _pruned(target, group, world)
            new, changed = ssa.update(live, with_defaults(_keep_status(target, live)), manager, api_version)
            created = False
        elif req.method == "PUT":
            if live is None:
                return not_found
            err = _check_body(body, api_version, kind, name, namespace)
            if err:
                return _bad(err)
            rv = body.get("metadata", {}).get("resourceVersion")
            if rv and rv != live["metadata"].get("resourceVersion"):
                return (
                    409,
                    status(
                        409,
                        "Conflict",
                        f'Operation cannot be fulfilled on {resource} "{name}": the object has been modified; '
                        "please apply your changes to the latest version and try again",
                        {"name": name, "group": group, "kind": plural},
                    ),
                    False,
                )
            body = _pruned(body, group, world)
            new, changed = ssa.update(live, with_defaults(_keep_status(body, live)), manager, api_version)
            created = False
        else:  # POST
            name = body.get("metadata", {}).get("name")
            if not name:
                return _bad("name or generateName is required")
            if any(o["metadata"].get("name") == name for o in world.select(group, plural, namespace)):
                return (
                    409,
                    status(
                        409,
                        "AlreadyExists",
                        f'{resource} "{name}" already exists',
                        {"name": name, "group": group, "kind": plural},
                    ),
                    False,
                )
            err = _check_body(body, api_version, kind, name, namespace)
            if err:
                return _bad(err)
            body = _pruned(body, group, world)
            new, changed = ssa.update(None, with_defaults(_strip_status(body)), manager, api_version)
            created = True
    except ssa.ApplyConflict as exc:
        return 409, status(409, "Conflict", exc.message, {"causes": exc.causes}), False
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        return _bad(f"the request is invalid: {exc}", 422, "Invalid")
    if created and (not _DNS1123_SUBDOMAIN.fullmatch(name or "") or len(name or "") > 253):
        return _invalid_name(kind, group, name or "")
    if (group, plural) == ("", "secrets"):
        new = {**new, "type": new.get("type") or "Opaque"}
        errors = _secret_errors(new, None if created else live)
        if errors:
            return 422, crd_schema.invalid_status("Secret", "", name or "", errors), False
        changed = changed or new.get("type") != (live or {}).get("type")
    if group in CUSTOM_GROUPS:
        # genericregistry Store: BeforeCreate/BeforeUpdate (the CRD schema: 422) before the validating webhooks
        # (403 / 500); both also for an update that changes nothing, and for dry-run requests.
        candidate = {**new, "apiVersion": api_version, "kind": kind}
        candidate["metadata"] = {**(new.get("metadata") or {}), "name": name, "namespace": namespace}
        errors = crd_schema.validate_object(candidate, settings_of(world).version)
        if errors:
            return 422, crd_schema.invalid_status(kind, group, name or "", errors), False
        verdict = _admission(world, group, plural, "CREATE" if created else "UPDATE", candidate)
        if verdict is not None:
            return verdict.code, verdict.body, False
    if not changed:
        return 200, live or new, False
    meta = new.setdefault("metadata", {})
    meta["name"], meta["namespace"] = name, namespace
    if dry_run:
        # registry/generic/registry/dryrun.go: nothing is stored; a create's answer has no resourceVersion
        # (PrepareObjectForStorage clears it), an update's keeps the stored one.
        if created:
            meta.pop("resourceVersion", None)
        else:
            meta["resourceVersion"] = live["metadata"].get("resourceVersion") if live else None
    else:
        meta["resourceVersion"] = world.next_resource_version()
    if created:
        meta["uid"] = str(uuid.uuid4())
        meta["creationTimestamp"] = ssa.now()
        if group in CUSTOM_GROUPS:
            meta["generation"] = 1
    elif group in CUSTOM_GROUPS:
        spec_changed = {k: v for k, v in new.items() if k not in ("metadata", "status")} != {
            k: v for k, v in live.items() if k not in ("metadata", "status")
        }
        meta["generation"] = int(live["metadata"].get("generation") or 1) + (1 if spec_changed else 0)
    new["apiVersion"], new["kind"] = api_version, kind
    if dry_run:
        return (201 if created else 200), new, False
    world.put(new)
    return (201 if created else 200), new, True


def _secret_errors(new: dict[str, Any], old: dict[str, Any] | None) -> list[crd_schema.FieldError]:
    """kubernetes pkg/apis/core/validation ValidateSecretUpdate / ValidateSecret (v1.29): the type is immutable
    (apimachinery ValidateImmutableField: "field is immutable"; the value a core.SecretType, printed %#v), a
    kubernetes.io/basic-auth Secret has a username or a password key (both reported Required when neither is);
    the type defaults to Opaque (SetDefaults_Secret)."""
    errors: list[crd_schema.FieldError] = []
    if old is not None and (old.get("type") or "Opaque") != new.get("type"):
        errors.append(crd_schema.FieldError(crd_schema.INVALID, "type", new.get("type"), "field is immutable"))
    data = set(new.get("data") or {}) | set(new.get("stringData") or {})
    if new.get("type") == "kubernetes.io/basic-auth" and not data & {"username", "password"}:
        errors.append(crd_schema.FieldError(crd_schema.REQUIRED, "data[username]"))
        errors.append(crd_schema.FieldError(crd_schema.REQUIRED, "data[password]"))
    return errors


def _pruned(body: dict[str, Any], group: str, world: World) -> dict[str, Any]:
    """A custom resource as the API server decodes it: fields its CRD schema does not declare are dropped
    (apiextensions-apiserver pkg/apiserver/schema/pruning; fieldValidation Warn, the server's default)."""
    if group not in CUSTOM_GROUPS or not isinstance(body, dict):
        return body
    return crd_schema.prune_object(body, settings_of(world).version)


def settings_of(world: World) -> admission.Settings:
    """The cluster's MetalLB install (world key ``metallb``; else its mode read from the speaker pods)."""
    data = dict(world.metallb)
    if "bgpType" not in data:
        bgp_type = speaker_bgp_type(world.items)
        if bgp_type:
            data["bgpType"] = bgp_type
    return admission.Settings.of(data)


def speaker_bgp_type(items: list[dict[str, Any]]) -> str | None:
    """The speakers' METALLB_BGP_TYPE (config/frr/speaker-patch.yaml: frr; config/frr-k8s: frr-k8s; the native
    manifests set none: native), or None without speaker pods."""
    for obj in items:
        labels = obj.get("metadata", {}).get("labels") or {}
        if obj.get("kind") != "Pod" or not (
            labels.get("component") == "speaker" or labels.get("app.kubernetes.io/component") == "speaker"
        ):
            continue
        for c in obj.get("spec", {}).get("containers") or []:
            if c.get("name") == "speaker":
                env = {e.get("name"): e.get("value") for e in c.get("env") or []}
                return str(env.get("METALLB_BGP_TYPE") or "native")
    return None


def _admission(world: World, group: str, plural: str, operation: str, obj: dict[str, Any]) -> admission.Verdict | None:
    if group != "metallb.io":
        return None
    with world._lock:
        items = list(world.items)
    return admission.admit(items, plural, operation, obj, settings_of(world))


_OPTIONS_KIND = {"POST": "CreateOptions", "PUT": "UpdateOptions", "PATCH": "PatchOptions", "DELETE": "DeleteOptions"}


def _bad_dry_run(method: str, value: str) -> tuple[int, dict[str, Any], bool]:
    """apimachinery pkg/apis/meta/v1/validation ValidateDryRun (supported: "All") through NewInvalid."""
    err = crd_schema.FieldError(crd_schema.NOT_SUPPORTED, "dryRun", None, 'supported values: "All"')
    body = crd_schema.invalid_status(_OPTIONS_KIND.get(method, "CreateOptions"), "meta.k8s.io", "", [err])
    # The value is a []string: Go prints it %#v.
    shown = f"[]string{{{json.dumps(value)}}}"
    text = f'dryRun: Unsupported value: {shown}: supported values: "All"'
    body["message"] = f'{_OPTIONS_KIND.get(method, "CreateOptions")}.meta.k8s.io "" is invalid: {text}'
    body["details"]["causes"][0]["message"] = text.removeprefix("dryRun: ")
    return 422, body, False


# apimachinery pkg/util/validation: IsDNS1123Subdomain, the rule for these kinds' metadata.name.
_DNS1123_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_DNS1123_MESSAGE = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must "
    "start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)


def _invalid_name(kind: str, group: str, name: str) -> tuple[int, dict[str, Any], bool]:
    """errors.NewInvalid for metadata.name (422, reason Invalid, a FieldValueInvalid cause)."""
    qualified = f"{kind}.{group}" if group else kind
    detail = f"Invalid value: {json.dumps(name)}: {_DNS1123_MESSAGE}"
    causes = [{"reason": "FieldValueInvalid", "message": detail, "field": "metadata.name"}]
    message = f'{qualified} "{name}" is invalid: metadata.name: {detail}'
    return 422, status(422, "Invalid", message, {"name": name, "group": group, "kind": kind, "causes": causes}), False


def _check_body(body: dict[str, Any], api_version: str, kind: str, name: str | None, namespace: str) -> str | None:
    """The checks of apiserver's handlers (create.go/patch.go): the body names the object of the URL."""
    if body.get("apiVersion") and body["apiVersion"] != api_version:
        return (
            f"the API version in the data ({body['apiVersion']}) does not match the expected API version "
            f"({api_version})"
        )
    if body.get("kind") and body["kind"] != kind:
        return f"the kind in the data ({body['kind']}) does not match the expected kind ({kind})"
    meta = body.get("metadata") or {}
    if name is not None and meta.get("name") not in (None, name):
        return "the name of the object does not match the name on the URL"
    if meta.get("namespace") not in (None, "", namespace):
        return "the namespace of the provided object does not match the namespace sent on the request"
    return None


def _strip_status(body: dict[str, Any]) -> dict[str, Any]:
    """The main resource ignores status (it is written through the status subresource)."""
    return {k: v for k, v in body.items() if k != "status"}


def _keep_status(body: dict[str, Any], live: dict[str, Any]) -> dict[str, Any]:
    out = _strip_status(body)
    if "status" in live:
        out["status"] = live["status"]
    out.setdefault("metadata", {})
    for k in ("uid", "creationTimestamp", "generation", "managedFields", "resourceVersion"):
        if k in live.get("metadata", {}):
            out["metadata"].setdefault(k, live["metadata"][k])
    return out


# CRD structural defaults of MetalLB v0.13.12's CRDs (api/v1beta1/ipaddresspool_types.go,
# bgpadvertisement_types.go, api/v1beta2/bgppeer_types.go: +kubebuilder:default), filled in by the API server
# on every write; an applier does not own them.
CRD_DEFAULTS: dict[tuple[str, str], dict[str, Any]] = {
    ("IPAddressPool", ""): {"autoAssign": True, "avoidBuggyIPs": False},
    ("BGPAdvertisement", ""): {"aggregationLength": 32, "aggregationLengthV6": 128},
    ("BGPPeer", "metallb.io/v1beta2"): {"peerPort": 179},
}


def with_defaults(obj: dict[str, Any]) -> dict[str, Any]:
    spec_defaults = CRD_DEFAULTS.get((obj.get("kind", ""), ""), {}) | CRD_DEFAULTS.get(
        (obj.get("kind", ""), obj.get("apiVersion", "")), {}
    )
    if not spec_defaults or split_api_version(obj.get("apiVersion", ""))[0] != "metallb.io":
        return obj
    spec = dict(obj.get("spec") or {})
    for key, value in spec_defaults.items():
        spec.setdefault(key, value)
    return {**obj, "spec": spec}


# -- discovery (what DynamicClient reads before any request) -----------------------------------------------

_CORE = [
    ("namespaces", "Namespace", False),
    ("nodes", "Node", False),
    ("pods", "Pod", True),
    ("services", "Service", True),
    ("endpoints", "Endpoints", True),
    ("configmaps", "ConfigMap", True),
    ("secrets", "Secret", True),
]
_GROUPS: dict[str, dict[str, list[tuple[str, str, bool]]]] = {
    "discovery.k8s.io": {"v1": [("endpointslices", "EndpointSlice", True)]},
    "metallb.io": {
        "v1beta1": [
            ("bfdprofiles", "BFDProfile", True),
            ("bgpadvertisements", "BGPAdvertisement", True),
            ("bgppeers", "BGPPeer", True),
            ("communities", "Community", True),
            ("ipaddresspools", "IPAddressPool", True),
            ("l2advertisements", "L2Advertisement", True),
        ],
        "v1beta2": [("bgppeers", "BGPPeer", True)],
    },
}
_PREFERRED = {"discovery.k8s.io": "v1", "metallb.io": "v1beta2"}


def _resources(world: World, group: str, entries: list[tuple[str, str, bool]]) -> list[dict[str, Any]]:
    out = []
    for plural, kind, namespaced in entries:
        if not world.served(group, plural):
            continue
        verbs = ["get", "list", "watch"]
        if (group, plural) in WRITABLE:
            verbs = ["create", "delete", "get", "list", "patch", "update", "watch"]
        out.append(
            {"name": plural, "singularName": kind.lower(), "namespaced": namespaced, "kind": kind, "verbs": verbs}
        )
    return out


def group_list(world: World) -> dict[str, Any]:
    groups = []
    for name, versions in _GROUPS.items():
        served = [v for v, entries in versions.items() if _resources(world, name, entries)]
        if not served:
            continue
        pref = _PREFERRED[name] if _PREFERRED[name] in served else served[-1]
        groups.append(
            {
                "name": name,
                "versions": [{"groupVersion": f"{name}/{v}", "version": v} for v in served],
                "preferredVersion": {"groupVersion": f"{name}/{pref}", "version": pref},
            }
        )
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def discovery(world: World, parts: list[str]) -> tuple[int, dict[str, Any]]:
    if parts == ["api", "v1"]:
        group, version, entries = "", "v1", _CORE
    else:
        group, version = parts[1], parts[2]
        entries = _GROUPS.get(group, {}).get(version, [])
    resources = _resources(world, group, entries)
    if not resources:
        return 404, status(404, "NotFound", "the server could not find the requested resource")
    gv = f"{group}/{version}" if group else version
    return 200, {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources}
