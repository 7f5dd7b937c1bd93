"""MAC address normalisation.

Every spelling Multipass-related tools print is turned into one canonical form:
six zero-padded lowercase octets joined by ``:`` (``52:54:00:0a:0b:0c``).

>>> canon_mac("52:54:0:a:b:c")
'52:54:00:0a:0b:0c'
>>> canon_mac("52.54.0.a.b0.5")
'52:54:00:0a:b0:05'
>>> canon_mac("5254000AB005")
'52:54:00:0a:b0:05'
>>> canon_mac("ff,1:2:3") is None
True
"""

from __future__ import annotations

import re

_SPLIT = re.compile(r"[:.\-]")
_HEX12 = re.compile(r"^[0-9A-Fa-f]{12}$")
_OCTET = re.compile(r"^[0-9A-Fa-f]{1,2}$")

#: matches any MAC spelling inside text (colon, dash, dot separated, 1-2 hex digits per octet)
MAC_IN_TEXT = re.compile(
    r"(?<![0-9A-Fa-f:.\-])"
    r"([0-9A-Fa-f]{1,2}(?P<sep>[:\-.])[0-9A-Fa-f]{1,2}(?:(?P=sep)[0-9A-Fa-f]{1,2}){4})"
    r"(?![0-9A-Fa-f:.\-]*[0-9A-Fa-f])"
)


def canon_mac(value: object) -> str | None:
    """Return the canonical spelling of ``value``, or ``None`` if it is not a MAC."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text:
        return None
    if _HEX12.match(text):
        parts = [text[i : i + 2] for i in range(0, 12, 2)]
    else:
        parts = _SPLIT.split(text)
        if len(parts) != 6 or not all(_OCTET.match(p) for p in parts):
            return None
    return ":".join(f"{int(p, 16):02x}" for p in parts)


def arp_style(mac: str) -> str:
    """The spelling macOS ``arp``/``bootpd`` print: leading zeros dropped per octet."""
    canon = canon_mac(mac)
    if canon is None:
        raise ValueError(f"not a MAC address: {mac!r}")
    return ":".join(f"{int(p, 16):x}" for p in canon.split(":"))
