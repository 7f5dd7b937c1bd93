"""``attempts.jsonl``: the start attempts that ``mpkit probe`` timed → the ``probe_attempts`` frame.

Input (one JSON object a line)::

    {"attempt": 1, "instance": "primary", "command": ["multipass", "start", "primary"],
     "started_at": "2026-11-25T10:15:02Z", "ended_at": "2026-11-25T10:20:03Z", "duration_s": 301.2,
     "exit_code": 2, "outcome": "timeout", "client_output": "start failed: …"}

Rows (line, attempt, instance, command, started_at, ended_at, duration_s, exit_code, outcome)::

    1  1  primary  multipass start primary  2026-11-25 10:15:02+00:00  …  301.2  2  timeout

Times are UTC (an offset in the text is honoured; a time without one is taken as UTC; a number
is epoch seconds). A line that is not a JSON object is rejected.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

import pandas as pd

from ..schema import Column, Coverage, conform
from ._base import BLANK, fraction_matching, numbered

KIND = "probe_attempts"
FRAME = "probe_attempts"
FILENAMES = ("attempts.jsonl",)
PLATFORMS = ("macos", "linux", "windows")
LINE_RE = re.compile(r'^\s*\{.*"attempt"\s*:')

SCHEMA = {
    "line": Column("int", "1-based line"),
    "attempt": Column("int", "attempt number"),
    "instance": Column("str", "instance started"),
    "command": Column("str", "the command run, space-joined"),
    "started_at": Column("datetime_utc", "when the attempt started"),
    "ended_at": Column("datetime_utc", "when it ended"),
    "duration_s": Column("float", "duration in seconds"),
    "exit_code": Column("int", "exit status of the command"),
    "outcome": Column("category", "ok / timeout / error"),
    "client_output": Column("str", "what the command printed"),
}


def _time(value: Any) -> pd.Timestamp | None:
    try:
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
            return pd.Timestamp(value, unit="s", tz="UTC")
        if isinstance(value, str) and value.strip():
            ts = pd.Timestamp(value.strip())
            return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    except (ValueError, TypeError, OverflowError):
        pass
    return None


def _number(value: Any, kind: type) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    if not math.isfinite(number) or (kind is int and not number.is_integer()):
        return None
    return int(number) if kind is int else number


def _text(value: Any) -> str | None:
    if isinstance(value, list):
        return " ".join(str(v) for v in value) or None
    return str(value) if isinstance(value, str | int | float) and not isinstance(value, bool) else None


def parse(text: str) -> pd.DataFrame:
    """``attempts.jsonl``: the start attempts that ``mpkit probe`` timed as the ``probe_attempts`` frame; every line is counted as parsed, ignored or rejected."""
    cov = Coverage()
    rows: list[dict[str, Any]] = []
    for lineno, line in numbered(text, cov):
        if BLANK.match(line):
            cov.skip()
            continue
        try:
            rec = json.loads(line)
        except (ValueError, RecursionError):
            rec = None
        if not isinstance(rec, dict):
            cov.reject(lineno, line)
            continue
        rows.append(
            {
                "line": lineno,
                "attempt": _number(rec.get("attempt"), int),
                "instance": _text(rec.get("instance")),
                "command": _text(rec.get("command")),
                "started_at": _time(rec.get("started_at")),
                "ended_at": _time(rec.get("ended_at")),
                "duration_s": _number(rec.get("duration_s"), float),
                "exit_code": _number(rec.get("exit_code"), int),
                "outcome": _text(rec.get("outcome")),
                "client_output": _text(rec.get("client_output")),
            }
        )
        cov.ok()
    return conform(rows, SCHEMA, cov)


def sniff(text: str) -> float:
    """How sure it is, from 0 to 1, that ``text`` is ``attempts.jsonl``: the start attempts that ``mpkit probe`` timed."""
    share = fraction_matching(text, LINE_RE, max_lines=50)
    return 0.95 * share if share >= 0.5 else 0.0
