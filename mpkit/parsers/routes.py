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

Input (Linux ``netstat -r`` / ``route``, names instead of addresses without
``-n``; ``route -n`` / ``netstat -rn`` print addresses and, for ``route``, a
``Metric`` column; ``route -6`` has ``Next Hop`` … ``If``)::

    Kernel IP routing table
    Destination     Gateway         Genmask         Flags   MSS Window  irtt Iface
    default         _gateway        0.0.0.0         UG        0 0          0 wlp2s0
    10.115.28.0     0.0.0.0         255.255.255.0   U         0 0          0 mpqemubr0

Rows: ``destination=default gateway=_gateway flags=UG interface=wlp2s0
is_default=True``; ``destination=10.115.28.0 gateway=NA`` (``0.0.0.0``,
``*`` and ``::`` mean on-link). ``0.0.0.0`` with genmask ``0.0.0.0`` is a
default route too.

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
_TITLES = re.compile(
    r"^(?:Routing tables|Internet6?:|Route Tree for Protocol Family.*|Kernel IP(?:v6)? routing table)$"
)
# Linux net-tools (netstat -r, route): a Genmask column (IPv4), or "Next Hop" and "If" (IPv6)
_KHEADER = re.compile(r"^Destination\s+(?:Gateway\s+Genmask\s+Flags|Next Hop\s+Flag)\b")
_KFLAGS = r"[UHGRDMACL!n]+"
_KROW4 = re.compile(rf"^\S+\s+\S+\s+\d{{1,3}}(?:\.\d{{1,3}}){{3}}\s+{_KFLAGS}(?:\s+\d+)+\s+[\w.:@-]+$")
# IPv6 rows: `dest/len next-hop flags met ref use if`; names (`localhost/128`) and `[::]` without -n
_KROW6 = re.compile(rf"^\S+/\d{{1,3}}\s+\S+\s+{_KFLAGS}(?:\s+-?\d+){{3}}\s+[\w.:@-]+$")
LINE_RE = re.compile(
    f"(?:{_NETSTAT.pattern}|{_HEADER.pattern}|{_TITLES.pattern}|{_LINUX.pattern}"
    f"|{_KHEADER.pattern}|{_KROW4.pattern}|{_KROW6.pattern})"
)
_LINUX_STRICT = re.compile(r"\b(?:via|dev|proto|scope|metric)\b")


def sniff(text: str) -> float:
    """How sure it is, from 0 to 1, that ``text`` is routing table: macOS ``netstat -rn`` or Linux ``ip route show``."""
    return fraction_matching(text, LINE_RE)


def _family(dest: str, gateway: str | None) -> str:
    if ":" in dest:
        return "inet6"
    if dest == "default" and gateway and ("::" in gateway or gateway.lower().startswith("fe80")):
        return "inet6"
    return "inet"


def _row(
    n: int, ln: str, family: str | None, dest: str, gw: str | None, iface: str | None, default: bool = False
) -> dict[str, Any]:
    fam = family or _family(dest, gw)
    return {
        "line": n,
        "family": fam,
        "destination": dest,
        "gateway": gw,
        "interface": iface,
        "is_default": default or dest in ("default", "0.0.0.0/0", "0/0", "::/0"),
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


_ON_LINK = ("0.0.0.0", "*", "::", "[::]")


def _kernel_header(s: str) -> list[str]:
    """The column names of a net-tools header (``Next Hop`` is one column)."""
    return [c.replace("Next_Hop", "Next Hop") for c in s.replace("Next Hop", "Next_Hop").split()]


def _net_tools(n: int, ln: str, header: list[str] | None) -> dict[str, Any] | None:
    """A Linux ``netstat -r`` / ``route`` row, by its header's columns.

    Without a header that fits, the fixed columns are used: destination, gateway, (genmask,) flags
    first, the interface last, counters between (``Metric``/``Met`` only when a header says so).
    """
    tok = ln.split()
    v6 = bool(_KROW6.match(ln))
    if not v6 and not _KROW4.match(ln):
        return None
    if header and len(header) == len(tok) and ("Genmask" in header) != v6:
        rec = dict(zip(header, tok, strict=True))
    elif v6:
        rec = {"Destination": tok[0], "Next Hop": tok[1], "Flag": tok[2], "If": tok[-1]}
    else:
        rec = {"Destination": tok[0], "Gateway": tok[1], "Genmask": tok[2], "Flags": tok[3], "Iface": tok[-1]}
    dest = rec["Destination"]
    gw = rec.get("Gateway", rec.get("Next Hop"))
    iface = rec.get("Iface", rec.get("If"))
    metric = rec.get("Metric", rec.get("Met"))
    default = (dest == "0.0.0.0" and rec.get("Genmask") == "0.0.0.0") or dest in ("::/0", "[::]/0")
    row = _row(n, ln, "inet6" if v6 else "inet", dest, None if gw in _ON_LINK else gw, iface, default)
    return {
        **row,
        "flags": rec.get("Flags", rec.get("Flag")),
        "metric": int(metric) if metric and metric.isdigit() else None,
    }


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
    """Routing table: macOS ``netstat -rn`` or Linux ``ip route show`` as the ``routes`` frame; every line is counted as parsed, ignored or rejected."""
    cov = Coverage()
    rows: list[dict[str, Any]] = []
    family: str | None = None
    header: list[str] | None = None
    kheader: list[str] | None = None  # a net-tools header (netstat -r / route on Linux)
    for n, ln in numbered(text, cov):
        s = ln.strip()
        if not s or _TITLES.match(s):
            family = {
                "Internet:": "inet",
                "Internet6:": "inet6",
                "Kernel IP routing table": "inet",
                "Kernel IPv6 routing table": "inet6",
            }.get(s, family)
            header = None if s.startswith(("Internet", "Kernel")) else header
            kheader = None if s.startswith(("Internet", "Kernel")) else kheader
            cov.skip()
            continue
        if _KHEADER.match(s):
            kheader, header = _kernel_header(s), None
            cov.skip()
            continue
        if _HEADER.match(s):
            header, kheader = s.split(), None
            cov.skip()
            continue
        row = _linux(n, s) or _net_tools(n, s, kheader) or _netstat(n, s, family, header)
        if row is None:
            cov.reject(n, ln)
            continue
        cov.ok()
        rows.append(row)
    return conform(rows, SCHEMA, cov)
