"""Shared test setup: lab tests need root (network namespaces, real daemons)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
# Copies of ../shared/reference/{outputs,samples}, so the suite needs nothing outside the repo.
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.geteuid() == 0:
        return
    skip = pytest.mark.skip(reason="needs root: network namespaces and real daemons (CI runs these)")
    for item in items:
        if "lab" in item.keywords or "root" in item.keywords:
            item.add_marker(skip)


def pytest_runtest_setup(item: pytest.Item) -> None:
    """``@pytest.mark.programs("haproxy", ...)``: a developer without them skips; CI, which installs
    them, fails instead, so a missing install step never hides behind a skip."""
    for marker in item.iter_markers("programs"):
        missing = [name for name in marker.args if shutil.which(name) is None]
        if missing:
            message = f"needs {', '.join(missing)} (installed by scripts/install.sh)"
            if os.environ.get("CI"):
                pytest.fail(message)
            pytest.skip(message)
