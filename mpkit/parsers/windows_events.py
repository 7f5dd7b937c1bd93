"""Windows event log entries of source ``Multipass``.

Reads ``Get-WinEvent -ProviderName Multipass | Format-List TimeCreated,LevelDisplayName,Message``
(``Key : value`` blocks, long messages wrapped onto indented lines) and the
default table view (``TimeCreated  Id LevelDisplayName Message``).  The event
text is ``[<category>] <message>``; the level comes from the event type, so
debug and trace arrive as ``info``.

Example::

    TimeCreated      : 6/2/2025 10:12:30 AM
    LevelDisplayName : Information
    Message          : [daemon] Starting Multipass 1.16.0+win

gives one row: ``time=2025-06-02 10:12:30``, ``level=info``,
``category=daemon``, ``daemon_version="1.16.0+win"``.
"""

from __future__ import annotations

import re
from datetime import datetime

import pandas as pd

from ..frames import LOG_EVENTS
from ..schema import Coverage
from ._base import BLANK, numbered
from ._logcore import build_frame

KIND = "windows_events"
FRAME = "daemon_log"
FILENAMES = ("windows-events.txt",)
PLATFORMS = ("windows",)
SCHEMA = LOG_EVENTS

FIELD = re.compile(r"^(?P<key>[A-Za-z]+)\s*: ?(?P<value>.*)$")
_TIME = r"(?P<time>\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4} \d{1,2}:\d\d:\d\d(?: ?[AP]M)?)"
TABLE = re.compile(
    r"^" + _TIME + r"\s+(?P<id>\d+)\s+(?P<level>Information|Warning|Error|Critical|Verbose)\s+(?P<msg>.*)$"
)
LINE_RE = re.compile(r"^(?:TimeCreated|LevelDisplayName|Message|ProviderName|Id)\s*:|" + TABLE.pattern)
_LEVEL = {
    "information": "info",
    "warning": "warning",
    "error": "error",
    "critical": "error",
    "verbose": "debug",
}
_CAT = re.compile(r"^\[(?P<category>[^\]]*)\] ?(?P<msg>.*)$", re.S)
_FORMATS = (
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y %I:%M:%S%p",
    "%Y-%m-%d %H:%M:%S",
    "%d/%m/%Y %H:%M:%S",
    "%d.%m.%Y %H:%M:%S",
    "%m/%d/%Y %H:%M:%S",
)


def sniff(text: str) -> float:
    """How sure it is, from 0 to 1, that ``text`` is Windows event log entries of source ``Multipass``."""
    head = text[:20000]
    if re.search(r"^TimeCreated\s*: ", head, re.M) and re.search(r"^Message\s*: ", head, re.M):
        return 0.95
    if re.search(r"^TimeCreated\s+Id\s+LevelDisplayName\s+Message", head, re.M):
        return 0.95
    return 0.0


def _time(value: str) -> datetime | None:
    value = value.strip()
    for fmt in _FORMATS:
        try:
            return datetime.strptime(value, fmt)
        except ValueError:
            continue
    return None


def parse(text: str) -> pd.DataFrame:
    """Windows event log entries of source ``Multipass`` as the ``daemon_log`` frame; every line is counted as parsed, ignored or rejected."""
    cov = Coverage()
    rec: dict[str, list] = {
        k: []
        for k in ("line", "time", "utc_offset", "level", "category", "program", "pid", "message", "n_lines")
    }
    cur: dict[str, object] | None = None
    last_key = None

    def flush() -> None:
        nonlocal cur
        if cur and "message" in cur:
            msg = str(cur["message"])
            m = _CAT.match(msg)
            rec["line"].append(cur["line"])
            rec["time"].append(cur.get("time"))
            rec["utc_offset"].append(None)
            rec["level"].append(cur.get("level"))
            rec["category"].append(m["category"] if m else None)
            rec["program"].append("multipassd")
            rec["pid"].append(None)
            rec["message"].append(m["msg"] if m else msg)
            rec["n_lines"].append(cur["n_lines"])
        cur = None

    for no, ln in numbered(text, cov):
        if (
            BLANK.match(ln)
            or set(ln.strip()) <= {"-", " "}
            or re.match(r"^\s*(ProviderName: |TimeCreated\s+Id\s+Level)", ln)
        ):
            cov.skip()
            continue
        t = TABLE.match(ln)
        if t:
            flush()
            cur = {
                "line": no,
                "time": _time(t["time"]),
                "level": _LEVEL.get(t["level"].lower()),
                "message": t["msg"],
                "n_lines": 1,
            }
            cov.ok()
            continue
        f = FIELD.match(ln)
        if f and f["key"] in (
            "TimeCreated",
            "LevelDisplayName",
            "Message",
            "ProviderName",
            "Id",
            "Level",
            "RecordId",
            "MachineName",
        ):
            key = f["key"]
            if key == "TimeCreated" or (cur is not None and key in cur and key != "n_lines"):
                flush()
            if cur is None:
                cur = {"line": no, "n_lines": 0}
            cur["n_lines"] = int(cur["n_lines"]) + 1  # type: ignore[call-overload]
            if key == "TimeCreated":
                cur["time"] = _time(f["value"])
            elif key in ("LevelDisplayName", "Level"):
                cur["level"] = _LEVEL.get(f["value"].strip().lower())
            elif key == "Message":
                cur["message"] = f["value"]
            last_key = key
            cov.ok()
            continue
        if cur is not None and ln[:1].isspace():
            if last_key == "Message" and "message" in cur:
                cur["message"] = f"{cur['message']}\n{ln.strip()}"
            cur["n_lines"] = int(cur["n_lines"]) + 1  # type: ignore[call-overload]
            cov.ok()
            continue
        cov.reject(no, ln)
    flush()
    rec["time"] = list(pd.to_datetime(pd.Series(rec["time"], dtype="object")))
    return build_frame(rec, cov)
