"""macOS ``ifconfig -a`` / ``ifconfig bridge100``: one row per interface stanza.

Input (continuation lines start with a TAB)::

    bridge100: flags=8a63<UP,BROADCAST,SMART,RUNNING,ALLMULTI,SIMPLEX,MULTICAST> mtu 1500
        ether ba:7e:1c:44:90:64
        inet 192.168.64.1 netmask 0xffffff00 broadcast 192.168.64.255
        member: vmenet0 flags=3<LEARNING,DISCOVER>
        status: active

Row: ``line=1 name=bridge100 flags=UP,BROADCAST,… up=True mtu=1500
mac=ba:7e:1c:44:90:64 inet=192.168.64.1 prefixlen=24 inet_all=192.168.64.1/24
status=active members=vmenet0 is_bridge=True``.

The prefix length comes from the hex netmask (a dotted netmask, as Linux
net-tools prints it, works too).  An interface is a bridge when its name starts
with ``bridge`` or it has ``member:`` lines.  Indented lines other than
``ether``/``inet``/``status:``/``member:`` belong to the stanza and are counted
as parsed; indented lines before any stanza are rejected.
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from .. import frames
from ..macaddr import canon_mac
from ..schema import Coverage, conform
from ._base import fraction_matching, numbered

KIND = "ifconfig"
FRAME = "interfaces"
FILENAMES = ("ifconfig.txt",)
PLATFORMS = ("macos",)
SCHEMA = frames.INTERFACES

_HEADER = re.compile(
    r"^(?P<name>[^\s:]+): flags=(?P<hex>[0-9a-fA-F]+)<(?P<flags>[^>]*)>(?:\s+mtu\s+(?P<mtu>\d+))?"
)
_INET = re.compile(
    r"^\s+inet (?P<addr>\d{1,3}(?:\.\d{1,3}){3})(?:.*?\bnetmask (?P<mask>0x[0-9a-fA-F]{1,8}|[\d.]+))?"
)
_ETHER = re.compile(r"^\s+ether (?P<mac>\S+)")
_STATUS = re.compile(r"^\s+status: (?P<status>.+)$")
_MEMBER = re.compile(r"^\s+member: (?P<name>\S+)")
_MISSING = re.compile(r"^ifconfig: interface \S+ does not exist")
LINE_RE = re.compile(
    r"^(?:[^\s:]+: flags=[0-9a-fA-F]+<|\s+(?:ether|inet6?|options=|status:|member:|media:|nd6 options|"
    r"Configuration:|Address cache:|ifmaxaddr|hostfilter|lladdr|index \d|eflags=|type:|scheduler|"
    r"link rate|routermode|netif:|generation|uplink|agent domain|state availability|qosmarking|"
    r"low power mode|multi layer packet logging|id [0-9a-f:]+ priority|maxage|root id|ipfilter|"
    r"[0-9a-f]{1,2}(?::[0-9a-f]{1,2}){5} Vlan))"
)


def sniff(text: str) -> float:
    """How sure it is, from 0 to 1, that ``text`` is macOS ``ifconfig -a`` / ``ifconfig bridge100``."""
    if not any(_HEADER.match(ln) for ln in text[:200_000].splitlines()):
        return 0.0
    return 0.3 + 0.7 * fraction_matching(text, LINE_RE)


def prefix_of(mask: str | None) -> int | None:
    """Prefix length of a hex (``0xffffff00``) or dotted (``255.255.255.0``) netmask."""
    if not mask:
        return None
    try:
        if mask.lower().startswith("0x"):
            value = int(mask, 16)
        else:
            parts = [int(p) for p in mask.split(".")]
            if len(parts) != 4 or any(p > 255 for p in parts):
                return None
            value = int.from_bytes(bytes(parts), "big")
    except ValueError:
        return None
    return bin(value).count("1") if value < 2**32 else None


def _new(n: int, m: re.Match[str]) -> dict[str, Any]:
    flags = m["flags"]
    return {
        "line": n,
        "name": m["name"],
        "flags": flags,
        "up": "UP" in flags.split(","),
        "mtu": int(m["mtu"]) if m["mtu"] else None,
        "mac": None,
        "inets": [],
        "status": None,
        "members_list": [],
    }


def _finish(st: dict[str, Any]) -> dict[str, Any]:
    inets: list[tuple[str, int | None]] = st.pop("inets")
    members: list[str] = st.pop("members_list")
    first = inets[0] if inets else (None, None)
    return {
        **st,
        "inet": first[0],
        "prefixlen": first[1],
        "inet_all": ",".join(a if p is None else f"{a}/{p}" for a, p in inets) or None,
        "members": ",".join(members) or None,
        "is_bridge": st["name"].startswith("bridge") or bool(members),
    }


def parse(text: str) -> pd.DataFrame:
    """macOS ``ifconfig -a`` / ``ifconfig bridge100`` as the ``interfaces`` frame; every line is counted as parsed, ignored or rejected."""
    cov = Coverage()
    rows: list[dict[str, Any]] = []
    st: dict[str, Any] | None = None
    for n, ln in numbered(text, cov):
        if not ln.strip() or _MISSING.match(ln):
            cov.skip()
            continue
        if m := _HEADER.match(ln):
            if st is not None:
                rows.append(_finish(st))
            st = _new(n, m)
            cov.ok()
            continue
        if st is None or not ln[0].isspace():
            if st is not None:
                rows.append(_finish(st))
                st = None
            cov.reject(n, ln)
            continue
        if m := _INET.match(ln):
            st["inets"].append((m["addr"], prefix_of(m["mask"])))
        elif m := _ETHER.match(ln):
            st["mac"] = canon_mac(m["mac"])
        elif m := _STATUS.match(ln):
            st["status"] = m["status"].strip()
        elif m := _MEMBER.match(ln):
            st["members_list"].append(m["name"])
        cov.ok()
    if st is not None:
        rows.append(_finish(st))
    return conform(rows, SCHEMA, cov)
