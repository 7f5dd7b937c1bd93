"""``multipass version`` (text or ``--format json``) → the ``host_facts`` frame.

Input (text, with the update notice a newer release prints)::

    multipass   1.14.0+mac
    multipassd  1.14.0+mac

    ##################################################
    A new Multipass version 1.14.1 is available!
    Find out more: https://multipass.run/install
    ##################################################

Rows (line, key, value)::

    1  multipass     1.14.0+mac
    2  multipassd    1.14.0+mac
    5  update_title  A new Multipass version 1.14.1 is available!

The JSON form (``{"multipass": …, "multipassd": …, "update": {"title": …}}``) gives the same
keys. ``multipassd`` is absent when the daemon was unreachable.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pandas as pd

from .. import frames
from ..schema import Coverage, conform
from ._base import BLANK, fraction_matching, numbered
from ._json import key_line, load_json, text_or_none, wrong_shape

KIND = "multipass_version"
FRAME = "host_facts"
FILENAMES = ("multipass-version.txt",)
PLATFORMS = ("macos", "linux", "windows")
SCHEMA = frames.HOST_FACTS

LINE_RE = re.compile(r"^(?P<key>multipassd?) +(?P<value>\d+\.\d+[\w.+~-]*)$")
_BANNER = re.compile(r"^#{10,}$")
_JSON = re.compile(r'^\s*\{\s*"multipassd?"\s*:\s*"')


def _parse_json(text: str) -> pd.DataFrame:
    cov = Coverage()
    doc = load_json(text, cov)
    if doc is not None and not (isinstance(doc, dict) and text_or_none(doc.get("multipass"))):
        wrong_shape(cov, 'no "multipass" version in the document')
        return conform([], SCHEMA, cov)
    rows: list[dict[str, Any]] = []
    update = doc.get("update") if isinstance(doc, dict) else None
    facts = [(k, doc.get(k)) for k in ("multipass", "multipassd")] if isinstance(doc, dict) else []
    if isinstance(update, dict):
        facts.append(("update_title", update.get("title")))
    for key, raw in facts:
        value = text_or_none(raw)
        if value is not None:
            line, _ = key_line(text, "title" if key == "update_title" else key, value)
            rows.append({"line": line, "key": key, "value": value})
    return conform(rows, SCHEMA, cov)


def parse(text: str) -> pd.DataFrame:
    """``multipass version`` (text or ``--format json``) as the ``host_facts`` frame; every line is counted as parsed, ignored or rejected."""
    if _JSON.match(text[:1000]):
        return _parse_json(text)
    cov = Coverage()
    rows: list[dict[str, Any]] = []
    in_box = title_done = False
    for lineno, line in numbered(text, cov):
        stripped = line.strip()
        if BLANK.match(line):
            cov.skip()
        elif m := LINE_RE.match(stripped):
            rows.append({"line": lineno, "key": m.group("key"), "value": m.group("value")})
            cov.ok()
        elif _BANNER.match(stripped):
            in_box = not in_box
            cov.skip()
        elif in_box and not title_done:
            rows.append({"line": lineno, "key": "update_title", "value": stripped})
            title_done = True
            cov.ok()
        elif in_box:
            cov.skip()  # the rest of the update notice (description, URL)
        else:
            cov.reject(lineno, line)
    return conform(rows, SCHEMA, cov)


def sniff(text: str) -> float:
    """How sure it is, from 0 to 1, that ``text`` is ``multipass version`` (text or ``--format json``)."""
    head = text[:100_000]
    if _JSON.match(head):
        try:
            doc = json.loads(head)
        except (ValueError, RecursionError):
            return 0.6
        return 0.95 if isinstance(doc, dict) and set(doc) <= {"multipass", "multipassd", "update"} else 0.3
    if not re.search(LINE_RE.pattern, head, re.M):
        return 0.0
    share = fraction_matching(head, re.compile(rf"{LINE_RE.pattern}|{_BANNER.pattern}"))
    return 0.95 if share >= 0.5 else 0.6 * share + 0.2
