"""The Multipass daemon log: ``[ts] [level] [category] message``.

Reads macOS ``/Library/Logs/Multipass/multipassd.log``, what ``multipass start
-vvvv`` prints, and Windows events written in the same form.  Lines that do not
start a record are continuations of the previous record (QEMU stderr, ``QMP:``
payloads); trailing blank lines of a record are dropped.  Lines before the
first record are rejected (prose), blank ones ignored.

Example::

    [2024-10-05T18:05:19.211] [info] [primary] process state changed to Running
    [2024-10-05T18:05:19.300] [debug] [arp] [4242] started: arp -an

gives two rows; the second has ``subprocess="arp"``, ``subprocess_pid=4242``,
``argv="-an"``.  Times are naive host-local wall clock (the file has no zone).

:func:`parse_path` reads a file in chunks (bounded memory) for very large logs.
"""

from __future__ import annotations

import os
import re
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..frames import LOG_EVENTS
from ..schema import REJECT_SAMPLE, Coverage
from ._base import fraction_matching
from ._logcore import build_table, to_frame

KIND = "daemon_log"
FRAME = "daemon_log"
FILENAMES = ("multipassd.log",)
PLATFORMS = ("macos", "linux", "windows")
SCHEMA = LOG_EVENTS

_LEVEL = r"error|warning|info|debug|trace"
HEADER = (
    r"^(?:\[(?P<ts>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,6})?)\] )?"
    rf"\[(?P<level>{_LEVEL})\] \[(?P<category>[^\]]*)\] ?(?P<msg>.*)$"
)
LINE_RE = re.compile(r"^\[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\] \[(?:" + _LEVEL + r")\] \[[^\]]*\]")
_CHUNK = 32 * 1024 * 1024
_BOUNDARY = re.compile(r"\n(?=\[\d{4}-\d\d-\d\dT)")


def sniff(text: str) -> float:
    """How sure it is, from 0 to 1, that ``text`` is a Multipass daemon log (``[ts] [level] [category] message`` lines)."""
    frac = fraction_matching(text, LINE_RE)
    if frac == 0.0:
        return 0.0
    return min(1.0, 0.6 + frac)


def _pieces(text: str, chunk: int = _CHUNK) -> Iterator[str]:
    """Cut ``text`` into pieces of about ``chunk`` chars, only before a record header."""
    start, n = 0, len(text)
    while start < n:
        end = start + chunk
        if end >= n:
            yield text[start:]
            return
        m = _BOUNDARY.search(text, end)
        if m is None:
            yield text[start:]
            return
        yield text[start : m.start() + 1]
        start = m.start() + 1


def _records(piece: str, first_line: int, cov: Coverage) -> dict[str, object]:
    if "\r" in piece:
        piece = piece.replace("\r\n", "\n").replace("\r", "\n")
    raw = piece.split("\n")
    if raw and raw[-1] == "":
        raw.pop()
    arr = pa.array(raw, type=pa.large_string())
    n = len(arr)
    cov.lines += n
    m = pc.extract_regex(arr, HEADER)
    head = m.is_valid().to_numpy(zero_copy_only=False)
    blank = np.zeros(n, dtype=bool)  # only non-header lines can be blank: trim just those
    others = np.flatnonzero(~head)
    if len(others):
        trimmed = pc.utf8_trim_whitespace(arr.take(pa.array(others)))
        blank[others] = pc.equal(pc.utf8_length(trimmed), 0).to_numpy(zero_copy_only=False)
    heads = np.flatnonzero(head)
    rec = np.cumsum(head) - 1  # record index of each physical line, -1 before the first header
    pre = rec < 0
    cov.skip(int((pre & blank).sum()))
    for i in np.flatnonzero(pre & ~blank)[:50]:
        cov.reject(first_line + int(i), raw[i])
    cov.rejected += max(0, int((pre & ~blank).sum()) - min(50, int((pre & ~blank).sum())))
    cont = ~head & ~pre & ~blank
    cov.skip(int((~head & ~pre & blank).sum()))
    cov.ok(int(head.sum()) + int(cont.sum()))

    heads_m = m.filter(pa.array(head))
    msg = pc.utf8_rtrim_whitespace(heads_m.field("msg"))  # terminal spinners leave trailing spaces
    ncont = np.bincount(rec[cont], minlength=len(heads)) if len(heads) else np.zeros(0, dtype=int)
    if ncont.any():
        msgs = msg.to_pylist()
        bounds = np.append(heads, n)
        for r in np.flatnonzero(ncont):
            body = "\n".join(raw[bounds[r] + 1 : bounds[r + 1]]).rstrip()
            msgs[r] = msgs[r] + "\n" + body if msgs[r] else body
        msg = pa.array(msgs, type=pa.large_string())
    n_lines = np.diff(np.append(heads, n)) if len(heads) else np.zeros(0, dtype=int)

    ts = heads_m.field("ts")
    has_ts = pc.greater(pc.utf8_length(ts), 0)
    ts = pc.if_else(has_ts, ts, pa.scalar(None, pa.string()))
    base = pc.strptime(
        pc.utf8_slice_codeunits(ts, 0, 19), format="%Y-%m-%dT%H:%M:%S", unit="us", error_is_null=True
    )
    frac = pc.utf8_slice_codeunits(ts, 20, 26)
    frac = pc.if_else(pc.greater(pc.utf8_length(frac), 0), frac, pa.scalar("0"))
    frac_us = pc.multiply(
        pc.cast(frac, pa.int64()),
        pc.power(
            pa.scalar(10, pa.int64()),
            pc.subtract(pa.scalar(6, pa.int64()), pc.cast(pc.utf8_length(frac), pa.int64())),
        ),
    )
    times = pc.cast(pc.add(pc.cast(base, pa.int64()), frac_us), pa.timestamp("us"))
    category = heads_m.field("category")
    return {
        "line": heads + first_line,
        "time": times,
        "level": heads_m.field("level"),
        "category": category,
        "program": None,
        "message": msg,
        "n_lines": n_lines,
        "_nlines_total": n,
    }


def _table(piece: str, first_line: int, cov: Coverage) -> tuple[pa.Table, int]:
    """The Arrow table of one piece of the log, and how many physical lines it had."""
    rec = _records(piece, first_line, cov)
    n_phys = int(rec.pop("_nlines_total"))  # type: ignore[call-overload]
    n = len(rec["line"])  # type: ignore[arg-type]
    rec["program"] = pa.DictionaryArray.from_arrays(
        pa.array(np.zeros(n, dtype="int32")), pa.array(["multipassd"], pa.large_string())
    )
    return build_table(rec), n_phys


def parse(text: str) -> pd.DataFrame:
    """A daemon log as the ``daemon_log`` frame; every line is counted as parsed, ignored or rejected."""
    cov = Coverage()
    tables, line = [], 1
    for piece in _pieces(text):
        table, n_phys = _table(piece, line, cov)
        tables.append(table)
        line += n_phys
    return to_frame(tables or [build_table({"line": [], "time": [], "message": [], "n_lines": []})], cov)


def _chunk_task(data: bytes) -> tuple[pa.Table, int, Coverage]:
    cov = Coverage()
    table, n_phys = _table(data.decode("utf-8", errors="replace"), 1, cov)
    return table, n_phys, cov


def _chunks(fh: BinaryIO, chunk_bytes: int) -> Iterator[bytes]:
    """Pieces of the file cut just before a record header (``\\n[`` then a digit)."""
    carry = b""
    while True:
        block = fh.read(chunk_bytes)
        if not block:
            break
        data = carry + block
        cut = data.rfind(b"\n[")
        while cut > 0 and not data[cut + 2 : cut + 3].isdigit():
            cut = data.rfind(b"\n[", 0, cut)
        if cut <= 0:
            carry = data
            continue
        carry = data[cut + 1 :]
        yield data[: cut + 1]
    if carry:
        yield carry


def parse_path(path: str | Path, chunk_bytes: int = _CHUNK, workers: int | None = None) -> pd.DataFrame:
    """Parse a (possibly huge) log file; same frame as ``parse``.

    The file is cut into chunks at record boundaries and parsed by a few threads
    (pyarrow's kernels release the GIL), at most ``workers + 1`` chunks in flight,
    so memory stays bounded by the frame plus a few chunks.
    """
    workers = workers or max(1, min(4, os.cpu_count() or 1))
    cov = Coverage()
    tables: list[pa.Table] = []
    line = 1

    def take(result: tuple[pa.Table, int, Coverage]) -> None:
        nonlocal line
        table, n_phys, part = result
        offset = line - 1
        tables.append(table.set_column(0, "line", pc.add(table.column("line"), offset)) if offset else table)
        cov.lines += part.lines
        cov.parsed += part.parsed
        cov.ignored += part.ignored
        cov.rejected += part.rejected
        room = REJECT_SAMPLE - len(cov.rejects)
        cov.rejects.extend((n + offset, text) for n, text in part.rejects[: max(room, 0)])
        line += n_phys

    with open(path, "rb") as fh, ThreadPoolExecutor(workers) as pool:
        pending: deque[Future[tuple[pa.Table, int, Coverage]]] = deque()
        for data in _chunks(fh, chunk_bytes):
            pending.append(pool.submit(_chunk_task, data))
            if len(pending) > workers:
                take(pending.popleft().result())
        while pending:
            take(pending.popleft().result())
    return to_frame(tables or [build_table({"line": [], "time": [], "message": [], "n_lines": []})], cov)
