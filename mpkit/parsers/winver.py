"""Windows version: ``cmd /c ver`` (also localised: ``[Versión 10.0.19045.3803]``).

::

    Microsoft Windows [Version 10.0.22631.4460]

gives rows ``key=product value=Microsoft Windows``, ``key=version
value=10.0.22631.4460`` and ``key=build value=22631`` (the third component:
22000+ is Windows 11).  The ``(c) Microsoft Corporation…`` banner line is skipped.
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from .. import frames
from ..schema import Coverage, conform
from ._base import BLANK, fraction_matching, numbered

KIND = "winver"
FRAME = "host_facts"
FILENAMES = ("winver.txt",)
PLATFORMS = ("windows",)
SCHEMA = frames.HOST_FACTS

LINE_RE = re.compile(
    r"^\s*(?P<product>Microsoft Windows)\s*\[\w+\s+(?P<version>\d+\.\d+\.\d+(?:\.\d+)?)\]\s*$"
)

_COPYRIGHT = re.compile(r"^\s*\((?:c|C)\) (?:\d{4} )?Microsoft Corporation")


def sniff(text: str) -> float:
    return fraction_matching(text, LINE_RE)


def parse(text: str) -> pd.DataFrame:
    cov = Coverage()
    rows: list[dict[str, Any]] = []
    for no, ln in numbered(text, cov):
        if BLANK.match(ln) or _COPYRIGHT.match(ln):
            cov.skip()
        elif m := LINE_RE.match(ln):
            version = m["version"]
            rows.append({"line": no, "key": "product", "value": m["product"]})
            rows.append({"line": no, "key": "version", "value": version})
            rows.append({"line": no, "key": "build", "value": version.split(".")[2]})
            cov.ok()
        else:
            cov.reject(no, ln)
    return conform(rows, SCHEMA, cov)
