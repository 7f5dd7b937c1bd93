"""Identify an artifact by its content (when its file name is not canonical)."""

from __future__ import annotations

from .parsers import kinds, module

#: a text must score at least this to be recognised as a kind
THRESHOLD = 0.5


def scores(text: str) -> dict[str, float]:
    """Every kind's sniff score for ``text`` (0..1)."""
    return {k: float(module(k).sniff(text)) for k in kinds()}


def identify(text: str) -> tuple[str | None, float]:
    """The best-scoring kind and its score; ``(None, score)`` below :data:`THRESHOLD`.

    Ties go to the kind listed first in the registry.
    """
    best_kind, best = None, 0.0
    for kind, score in scores(text).items():
        if score > best:
            best_kind, best = kind, score
    if best < THRESHOLD:
        return None, best
    return best_kind, best
