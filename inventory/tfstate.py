"""Terraform state parsing: state format v4 and the JSON of ``terraform show -json``.

Only what edgekit needs is kept: Sakura Cloud servers (``sakuracloud_server``), subnets
(``sakuracloud_subnet``: the routed MetalLB range) and outputs. Rules:

- managed resources only; data sources are ignored;
- resources in modules (``module.a.module.b``, ``module.x["key"]``) are read like root ones;
- ``count`` (int) and ``for_each`` (string) index keys are kept in the resource address;
- tainted instances are kept and flagged (``Server.tainted``); deposed objects (an old object kept by
  ``create_before_destroy``) are ignored: they are not the live server;
- outputs keep their value; sensitive outputs are wrapped in ``Sensitive`` so printing shows ``********``.

Every value that fails validation raises ``InputError`` naming the source and the JSON path, e.g.
``prd.tfstate at resources[6].instances[1].attributes.ip_address: '203.0.113.999' is not a valid IPv4 address``.
Values at sensitive paths are never quoted.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Network
from typing import Any

from inventory.errors import InputError, json_path
from inventory.secrets import MASK

SERVER_TYPE = "sakuracloud_server"
SUBNET_TYPE = "sakuracloud_subnet"


class Sensitive:
    """A sensitive output value: usable by code, shown as ``********``."""

    __slots__ = ("_value",)

    def __init__(self, value: Any) -> None:
        self._value = value

    def get(self) -> Any:
        return self._value

    def __repr__(self) -> str:
        return MASK

    __str__ = __repr__


@dataclass(frozen=True)
class Output:
    name: str
    value: Any  # a Sensitive wrapper when the output is sensitive
    sensitive: bool
    path: str

    def plain(self) -> Any:
        return self.value.get() if isinstance(self.value, Sensitive) else self.value

    def shown(self) -> Any:
        """The value for printing: sensitive outputs masked."""
        return MASK if self.sensitive else self.value


@dataclass(frozen=True)
class Nic:
    index: int
    upstream: str
    user_ip_address: IPv4Address | None
    path: str  # JSON path of this NIC's user_ip_address


@dataclass(frozen=True)
class Server:
    name: str
    address: str  # the Terraform resource address, e.g. module.c["prd"].sakuracloud_server.node["a"]
    resource: str  # the address without the index key
    index: int | str | None
    tags: list[str]
    ip_address: IPv4Address | None
    netmask: int | None
    gateway: IPv4Address | None
    nics: list[Nic]
    tainted: bool
    path: str  # JSON path of the instance (its attributes are at path + ".attributes" / ".values")
    attr_path: str  # JSON path of the attributes object


@dataclass(frozen=True)
class Subnet:
    address: str
    network: IPv4Network
    next_hop: IPv4Address | None
    path: str = ""  # JSON path of the network_address attribute


@dataclass
class State:
    source: str
    format: str  # "state-v4" | "show-json"
    terraform_version: str | None
    serial: int | None
    lineage: str | None
    outputs: dict[str, Output] = field(default_factory=dict)
    servers: list[Server] = field(default_factory=list)
    subnets: list[Subnet] = field(default_factory=list)
    ignored: dict[str, int] = field(default_factory=dict)  # "data", "deposed" -> count

    def output(self, name: str) -> Output | None:
        return self.outputs.get(name)


def loads(text: str | bytes, source: str) -> State:
    """Parse a state document (v4 state or ``terraform show -json``) from text."""
    try:
        doc = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        where = f" (line {exc.lineno}, column {exc.colno})" if isinstance(exc, json.JSONDecodeError) else ""
        raise InputError(f"not JSON{where}: a Terraform state is a JSON document", source=source) from None
    return parse(doc, source)


def parse(doc: Any, source: str) -> State:
    if not isinstance(doc, dict):
        raise InputError(f"a Terraform state is a JSON object, got {type(doc).__name__}", source=source)
    if "format_version" in doc and "version" not in doc:
        return _parse_show_json(doc, source)
    version = doc.get("version")
    if version != 4:
        raise InputError(
            f"state format version {version!r} is not supported (only 4; run `terraform show -json` "
            "or upgrade the state with Terraform >= 0.12)",
            source=source,
            path="version",
        )
    state = State(
        source=source,
        format="state-v4",
        terraform_version=doc.get("terraform_version"),
        serial=doc.get("serial"),
        lineage=doc.get("lineage"),
    )
    state.outputs = _outputs(doc.get("outputs") or {}, source, "outputs")
    resources = doc.get("resources") or []
    if not isinstance(resources, list):
        raise InputError("must be a list", source=source, path="resources")
    for ri, res in enumerate(resources):
        rpath = f"resources[{ri}]"
        if not isinstance(res, dict):
            raise InputError("a resource is an object", source=source, path=rpath)
        if res.get("mode") != "managed":
            state.ignored["data"] = state.ignored.get("data", 0) + 1
            continue
        rtype = res.get("type")
        if rtype not in (SERVER_TYPE, SUBNET_TYPE):
            continue
        module = res.get("module")
        base = f"{module}.{rtype}.{res.get('name')}" if module else f"{rtype}.{res.get('name')}"
        instances = res.get("instances") or []
        if not isinstance(instances, list):
            raise InputError("must be a list", source=source, path=f"{rpath}.instances")
        for ii, inst in enumerate(instances):
            ipath = f"{rpath}.instances[{ii}]"
            if not isinstance(inst, dict):
                raise InputError("an instance is an object", source=source, path=ipath)
            if inst.get("deposed"):
                state.ignored["deposed"] = state.ignored.get("deposed", 0) + 1
                continue
            attrs = inst.get("attributes")
            if not isinstance(attrs, dict):
                raise InputError("missing attributes object", source=source, path=f"{ipath}.attributes")
            index = inst.get("index_key")
            sensitive = _sensitive_v4(inst.get("sensitive_attributes") or [])
            tainted = inst.get("status") == "tainted"
            _add(state, rtype, base, index, attrs, tainted, ipath, f"{ipath}.attributes", sensitive)
    return state


def _parse_show_json(doc: dict[str, Any], source: str) -> State:
    state = State(
        source=source,
        format="show-json",
        terraform_version=doc.get("terraform_version"),
        serial=None,
        lineage=None,
    )
    values = doc.get("values")
    if values is None:  # `terraform show -json` of an empty state
        return state
    if not isinstance(values, dict):
        raise InputError("must be an object", source=source, path="values")
    state.outputs = _outputs(values.get("outputs") or {}, source, "values.outputs")
    root = values.get("root_module") or {}

    def walk(module: dict[str, Any], mpath: str) -> None:
        for ri, res in enumerate(module.get("resources") or []):
            rpath = f"{mpath}.resources[{ri}]"
            if res.get("mode") != "managed":
                state.ignored["data"] = state.ignored.get("data", 0) + 1
                continue
            if res.get("deposed_key"):
                state.ignored["deposed"] = state.ignored.get("deposed", 0) + 1
                continue
            rtype = res.get("type")
            if rtype not in (SERVER_TYPE, SUBNET_TYPE):
                continue
            address = str(res.get("address", ""))
            index = res.get("index")
            base = address[: address.rfind("[")] if index is not None and address.endswith("]") else address
            attrs = res.get("values")
            if not isinstance(attrs, dict):
                raise InputError("missing values object", source=source, path=f"{rpath}.values")
            sensitive = _sensitive_show(res.get("sensitive_values") or {})
            _add(state, rtype, base, index, attrs, bool(res.get("tainted")), rpath, f"{rpath}.values", sensitive)
        for ci, child in enumerate(module.get("child_modules") or []):
            walk(child, f"{mpath}.child_modules[{ci}]")

    walk(root, "values.root_module")
    return state


def _outputs(raw: Any, source: str, path: str) -> dict[str, Output]:
    if not isinstance(raw, dict):
        raise InputError("must be an object", source=source, path=path)
    out: dict[str, Output] = {}
    for name, entry in raw.items():
        opath = f"{path}.{name}"
        if not isinstance(entry, dict) or "value" not in entry:
            raise InputError("an output is an object with a value", source=source, path=opath)
        sensitive = bool(entry.get("sensitive"))
        value = Sensitive(entry["value"]) if sensitive else entry["value"]
        out[name] = Output(name=name, value=value, sensitive=sensitive, path=f"{opath}.value")
    return out


# Sensitive attribute paths, as tuples of keys/indexes (only the leading attribute names matter to us).
SensitivePaths = set[tuple[Any, ...]]


def _sensitive_v4(paths: list[Any]) -> SensitivePaths:
    out: SensitivePaths = set()
    for p in paths:
        if isinstance(p, list):
            steps: list[Any] = []
            for step in p:
                if not isinstance(step, dict):
                    continue
                value = step.get("value")
                steps.append(value.get("value") if isinstance(value, dict) else value)
            out.add(tuple(steps))
    return out


def _sensitive_show(tree: Any, prefix: tuple[Any, ...] = ()) -> SensitivePaths:
    out: SensitivePaths = set()
    if tree is True:
        out.add(prefix)
    elif isinstance(tree, dict):
        for k, v in tree.items():
            out |= _sensitive_show(v, (*prefix, k))
    elif isinstance(tree, list):
        for i, v in enumerate(tree):
            out |= _sensitive_show(v, (*prefix, i))
    return out


def _is_sensitive(sensitive: SensitivePaths, steps: tuple[Any, ...]) -> bool:
    return any(steps[: len(p)] == p for p in sensitive if p)


@functools.lru_cache(maxsize=65536)
def _ipv4(text: str) -> IPv4Address:
    """Parsed once per distinct string: a server's NIC 0 address stands in its state three times over
    (ip_address, network_interface[0], disk_edit_parameter), and gateways on every server."""
    return IPv4Address(text)


def _addr(
    value: Any, source: str, path: str, steps: tuple[Any, ...], sensitive: SensitivePaths, *, empty_ok: bool = True
) -> IPv4Address | None:
    if value is None or value == "":
        if empty_ok:
            return None
        raise InputError("missing address", source=source, path=path)
    try:
        return _ipv4(str(value))
    except ValueError:
        shown = MASK if _is_sensitive(sensitive, steps) else repr(value)
        raise InputError(f"{shown} is not a valid IPv4 address", source=source, path=path) from None


def _add(
    state: State,
    rtype: str,
    base: str,
    index: Any,
    attrs: dict[str, Any],
    tainted: bool,
    ipath: str,
    apath: str,
    sensitive: SensitivePaths,
) -> None:
    source = state.source
    if isinstance(index, int):
        address = f"{base}[{index}]"
    elif isinstance(index, str):
        address = f'{base}["{index}"]'
    else:
        address = base
    if rtype == SUBNET_TYPE:
        net = attrs.get("network_address")
        mask = attrs.get("netmask")
        try:
            network = IPv4Network(f"{net}/{mask}")
        except ValueError:
            raise InputError(
                f"{net!r}/{mask!r} is not a valid IPv4 network", source=source, path=f"{apath}.network_address"
            ) from None
        next_hop = _addr(attrs.get("next_hop"), source, f"{apath}.next_hop", ("next_hop",), sensitive)
        state.subnets.append(
            Subnet(address=address, network=network, next_hop=next_hop, path=f"{apath}.network_address")
        )
        return
    name = attrs.get("name")
    if not isinstance(name, str) or not name:
        raise InputError("a server needs a name", source=source, path=f"{apath}.name")
    ip = _addr(attrs.get("ip_address"), source, f"{apath}.ip_address", ("ip_address",), sensitive)
    gateway = _addr(attrs.get("gateway"), source, f"{apath}.gateway", ("gateway",), sensitive)
    netmask = attrs.get("netmask")
    if netmask in ("", None, 0):
        netmask = None
    elif not isinstance(netmask, int) or not 0 < netmask <= 32:
        raise InputError(f"{netmask!r} is not a prefix length (1-32)", source=source, path=f"{apath}.netmask")
    nics: list[Nic] = []
    raw_nics = attrs.get("network_interface") or []
    if not isinstance(raw_nics, list):
        raise InputError("must be a list", source=source, path=f"{apath}.network_interface")
    for ni, nic in enumerate(raw_nics):
        npath = f"{apath}.network_interface[{ni}]"
        if not isinstance(nic, dict):
            raise InputError("a network interface is an object", source=source, path=npath)
        steps = ("network_interface", ni, "user_ip_address")
        user_ip = _addr(nic.get("user_ip_address"), source, f"{npath}.user_ip_address", steps, sensitive)
        nics.append(Nic(index=ni, upstream=str(nic.get("upstream", "")), user_ip_address=user_ip, path=npath))
    tags = attrs.get("tags") or []
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise InputError("tags must be a list of strings", source=source, path=f"{apath}.tags")
    state.servers.append(
        Server(
            name=name,
            address=address,
            resource=base,
            index=index,
            tags=list(tags),
            ip_address=ip,
            netmask=netmask,
            gateway=gateway,
            nics=nics,
            tainted=tainted,
            path=ipath,
            attr_path=apath,
        )
    )


__all__ = ["Nic", "Output", "Sensitive", "Server", "State", "Subnet", "json_path", "loads", "parse"]
