"""Property tests over every parser: arbitrary text and mutated real fixtures never raise,
always give the schema's columns, and account for every line they were given:
lines read = lines of the text = parsed + ignored + rejected, with a sample of rejects."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mpkit.errors import ParseError
from mpkit.golden import fixtures
from mpkit.parsers import kinds, module
from mpkit.schema import conform, coverage_of

DATA = Path(__file__).parent / "data"
FIXTURE_TEXT = {k: p.read_text(encoding="utf-8") for _, k, p in fixtures(DATA)}
SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _line_count(text: str) -> int:
    """Lines as every parser reads them: ends are LF, CRLF or CR; a final line end adds no line."""
    unified = text.replace("\r\n", "\n").replace("\r", "\n")
    return unified.count("\n") + (0 if unified.endswith("\n") or not unified else 1)


def _check(kind: str, text: str) -> None:
    m = module(kind)
    frame = m.parse(text)
    assert list(frame.columns) == list(m.SCHEMA)
    cov = coverage_of(frame)
    n = _line_count(text)
    assert cov["lines"] == n, f"{kind}: read {cov['lines']} lines of {n}"
    assert cov["parsed"] + cov["ignored"] + cov["rejected"] == n, (
        f"{kind}: {cov} does not add up to {n} lines"
    )
    assert min(cov["parsed"], cov["ignored"], cov["rejected"]) >= 0
    assert bool(cov["rejects"]) == (cov["rejected"] > 0), f"{kind}: rejects sampled {cov['rejects']!r}"
    score = m.sniff(text)
    assert 0.0 <= score <= 1.0


@pytest.mark.parametrize("kind", kinds())
def test_empty_input_gives_schema(kind: str) -> None:
    m = module(kind)
    frame = m.parse("")
    assert list(frame.columns) == list(m.SCHEMA) and len(frame) == 0
    assert coverage_of(frame)["lines"] == 0


def test_a_frame_without_coverage_is_an_error_not_all_parsed() -> None:
    derived = conform([{"line": 1}], {"line": module("arp").SCHEMA["line"]})
    with pytest.raises(ParseError, match="no parse coverage"):
        coverage_of(derived)


@pytest.mark.parametrize(
    ("kind", "text", "parsed", "ignored", "rejected"),
    [
        ("arp", "? (192.168.64.2) at 52:54:0:1:2:3 on bridge100 ifscope [ethernet]\nnot arp\n\n", 1, 1, 1),
        ("multipass_list", '{"list": [\n{"name": "a", "state": "Running", "ipv4": []}\n]\n', 0, 0, 3),
        ("multipass_list", '{"other": 1,\n "x": 2}\n', 0, 0, 2),
    ],
)
def test_counts_add_up_on_known_text(kind: str, text: str, parsed: int, ignored: int, rejected: int) -> None:
    _check(kind, text)
    cov = coverage_of(module(kind).parse(text))
    assert (cov["parsed"], cov["ignored"], cov["rejected"]) == (parsed, ignored, rejected)


@pytest.mark.parametrize("kind", kinds())
@SETTINGS
@given(text=st.text(max_size=400))
def test_arbitrary_text_never_raises(kind: str, text: str) -> None:
    _check(kind, text)


@pytest.mark.parametrize("kind", sorted(FIXTURE_TEXT))
def test_real_fixtures_add_up(kind: str) -> None:
    for _, k, p in fixtures(DATA):
        if k == kind:
            _check(kind, p.read_text(encoding="utf-8"))


@pytest.mark.parametrize("kind", sorted(FIXTURE_TEXT))
@SETTINGS
@given(data=st.data())
def test_truncated_and_mutated_fixtures_never_raise(kind: str, data: st.DataObject) -> None:
    text = FIXTURE_TEXT[kind]
    cut = data.draw(st.integers(0, len(text)))
    junk = data.draw(st.text(max_size=40))
    pos = data.draw(st.integers(0, cut))
    _check(kind, text[:pos] + junk + text[pos:cut])
