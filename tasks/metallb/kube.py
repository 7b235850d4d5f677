"""One cluster's Kubernetes API for the MetalLB objects: which form it serves, read, server-side apply, delete.

The unmodified ``kubernetes`` client: typed ``CoreV1Api``/``CustomObjectsApi`` calls (no discovery round trip),
raw JSON answers (``_preload_content=False``) so objects stay the dicts MetalLB documents. Applies are
server-side applies (``PATCH`` with ``application/apply-patch+yaml``, field manager ``edgekit``); a conflict
with another field manager is an ``ApplyConflict`` naming that manager and the field, never forced unless
``force`` (``--force-conflicts``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from inventory import kube
from inventory.errors import EdgekitError
from tasks.metallb.render import FIELD_MANAGER, MANAGED_BY, NAMESPACE, Form

APPLY_PATCH = "application/apply-patch+yaml"
# kind -> (group, version, plural) of the metallb.io objects edgekit renders (api/v1beta1, api/v1beta2).
CRD_KINDS: dict[str, tuple[str, str, str]] = {
    "IPAddressPool": ("metallb.io", "v1beta1", "ipaddresspools"),
    "BGPAdvertisement": ("metallb.io", "v1beta1", "bgpadvertisements"),
    "BGPPeer": ("metallb.io", "v1beta2", "bgppeers"),
    "BFDProfile": ("metallb.io", "v1beta1", "bfdprofiles"),
}
_CONFLICT = re.compile(r'conflict with "(?P<manager>[^"]+)"')


@dataclass(frozen=True)
class Conflict:
    manager: str
    field: str

    def __str__(self) -> str:
        return f"{self.field} is owned by field manager {self.manager!r}"


class ApplyConflict(EdgekitError):
    """A server-side apply the API refused (409): another field manager owns fields edgekit sets."""

    def __init__(self, obj: str, conflicts: list[Conflict]) -> None:
        self.obj = obj
        self.conflicts = conflicts
        listed = "; ".join(str(c) for c in conflicts) or "conflict"
        super().__init__(f"{obj}: {listed} (not forced: --force-conflicts takes them over)")


def conflicts_of(body: str) -> list[Conflict]:
    """The conflicts in a 409 ``Status`` body (``details.causes``: reason FieldManagerConflict, the field, and the
    message ``conflict with "MANAGER" ...``)."""
    try:
        status = json.loads(body or "{}")
    except ValueError:
        return []
    out = []
    for cause in ((status.get("details") or {}).get("causes")) or []:
        if cause.get("reason") not in (None, "FieldManagerConflict"):
            continue
        m = _CONFLICT.search(str(cause.get("message", "")))
        out.append(Conflict(manager=m.group("manager") if m else "?", field=str(cause.get("field", "?"))))
    return out


class ClusterAPI:
    """The MetalLB objects of one cluster (kubeconfig + context)."""

    def __init__(self, kubeconfig: str, context: str) -> None:
        self.kubeconfig = kubeconfig
        self.context = context
        self._api: Any = None

    @property
    def api(self) -> Any:
        if self._api is None:
            self._api = kube.api_client(self.kubeconfig, self.context)
        return self._api

    @property
    def what(self) -> str:
        return f"kubeconfig {self.kubeconfig} context {self.context}"

    def close(self) -> None:
        if self._api is not None:
            self._api.close()
            self._api = None

    def _call(self, fn: Any, *args: Any, missing_ok: bool = False, **kwargs: Any) -> Any:
        raw = kube._call(fn, self.what, *args, missing_ok=missing_ok, _preload_content=False, **kwargs)
        if raw is None:
            return None
        data = raw.data if hasattr(raw, "data") else raw
        return json.loads(data) if data else {}

    def _list(self, kind: str) -> dict[str, Any] | None:
        """The list of a metallb.io kind in MetalLB's namespace; None when the API does not serve it."""
        from kubernetes import client

        group, version, plural = CRD_KINDS[kind]
        list_objects = client.CustomObjectsApi(self.api).list_namespaced_custom_object
        return self._call(list_objects, group, version, NAMESPACE, plural, missing_ok=True)  # type: ignore[no-any-return]

    def served_form(self) -> Form:
        """``crds`` when the API serves metallb.io (IPAddressPools listable), else ``configmap``."""
        return "crds" if self._list("IPAddressPool") is not None else "configmap"

    def read(self, kind: str, name: str, namespace: str = NAMESPACE) -> dict[str, Any] | None:
        from kubernetes import client

        if kind in CRD_KINDS:
            group, version, plural = CRD_KINDS[kind]
            custom = client.CustomObjectsApi(self.api)
            return self._call(  # type: ignore[no-any-return]
                custom.get_namespaced_custom_object, group, version, namespace, plural, name, missing_ok=True
            )
        core = client.CoreV1Api(self.api)
        fn = core.read_namespaced_config_map if kind == "ConfigMap" else core.read_namespaced_secret
        return self._call(fn, name, namespace, missing_ok=True)  # type: ignore[no-any-return]

    def list_peers(self) -> list[dict[str, Any]]:
        """Every BGPPeer in MetalLB's namespace (whoever made it); [] when the CRDs are not served."""
        return list((self._list("BGPPeer") or {}).get("items") or [])

    def list_managed(self, form: Form) -> list[dict[str, Any]]:
        """The objects of ``form``'s kinds that carry edgekit's label (to find those no longer rendered)."""
        from kubernetes import client

        selector = ",".join(f"{k}={v}" for k, v in MANAGED_BY.items())
        out: list[dict[str, Any]] = []
        if form == "crds":
            custom = client.CustomObjectsApi(self.api)
            for kind, (group, version, plural) in CRD_KINDS.items():
                found = self._call(
                    custom.list_namespaced_custom_object,
                    group,
                    version,
                    NAMESPACE,
                    plural,
                    label_selector=selector,
                    missing_ok=True,
                )
                for item in (found or {}).get("items") or []:
                    item.setdefault("kind", kind)
                    item.setdefault("apiVersion", f"{group}/{version}")
                    out.append(item)
        core = client.CoreV1Api(self.api)
        for kind, fn in (("Secret", core.list_namespaced_secret), ("ConfigMap", core.list_namespaced_config_map)):
            if form == "configmap" and kind == "Secret":
                continue
            found = self._call(fn, NAMESPACE, label_selector=selector, missing_ok=True)
            for item in (found or {}).get("items") or []:
                item.setdefault("kind", kind)
                item.setdefault("apiVersion", "v1")
                out.append(item)
        return out

    def apply(self, obj: dict[str, Any], force: bool = False) -> dict[str, Any]:
        """Server-side apply of ``obj`` as field manager ``edgekit``; ApplyConflict on a 409."""
        from kubernetes import client
        from kubernetes.client.exceptions import ApiException

        kind = str(obj["kind"])
        meta = obj["metadata"]
        common: dict[str, Any] = {
            "field_manager": FIELD_MANAGER,
            "_content_type": APPLY_PATCH,
            "_preload_content": False,
            "_request_timeout": kube.TIMEOUT,
        }
        if force:
            common["force"] = True
        try:
            if kind in CRD_KINDS:
                group, version, plural = CRD_KINDS[kind]
                raw = client.CustomObjectsApi(self.api).patch_namespaced_custom_object(
                    group, version, meta["namespace"], plural, meta["name"], obj, **common
                )
            else:
                core = client.CoreV1Api(self.api)
                fn = core.patch_namespaced_config_map if kind == "ConfigMap" else core.patch_namespaced_secret
                raw = fn(meta["name"], meta["namespace"], obj, **common)
        except ApiException as exc:
            if exc.status == 409:
                raise ApplyConflict(f"{kind} {meta['namespace']}/{meta['name']}", conflicts_of(exc.body)) from None
            raise kube._unreachable(exc, self.what) from None
        except Exception as exc:
            raise kube._unreachable(exc, self.what) from None
        return json.loads(raw.data) if raw.data else {}

    def delete(self, obj: dict[str, Any]) -> None:
        from kubernetes import client

        kind = str(obj.get("kind"))
        meta = obj.get("metadata") or {}
        if kind in CRD_KINDS:
            group, version, plural = CRD_KINDS[kind]
            custom = client.CustomObjectsApi(self.api)
            self._call(
                custom.delete_namespaced_custom_object,
                group,
                version,
                meta["namespace"],
                plural,
                meta["name"],
                missing_ok=True,
            )
            return
        core = client.CoreV1Api(self.api)
        fn = core.delete_namespaced_config_map if kind == "ConfigMap" else core.delete_namespaced_secret
        self._call(fn, meta["name"], meta["namespace"], missing_ok=True)
