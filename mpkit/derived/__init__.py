"""What is derived from a bundle: start attempts, the timeline, the links and the entities.

A :class:`~mpkit.bundle.Bundle` holds what was read (artifacts, frames, host
facts, coverage); this layer sits above it and only reads it.  Each view is
built on first use and kept for as long as the bundle lives, so the diagnosis,
the report and the explorer share one copy::

    v = mpkit.derive(bundle)
    v.attempts, v.timeline, v.links, v.entities

The views depend on each other in one direction: attempts first, then links
(which need the attempts' instance names), then entities (links folded per
instance), and the timeline (which needs nothing derived).
"""

from __future__ import annotations

import weakref
from functools import cached_property
from typing import TYPE_CHECKING

import pandas as pd

from .attempts import SCHEMA as ATTEMPTS
from .attempts import build_attempts
from .timeline import ENTITIES, LINKS, TIMELINE, build_entities, build_links, build_timeline

if TYPE_CHECKING:
    from ..bundle import Bundle

__all__ = ["ATTEMPTS", "ENTITIES", "LINKS", "TIMELINE", "Derived", "adopt", "derive"]


class Derived:
    """The derived views of one bundle, each built once, on first use."""

    def __init__(self, bundle: Bundle) -> None:
        self.bundle = bundle

    @cached_property
    def attempts(self) -> pd.DataFrame:
        """Start attempts segmented from the daemon log, merged with probe timings (:data:`ATTEMPTS`)."""
        return build_attempts(self.bundle)

    @cached_property
    def timeline(self) -> pd.DataFrame:
        """Every timed event of the bundle on one clock (:data:`TIMELINE`)."""
        return build_timeline(self.bundle)

    @cached_property
    def links(self) -> pd.DataFrame:
        """Every instance ↔ MAC ↔ IP link with the artifact and line it came from (:data:`LINKS`)."""
        return build_links(self.bundle, self.attempts)

    @cached_property
    def entities(self) -> pd.DataFrame:
        """The links folded into one row per instance and MAC (:data:`ENTITIES`)."""
        return build_entities(self.bundle, self.links, self.attempts)


_CACHE: weakref.WeakKeyDictionary[Bundle, Derived] = weakref.WeakKeyDictionary()


def adopt(views: Derived) -> None:
    """Make ``views`` the derived views of their bundle (views made in another process and carried
    over with the bundle, e.g. by a report's parent process to its kernel)."""
    _CACHE[views.bundle] = views


def derive(bundle: Bundle) -> Derived:
    """The derived views of ``bundle``: the same object on every call while the bundle lives."""
    try:
        return _CACHE[bundle]
    except KeyError:
        views = _CACHE[bundle] = Derived(bundle)
        return views
