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


def _empty_str(n: int) -> pd.Series:
    return pd.Series(np.full(n, np.nan, dtype=object), dtype="str")


def _scatter_str(n: int, idx: np.ndarray, values: pa.Array) -> pd.Series:
    out = np.full(n, None, dtype=object)
    if len(idx):
        vals = values.to_numpy(zero_copy_only=False)
        out[idx] = vals
    s = pd.Series(out, dtype="str")
    return s.replace("", np.nan) if len(idx) else s


def _extract(msg: pa.Array, pattern: str, prefilter: str | None) -> tuple[np.ndarray, pa.StructArray]:
    """Indices of rows matching ``pattern`` and the struct of their groups."""
    if prefilter is not None:
        mask = pc.fill_null(pc.match_substring(msg, prefilter), False)
        idx = np.flatnonzero(mask.to_numpy(zero_copy_only=False))
        sub = msg.take(pa.array(idx)) if len(idx) else pa.array([], type=msg.type)
    else:
        idx = np.arange(len(msg))
        sub = msg
    if len(sub) == 0:
        return idx, pc.extract_regex(pa.array([], type=pa.string()), pattern)
    st = pc.extract_regex(sub, pattern)
    valid = st.is_valid().to_numpy(zero_copy_only=False)
    return idx[valid], st.filter(pa.array(valid))


def build_frame(
    records: Mapping[str, Any],
    cov: Coverage,
) -> pd.DataFrame:
    """Assemble the ``daemon_log`` frame from record columns.

    ``records`` holds equal-length columns: ``line`` (ints), ``time`` (datetime64
    values or NaT), ``utc_offset`` (Int64 or None), ``level``, ``category``,
    ``program`` (strings or None), ``pid`` (Int64 or None), ``message`` (a
    pyarrow string array or a list of str) and ``n_lines``.
    """
    msg = records["message"]
    if not isinstance(msg, pa.Array | pa.ChunkedArray):
        msg = pa.array(list(msg), type=pa.large_string())
    if isinstance(msg, pa.ChunkedArray):
        msg = msg.combine_chunks()
    n = len(msg)
    cols: dict[str, pd.Series] = {}
    cols["line"] = pd.Series(pd.array(records["line"], dtype="Int64"))
    cols["time"] = (
        pd.Series(records["time"]).astype("datetime64[ns]") if n else pd.Series([], dtype="datetime64[ns]")
    )
    cols["utc_offset"] = pd.Series(pd.array(records.get("utc_offset", [None] * n), dtype="Int64"))
    level = records.get("level")
    cols["level"] = pd.Series(pd.Categorical(level if level is not None else [None] * n, dtype=LEVEL_DTYPE))
    for key in ("category", "program"):
        v = records.get(key)
        if v is None:
            cols[key] = _empty_str(n)
        elif isinstance(v, pa.Array | pa.ChunkedArray):
            cols[key] = v.to_pandas().astype("str")
        else:
            cols[key] = pd.Series(v, dtype="str")
    cols["pid"] = pd.Series(pd.array(records.get("pid", [None] * n), dtype="Int64"))
    cols["message"] = msg.to_pandas().astype("str") if n else pd.Series([], dtype="str")
    cols["n_lines"] = pd.Series(pd.array(records["n_lines"], dtype="Int64"))

    # subprocess starts
    idx, st = _extract(msg, _STARTED, "] started: ")
    cols["subprocess"] = _scatter_str(n, idx, st.field("subprocess"))
    pid = np.full(n, None, dtype=object)
    if len(idx):
        pid[idx] = pc.cast(st.field("subprocess_pid"), pa.int64()).to_numpy(zero_copy_only=False)
    cols["subprocess_pid"] = pd.Series(pd.array(pid, dtype="Int64"))
    cols["argv"] = _scatter_str(n, idx, st.field("argv"))

    # QMP events and their own (UTC epoch) timestamps
    idx, st = _extract(msg, _QMP_EVENT, '"event"')
    cols["qmp_event"] = _scatter_str(n, idx, st.field("qmp_event"))
    qt = np.full(n, np.datetime64("NaT"), dtype="datetime64[us]")
    idx2, st2 = _extract(msg, _QMP_TIME, '"seconds"')
    if len(idx2):
        sec = pc.cast(st2.field("s"), pa.int64()).to_numpy(zero_copy_only=False)
        us = pc.cast(st2.field("us"), pa.int64()).to_numpy(zero_copy_only=False)
        qt[idx2] = (sec * 1_000_000 + us).astype("datetime64[us]")
    cols["qmp_time"] = pd.Series(qt).astype("datetime64[ns]").dt.tz_localize("UTC")

    idx, st = _extract(msg, _VERSION, "Starting Multipass ")
    cols["daemon_version"] = _scatter_str(n, idx, st.field("daemon_version"))

    # MAC: QEMU mac= argument, else the MAC of a dnsmasq DHCP line
    mac = np.full(n, None, dtype=object)
    ip = np.full(n, None, dtype=object)
    idx, st = _extract(msg, _DHCP_MAC, "DHCP")
    if len(idx):
        mac[idx] = pc.utf8_lower(st.field("mac")).to_numpy(zero_copy_only=False)
        ips = st.field("ip").to_numpy(zero_copy_only=False)
        ip[idx] = [v or None for v in ips]
    idx, st = _extract(msg, _MAC, "mac=")
    if len(idx):
        mac[idx] = pc.utf8_lower(st.field("mac")).to_numpy(zero_copy_only=False)
    cols["mac"] = pd.Series(mac, dtype="str")
    # IP: DHCP lines above, ssh errors / `IP` mentions of the VM
    for pre in ("connecting to ", "Found ip match", "IPv4", "ssh connection failed", "ping"):
        idx, st = _extract(msg, _IP, pre)
        if len(idx):
            vals = st.field("ip").to_numpy(zero_copy_only=False)
            cur = ip[idx]
            ip[idx] = np.where(pd.isna(cur), vals, cur)
    cols["ip"] = pd.Series(ip, dtype="str")

    # QEMU sizing from `process arguments '…'`
    mem = np.full(n, None, dtype=object)
    smp = np.full(n, None, dtype=object)
    loadvm = np.full(n, None, dtype=object)
    idx, st = _extract(msg, r"^process arguments '(?P<args>.*)", "process arguments")
    if len(idx):
        args = st.field("args")
        for arr, pat, grp in ((mem, _MEM, "mem"), (smp, _SMP, "smp"), (loadvm, _LOADVM, "loadvm")):
            m = pc.extract_regex(args, pat)
            ok = m.is_valid().to_numpy(zero_copy_only=False)
            if ok.any():
                arr[idx[ok]] = m.field(grp).filter(pa.array(ok)).to_numpy(zero_copy_only=False)
    cols["qemu_memory"] = pd.Series(mem, dtype="str")
    cols["qemu_smp"] = pd.Series(pd.array([None if v is None else int(v) for v in smp], dtype="Int64"))
    cols["qemu_loadvm"] = pd.Series(loadvm, dtype="str")

    frame = pd.DataFrame({c: cols[c] for c in LOG_EVENTS})
    frame.attrs["coverage"] = cov.as_dict()
    return frame
