"""Windows version: ``cmd /c ver`` (also localised: ``[Versión 10.0.19045.3803]``).

::

    Microsoft Windows [Version 10.0.22631.4460]

gives rows ``key=product value=Microsoft Windows``, ``key=version
value=10.0.22631.4460`` and ``key=build value=22631`` (the third component:
22000+ is Windows 11).  The ``(c) Microsoft Corporation…`` banner line is skipped.
"""

from __future__ import annotations

import re

import pandas as pd

from .. import frames
from ._base import facts_frame, fraction_matching

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
    """How sure it is, from 0 to 1, that ``text`` is Windows version: ``cmd /c ver`` (also localised: ``[Versión 10.0.19045.3803]``)."""
    return fraction_matching(text, LINE_RE)


def parse(text: str) -> pd.DataFrame:
    """Windows version: ``cmd /c ver`` (also localised: ``[Versión 10.0.19045.3803]``) as the ``host_facts`` frame; every line is counted as parsed, ignored or rejected."""

    def facts(ln: str) -> list[tuple[str, str]] | None:
        m = LINE_RE.match(ln)
        if not m:
            return None
        return [("product", m["product"]), ("version", m["version"]), ("build", m["version"].split(".")[2])]

    return facts_frame(text, SCHEMA, facts, skip=_COPYRIGHT)
