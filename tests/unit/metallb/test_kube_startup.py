"""Kubernetes discovery's start-up costs (issue 17): the client's lazy packages, and reads started at once."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from inventory import kube
from inventory.errors import SourceUnreachable

REPO = Path(__file__).resolve().parents[3]

PROBE = """
import json, sys
from inventory import kube
kube._lazy_client()
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException
api = client.ApiClient(configuration=client.Configuration())
core, custom = client.CoreV1Api(api), client.CustomObjectsApi(api)
class Answer:
    data = json.dumps({"items": [{"metadata": {"name": "n1"},
                                  "status": {"addresses": [{"type": "InternalIP", "address": "192.0.2.7"}]}}]})
    def getheader(self, *a):
        return None
nodes = api.deserialize(Answer(), "V1NodeList")
models = [m for m in sys.modules if m.startswith("kubernetes.client.models.")]
apis = [m for m in sys.modules if m.startswith("kubernetes.client.api.")]
print(json.dumps({"address": nodes.items[0].status.addresses[0].address, "type": type(nodes).__name__,
                  "models": len(models), "apis": sorted(apis), "version": __import__("kubernetes").__version__,
                  "has_config": hasattr(config, "load_kube_config")}))
"""


def test_the_client_loads_only_what_edgekit_names_and_still_deserializes() -> None:
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["address"] == "192.0.2.7" and got["type"] == "V1NodeList" and got["has_config"]
    assert got["version"]  # the package's own __version__, read from its __init__
    assert got["apis"] == ["kubernetes.client.api.core_v1_api", "kubernetes.client.api.custom_objects_api"]
    assert got["models"] < 20  # of ~700: only the ones the answer held (and the client's imports)


def test_reads_started_ahead_run_at_once_and_keep_their_answers_and_errors() -> None:
    running, peak = [0], [0]
    lock = threading.Lock()

    def read(name: str, _request_timeout: Any = None, fail: bool = False) -> str:
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.3)
        with lock:
            running[0] -= 1
        if fail:
            raise ConnectionRefusedError("[Errno 111] Connection refused")
        return f"answer {name}"

    calls = [(read, (f"r{i}",), {}) for i in range(5)] + [(read, ("bad",), {"fail": True})]
    started = time.monotonic()
    with kube._prefetch(calls):
        answers = [kube._call(read, "what", f"r{i}") for i in range(5)]
        with pytest.raises(SourceUnreachable) as caught:
            kube._call(read, "what", "bad", fail=True)
        direct = kube._call(read, "what", "not started ahead")
    assert answers == [f"answer r{i}" for i in range(5)] and direct == "answer not started ahead"
    assert "Connection refused" in str(caught.value) and str(caught.value).startswith("what: ")
    assert peak[0] >= 5  # in parallel, not one after the other
    assert time.monotonic() - started < 5 * 0.3 + 0.3
