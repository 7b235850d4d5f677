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
from tasks.metallb.render import FIELD_MANAGER, MANAGED_BY, NAMESPACE, Form, SpeakerMode

APPLY_PATCH = "application/apply-patch+yaml"
MERGE_PATCH = "application/merge-patch+json"
# kind -> (group, version, plural) of the metallb.io objects edgekit renders (api/v1beta1, api/v1beta2).
CRD_KINDS: dict[str, tuple[str, str, str]] = {
    "IPAddressPool": ("metallb.io", "v1beta1", "ipaddresspools"),
    "BGPAdvertisement": ("metallb.io", "v1beta1", "bgpadvertisements"),
    "BGPPeer": ("metallb.io", "v1beta2", "bgppeers"),
    "BFDProfile": ("metallb.io", "v1beta1", "bfdprofiles"),
}
_CONFLICT = re.compile(r'conflict with "(?P<manager>[^"]+)"')
# The apiserver's wrapping of a validating webhook's answer (kubernetes/apiserver pkg/admission/plugin/webhook/errors
# statuserror.go ToStatusErr: 'admission webhook "NAME" denied the request: REASON', the webhook's code, 403 for
# controller-runtime's admission.Denied) and of a webhook it cannot call (pkg/admission/plugin/webhook/validating
# dispatcher.go: 'failed calling webhook "NAME": ...' as an InternalError, 500).
_DENIED = re.compile(r'admission webhook "(?P<webhook>[^"]+)" denied the request: (?P<reason>.*)', re.S)
_WEBHOOK_DOWN = re.compile(r'failed calling webhook "(?P<webhook>[^"]+)"')


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


class Refused(EdgekitError):
    """The API refused an object (exit 1): a MetalLB webhook's denial (403), a schema error (422 Invalid), or
    MetalLB's webhook not answering (500 ``failed calling webhook``). ``obj`` the object (kind ns/name), ``reason``
    the API's reason, ``dry_run`` whether it was the dry run (nothing was sent for real)."""

    def __init__(self, obj: str, reason: str, kind: str = "refused", dry_run: bool = False) -> None:
        self.obj = obj
        self.reason = reason
        self.kind = kind
        self.dry_run = dry_run
        super().__init__(f"{obj}: {reason}")


def _status(body: str | None) -> dict[str, Any]:
    try:
        status = json.loads(body or "{}")
    except ValueError:
        return {}
    return status if isinstance(status, dict) else {}


def refusal_of(status_code: int, body: str | None, obj: str, dry_run: bool = False) -> Refused | None:
    """A ``Refused`` for an API error that is a refusal of ``obj`` (None for anything else: RBAC 403s, 401, 404 ...).

    - ``admission webhook "W" denied the request: R`` (403 a denial, 400 a body W could not decode): MetalLB's
      webhook W refused it (reason R);
    - 422 ``Invalid``: the CRD schema (or built-in validation) refused fields: ``details.causes`` as ``field: message``;
    - 500 ``failed calling webhook "W"``: MetalLB's webhook is down (its controller pod or service).
    A 403 ``forbidden: User ... cannot ...`` is RBAC: not a refusal (``access denied``, exit 3)."""
    status = _status(body)
    message = str(status.get("message") or "")
    m = _DENIED.search(message)
    if m is not None:  # 403 for admission.Denied, 400 for admission.Errored (a body the webhook cannot decode)
        return Refused(
            obj, f"refused by MetalLB's webhook {m.group('webhook')}: {m.group('reason').strip()}", "denied", dry_run
        )
    if status_code == 422 or status.get("reason") == "Invalid":
        causes = ((status.get("details") or {}).get("causes")) or []
        listed = "; ".join(
            f"{c.get('field')}: {c.get('message')}" if c.get("field") else str(c.get("message")) for c in causes
        )
        return Refused(obj, f"invalid: {listed or message or 'HTTP 422'}", "invalid", dry_run)
    if status_code == 500:
        m = _WEBHOOK_DOWN.search(message)
        if m is None:
            return None
        detail = message[m.end() :].lstrip(": ")[:200]
        return Refused(
            obj,
            f"MetalLB's webhook {m.group('webhook')} is down (is MetalLB's controller running?): {detail}",
            "webhook-down",
            dry_run,
        )
    return None


class ClusterAPI:
    """The MetalLB objects of one cluster (kubeconfig + context)."""

    def __init__(self, kubeconfig: str, context: str, namespace: str = NAMESPACE) -> None:
        self.kubeconfig = kubeconfig
        self.context = context
        self.namespace = namespace  # MetalLB's (site metallb.namespace, else where its speakers run)
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
        return self._call(  # type: ignore[no-any-return]
            list_objects, group, version, self.namespace, plural, missing_ok=True
        )

    def served_form(self) -> Form:
        """``crds`` when the API serves metallb.io (IPAddressPools listable), else ``configmap``."""
        return "crds" if self._list("IPAddressPool") is not None else "configmap"

    def read(self, kind: str, name: str, namespace: str | None = None) -> dict[str, Any] | None:
        from kubernetes import client

        namespace = namespace or self.namespace
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
                    self.namespace,
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
            found = self._call(fn, self.namespace, label_selector=selector, missing_ok=True)
            for item in (found or {}).get("items") or []:
                item.setdefault("kind", kind)
                item.setdefault("apiVersion", "v1")
                out.append(item)
        return out

    def apply(self, obj: dict[str, Any], force: bool = False, dry_run: bool = False) -> dict[str, Any]:
        """Server-side apply of ``obj`` as field manager ``edgekit`` (``dry_run``: ``dryRun=All``, admission and
        validation run, nothing persisted); ApplyConflict on a 409, Refused on a webhook denial, a schema error or
        a webhook that is down."""
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
        if dry_run:
            common["dry_run"] = "All"
        name = f"{kind} {meta['namespace']}/{meta['name']}"
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
                raise ApplyConflict(name, conflicts_of(exc.body)) from None
            raise self._write_error(exc, name, dry_run) from None
        except Exception as exc:
            raise kube._unreachable(exc, self.what) from None
        return json.loads(raw.data) if raw.data else {}

    def _write_error(self, exc: Any, name: str, dry_run: bool) -> Exception:
        """What an ``ApiException`` of a write to ``name`` raises: a ``Refused`` when it is a refusal, else the
        cluster is unreachable (``kube._unreachable``)."""
        refused = refusal_of(int(exc.status or 0), exc.body, name, dry_run)
        return refused if refused is not None else kube._unreachable(exc, self.what)

    def remove_fields(
        self,
        obj: dict[str, Any],
        paths: list[tuple[str, ...]],
        dry_run: bool = False,
        values: list[Any] | None = None,
    ) -> None:
        """Remove fields another manager set (``paths``) by a JSON merge patch (``null`` removes a key whoever
        owns it; RFC 7386): what a server-side apply cannot take away from another manager. ``values``: set them
        to these instead (the undo)."""
        from kubernetes import client
        from kubernetes.client.exceptions import ApiException

        kind = str(obj["kind"])
        meta = obj["metadata"]
        patch: dict[str, Any] = {}
        for i, path in enumerate(paths):
            node = patch
            for part in path[:-1]:
                node = node.setdefault(part, {})
            node[path[-1]] = values[i] if values is not None else None
        name = f"{kind} {meta['namespace']}/{meta['name']}"
        extra: dict[str, Any] = {"dry_run": "All"} if dry_run else {}
        group, version, plural = CRD_KINDS[kind]
        try:
            client.CustomObjectsApi(self.api).patch_namespaced_custom_object(
                group,
                version,
                meta["namespace"],
                plural,
                meta["name"],
                patch,
                _content_type=MERGE_PATCH,
                _preload_content=False,
                _request_timeout=kube.TIMEOUT,
                **extra,
            )
        except ApiException as exc:
            raise self._write_error(exc, name, dry_run) from None
        except Exception as exc:
            raise kube._unreachable(exc, self.what) from None

    def delete(self, obj: dict[str, Any], dry_run: bool = False) -> None:
        """Delete ``obj`` (absent: nothing to do); ``dry_run``: ``dryRun=All``. Refused as for ``apply``."""
        from kubernetes import client
        from kubernetes.client.exceptions import ApiException

        kind = str(obj.get("kind"))
        meta = obj.get("metadata") or {}
        extra: dict[str, Any] = {"dry_run": "All"} if dry_run else {}
        name = f"{kind} {meta.get('namespace')}/{meta.get('name')}"
        try:
            if kind in CRD_KINDS:
                group, version, plural = CRD_KINDS[kind]
                fn: Any = client.CustomObjectsApi(self.api).delete_namespaced_custom_object
                args: tuple[Any, ...] = (group, version, meta["namespace"], plural, meta["name"])
            else:
                core = client.CoreV1Api(self.api)
                fn = core.delete_namespaced_config_map if kind == "ConfigMap" else core.delete_namespaced_secret
                args = (meta["name"], meta["namespace"])
            fn(*args, _preload_content=False, _request_timeout=kube.TIMEOUT, **extra)
        except ApiException as exc:
            if exc.status == 404:
                return
            raise self._write_error(exc, name, dry_run) from None
        except Exception as exc:
            raise kube._unreachable(exc, self.what) from None

    def speaker_mode(self) -> SpeakerMode | None:
        """MetalLB's BGP implementation, from its speaker pods in ``namespace``: the speaker container's
        ``METALLB_BGP_TYPE`` (``frr``, ``frr-k8s``; absent: ``native`` — metallb/metallb v0.14.9 speaker/main.go
        main: ``os.LookupEnv("METALLB_BGP_TYPE")``, default "native"; the env is set by config/manifests/
        metallb-frr.yaml / metallb-frr-k8s.yaml at v0.13.12 and v0.14.9 and by the Helm chart's speaker.yaml), else
        an ``frr`` container beside it (FRR mode). None when no speaker pod is found (unknown)."""
        from kubernetes import client

        core = client.CoreV1Api(self.api)
        for selector in kube.SPEAKER_SELECTORS:
            found = self._call(core.list_namespaced_pod, self.namespace, label_selector=selector, missing_ok=True)
            for pod in (found or {}).get("items") or []:
                mode = speaker_mode_of(pod)
                if mode is not None:
                    return mode
        return None


def speaker_mode_of(pod: dict[str, Any]) -> SpeakerMode | None:
    """The BGP implementation of one speaker pod (see ``ClusterAPI.speaker_mode``); None: no speaker container."""
    containers = list((pod.get("spec") or {}).get("containers") or [])
    speaker = next((c for c in containers if c.get("name") == "speaker"), None)
    if speaker is None:
        return None
    for env in speaker.get("env") or []:
        if env.get("name") == "METALLB_BGP_TYPE":
            value = str(env.get("value") or "")
            if value in ("frr", "frr-k8s", "native"):
                return value  # type: ignore[return-value]
    if any(c.get("name") == "frr" for c in containers):
        return "frr"
    return "native"
