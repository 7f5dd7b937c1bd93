"""Linux kernel messages: ``journalctl -k`` (short, short-iso, short-precise) and ``dmesg`` (plain or ``-T``).

One row per message, with AppArmor denials, KVM and bridge lines flagged::

    2025-06-10T14:29:57+0200 myhost kernel: audit: type=1400 audit(1749558597.123:88): apparmor="DENIED" operation="open" profile="snap.multipass.multipassd" name="/etc/ssl/openssl.cnf" pid=2231 comm="multipassd"
    [  812.331201] mpqemubr0: port 1(tap-1c2d3e4f5a6b) entered forwarding state

gives ``time=2025-06-10 14:29:57 utc_offset=120 program=kernel apparmor=True
profile=snap.multipass.multipassd operation=open name=/etc/ssl/openssl.cnf``
and ``uptime_s=812.331201 bridge=True interface=mpqemubr0``.  The
``journalctl`` short format prints no year, so ``time`` is NaT there and the
stamp is kept in ``time_text``.  ``-- Logs begin at …`` / ``-- Boot … --``
markers are skipped.  Lines from other programs (a ``journalctl -k`` mixed
with other units) are kept with their ``program``.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import pandas as pd

from ..schema import Column, Coverage, conform
from ._base import BLANK, lines, numbered

KIND = "kernel_log"
FRAME = "kernel_log"
FILENAMES = ("kernel.log",)
PLATFORMS = ("linux",)

SCHEMA = {
    "line": Column("int", "1-based line"),
    "time": Column("datetime", "wall-clock time as printed (NaT when the format has no year)"),
    "utc_offset": Column("int", "minutes east of UTC printed with the time (short-iso), NA otherwise"),
    "time_text": Column("str", "the time stamp as printed (journalctl / dmesg -T)"),
    "uptime_s": Column("float", "dmesg: seconds since boot in [brackets]"),
    "host": Column("str", "journalctl: host name"),
    "program": Column("str", "journalctl: identifier (kernel, …); dmesg: kernel"),
    "message": Column("str", "the message"),
    "apparmor": Column("bool", 'an AppArmor denial (apparmor="DENIED")'),
    "profile": Column("str", 'AppArmor profile="…"'),
    "operation": Column("str", 'AppArmor operation="…"'),
    "name": Column("str", 'AppArmor name="…" (the object denied)'),
    "kvm": Column("bool", "the message mentions kvm"),
    "bridge": Column("bool", "the message is about a bridge or tap (mpqemubr*, virbr*, tap-*, `bridge`)"),
    "interface": Column("str", "the mpqemubr*/tap-*/virbr* interface named, NA otherwise"),
}

_MONTHS = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
_JOURNAL = re.compile(
    r"^(?P<ts>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?P<off>Z|[+-]\d\d:?\d\d)?|"
    + _MONTHS
    + r"\s+\d{1,2} \d\d:\d\d:\d\d(?:\.\d+)?)"
    r"\s+(?P<host>\S+)\s+(?P<prog>[^\s:\[]+)(?:\[\d+\])?:\s?(?P<msg>.*)$"
)
_DMESG = re.compile(r"^\[\s*(?P<up>\d+\.\d+)\]\s?(?P<msg>.*)$")
_DMESG_T = re.compile(r"^\[(?P<ts>\w{3} " + _MONTHS + r"\s+\d{1,2} \d\d:\d\d:\d\d \d{4})\]\s?(?P<msg>.*)$")
_SKIP = re.compile(r"^-- (?:Logs begin|Journal begins|No entries|Boot |Reboot)|^-- .* --$")
_KV = {k: re.compile(rf'\b{k}="([^"]*)"') for k in ("profile", "operation", "name")}
_IFACE = re.compile(r"\b(mpqemubr\w*|virbr\d+|tap-\w+|tap\d+|br-\w+|bridge\d+)\b")
_BRIDGE = re.compile(r"mpqemubr|virbr|\btap-|\bbridge\b|\bbr-\w+", re.I)

LINE_RE = re.compile(
    r"^\[\s*\d+\.\d+\]|^\[\w{3} \w{3}\s+\d+ [\d:]+ \d{4}\]|^\S+\s+(?:\d+ [\d:.]+\s+)?\S+ kernel: "
)
_KERNEL_LINE = re.compile(r"^(?:\[\s*\d+\.\d+\]|\[\w{3} \w{3}\s+\d+ [\d:]+ \d{4}\]|\S.*?\s\S+ kernel: )")


def _time(ts: str, off: str | None) -> tuple[datetime | None, int | None]:
    if not ts[:1].isdigit():
        return None, None
    body = ts[: len(ts) - len(off)] if off else ts
    try:
        t = datetime.fromisoformat(body)
    except ValueError:
        return None, None
    if not off:
        return t, None
    if off == "Z":
        return t, 0
    sign = -1 if off[0] == "-" else 1
    digits = off[1:].replace(":", "")
    return t, sign * (int(digits[:2]) * 60 + int(digits[2:]))


def sniff(text: str) -> float:
    """How sure it is, from 0 to 1, that ``text`` is Linux kernel messages: ``journalctl -k`` (short, short-iso, short-precise) and ``dmesg`` (plain or ``-T``)."""
    seen = kern = 0
    for ln in lines(text[:200_000])[:200]:
        if BLANK.match(ln) or _SKIP.match(ln):
            continue
        seen += 1
        kern += bool(_KERNEL_LINE.match(ln))
    if not seen:
        return 0.0
    share = kern / seen  # a daemon journal (multipassd lines) has few kernel lines: it scores low
    return share if share >= 0.5 else share / 2


def parse(text: str) -> pd.DataFrame:
    """Linux kernel messages: ``journalctl -k`` (short, short-iso, short-precise) and ``dmesg`` (plain or ``-T``) as the ``kernel_log`` frame; every line is counted as parsed, ignored or rejected."""
    cov = Coverage()
    rows: list[dict[str, Any]] = []
    for no, ln in numbered(text, cov):
        if BLANK.match(ln) or _SKIP.match(ln):
            cov.skip()
            continue
        row: dict[str, Any] = {"line": no}
        if m := _DMESG.match(ln):
            row.update(uptime_s=float(m["up"]), program="kernel", message=m["msg"])
        elif m := _DMESG_T.match(ln):
            try:
                row["time"] = datetime.strptime(m["ts"], "%a %b %d %H:%M:%S %Y")
            except ValueError:
                row["time"] = None
            row.update(time_text=m["ts"], program="kernel", message=m["msg"])
        elif m := _JOURNAL.match(ln):
            row["time"], row["utc_offset"] = _time(m["ts"], m["off"])
            row.update(time_text=m["ts"], host=m["host"], program=m["prog"], message=m["msg"])
        else:
            cov.reject(no, ln)
            continue
        msg = row["message"]
        row["apparmor"] = 'apparmor="DENIED"' in msg
        for key, rx in _KV.items():
            if row["apparmor"] and (v := rx.search(msg)):
                row[key] = v[1]
        row["kvm"] = bool(re.search(r"\bkvm", msg, re.I))
        row["bridge"] = bool(_BRIDGE.search(msg))
        if i := _IFACE.search(msg):
            row["interface"] = i[1]
        rows.append(row)
        cov.ok()
    return conform(rows, SCHEMA, cov)
