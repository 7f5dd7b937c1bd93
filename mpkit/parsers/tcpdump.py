"""DHCP on the wire: ``tcpdump -n -i bridge100 udp port 67 and port 68`` (also ``-e``, ``-v``, ``-tttt``).

One row per packet::

    16:05:06.191497 IP 0.0.0.0.bootpc > broadcasthost.bootps: BOOTP/DHCP, Request from 52:54:00:7b:a1:d4 (oui Unknown), length 291
    16:05:06.193310 IP 192.168.64.1.67 > 192.168.64.7.68: BOOTP/DHCP, Reply, length 300

gives ``time_of_day=16:05:06.191497 time=NaT src_ip=0.0.0.0 src_port=68
dst_ip=255.255.255.255 dst_port=67 direction=request mac=52:54:00:7b:a1:d4
length=291`` and ``direction=reply``.  tcpdump prints the time of day only,
so ``time`` is NaT unless a date is printed (``-tttt``).  With ``-e`` the
ethernet addresses fill ``eth_src``/``eth_dst``; with ``-v`` the indented
continuation lines fill ``xid``, ``dhcp_msg`` (``DHCP-Message (53)``),
``your_ip``, ``requested_ip`` and the client MAC of replies
(``Client-Ethernet-Address``).  ``tcpdump:`` / ``listening on`` banners and
the ``N packets captured`` footer are skipped.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import pandas as pd

from ..macaddr import canon_mac
from ..schema import Column, Coverage, conform
from ._base import BLANK, fraction_matching, numbered

KIND = "tcpdump"
FRAME = "dhcp_packets"
FILENAMES = ("tcpdump.txt",)
PLATFORMS = ("macos", "linux")

SCHEMA = {
    "line": Column("int", "1-based line where the packet starts"),
    "time": Column("datetime", "date and time when printed (-tttt), NaT otherwise"),
    "time_of_day": Column("str", "time of day as printed (HH:MM:SS.ffffff)"),
    "src": Column("str", "source address.port as printed"),
    "dst": Column("str", "destination address.port as printed"),
    "src_ip": Column("str", "source IP (broadcasthost → 255.255.255.255)"),
    "src_port": Column("int", "source port (bootps → 67, bootpc → 68)"),
    "dst_ip": Column("str", "destination IP"),
    "dst_port": Column("int", "destination port"),
    "direction": Column("str", "request (client → server) / reply (server → client), NA for other packets"),
    "mac": Column("str", "client MAC (`Request from`, or -v `Client-Ethernet-Address`), canonical"),
    "eth_src": Column("str", "-e: ethernet source MAC, canonical"),
    "eth_dst": Column("str", "-e: ethernet destination MAC, canonical"),
    "xid": Column("str", "-v: transaction id as printed (0x6e2f1a3b)"),
    "dhcp_msg": Column("str", "-v: DHCP message type (DISCOVER, OFFER, REQUEST, ACK, NAK, …)"),
    "your_ip": Column("str", "-v: Your-IP of a reply"),
    "requested_ip": Column("str", "-v: Requested-IP option"),
    "length": Column("int", "UDP payload length printed at the end of the BOOTP summary"),
    "raw": Column("str", "the packet's first line as printed"),
}

_TIME = r"(?P<date>\d{4}-\d\d-\d\d )?(?P<tod>\d\d:\d\d:\d\d(?:\.\d+)?)"
_ETH = r"(?:(?P<esrc>[0-9a-f]{1,2}(?::[0-9a-f]{1,2}){5}) > (?P<edst>[0-9a-f]{1,2}(?::[0-9a-f]{1,2}){5}|Broadcast),[^:]*?length \d+: )?"
_HEAD = re.compile(rf"^{_TIME}\s+(?:{_ETH}(?:IP6?\s+)?|IP6?\s+)(?P<rest>.*)$")
_ADDRS = re.compile(r"^\s*(?P<src>\S+) > (?P<dst>[^\s:]+):\s*(?P<proto>.*)$")
_BOOTP = re.compile(r"BOOTP/DHCP, (?P<dir>Request|Reply)(?: from (?P<mac>[0-9a-fA-F:]+))?")
_LENGTH = re.compile(r", length (\d{1,9})\b")
_SKIP = re.compile(
    r"^(?:tcpdump: |listening on |\^C|\d+ packets? (?:captured|received by filter|dropped by kernel))", re.I
)
_CONT = {
    "xid": re.compile(r"\bxid (0x[0-9a-f]+)"),
    "dhcp_msg": re.compile(r"DHCP-Message (?:Option )?\(?53\)?.*?:\s*(\w+)"),
    "your_ip": re.compile(r"Your-IP (\S+)"),
    "requested_ip": re.compile(r"Requested-IP (?:Option )?\(?50\)?.*?:\s*(\S+)"),
    "mac": re.compile(r"Client-Ethernet-Address ([0-9a-fA-F:]+)"),
}
_PORTS = {"bootps": 67, "bootpc": 68}

LINE_RE = re.compile(
    rf"^{_TIME}\s+(?:[0-9a-f]{{1,2}}(?::[0-9a-f]{{1,2}}){{5}} > |IP6?\s)|BOOTP/DHCP|^\s+DHCP-Message"
)


def _split(addr: str) -> tuple[str | None, int | None]:
    host, _, port = addr.rpartition(".")
    if not host:
        return addr, None
    host = "255.255.255.255" if host == "broadcasthost" else host
    if port.isdigit() and len(port) <= 9:
        return host, int(port)
    return host, _PORTS.get(port)


def _fill(row: dict[str, Any], text: str) -> None:
    """Fill address and BOOTP fields from ``src > dst: …`` text."""
    m = _ADDRS.match(text)
    if not m:
        return
    row["src"], row["dst"] = m["src"], m["dst"]
    row["src_ip"], row["src_port"] = _split(m["src"])
    row["dst_ip"], row["dst_port"] = _split(m["dst"])
    if b := _BOOTP.search(m["proto"]):
        row["direction"] = b["dir"].lower()
        row["mac"] = canon_mac(b["mac"]) if b["mac"] else row.get("mac")
        if n := _LENGTH.search(m["proto"], b.end()):
            row["length"] = int(n[1])
        if x := _CONT["xid"].search(m["proto"]):
            row["xid"] = x[1]


def sniff(text: str) -> float:
    """How sure it is, from 0 to 1, that ``text`` is dHCP on the wire: ``tcpdump -n -i bridge100 udp port 67 and port 68`` (also ``-e``, ``-v``, ``-tttt``)."""
    if "BOOTP/DHCP" not in text[:200_000]:
        return 0.0
    # banners and the indented -v continuation lines belong to the capture too
    return fraction_matching(text, re.compile(rf"{LINE_RE.pattern}|{_SKIP.pattern}|^\s+\S", re.I))


def parse(text: str) -> pd.DataFrame:
    """DHCP on the wire: ``tcpdump -n -i bridge100 udp port 67 and port 68`` (also ``-e``, ``-v``, ``-tttt``) as the ``dhcp_packets`` frame; every line is counted as parsed, ignored or rejected."""
    cov = Coverage()
    rows: list[dict[str, Any]] = []
    current: dict[str, Any] | None = None
    for no, ln in numbered(text, cov):
        if BLANK.match(ln) or _SKIP.match(ln):
            cov.skip()
            continue
        if m := _HEAD.match(ln):
            row: dict[str, Any] = {"line": no, "time_of_day": m["tod"], "raw": ln.strip()}
            if m["date"]:
                try:
                    row["time"] = datetime.fromisoformat(m["date"] + m["tod"])
                except ValueError:
                    row["time"] = None
            if m["esrc"]:
                row["eth_src"] = canon_mac(m["esrc"])
                row["eth_dst"] = "ff:ff:ff:ff:ff:ff" if m["edst"] == "Broadcast" else canon_mac(m["edst"])
            _fill(row, m["rest"])
            rows.append(row)
            current = row
            cov.ok()
            continue
        if current is not None and ln[:1] in (" ", "\t"):
            if "src" not in current:
                _fill(current, ln)
            for key, rx in _CONT.items():
                if (c := rx.search(ln)) and not current.get(key):
                    value = c[1]
                    current[key] = (
                        canon_mac(value) if key == "mac" else value.upper() if key == "dhcp_msg" else value
                    )
            cov.ok()
            continue
        current = None
        cov.reject(no, ln)
    return conform(rows, SCHEMA, cov)
