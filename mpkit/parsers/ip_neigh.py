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

import re
from typing import Any

import pandas as pd

from .. import frames
from ..macaddr import canon_mac
from ..schema import Coverage, conform
from ._base import fraction_matching, numbered
from ._json import json_coverage, json_objects

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
    """How sure it is, from 0 to 1, that ``text`` is Linux ``ip neigh show`` text and ``ip -j neigh`` JSON."""
    head = text.lstrip()[:200_000]
    if head.startswith(("[", "{")):
        return 0.95 if '"dst"' in head and ('"state"' in head or '"lladdr"' in head) else 0.0
    return fraction_matching(text, LINE_RE)


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
    """Linux ``ip neigh show`` text and ``ip -j neigh`` JSON as the ``neighbours`` frame; every line is counted as parsed, ignored or rejected."""
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
