"""Every parser fixture names its source: in its own first lines (``## source: ...`` / ``## constructed ...``,
read by ``fixture_text.load``) or, for the older ones, in tests/fixtures/parsers/README.md."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.fixture_text import HEADER, header

PARSERS = Path(__file__).resolve().parents[2] / "fixtures" / "parsers"
README = (PARSERS / "README.md").read_text()
FILES = sorted(p for p in PARSERS.rglob("*") if p.suffix in (".txt", ".json") and p.is_file())


def listed_in_readme(path: Path) -> bool:
    relative = path.relative_to(PARSERS)
    directory = relative.parent.as_posix()
    return f"`{relative.as_posix()}`" in README or f"`{directory}/*" in README


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.relative_to(PARSERS).as_posix())
def test_fixture_names_its_source(path: Path) -> None:
    if path.read_text().startswith(HEADER):
        lines = header(path)
        assert any(line.startswith(("source:", "constructed")) for line in lines), lines
    else:
        assert listed_in_readme(path), f"{path.relative_to(PARSERS)}: no '## source:' header and not in README.md"
