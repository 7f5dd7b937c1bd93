"""Linux journal text: ``journalctl -u snap.multipass.multipassd -o short-iso`` (or short).

multipassd's journald lines carry only the message (level and category live in
other journal fields), but lines written to stderr keep ``[level] [category]``;
both are read.  dnsmasq and other programs log under their own identifiers and
are kept with ``program`` set.  Both offset spellings (``+0200`` and
``+02:00``) are read into ``utc_offset`` minutes.  The default ``short`` form
(``Mar 26 12:17:27``) has no year: the year is taken from the ``-- Logs begin
at …`` header when present, otherwise ``time`` is NaT.

Example::

    2025-06-10T14:30:03+0200 myhost dnsmasq-dhcp[2310]: DHCPACK(mpqemubr0) 10.1.2.7 52:54:00:3c:0a:f1 primary

gives ``time=2025-06-10 14:30:03``, ``utc_offset=120``, ``program="dnsmasq-dhcp"``,
``pid=2310``, ``mac="52:54:00:3c:0a:f1"``, ``ip="10.1.2.7"``.
"""

from __future__ import annotations

import re
from datetime import datetime

import pandas as pd

from ..frames import LOG_EVENTS
from ..schema import Coverage
from ._base import BLANK, fraction_matching, numbered
from ._logcore import build_frame

KIND = "journal_text"
FRAME = "daemon_log"
FILENAMES = ("journal.txt",)
PLATFORMS = ("linux",)
SCHEMA = LOG_EVENTS

_IDENT = r"(?P<ident>[A-Za-z0-9_.@/-]+?)(?:\[(?P<pid>\d+)\])?: "
ISO = re.compile(
    r"^(?P<ts>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?)(?P<off>Z|[+-]\d\d:?\d\d)? (?P<host>\S+) "
    + _IDENT
    + r"(?P<msg>.*)$"
)
SHORT = re.compile(
    r"^(?P<mon>Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) +(?P<day>\d{1,2}) (?P<hms>\d\d:\d\d:\d\d(?:\.\d+)?) "
    r"(?P<host>\S+) " + _IDENT + r"(?P<msg>.*)$"
)
PREFIX = re.compile(
    r"^\[(?P<level>error|warning|info|debug|trace)\] \[(?P<category>[^\]]*)\] ?(?P<msg>.*)$", re.S
)
BANNER = re.compile(r"^-- (?:Logs begin at|Journal begins at|Boot |No entries|Reboot)")
YEAR = re.compile(r"^-- (?:Logs begin at|Journal begins at) \w+ (?P<year>\d{4})-")
LINE_RE = re.compile(
    r"^(?:\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\S* |(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) +\d{1,2} \d\d:\d\d:\d\d\S* )"
    r"\S+ [A-Za-z0-9_.@/-]+(?:\[\d+\])?: |^-- (?:Logs begin at|Journal begins at|Boot |No entries|Reboot)"
)
_MULTIPASS = re.compile(
    r"^\S+ \S+ (?:\S+ )?(?:multipassd|multipass\.multipassd|dnsmasq(?:-dhcp)?)\[\d+\]: ", re.M
)
_MONTHS = {m: i for i, m in enumerate("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split(), start=1)}


def sniff(text: str) -> float:
    """How sure it is, from 0 to 1, that ``text`` is Linux journal text: ``journalctl -u snap.multipass.multipassd -o short-iso`` (or short)."""
    frac = fraction_matching(text, LINE_RE)
    if frac < 0.3:
        return 0.0
    return min(1.0, 0.5 + frac / 2 + (0.2 if _MULTIPASS.search(text[:200_000]) else -0.2))


def _offset(off: str | None) -> int | None:
    if not off:
        return None
    if off == "Z":
        return 0
    sign = -1 if off[0] == "-" else 1
    digits = off[1:].replace(":", "")
    return sign * (int(digits[:2]) * 60 + int(digits[2:4]))


def parse(text: str) -> pd.DataFrame:
    """Linux journal text: ``journalctl -u snap.multipass.multipassd -o short-iso`` (or short) as the ``daemon_log`` frame; every line is counted as parsed, ignored or rejected."""
    cov = Coverage()
    rec: dict[str, list] = {
        k: []
        for k in ("line", "time", "utc_offset", "level", "category", "program", "pid", "message", "n_lines")
    }
    year: int | None = None
    for no, ln in numbered(text, cov):
        if BLANK.match(ln):
            cov.skip()
            continue
        if BANNER.match(ln):
            y = YEAR.match(ln)
            if y:
                year = int(y["year"])
            cov.skip()
            continue
        m = ISO.match(ln)
        t: datetime | None = None
        off = None
        if m:
            try:
                t = datetime.fromisoformat(m["ts"])
            except ValueError:
                t = None
            off = _offset(m["off"])
        else:
            m = SHORT.match(ln)
            if m and year is not None:
                try:
                    t = datetime.strptime(
                        f"{year}-{_MONTHS[m['mon']]}-{m['day']} {m['hms']}",
                        "%Y-%m-%d %H:%M:%S" + (".%f" if "." in m["hms"] else ""),
                    )
                except ValueError:
                    t = None
        if m is None:
            if rec["line"] and ln[:1].isspace():  # an indented continuation of the previous record
                rec["message"][-1] += "\n" + ln.strip()
                rec["n_lines"][-1] += 1
                cov.ok()
            else:
                cov.reject(no, ln)
            continue
        cov.ok()
        msg = m["msg"]
        level = category = None
        p = PREFIX.match(msg)
        if p:
            level, category, msg = p["level"], p["category"], p["msg"]
        rec["line"].append(no)
        rec["time"].append(t)
        rec["utc_offset"].append(off)
        rec["level"].append(level)
        rec["category"].append(category)
        rec["program"].append(m["ident"])
        rec["pid"].append(int(m["pid"]) if m["pid"] else None)
        rec["message"].append(msg)
        rec["n_lines"].append(1)
    rec["time"] = list(pd.to_datetime(pd.Series(rec["time"], dtype="object")))
    return build_frame(rec, cov)
