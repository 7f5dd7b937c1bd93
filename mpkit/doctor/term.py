"""The doctor's terminal: lines wrapped to 80 columns, checklist rows, prompts, a progress line.

Everything the session shows goes through :class:`Terminal`, so a test can
hand it a ``StringIO`` pair: answers are read one line at a time from
``inp``; when ``inp`` is not a terminal the answer is echoed after the
question, so a transcript of the output reads like the session did.
"""

from __future__ import annotations

import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TextIO

from ..i18n import _

WIDTH = 80

#: the checklist marks of ``mpkit diagnose``
MARK = {
    "fail": "FAIL",
    "warn": "WARN",
    "pass": "ok",
    "not-collected": "n/c",
    "could-not-parse": "PARSE",
    "not-applicable": "-",
}

YES, NO, QUIT, EOF = "yes", "no", "quit", "eof"


def _isatty(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


@dataclass
class Terminal:
    """Output wrapped to ``width`` columns and answers read from ``inp``."""

    out: TextIO = field(default_factory=lambda: sys.stdout)
    inp: TextIO = field(default_factory=lambda: sys.stdin)
    width: int = WIDTH

    def __post_init__(self) -> None:
        self.live = _isatty(self.out)
        self.echo = not _isatty(self.inp)

    def write(self, text: str) -> None:
        """``text`` as it is, flushed at once (a prompt must show before the answer is read)."""
        self.out.write(text)
        self.out.flush()

    def line(self, text: str = "", indent: int = 0, hang: int | None = None) -> None:
        """``text`` wrapped to the width; continuation lines indented by ``hang`` (default: ``indent``)."""
        if not text:
            self.write("\n")
            return
        first = " " * indent
        rest = " " * (indent if hang is None else hang)
        for para in text.split("\n"):
            lines = textwrap.wrap(
                para,
                self.width,
                initial_indent=first,
                subsequent_indent=rest,
                break_on_hyphens=False,
                break_long_words=True,
            ) or [""]
            self.write("\n".join(lines) + "\n")

    def rule(self, title: str) -> None:
        """A blank line, then a heading."""
        self.write("\n")
        self.line(title, 0, 2)

    def check(self, state: str, check_id: str, summary: str, indent: int = 2) -> None:
        """One checklist row: ``[ FAIL] check.id  summary`` (wrapped under the summary)."""
        head = f"{' ' * indent}[{MARK.get(state, state):>5}] {check_id:<26} "
        if len(head) > self.width // 2:
            head = f"{' ' * indent}[{MARK.get(state, state):>5}] {check_id} "
        self.line(head + summary, 0, min(len(head), self.width // 2))

    def pair(self, left: str, right: str, indent: int = 2) -> None:
        """``left`` then ``right`` flush with the right margin (on a line of its own when too long)."""
        pad = self.width - indent - len(left) - len(right)
        if pad >= 2:
            self.write(f"{' ' * indent}{left}{' ' * pad}{right}\n")
        else:
            self.line(left, indent, indent + 2)
            self.line(right.rjust(self.width - indent), indent)

    def ask(self, question: str, *, auto: str | None = None) -> str:
        """Ask a yes/no/quit question; ``auto`` answers it without reading (``--yes``).

        Returns :data:`YES`, :data:`NO`, :data:`QUIT` or :data:`EOF` (no more input:
        taken as no). Anything else is asked again, at most three times.
        """
        prompt = f"  {question} [y/n/q] "
        if auto is not None:
            self.write(prompt + ("y" if auto == YES else "n") + "  (--yes)\n")
            return auto
        for _try in range(3):
            self.write(prompt)
            raw = self.inp.readline()
            if raw == "":
                self.write(_("(no answer: end of input, taken as no)") + "\n")
                return EOF
            word = raw.strip().lower()
            if self.echo:
                self.write(word + "\n")
            if word in ("y", "yes"):
                return YES
            if word in ("n", "no", ""):
                return NO
            if word in ("q", "quit", "stop"):
                return QUIT
            self.line(_("Please answer y (yes), n (no) or q (stop here)."), 2)
        return NO

    @contextmanager
    def progress(self, label: str) -> Iterator[list[str]]:
        """A progress line while a step runs: ``… label  12s`` (updated on a terminal).

        The caller appends the result text to the yielded list; it ends the line.
        """
        result: list[str] = []
        t0 = time.monotonic()
        text = f"  … {label}"
        if self.live and len(text) > self.width - 16:  # one line that is rewritten in place
            text = text[: self.width - 17] + "…"
        stop = threading.Event()
        ticker: threading.Thread | None = None
        if self.live:

            def tick() -> None:
                while not stop.wait(0.5):
                    self.write(f"\r{text}  {time.monotonic() - t0:4.0f}s")

            self.write(text)
            ticker = threading.Thread(target=tick, name="mpkit-doctor-progress", daemon=True)
            ticker.start()
        else:
            self.line(text.strip(), 2, 6)
        try:
            yield result
        finally:
            stop.set()
            if ticker is not None:
                ticker.join(timeout=2)
            took = time.monotonic() - t0
            end = (", ".join(result) if result else _("stopped")) + f", {took:.1f} s"
            if self.live:
                self.write("\r" + " " * (self.width - 1) + "\r")
                self.pair(text.strip(), end, 2)
            else:
                self.line(f"→ {end}", 4)
