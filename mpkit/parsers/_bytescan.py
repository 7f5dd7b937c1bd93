"""Vectorised scanning of raw log bytes with numpy: line bounds, fixed-layout templates, byte classes.

A log line's header (``[2024-10-05T18:05:19.211] [info] [primary] ``) has fixed positions for
everything but the category, so it is checked and decoded eight bytes at a time: :func:`words`
views the buffer as the little-endian 64-bit word starting at *every* byte offset (a strided
view, no copy), and :func:`match_template` compares the words at many line starts against a
template of literal bytes and digit positions at once.  Nothing here loops over lines in Python.
"""

from __future__ import annotations

import numpy as np

#: zero bytes appended after the data so that words read past the end stay inside the buffer
PAD = 64

#: bytes Arrow's ``utf8_trim_whitespace`` (and ``str.isspace``) treat as white space below 0x80
TRIM_WS = np.zeros(256, dtype=bool)
TRIM_WS[[9, 10, 11, 12, 13, 28, 29, 30, 31, 32]] = True
#: bytes RE2's ``\s`` matches (``\S`` is every other byte)
RE2_SPACE = np.zeros(256, dtype=bool)
RE2_SPACE[[9, 10, 12, 13, 32]] = True
DIGIT = np.zeros(256, dtype=bool)
DIGIT[48:58] = True


def padded(data: bytes) -> np.ndarray:
    """``data`` as a uint8 array followed by :data:`PAD` zero bytes."""
    buf = np.zeros(len(data) + PAD, dtype=np.uint8)
    buf[: len(data)] = np.frombuffer(data, dtype=np.uint8)
    return buf


def words(buf: np.ndarray) -> np.ndarray:
    """The 8 bytes starting at each offset of ``buf`` as one little-endian uint64 (a view)."""
    return np.ndarray(shape=(len(buf) - 7,), dtype="<u8", buffer=buf, offset=0, strides=(1,))


def line_bounds(buf: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Start and end (exclusive, the newline's offset) of every line of ``buf[:size]``.

    Lines are separated by ``\\n``; a final newline adds no empty line (like ``str.split`` with the
    last empty piece dropped).
    """
    nl = np.flatnonzero(buf[:size] == 10)
    ends = nl if size == 0 or buf[size - 1] == 10 else np.append(nl, size)
    starts = np.empty_like(ends)
    if len(ends):
        starts[0] = 0
        starts[1:] = ends[:-1] + 1
    return starts, ends


class Template:
    """A fixed-width byte pattern: ``d`` stands for an ASCII digit, every other character for itself."""

    def __init__(self, text: str) -> None:
        raw = text.encode("ascii")
        self.size = len(raw)
        self.parts: list[tuple[int, int, int, int, int]] = []
        for w in range(0, len(raw), 8):
            lit_mask = lit_val = dig_f0 = dig_30 = dig_06 = 0
            for k, ch in enumerate(raw[w : w + 8]):
                sh = 8 * k
                if ch == ord("d"):
                    dig_f0 |= 0xF0 << sh
                    dig_30 |= 0x30 << sh
                    dig_06 |= 0x06 << sh
                else:
                    lit_mask |= 0xFF << sh
                    lit_val |= ch << sh
            self.parts.append((lit_mask, lit_val, dig_f0, dig_30, dig_06))


def match_template(w: np.ndarray, pos: np.ndarray, tmpl: Template) -> tuple[np.ndarray, list[np.ndarray]]:
    """Which offsets ``pos`` start ``tmpl``, and the words read there (for decoding the digits).

    A digit byte is ``0x30..0x39``: its high nibble is 3 and adding 6 keeps it so.  Adding 6 to
    every digit position at once cannot carry into another byte unless that byte already failed.
    """
    ok = np.ones(len(pos), dtype=bool)
    got = []
    for j, (lit_mask, lit_val, dig_f0, dig_30, dig_06) in enumerate(tmpl.parts):
        x = w[pos + 8 * j]
        got.append(x)
        ok &= (x & np.uint64(lit_mask)) == np.uint64(lit_val)
        if dig_f0:
            f0, d30 = np.uint64(dig_f0), np.uint64(dig_30)
            ok &= (x & f0) == d30
            ok &= ((x + np.uint64(dig_06)) & f0) == d30
    return ok, got


def byte_at(x: np.ndarray, k: int) -> np.ndarray:
    """Byte ``k`` (0 = lowest address) of each little-endian word in ``x``, as int64."""
    return ((x >> np.uint64(8 * k)) & np.uint64(0xFF)).astype(np.int64)


def digits(x: np.ndarray, first: int, count: int) -> np.ndarray:
    """The decimal number written in bytes ``first .. first+count-1`` of each word (checked digits)."""
    out = np.zeros(len(x), dtype=np.int64)
    for k in range(first, first + count):
        out = out * 10 + byte_at(x, k) - 48
    return out


def first_byte_in(x: np.ndarray, values: tuple[int, ...]) -> np.ndarray:
    """Index (0..7) of the first byte of each word equal to one of ``values``; 8 when none is."""
    lo, hi = np.uint64(0x0101010101010101), np.uint64(0x8080808080808080)
    hit = np.zeros(len(x), dtype=np.uint64)
    for v in values:
        t = x ^ np.uint64(v * 0x0101010101010101)
        # the lowest flagged byte of (t - 0x01..) & ~t & 0x80.. is the lowest zero byte of t
        hit |= (t - lo) & ~t & hi
    low = hit & (~hit + np.uint64(1))  # lowest set bit
    idx = np.full(len(x), 8, dtype=np.int64)
    some = low != 0
    if some.any():
        _, exp = np.frexp(low[some].astype(np.float64))
        idx[some] = (exp - 1) // 8
    return idx


def find_first(w: np.ndarray, starts: np.ndarray, ends: np.ndarray, value: int) -> np.ndarray:
    """Offset of the first byte ``value`` in each ``[starts[i], ends[i])``; ``ends[i]`` when there is none.

    Reads eight bytes a row a round, and only the rows still searching take another round.
    """
    found = ends.copy()
    todo = np.flatnonzero(starts < ends)
    off = 0
    while len(todo):
        at = starts[todo] + off
        f = first_byte_in(w[at], (value,))
        hit = (f < 8) & (at + f < ends[todo])
        found[todo[hit]] = at[hit] + f[hit]
        off += 8
        todo = todo[~hit]
        todo = todo[starts[todo] + off < ends[todo]]
    return found


def days_from_civil(y: np.ndarray, m: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 of proleptic Gregorian dates (vectorised; H. Hinnant's algorithm)."""
    y = y - (m <= 2)
    era = y // 400
    yoe = y - era * 400
    mp = np.where(m > 2, m - 3, m + 9)
    doy = (153 * mp + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


_DIM = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)


def valid_date(y: np.ndarray, m: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Month 1–12 and day within that month (leap years counted)."""
    ok = (m >= 1) & (m <= 12) & (d >= 1)
    dim = _DIM[np.clip(m, 0, 12)] + ((m == 2) & (y % 4 == 0) & ((y % 100 != 0) | (y % 400 == 0)))
    return ok & (d <= dim)


def gather_offsets(starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Offsets ``[s0, e0, s1, e1, …]`` of an Arrow string array whose even slots are the ranges."""
    off = np.empty(2 * len(starts) + 1, dtype=np.int64)
    off[0:-1:2] = starts
    off[1:-1:2] = ends
    off[-1] = ends[-1] if len(ends) else 0
    return off
