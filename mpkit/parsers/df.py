"""Disk usage: ``df -h`` (GNU/Linux layout and macOS layout with inode columns).

::

    Filesystem     Size   Used  Avail Capacity iused ifree %iused  Mounted on
    /dev/disk3s5  460Gi  441Gi   12Gi    98%    3.1M  126M    2%   /System/Volumes/Data

gives ``filesystem=/dev/disk3s5 size=460Gi used=441Gi avail=12Gi use_pct=98
iused=3.1M ifree=126M iuse_pct=2 mounted_on=/System/Volumes/Data`` and the
sizes in bytes (``460Gi`` → 493921239040; ``-h`` suffixes are powers of 1024,
with or without ``i``; a decimal comma is accepted).  The header is optional;
a filesystem name printed alone on its line (long device names) is joined
with the next line.  ``df: …`` error lines (stderr) are skipped.
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from ..schema import Column, Coverage, conform
from ._base import BLANK, fraction_matching, lines, numbered

KIND = "df"
FRAME = "disk_usage"
FILENAMES = ("df.txt",)
PLATFORMS = ("macos", "linux")

SCHEMA = {
    "line": Column("int", "1-based line where the filesystem's record starts"),
    "filesystem": Column("str", "device or filesystem name"),
    "size": Column("str", "size as printed (460Gi, 457G)"),
    "used": Column("str", "used as printed"),
    "avail": Column("str", "available as printed"),
    "use_pct": Column("int", "Use% / Capacity as an integer percent"),
    "iused": Column("str", "macOS: inodes used as printed"),
    "ifree": Column("str", "macOS: inodes free as printed"),
    "iuse_pct": Column("int", "macOS: %iused as an integer percent"),
    "mounted_on": Column("str", "mount point"),
    "size_bytes": Column("int", "size in bytes"),
    "used_bytes": Column("int", "used in bytes"),
    "avail_bytes": Column("int", "available in bytes"),
}

_SIZE = r"\d+(?:[.,]\d+)?[BKMGTPEZ]?i?B?"
LINE_RE = re.compile(
    rf"^(?P<fs>\S.*?)\s+(?P<size>{_SIZE})\s+(?P<used>{_SIZE})\s+(?P<avail>{_SIZE})\s+(?P<pct>\d{{1,9}}%|-)"
    r"(?:\s+(?P<iused>\S+)\s+(?P<ifree>\S+)\s+(?P<ipct>\d{1,9}%|-))?\s+(?P<mnt>/.*|[A-Z]:.*)$"
)
_HEADER = re.compile(r"^Filesystem\s+(?:Size|\d+[KM]?-blocks|1K-blocks)\s+Used\s+Avail")
_CONT = re.compile(rf"^\s+{_SIZE}\s+{_SIZE}\s+{_SIZE}\s+(?:\d+%|-)")
_ERROR = re.compile(r"^df: ")  # stderr: a filesystem df could not read
_UNITS = {"": 0, "B": 0, "K": 1, "M": 2, "G": 3, "T": 4, "P": 5, "E": 6, "Z": 7}


def to_bytes(size: str | None) -> int | None:
    """``460Gi`` / ``1,5G`` / ``512`` → bytes (powers of 1024), None when unreadable."""
    m = re.fullmatch(r"(\d+(?:[.,]\d+)?)([BKMGTPEZ]?)i?B?", size or "")
    if not m:
        return None
    value = float(m[1].replace(",", ".")) * 1024 ** _UNITS[m[2]]
    return round(value) if value < 2**63 else None


def _pct(value: str | None) -> int | None:
    return int(value[:-1]) if value and value.endswith("%") else None


def sniff(text: str) -> float:
    """How sure it is, from 0 to 1, that ``text`` is disk usage: ``df -h`` (GNU/Linux layout and macOS layout with inode columns)."""
    head = text[:200_000]
    if not any(_HEADER.match(ln) or LINE_RE.match(ln) for ln in lines(head)[:200]):
        return 0.0
    return fraction_matching(
        text, re.compile(rf"{LINE_RE.pattern}|{_HEADER.pattern}|{_CONT.pattern}|{_ERROR.pattern}|^\S+$")
    )


def parse(text: str) -> pd.DataFrame:
    """Disk usage: ``df -h`` (GNU/Linux layout and macOS layout with inode columns) as the ``disk_usage`` frame; every line is counted as parsed, ignored or rejected."""
    cov = Coverage()
    rows: list[dict[str, Any]] = []
    pending: tuple[int, str] | None = None  # a filesystem name printed alone
    for no, ln in numbered(text, cov):
        if BLANK.match(ln) or _HEADER.match(ln) or _ERROR.match(ln):
            cov.skip()
            continue
        start = no
        if pending is not None and _CONT.match(ln):
            start, ln = pending[0], pending[1] + ln
            pending = None
        elif pending is not None:
            cov.reject(*pending)
            pending = None
        m = LINE_RE.match(ln)
        if not m:
            if re.fullmatch(r"\S+", ln):
                pending = (no, ln)
            else:
                cov.reject(no, ln)
            continue
        rows.append(
            {
                "line": start,
                "filesystem": m["fs"],
                "size": m["size"],
                "used": m["used"],
                "avail": m["avail"],
                "use_pct": _pct(m["pct"]),
                "iused": m["iused"],
                "ifree": m["ifree"],
                "iuse_pct": _pct(m["ipct"]),
                "mounted_on": m["mnt"],
                "size_bytes": to_bytes(m["size"]),
                "used_bytes": to_bytes(m["used"]),
                "avail_bytes": to_bytes(m["avail"]),
            }
        )
        cov.ok(2 if start != no else 1)
    if pending is not None:
        cov.reject(*pending)
    return conform(rows, SCHEMA, cov)
