"""Every golden fixture is recognised by content alone (as if it had a random file name)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mpkit.golden import fixtures
from mpkit.sniff import identify

DATA = Path(__file__).parent / "data"
FIXTURES = [f for f in fixtures(DATA) if "--nosniff-" not in f[2].name and "--empty" not in f[2].name]


@pytest.mark.parametrize(
    ("platform", "kind", "path"), FIXTURES, ids=[f"{p}/{f.name}" for p, _, f in FIXTURES]
)
def test_fixture_is_sniffed_as_its_kind(platform: str, kind: str, path: Path) -> None:
    got, score = identify(path.read_text(encoding="utf-8"))
    assert got == kind, f"{path.name} sniffed as {got} ({score:.2f})"
