"""macOS version: ``sw_vers`` (``Key:`` then TABs or spaces, old and new releases).

::

    ProductName:		macOS
    ProductVersion:		15.5
    BuildVersion:		24F74

gives rows ``key=ProductName value=macOS``, ``key=ProductVersion value=15.5``,
``key=BuildVersion value=24F74``.  Only ``Product*``, ``Build*`` and
``ReleaseType`` keys are read; other lines are rejected.  Linux ``os-release``
text (which a hand-made ``sw_vers.txt`` may hold) scores 0 here and is the
``os_release`` kind's.
"""

from __future__ import annotations

import re

import pandas as pd

from .. import frames
from ._base import facts_frame, fraction_matching

KIND = "sw_vers"
FRAME = "host_facts"
FILENAMES = ("sw_vers.txt",)
PLATFORMS = ("macos",)
SCHEMA = frames.HOST_FACTS

LINE_RE = re.compile(r"^\s*(?P<key>Product\w*|Build\w*|ReleaseType):[ \t]*(?P<value>.*?)\s*$")


def sniff(text: str) -> float:
    """How sure it is, from 0 to 1, that ``text`` is macOS version: ``sw_vers`` (``Key:`` then TABs or spaces, old and new releases)."""
    if not re.search(r"^\s*Product(?:Name|Version):", text[:200_000], re.M):
        return 0.0
    return fraction_matching(text, LINE_RE)


def parse(text: str) -> pd.DataFrame:
    """macOS version: ``sw_vers`` (``Key:`` then TABs or spaces, old and new releases) as the ``host_facts`` frame; every line is counted as parsed, ignored or rejected."""

    def facts(ln: str) -> list[tuple[str, str]] | None:
        m = LINE_RE.match(ln)
        return [(m["key"], m["value"])] if m else None

    return facts_frame(text, SCHEMA, facts)
