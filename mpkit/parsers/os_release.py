"""Linux distribution: ``/etc/os-release`` (``KEY=value``, values optionally quoted).

::

    NAME="Ubuntu"
    VERSION_ID="24.04"
    ID=ubuntu

gives rows ``key=NAME value=Ubuntu``, ``key=VERSION_ID value=24.04``,
``key=ID value=ubuntu`` (quotes and backslash escapes removed).  Comments are
skipped.  Hand-made bundles store this text in ``sw_vers.txt`` on Linux:
sniffing, not the name, tells it from macOS ``sw_vers``.
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from .. import frames
from ..schema import Coverage, conform
from ._base import BLANK, fraction_matching, numbered

KIND = "os_release"
FRAME = "host_facts"
FILENAMES = ("os-release",)
PLATFORMS = ("linux",)
SCHEMA = frames.HOST_FACTS

LINE_RE = re.compile(r"^\s*(?P<key>[A-Z][A-Z0-9_]*)=(?P<value>.*?)\s*$")
_WELL_KNOWN = re.compile(r"^\s*(?:NAME|ID|VERSION_ID|PRETTY_NAME|ID_LIKE|VERSION_CODENAME)=", re.M)


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        inner = value[1:-1]
        return re.sub(r"\\(.)", r"\1", inner) if value[0] == '"' else inner
    return value


def sniff(text: str) -> float:
    if len(_WELL_KNOWN.findall(text[:200_000])) < 2:
        return 0.0
    return fraction_matching(text, re.compile(LINE_RE.pattern + r"|^\s*#"))


def parse(text: str) -> pd.DataFrame:
    cov = Coverage()
    rows: list[dict[str, Any]] = []
    for no, ln in numbered(text, cov):
        if BLANK.match(ln) or ln.lstrip().startswith("#"):
            cov.skip()
        elif m := LINE_RE.match(ln):
            rows.append({"line": no, "key": m["key"], "value": _unquote(m["value"])})
            cov.ok()
        else:
            cov.reject(no, ln)
    return conform(rows, SCHEMA, cov)
