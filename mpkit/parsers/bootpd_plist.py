"""macOS ``/etc/bootpd.plist`` (XML plist): one row per ``Subnets`` entry.

Input (abridged)::

    <key>dhcp_enabled</key><array><string>bridge100</string></array>
    <key>Subnets</key>
    <array><dict><key>interface</key><string>bridge100</string>
      <key>net_range</key><array><string>192.168.64.2</string><string>192.168.64.254</string></array>
      …</dict></array>

Row: ``line=… name=192.168.64/24 interface=bridge100 net_address=192.168.64.0
net_mask=255.255.255.0 net_range_start=192.168.64.2 net_range_end=192.168.64.254
lease_min=86400 lease_max=86400 allocate=True dhcp_enabled=bridge100``.

Top-level settings (``dhcp_enabled``, ``dhcp_ignore_client_identifier``,
``detect_other_dhcp_server``) are repeated on every row.  Broken XML gives an
empty frame and one rejected line (where the XML parser stopped).  ``line`` is
where the entry's ``<dict>`` starts (found by a tag scan; NA if not found).
"""

from __future__ import annotations

import plistlib
import re
from typing import Any

import pandas as pd

from ..schema import Column, Coverage, conform
from ._base import lines

KIND = "bootpd_plist"
FRAME = "bootpd_config"
FILENAMES = ("bootpd.plist",)
PLATFORMS = ("macos",)
LINE_RE = None

SCHEMA = {
    "line": Column("int", "1-based line where the Subnets entry's <dict> starts"),
    "name": Column("str", "subnet name (`192.168.64/24`)"),
    "interface": Column("str", "interface served (bridge100, …)"),
    "net_address": Column("str", "network address"),
    "net_mask": Column("str", "network mask, dotted"),
    "net_range_start": Column("str", "first address of the pool"),
    "net_range_end": Column("str", "last address of the pool"),
    "lease_min": Column("int", "lease_min seconds"),
    "lease_max": Column("int", "lease_max seconds"),
    "allocate": Column("bool", "bootpd allocates addresses on this subnet"),
    "dhcp_router": Column("str", "dhcp_router of the subnet"),
    "dhcp_enabled": Column("str", "top-level dhcp_enabled: interfaces comma-separated, or true/false"),
    "dhcp_ignore_client_identifier": Column(
        "bool", "top-level dhcp_ignore_client_identifier, NA when absent"
    ),
    "detect_other_dhcp_server": Column("str", "top-level detect_other_dhcp_server, as dhcp_enabled"),
}

_TAG = re.compile(r"<(/?)(dict|array)\s*>|<key>\s*Subnets\s*</key>")


def sniff(text: str) -> float:
    """How sure it is, from 0 to 1, that ``text`` is macOS ``/etc/bootpd.plist`` (XML plist)."""
    head = text[:200_000]
    if "<plist" not in head and "<?xml" not in head:
        return 0.0
    keys = (
        "<key>Subnets</key>",
        "<key>dhcp_enabled</key>",
        "<key>net_range</key>",
        "<key>bootp_enabled</key>",
    )
    hits = sum(k in head for k in keys)
    return 0.0 if not hits else min(1.0, 0.7 + 0.1 * hits)


def _list_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(value)


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _str(value: Any) -> str | None:
    return str(value) if isinstance(value, str | int | float) and not isinstance(value, bool) else None


def _entry_lines(text: str) -> list[int]:
    """Line numbers of the ``<dict>`` tags directly inside the ``Subnets`` array."""
    out: list[int] = []
    state, depth = "seek", 0  # seek the key, then the array, then walk it
    for n, ln in enumerate(lines(text), start=1):
        for m in _TAG.finditer(ln):
            if m[2] is None:
                if state == "seek":
                    state = "key"
                continue
            closing, tag = m[1] == "/", m[2]
            if state == "key":
                state, depth = ("walk", 1) if (tag == "array" and not closing) else ("seek", 0)
            elif state == "walk":
                if closing:
                    depth -= 1
                    if depth == 0:
                        return out
                else:
                    if depth == 1 and tag == "dict":
                        out.append(n)
                    depth += 1
    return out


def parse(text: str) -> pd.DataFrame:
    """macOS ``/etc/bootpd.plist`` (XML plist) as the ``bootpd_config`` frame; every line is counted as parsed, ignored or rejected."""
    cov = Coverage(lines=len(lines(text)))
    if not text.strip():
        cov.skip(cov.lines)
        return conform([], SCHEMA, cov)
    try:
        doc = plistlib.loads(text.lstrip("\ufeff \t\r\n").encode("utf-8", "replace"), fmt=plistlib.FMT_XML)
    except Exception as exc:  # plistlib raises many types (ExpatError, ValueError, …) on bad input
        lineno = getattr(exc, "lineno", 1) or 1
        all_lines = lines(text)
        lineno = min(max(lineno, 1), max(len(all_lines), 1))
        cov.reject(lineno, all_lines[lineno - 1] if all_lines else "")
        cov.skip(cov.lines - 1)
        return conform([], SCHEMA, cov)
    subnets = doc.get("Subnets") if isinstance(doc, dict) else None
    if not isinstance(subnets, list):
        cov.skip(cov.lines)
        return conform([], SCHEMA, cov)
    starts = _entry_lines(text)
    top = {
        "dhcp_enabled": _list_text(doc.get("dhcp_enabled")),
        "dhcp_ignore_client_identifier": doc.get("dhcp_ignore_client_identifier")
        if isinstance(doc.get("dhcp_ignore_client_identifier"), bool)
        else None,
        "detect_other_dhcp_server": _list_text(doc.get("detect_other_dhcp_server")),
    }
    rows = []
    for i, sub in enumerate(subnets):
        line = starts[i] if len(starts) == len(subnets) else None
        if not isinstance(sub, dict):
            cov.reject(line or 1, f"Subnets[{i}] is not a dict: {sub!r}")
            continue
        net_range = sub.get("net_range")
        rng: list[Any] = net_range if isinstance(net_range, list) else []
        rows.append(
            {
                "line": line,
                "name": _str(sub.get("name")),
                "interface": _str(sub.get("interface")),
                "net_address": _str(sub.get("net_address")),
                "net_mask": _str(sub.get("net_mask")),
                "net_range_start": _str(rng[0]) if len(rng) > 0 else None,
                "net_range_end": _str(rng[-1]) if len(rng) > 1 else None,
                "lease_min": _int(sub.get("lease_min")),
                "lease_max": _int(sub.get("lease_max")),
                "allocate": sub.get("allocate") if isinstance(sub.get("allocate"), bool) else None,
                "dhcp_router": _str(sub.get("dhcp_router")),
                **top,
            }
        )
    cov.ok(cov.lines - cov.rejected)
    return conform(rows, SCHEMA, cov)
