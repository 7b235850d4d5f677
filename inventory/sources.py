"""Where Terraform state comes from: a file, S3 (MinIO), a Terraform HTTP backend, or stdin.

A source string is ``[CLUSTER=]LOCATION``:

- ``path/to/prd.tfstate`` or ``file:///...``: a local state file, or the JSON of ``terraform show -json``
  (told apart by content). ``-`` reads standard input.
- ``s3://bucket/key``: the S3 backend through botocore (boto3's core), always with path-style addressing (MinIO). The
  endpoint comes from ``?endpoint=URL``, else ``$EDGEKIT_S3_ENDPOINT``, else boto3's own
  (``$AWS_ENDPOINT_URL_S3`` / ``$AWS_ENDPOINT_URL``); the region from ``?region=`` or boto3's
  configuration (default ``us-east-1``); credentials from boto3's usual chain (``AWS_ACCESS_KEY_ID`` ...).
  Workspaces as Terraform's S3 backend stores them: ``?workspace=prd`` reads ``env:/prd/<key>``,
  ``?workspace=prd,dev`` several, ``?workspace=*`` every workspace found under the prefix;
  ``?workspace_key_prefix=`` changes ``env:``. A key already of the form ``env:/<ws>/<key>`` names its
  workspace. Without a workspace the key is the default workspace's state.
- ``http://`` / ``https://``: a Terraform HTTP backend address, read with GET. Basic auth from
  ``$TF_HTTP_USERNAME`` / ``$TF_HTTP_PASSWORD``. A ``workspace`` query parameter is passed on and also
  names the cluster.

The optional ``CLUSTER=`` prefix names the cluster outright (it wins over every other hint).
Unreachable endpoints raise ``SourceUnreachable`` (exit 3); a missing object or file is ``InputError`` (exit 2).
"""

from __future__ import annotations

import base64
import os
import re
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit, urlunsplit

from inventory.errors import InputError, SourceUnreachable

_CLUSTER_PREFIX = re.compile(r"^([A-Za-z0-9][A-Za-z0-9_.-]*)=(?!=)")
_WS_KEY = re.compile(r"^(?P<prefix>[^/]+)/(?P<ws>[^/]+)/(?P<key>.+)$")
TIMEOUT = 10.0


@dataclass(frozen=True)
class Fetched:
    """One state document and what its location says about the cluster."""

    label: str  # how errors name it: the file name or URL (without credentials)
    text: bytes
    workspace: str | None  # from S3 env:/<ws>/, ?workspace=, or the CLUSTER= prefix
    explicit: bool = False  # workspace came from a CLUSTER= prefix


def split_cluster(source: str) -> tuple[str | None, str]:
    m = _CLUSTER_PREFIX.match(source)
    if m and not source.startswith(("s3://", "http://", "https://", "file://")):
        return m.group(1), source[m.end() :]
    return None, source


def fetch(source: str) -> list[Fetched]:
    """Read one source string; S3 with several workspaces yields one document per workspace."""
    cluster, location = split_cluster(source.strip())
    if location.startswith("s3://"):
        docs = fetch_s3(location)
    elif location.startswith(("http://", "https://")):
        docs = [fetch_http(location)]
    elif location == "-":
        docs = [Fetched(label="<stdin>", text=sys.stdin.buffer.read(), workspace=None)]
    else:
        docs = [fetch_file(location)]
    if cluster:
        if len(docs) != 1:
            raise InputError("a CLUSTER= prefix names one cluster, but the source has several", source=source)
        docs = [Fetched(label=docs[0].label, text=docs[0].text, workspace=cluster, explicit=True)]
    return docs


def fetch_file(location: str) -> Fetched:
    path = Path(unquote(urlsplit(location).path) if location.startswith("file://") else location).expanduser()
    try:
        return Fetched(label=str(location), text=path.read_bytes(), workspace=None)
    except FileNotFoundError:
        raise InputError("no such state file", source=str(location)) from None
    except OSError as exc:
        raise InputError(f"cannot read state file: {exc.strerror}", source=str(location)) from None


def _first(query: dict[str, list[str]], name: str) -> str | None:
    """The first value of a query parameter (``parse_qs`` output), None when it is absent."""
    values = query.get(name)
    return values[0] if values else None


def fetch_http(url: str) -> Fetched:
    import urllib.error  # only HTTP backends need it (start-up time)
    import urllib.request

    parts = urlsplit(url)
    netloc = (parts.hostname or "") + (f":{parts.port}" if parts.port else "")
    clean = urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))  # no credentials in labels
    label = clean
    workspace = _first(parse_qs(parts.query), "workspace")
    request = urllib.request.Request(clean, method="GET", headers={"Accept": "application/json"})
    user = unquote(parts.username) if parts.username else os.environ.get("TF_HTTP_USERNAME")
    password = unquote(parts.password) if parts.password else os.environ.get("TF_HTTP_PASSWORD")
    if user:
        token = base64.b64encode(f"{user}:{password or ''}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            body = response.read()
            status = response.status
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            raise InputError("no state at this address (HTTP 404)", source=label) from None
        if exc.code in (401, 403):
            hint = "set TF_HTTP_USERNAME / TF_HTTP_PASSWORD"
            raise SourceUnreachable(f"{label}: access denied (HTTP {exc.code}); {hint}") from None
        raise SourceUnreachable(f"{label}: HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise SourceUnreachable(f"{label}: cannot reach the HTTP backend: {reason}") from None
    if status == 204 or not body:
        raise InputError("the HTTP backend holds no state (empty response)", source=label)
    return Fetched(label=label, text=body, workspace=workspace)


def _s3_client(endpoint: str | None, region: str | None) -> Any:  # boto3's S3 client (untyped)
    """One client per endpoint and region for the process: building one costs ~0.1 s, and clients
    (unlike sessions) are safe to share between the threads that fetch several workspaces."""
    endpoint = endpoint or os.environ.get("EDGEKIT_S3_ENDPOINT") or None
    region = region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    with _S3_LOCK:
        key = (endpoint, region, os.environ.get("AWS_ACCESS_KEY_ID"))
        if key not in _S3_CLIENTS:
            _S3_CLIENTS[key] = _new_s3_client(endpoint, region)
        return _S3_CLIENTS[key]


_S3_CLIENTS: dict[tuple[str | None, str, str | None], Any] = {}
_S3_LOCK = threading.Lock()


def _new_s3_client(endpoint: str | None, region: str) -> Any:
    # botocore's session is what boto3.Session().client() builds on (same credential chain, config and
    # endpoint resolution); boto3 itself would add its resource layer and s3transfer, unused here (~0.04 s).
    import botocore.session
    from botocore.config import Config

    config = Config(
        s3={"addressing_style": "path"},
        connect_timeout=3,
        read_timeout=TIMEOUT,
        retries={"max_attempts": 1, "mode": "standard"},
        signature_version="s3v4",
    )
    session = botocore.session.get_session()
    return session.create_client("s3", endpoint_url=endpoint, region_name=region, config=config)


def fetch_s3(url: str) -> list[Fetched]:
    from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError, NoCredentialsError

    parts = urlsplit(url)
    bucket = parts.netloc
    key = unquote(parts.path.lstrip("/"))
    query = parse_qs(parts.query)
    if not bucket or not key:
        raise InputError("an S3 state source is s3://bucket/key", source=url)
    endpoint = _first(query, "endpoint")
    region = _first(query, "region")
    prefix = (query.get("workspace_key_prefix") or ["env:"])[0].strip("/")
    wanted = [w.strip() for v in query.get("workspace", []) for w in v.split(",") if w.strip()]
    base_label = urlunsplit(("s3", bucket, "/" + key, "", ""))
    client = _s3_client(endpoint, region)

    def err(exc: Exception, label: str) -> Exception:
        if isinstance(exc, ClientError):
            code = str(exc.response.get("Error", {}).get("Code", ""))
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if code in ("NoSuchKey", "404", "NotFound"):
                return InputError("no such state object", source=label)
            if code == "NoSuchBucket":
                return InputError(f"no such bucket {bucket!r}", source=label)
            message = exc.response.get("Error", {}).get("Message", "")
            return SourceUnreachable(f"{label}: S3 error {code or status}: {message}")
        if isinstance(exc, NoCredentialsError):
            return SourceUnreachable(f"{label}: no S3 credentials (set AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)")
        if isinstance(exc, EndpointConnectionError):
            return SourceUnreachable(f"{label}: cannot reach the S3 endpoint: {exc}")
        return SourceUnreachable(f"{label}: {exc}")

    def get(object_key: str, workspace: str | None) -> Fetched:
        label = urlunsplit(("s3", bucket, "/" + object_key, "", ""))
        try:
            body = client.get_object(Bucket=bucket, Key=object_key)["Body"].read()
        except (ClientError, BotoCoreError) as exc:
            raise err(exc, label) from None
        return Fetched(label=label, text=body, workspace=workspace)

    m = _WS_KEY.match(key)
    if not wanted and m and m.group("prefix") == prefix:
        return [get(key, m.group("ws"))]
    if not wanted:
        return [get(key, None)]
    if wanted == ["*"]:
        found: list[str] = []
        try:
            paginator = client.get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket=bucket, Prefix=f"{prefix}/"):
                for obj in page.get("Contents", []):
                    mm = _WS_KEY.match(obj["Key"])
                    if mm and mm.group("key") == key:
                        found.append(mm.group("ws"))
        except (ClientError, BotoCoreError) as exc:
            raise err(exc, base_label) from None
        if not found:
            raise InputError(f"no workspace states under {prefix}/*/{key}", source=base_label)
        wanted = sorted(found)
    return [get(key if ws == "default" else f"{prefix}/{ws}/{key}", ws) for ws in wanted]


def with_query(url: str, **params: str) -> str:
    """``url`` with query parameters added (used by tests and the lab to build S3 sources)."""
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    for k, v in params.items():
        query[k] = [v]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query, doseq=True, safe=":/*,"), ""))
