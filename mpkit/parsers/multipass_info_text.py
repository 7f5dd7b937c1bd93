"""``multipass info`` text → the ``instances`` frame (source ``info``).

Input::

    Name:           primary
    State:          Running
    IPv4:           192.168.64.5
                    10.0.3.1
    Release:        Ubuntu 24.04.1 LTS
    Image hash:     b63f266fa4bd (Ubuntu 24.04 LTS)
    CPU(s):         2

Rows (line, name, state, ipv4, ipv4_all, release, image_hash, cpus)::

    1  primary  Running  192.168.64.5  192.168.64.5,10.0.3.1  Ubuntu 24.04.1 LTS  b63f266fa4bd  2

Instances are separated by blank lines (a new ``Name:`` also starts one); a block without
``Name:`` (a partial paste of ``State:`` / ``IPv4:``) gives name NA. Extra addresses are on
indented continuation lines; the ``Mounts:`` continuation lines (``UID map: …``) are read and
ignored. ``release`` falls back to the image release in ``Image hash: … (Ubuntu 24.04 LTS)``
when the guest one is ``--``. ``--`` is NA everywhere.
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from .. import frames
from ..schema import Coverage, conform
from ._base import BLANK, fraction_matching, numbered

KIND = "multipass_info_text"
FRAME = "instances"
FILENAMES = ("multipass-info.txt",)
PLATFORMS = ("macos", "linux", "windows")
SCHEMA = frames.INSTANCES

_KEYS = (
    "Name|State|Zone|Snapshots|IPv4|IPv6|Release|Image hash|CPU\\(s\\)|Load|Disk usage|Memory usage|Mounts"
    "|Snapshot|Instance|Size|Disk space|Memory size|Created|Parent|Children|Comment"
)
LINE_RE = re.compile(rf"^(?P<key>{_KEYS}):(?: +(?P<value>.*))?$")
CONTINUATION = re.compile(r"^\s+\S")
_IPV4 = re.compile(r"^\d{1,3}(?:\.\d{1,3}){3}$")
_IMAGE = re.compile(r"^(?P<hash>[0-9a-f]+)(?: \((?P<release>[^)]*)\))?$")


def _value(raw: str | None) -> str | None:
    value = (raw or "").strip()
    return None if value in ("", "--") else value


def _finish(rec: dict[str, Any], ips: list[str]) -> dict[str, Any]:
    rec["ipv4"] = next((ip for ip in ips if _IPV4.match(ip)), None)
    rec["ipv4_all"] = ",".join(ips) or None
    return rec


def parse(text: str) -> pd.DataFrame:
    """``multipass info`` text as the ``instances`` frame; every line is counted as parsed, ignored or rejected."""
    cov = Coverage()
    rows: list[dict[str, Any]] = []
    rec: dict[str, Any] | None = None
    ips: list[str] = []
    last_key = ""
    for lineno, line in numbered(text, cov):
        if BLANK.match(line):
            cov.skip()
            if rec is not None:
                rows.append(_finish(rec, ips))
            rec, ips, last_key = None, [], ""
            continue
        m = LINE_RE.match(line.strip())
        if m is None and rec is not None and CONTINUATION.match(line):
            if last_key == "IPv4":
                ips.append(line.strip())
            cov.ok()
            continue
        if m is None:
            cov.reject(lineno, line)
            continue
        key, value = m.group("key"), _value(m.group("value"))
        if rec is not None and key == "Name":
            rows.append(_finish(rec, ips))
            rec, ips = None, []
        if rec is None:
            rec = {"line": lineno, "name": None, "source": "info"}
        last_key = key
        cov.ok()
        if key == "Name":
            rec["name"] = value
        elif key == "State":
            rec["state"] = value
        elif key == "IPv4":
            ips = [value] if value else []
        elif key == "Release":
            rec["release"] = value or rec.get("release")
        elif key == "Image hash" and value and (img := _IMAGE.match(value)):
            rec["image_hash"] = img.group("hash")
            if not rec.get("release") and img.group("release"):
                rec["release"] = img.group("release")
        elif key == "CPU(s)" and value and value.isdigit():
            rec["cpus"] = int(value)
    if rec is not None:
        rows.append(_finish(rec, ips))
    return conform(rows, SCHEMA, cov)


def sniff(text: str) -> float:
    """How sure it is, from 0 to 1, that ``text`` is ``multipass info`` text."""
    head = text[:100_000]
    if not re.search(r"^(?:Name|State|IPv4):", head, re.M):
        return 0.0
    share = fraction_matching(head, re.compile(rf"{LINE_RE.pattern}|{CONTINUATION.pattern}"))
    strong = re.search(r"^(?:Image hash|Disk usage|Memory usage|CPU\(s\)):", head, re.M)
    return (0.95 if strong else 0.85) * share if share >= 0.6 else 0.0
