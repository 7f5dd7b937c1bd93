"""Golden parser tests, found by name: tests/data/<platform>/<kind>--<case>.txt (jc style)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mpkit.golden import expected_path, fixtures, frame_to_golden
from mpkit.parsers import module, parse

DATA = Path(__file__).parent / "data"
FIXTURES = fixtures(DATA)


@pytest.mark.parametrize(
    ("platform", "kind", "path"), FIXTURES, ids=[f"{p}/{f.name}" for p, _, f in FIXTURES]
)
def test_golden(platform: str, kind: str, path: Path) -> None:
    exp = expected_path(path)
    assert exp.exists(), f"no expected output for {path.name}: run scripts/regen_golden.py and review it"
    got = frame_to_golden(parse(kind, path.read_text(encoding="utf-8")))
    assert got == json.loads(exp.read_text())
    assert platform in module(kind).PLATFORMS or platform == "any"
