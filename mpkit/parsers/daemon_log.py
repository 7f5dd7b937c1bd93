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
from contextlib import contextmanager
from io import BufferedReader
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..frames import LOG_EVENTS
from ..schema import REJECT_SAMPLE, Coverage
from . import _bytescan as _bs
from ._base import fraction_matching
from ._logcore import LEVELS, FrameBuilder, ScanHints, build_table, to_frame

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
_CHUNK = 8 * 1024 * 1024
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
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates: only the general path can say what they are
        cov = Coverage()
        tables, line = [], 1
        for piece in _pieces(text):
            table, n_phys = _table(piece, line, cov)
            tables.append(table)
            line += n_phys
        return to_frame(tables or [_empty_table()], cov)
    with _system_allocator():
        return _parse_blocks(_text_pieces(data, _CHUNK), len(data), workers=1)


def _empty_table() -> pa.Table:
    return build_table({"line": [], "time": [], "message": [], "n_lines": []})


# -- the byte-level path -------------------------------------------------------------------------
#
# A chunk of the file is scanned as bytes: lines are found with one comparison, the header's fixed
# layout is checked eight bytes at a time, the category ends at the first `]`, and the message is
# gathered from the original bytes by one Arrow `take`.  Every line the fixed layout does not
# describe is checked against HEADER; if one of them is a record header after all (no time stamp,
# another precision), the chunk goes through the general path (`_table`) instead.

_HEAD = _bs.Template("[dddd-dd-ddTdd:dd:dd.ddd] [")
#: (level code, the level and what follows it as one little-endian word, its mask, the level's length)
_LEVEL_WORDS = tuple(
    (
        code,
        int.from_bytes(f"{lv}] [".encode()[:8], "little"),
        (1 << (8 * min(8, len(lv) + 3))) - 1,
        len(lv),
    )
    for code, lv in enumerate(LEVELS)
)
_SP_BRACKET = int.from_bytes(b" [", "little")
_STARTED_AT = int.from_bytes(b"] starte", "little")
_STARTED_TAIL = int.from_bytes(b"d: ", "little")
#: a header line as bytes, to cut a file only where a record starts
_HEAD_BYTES = re.compile(
    rb"\[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,6})?\] \[(?:" + _LEVEL.encode() + rb")\] \[[^\]\n\r]*\]"
)


def _gather(data: pa.Buffer, starts: np.ndarray, ends: np.ndarray) -> pa.Array:
    """The byte ranges ``data[starts[i]:ends[i]]`` (sorted, disjoint) as one compact string array."""
    if not len(starts):
        return pa.array([], pa.large_string())
    off = _bs.gather_offsets(starts, ends)
    both = pa.LargeStringArray.from_buffers(len(off) - 1, pa.py_buffer(off), data)
    return both.take(pa.array(np.arange(0, len(off) - 1, 2, dtype=np.int64)))


def _fast_table(buf: np.ndarray, size: int, first_line: int, cov: Coverage) -> tuple[pa.Table, int] | None:
    """The table of the chunk ``buf[:size]`` (valid UTF-8, ``\\n`` line ends, followed by at least
    ``_bs.PAD`` readable bytes), or None when a line of it is a header the fixed layout does not
    describe (then :func:`_table` reads the chunk)."""
    w = _bs.words(buf)
    pbuf = pa.py_buffer(buf)
    starts, ends = _bs.line_bounds(buf, size)
    n = len(starts)

    # headers: the fixed layout, a level, then the category up to the first `]` of the line
    cand = np.flatnonzero(buf[starts] == 91)
    ok, (w0, w1, w2, _) = _bs.match_template(w, starts[cand], _HEAD)
    idx, w0, w1, w2 = cand[ok], w0[ok], w1[ok], w2[ok]
    s = starts[idx]
    lv = w[s + 27]
    level = np.full(len(idx), -1, dtype=np.int8)
    lv_len = np.zeros(len(idx), dtype=np.int64)
    for code, word, mask, length in _LEVEL_WORDS:
        hit = (lv & np.uint64(mask)) == np.uint64(word)
        if length + 3 > 8:  # "warning] [": its last two bytes lie in the next word
            hit &= (w[s + 35] & np.uint64(0xFFFF)) == np.uint64(_SP_BRACKET)
        level[hit] = code
        lv_len[hit] = length
    cat_start = s + 30 + lv_len
    ce = _bs.find_first(w, cat_start, ends[idx], 93)
    good = (level >= 0) & (ce < ends[idx])
    idx, s, w0, w1, w2, level, cat_start, ce = (a[good] for a in (idx, s, w0, w1, w2, level, cat_start, ce))
    head = np.zeros(n, dtype=bool)
    head[idx] = True

    # every other line: a record header in another layout sends the chunk to the general path
    others = np.flatnonzero(~head)
    blank = np.zeros(n, dtype=bool)
    if len(others):
        lines_o = _gather(pbuf, starts[others], ends[others])
        if pc.any(pc.match_substring_regex(lines_o, HEADER)).as_py():
            return None
        blank[others] = pc.equal(pc.utf8_length(pc.utf8_trim_whitespace(lines_o)), 0).to_numpy(
            zero_copy_only=False
        )

    rec = np.cumsum(head) - 1
    pre = rec < 0
    cov.lines += n
    cov.skip(int((pre & blank).sum()))
    rejected = np.flatnonzero(pre & ~blank)
    for i in rejected[:REJECT_SAMPLE]:
        cov.reject(first_line + int(i), buf[starts[i] : ends[i]].tobytes().decode("utf-8"))
    cov.rejected += len(rejected) - min(REJECT_SAMPLE, len(rejected))
    cont = ~head & ~pre & ~blank
    cov.skip(int((~head & ~pre & blank).sum()))
    cov.ok(len(idx) + int(cont.sum()))

    nrec = len(idx)
    n_lines = np.diff(np.append(idx, n))
    ncont = np.bincount(rec[cont], minlength=nrec) if nrec else np.zeros(0, dtype=np.int64)

    # the message: after the category's `]` and one optional space, trailing white space trimmed;
    # records of several lines, and messages ending in a non-ASCII character, are written apart
    ms = ce + 1 + (buf[ce + 1] == 32)
    line_end = ends[idx]
    me = line_end.copy()
    todo = np.flatnonzero((me > ms) & _bs.TRIM_WS[buf[me - 1]])
    while len(todo):
        me[todo] -= 1
        todo = todo[(me[todo] > ms[todo]) & _bs.TRIM_WS[buf[me[todo] - 1]]]
    special = (me > ms) & (buf[me - 1] >= 0x80)
    # a record of several lines whose first line has no trailing blank: its message is the bytes up
    # to the last non-blank character of its last line (the lines are already joined by "\n")
    multi = np.flatnonzero(ncont > 0)
    if len(multi):
        be = ends[idx[multi] + n_lines[multi] - 1]
        todo = np.flatnonzero(_bs.TRIM_WS[buf[be - 1]])
        while len(todo):
            be[todo] -= 1
            todo = todo[(be[todo] > line_end[multi[todo]]) & _bs.TRIM_WS[buf[be[todo] - 1]]]
        joined = (me[multi] == line_end[multi]) & (me[multi] > ms[multi]) & ~special[multi]
        joined &= buf[be - 1] < 0x80
        me[multi[joined]] = be[joined]
        special[multi[~joined]] = True
        special[multi[joined]] = False
    sp = np.flatnonzero(special)
    msg = _gather(pbuf, ms, np.where(special, ms, me))
    if len(sp):
        heads_sp = pc.utf8_rtrim_whitespace(_gather(pbuf, ms[sp], line_end[sp])).to_pylist()
        texts = []
        for r, h in zip(sp.tolist(), heads_sp, strict=True):
            if ncont[r]:
                body = (
                    buf[starts[idx[r] + 1] : ends[idx[r] + n_lines[r] - 1]].tobytes().decode("utf-8").rstrip()
                )
                h = h + "\n" + body if h else body
            texts.append(h)
        msg = pc.replace_with_mask(msg, pa.array(special), pa.array(texts, pa.large_string()))

    # the time, from fixed digit positions; a date or clock out of range goes through strptime
    year, month = _bs.digits(w0, 1, 4), _bs.digits(w0, 6, 2)
    day, hour = _bs.digits(w1, 1, 2), _bs.digits(w1, 4, 2)
    minute = _bs.digits(w1, 7, 1) * 10 + _bs.digits(w2, 0, 1)
    second, milli = _bs.digits(w2, 2, 2), _bs.digits(w2, 5, 3)
    valid = _bs.valid_date(year, month, day) & (hour < 24) & (minute < 60) & (second < 60)
    valid &= (year > 1677) & (year < 2262)  # nanoseconds since 1970 fit in 64 bits
    days = _bs.days_from_civil(year, month, day)
    ns = ((((days * 24 + hour) * 60 + minute) * 60 + second) * 1_000_000 + milli * 1000) * 1000
    bad = np.flatnonzero(~valid)
    if len(bad):
        ts = _gather(pbuf, s[bad] + 1, s[bad] + 20)
        base = pc.strptime(ts, format="%Y-%m-%dT%H:%M:%S", unit="us", error_is_null=True)
        alt = pc.add(pc.cast(base, pa.int64()), pa.array(milli[bad] * 1000))
        alt = pc.cast(pc.cast(alt, pa.timestamp("us")), pa.timestamp("ns"))  # as the general path does
        ns[bad] = pc.fill_null(pc.cast(alt, pa.int64()), np.iinfo(np.int64).min).to_numpy(
            zero_copy_only=False
        )
    times = ns.view("datetime64[ns]")

    apart = special | (ncont > 0)
    hints = _started_hints(buf, w, pbuf, ms, me, apart)
    hints.ip_rows = _ip_rows(msg, special)
    hints.prefix_rows = _prefix_rows(w, ms, me, apart, msg)
    table = build_table(
        {
            "line": idx + first_line,
            "time": times,
            "level": _levels(level),
            "category": _gather(pbuf, cat_start, ce),
            "program": pa.DictionaryArray.from_arrays(
                pa.array(np.zeros(nrec, dtype=np.int8)), pa.array(["multipassd"], pa.large_string())
            ),
            "message": msg,
            "n_lines": n_lines,
        },
        hints,
    )
    return table, n


def _levels(codes: np.ndarray) -> pa.DictionaryArray:
    """Level codes (indexes into LEVELS) as a dictionary in order of first appearance, as
    ``dictionary_encode`` of the level names would give."""
    present, first = np.unique(codes, return_index=True)
    order = present[np.argsort(first)]
    remap = np.zeros(len(LEVELS), dtype=np.int32)
    remap[order] = np.arange(len(order), dtype=np.int32)
    return pa.DictionaryArray.from_arrays(
        pa.array(remap[codes].astype(np.int8)), pa.array([LEVELS[c] for c in order], pa.large_string())
    )


#: prefixes whose rows the byte scan finds for :func:`build_table`
_PREFIXES = ("QMP:", "Starting Multipass ", "process arguments", "DHCP")


def _prefix_rows(
    w: np.ndarray, ms: np.ndarray, me: np.ndarray, apart: np.ndarray, msg: pa.Array
) -> dict[str, np.ndarray]:
    """For each of :data:`_PREFIXES`, the rows whose message starts with it: compared eight bytes at
    a time where the message is a range of the chunk, with Arrow where it was written apart."""
    first = w[ms]
    length = me - ms
    sep = np.flatnonzero(apart)
    sep_msg = msg.take(pa.array(sep)) if len(sep) else None
    out = {}
    for prefix in _PREFIXES:
        raw = prefix.encode()
        head = raw[:8]
        mask, value = np.uint64((1 << (8 * len(head))) - 1), np.uint64(int.from_bytes(head, "little"))
        rows = np.flatnonzero(((first & mask) == value) & (length >= len(raw)) & ~apart)
        for j in range(8, len(raw), 8):
            part = raw[j : j + 8]
            mask, value = np.uint64((1 << (8 * len(part))) - 1), np.uint64(int.from_bytes(part, "little"))
            rows = rows[(w[ms[rows] + j] & mask) == value]
        if sep_msg is not None:
            hit = pc.starts_with(sep_msg, prefix).to_numpy(zero_copy_only=False)
            rows = np.union1d(rows, sep[hit])
        out[prefix] = rows.astype(np.int64)
    return out


def _started_hints(
    buf: np.ndarray, w: np.ndarray, pbuf: pa.Buffer, ms: np.ndarray, me: np.ndarray, apart: np.ndarray
) -> ScanHints:
    """Decide ``[pid] started: prog args`` for the one-line messages that start with ``[``.

    The pid is the digits up to the first ``]`` (up to seven here; longer runs, and messages of
    several lines, are left to the regular expression), ``] started: `` follows, the program runs
    to the first byte RE2's ``\\s`` matches or to the end, and a space there starts the
    arguments.  Any other white space after the program means the line does not match.
    """
    # a message written apart is not the bytes at `ms`: the regular expression reads it
    undecided = np.flatnonzero(apart)
    rows = np.flatnonzero((buf[ms] == 91) & (me > ms) & ~apart)
    r_ms, r_me = ms[rows], me[rows]
    x = w[r_ms + 1]
    nd = np.full(len(rows), 8, dtype=np.int64)  # the first byte after `[` that is not a digit
    for k in range(7, -1, -1):
        b = _bs.byte_at(x, k)
        nd[(b < 48) | (b > 57)] = k
    undecided = np.concatenate([undecided, rows[nd == 8]])
    pe = r_ms + 1 + nd
    keep = (nd >= 1) & (nd < 8) & (pe + 11 <= r_me)
    keep &= (w[pe] == np.uint64(_STARTED_AT)) & (
        (w[pe + 8] & np.uint64(0xFFFFFF)) == np.uint64(_STARTED_TAIL)
    )
    ps = pe + 11
    keep &= (ps < r_me) & ~_bs.RE2_SPACE[buf[ps]]
    rows, ps, r_me, x, nd = rows[keep], ps[keep], r_me[keep], x[keep], nd[keep]
    pid = np.zeros(len(rows), dtype=np.int64)
    for k in range(7):
        pid = np.where(k < nd, pid * 10 + _bs.byte_at(x, k) - 48, pid)
    # the program ends at the first white space or at the end of the message
    pend = r_me.copy()
    todo = np.arange(len(rows))
    off = 0
    while len(todo):
        f = _bs.first_byte_in(w[ps[todo] + off], (32, 9, 10, 12, 13))
        found = f < 8
        hit = todo[found]
        pend[hit] = np.minimum(ps[hit] + off + f[found], r_me[hit])
        off += 8
        todo = todo[~found]
        todo = todo[ps[todo] + off < r_me[todo]]
    at_end = pend == r_me
    keep = at_end | (buf[pend] == 32)
    rows, ps, pend, r_me, pid, at_end = (a[keep] for a in (rows, ps, pend, r_me, pid, at_end))
    return ScanHints(
        started_rows=rows,
        started_pid=pid,
        started_prog=_gather(pbuf, ps, pend),
        started_argv=_gather(pbuf, np.where(at_end, r_me, pend + 1), r_me),
        started_undecided=np.sort(undecided),
        ip_rows=np.zeros(0, dtype=np.int64),
        prefix_rows={},
    )


def _ip_rows(msg: pa.Array, special: np.ndarray) -> np.ndarray:
    """The rows an IPv4 address can be read from: messages holding a digit, a dot and a digit,
    and the messages written apart (several lines)."""
    n = len(msg)
    if not n:
        return np.zeros(0, dtype=np.int64)
    _, offsets, data = msg.buffers()
    off = np.frombuffer(offsets, dtype=np.int64, count=n + 1, offset=msg.offset * 8)
    lo, hi = int(off[0]), int(off[-1])
    if hi <= lo:
        return np.flatnonzero(special).astype(np.int64)
    body = np.frombuffer(data, dtype=np.uint8, count=hi)
    dots = np.flatnonzero(body[lo:hi] == 46) + lo
    dots = dots[(dots > lo) & (dots < hi - 1)]
    dots = dots[_bs.DIGIT[body[dots - 1]] & _bs.DIGIT[body[dots + 1]]]
    row = np.searchsorted(off, dots, side="right") - 1
    row = row[(dots - 1 >= off[row]) & (dots + 1 < off[row + 1])]  # both digits in the same message
    return np.union1d(row, np.flatnonzero(special)).astype(np.int64)


#: a piece of the log: a buffer, and the end of the piece in it; at least ``_bs.PAD`` readable
#: bytes follow that end (the next piece's first bytes, or zeros)
Piece = tuple[bytearray | bytes, int, int]


def _text_pieces(data: bytes, chunk_bytes: int) -> Iterator[Piece]:
    """Pieces of about ``chunk_bytes`` of ``data``, each cut just before a record header line."""
    start, size = 0, len(data)
    while size - start > chunk_bytes:
        cut = _cut_at(data, start + chunk_bytes, start, size)
        if cut is None or cut + _bs.PAD > size:
            break
        yield data, start, cut
        start = cut
    tail = bytearray(size - start + _bs.PAD)
    tail[: size - start] = memoryview(data)[start:]
    yield tail, 0, size - start


def _file_pieces(fh: BufferedReader, chunk_bytes: int) -> Iterator[Piece]:
    """Pieces of about ``chunk_bytes`` of the file, read into buffers of their own (no other copy)."""
    carry = b""
    while True:
        ba = bytearray(len(carry) + chunk_bytes + _bs.PAD)
        ba[: len(carry)] = carry
        got = fh.readinto(memoryview(ba)[len(carry) : len(carry) + chunk_bytes])
        end = len(carry) + got
        if not got:
            if end:
                yield ba, 0, end
            return
        cut = _cut_at(ba, end, 0, end)
        if cut is None:  # no record starts here: read on
            carry = bytes(ba[:end])
            continue
        yield ba, 0, cut
        carry = bytes(ba[cut:end])


def _cut_at(data: bytes | bytearray, near: int, start: int, end: int) -> int | None:
    """The start of a record header line after ``start``: the last one before ``near``, else the
    first after it (before ``end``)."""
    pos = data.rfind(b"\n[", start, near)
    while pos > start:
        if _HEAD_BYTES.match(data, pos + 1, end):
            return pos + 1
        pos = data.rfind(b"\n[", start, pos)
    pos = data.find(b"\n[", near, end)
    while pos != -1:
        if _HEAD_BYTES.match(data, pos + 1, end):
            return pos + 1
        pos = data.find(b"\n[", pos + 1, end)
    return None


def _chunk_task(piece: Piece) -> tuple[pa.Table, int, Coverage, int]:
    data, start, stop = piece
    size = stop - start
    buf = np.frombuffer(data, dtype=np.uint8, count=size + _bs.PAD, offset=start)
    cov = Coverage()
    text = None
    if size and buf[:size].max() >= 0x80:
        try:
            text = str(memoryview(data)[start:stop], "utf-8")
        except UnicodeDecodeError:  # bytes that are not UTF-8 become U+FFFD, as everywhere else
            text = str(memoryview(data)[start:stop], "utf-8", errors="replace")
            buf = _bs.padded(text.encode("utf-8"))
    if data.find(b"\r", start, stop) != -1:
        raw = buf[:size].tobytes().replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        buf, text = _bs.padded(raw), None
    n = len(buf) - _bs.PAD
    got = _fast_table(buf, n, 1, cov)
    if got is None:
        cov = Coverage()
        got = _table(text if text is not None else buf[:n].tobytes().decode("utf-8"), 1, cov)
    table, n_phys = got
    return table, n_phys, cov, size


def parse_path(path: str | Path, chunk_bytes: int = _CHUNK, workers: int | None = None) -> pd.DataFrame:
    """Parse a (possibly huge) log file; same frame as ``parse``.

    The file is cut into chunks where a record starts and parsed by a few threads (numpy and
    pyarrow release the GIL), at most ``workers + 1`` chunks in flight, so memory stays bounded
    by the frame plus a few chunks.
    """
    with open(path, "rb") as fh, _system_allocator():
        size = os.fstat(fh.fileno()).st_size
        return _parse_blocks(_file_pieces(fh, chunk_bytes), size, workers=workers)


@contextmanager
def _system_allocator() -> Iterator[None]:
    """Arrow allocations made meanwhile come from the C library's allocator.

    pyarrow's default pool (mimalloc) hands the memory of each chunk's short-lived arrays back to
    the system, so the next chunk faults it in again; malloc keeps it for reuse.  Buffers remember
    their pool, so changing the default for a while is safe for every other caller.
    """
    before = pa.default_memory_pool()
    pa.set_memory_pool(pa.system_memory_pool())
    try:
        yield
    finally:
        pa.set_memory_pool(before)


def _parse_blocks(chunks: Iterator[Piece], size: int, workers: int | None = None) -> pd.DataFrame:
    """The frame of a log of ``size`` bytes given as consecutive chunks, each beginning a record."""
    workers = workers or max(1, min(4, os.cpu_count() or 1))
    cov = Coverage()
    builder: FrameBuilder | None = None
    line = 1

    def take(result: tuple[pa.Table, int, Coverage, int]) -> None:
        nonlocal line, builder
        table, n_phys, part, nbytes = result
        if builder is None:  # the first chunk tells how many rows a byte of this log gives
            builder = FrameBuilder(int(table.num_rows * size / max(nbytes, 1) * 1.05) + 1024)
        offset = line - 1
        builder.add(table, offset)
        cov.lines += part.lines
        cov.parsed += part.parsed
        cov.ignored += part.ignored
        cov.rejected += part.rejected
        room = REJECT_SAMPLE - len(cov.rejects)
        cov.rejects.extend((n + offset, text) for n, text in part.rejects[: max(room, 0)])
        line += n_phys

    if workers == 1:
        for data in chunks:
            take(_chunk_task(data))
    else:
        with ThreadPoolExecutor(workers) as pool:
            pending: deque[Future[tuple[pa.Table, int, Coverage, int]]] = deque()
            for data in chunks:
                pending.append(pool.submit(_chunk_task, data))
                if len(pending) > workers:
                    take(pending.popleft().result())
            while pending:
                take(pending.popleft().result())
    if builder is None:
        return to_frame([_empty_table()], cov)
    return builder.frame(cov)
