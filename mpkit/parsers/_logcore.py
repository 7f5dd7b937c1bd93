"""Shared machinery of the log-event parsers (daemon log, journald, Windows events).

All of them feed the ``daemon_log`` frame (schema :data:`mpkit.frames.LOG_EVENTS`).
The per-source parsers find records (time, level, category, program, message);
:func:`build_frame` then derives the structured columns from the message with
vectorised regular expressions (pyarrow's RE2 kernels), so that a 1 GB log is
parsed without a Python-level loop over its lines.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..frames import LOG_EVENTS
from ..schema import Coverage

LEVELS = ["error", "warning", "info", "debug", "trace"]
LEVEL_DTYPE = pd.CategoricalDtype(LEVELS)

# message-derived fields: (column, prefilter substring, regex with named groups)
_STARTED = r"^\[(?P<subprocess_pid>\d+)\] started: (?P<subprocess>\S+)(?: (?P<argv>.*))?$"
_QMP_EVENT = r'"event": ?"(?P<qmp_event>[A-Z_]+)"'
_QMP_TIME = r'"seconds": ?(?P<s>\d+), ?"microseconds": ?(?P<us>\d+)'
_VERSION = r"^Starting Multipass (?P<daemon_version>\S+)"
_MAC = r"mac=(?P<mac>[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5})"
_DHCP_MAC = (
    r"DHCP[A-Z]+\([^)]*\) (?:(?P<ip>\d+\.\d+\.\d+\.\d+) )?(?P<mac>[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5})"
)
_IP = r"(?P<ip>\b(?:\d{1,3}\.){3}\d{1,3}\b)"
_MEM = r"(?:^|[ ,])-m,? (?P<mem>\d+[KMGT]?)"
_SMP = r"(?:^|[ ,])-smp,? (?P<smp>\d+)"
_LOADVM = r"(?:^|[ ,])-loadvm,? (?P<loadvm>[^,' ]+)"


#: messages that may name the guest's IP (ssh errors, ping, `Found ip match`, info output)
_IP_CONTEXT = r"connecting to |Found ip match|IPv4|ssh connection failed|ping"


def _strings(v: Any, n: int) -> pa.Array:
    if v is None:
        return pa.nulls(n, pa.large_string())
    if isinstance(v, pa.ChunkedArray):
        v = v.combine_chunks()
    if isinstance(v, pa.Array):
        return pc.cast(v, pa.large_string())
    return pa.array(list(v), type=pa.large_string())


def _ints(v: Any, n: int) -> pa.Array:
    if v is None:  # a column with no value: a null-typed array has no buffers to fill
        return pa.nulls(n)
    if isinstance(v, np.ndarray):
        return pa.array(v.astype("int64"))
    return pa.array(list(v), type=pa.int64())


def _times(v: Any, n: int) -> pa.Array:
    """Wall-clock times (Arrow timestamps, numpy datetime64, or a list of datetimes / None) as timestamp[ns]."""
    if isinstance(v, pa.ChunkedArray):
        v = v.combine_chunks()
    if isinstance(v, pa.Array):
        return pc.cast(v, pa.timestamp("ns"))
    if isinstance(v, np.ndarray) and v.dtype == np.dtype("datetime64[ns]"):
        return pa.array(v, type=pa.timestamp("ns"), from_pandas=True)
    values = (
        np.asarray(pd.to_datetime(pd.Series(list(v), dtype="object")), dtype="datetime64[ns]")
        if n
        else np.array([], "datetime64[ns]")
    )
    return pa.array(values, type=pa.timestamp("ns"), from_pandas=True)


def _index_type(size: int) -> pa.DataType:
    """The narrowest index type for a dictionary of ``size`` values."""
    return pa.int8() if size < 127 else pa.int16() if size < 32767 else pa.int32()


def _dict(arr: pa.Array) -> pa.Array:
    """Low-cardinality strings as a dictionary (a byte or two a row instead of an offset and the text)."""
    enc = pc.dictionary_encode(pc.if_else(pc.equal(arr, ""), pa.scalar(None, arr.type), arr))
    return pa.DictionaryArray.from_arrays(
        pc.cast(enc.indices, _index_type(len(enc.dictionary))), enc.dictionary
    )


def _as_dict(v: Any, n: int) -> pa.Array:
    """A column of low-cardinality strings as a dictionary; one already encoded (without "") is kept."""
    if isinstance(v, pa.DictionaryArray) and not pc.any(pc.equal(v.dictionary, "")).as_py():
        return v
    return _dict(_strings(v, n))


def _sorted_rows(idx: np.ndarray, values: pa.Array) -> tuple[np.ndarray, pa.Array]:
    if len(idx) > 1 and (np.diff(idx) < 0).any():
        order = np.argsort(idx, kind="stable")
        return idx[order], values.take(pa.array(order))
    return idx, values


def _sparse_dict(n: int, idx: np.ndarray, values: pa.Array) -> pa.Array:
    """``values`` at rows ``idx`` (null elsewhere) as a dictionary, computed on those rows alone."""
    idx, values = _sorted_rows(idx, values)
    enc = _dict(_strings(values, 0))
    codes = enc.indices
    full = np.zeros(n, dtype=_index_type(len(enc.dictionary)).to_pandas_dtype())
    valid = np.zeros(n, dtype=bool)
    full[idx] = pc.fill_null(codes, 0).to_numpy(zero_copy_only=False)
    valid[idx] = codes.is_valid().to_numpy(zero_copy_only=False)
    return pa.DictionaryArray.from_arrays(pa.array(full, mask=~valid), enc.dictionary)


def _sparse_ints(n: int, idx: np.ndarray, values: pa.Array) -> pa.Array:
    """Length-``n`` int64 array holding ``values`` at rows ``idx`` and nulls elsewhere."""
    full = np.zeros(n, dtype=np.int64)
    valid = np.zeros(n, dtype=bool)
    values = pc.cast(values, pa.int64())
    full[idx] = pc.fill_null(values, 0).to_numpy(zero_copy_only=False)
    valid[idx] = values.is_valid().to_numpy(zero_copy_only=False)
    return pa.array(full, mask=~valid)


def _sparse_strings(n: int, idx: np.ndarray, values: pa.Array) -> pa.Array:
    """Length-``n`` string array holding ``values`` at rows ``idx`` (an empty one as null), nulls elsewhere."""
    idx, values = _sorted_rows(idx, _strings(values, 0))
    values = pc.if_else(pc.equal(values, ""), pa.scalar(None, pa.large_string()), values)
    values = values.take(pa.array(np.arange(len(values))))  # compact: offsets from 0, text contiguous
    lengths = np.zeros(n, dtype=np.int64)
    valid = np.zeros(n, dtype=bool)
    lengths[idx] = pc.fill_null(pc.binary_length(values), 0).to_numpy(zero_copy_only=False)
    valid[idx] = values.is_valid().to_numpy(zero_copy_only=False)
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    data = values.buffers()[2] if len(values) else None
    bitmap = pa.py_buffer(np.packbits(valid, bitorder="little"))
    return pa.LargeStringArray.from_buffers(
        n, pa.py_buffer(offsets), data or pa.py_buffer(b""), bitmap, int(n - valid.sum())
    )


@dataclass
class ScanHints:
    """What a byte-level scan of the log already decided about some rows' messages.

    ``started_*``: rows whose message is a ``[pid] started: prog args`` line, with their fields
    (``argv`` null where the line has none); ``started_undecided``: rows starting with ``[`` that
    the scan left to the regular expression; ``ip_rows``: the only rows whose message can hold an
    IPv4 address (every other message lacks a digit-dot-digit sequence); ``prefix_rows``: for
    some prefixes, the rows whose message starts with it.
    """

    started_rows: np.ndarray
    started_pid: np.ndarray
    started_prog: pa.Array
    started_argv: pa.Array
    started_undecided: np.ndarray
    ip_rows: np.ndarray
    prefix_rows: dict[str, np.ndarray]


def _at(rows: np.ndarray, idx: np.ndarray, values: pa.Array) -> pa.Array:
    """``values`` (given at the sorted rows ``idx``) at each of ``rows``; null where ``idx`` lacks it."""
    if not len(idx):
        return pa.nulls(len(rows), values.type)
    pos = np.minimum(np.searchsorted(idx, rows), len(idx) - 1)
    hit = idx[pos] == rows
    return values.take(pa.array(pos, mask=~hit))


def build_table(records: Mapping[str, Any], hints: ScanHints | None = None) -> pa.Table:
    """The ``daemon_log`` columns of one batch of records, as an Arrow table.

    ``records`` holds equal-length columns: ``line``, ``time`` (datetime64 values
    or NaT), ``utc_offset``, ``level``, ``category``, ``program``, ``pid``,
    ``message`` (a pyarrow string array or a list of str) and ``n_lines``; the
    message-derived columns are computed here, in Arrow.  ``hints`` (from a byte
    scan of the same messages) spare the regular expressions the rows already decided;
    the columns are the same with or without them.
    """
    msg = _strings(records["message"], 0)
    n = len(msg)
    t: dict[str, pa.Array] = {}
    t["line"] = _ints(np.asarray(records["line"], dtype="int64"), n)
    t["time"] = _times(records["time"], n)
    t["utc_offset"] = _ints(records.get("utc_offset"), n)
    t["level"] = _as_dict(records.get("level"), n)
    t["category"] = _as_dict(records.get("category"), n)
    t["program"] = _as_dict(records.get("program"), n)
    t["pid"] = _ints(records.get("pid"), n)
    t["message"] = msg
    t["n_lines"] = _ints(np.asarray(records["n_lines"], dtype="int64"), n)

    # each derived column comes from messages of one shape, told apart by cheap prefix tests
    def rows_where(mask: pa.Array) -> np.ndarray:
        return (
            np.flatnonzero(pc.fill_null(mask, False).to_numpy(zero_copy_only=False))
            if n
            else np.zeros(0, int)
        )

    def starting(prefix: str) -> np.ndarray:
        if hints is not None and prefix in hints.prefix_rows:
            return hints.prefix_rows[prefix]
        return rows_where(pc.starts_with(msg, prefix))

    def extract(idx: np.ndarray, pattern: str) -> tuple[np.ndarray, pa.StructArray]:
        sub = msg.take(pa.array(idx)) if len(idx) else pa.array([], type=pa.large_string())
        st = pc.extract_regex(sub, pattern)
        ok = st.is_valid().to_numpy(zero_copy_only=False)
        return idx[ok], st.filter(pa.array(ok))

    if hints is None:
        i, st = extract(rows_where(pc.starts_with(msg, "[")), _STARTED)
        prog, pid, argv = (
            st.field("subprocess"),
            pc.cast(st.field("subprocess_pid"), pa.int64()),
            st.field("argv"),
        )
    else:
        i2, st = extract(hints.started_undecided, _STARTED)
        i = np.concatenate([hints.started_rows, i2])
        prog = pa.concat_arrays([_strings(hints.started_prog, 0), _strings(st.field("subprocess"), 0)])
        pid = pa.concat_arrays(
            [pa.array(hints.started_pid, pa.int64()), pc.cast(st.field("subprocess_pid"), pa.int64())]
        )
        argv = pa.concat_arrays([_strings(hints.started_argv, 0), _strings(st.field("argv"), 0)])
    t["subprocess"] = _sparse_dict(n, i, prog)
    t["subprocess_pid"] = _sparse_ints(n, *_sorted_rows(i, pid))
    t["argv"] = _sparse_strings(n, i, argv)

    qmp = starting("QMP:")
    i, st = extract(qmp, _QMP_EVENT)
    t["qmp_event"] = _sparse_dict(n, i, st.field("qmp_event"))
    i, st = extract(qmp, _QMP_TIME)
    us = pc.add(
        pc.multiply(pc.cast(st.field("s"), pa.int64()), 1_000_000), pc.cast(st.field("us"), pa.int64())
    )
    t["qmp_time"] = pc.cast(
        pc.cast(_sparse_ints(n, i, us), pa.timestamp("us", tz="UTC")), pa.timestamp("ns", tz="UTC")
    )

    i, st = extract(starting("Starting Multipass "), _VERSION)
    t["daemon_version"] = _sparse_dict(n, i, st.field("daemon_version"))

    # MAC: the QEMU mac= argument, or the MAC of a dnsmasq DHCP line; IP: DHCP lines, then ssh/ping errors
    args_rows = starting("process arguments")
    i_d, st_d = extract(starting("DHCP"), _DHCP_MAC)
    i_m, st_m = extract(args_rows, _MAC)
    # a message starts with either "process arguments" or "DHCP": the two sets of rows are disjoint
    t["mac"] = _sparse_dict(
        n,
        np.concatenate([i_m, i_d]),
        pa.concat_arrays([pc.utf8_lower(st_m.field("mac")), pc.utf8_lower(st_d.field("mac"))]),
    )
    if hints is None:
        ip_rows = rows_where(pc.match_substring_regex(msg, _IP_CONTEXT))
    else:
        sub = msg.take(pa.array(hints.ip_rows)) if len(hints.ip_rows) else pa.array([], pa.large_string())
        ip_rows = hints.ip_rows[pc.match_substring_regex(sub, _IP_CONTEXT).to_numpy(zero_copy_only=False)]
    i, st = extract(ip_rows, _IP)
    # the DHCP line's address first, else the one read in its context
    rows = np.union1d(i_d, i)
    ip_d, ip_c = st_d.field("ip"), st.field("ip")
    ip_d = pc.if_else(pc.equal(ip_d, ""), pa.scalar(None, ip_d.type), ip_d)
    t["ip"] = _sparse_dict(n, rows, pc.coalesce(_at(rows, i_d, ip_d), _at(rows, i, ip_c)))

    # QEMU sizing from `process arguments '…'`
    for col, pat, grp in (
        ("qemu_memory", _MEM, "mem"),
        ("qemu_smp", _SMP, "smp"),
        ("qemu_loadvm", _LOADVM, "loadvm"),
    ):
        i, st = extract(args_rows, pat)
        t[col] = _sparse_ints(n, i, st.field(grp)) if col == "qemu_smp" else _sparse_dict(n, i, st.field(grp))
    return pa.table({c: t[c] for c in LOG_EVENTS})


class FrameBuilder:
    """Collects the Arrow tables of consecutive batches into the ``daemon_log`` frame's own arrays.

    Each batch is copied once, as it arrives, into preallocated numpy arrays of the final dtypes
    (integers and their NA masks, category codes, times); strings stay Arrow chunks, which pandas
    keeps as they are.  So the batches can be let go one by one, and the Arrow copy and the pandas
    copy of a big log are never both whole in memory.  ``expected_rows`` sizes the arrays; they
    grow when it was too small.
    """

    def __init__(self, expected_rows: int = 0) -> None:
        self.n = 0
        self.cap = 0
        self.ints: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self.codes: dict[str, np.ndarray] = {}
        self.cats: dict[str, dict[str, int]] = {
            c: {} for c, col in LOG_EVENTS.items() if col.dtype == "category"
        }
        self.strs: dict[str, list[pa.Array]] = {c: [] for c, col in LOG_EVENTS.items() if col.dtype == "str"}
        self.times: dict[str, np.ndarray] = {}
        self._grow(max(expected_rows, 0))

    def _grow(self, cap: int) -> None:
        def grown(old: np.ndarray | None, dtype: Any, fill: Any = None) -> np.ndarray:
            new = np.zeros(cap, dtype=dtype) if fill is None else np.full(cap, fill, dtype=dtype)
            if old is not None:
                new[: self.n] = old[: self.n]
            return new

        for name, col in LOG_EVENTS.items():
            if col.dtype == "int":
                v, m = self.ints.get(name, (None, None))
                self.ints[name] = (grown(v, np.int64), grown(m, bool))
            elif col.dtype == "category":
                old = self.codes.get(name)
                self.codes[name] = grown(old, old.dtype if old is not None else np.int8)
            elif col.dtype in ("datetime", "datetime_utc"):
                self.times[name] = grown(self.times.get(name), "datetime64[ns]")
        self.cap = cap

    def add(self, table: pa.Table, line_offset: int = 0) -> None:
        """Append one batch; ``line_offset`` is added to its ``line`` numbers."""
        k = table.num_rows
        if self.n + k > self.cap:
            self._grow(max(self.n + k, int(self.cap * 1.5) + 1024))
        a, b = self.n, self.n + k
        for name, col in LOG_EVENTS.items():
            if not k:
                continue
            column = table.column(name)
            arr = column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()
            if col.dtype == "int":
                values, mask = self.ints[name]
                if pa.types.is_null(arr.type) or arr.null_count == k:
                    mask[a:b] = True
                    continue
                arr = pc.cast(arr, pa.int64())
                if arr.null_count:  # only the rows with a value are written: sparse columns stay untouched
                    valid = arr.is_valid().to_numpy(zero_copy_only=False)
                    mask[a:b] = ~valid
                    values[a:b][valid] = arr.drop_null().to_numpy()
                elif name == "line" and line_offset:
                    np.add(arr.to_numpy(), line_offset, out=values[a:b])
                else:  # the mask stays as allocated: all False
                    values[a:b] = arr.to_numpy()
            elif col.dtype == "category":
                self._add_codes(name, arr, a, b)
            elif col.dtype == "str":
                self.strs[name].append(pc.cast(arr, pa.large_string()))
            else:
                self.times[name][a:b] = pc.cast(arr, pa.timestamp("ns")).to_numpy(zero_copy_only=False)
        self.n = b

    def _add_codes(self, name: str, arr: pa.Array, a: int, b: int) -> None:
        """The dictionaries unified in order of appearance, as Arrow's ``to_pandas`` does."""
        codes = self.codes[name]
        if pa.types.is_null(arr.type):
            codes[a:b] = -1
            return
        cats = self.cats[name]
        remap = [cats.setdefault(v, len(cats)) for v in arr.dictionary.to_pylist()]
        width = np.int8 if len(cats) < 127 else np.int16 if len(cats) < 32767 else np.int32
        if np.dtype(width).itemsize > codes.itemsize:
            codes = self.codes[name] = codes.astype(width)
        table = np.array(remap + [-1], dtype=codes.dtype)
        codes[a:b] = table[pc.fill_null(arr.indices, len(remap)).to_numpy(zero_copy_only=False)]

    def frame(self, cov: Coverage) -> pd.DataFrame:
        """The frame of everything added (schema dtypes), with ``cov`` as its coverage."""
        n = self.n
        cols: dict[str, pd.Series] = {}
        for name, col in LOG_EVENTS.items():
            if col.dtype == "int":
                values, mask = self.ints[name]
                cols[name] = pd.Series(pd.arrays.IntegerArray(values[:n], mask[:n]), copy=False)
            elif col.dtype == "category":
                if not n:
                    s = pd.Series([], dtype="category")
                else:
                    cats = list(self.cats[name])
                    categories = pd.Index(cats, dtype="str") if cats else pd.Index([], dtype=object)
                    s = pd.Series(
                        pd.Categorical.from_codes(
                            self.codes[name][:n], dtype=pd.CategoricalDtype(categories)
                        ),
                        copy=False,
                    )
                cols[name] = s.astype(LEVEL_DTYPE if name == "level" else "category")
            elif col.dtype == "str":
                chunks = self.strs[name]
                cols[name] = (
                    pa.chunked_array(chunks, type=pa.large_string()).to_pandas().astype("str")
                    if n
                    else pd.Series([], dtype="str")
                )
            elif col.dtype == "datetime":
                cols[name] = pd.Series(self.times[name][:n], copy=False)
            else:
                cols[name] = pd.Series(self.times[name][:n], copy=False).dt.tz_localize("UTC")
        frame = pd.DataFrame(cols, copy=False)
        frame.attrs["coverage"] = cov.as_dict()
        return frame


def to_frame(tables: list[pa.Table], cov: Coverage) -> pd.DataFrame:
    """One ``daemon_log`` frame (schema dtypes) from the tables of all batches."""
    fb = FrameBuilder(sum(t.num_rows for t in tables))
    for t in tables:
        fb.add(t)
    return fb.frame(cov)


def build_frame(records: Mapping[str, Any], cov: Coverage) -> pd.DataFrame:
    """The ``daemon_log`` frame of one batch of records."""
    return to_frame([build_table(records)], cov)
