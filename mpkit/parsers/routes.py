"""Routing table: macOS ``netstat -rn`` or Linux ``ip route show``: one row per route.

Input (macOS; the ``Routing tables`` / ``Internet:`` / header lines may be missing)::

    default            10.8.0.1           UGScg               utun4
    192.168.64         link#24            UC              bridge100      !
    192.168.64.7       52.54.0.3c.a.f1    UHLWIi          bridge100   1196

Rows: ``line=1 family=inet destination=default gateway=10.8.0.1 flags=UGScg
interface=utun4 is_default=True via_tunnel=True``; ``line=2 … gateway=link#24
interface=bridge100``; ``line=3 … gateway=52.54.0.3c.a.f1`` (kept raw).

Input (Linux)::

    default via 192.168.1.1 dev wlp2s0 proto dhcp metric 600
    10.115.28.0/24 dev mpqemubr0 proto kernel scope link src 10.115.28.1 linkdown

Rows: ``destination=default gateway=192.168.1.1 interface=wlp2s0
flags="proto dhcp" metric=600 is_default=True``; ``destination=10.115.28.0/24
gateway=NA flags="proto kernel scope link src 10.115.28.1 linkdown"``.

``via_tunnel`` says the route leaves through a tunnel interface, the kind VPN
clients create: ``utun*`` (macOS Network Extension VPNs, WireGuard, Tailscale),
``ppp*`` (L2TP/PPTP), ``ipsec*``, ``tun*`` (OpenVPN, tunl), ``tap<N>`` (OpenVPN
tap; *not* Multipass's ``tap-…`` bridge ports), ``wg*``, ``tailscale*``,
``cscotun*`` (AnyConnect), ``gpd*`` (GlobalProtect), ``zt*`` (ZeroTier),
``nordlynx``.  Note that macOS always has IPv6 link-local routes on ``utun0``–
``utun3`` (system tunnels), so look at ``family == "inet"`` for VPN routes.
netstat columns are mapped from the header when there is one; without it the
old ``Refs Use`` columns are recognised by being numbers.
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from ..schema import Column, Coverage, conform
from ._base import fraction_matching, numbered

KIND = "routes"
FRAME = "routes"
FILENAMES = ("routes.txt",)
PLATFORMS = ("macos", "linux")

SCHEMA = {
    "line": Column("int", "1-based line"),
    "family": Column("category", "inet or inet6"),
    "destination": Column("str", "destination as printed (`default`, `192.168.64`, `10.0.0.0/24`)"),
    "gateway": Column(
        "str", "gateway as printed (IP, `link#N`, a MAC in netstat spelling); NA on Linux on-link routes"
    ),
    "flags": Column(
        "str", "netstat flags (UGSc…); Linux: the attributes after dev (proto, scope, src, linkdown…)"
    ),
    "interface": Column("str", "outgoing interface (netstat Netif, Linux dev)"),
    "is_default": Column("bool", "a default route (`default`, 0.0.0.0/0, ::/0)"),
    "via_tunnel": Column(
        "bool", "the interface is a tunnel (utun, ppp, ipsec, tun, tapN, wg, …): a VPN route"
    ),
    "metric": Column("int", "Linux metric, NA otherwise"),
    "raw": Column("str", "the line as printed"),
}

TUNNEL = re.compile(r"^(?:utun|ppp|ipsec|tun|wg|tailscale|cscotun|gpd|zt|nordlynx|tap(?=\d))")
_LINUX_TYPES = (
    "unicast",
    "local",
    "broadcast",
    "multicast",
    "throw",
    "unreachable",
    "prohibit",
    "blackhole",
    "nat",
)
_LINUX_WORDS = ("linkdown", "onlink", "dead", "pervasive", "notify", "offload", "trap", "rt_offload")
_DEST = r"(?:default|[0-9a-fA-F.:]+(?:/\d{1,3})?)"
_LINUX = re.compile(
    rf"^(?:(?:{'|'.join(_LINUX_TYPES)}) )?{_DEST}(?: via \S+)?(?: dev \S+)?"
    rf"(?: (?:proto|scope|src|metric|table|mtu|pref|expires|advmss|initcwnd|{'|'.join(_LINUX_WORDS)})\b.*)?$"
)
_NS_FLAGS = r"[A-Za-z123]*[UGH][A-Za-z123]*"
_NETSTAT = re.compile(
    rf"^\S+\s+\S+\s+{_NS_FLAGS}(?:\s+\d+\s+\d+)?(?:\s+\d+)?\s+[A-Za-z][\w.-]*(?:\s+(?:\d+|!))?$"
)
_HEADER = re.compile(r"^Destination\s+Gateway\s+Flags\b")
_TITLES = re.compile(r"^(?:Routing tables|Internet6?:|Route Tree for Protocol Family.*)$")
LINE_RE = re.compile(f"(?:{_NETSTAT.pattern}|{_HEADER.pattern}|{_TITLES.pattern}|{_LINUX.pattern})")
_LINUX_STRICT = re.compile(r"\b(?:via|dev|proto|scope|metric)\b")


def sniff(text: str) -> float:
    return fraction_matching(text, LINE_RE)


def _family(dest: str, gateway: str | None) -> str:
    if ":" in dest:
        return "inet6"
    if dest == "default" and gateway and ("::" in gateway or gateway.lower().startswith("fe80")):
        return "inet6"
    return "inet"


def _row(n: int, ln: str, family: str | None, dest: str, gw: str | None, iface: str | None) -> dict[str, Any]:
    fam = family or _family(dest, gw)
    return {
        "line": n,
        "family": fam,
        "destination": dest,
        "gateway": gw,
        "interface": iface,
        "is_default": dest in ("default", "0.0.0.0/0", "0/0", "::/0"),
        "via_tunnel": bool(iface and TUNNEL.match(iface)),
        "raw": ln.strip(),
    }


def _netstat(n: int, ln: str, family: str | None, header: list[str] | None) -> dict[str, Any] | None:
    tok = ln.split()
    if header:
        cols = dict(zip(header, tok, strict=False))
        iface = cols.get("Netif")
        if len(tok) < 4 or not iface or not re.fullmatch(_NS_FLAGS, cols.get("Flags", "")):
            return None
        return {**_row(n, ln, family, tok[0], tok[1], iface), "flags": cols["Flags"]}
    if not _NETSTAT.match(ln):
        return None
    rest = tok[3:]
    while rest and rest[0].isdigit():  # Refs, Use (older macOS), Mtu (-l)
        rest = rest[1:]
    return {**_row(n, ln, family, tok[0], tok[1], rest[0]), "flags": tok[2]}


def _linux(n: int, ln: str) -> dict[str, Any] | None:
    if not _LINUX.match(ln) or not _LINUX_STRICT.search(ln):
        return None
    tok = ln.split()
    other: list[str] = []  # the route type (unreachable, local, …) and attributes after dev
    if tok[0] in _LINUX_TYPES:
        other.append(tok.pop(0))
    dest, attrs = tok[0], tok[1:]
    gw = iface = metric = None
    i = 0
    while i < len(attrs):
        key = attrs[i]
        value = attrs[i + 1] if i + 1 < len(attrs) else None
        if key in ("via", "dev", "metric") and value is not None:
            if key == "via":
                gw = value
            elif key == "dev":
                iface = value
            elif value.isdigit():
                metric = int(value)
            i += 2
            continue
        other.append(key)
        i += 1
    return {**_row(n, ln, None, dest, gw, iface), "flags": " ".join(other) or None, "metric": metric}


def parse(text: str) -> pd.DataFrame:
    cov = Coverage()
    rows: list[dict[str, Any]] = []
    family: str | None = None
    header: list[str] | None = None
    for n, ln in numbered(text, cov):
        s = ln.strip()
        if not s or _TITLES.match(s):
            family = {"Internet:": "inet", "Internet6:": "inet6"}.get(s, family)
            header = None if s.startswith("Internet") else header
            cov.skip()
            continue
        if _HEADER.match(s):
            header = s.split()
            cov.skip()
            continue
        row = _linux(n, s) or _netstat(n, s, family, header)
        if row is None:
            cov.reject(n, ln)
            continue
        cov.ok()
        rows.append(row)
    return conform(rows, SCHEMA, cov)
