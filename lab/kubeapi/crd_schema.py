"""CRD schema validation of the metallb.io kinds, as kube-apiserver does it for a custom resource.

The schemas: the ``spec`` part of ``openAPIV3Schema`` in metallb/metallb ``config/crd/bases/metallb.io_*.yaml``
(what ``charts/metallb/charts/crds/templates/crds.yaml`` and the kustomize/native manifests install) at tags
v0.13.12 and v0.14.9, restated below as a table (types, formats, enums, required fields, minimum/maximum,
minItems, list/map types; descriptions left out). Every field the CRDs declare is listed; the differences
between the two tags are marked.

How a violation is reported (kube-apiserver 1.29):
- k8s.io/apiextensions-apiserver pkg/apiserver/validation/validation.go ``kubeOpenAPIResultToFieldErrors``: a
  kube-openapi error becomes a field.Error: RequiredFailCode -> ``field.Required(path, "")``; EnumFailCode ->
  ``field.NotSupported(path, value, values)``; InvalidTypeCode -> ``field.TypeInvalid(path, value, err.Error())``
  (reason FieldValueTypeInvalid; kube-openapi pkg/validation/validate/type.go passes the data's JSON type as the
  value: ``Invalid value: "string": spec.myASN in body must be of type integer: "string"``);
  anything else (minimum, maximum, minItems, pattern) -> ``field.Invalid(path, value, err.Error())``.
- k8s.io/kube-openapi pkg/validation/errors/schema.go (the go-openapi/errors texts): ``%s in %s must be of type
  %s: %q`` (typeFailWithData), ``%s in %s should be greater than or equal to %v`` (minIncFail), ``%s in %s should
  be less than or equal to %v`` (maxIncFail), ``%s in %s should have at least %d items`` (minItemsFail),
  ``%s in %s should match '%s'`` (patternFail); ``in`` is ``body``; a list item's path is ``name[i]``
  (pkg/validation/validate/slice_validator.go).
- k8s.io/apimachinery pkg/util/validation/field/errors.go ``Error.ErrorBody``/``Error.Error``: ``<field>: <Type
  string>[: <value>][: <detail>]`` with the ErrorType strings "Required value", "Unsupported value",
  "Invalid value"; NotSupported's detail ``supported values: "a", "b"``.
- k8s.io/apimachinery pkg/api/errors/errors.go ``NewInvalid``: HTTP 422, reason ``Invalid``, message
  ``<Kind>.<group> "<name>" is invalid: <errors>`` (one error as is, several as ``[e1, e2]``: ToAggregate),
  ``details`` {name, group, kind, causes: [{reason: <ErrorType>, message: <ErrorBody>, field}]}
  (metav1.StatusCause's ``Type`` is serialised as ``reason``).
- Pruning (k8s.io/apiextensions-apiserver pkg/apiserver/schema/pruning ``Prune``): fields the schema does not
  declare are dropped before validation (fieldValidation Warn, the default for clients that send none).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

Schema = dict[str, Any]


def _int(minimum: int | None = None, maximum: int | None = None, default: int | None = None) -> Schema:
    out: Schema = {"type": "integer"}
    if minimum is not None:
        out["minimum"] = minimum
    if maximum is not None:
        out["maximum"] = maximum
    if default is not None:
        out["default"] = default
    return out


_STR: Schema = {"type": "string"}
_BOOL: Schema = {"type": "boolean"}


def _strs(min_items: int | None = None) -> Schema:
    out: Schema = {"type": "array", "items": _STR}
    if min_items is not None:
        out["minItems"] = min_items
    return out


def _obj(props: dict[str, Schema], required: tuple[str, ...] = (), **extra: Any) -> Schema:
    out: Schema = {"type": "object", "properties": props, **extra}
    if required:
        out["required"] = list(required)
    return out


def _selectors(values_required: bool = False) -> Schema:
    """[]metav1.LabelSelector as controller-gen writes it (matchExpressions key/operator[/values] required)."""
    requirement = _obj(
        {"key": _STR, "operator": _STR, "values": _strs(1) if values_required else _strs()},
        ("key", "operator", "values") if values_required else ("key", "operator"),
    )
    labels: Schema = {"type": "object", "additionalProperties": _STR}
    selector = _obj({"matchExpressions": {"type": "array", "items": requirement}, "matchLabels": labels})
    return {"type": "array", "items": selector}


_BFD_INTERVAL = _int(10, 60000)

# api/v1beta1/bfdprofile_types.go: +kubebuilder:validation:Maximum/Minimum on each interval.
_BFDPROFILE = _obj(
    {
        "detectMultiplier": _int(2, 255),
        "echoInterval": _BFD_INTERVAL,
        "echoMode": _BOOL,
        "minimumTtl": _int(1, 254),
        "passiveMode": _BOOL,
        "receiveInterval": _BFD_INTERVAL,
        "transmitInterval": _BFD_INTERVAL,
    }
)
# api/v1beta1/bgpadvertisement_types.go: aggregationLength Minimum=1, defaults 32 / 128.
_BGPADVERTISEMENT = _obj(
    {
        "aggregationLength": _int(1, default=32),
        "aggregationLengthV6": _int(default=128),
        "communities": _strs(),
        "ipAddressPoolSelectors": _selectors(),
        "ipAddressPools": _strs(),
        "localPref": _int(),
        "nodeSelectors": _selectors(),
        "peers": _strs(),
    }
)
_ASN = _int(0, 4294967295)
# api/v1beta1/bgppeer_types.go (v1beta1, served, not stored; nodeSelectors' values have MinItems=1 there).
_BGPPEER_V1BETA1 = _obj(
    {
        "bfdProfile": _STR,
        "ebgpMultiHop": _BOOL,
        "holdTime": _STR,
        "keepaliveTime": _STR,
        "myASN": _ASN,
        "nodeSelectors": _selectors(values_required=True),
        "password": _STR,
        "peerASN": _ASN,
        "peerAddress": _STR,
        "peerPort": _int(0, 16384),
        "routerID": _STR,
        "sourceAddress": _STR,
    },
    ("myASN", "peerASN", "peerAddress"),
)
_BGPPEER_V1BETA2_PROPS: dict[str, Schema] = {
    "bfdProfile": _STR,
    "ebgpMultiHop": _BOOL,
    "holdTime": _STR,
    "keepaliveTime": _STR,
    "myASN": _ASN,
    "nodeSelectors": _selectors(),
    "password": _STR,
    "passwordSecret": _obj({"name": _STR, "namespace": _STR}),
    "peerASN": _ASN,
    "peerAddress": _STR,
    "peerPort": _int(0, 16384, default=179),
    "routerID": _STR,
    "sourceAddress": _STR,
    "vrf": _STR,
}
# api/v1beta2/bgppeer_types.go at v0.13.12: peerASN required.
_BGPPEER_V1BETA2_013 = _obj(_BGPPEER_V1BETA2_PROPS, ("myASN", "peerASN", "peerAddress"))
# At v0.14.9: connectTime (CEL rules, not modelled), disableMP (default false), dynamicASN (enum internal,
# external), enableGracefulRestart (CEL "cannot be changed after creation", not modelled); peerASN optional.
_BGPPEER_V1BETA2_014 = _obj(
    {
        **_BGPPEER_V1BETA2_PROPS,
        "connectTime": _STR,
        "disableMP": {"type": "boolean", "default": False},
        "dynamicASN": {"type": "string", "enum": ["internal", "external"]},
        "enableGracefulRestart": _BOOL,
    },
    ("myASN", "peerAddress"),
)
_COMMUNITY = _obj({"communities": {"type": "array", "items": _obj({"name": _STR, "value": _STR})}})
# api/v1beta1/ipaddresspool_types.go: addresses required; autoAssign default true, avoidBuggyIPs default false.
_IPADDRESSPOOL = _obj(
    {
        "addresses": _strs(),
        "autoAssign": {"type": "boolean", "default": True},
        "avoidBuggyIPs": {"type": "boolean", "default": False},
        "serviceAllocation": _obj(
            {
                "namespaceSelectors": _selectors(),
                "namespaces": _strs(),
                "priority": _int(),
                "serviceSelectors": _selectors(),
            }
        ),
    },
    ("addresses",),
)
_L2ADVERTISEMENT = _obj(
    {
        "interfaces": _strs(),
        "ipAddressPoolSelectors": _selectors(),
        "ipAddressPools": _strs(),
        "nodeSelectors": _selectors(),
    }
)

# (MetalLB tag) -> (kind, apiVersion) -> the schema of ``spec``.
SPEC_SCHEMAS: dict[str, dict[tuple[str, str], Schema]] = {
    "v0.13.12": {
        ("BFDProfile", "metallb.io/v1beta1"): _BFDPROFILE,
        ("BGPAdvertisement", "metallb.io/v1beta1"): _BGPADVERTISEMENT,
        ("BGPPeer", "metallb.io/v1beta1"): _BGPPEER_V1BETA1,
        ("BGPPeer", "metallb.io/v1beta2"): _BGPPEER_V1BETA2_013,
        ("Community", "metallb.io/v1beta1"): _COMMUNITY,
        ("IPAddressPool", "metallb.io/v1beta1"): _IPADDRESSPOOL,
        ("L2Advertisement", "metallb.io/v1beta1"): _L2ADVERTISEMENT,
    },
    "v0.14.9": {
        ("BFDProfile", "metallb.io/v1beta1"): _BFDPROFILE,
        ("BGPAdvertisement", "metallb.io/v1beta1"): _BGPADVERTISEMENT,
        ("BGPPeer", "metallb.io/v1beta1"): _BGPPEER_V1BETA1,
        ("BGPPeer", "metallb.io/v1beta2"): _BGPPEER_V1BETA2_014,
        ("Community", "metallb.io/v1beta1"): _COMMUNITY,
        ("IPAddressPool", "metallb.io/v1beta1"): _IPADDRESSPOOL,
        ("L2Advertisement", "metallb.io/v1beta1"): _L2ADVERTISEMENT,
    },
}
VERSIONS = tuple(SPEC_SCHEMAS)


# -- field errors (k8s.io/apimachinery pkg/util/validation/field) ---------------------------------------------

REQUIRED = "FieldValueRequired"
NOT_SUPPORTED = "FieldValueNotSupported"
INVALID = "FieldValueInvalid"
TYPE_INVALID = "FieldValueTypeInvalid"
TYPE_STRINGS = {
    REQUIRED: "Required value",
    NOT_SUPPORTED: "Unsupported value",
    INVALID: "Invalid value",
    TYPE_INVALID: "Invalid value",
}


def go_value(value: Any) -> str:
    """field.Error.ErrorBody's value: %q for strings, %v for numbers and bools, "null" for nil."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "[]interface {}{" + ", ".join(json.dumps(v) for v in value) + "}"  # %#v of a decoded JSON list
    # Other maps and slices are printed %#v by Go; the lab names the type only.
    return f"{type(value).__name__}"


@dataclass(frozen=True)
class FieldError:
    type: str
    field: str
    value: Any = None
    detail: str = ""

    def body(self) -> str:
        """field.Error.ErrorBody."""
        s = TYPE_STRINGS[self.type]
        if self.type != REQUIRED:
            s += f": {go_value(self.value)}"
        if self.detail:
            s += f": {self.detail}"
        return s

    def __str__(self) -> str:
        return f"{self.field}: {self.body()}"

    def cause(self) -> dict[str, str]:
        return {"reason": self.type, "message": self.body(), "field": self.field}


def invalid_status(kind: str, group: str, name: str, errors: list[FieldError]) -> dict[str, Any]:
    """apierrors.NewInvalid(GroupKind{group, kind}, name, errs).ErrStatus."""
    qualified = f"{kind}.{group}" if group else kind
    agg = str(errors[0]) if len(errors) == 1 else "[" + ", ".join(str(e) for e in errors) + "]"
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": f"{qualified} {json.dumps(name)} is invalid: {agg}",
        "reason": "Invalid",
        # metav1.StatusDetails: group is omitempty (a core kind has none).
        "details": {
            "name": name,
            **({"group": group} if group else {}),
            "kind": kind,
            "causes": [e.cause() for e in errors],
        },
        "code": 422,
    }


# -- validation (kube-openapi pkg/validation/validate, the checks these schemas use) -------------------------


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer() and not math.isinf(value)):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    return type(value).__name__


def _fmt_number(n: Any) -> str:
    """Go ``%v`` of the float64 bound kube-openapi prints (strconv 'g', shortest: exponent form from 1e+06 on)."""
    x = float(n)
    if x == 0:
        return "0"
    sign, digits, exponent = Decimal(repr(x)).normalize().as_tuple()
    ds = "".join(map(str, digits))
    exp10 = len(ds) + int(exponent) - 1
    minus = "-" if sign else ""
    if exp10 < -4 or exp10 >= 6:
        mant = ds[0] + ("." + ds[1:] if len(ds) > 1 else "")
        return f"{minus}{mant}e{'-' if exp10 < 0 else '+'}{abs(exp10):02d}"
    return minus + format(Decimal(repr(abs(x))).normalize(), "f")


def _validate(schema: Schema, value: Any, path: str, out: list[FieldError]) -> None:
    want = schema.get("type")
    got = _json_type(value)
    if want and not (got == want or (want == "number" and got == "integer")):
        detail = f"{path} in body must be of type {want}: {json.dumps(got)}"
        out.append(FieldError(TYPE_INVALID, path, got, detail))
        return
    if "enum" in schema and value not in schema["enum"]:
        supported = ", ".join(json.dumps(v) if isinstance(v, str) else json.dumps(v) for v in schema["enum"])
        out.append(FieldError(NOT_SUPPORTED, path, value, f"supported values: {supported}"))
    if want == "integer":
        if "minimum" in schema and value < schema["minimum"]:
            detail = f"{path} in body should be greater than or equal to {_fmt_number(schema['minimum'])}"
            out.append(FieldError(INVALID, path, value, detail))
        if "maximum" in schema and value > schema["maximum"]:
            detail = f"{path} in body should be less than or equal to {_fmt_number(schema['maximum'])}"
            out.append(FieldError(INVALID, path, value, detail))
    if want == "array":
        if "minItems" in schema and len(value) < schema["minItems"]:
            detail = f"{path} in body should have at least {schema['minItems']} items"
            out.append(FieldError(INVALID, path, value, detail))
        for i, item in enumerate(value):
            _validate(schema.get("items") or {}, item, f"{path}[{i}]", out)
    if want == "object":
        for key in schema.get("required") or []:
            if key not in value:
                out.append(FieldError(REQUIRED, f"{path}.{key}"))
        props = schema.get("properties")
        additional = schema.get("additionalProperties")
        for key in sorted(value):
            if props is not None and key in props:
                _validate(props[key], value[key], f"{path}.{key}", out)
            elif isinstance(additional, dict):
                _validate(additional, value[key], f"{path}.{key}", out)


def prune(schema: Schema, value: Any) -> Any:
    """Drop what the schema does not declare (and nulls: a non-nullable field sent as null is dropped)."""
    if not isinstance(value, dict | list):
        return value
    if isinstance(value, list):
        items = schema.get("items") or {}
        return [prune(items, v) for v in value] if schema.get("type") == "array" else value
    if schema.get("type") != "object":
        return value
    props = schema.get("properties")
    additional = schema.get("additionalProperties")
    out = {}
    for key, v in value.items():
        if v is None:
            continue
        if props is not None and key in props:
            out[key] = prune(props[key], v)
        elif isinstance(additional, dict):
            out[key] = prune(additional, v)
    return out


def spec_schema(version: str, kind: str, api_version: str) -> Schema | None:
    return SPEC_SCHEMAS.get(version, SPEC_SCHEMAS[VERSIONS[0]]).get((kind, api_version))


def prune_object(obj: dict[str, Any], version: str) -> dict[str, Any]:
    """The object with its ``spec`` pruned to the CRD schema (unknown top-level fields dropped too)."""
    schema = spec_schema(version, obj.get("kind", ""), obj.get("apiVersion", ""))
    if schema is None:
        return obj
    out = {k: v for k, v in obj.items() if k in ("apiVersion", "kind", "metadata", "spec", "status")}
    if isinstance(obj.get("spec"), dict):
        out["spec"] = prune(schema, obj["spec"])
    return out


def validate_object(obj: dict[str, Any], version: str) -> list[FieldError]:
    """The schema errors of a metallb.io object (its ``spec``), in the order the lab reports them."""
    schema = spec_schema(version, obj.get("kind", ""), obj.get("apiVersion", ""))
    if schema is None or "spec" not in obj:
        return []
    out: list[FieldError] = []
    _validate(schema, obj["spec"], "spec", out)
    return out
