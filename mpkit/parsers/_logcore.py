"""Shared machinery of the log-event parsers (daemon log, journald, Windows events).

All of them feed the ``daemon_log`` frame (schema :data:`mpkit.frames.LOG_EVENTS`).
The per-source parsers find records (time, level, category, program, message);
:func:`build_frame` then derives the structured columns from the message with
vectorised regular expressions (pyarrow's RE2 kernels), so that a 1 GB log is
parsed without a Python-level loop over its lines.
"""

from __future__ import annotations

from collections.abc import Mapping
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


def _str_series(arr: pa.Array) -> pd.Series:
    """An Arrow string array as a pandas ``str`` Series (empty strings become NA)."""
    arr = pc.if_else(pc.equal(arr, ""), pa.scalar(None, arr.type), arr) if len(arr) else arr
    return arr.to_pandas().astype("str") if len(arr) else pd.Series([], dtype="str")


def _int_series(arr: pa.Array | pa.ChunkedArray) -> pd.Series:
    """An Arrow integer array (nulls allowed) as a pandas ``Int64`` Series, without Python objects."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks() if arr.num_chunks else pa.array([], pa.int64())
    arr = pc.cast(arr, pa.int64())
    values = np.asarray(pc.fill_null(arr, 0).to_numpy(zero_copy_only=False), dtype="int64")
    mask = np.asarray(arr.is_null().to_numpy(zero_copy_only=False), dtype=bool)
    return pd.Series(pd.arrays.IntegerArray(values, mask))


def _scatter(n: int, idx: np.ndarray, values: pa.Array) -> pa.Array:
    """Length-``n`` array holding ``values`` at rows ``idx`` and nulls elsewhere."""
    if not len(idx):
        return pa.nulls(n, values.type)
    pos = np.full(n, -1, dtype=np.int64)
    pos[idx] = np.arange(len(idx))
    return values.take(pa.array(pos, mask=pos < 0))


def _strings(v: Any, n: int) -> pa.Array:
    if v is None:
        return pa.nulls(n, pa.large_string())
    if isinstance(v, pa.ChunkedArray):
        v = v.combine_chunks()
    if isinstance(v, pa.Array):
        return pc.cast(v, pa.large_string())
    return pa.array(list(v), type=pa.large_string())


def _ints(v: Any, n: int) -> pa.Array:
    if v is None:
        return pa.nulls(n, pa.int64())
    if isinstance(v, np.ndarray):
        return pa.array(v.astype("int64"))
    return pa.array(list(v), type=pa.int64())


def _times(v: Any, n: int) -> pa.Array:
    """Wall-clock times (Arrow timestamps, numpy datetime64, or a list of datetimes / None) as timestamp[ns]."""
    if isinstance(v, pa.ChunkedArray):
        v = v.combine_chunks()
    if isinstance(v, pa.Array):
        return pc.cast(v, pa.timestamp("ns"))
    values = (
        np.asarray(pd.to_datetime(pd.Series(list(v), dtype="object")), dtype="datetime64[ns]")
        if n
        else np.array([], "datetime64[ns]")
    )
    return pa.array(values, type=pa.timestamp("ns"), from_pandas=True)


def _dict(arr: pa.Array) -> pa.Array:
    """Low-cardinality strings as a dictionary (4 bytes a row instead of an offset and the text)."""
    return pc.dictionary_encode(pc.if_else(pc.equal(arr, ""), pa.scalar(None, arr.type), arr))


def build_table(records: Mapping[str, Any]) -> pa.Table:
    """The ``daemon_log`` columns of one batch of records, as an Arrow table.

    ``records`` holds equal-length columns: ``line``, ``time`` (datetime64 values
    or NaT), ``utc_offset``, ``level``, ``category``, ``program``, ``pid``,
    ``message`` (a pyarrow string array or a list of str) and ``n_lines``; the
    message-derived columns are computed here, in Arrow.
    """
    msg = _strings(records["message"], 0)
    n = len(msg)
    t: dict[str, pa.Array] = {}
    t["line"] = _ints(np.asarray(records["line"], dtype="int64"), n)
    t["time"] = _times(records["time"], n)
    t["utc_offset"] = _ints(records.get("utc_offset"), n)
    t["level"] = _dict(_strings(records.get("level"), n))
    t["category"] = _dict(_strings(records.get("category"), n))
    t["program"] = _dict(_strings(records.get("program"), n))
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

    def extract(idx: np.ndarray, pattern: str) -> tuple[np.ndarray, pa.StructArray]:
        sub = msg.take(pa.array(idx)) if len(idx) else pa.array([], type=pa.large_string())
        st = pc.extract_regex(sub, pattern)
        ok = st.is_valid().to_numpy(zero_copy_only=False)
        return idx[ok], st.filter(pa.array(ok))

    def scatter(idx: np.ndarray, values: pa.Array) -> pa.Array:
        return _scatter(n, idx, values)

    i, st = extract(rows_where(pc.starts_with(msg, "[")), _STARTED)
    t["subprocess"] = _dict(scatter(i, st.field("subprocess")))
    t["subprocess_pid"] = scatter(i, pc.cast(st.field("subprocess_pid"), pa.int64()))
    argv = scatter(i, st.field("argv"))
    t["argv"] = pc.if_else(pc.equal(argv, ""), pa.scalar(None, argv.type), argv)

    qmp = rows_where(pc.starts_with(msg, "QMP:"))
    i, st = extract(qmp, _QMP_EVENT)
    t["qmp_event"] = _dict(scatter(i, st.field("qmp_event")))
    i, st = extract(qmp, _QMP_TIME)
    us = pc.add(
        pc.multiply(pc.cast(st.field("s"), pa.int64()), 1_000_000), pc.cast(st.field("us"), pa.int64())
    )
    t["qmp_time"] = pc.cast(
        pc.cast(scatter(i, us), pa.timestamp("us", tz="UTC")), pa.timestamp("ns", tz="UTC")
    )

    i, st = extract(rows_where(pc.starts_with(msg, "Starting Multipass ")), _VERSION)
    t["daemon_version"] = _dict(scatter(i, st.field("daemon_version")))

    # MAC: the QEMU mac= argument, or the MAC of a dnsmasq DHCP line; IP: DHCP lines, then ssh/ping errors
    args_rows = rows_where(pc.starts_with(msg, "process arguments"))
    i_d, st_d = extract(rows_where(pc.starts_with(msg, "DHCP")), _DHCP_MAC)
    i_m, st_m = extract(args_rows, _MAC)
    t["mac"] = _dict(
        pc.coalesce(
            scatter(i_m, pc.utf8_lower(st_m.field("mac"))), scatter(i_d, pc.utf8_lower(st_d.field("mac")))
        )
    )
    ip = scatter(i_d, st_d.field("ip"))
    i, st = extract(rows_where(pc.match_substring_regex(msg, _IP_CONTEXT)), _IP)
    t["ip"] = _dict(
        pc.coalesce(pc.if_else(pc.equal(ip, ""), pa.scalar(None, ip.type), ip), scatter(i, st.field("ip")))
    )

    # QEMU sizing from `process arguments '…'`
    for col, pat, grp in (
        ("qemu_memory", _MEM, "mem"),
        ("qemu_smp", _SMP, "smp"),
        ("qemu_loadvm", _LOADVM, "loadvm"),
    ):
        i, st = extract(args_rows, pat)
        full = scatter(i, st.field(grp))
        t[col] = pc.cast(full, pa.int64()) if col == "qemu_smp" else _dict(full)
    return pa.table({c: t[c] for c in LOG_EVENTS})


def to_frame(tables: list[pa.Table], cov: Coverage) -> pd.DataFrame:
    """One ``daemon_log`` frame (schema dtypes) from the tables of all batches, converted once."""
    table = pa.concat_tables(tables) if len(tables) > 1 else tables[0]
    cols: dict[str, pd.Series] = {}
    for name, col in LOG_EVENTS.items():
        arr = table.column(name)
        if col.dtype == "int":
            cols[name] = _int_series(arr)
        elif col.dtype == "category":
            s = arr.to_pandas() if len(arr) else pd.Series([], dtype="category")
            cols[name] = s.astype(LEVEL_DTYPE if name == "level" else "category")
        elif col.dtype == "str":
            cols[name] = arr.to_pandas().astype("str") if len(arr) else pd.Series([], dtype="str")
        elif col.dtype == "datetime":
            cols[name] = (
                arr.to_pandas().astype("datetime64[ns]")
                if len(arr)
                else pd.Series([], dtype="datetime64[ns]")
            )
        else:
            cols[name] = (
                arr.to_pandas().astype("datetime64[ns, UTC]")
                if len(arr)
                else pd.Series([], dtype="datetime64[ns, UTC]")
            )
    frame = pd.DataFrame(cols)
    frame.attrs["coverage"] = cov.as_dict()
    return frame


def build_frame(records: Mapping[str, Any], cov: Coverage) -> pd.DataFrame:
    """The ``daemon_log`` frame of one batch of records."""
    return to_frame([build_table(records)], cov)
