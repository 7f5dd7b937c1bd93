"""JSON helpers shared by the parsers of JSON outputs (multipass list/info/version, the instance DB,
``ip -j``): decode with coverage, find the line of a key, tolerate prose and truncation."""

from __future__ import annotations

import json
import re
from typing import Any

from ..schema import Coverage
from ._base import BLANK, lines, numbered

_IPV4 = re.compile(r"^\d{1,3}(?:\.\d{1,3}){3}$")


def load_json(text: str, cov: Coverage) -> Any:
    """Decode the JSON document in ``text`` and count its lines in ``cov``.

    Prose before the first ``{`` and after the document is tolerated. Returns ``None`` (with one
    reject at the line of the error) when there is no readable document.
    """
    all_lines = lines(text)
    cov.lines += len(all_lines)
    blank = sum(1 for ln in all_lines if BLANK.match(ln))
    cov.skip(blank)
    if len(all_lines) == blank:
        return None
    start = text.find("{")
    try:
        if start < 0:
            raise ValueError("no JSON object")
        doc, _end = json.JSONDecoder().raw_decode(text, start)
    except (ValueError, RecursionError) as exc:
        lineno = getattr(exc, "lineno", None) or 1
        lineno = min(max(lineno, 1), len(all_lines))
        cov.reject(lineno, all_lines[lineno - 1], n=len(all_lines) - blank)
        return None
    cov.ok(len(all_lines) - blank)
    return doc


def wrong_shape(cov: Coverage, why: str) -> None:
    """The document is JSON but not this artifact: every line counted as parsed is rejected."""
    n, cov.parsed = cov.parsed, 0
    cov.reject(1, why, n=n)


def line_of(text: str, pattern: str, pos: int = 0) -> tuple[int | None, int]:
    """1-based line of the first match of ``pattern`` at or after ``pos``, and the position after it."""
    m = re.compile(pattern).search(text, pos)
    if not m:
        return None, pos
    return text.count("\n", 0, m.start()) + 1, m.end()


def key_line(text: str, key: str, value: str | None = None, pos: int = 0) -> tuple[int | None, int]:
    """The line of ``"key": "value"`` (or of ``"key":`` when ``value`` is None)."""
    pat = rf'"{re.escape(key)}"\s*:'
    if value is not None:
        pat += rf'\s*"{re.escape(json.dumps(value)[1:-1])}"'
    return line_of(text, pat, pos)


def opening_brace_line(text: str, pos: int) -> int:
    """1-based line of the ``{`` that opens the object containing position ``pos``."""
    depth = 0
    for i in range(pos - 1, -1, -1):
        ch = text[i]
        if ch == "}":
            depth += 1
        elif ch == "{":
            if depth == 0:
                return text.count("\n", 0, i) + 1
            depth -= 1
    return 1


def ipv4_fields(values: Any) -> dict[str, str | None]:
    """``ipv4`` (first real address) and ``ipv4_all`` (every entry as printed) from a JSON list."""
    if isinstance(values, str):
        values = [values]
    if not isinstance(values, list):
        return {"ipv4": None, "ipv4_all": None}
    shown = [str(v) for v in values if isinstance(v, str | int | float) and str(v).strip()]
    first = next((v for v in shown if _IPV4.match(v)), None)
    return {"ipv4": first, "ipv4_all": ",".join(shown) or None}


def text_or_none(value: Any) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str | int | float):
        return str(value) if str(value) != "" else None
    return None


def json_objects(text: str) -> tuple[list[tuple[int, int, Any]], int | None]:
    """The values of a JSON array (or one object) as ``(start, end, value)`` character spans.

    Reading stops at the first value that does not decode (a paste cut short);
    its character offset is returned as well (``None`` when all was read).
    """
    dec = json.JSONDecoder()
    out: list[tuple[int, int, Any]] = []
    i = len(text) - len(text.lstrip())
    if text.startswith("{", i):
        try:
            value, end = dec.raw_decode(text, i)
        except ValueError:
            return out, i
        return [(i, end, value)], None
    if not text.startswith("[", i):
        return out, i
    i += 1
    while True:
        while i < len(text) and text[i] in " \t\r\n,":
            i += 1
        if i >= len(text):
            return out, i  # no closing bracket: truncated
        if text[i] == "]":
            return out, None
        try:
            value, end = dec.raw_decode(text, i)
        except ValueError:
            return out, i
        out.append((i, end, value))
        i = end


def json_coverage(text: str, spans: list[tuple[int, int, bool]], stop: int | None, cov: Coverage) -> None:
    """Count the lines of a JSON text whose values were read by :func:`json_objects`.

    ``spans`` are ``(start, end, used)``: lines of a used value are parsed, lines of
    a value that gave no row are rejected, and so is every line from ``stop`` on
    (a cut or broken tail); brackets and blank lines are ignored.
    """

    def line_of(offset: int) -> int:
        return text.count("\n", 0, offset) + 1

    status: dict[int, bool] = {}
    for start, end, used in spans:
        for n in range(line_of(start), line_of(max(start, end - 1)) + 1):
            status[n] = status.get(n, True) and used
    first_bad = line_of(stop) if stop is not None else None
    for n, ln in numbered(text, cov):
        if status.get(n) is False or (first_bad is not None and n >= first_bad and ln.strip()):
            cov.reject(n, ln)  # a one-line array cut short is rejected too: the cut must show
        elif status.get(n) is True:
            cov.ok()
        else:
            cov.skip()
