"""Helpers shared by the lease-file parsers (bootpd's dhcpd_leases, dnsmasq.leases)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pandas as pd

#: epochs at or beyond this are not dates (bootpd writes 0xffffffffffffffff for "never")
MAX_EPOCH = 9_000_000_000


def epoch_utc(seconds: int) -> pd.Timestamp | None:
    """A UTC timestamp for epoch ``seconds``, ``None`` when out of range."""
    if not 0 <= seconds < MAX_EPOCH:
        return None
    return pd.Timestamp(seconds, unit="s", tz="UTC")


def flag_duplicates(rows: list[dict[str, Any]]) -> None:
    """Set ``duplicate`` on rows sharing a MAC, or (MAC-less rows) sharing a name."""
    macs = Counter(r["mac"] for r in rows if r.get("mac"))
    names = Counter(r["name"] for r in rows if not r.get("mac") and r.get("name"))
    for r in rows:
        if r.get("mac"):
            r["duplicate"] = macs[r["mac"]] > 1
        else:
            r["duplicate"] = bool(r.get("name")) and names[r["name"]] > 1
