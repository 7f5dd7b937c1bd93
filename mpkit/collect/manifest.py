"""``manifest.json``: what was collected, how, and how it went.

The manifest is rewritten after every source (temp file + ``os.replace``), so a
collection interrupted at any point leaves a valid, if partial, manifest.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

FORMAT = "mpkit-bundle/1"
NAME = "manifest.json"


def utc_now() -> dt.datetime:
    """The current time in UTC (the one clock read by collection)."""
    return dt.datetime.now(dt.UTC)


def iso(ts: dt.datetime) -> str:
    """UTC ISO-8601 with milliseconds and a ``Z``."""
    return ts.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def mpkit_version() -> str:
    """The version of the mpkit that writes the manifest (``mpkit.__version__``, the one source)."""
    from .. import __version__

    return __version__


class Manifest:
    """An incrementally written ``manifest.json`` (thread-safe).

    ``transform`` (e.g. redaction) is applied to the document each time it is
    written, never to the in-memory copy.
    """

    def __init__(
        self,
        folder: Path,
        *,
        host: dict[str, Any],
        started: dt.datetime,
        mode: str = "collect",
        transform: Callable[[Any], Any] | None = None,
    ) -> None:
        self.path = Path(folder) / NAME
        self._lock = threading.RLock()
        self._transform = transform
        self.doc: dict[str, Any] = {
            "format": FORMAT,
            "created_at": iso(started),
            "finished_at": None,
            "mode": mode,
            "host": host,
            "mpkit_version": mpkit_version(),
            "redacted": False,
            "complete": False,
            "interrupted": False,
            "artifacts": [],
        }
        self.save()

    def set(self, key: str, value: Any) -> None:
        """Set a top-level ``key`` of the manifest and save it."""
        with self._lock:
            self.doc[key] = value
            self.save()

    def add(self, entry: dict[str, Any]) -> None:
        """Record one source tried, and rewrite the file."""
        with self._lock:
            self.doc["artifacts"].append(entry)
            self.save()

    def finish(self, *, interrupted: bool = False) -> None:
        """Stamp the end time (and whether the person interrupted) and save."""
        with self._lock:
            self.doc["finished_at"] = iso(utc_now())
            self.doc["interrupted"] = interrupted
            self.doc["complete"] = not interrupted
            self.save()

    def save(self) -> None:
        """Write the manifest to ``manifest.json`` now (collection saves after every source)."""
        with self._lock:
            doc = copy.deepcopy(self.doc)
            if self._transform is not None:
                doc = self._transform(doc)
            write_json_atomic(self.path, doc)


def write_json_atomic(path: Path, doc: Any) -> None:
    """Write ``doc`` as JSON to ``path`` so that readers only ever see a whole file."""
    tmp = path.with_name(f".{path.name}.tmp")
    data = json.dumps(doc, indent=2, ensure_ascii=False, default=str) + "\n"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def load(folder: str | Path) -> dict[str, Any]:
    """Read a bundle's manifest (raises ``FileNotFoundError`` / ``ValueError``)."""
    with open(Path(folder) / NAME, encoding="utf-8") as fh:
        doc = json.load(fh)
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ValueError(f"{folder}: not an {FORMAT} manifest")
    return doc
