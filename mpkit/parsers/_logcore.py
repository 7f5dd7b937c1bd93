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


#: one pass finds every message any derived column could come from
_CANDIDATES = (
    r"\] started: |\"event\"|\"seconds\"|^Starting Multipass |mac=|DHCP|connecting to |Found ip match|IPv4|"
    r"ssh connection failed|ping|^process arguments"
)


def _str_series(arr: pa.Array) -> pd.Series:
    """An Arrow string array as a pandas ``str`` Series (empty strings become NA)."""
    arr = pc.if_else(pc.equal(arr, ""), pa.scalar(None, arr.type), arr) if len(arr) else arr
    return arr.to_pandas().astype("str") if len(arr) else pd.Series([], dtype="str")


def _int_series(arr: pa.Array) -> pd.Series:
    """An Arrow integer array (nulls allowed) as a pandas ``Int64`` Series, without Python objects."""
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


def _extract(msg: pa.Array, pattern: str, prefilter: str | None) -> tuple[np.ndarray, pa.StructArray]:
    """Indices (into ``msg``) of rows matching ``pattern``, and the struct of their groups."""
    if prefilter is not None:
        mask = pc.fill_null(pc.match_substring(msg, prefilter), False)
        idx = np.flatnonzero(mask.to_numpy(zero_copy_only=False))
        sub = msg.take(pa.array(idx)) if len(idx) else pa.array([], type=msg.type)
    else:
        idx = np.arange(len(msg))
        sub = msg
    st = pc.extract_regex(sub if len(sub) else pa.array([], type=pa.string()), pattern)
    valid = st.is_valid().to_numpy(zero_copy_only=False)
    return idx[valid], st.filter(pa.array(valid))


def _column(records: Mapping[str, Any], key: str, n: int) -> Any:
    v = records.get(key)
    return [None] * n if v is None else v


def build_frame(records: Mapping[str, Any], cov: Coverage) -> pd.DataFrame:
    """Assemble the ``daemon_log`` frame from record columns.

    ``records`` holds equal-length columns: ``line``, ``time`` (datetime64 values
    or NaT), ``utc_offset``, ``level``, ``category``, ``program``, ``pid``,
    ``message`` (a pyarrow string array or a list of str) and ``n_lines``; the
    message-derived columns are computed here, in Arrow.
    """
    msg = records["message"]
    if not isinstance(msg, pa.Array | pa.ChunkedArray):
        msg = pa.array(list(msg), type=pa.large_string())
    if isinstance(msg, pa.ChunkedArray):
        msg = msg.combine_chunks()
    n = len(msg)
    cols: dict[str, pd.Series] = {}
    cols["line"] = _int_series(pa.array(np.asarray(records["line"], dtype="int64")))
    cols["time"] = (
        pd.Series(np.asarray(records["time"], dtype="datetime64[ns]"))
        if n
        else pd.Series([], dtype="datetime64[ns]")
    )
    cols["utc_offset"] = _int_series(pa.array(list(_column(records, "utc_offset", n)), type=pa.int64()))
    cols["level"] = pd.Series(pd.Categorical(_column(records, "level", n), dtype=LEVEL_DTYPE))
    for key in ("category", "program"):
        v = _column(records, key, n)
        arr = v if isinstance(v, pa.Array | pa.ChunkedArray) else pa.array(list(v), type=pa.large_string())
        cols[key] = _str_series(arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr)
    cols["pid"] = _int_series(pa.array(list(_column(records, "pid", n)), type=pa.int64()))
    cols["message"] = _str_series(msg)
    cols["n_lines"] = _int_series(pa.array(np.asarray(records["n_lines"], dtype="int64")))

    # every derived column comes from a small subset of the messages: find it in one pass
    cand = (
        np.flatnonzero(
            pc.fill_null(pc.match_substring_regex(msg, _CANDIDATES), False).to_numpy(zero_copy_only=False)
        )
        if n
        else np.array([], dtype=int)
    )
    sub = msg.take(pa.array(cand)) if len(cand) else pa.array([], type=pa.large_string())

    def scatter(i: np.ndarray, values: pa.Array) -> pa.Array:
        return _scatter(n, cand[i], values)

    i, st = _extract(sub, _STARTED, "] started: ")
    cols["subprocess"] = _str_series(scatter(i, st.field("subprocess")))
    cols["subprocess_pid"] = _int_series(scatter(i, pc.cast(st.field("subprocess_pid"), pa.int64())))
    cols["argv"] = _str_series(scatter(i, st.field("argv")))

    i, st = _extract(sub, _QMP_EVENT, '"event"')
    cols["qmp_event"] = _str_series(scatter(i, st.field("qmp_event")))
    i, st = _extract(sub, _QMP_TIME, '"seconds"')
    us = pc.add(
        pc.multiply(pc.cast(st.field("s"), pa.int64()), 1_000_000), pc.cast(st.field("us"), pa.int64())
    )
    qt = pc.cast(scatter(i, us), pa.timestamp("us", tz="UTC"))
    cols["qmp_time"] = (
        qt.to_pandas().astype("datetime64[ns, UTC]") if n else pd.Series([], dtype="datetime64[ns, UTC]")
    )

    i, st = _extract(sub, _VERSION, "Starting Multipass ")
    cols["daemon_version"] = _str_series(scatter(i, st.field("daemon_version")))

    # MAC: the QEMU mac= argument wins over the MAC of a dnsmasq DHCP line; IP: DHCP lines, then ssh/ping errors
    i_d, st_d = _extract(sub, _DHCP_MAC, "DHCP")
    i_m, st_m = _extract(sub, _MAC, "mac=")
    mac = pc.coalesce(
        scatter(i_m, pc.utf8_lower(st_m.field("mac"))), scatter(i_d, pc.utf8_lower(st_d.field("mac")))
    )
    cols["mac"] = _str_series(mac)
    ip = scatter(i_d, st_d.field("ip"))
    ip = pc.if_else(pc.equal(ip, ""), pa.scalar(None, ip.type), ip)
    for pre in ("connecting to ", "Found ip match", "IPv4", "ssh connection failed", "ping"):
        i, st = _extract(sub, _IP, pre)
        ip = pc.coalesce(ip, scatter(i, st.field("ip")))
    cols["ip"] = _str_series(ip)

    # QEMU sizing from `process arguments '…'`
    i, st = _extract(sub, r"^process arguments '(?P<args>.*)", "process arguments")
    args = st.field("args")
    for col, pat, grp in (
        ("qemu_memory", _MEM, "mem"),
        ("qemu_smp", _SMP, "smp"),
        ("qemu_loadvm", _LOADVM, "loadvm"),
    ):
        m = pc.extract_regex(args, pat) if len(args) else pc.extract_regex(pa.array([], pa.string()), pat)
        vals = pc.if_else(m.is_valid(), m.field(grp), pa.scalar(None, m.field(grp).type))
        full = scatter(i, vals)
        cols[col] = _int_series(pc.cast(full, pa.int64())) if col == "qemu_smp" else _str_series(full)

    frame = pd.DataFrame({c: cols[c] for c in LOG_EVENTS})
    frame.attrs["coverage"] = cov.as_dict()
    return frame
