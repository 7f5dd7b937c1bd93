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

import pandas as pd

from .. import frames
from ._base import facts_frame, fraction_matching

KIND = "os_release"
FRAME = "host_facts"
FILENAMES = ("os-release",)
PLATFORMS = ("linux",)
SCHEMA = frames.HOST_FACTS

LINE_RE = re.compile(r"^\s*(?P<key>[A-Z][A-Z0-9_]*)=(?P<value>.*?)\s*$")
_COMMENT = re.compile(r"^\s*#")
_WELL_KNOWN = re.compile(r"^\s*(?:NAME|ID|VERSION_ID|PRETTY_NAME|ID_LIKE|VERSION_CODENAME)=", re.M)


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        inner = value[1:-1]
        return re.sub(r"\\(.)", r"\1", inner) if value[0] == '"' else inner
    return value


def sniff(text: str) -> float:
    """How sure it is, from 0 to 1, that ``text`` is Linux distribution: ``/etc/os-release`` (``KEY=value``, values optionally quoted)."""
    if len(_WELL_KNOWN.findall(text[:200_000])) < 2:
        return 0.0
    return fraction_matching(text, re.compile(LINE_RE.pattern + r"|^\s*#"))


def parse(text: str) -> pd.DataFrame:
    """Linux distribution: ``/etc/os-release`` (``KEY=value``, values optionally quoted) as the ``host_facts`` frame; every line is counted as parsed, ignored or rejected."""

    def facts(ln: str) -> list[tuple[str, str]] | None:
        m = LINE_RE.match(ln)
        return [(m["key"], _unquote(m["value"]))] if m else None

    return facts_frame(text, SCHEMA, facts, skip=_COMMENT)
