"""macOS ``/var/db/dhcpd_leases`` (written by bootpd): one row per ``{ … }`` block.

Input (one TAB before each property; key order is free, ``name`` optional)::

    {
        name=primary
        ip_address=192.168.64.7
        hw_address=1,52:54:0:3c:a:f1
        identifier=1,52:54:0:3c:a:f1
        lease=0x6848a3f1
    }

Row: ``line=1 name=primary ip=192.168.64.7 mac=52:54:00:3c:0a:f1 hw_type=1
client_id=1,52:54:0:3c:a:f1 expires=2025-06-10T21:30:25Z infinite=False
duplicate=False malformed=False``.

* ``hw_address=ff,<IAID+DUID>`` (RFC 4361 client-id) carries no MAC: ``mac`` is NA,
  ``hw_type`` is ``ff``.  When ``hw_address`` is missing, ``identifier`` is used.
* ``lease`` is the hex UTC epoch of the *expiry*; ``0xffffffffffffffff`` is a
  permanent lease (``infinite``); a missing ``lease`` leaves ``infinite`` NA.
* ``duplicate`` marks every entry sharing a MAC with another entry, and every
  MAC-less entry sharing its ``name`` with another MAC-less entry.
* ``malformed`` marks an entry without ``ip_address`` or with an unreadable value;
  it is still a row, and the offending line (or the block's first line when a
  field is missing) is counted as rejected in the coverage.
* Unknown keys (``declined``, ``released``, …) and valueless properties are
  tolerated.  A final block cut off before ``}`` still gives a row, and bare
  ``key=value`` lines pasted without braces form a block (a repeated key or a
  blank line starts the next one).
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from .. import frames
from ..macaddr import canon_mac
from ..schema import Coverage, conform
from ._base import fraction_matching, numbered
from ._leases import epoch_utc, flag_duplicates

KIND = "dhcpd_leases"
FRAME = "leases"
FILENAMES = ("dhcpd_leases",)
PLATFORMS = ("macos",)
SCHEMA = frames.LEASES

_KEYS = "name|ip_address|hw_address|identifier|lease|declined|released"
LINE_RE = re.compile(rf"^\s*(?:[{{}}]|(?:{_KEYS})=.*)$")

_PROP = re.compile(r"^\s*(?P<key>[A-Za-z_][\w-]*)\s*(?:=(?P<value>.*))?$")
_IPV4 = re.compile(r"^(?:25[0-5]|2[0-4]\d|1?\d?\d)(?:\.(?:25[0-5]|2[0-4]\d|1?\d?\d)){3}$")
_STRONG = re.compile(r"^\s*(?:ip_address|hw_address|identifier)=")
_PERMANENT = {2**64 - 1, 2**63 - 1}  # (long)-1 as bootpd prints it


def sniff(text: str) -> float:
    """How sure it is, from 0 to 1, that ``text`` is macOS ``/var/db/dhcpd_leases`` (written by bootpd)."""
    if not any(_STRONG.match(ln) for ln in text[:20_000].splitlines()):
        return 0.0
    return 0.5 + 0.5 * fraction_matching(text, LINE_RE)


class _Block:
    """The lines of one entry: ``(lineno, text)`` and its properties by key."""

    def __init__(self, lineno: int, braced: bool) -> None:
        self.lineno = lineno
        self.braced = braced
        self.lines: list[tuple[int, str]] = []
        self.props: dict[str, tuple[int, str | None]] = {}
        self.unreadable: set[int] = set()  # line numbers that could not be read

    def add(self, lineno: int, text: str) -> None:
        self.lines.append((lineno, text.strip()))


def _hw(value: str | None) -> tuple[str | None, str | None, bool]:
    """``(hw_type, mac, readable)`` of a ``hw_address``/``identifier`` value."""
    if not value or "," not in value:
        return None, None, False
    kind, _, addr = value.partition(",")
    kind = kind.strip().lower()
    if not re.fullmatch(r"[0-9a-f]{1,2}", kind):
        return None, None, False
    if kind == "ff":
        return kind, None, True
    mac = canon_mac(addr)
    return kind, mac, mac is not None or kind == "0"


def _row(block: _Block, cov: Coverage) -> dict[str, Any]:
    props = {k: v for k, (_, v) in block.props.items()}
    ip = (props.get("ip_address") or "").strip() or None
    if ip is not None and not _IPV4.match(ip):
        block.unreadable.add(block.props["ip_address"][0])
        ip = None
    hw_key = "hw_address" if "hw_address" in props else "identifier"
    hw_type, mac, hw_ok = _hw(props.get(hw_key))
    if hw_key in props and not hw_ok:
        block.unreadable.add(block.props[hw_key][0])
    expires, infinite = None, None
    if "lease" in props:
        try:
            secs = int((props["lease"] or "").strip(), 16)
        except ValueError:
            secs = -1
        expires = epoch_utc(secs)
        infinite = expires is None and secs in _PERMANENT
        if expires is None and not infinite:
            block.unreadable.add(block.props["lease"][0])
    if "ip_address" not in props:  # a required field is missing: blame the entry's first line
        block.unreadable.add(block.lineno)
    raw = " ".join(t for _, t in block.lines)
    for n, text in block.lines:
        if n in block.unreadable:
            cov.reject(
                n, f"no ip_address: {raw}" if n == block.lineno and "ip_address" not in props else text
            )
        else:
            cov.ok()
    name = (props.get("name") or "").strip()
    return {
        "line": block.lineno,
        "name": name or None,
        "ip": ip,
        "mac": mac,
        "hw_type": hw_type,
        "client_id": props.get("identifier"),
        "expires": expires,
        "infinite": infinite,
        "malformed": bool(block.unreadable),
        "raw": raw,
    }


def parse(text: str) -> pd.DataFrame:
    """macOS ``/var/db/dhcpd_leases`` (written by bootpd) as the ``leases`` frame; every line is counted as parsed, ignored or rejected."""
    cov = Coverage()
    rows: list[dict[str, Any]] = []
    block: _Block | None = None

    def close() -> None:
        nonlocal block
        if block is not None and block.props:
            rows.append(_row(block, cov))
        elif block is not None:  # braces with nothing readable inside
            for n, t in block.lines:
                cov.reject(n, t)
        block = None

    for n, ln in numbered(text, cov):
        s = ln.strip()
        m = _PROP.match(ln)
        if s == "{":
            close()
            block = _Block(n, braced=True)
            block.add(n, s)
        elif s == "}":
            if block is None:
                cov.skip()
                continue
            block.add(n, s)
            close()
        elif not s:
            if block is not None and not block.braced:
                close()
            cov.skip()
        elif m and block is not None and block.braced:
            block.props[m["key"]] = (n, m["value"])
            block.add(n, s)
        elif m and (LINE_RE.match(ln) or (block is not None and m["value"] is not None)):
            # a bare paste (no braces): a known key starts an entry, a repeated key the next one
            if block is None or m["key"] in block.props:
                close()
                block = _Block(n, braced=False)
            block.props[m["key"]] = (n, m["value"])
            block.add(n, s)
        elif block is not None and block.braced:
            block.unreadable.add(n)
            block.add(n, s)
        else:
            close()
            cov.reject(n, ln)
    close()
    flag_duplicates(rows)
    return conform(rows, SCHEMA, cov)
