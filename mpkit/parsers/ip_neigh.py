"""Linux ``ip neigh show`` text and ``ip -j neigh`` JSON: one row per neighbour.

Input (text; iproute2 ≥ 5.16 leaves a trailing space)::

    10.115.28.7 dev mpqemubr0 lladdr 52:54:00:3c:0a:f1 REACHABLE
    10.115.28.15 dev mpqemubr0 FAILED
    fe80::1 dev enp3s0 lladdr a4:2b:b0:1d:2b:f4 router REACHABLE

Rows: ``line=1 ip=10.115.28.7 mac=52:54:00:3c:0a:f1 interface=mpqemubr0
state=REACHABLE permanent=False``, ``line=2 … mac=NA state=FAILED``, ``line=3 …
flags=router``.

JSON (``[{"dst": …, "dev": …, "lladdr": …, "state": ["STALE"], "router": null}]``)
gives the same rows; boolean flags are keys with ``null`` values.  Several
states are joined with ``,``; ``permanent`` is the ``PERMANENT`` state.  A JSON
paste cut short keeps the objects read before the cut.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pandas as pd

from .. import frames
from ..macaddr import canon_mac
from ..schema import Coverage, conform
from ._base import fraction_matching, numbered

KIND = "ip_neigh"
FRAME = "neighbours"
FILENAMES = ("ip-neigh.txt",)
PLATFORMS = ("linux",)
SCHEMA = frames.NEIGHBOURS

STATES = ("INCOMPLETE", "REACHABLE", "STALE", "DELAY", "PROBE", "FAILED", "NOARP", "PERMANENT", "NONE")
_ADDR = r"(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9a-fA-F]{0,4}:[0-9a-fA-F:.]*(?:%\S+)?)"
LINE_RE = re.compile(rf"^{_ADDR}(?: .*)? (?:{'|'.join(STATES)})(?: .*)?\s*$")
_VALUED = {"dev", "lladdr", "ref", "used", "probes", "proto", "nud"}


def sniff(text: str) -> float:
    head = text.lstrip()[:200_000]
    if head.startswith(("[", "{")):
        return 0.95 if '"dst"' in head and ('"state"' in head or '"lladdr"' in head) else 0.0
    return fraction_matching(text, LINE_RE)


def json_objects(text: str) -> tuple[list[tuple[int, int, Any]], int | None]:
    """The values of a JSON array (or one object) as ``(start, end, value)`` character spans.

    Reading stops at the first value that does not decode (a paste cut short);
    its character offset is returned as well (``None`` when all was read).
    """
    dec = json.JSONDecoder()
    out: list[tuple[int, int, Any]] = []
    i = len(text) - len(text.lstrip())
    if text.startswith("{", i):
        try:
            value, end = dec.raw_decode(text, i)
        except ValueError:
            return out, i
        return [(i, end, value)], None
    if not text.startswith("[", i):
        return out, i
    i += 1
    while True:
        while i < len(text) and text[i] in " \t\r\n,":
            i += 1
        if i >= len(text):
            return out, i  # no closing bracket: truncated
        if text[i] == "]":
            return out, None
        try:
            value, end = dec.raw_decode(text, i)
        except ValueError:
            return out, i
        out.append((i, end, value))
        i = end


def json_coverage(text: str, spans: list[tuple[int, int, bool]], stop: int | None, cov: Coverage) -> None:
    """Count the lines of a JSON text whose values were read by :func:`json_objects`.

    ``spans`` are ``(start, end, used)``: lines of a used value are parsed, lines of
    a value that gave no row are rejected, and so is every line from ``stop`` on
    (a cut or broken tail); brackets and blank lines are ignored.
    """

    def line_of(offset: int) -> int:
        return text.count("\n", 0, offset) + 1

    status: dict[int, bool] = {}
    for start, end, used in spans:
        for n in range(line_of(start), line_of(max(start, end - 1)) + 1):
            status[n] = status.get(n, True) and used
    first_bad = line_of(stop) if stop is not None else None
    for n, ln in numbered(text, cov):
        if status.get(n) is False or (first_bad is not None and n >= first_bad and ln.strip()):
            cov.reject(n, ln)  # a one-line array cut short is rejected too: the cut must show
        elif status.get(n) is True:
            cov.ok()
        else:
            cov.skip()


def _json_rows(text: str, cov: Coverage) -> list[dict[str, Any]]:
    text = text.replace("\r\n", "\n")
    values, stop = json_objects(text)
    rows, spans = [], []
    for start, end, obj in values:
        ok = isinstance(obj, dict) and isinstance(obj.get("dst"), str)
        spans.append((start, end, ok))
        if not ok:
            continue
        state = obj.get("state")
        states = [str(s) for s in state] if isinstance(state, list) else [str(state)] if state else []
        ll = obj.get("lladdr")
        rows.append(
            {
                "line": text.count("\n", 0, start) + 1,
                "ip": obj["dst"],
                "mac": canon_mac(ll),
                "interface": obj.get("dev"),
                "state": ",".join(states) or None,
                "permanent": "PERMANENT" in states,
                "flags": _flags([k for k in obj if k not in ("dst", "dev", "lladdr", "state")], ll),
            }
        )
    json_coverage(text, spans, stop, cov)
    return rows


def _flags(words: list[str], lladdr: Any) -> str | None:
    if lladdr is not None and canon_mac(lladdr) is None:
        words = [f"lladdr={lladdr}", *words]
    return " ".join(words) or None


def _text_row(ln: str) -> dict[str, Any] | None:
    tokens = ln.split()
    if not tokens or not re.fullmatch(_ADDR, tokens[0]):
        return None
    row: dict[str, Any] = {"ip": tokens[0], "interface": None}
    states: list[str] = []
    words: list[str] = []
    lladdr: str | None = None
    i = 1
    while i < len(tokens):
        t = tokens[i]
        if t in _VALUED and i + 1 < len(tokens):
            if t == "dev":
                row["interface"] = tokens[i + 1]
            elif t == "lladdr":
                lladdr = tokens[i + 1]
            else:
                words.append(f"{t} {tokens[i + 1]}")
            i += 2
            continue
        (states if t in STATES else words).append(t)
        i += 1
    if not states and row["interface"] is None and lladdr is None:
        return None
    row.update(
        mac=canon_mac(lladdr),
        state=",".join(states) or None,
        permanent="PERMANENT" in states,
        flags=_flags(words, lladdr),
    )
    return row


def parse(text: str) -> pd.DataFrame:
    cov = Coverage()
    if text.lstrip().startswith(("[", "{")):
        return conform(_json_rows(text, cov), SCHEMA, cov)
    rows: list[dict[str, Any]] = []
    for n, ln in numbered(text, cov):
        if not ln.strip():
            cov.skip()
        elif (row := _text_row(ln)) is not None:
            cov.ok()
            rows.append({"line": n, **row})
        else:
            cov.reject(n, ln)
    return conform(rows, SCHEMA, cov)
