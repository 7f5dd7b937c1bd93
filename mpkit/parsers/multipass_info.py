"""``multipass info --format json`` → the ``instances`` frame (source ``info``).

Input (abridged)::

    {"errors": [],
     "info": {"primary": {"cpu_count": "2", "image_hash": "b63f…", "image_release": "24.04 LTS",
                          "ipv4": ["192.168.64.5"], "memory": {"total": 4108210176, "used": 1},
                          "release": "Ubuntu 24.04.1 LTS", "state": "Running"}}}

Rows (line, name, state, ipv4, release, image_hash, cpus, memory_total)::

    3  primary  Running  192.168.64.5  Ubuntu 24.04.1 LTS  b63f…  2  4108210176

``release`` is the in-guest release, or the image release (``Ubuntu 24.04 LTS``, as the text
form prints it) when the instance is not running (the guest one is then ``""``). ``cpu_count`` is a string in the JSON; ``cpus`` is
NA when it is empty. ``line`` is the line of the instance's key. Broken JSON gives an empty
frame and one reject.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pandas as pd

from .. import frames
from ..schema import Coverage, conform
from ._json import ipv4_fields, line_of, load_json, text_or_none, wrong_shape

KIND = "multipass_info"
FRAME = "instances"
FILENAMES = ("multipass-info.json",)
PLATFORMS = ("macos", "linux", "windows")
SCHEMA = frames.INSTANCES
LINE_RE = None

_SNIFF = re.compile(r'^\s*\{\s*"(?:errors|info)"\s*:')


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def _image_release(value: Any) -> str | None:
    """The image release as `info` text prints it (``Ubuntu 24.04 LTS``)."""
    release = text_or_none(value)
    return f"Ubuntu {release}" if release and not release.startswith("Ubuntu") else release


def parse(text: str) -> pd.DataFrame:
    """``multipass info --format json`` as the ``instances`` frame; every line is counted as parsed, ignored or rejected."""
    cov = Coverage()
    doc = load_json(text, cov)
    info = doc.get("info") if isinstance(doc, dict) else None
    if doc is not None and not isinstance(info, dict):
        wrong_shape(cov, 'no "info" object in the document')
        return conform([], SCHEMA, cov)
    rows: list[dict[str, Any]] = []
    pos = 0
    for name, item in (info or {}).items():
        line, pos = line_of(text, rf'"{re.escape(json.dumps(name)[1:-1])}"\s*:\s*\{{', pos)
        if not isinstance(item, dict):
            cov.unparse(line or 1, f"{name}: {str(item)[:200]}")
            continue
        memory = item.get("memory")
        rows.append(
            {
                "line": line,
                "name": name or None,
                "state": text_or_none(item.get("state")),
                **ipv4_fields(item.get("ipv4")),
                "release": text_or_none(item.get("release")) or _image_release(item.get("image_release")),
                "image_hash": text_or_none(item.get("image_hash")),
                "cpus": _int(item.get("cpu_count")),
                "memory_total": _int(memory.get("total")) if isinstance(memory, dict) else None,
                "source": "info",
            }
        )
    return conform(rows, SCHEMA, cov)


def sniff(text: str) -> float:
    """How sure it is, from 0 to 1, that ``text`` is ``multipass info --format json``."""
    head = text[:200_000]
    if not _SNIFF.match(head):
        return 0.0
    try:
        doc = json.loads(head)
    except (ValueError, RecursionError):
        return 0.8 if re.search(r'"(?:image_hash|cpu_count|image_release)"', head) else 0.5
    return 0.99 if isinstance(doc, dict) and isinstance(doc.get("info"), dict) else 0.3
