"""Property tests over every parser: arbitrary text and mutated real fixtures never raise,
always give the schema's columns, and count every line."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mpkit.golden import fixtures
from mpkit.parsers import kinds, module
from mpkit.schema import coverage_of

DATA = Path(__file__).parent / "data"
FIXTURE_TEXT = {k: p.read_text(encoding="utf-8") for _, k, p in fixtures(DATA)}
SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _check(kind: str, text: str) -> None:
    m = module(kind)
    frame = m.parse(text)
    assert list(frame.columns) == list(m.SCHEMA)
    cov = coverage_of(frame)
    assert cov["rejected"] >= 0 and cov["parsed"] >= 0
    score = m.sniff(text)
    assert 0.0 <= score <= 1.0


@pytest.mark.parametrize("kind", kinds())
def test_empty_input_gives_schema(kind: str) -> None:
    m = module(kind)
    frame = m.parse("")
    assert list(frame.columns) == list(m.SCHEMA) and len(frame) == 0


@pytest.mark.parametrize("kind", kinds())
@SETTINGS
@given(text=st.text(max_size=400))
def test_arbitrary_text_never_raises(kind: str, text: str) -> None:
    _check(kind, text)


@pytest.mark.parametrize("kind", sorted(FIXTURE_TEXT))
@SETTINGS
@given(data=st.data())
def test_truncated_and_mutated_fixtures_never_raise(kind: str, data: st.DataObject) -> None:
    text = FIXTURE_TEXT[kind]
    cut = data.draw(st.integers(0, len(text)))
    junk = data.draw(st.text(max_size=40))
    pos = data.draw(st.integers(0, cut))
    _check(kind, text[:pos] + junk + text[pos:cut])
