"""The ``multipass list`` table → the ``instances`` frame (source ``list``).

Input (an instance with two addresses: the extra one sits on a continuation line)::

    Name                    State             IPv4             Image
    primary                 Running           192.168.64.5     Ubuntu 24.04 LTS
                                              10.0.3.1
    dev                     Unknown           --               Ubuntu 22.04 LTS

Rows (line, name, state, ipv4, ipv4_all, release)::

    2  primary  Running  192.168.64.5  192.168.64.5,10.0.3.1  Ubuntu 24.04 LTS
    4  dev      Unknown  NA            NA                     Ubuntu 22.04 LTS

Rows are recognised by their shape (name, a state word, an address / ``--`` / ``N/A``), so
partial pastes without the header work. Old releases print ``Release`` and upper-case states
(``RUNNING``); 1.17-dev adds a ``Zone`` column (``zone1(a)``), dropped here.
``No instances found.`` gives no row.
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from .. import frames
from ..schema import Coverage, conform
from ._base import BLANK, fraction_matching, numbered

KIND = "multipass_list_text"
FRAME = "instances"
FILENAMES = ("multipass-list.txt",)
PLATFORMS = ("macos", "linux", "windows")
SCHEMA = frames.INSTANCES

_STATES = (
    r"Running|Stopped|Starting|Restarting|Delayed Shutdown|Suspending|Suspended|Unknown|Deleted|Unavailable"
)
_IP = r"\d{1,3}(?:\.\d{1,3}){3}"
HEADER = re.compile(r"^Name\s+State\s+IPv4\s+(?:Image|Release)(?:\s+Zone)?$")
ROW = re.compile(
    rf"^(?P<name>[A-Za-z][A-Za-z0-9-]*)\s+(?P<state>(?i:{_STATES}))\s+(?P<ip>{_IP}|--|N/A|UNKNOWN)"
    r"(?:\s+(?P<image>\S.*?))?$"
)
CONTINUATION = re.compile(rf"^\s+(?P<extra>{_IP}|N/A)$")
NONE_FOUND = re.compile(r"^No instances found\.?$")
_ZONE = re.compile(r"\s+\S+\((?:a|u/a)\)$")
_BODY = re.compile(rf"{ROW.pattern}|{CONTINUATION.pattern}")
LINE_RE = re.compile(rf"{HEADER.pattern}|{_BODY.pattern}|{NONE_FOUND.pattern}")


def parse(text: str) -> pd.DataFrame:
    """The ``multipass list`` table as the ``instances`` frame; every line is counted as parsed, ignored or rejected."""
    cov = Coverage()
    rows: list[dict[str, Any]] = []
    ips: list[str] = []  # the addresses of the last row, as printed
    for lineno, line in numbered(text, cov):
        if BLANK.match(line) or HEADER.match(line.strip()) or NONE_FOUND.match(line.strip()):
            cov.skip()
            continue
        m = ROW.match(line.strip())
        if m:
            image = _ZONE.sub("", m.group("image") or "") or None
            ips = [m.group("ip")] if m.group("ip") != "--" else []
            rows.append({"line": lineno, "name": m.group("name"), "state": m.group("state"),
                         "release": image, "source": "list"})  # fmt: skip
        elif rows and (c := CONTINUATION.match(line)):
            ips.append(c.group("extra"))
        else:
            cov.reject(lineno, line)
            continue
        rows[-1]["ipv4"] = next((ip for ip in ips if re.fullmatch(_IP, ip)), None)
        rows[-1]["ipv4_all"] = ",".join(ips) or None
        cov.ok()
    return conform(rows, SCHEMA, cov)


def sniff(text: str) -> float:
    """How sure it is, from 0 to 1, that ``text`` is the ``multipass list`` table."""
    head = text[:100_000]
    if re.search(HEADER.pattern, head, re.M):
        return 0.95
    if NONE_FOUND.match(head.strip()):
        return 0.9
    share = fraction_matching(head, _BODY)
    return 0.85 * share if share >= 0.5 else 0.0
