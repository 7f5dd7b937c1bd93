"""Linux dnsmasq lease file (``…/multipassd/network/dnsmasq.leases``): one row per lease line.

Input (``<expiry epoch> <mac> <ipv4> <hostname|*> <client-id|*>``, no header)::

    0 52:54:00:3c:0a:f1 10.115.28.7 primary *
    1749645003 52:54:00:1a:2b:3c 10.115.28.20 old-vm ff:d2:81:6c:3e:00:02:00:00:ab:11

Rows: ``line=1 name=primary ip=10.115.28.7 mac=52:54:00:3c:0a:f1 hw_type=1
expires=NaT infinite=True`` and ``line=2 … expires=2025-06-11T12:30:03Z
infinite=False client_id=ff:d2:…``.

* Expiry ``0`` is an infinite lease (Multipass's ``--dhcp-range …,infinite``).
* A non-Ethernet hardware address carries a ``<type-hex>-`` prefix (``20-…``):
  ``hw_type`` is that prefix and ``mac`` stays NA.
* ``*`` hostname / client-id → NA.  ``duplicate`` as in ``dhcpd_leases``.
* A line of the right shape with an unreadable IP, MAC or expiry is a
  ``malformed`` row and its line is counted as rejected.  DHCPv6 lines (after a
  ``duid`` line) are skipped.
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

KIND = "dnsmasq_leases"
FRAME = "leases"
FILENAMES = ("dnsmasq.leases",)
PLATFORMS = ("linux",)
SCHEMA = frames.LEASES

LINE_RE = re.compile(
    r"^(?:\d{1,12} (?:[0-9a-fA-F]{1,2}-)?[0-9a-fA-F]{2}(?::[0-9a-fA-F]{2}){5,19}"
    r" \d{1,3}(?:\.\d{1,3}){3} \S+ \S+|duid (?:[0-9a-fA-F]{2}:)+[0-9a-fA-F]{2}"
    r"|\d{1,12} \d{1,10} [0-9a-fA-F]{0,4}:[0-9a-fA-F:]+ \S+ \S+)$"
)
_SHAPE = re.compile(r"^(?P<expiry>\S+) (?P<hw>\S+) (?P<ip>\S+) (?P<name>\S+)(?: (?P<cid>\S+))?$")
_IPV4 = re.compile(r"^(?:25[0-5]|2[0-4]\d|1?\d?\d)(?:\.(?:25[0-5]|2[0-4]\d|1?\d?\d)){3}$")
_TYPED = re.compile(r"^(?P<type>[0-9a-fA-F]{1,2})-[0-9a-fA-F]{2}(?::[0-9a-fA-F]{2})+$")


def sniff(text: str) -> float:
    """How sure it is, from 0 to 1, that ``text`` is Linux dnsmasq lease file (``…/multipassd/network/dnsmasq.leases``)."""
    return fraction_matching(text, LINE_RE)


def _hw(value: str) -> tuple[str | None, str | None]:
    """``(hw_type, mac)``: Ethernet addresses have no prefix and are type ``1``."""
    mac = canon_mac(value)
    if mac:
        return "1", mac
    m = _TYPED.match(value)
    return (m["type"].lower(), None) if m else (None, None)


def parse(text: str) -> pd.DataFrame:
    """Linux dnsmasq lease file (``…/multipassd/network/dnsmasq.leases``) as the ``leases`` frame; every line is counted as parsed, ignored or rejected."""
    cov = Coverage()
    rows: list[dict[str, Any]] = []
    in_v6 = False
    for n, ln in numbered(text, cov):
        s = ln.strip()
        if not s:
            cov.skip()
            continue
        if s.startswith("duid "):
            in_v6 = True
            cov.skip()
            continue
        m = _SHAPE.match(s)
        if not m:
            cov.reject(n, ln)
            continue
        if in_v6 and not _IPV4.match(m["ip"]):
            cov.skip()  # a DHCPv6 lease: <expiry> <iaid> <ipv6> …
            continue
        hw_type, mac = _hw(m["hw"])
        secs = int(m["expiry"]) if m["expiry"].isdigit() else -1
        infinite = None if secs < 0 else secs == 0
        expires = epoch_utc(secs) if secs > 0 else None
        ip_ok = bool(_IPV4.match(m["ip"]))
        malformed = not ip_ok or hw_type is None or (not infinite and expires is None)
        if malformed:
            cov.reject(n, ln)
        else:
            cov.ok()
        name, cid = m["name"], m["cid"]
        rows.append(
            {
                "line": n,
                "name": None if name == "*" else name,
                "ip": m["ip"] if ip_ok else None,
                "mac": mac,
                "hw_type": hw_type,
                "client_id": None if cid in (None, "*") else cid,
                "expires": expires,
                "infinite": infinite,
                "malformed": malformed,
                "raw": s,
            }
        )
    flag_duplicates(rows)
    return conform(rows, SCHEMA, cov)
