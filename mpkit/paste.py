"""Cut a pasted text (a support ticket, an issue body) into recognised artifacts.

Each registered kind offers ``LINE_RE``, a regex matching its own lines.  The
splitter labels every line with the kinds that claim it, grows runs of lines of
one kind (blank lines and Markdown fences end nothing by themselves; a log
record may continue on lines no kind claims, right after it), and drops the
prose between runs.  JSON documents (``{``/``[`` at the start of a line) are
cut out whole with a JSON decoder and sniffed.  Each run is confirmed by its
kind's ``sniff``; what is left is prose and is ignored.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from .parsers import kinds, module
from .parsers._base import lines as split_lines

FENCE = re.compile(r"^\s*(```|~~~)")
#: kinds whose records may continue on unclaimed lines (QEMU stderr, QMP payloads)
CONTINUING = {"daemon_log", "journal_text", "windows_events", "client", "kernel_log", "unified_log"}
MIN_SNIFF = 0.3


@dataclass(frozen=True)
class Part:
    """One artifact found in a pasted text: its kind and the lines it spans."""

    kind: str
    first_line: int  # 1-based, inclusive
    last_line: int
    text: str
    score: float


def _claims(line: str, patterns: list[tuple[str, re.Pattern[str]]]) -> list[str]:
    return [k for k, rx in patterns if rx.search(line)]


def _json_parts(all_lines: list[str]) -> tuple[list[Part], set[int]]:
    parts: list[Part] = []
    used: set[int] = set()
    dec = json.JSONDecoder()
    i = 0
    while i < len(all_lines):
        s = all_lines[i].lstrip()
        if s.startswith(("{", "[")) and not s.startswith("[20"):
            rest = "\n".join(all_lines[i:])
            try:
                _, end = dec.raw_decode(rest.lstrip())
            except ValueError:
                i += 1
                continue
            chunk = rest.lstrip()[:end]
            n = chunk.count("\n") + 1
            best, score = None, 0.0
            for k in kinds():
                if module(k).LINE_RE is None:
                    sc = float(module(k).sniff(chunk))
                    if sc > score:
                        best, score = k, sc
            if best is not None and score >= 0.5:
                parts.append(Part(best, i + 1, i + n, chunk, score))
                used.update(range(i, i + n))
                i += n
                continue
        i += 1
    return parts, used


def split(text: str) -> list[Part]:
    """The recognised parts of ``text``, in order of appearance."""
    all_lines = split_lines(text)
    patterns = [(k, module(k).LINE_RE) for k in kinds() if module(k).LINE_RE is not None]
    parts, used = _json_parts(all_lines)
    claims = [[] if i in used else _claims(ln, patterns) for i, ln in enumerate(all_lines)]

    i, n = 0, len(all_lines)
    while i < n:
        if not claims[i]:
            i += 1
            continue
        # the kind that claims the longest run starting here
        best_kind, best_end = None, i
        for k in claims[i]:
            j, last = i, i
            while j < n and j not in used:
                ln = all_lines[j]
                if k in claims[j]:
                    last = j
                elif not ln.strip() or FENCE.match(ln):
                    pass
                elif k in CONTINUING and not claims[j] and last == j - 1:
                    last = j
                else:
                    break
                j += 1
            if last > best_end or best_kind is None:
                best_kind, best_end = k, last
        assert best_kind is not None
        chunk = "\n".join(ln for ln in all_lines[i : best_end + 1] if not FENCE.match(ln)) + "\n"
        score = float(module(best_kind).sniff(chunk))
        if score >= MIN_SNIFF:
            parts.append(Part(best_kind, i + 1, best_end + 1, chunk, score))
        i = best_end + 1
    parts.sort(key=lambda p: p.first_line)
    return parts
