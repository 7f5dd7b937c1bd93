"""macOS ``arp -an`` (and the ``arp -anl`` table): one row per neighbour entry.

Input::

    ? (192.168.64.1) at ba:7e:1c:44:90:64 on bridge100 ifscope permanent [bridge]
    ? (192.168.64.5) at 52:54:0:e4:19:2b on bridge100 ifscope [bridge]
    ? (192.168.64.9) at (incomplete) on bridge100 ifscope [bridge]

Rows: ``line=1 ip=192.168.64.1 mac=ba:7e:1c:44:90:64 interface=bridge100
state=permanent permanent=True flags="ifscope [bridge]"``, ``line=2 …
mac=52:54:00:e4:19:2b state=complete permanent=False``, ``line=3 … mac=NA
state=incomplete``.

``arp -anl`` rows (``Neighbor Linklayer-Address Expire(O) Expire(I) Netif [Refs [Prbs]]``)
give ``flags="expire_o=19m41s expire_i=19m41s"``; their interface is printed
``%8.8s`` so ``bridge100`` reads ``bridge10`` (kept as printed).  An entry whose
two expiries are ``(none)`` is permanent.
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from .. import frames
from ..macaddr import canon_mac
from ..schema import Coverage, conform
from ._base import fraction_matching, numbered

KIND = "arp"
FRAME = "neighbours"
FILENAMES = ("arp.txt",)
PLATFORMS = ("macos",)
SCHEMA = frames.NEIGHBOURS

_IP = r"\d{1,3}(?:\.\d{1,3}){3}"
_EXPIRE = r"(?:\(none\)|expired|(?:\d+d)?(?:\d+h)?(?:\d+m)?\d+s)"
_AN = re.compile(
    rf"^(?P<host>\S+) \((?P<ip>{_IP})\) at (?P<ll>\(incomplete\)|\S+)(?: on (?P<if>\S+))?(?P<rest>.*)$"
)
_ANL = re.compile(
    rf"^(?P<ip>{_IP})\s+(?P<ll>\(incomplete\)|[0-9a-fA-F]{{1,2}}(?::[0-9a-fA-F]{{1,2}}){{5}})"
    rf"\s+(?P<eo>{_EXPIRE})\s+(?P<ei>{_EXPIRE})\s+(?P<if>\S+)(?:\s+\S+)*$"
)
_ANL_HEADER = re.compile(r"^Neighbor\s+Linklayer Address\s+Expire\(O\)\s+Expire\(I\)\s+Netif")
LINE_RE = re.compile(
    rf"^(?:\S+ \({_IP}\) at |{_IP}\s+\S+\s+{_EXPIRE}\s+{_EXPIRE}\s|Neighbor\s+Linklayer Address)"
)


def sniff(text: str) -> float:
    """How sure it is, from 0 to 1, that ``text`` is macOS ``arp -an`` (and the ``arp -anl`` table)."""
    return fraction_matching(text, LINE_RE)


def _an_row(m: re.Match[str]) -> dict[str, Any]:
    rest = m["rest"].replace("published (proxy only)", "published(proxy-only)").split()
    incomplete = m["ll"] == "(incomplete)"
    permanent = "permanent" in rest
    state = "incomplete" if incomplete else "permanent" if permanent else "complete"
    flags = " ".join(
        w.replace("published(proxy-only)", "published (proxy only)") for w in rest if w != "permanent"
    )
    return {
        "ip": m["ip"],
        "mac": None if incomplete else canon_mac(m["ll"]),
        "interface": m["if"],
        "state": state,
        "permanent": permanent,
        "flags": flags or None,
    }


def _anl_row(m: re.Match[str]) -> dict[str, Any]:
    incomplete = m["ll"] == "(incomplete)"
    permanent = not incomplete and m["eo"] == m["ei"] == "(none)"
    return {
        "ip": m["ip"],
        "mac": None if incomplete else canon_mac(m["ll"]),
        "interface": m["if"],
        "state": "incomplete" if incomplete else "permanent" if permanent else "complete",
        "permanent": permanent,
        "flags": f"expire_o={m['eo']} expire_i={m['ei']}",
    }


def parse(text: str) -> pd.DataFrame:
    """macOS ``arp -an`` (and the ``arp -anl`` table) as the ``neighbours`` frame; every line is counted as parsed, ignored or rejected."""
    cov = Coverage()
    rows: list[dict[str, Any]] = []
    for n, ln in numbered(text, cov):
        s = ln.strip()
        if not s or _ANL_HEADER.match(s):
            cov.skip()
            continue
        if m := _AN.match(s):
            row = _an_row(m)
        elif m := _ANL.match(s):
            row = _anl_row(m)
        else:
            cov.reject(n, ln)
            continue
        if row["mac"] is None and row["state"] != "incomplete":  # not a MAC: keep it in flags
            row["flags"] = " ".join(filter(None, [f"lladdr={m['ll']}", row["flags"]]))
        cov.ok()
        rows.append({"line": n, **row})
    return conform(rows, SCHEMA, cov)
