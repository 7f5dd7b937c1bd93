"""Linux journal JSON: ``journalctl -u snap.multipass.multipassd -o json`` (one object a line).

``__REALTIME_TIMESTAMP`` (µs since the epoch, UTC) gives ``time`` in UTC with
``utc_offset=0``; ``PRIORITY`` gives the level (3 error, 4 warning, 5/6 info,
7 debug); ``CATEGORY`` is Multipass's category; ``SYSLOG_IDENTIFIER`` the
program.  ``MESSAGE`` given as an array of byte values is decoded; ``-o
json-seq`` record separators are tolerated.

Example::

    {"__REALTIME_TIMESTAMP":"1749558603771204","PRIORITY":"7","SYSLOG_IDENTIFIER":"multipassd","CATEGORY":"primary","MESSAGE":"Waiting for SSH to be up","_PID":"2231"}

gives one row: ``time=2025-06-10 12:30:03.771204``, ``utc_offset=0``,
``level=debug``, ``category=primary``.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pandas as pd

from ..frames import LOG_EVENTS
from ..schema import Coverage
from ._base import BLANK, numbered
from ._logcore import build_frame

KIND = "journal_json"
FRAME = "daemon_log"
FILENAMES = ("journal.json",)
PLATFORMS = ("linux",)
SCHEMA = LOG_EVENTS
LINE_RE = re.compile(r'^\x1e?\{.*"__REALTIME_TIMESTAMP"')
_PRIO = {
    "0": "error",
    "1": "error",
    "2": "error",
    "3": "error",
    "4": "warning",
    "5": "info",
    "6": "info",
    "7": "debug",
}


def sniff(text: str) -> float:
    """How sure it is, from 0 to 1, that ``text`` is Linux journal JSON: ``journalctl -u snap.multipass.multipassd -o json`` (one object a line)."""
    head = text.lstrip("\x1e \n")[:5000]
    if not head.startswith("{"):
        return 0.0
    return 0.95 if '"__REALTIME_TIMESTAMP"' in head and '"MESSAGE"' in head else 0.0


def _text(v: Any) -> str | None:
    if v is None:
        return None
    if isinstance(v, list):
        if v and all(isinstance(x, int) for x in v):
            return bytes(x & 0xFF for x in v).decode("utf-8", errors="replace")
        return "\n".join(t for t in (_text(x) for x in v) if t is not None)
    return str(v)


def parse(text: str) -> pd.DataFrame:
    """Linux journal JSON: ``journalctl -u snap.multipass.multipassd -o json`` (one object a line) as the ``daemon_log`` frame; every line is counted as parsed, ignored or rejected."""
    cov = Coverage()
    rec: dict[str, list] = {
        k: []
        for k in ("line", "time", "utc_offset", "level", "category", "program", "pid", "message", "n_lines")
    }
    for no, ln in numbered(text, cov):
        ln = ln.strip("\x1e ")
        if BLANK.match(ln):
            cov.skip()
            continue
        try:
            obj = json.loads(ln)
            if not isinstance(obj, dict):
                raise ValueError("not an object")
            ts = pd.Timestamp(int(str(obj["__REALTIME_TIMESTAMP"])), unit="us")
        except (ValueError, KeyError, TypeError, OverflowError):
            cov.reject(no, ln)
            continue
        cov.ok()
        pid = _text(obj.get("_PID") or obj.get("SYSLOG_PID"))
        rec["line"].append(no)
        rec["time"].append(ts)
        rec["utc_offset"].append(0)
        rec["level"].append(_PRIO.get(str(obj.get("PRIORITY", "")), None))
        rec["category"].append(_text(obj.get("CATEGORY")))
        rec["program"].append(_text(obj.get("SYSLOG_IDENTIFIER")) or _text(obj.get("_COMM")))
        rec["pid"].append(int(pid) if pid and pid.isdigit() else None)
        rec["message"].append(_text(obj.get("MESSAGE")) or "")
        rec["n_lines"].append(1)
    rec["time"] = list(pd.to_datetime(pd.Series(rec["time"], dtype="object")))
    return build_frame(rec, cov)
