"""``mpkit doctor``: a guided, live troubleshooting session on the broken host.

Public API:

* :func:`doctor` — ``mpkit doctor [INSTANCE] [--yes] [--no-start] [-o DIR]``;
  returns a :class:`DoctorResult` (outcome, exit status, bundle, transcript,
  report);
* :func:`load_transcript` / :func:`write_report` — read a bundle's
  ``doctor/transcript.jsonl``, write its offline HTML report;
* :func:`targets_from_file` — where Multipass lives, from a JSON file
  (``mpkit doctor --targets FILE``);
* the exit statuses :data:`EXIT_FIXED` (0: healthy or fixed),
  :data:`EXIT_NOT_FIXED` (1) and :data:`EXIT_STOPPED` (3: ``q`` or Ctrl-C).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..collect.catalog import Targets
from ..errors import CollectError
from .html import write_report
from .session import EXIT_FIXED, EXIT_NOT_FIXED, EXIT_STATUS, EXIT_STOPPED, DoctorResult, doctor
from .transcript import REPORT, TRANSCRIPT, load_transcript

__all__ = [
    "EXIT_FIXED",
    "EXIT_NOT_FIXED",
    "EXIT_STATUS",
    "EXIT_STOPPED",
    "REPORT",
    "TRANSCRIPT",
    "DoctorResult",
    "doctor",
    "load_transcript",
    "targets_from_file",
    "write_report",
]

_TUPLES = ("multipass", "journal_command", "daemon_restart")


def targets_from_file(path: str | Path) -> Targets:
    """:class:`~mpkit.collect.Targets` from a JSON object (``bridge``, ``lease_file``, ``multipass``, …).

    Lists become argv tuples; an unknown key is an error, so a typo does not
    silently point the session at Multipass's default locations.
    """
    try:
        doc: Any = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CollectError(f"cannot read the targets file {path}: {exc}") from exc
    if not isinstance(doc, dict):
        raise CollectError(f"{path}: the targets file must hold one JSON object")
    known = set(Targets.__dataclass_fields__)
    unknown = sorted(set(doc) - known)
    if unknown:
        raise CollectError(f"{path}: unknown targets {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    values: dict[str, Any] = {}
    for k, v in doc.items():
        if k in _TUPLES:
            if not (isinstance(v, list) and v and all(isinstance(x, str) for x in v)):
                raise CollectError(f"{path}: {k} must be a non-empty list of strings (a command), not {v!r}")
            values[k] = tuple(v)
        elif not isinstance(v, str):
            raise CollectError(f"{path}: {k} must be a string, not {v!r}")
        else:
            values[k] = v
    return Targets(**values)
