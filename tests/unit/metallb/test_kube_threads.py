"""Kubeconfig contexts loaded from many threads at once always get a complete CA file.

The kubernetes client writes ``certificate-authority-data`` into a temp file and caches its name per
content (``kube_config._create_temp_file_with_content``); it records the name before it writes the file,
so without edgekit's lock a second thread may be handed an empty CA file (``SSLError: [X509:
NO_CERTIFICATE_OR_CRL_FOUND]``). Each round starts with an empty cache, as a fresh process does.
"""

from __future__ import annotations

import base64
import ssl
import threading
from pathlib import Path

import yaml
from kubernetes.config import kube_config

from inventory import kube

CONTEXTS = 8
THREADS = 16
ROUNDS = 15


def _kubeconfig(path: Path, ca_pem: bytes) -> None:
    data = base64.b64encode(ca_pem).decode()
    names = [f"c{i}" for i in range(CONTEXTS)]
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [
                    {
                        "name": n,
                        "cluster": {"server": f"https://127.0.0.1:{6443 + i}", "certificate-authority-data": data},
                    }
                    for i, n in enumerate(names)
                ],
                "users": [{"name": n, "user": {"token": f"token-{n}"}} for n in names],
                "contexts": [{"name": n, "context": {"cluster": n, "user": n}} for n in names],
                "current-context": names[0],
            }
        )
    )


def test_contexts_sharing_one_ca_loaded_in_parallel_get_a_complete_ca_file(tmp_path: Path) -> None:
    from lab.kubeapi.tls import self_signed

    cert, _ = self_signed(tmp_path / "pki")
    ca_pem = Path(cert).read_bytes()
    kc = tmp_path / "kubeconfig"
    _kubeconfig(kc, ca_pem)
    problems: list[str] = []

    def load(context: str, barrier: threading.Barrier) -> None:
        barrier.wait()
        api = kube.api_client(str(kc), context)
        try:
            cfg = api.configuration
            ca_file = cfg.ssl_ca_cert
            content = Path(ca_file).read_bytes()
            if content != ca_pem:
                problems.append(f"{context}: CA file {ca_file} has {len(content)} of {len(ca_pem)} bytes")
                return
            ssl.create_default_context(cafile=ca_file)  # what urllib3 does with it: must load
            if cfg.api_key.get("BearerToken") != f"Bearer token-{context}":
                problems.append(f"{context}: wrong token {cfg.api_key}")
        except Exception as exc:  # collected: an assertion in a thread would be lost
            problems.append(f"{context}: {type(exc).__name__}: {exc}")
        finally:
            api.close()

    for _ in range(ROUNDS):
        for name in kube_config._temp_files.values():  # a fresh process: nothing cached yet
            Path(name).unlink(missing_ok=True)
        kube_config._temp_files.clear()
        barrier = threading.Barrier(THREADS)
        threads = [threading.Thread(target=load, args=(f"c{i % CONTEXTS}", barrier)) for i in range(THREADS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        assert not any(t.is_alive() for t in threads)
        assert not problems, problems[:5]
