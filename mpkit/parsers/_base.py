"""Small helpers shared by the parser modules (no I/O, no clock)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping

import pandas as pd

from ..schema import Column, Coverage, conform

#: blank-ish lines: empty, or only spaces / tabs / a terminal spinner's debris
BLANK = re.compile(r"^[\s\\|/\-]*$")


def lines(text: str) -> list[str]:
    """Split into lines without line ends; a trailing newline adds no empty line.

    Trailing spaces (left by a terminal spinner) are removed; tabs in the middle are kept.
    """
    if not text:
        return []
    out = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if out and out[-1] == "":
        out.pop()
    return [ln.rstrip() for ln in out]


def numbered(text: str, cov: Coverage) -> Iterator[tuple[int, str]]:
    """Yield ``(lineno, line)`` (1-based) and count the lines in ``cov``."""
    for i, ln in enumerate(lines(text), start=1):
        cov.lines += 1
        yield i, ln


def fraction_matching(text: str, pattern: re.Pattern[str], max_lines: int = 200) -> float:
    """The share of non-blank lines (of the first ``max_lines``) matching ``pattern``."""
    seen = hit = 0
    for ln in lines(text[:200_000])[:max_lines]:
        if BLANK.match(ln):
            continue
        seen += 1
        if pattern.search(ln):
            hit += 1
    return hit / seen if seen else 0.0


def facts_frame(
    text: str,
    schema: Mapping[str, Column],
    facts_of: Callable[[str], Iterable[tuple[str, str]] | None],
    skip: re.Pattern[str] | None = None,
) -> pd.DataFrame:
    """A ``key``/``value`` frame (host facts): ``facts_of(line)`` gives the pairs of a line, or
    ``None`` when the line is not understood (rejected); blank lines and ``skip`` lines are ignored."""
    cov = Coverage()
    rows: list[dict[str, object]] = []
    for no, ln in numbered(text, cov):
        if BLANK.match(ln) or (skip is not None and skip.match(ln)):
            cov.skip()
            continue
        pairs = facts_of(ln)
        if pairs is None:
            cov.reject(no, ln)
            continue
        rows.extend({"line": no, "key": k, "value": v} for k, v in pairs)
        cov.ok()
    return conform(rows, schema, cov)
