"""The session transcript: ``doctor/transcript.jsonl`` inside the bundle.

One JSON object per line, appended and flushed to disk as the session goes,
so a session stopped at any point (Ctrl-C included) leaves a readable file.
Every record has ``seq`` (1, 2, …), ``at`` (UTC ISO-8601) and ``event``:

* ``session``: instance, platform, whether it ran as root, the options;
* ``step``: one step (``phase``: first-look, learn, fix, verify), its
  ``title``, the ``commands`` it ran (each with ``command``, ``exit_code``,
  ``state``, ``duration_s``), what the person ``answer``-ed, ``ran``,
  ``result`` and ``duration_s``;
* ``verdict``: a diagnosis along the way (cause, confidence, failed stage,
  one line of evidence, the checks that changed since the previous one);
* ``ladder``: the remediation steps in the order they are offered;
* ``end``: ``outcome`` (healthy, fixed, not-fixed, stopped, interrupted) and
  ``exit_status``.

The file lives in ``doctor/``, which bundle loaders keep out of the evidence.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

from ..collect.manifest import iso, utc_now

#: where the transcript sits inside the bundle
TRANSCRIPT = "doctor/transcript.jsonl"
#: where the session's HTML report sits inside the bundle
REPORT = "doctor/report.html"


class Transcript:
    """An append-only JSONL file, each record on disk before :meth:`write` returns."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._seq = 0
        self.records: list[dict[str, Any]] = []

    def write(self, event: str, **fields: Any) -> dict[str, Any]:
        """Append one record and return it."""
        with self._lock:
            self._seq += 1
            rec = {"seq": self._seq, "at": iso(utc_now()), "event": event, **fields}
            line = json.dumps(rec, ensure_ascii=False, default=str) + "\n"
            with open(self.path, "a", encoding="utf-8") as fh:
                fh.write(line)
                fh.flush()
                os.fsync(fh.fileno())
            self.records.append(json.loads(line))
            return rec


def load_transcript(bundle: str | Path) -> list[dict[str, Any]]:
    """The records of a bundle's doctor transcript (a half-written last line is left out)."""
    path = Path(bundle) / TRANSCRIPT
    out: list[dict[str, Any]] = []
    for raw in path.read_text(encoding="utf-8", errors="replace").splitlines():
        if not raw.strip():
            continue
        try:
            rec = json.loads(raw)
        except ValueError:
            continue
        if isinstance(rec, dict):
            out.append(rec)
    return out
