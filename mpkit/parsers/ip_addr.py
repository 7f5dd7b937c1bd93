"""Linux ``ip -j addr show`` JSON (and plain ``ip addr show`` text): one row per interface.

Input (JSON, abridged)::

    [{"ifindex":5,"ifname":"mpqemubr0","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],
      "mtu":1500,"operstate":"UP","address":"52:54:00:9e:41:d7",
      "addr_info":[{"family":"inet","local":"10.115.28.1","prefixlen":24}]}]

Row: ``line=1 name=mpqemubr0 flags=BROADCAST,MULTICAST,UP,LOWER_UP up=True
mtu=1500 mac=52:54:00:9e:41:d7 inet=10.115.28.1 prefixlen=24
inet_all=10.115.28.1/24 status=UP is_bridge=True``.

``is_bridge``: ``linkinfo.info_kind == "bridge"`` when present (``ip -d``), else a
name starting with ``mpqemubr``, ``virbr`` or ``br``.  ``members`` of a bridge are
the interfaces in the same output whose ``master`` is that bridge (tap ports).
The text form (``3: mpqemubr0: <BROADCAST,…> mtu 1500 … state UP``, then
``link/ether …`` and ``inet a.b.c.d/nn …`` lines) gives the same rows.
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

KIND = "ip_addr"
FRAME = "interfaces"
FILENAMES = ("ip-addr.json",)
PLATFORMS = ("linux",)
SCHEMA = frames.INTERFACES

_HEADER = re.compile(r"^(?P<index>\d+): (?P<name>[^\s:@]+)(?:@\S+)?: <(?P<flags>[^>]*)>(?P<rest>.*)$")
_LINK = re.compile(r"^\s+link/\S+(?: (?P<mac>\S+))?")
_INET = re.compile(r"^\s+inet (?P<addr>\d{1,3}(?:\.\d{1,3}){3})(?:/(?P<plen>\d{1,2}))?")
_OTHER = re.compile(r"^\s+(?:inet6 |valid_lft |altname |link-netnsid |\S+ \S)")
LINE_RE = re.compile(
    r"^(?:\d+: [^\s:@]+(?:@\S+)?: <[^>]*> mtu \d+|\s+link/\S+|\s+inet6? \S+/\d+|\s+valid_lft )"
)
_BRIDGE_NAME = re.compile(r"^(?:mpqemubr|virbr|br)")


def sniff(text: str) -> float:
    """How sure it is, from 0 to 1, that ``text`` is Linux ``ip -j addr show`` JSON (and plain ``ip addr show`` text)."""
    head = text.lstrip()[:200_000]
    if head.startswith(("[", "{")):
        if '"ifname"' not in head:
            return 0.0
        return 0.95 if '"addr_info"' in head else 0.7
    if not any(_HEADER.match(ln) for ln in head.splitlines()):
        return 0.0
    return fraction_matching(text, LINE_RE)


def _is_bridge(name: str, kind: Any) -> bool:
    return kind == "bridge" if isinstance(kind, str) else bool(_BRIDGE_NAME.match(name))


def _finish(rows: list[dict[str, Any]], masters: dict[str, str]) -> list[dict[str, Any]]:
    """Fill ``members`` from the ``master`` of the other interfaces."""
    for r in rows:
        members = [name for name, master in masters.items() if master == r["name"]]
        r["members"] = ",".join(members) or None
        if members:
            r["is_bridge"] = True
    return rows


def _inet_fields(inets: list[tuple[str, int | None]]) -> dict[str, Any]:
    first = inets[0] if inets else (None, None)
    return {
        "inet": first[0],
        "prefixlen": first[1],
        "inet_all": ",".join(a if p is None else f"{a}/{p}" for a, p in inets) or None,
    }


def _json_row(text: str, start: int, obj: dict[str, Any]) -> dict[str, Any]:
    flags = [str(f) for f in obj.get("flags") or [] if isinstance(f, str)]
    inets = [
        (str(a["local"]), a.get("prefixlen") if isinstance(a.get("prefixlen"), int) else None)
        for a in obj.get("addr_info") or []
        if isinstance(a, dict) and a.get("family") == "inet" and a.get("local")
    ]
    linkinfo = obj.get("linkinfo")
    mtu = obj.get("mtu")
    return {
        "line": text.count("\n", 0, start) + 1,
        "name": obj["ifname"],
        "flags": ",".join(flags) or None,
        "up": "UP" in flags,
        "mtu": mtu if isinstance(mtu, int) else None,
        "mac": canon_mac(obj.get("address")),
        **_inet_fields(inets),
        "status": obj.get("operstate"),
        "is_bridge": _is_bridge(
            obj["ifname"], linkinfo.get("info_kind") if isinstance(linkinfo, dict) else None
        ),
    }


def _parse_json(text: str, cov: Coverage) -> list[dict[str, Any]]:
    text = text.replace("\r\n", "\n")
    values, stop = json_objects(text)
    rows, spans, masters = [], [], {}
    for start, end, obj in values:
        ok = isinstance(obj, dict) and isinstance(obj.get("ifname"), str)
        spans.append((start, end, ok))
        if ok:
            rows.append(_json_row(text, start, obj))
            if isinstance(obj.get("master"), str):
                masters[obj["ifname"]] = obj["master"]
    json_coverage(text, spans, stop, cov)
    return _finish(rows, masters)


def _parse_text(text: str, cov: Coverage) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    masters: dict[str, str] = {}
    inets: list[tuple[str, int | None]] = []

    def close() -> None:
        if rows and "inet" not in rows[-1]:
            rows[-1].update(_inet_fields(inets))

    for n, ln in numbered(text, cov):
        if not ln.strip():
            cov.skip()
        elif m := _HEADER.match(ln):
            close()
            inets = []
            flags, rest = m["flags"], m["rest"]
            attr = dict(re.findall(r"\b(mtu|state|master) (\S+)", rest))
            rows.append(
                {
                    "line": n,
                    "name": m["name"],
                    "flags": flags or None,
                    "up": "UP" in flags.split(","),
                    "mtu": int(attr["mtu"]) if attr.get("mtu", "").isdigit() else None,
                    "mac": None,
                    "status": attr.get("state"),
                    "is_bridge": _is_bridge(m["name"], None),
                }
            )
            if "master" in attr:
                masters[m["name"]] = attr["master"]
            cov.ok()
        elif rows and "inet" not in rows[-1] and (m := _LINK.match(ln)):
            rows[-1]["mac"] = canon_mac(m["mac"])
            cov.ok()
        elif rows and "inet" not in rows[-1] and (m := _INET.match(ln)):
            inets.append((m["addr"], int(m["plen"]) if m["plen"] else None))
            cov.ok()
        elif rows and "inet" not in rows[-1] and _OTHER.match(ln):
            cov.ok()
        else:
            close()  # an unknown line ends the current stanza
            cov.reject(n, ln)
    close()
    return _finish(rows, masters)


def parse(text: str) -> pd.DataFrame:
    """Linux ``ip -j addr show`` JSON (and plain ``ip addr show`` text) as the ``interfaces`` frame; every line is counted as parsed, ignored or rejected."""
    cov = Coverage()
    if text.lstrip().startswith(("[", "{")):
        return conform(_parse_json(text, cov), SCHEMA, cov)
    return conform(_parse_text(text, cov), SCHEMA, cov)
