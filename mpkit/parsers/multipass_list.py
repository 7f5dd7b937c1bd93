"""``multipass list --format json`` → the ``instances`` frame (source ``list``).

Input::

    {"list": [{"ipv4": ["N/A"], "name": "primary", "release": "Ubuntu 24.04 LTS",
               "state": "Running"},
              {"ipv4": [], "name": "dev", "release": "Not Available", "state": "Unknown"}]}

Rows (name, state, ipv4, ipv4_all, release)::

    primary  Running  NA  N/A  Ubuntu 24.04 LTS
    dev      Unknown  NA  NA   Not Available

``ipv4`` is the first entry that is an IPv4 address; ``ipv4_all`` keeps every entry as printed
(so ``N/A``, "running without a usable IP", stays visible). ``line`` is the line of the
``{`` that opens the record. Broken JSON gives an empty frame and one reject.

The small JSON helpers here (:func:`load_json`, :func:`line_of`, :func:`ipv4_fields`) are
shared by the other Multipass JSON parsers.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pandas as pd

from .. import frames
from ..schema import Coverage, conform
from ._base import BLANK, lines

KIND = "list_json"
FRAME = "instances"
FILENAMES = ("multipass-list.json",)
PLATFORMS = ("macos", "linux", "windows")
SCHEMA = frames.INSTANCES
LINE_RE = None

_IPV4 = re.compile(r"^\d{1,3}(?:\.\d{1,3}){3}$")
_SNIFF = re.compile(r'^\s*\{\s*"list"\s*:\s*\[')


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
        cov.reject(lineno, all_lines[lineno - 1])
        return None
    cov.ok(len(all_lines) - blank)
    return doc


def wrong_shape(cov: Coverage, why: str) -> None:
    """The document is JSON but not this artifact: count it as one rejected record."""
    cov.parsed = 0
    cov.reject(1, why)


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


def parse(text: str) -> pd.DataFrame:
    cov = Coverage()
    doc = load_json(text, cov)
    rows: list[dict[str, Any]] = []
    items = doc.get("list") if isinstance(doc, dict) else None
    if doc is not None and not isinstance(items, list):
        wrong_shape(cov, 'no "list" array in the document')
        return conform([], SCHEMA, cov)
    pos = 0
    for item in items or []:
        if not isinstance(item, dict):
            cov.reject(1, str(item)[:300])
            continue
        name = text_or_none(item.get("name"))
        line, pos = key_line(text, "name", name, pos) if name else (None, pos)
        if line is not None:
            line = opening_brace_line(text, text.rfind('"name"', 0, pos))
        rows.append(
            {
                "line": line,
                "name": name,
                "state": text_or_none(item.get("state")),
                **ipv4_fields(item.get("ipv4")),
                "release": text_or_none(item.get("release")),
                "source": "list",
            }
        )
    return conform(rows, SCHEMA, cov)


def sniff(text: str) -> float:
    head = text[:200_000]
    if not _SNIFF.match(head):
        return 0.0
    try:
        doc = json.loads(head)
    except (ValueError, RecursionError):
        return 0.8 if '"state"' in head or '"ipv4"' in head else 0.6
    return 0.99 if isinstance(doc, dict) and isinstance(doc.get("list"), list) else 0.5
