"""Collection: gather a diagnostic bundle from a host, time start attempts, redact.

Public API (the CLI maps each flag onto one keyword argument):

* :func:`collect` — ``mpkit collect [-o DIR] [--since 2h] [--tar] [--redact] [--watch S]``
* :func:`probe` — ``mpkit probe INSTANCE [--attempts N] [--interval 1] [--stop-first]``
* :func:`redact_bundle` / :class:`Redactor` — ``mpkit redact BUNDLE -o OUT``
* :class:`Runner` with :class:`LiveRunner` and :class:`ReplayRunner`
* :class:`Targets` (where the sources point: bridge, lease file, journal stand-in)
  and :class:`Source` / :data:`CATALOG` (the sources, as data)
"""

from __future__ import annotations

from .catalog import CATALOG, Source, Targets, sources_for
from .collector import collect, parse_since
from .probe import probe
from .redact import Redactor, redact_bundle
from .runner import LiveRunner, Recording, ReplayRunner, Runner, RunResult

__all__ = [
    "CATALOG",
    "LiveRunner",
    "Recording",
    "ReplayRunner",
    "RunResult",
    "Runner",
    "Redactor",
    "Source",
    "Targets",
    "collect",
    "parse_since",
    "probe",
    "redact_bundle",
    "sources_for",
]
