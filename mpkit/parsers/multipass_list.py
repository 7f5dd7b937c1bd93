"""``multipass list --format json`` → the ``instances`` frame (source ``list``).

Input::

    {"list": [{"ipv4": ["N/A"], "name": "primary", "release": "Ubuntu 24.04 LTS",
               "state": "Running"},
              {"ipv4": [], "name": "dev", "release": "Not Available", "state": "Unknown"}]}

Rows (name, state, ipv4, ipv4_all, release)::

    primary  Running  NA  N/A  Ubuntu 24.04 LTS
    dev      Unknown  NA  NA   Not Available

``ipv4`` is the first entry that is an IPv4 address; ``ipv4_all`` keeps every entry as printed
(so ``N/A``, "running without a usable IP", stays visible). ``line`` is the line of the
``{`` that opens the record. Broken JSON gives an empty frame and one reject.

The small JSON helpers here (:func:`load_json`, :func:`line_of`, :func:`ipv4_fields`) are
shared by the other Multipass JSON parsers.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pandas as pd

from .. import frames
from ..schema import Coverage, conform
from ._json import ipv4_fields, key_line, load_json, opening_brace_line, text_or_none, wrong_shape

KIND = "multipass_list"
FRAME = "instances"
FILENAMES = ("multipass-list.json",)
PLATFORMS = ("macos", "linux", "windows")
SCHEMA = frames.INSTANCES
LINE_RE = None

_SNIFF = re.compile(r'^\s*\{\s*"list"\s*:\s*\[')


def parse(text: str) -> pd.DataFrame:
    """``multipass list --format json`` as the ``instances`` frame; every line is counted as parsed, ignored or rejected."""
    cov = Coverage()
    doc = load_json(text, cov)
    rows: list[dict[str, Any]] = []
    items = doc.get("list") if isinstance(doc, dict) else None
    if doc is not None and not isinstance(items, list):
        wrong_shape(cov, 'no "list" array in the document')
        return conform([], SCHEMA, cov)
    pos = 0
    for item in items or []:
        if not isinstance(item, dict):
            cov.unparse(1, str(item)[:300])
            continue
        name = text_or_none(item.get("name"))
        line, pos = key_line(text, "name", name, pos) if name else (None, pos)
        if line is not None:
            line = opening_brace_line(text, text.rfind('"name"', 0, pos))
        rows.append(
            {
                "line": line,
                "name": name,
                "state": text_or_none(item.get("state")),
                **ipv4_fields(item.get("ipv4")),
                "release": text_or_none(item.get("release")),
                "source": "list",
            }
        )
    return conform(rows, SCHEMA, cov)


def sniff(text: str) -> float:
    """How sure it is, from 0 to 1, that ``text`` is ``multipass list --format json``."""
    head = text[:200_000]
    if not _SNIFF.match(head):
        return 0.0
    try:
        doc = json.loads(head)
    except (ValueError, RecursionError):
        return 0.8 if '"state"' in head or '"ipv4"' in head else 0.6
    return 0.99 if isinstance(doc, dict) and isinstance(doc.get("list"), list) else 0.5
