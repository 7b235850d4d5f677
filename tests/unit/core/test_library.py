"""tasks.library (edgekit's Nornir tasks for users' scripts) and the lean start-up of edgekit's programs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from nornir import InitNornir
from nornir.core import Nornir
from nornir.core.filter import F

from inventory.errors import InputError, MissingFact
from tasks.library import render
from tests.conftest import FIXTURES

SAMPLE = FIXTURES / "samples" / "prd.tfstate"
SITE = FIXTURES / "tfstate" / "site.yaml"
REPO = FIXTURES.parents[1]  # the checkout under test


def nornir(site: Path = SITE) -> Nornir:
    return InitNornir(
        runner={"plugin": "threaded", "options": {"num_workers": 2}},
        inventory={"plugin": "TFStateInventory", "options": {"states": str(SAMPLE), "site": str(site)}},
        logging={"enabled": False},
    )


def test_render_task_gives_masked_config_in_the_result(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = tmp_path / "site.yaml"
    text = SITE.read_text().replace("{k8s: edgekit/bgp/password}", "{env: EKT_BGP}")
    site.write_text(text.replace("{file: /etc/edgekit/prd-wg.key}", "{env: EKT_WG}"))
    monkeypatch.setenv("EKT_BGP", "bgp-pw-DO-NOT-PRINT")
    monkeypatch.setenv("EKT_WG", "aGVsbG8gd29ybGQgaGVsbG8gd29ybGQgaGVsbG8gd28=")
    nr = nornir(site)
    assert nr.inventory.hosts["k8s-router-1-prd"].cluster_model.name == "prd"  # type: ignore[attr-defined]
    results = nr.filter(F(groups__contains="role_router")).run(task=render, vyos="1.4")
    result = results["k8s-router-1-prd"][0]
    assert not result.failed and result.changed is False, result.exception
    lines = result.result.splitlines()
    assert any(line.startswith("set protocols bgp") for line in lines), lines
    assert any("password '********'" in line for line in lines), lines
    assert "bgp-pw-DO-NOT-PRINT" not in result.result and "aGVsbG8gd29y" not in result.result


def test_render_task_keeps_a_missing_fact_as_its_exception() -> None:
    result = nornir().filter(F(groups__contains="role_router")).run(task=render, vyos="1.4")["k8s-router-1-prd"][0]
    assert result.failed and isinstance(result.exception, MissingFact)
    assert "clusters.prd.router.bgp.password" in str(result.exception)


def test_tasks_refuse_a_host_that_is_not_a_router() -> None:
    results = nornir().filter(name="k8s-lb-2-server-prd").run(task=render, vyos="1.4")
    result = results["k8s-lb-2-server-prd"][0]
    assert result.failed and isinstance(result.exception, InputError)
    assert "not a router" in str(result.exception)


def _python(code: str) -> str:
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    return proc.stdout.strip()


def test_help_imports_no_engine() -> None:
    code = (
        "import sys\n"
        "from tasks.router import GROUPS, build_parser\n"
        "build_parser(groups=GROUPS)\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'napalm', 'nornir', 'kubernetes', 'netmiko'}))\n"
        "print('tasks.router.apply' in sys.modules, 'inventory.build' in sys.modules)"
    )
    assert _python(code).splitlines() == ["[]", "False False"]


def test_lean_napalm_loads_edgekit_driver_only() -> None:
    code = (
        "import sys\n"
        "from tasks.core import napalm_lean\n"
        "napalm_lean.without_drivers()\n"
        "from nornir_napalm.plugins.connections import Napalm\n"
        "from napalm import get_network_driver\n"
        "print(get_network_driver('edgekit_vyos').__name__)\n"
        "print(sorted(m for m in sys.modules if m in ('napalm.ios', 'napalm.eos', 'napalm.junos', 'napalm.nxos')))\n"
        "import napalm.ios\n"  # a driver package still loads when asked for
        "print(napalm.ios.IOSDriver.__name__)"
    )
    assert _python(code).splitlines() == ["VyOSDriver", "[]", "IOSDriver"]


def test_render_cache_renders_once_per_router_and_version(monkeypatch: pytest.MonkeyPatch) -> None:
    from tasks.router import render as render_module
    from tasks.router.dialect import DIALECTS

    calls: list[tuple[str, str]] = []

    def counting(cluster, dialect, reader=None):  # type: ignore[no-untyped-def]
        calls.append((cluster.name, dialect.version))
        return render_module.RenderedConfig([f"set system host-name {cluster.name}"])

    monkeypatch.setattr(render_module, "render_router_config", counting)
    cluster = nornir().inventory.hosts["k8s-router-1-prd"].cluster_model  # type: ignore[attr-defined]
    cache = render_module.RenderCache()
    first = cache.get(cluster, DIALECTS["1.4"])
    assert cache.get(cluster, DIALECTS["1.4"]) is first
    cache.get(cluster, DIALECTS["1.3"])
    assert calls == [("prd", "1.4"), ("prd", "1.3")] and len(cache) == 2
