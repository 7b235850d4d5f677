"""Shared test setup: lab tests need root (network namespaces, real daemons)."""

from __future__ import annotations

import os
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
