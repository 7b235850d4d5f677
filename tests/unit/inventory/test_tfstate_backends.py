"""State backends against real servers on loopback: S3 (moto server, path-style, workspaces) and HTTP."""

from __future__ import annotations

import base64
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

from inventory.build import InventorySources, load
from inventory.errors import InputError, SourceUnreachable
from inventory.sources import fetch
from tests.conftest import FIXTURES

SAMPLE = FIXTURES / "samples" / "prd.tfstate"
TF = FIXTURES / "tfstate"
KEY = "edge/terraform.tfstate"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def s3() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="minio",
        aws_secret_access_key="minio123",
        config=Config(s3={"addressing_style": "path"}),
    )
    client.create_bucket(Bucket="tfstate")
    client.put_object(Bucket="tfstate", Key=f"env:/prd/{KEY}", Body=SAMPLE.read_bytes())
    client.put_object(Bucket="tfstate", Key=f"env:/dev/{KEY}", Body=(TF / "dev.tfstate").read_bytes())
    client.put_object(Bucket="tfstate", Key=f"env:/wsp/{KEY}", Body=(TF / "wsp.tfstate").read_bytes())
    client.put_object(Bucket="tfstate", Key="env:/stage/other.tfstate", Body=SAMPLE.read_bytes())
    client.put_object(Bucket="tfstate", Key="staging/blue/x.tfstate", Body=(TF / "dev.tfstate").read_bytes())
    yield endpoint
    server.stop()


@pytest.fixture(autouse=True)
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "minio")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "minio123")
    for var in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_PROFILE", "EDGEKIT_S3_ENDPOINT"):
        monkeypatch.delenv(var, raising=False)


def test_s3_all_workspaces(s3: str) -> None:
    result = load(InventorySources(states=[f"s3://tfstate/{KEY}?workspace=*&endpoint={s3}"]))
    assert [c.name for c in result.site.ordered_clusters()] == ["dev", "wsp", "prd"]
    assert result.states["prd"].source == f"s3://tfstate/env:/prd/{KEY}"


def test_s3_named_workspaces_with_endpoint_from_env(s3: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EDGEKIT_S3_ENDPOINT", s3)
    docs = fetch(f"s3://tfstate/{KEY}?workspace=prd,dev")
    assert [(d.workspace, d.label) for d in docs] == [
        ("prd", f"s3://tfstate/env:/prd/{KEY}"),
        ("dev", f"s3://tfstate/env:/dev/{KEY}"),
    ]


def test_s3_workspace_key_names_the_cluster(s3: str) -> None:
    # the sample says show_workspaces=prd, but its location env:/stage/ wins
    result = load(InventorySources(states=[f"s3://tfstate/env:/stage/other.tfstate?endpoint={s3}"]))
    assert list(result.site.clusters) == ["stage"]
    custom = fetch(f"s3://tfstate/x.tfstate?workspace=blue&workspace_key_prefix=staging&endpoint={s3}")
    assert custom[0].workspace == "blue" and custom[0].label == "s3://tfstate/staging/blue/x.tfstate"


def test_s3_missing_key_is_input_error(s3: str) -> None:
    with pytest.raises(InputError, match=r"^s3://tfstate/env:/qa/edge/terraform.tfstate: no such state object"):
        fetch(f"s3://tfstate/{KEY}?workspace=qa&endpoint={s3}")


def test_s3_unreachable() -> None:
    port = free_port()
    with pytest.raises(SourceUnreachable, match="cannot reach the S3 endpoint") as err:
        fetch(f"s3://tfstate/{KEY}?workspace=prd&endpoint=http://127.0.0.1:{port}")
    assert err.value.exit_code == 3


class _Backend(BaseHTTPRequestHandler):
    states: dict[str, bytes] = {}
    auth: str | None = None

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802
        if self.auth and self.headers.get("Authorization") != "Basic " + base64.b64encode(self.auth.encode()).decode():
            self.send_response(401)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = self.states.get(self.path.split("?")[0])
        if body is None:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def http_backend() -> Iterator[tuple[str, type[_Backend]]]:
    handler = type("Backend", (_Backend,), {"states": {"/state/edge": SAMPLE.read_bytes()}, "auth": None})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", handler
    server.shutdown()
    server.server_close()


def test_http_backend(http_backend: tuple[str, type[_Backend]]) -> None:
    url, _ = http_backend
    result = load(InventorySources(states=[f"{url}/state/edge?workspace=blue"]))
    assert list(result.site.clusters) == ["blue"] and len(result.hosts) == 9


def test_http_backend_basic_auth(http_backend: tuple[str, type[_Backend]], monkeypatch: pytest.MonkeyPatch) -> None:
    url, handler = http_backend
    handler.auth = "terraform:s3cret"
    with pytest.raises(SourceUnreachable, match=r"access denied \(HTTP 401\)"):
        fetch(f"{url}/state/edge")
    monkeypatch.setenv("TF_HTTP_USERNAME", "terraform")
    monkeypatch.setenv("TF_HTTP_PASSWORD", "s3cret")
    assert fetch(f"{url}/state/edge")[0].text == SAMPLE.read_bytes()
    monkeypatch.delenv("TF_HTTP_USERNAME")
    docs = fetch(f"{url.replace('http://', 'http://terraform:s3cret@')}/state/edge")
    assert "s3cret" not in docs[0].label  # credentials never in labels (errors, reports)


def test_http_backend_404_and_unreachable(http_backend: tuple[str, type[_Backend]]) -> None:
    url, _ = http_backend
    with pytest.raises(InputError, match=r"/state/nope: no state at this address \(HTTP 404\)"):
        fetch(f"{url}/state/nope")
    with pytest.raises(SourceUnreachable, match="cannot reach the HTTP backend"):
        fetch(f"http://127.0.0.1:{free_port()}/state/edge")


def test_local_file_and_stdin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import io
    import sys

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(SAMPLE.read_bytes())))
    assert fetch("-")[0].text == SAMPLE.read_bytes()
    with pytest.raises(InputError, match="no such state file"):
        fetch(str(tmp_path / "missing.tfstate"))
