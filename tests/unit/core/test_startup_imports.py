"""Start-up: the inventory layer imports the Kubernetes client, boto3 and urllib.request only when a source
needs them (issue 17), so importing it, or loading a local state without a kubeconfig, leaves them out."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
SAMPLE = REPO / "tests" / "fixtures" / "samples" / "prd.tfstate"
COSTLY = ["kubernetes", "boto3", "botocore", "urllib.request"]


def loaded_after(code: str) -> list[str]:
    """Which of COSTLY a fresh interpreter has imported after running ``code`` (from the worktree's top)."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps([m for m in {COSTLY!r} if m in sys.modules]))"
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, timeout=60, check=True
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def test_importing_the_inventory_and_its_nornir_plugin_loads_no_costly_client() -> None:
    assert loaded_after("import inventory.build, inventory.nornir_plugin") == []


def test_loading_a_local_state_without_kubeconfig_loads_no_costly_client() -> None:
    assert SAMPLE.is_file()
    code = (
        "from inventory.build import InventorySources, load\n"
        f"result = load(InventorySources(states=[{str(SAMPLE)!r}]))\n"
        "assert result.hosts\n"
    )
    assert loaded_after(code) == []


def test_the_probe_sees_a_costly_import() -> None:
    # The probe itself can fail: an S3 source makes botocore (the AWS SDK core boto3 builds on) load.
    assert "botocore" in loaded_after('from inventory import sources\nsources._new_s3_client(None, "us-east-1")')
