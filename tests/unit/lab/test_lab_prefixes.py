"""The lab test modules run at the same time (pytest-xdist, one module per worker): each must name its
namespaces with a code no other module uses, or two modules' labs would share namespaces (and `lab down` of
one would remove the other's). Read from the modules' source: the prefixes they give `own_lab`,
`LabRun.create` / `LabHandle.create`, and the `TAG`s of the modules that build their own namespaces."""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

LAB_TESTS = Path(__file__).resolve().parents[2] / "lab"

# own_lab("ektbfd", ...), LabRun.create("ektkill"), PREFIX = "ektlb"
LAB_PREFIX = re.compile(r'(?:own_lab|\.create)\(\s*"ekt([a-z0-9]+)"|^PREFIX = "ekt([a-z0-9]+)"', re.M)
# TAG = f"{...[:3]}cf{os.getpid() % 100000}"  /  TAG = (...)[:6] + "bf"
TAG = re.compile(r'^TAG = .*?([a-z]{2})\{os\.getpid\(\)[^}]*\}"$|^TAG = .*\+ "([a-z]{2})"$', re.M)


def codes() -> dict[str, list[str]]:
    found: dict[str, list[str]] = defaultdict(list)
    for path in sorted(LAB_TESTS.rglob("*.py")):
        text = path.read_text()
        for match in [*LAB_PREFIX.finditer(text), *TAG.finditer(text)]:
            code = next(g for g in match.groups() if g)
            if path.name not in found[code]:
                found[code].append(path.name)
    return found


def test_every_lab_module_names_its_namespaces_with_a_code_of_its_own() -> None:
    found = codes()
    shared = {code: modules for code, modules in found.items() if len(modules) > 1}
    assert not shared, f"namespace codes used by more than one lab module: {shared}"


def test_the_scan_sees_the_modules_that_build_labs() -> None:
    # A rename of the helpers must not make the first test pass on nothing.
    found = codes()
    assert {"lb", "ml", "mlb", "dc", "dp", "vf", "cf", "da", "cl", "bf", "vy"} <= set(found), sorted(found)
