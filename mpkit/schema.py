"""Frame schemas and the single "conform" step every parser ends with.

A parser tokenises its input into plain ``dict`` rows, then calls
:func:`conform` with its module-level ``SCHEMA``.  ``conform`` applies dtypes,
fixes the column order, and attaches parse coverage to ``frame.attrs``:

``frame.attrs["coverage"] = {"lines": 10, "parsed": 9, "rejected": 1,
"rejects": [(7, "garbage line")], "decode_errors": 0}``

Column dtypes are one of the names in :data:`DTYPES`.  ``datetime`` columns
hold *naive* local wall-clock times (the source printed no offset);
``datetime_utc`` columns are tz-aware UTC (the source printed an offset or an
epoch).  :class:`mpkit.bundle.Bundle` later localises naive columns with the
host's zone when it is known.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .errors import ParseError
from .i18n import Message

#: the dtype vocabulary of schemas
DTYPES = ("str", "int", "float", "bool", "category", "datetime", "datetime_utc", "object")

#: how many rejected lines are kept as a sample
REJECT_SAMPLE = 20


@dataclass(frozen=True)
class Column:
    """One column of a frame schema: its dtype name and a one-line meaning."""

    dtype: str
    doc: str

    def __post_init__(self) -> None:
        if self.dtype not in DTYPES:
            raise ValueError(f"unknown dtype {self.dtype!r}; use one of {DTYPES}")


Schema = Mapping[str, Column]


@dataclass
class Coverage:
    """Counts lines read, parsed and rejected, and keeps a sample of rejects."""

    lines: int = 0
    parsed: int = 0
    rejected: int = 0
    rejects: list[tuple[int, str]] = field(default_factory=list)
    ignored: int = 0  # blank lines, headers, prose we knowingly skip

    def unparse(self, lineno: int, line: str) -> None:
        """A line counted as parsed turned out to hold a bad record: count it rejected instead."""
        if self.parsed > 0:
            self.parsed -= 1
        else:
            self.lines += 1
        self.reject(lineno, line)

    def ok(self, n: int = 1) -> None:
        """Count ``n`` lines that fed a row."""
        self.parsed += n

    def skip(self, n: int = 1) -> None:
        """Count ``n`` lines knowingly ignored (blank lines, headers, banners)."""
        self.ignored += n

    def reject(self, lineno: int, line: str, n: int = 1) -> None:
        """Count ``n`` rejected lines, keeping ``lineno``/``line`` as a sample of them."""
        self.rejected += n
        if len(self.rejects) < REJECT_SAMPLE:
            self.rejects.append((lineno, line[:300]))

    def as_dict(self) -> dict[str, Any]:
        """The counts and the sample of rejects as plain data (frames carry this in ``attrs``)."""
        return {
            "lines": self.lines,
            "parsed": self.parsed,
            "ignored": self.ignored,
            "rejected": self.rejected,
            "rejects": list(self.rejects),
        }


def _series(values: list[Any], dtype: str, n: int) -> pd.Series:
    if dtype == "str":
        return pd.Series(values, dtype="str") if n else pd.Series([], dtype="str")
    if dtype == "category":
        return pd.Series(values, dtype="category") if n else pd.Series([], dtype="category")
    if dtype == "int":
        return pd.Series(pd.array(values, dtype="Int64"))
    if dtype == "float":
        return pd.Series([np.nan if v is None else v for v in values], dtype="float64")
    if dtype == "bool":
        return pd.Series(pd.array(values, dtype="boolean"))
    if dtype == "datetime":
        s = pd.to_datetime(pd.Series(values, dtype="object"), errors="coerce")
        if isinstance(s.dtype, pd.DatetimeTZDtype):  # a parser handed aware times: keep wall clock
            s = s.dt.tz_localize(None)
        return s.astype("datetime64[ns]")
    if dtype == "datetime_utc":
        s = pd.to_datetime(pd.Series(values, dtype="object"), errors="coerce", utc=True)
        return s.astype("datetime64[ns, UTC]")
    return pd.Series(values, dtype="object")


def empty_frame(schema: Schema) -> pd.DataFrame:
    """An empty frame with exactly the schema's columns and dtypes (no line read)."""
    return conform([], schema, Coverage())


def conform(
    rows: Iterable[Mapping[str, Any]],
    schema: Schema,
    coverage: Coverage | None = None,
) -> pd.DataFrame:
    """Build the typed frame: schema column order, schema dtypes, and ``coverage`` in attrs.

    Parsers pass the coverage they counted; derived frames (attempts, timeline, …)
    pass none and carry none. Keys of a row that are not in the schema are a
    programming error.
    """
    rows = list(rows)
    cols = list(schema)
    data: dict[str, list[Any]] = {c: [] for c in cols}
    for row in rows:
        extra = set(row) - set(cols)
        if extra:
            raise KeyError(f"row has columns not in the schema: {sorted(extra)}")
        for c in cols:
            v = row.get(c)
            data[c].append(None if (isinstance(v, float) and np.isnan(v)) else v)
    n = len(rows)
    frame = pd.DataFrame({c: _series(data[c], schema[c].dtype, n) for c in cols}, columns=cols)
    frame.index = pd.RangeIndex(n)
    if coverage is not None:
        frame.attrs["coverage"] = coverage.as_dict()
    return frame


def coverage_of(frame: pd.DataFrame) -> dict[str, Any]:
    """The coverage a parser attached to its frame.

    A parser's frame always carries one (lines read, parsed, ignored, rejected);
    a frame without it did not come from a parser, and saying "all parsed" for
    it would invent a count, so that is an error.
    """
    cov = frame.attrs.get("coverage")
    if cov is None:
        raise ParseError(Message("this frame carries no parse coverage: it was not made by a parser"))
    return dict(cov)


def schema_table(schema: Schema) -> str:
    """A Markdown table of a schema (used by the README's data section)."""
    out = ["| column | dtype | meaning |", "|---|---|---|"]
    for name, col in schema.items():
        out.append(f"| `{name}` | {col.dtype} | {col.doc} |")
    return "\n".join(out)
