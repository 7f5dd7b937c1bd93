"""Golden-fixture helpers: a frame as plain JSON-able records (stable across runs).

Used by ``tests/test_golden.py`` and ``scripts/regen_golden.py``.  Fixtures live
in ``tests/data/<platform>/<kind>--<case>.txt`` with the expected output beside
them in ``<kind>--<case>.expected.json``.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd

from .schema import coverage_of


def _plain(v: Any) -> Any:
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, float) and math.isnan(v):
        return None
    if isinstance(v, pd.Timestamp):
        return v.isoformat()
    if hasattr(v, "item"):
        return v.item()
    return v


def frame_to_golden(frame: pd.DataFrame) -> dict[str, Any]:
    """A frame as the JSON-friendly golden form: columns with dtypes, rows and coverage."""
    cov = coverage_of(frame)
    return {
        "columns": {c: str(t) for c, t in frame.dtypes.items()},
        "rows": [
            {c: _plain(v) for c, v in zip(frame.columns, row, strict=True)}
            for row in frame.itertuples(index=False)
        ],
        "coverage": {k: (list(map(list, v)) if k == "rejects" else v) for k, v in cov.items()},
    }


def fixtures(root: Path) -> list[tuple[str, str, Path]]:
    """``(platform, kind, path)`` of every golden input under ``root``."""
    out = []
    for p in sorted(root.glob("*/*--*.txt")):
        kind = p.name.split("--", 1)[0]
        out.append((p.parent.name, kind, p))
    return out


def expected_path(fixture: Path) -> Path:
    """The expected-output file beside a golden fixture."""
    return fixture.with_name(fixture.name[: -len(".txt")] + ".expected.json")
